//! python-socketio's managers and Sockeye nodes on one real broker — Redis (its
//! `RedisManager`/`AsyncRedisManager`) or RabbitMQ (its `KombuManager`/`AsyncAioPikaManager`):
//! each test starts `redis-server` or `rabbitmq-server` on free ports and Sockeye node(s)
//! with the matching adapter (listening on python-socketio's channel/exchange `socketio`),
//! then runs one scenario of `tests/python/cluster_workers.py` (python-socketio
//! `AsyncClient`s on the nodes; the managers and the python server in the script).
//!
//! The nodes run the demo application alone (namespace `/`, as `sockeye-demo`), not
//! [`TestServer`]'s extra namespaces: see [`python_emits_reach_their_own_namespace`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use sockeye::cluster::{AmqpAdapterFactory, AmqpConfig, RedisAdapterFactory, RedisConfig};
use sockeye::{Payload, SocketIo, SocketIoBuilder};
use sockeye_tests::rabbitmq::RabbitServer;
use sockeye_tests::redis::RedisServer;
use sockeye_tests::{run_client, tests_dir, TestServer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::task::JoinHandle;

/// The broker of a test.
enum Broker {
    Redis(RedisServer),
    Rabbit(RabbitServer),
}

impl Broker {
    fn redis() -> Broker {
        Broker::Redis(RedisServer::start())
    }

    fn rabbit() -> Broker {
        Broker::Rabbit(RabbitServer::start())
    }

    /// The URL python-socketio's managers take.
    fn python_url(&self) -> String {
        match self {
            Broker::Redis(r) => r.url.clone(),
            Broker::Rabbit(r) => r.amqp_url_vhost_slashes(),
        }
    }

    /// `builder` with this broker's adapter, as `sockeye-demo --adapter …` sets it up.
    fn adapter(&self, builder: SocketIoBuilder) -> SocketIoBuilder {
        match self {
            Broker::Redis(r) => {
                let config = RedisConfig::new(r.url.as_str()).with_python_channel("socketio");
                builder.adapter(RedisAdapterFactory::new(config).expect("a valid Redis URL"))
            }
            Broker::Rabbit(r) => builder.adapter(
                AmqpAdapterFactory::new(AmqpConfig::new(r.url.as_str())).expect("an AMQP URL"),
            ),
        }
    }
}

/// A Sockeye node on the broker serving what `sockeye-demo --adapter …` serves: the demo
/// contract on `/`.
struct Node {
    url: String,
    io: SocketIo,
    task: JoinHandle<()>,
}

impl Node {
    async fn start(broker: &Broker) -> Node {
        let (layer, io) = broker.adapter(SocketIo::builder()).build_layer();
        let www = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"));
        let app = sockeye::demo::router(&www, &io, layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a test port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Node { url, io, task }
    }

    async fn stop(self) {
        self.io.close().await;
        self.task.abort();
    }
}

/// Runs `scenario` of `cluster_workers.py` against one node on `broker`.
async fn one_node_scenario(broker: Broker, scenario: &str) {
    let server = Node::start(&broker).await;
    let url = broker.python_url();
    let args = ["python/cluster_workers.py", &url, scenario, &server.url];
    run_client("python3", &args).await;
    server.stop().await;
}

/// A `cluster_workers.py` scenario that prints `READY` when its side is set up, then waits
/// for the test to act (and, for some, for a line on its standard input).
struct Python {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stderr: JoinHandle<String>,
}

impl Python {
    /// Starts `cluster_workers.py ARGS…` and waits (at most 30 s) for its `READY`.
    async fn ready(args: &[&str]) -> Python {
        let mut child = tokio::process::Command::new("python3")
            .arg("python/cluster_workers.py")
            .args(args)
            .current_dir(tests_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdin = child.stdin.take().expect("stdin");
        let mut err = child.stderr.take().expect("stderr");
        let stderr = tokio::spawn(async move {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s).await;
            s
        });
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "READY" {
                    return true;
                }
            }
            false
        })
        .await;
        if ready != Ok(true) {
            let _ = child.kill().await;
            panic!(
                "the python side did not get ready:\n{}",
                stderr.await.unwrap_or_default()
            );
        }
        Python {
            child,
            stdin,
            stderr,
        }
    }

    /// Waits (at most 60 s) for it to end; panics with its output unless it passed.
    async fn passed(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the python side finishes within 60 s")
            .expect("python3 exits");
        let stderr = self.stderr.await.unwrap_or_default();
        assert!(status.success(), "python: {status}\n{stderr}");
    }
}

/// The README's snippet (run as is, only the URL changed) reaches the client in `my room`
/// and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_redis_manager_snippet_reaches_the_room() {
    one_node_scenario(Broker::redis(), "snippet").await;
}

/// The issue's `KombuManager` snippet (run as is, only the URL changed) reaches the client
/// in `my room` of a node on RabbitMQ, and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kombu_manager_snippet_reaches_the_room() {
    one_node_scenario(Broker::rabbit(), "snippet").await;
}

/// `AsyncRedisManager(write_only=True)`: emits (room, skip_sid, a tuple of arguments, no
/// argument, binary, several rooms, a socket's own room, everyone, another namespace),
/// `enter_room` then an emit to that room, `leave_room`, `close_room`, a disconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_async_redis_manager_emits_and_room_operations() {
    one_node_scenario(Broker::redis(), "async_manager").await;
}

/// The same through `AsyncAioPikaManager(write_only=True)` on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_aio_pika_manager_emits_and_room_operations() {
    one_node_scenario(Broker::rabbit(), "async_manager").await;
}

/// The same through the synchronous `KombuManager(write_only=True)` on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kombu_manager_emits_and_room_operations() {
    one_node_scenario(Broker::rabbit(), "kombu_manager").await;
}

/// A python-socketio `AsyncServer` with `AsyncRedisManager` and two Sockeye nodes: room
/// broadcasts go both ways, once each; what python's format cannot carry (an excepted
/// room, several rooms) reaches the Sockeye nodes only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_server_and_sockeye_nodes_share_rooms_both_ways() {
    python_server_and_sockeye_nodes(Broker::redis()).await;
}

/// A python-socketio `AsyncServer` with `AsyncAioPikaManager` and two Sockeye nodes on
/// RabbitMQ: the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_aio_pika_server_and_sockeye_nodes_share_rooms_both_ways() {
    python_server_and_sockeye_nodes(Broker::rabbit()).await;
}

async fn python_server_and_sockeye_nodes(broker: Broker) {
    let node1 = Node::start(&broker).await;
    let node2 = Node::start(&broker).await;
    let url = broker.python_url();
    let python = Python::ready(&[&url, "mixed", &node1.url, &node2.url]).await;

    // From Sockeye node 1 to room R: the python server's client gets it too (binary).
    let data = Payload::one(&json!({ "n": 1, "bin": sockeye::placeholder(0) }))
        .expect("a payload")
        .with_attachments(vec![vec![1u8, 2].into()]);
    let io = &node1.io;
    io.to("R")
        .emit_payload("from sockeye", data)
        .await
        .expect("emit");
    // Not in python's format: an excepted room, several rooms.
    io.to("R")
        .except("elsewhere")
        .emit("excepting", "x")
        .await
        .expect("emit");
    io.to(["R", "R2"])
        .emit("two rooms", "y")
        .await
        .expect("emit");
    io.to("R").emit("done", &()).await.expect("emit");

    python.passed().await;
    node1.stop().await;
    node2.stop().await;
}

/// Emits to a room of `/` and to the same room of `/test` on a node with several namespaces
/// ([`TestServer`]: `/`, `/test`, `/auth`, dynamic ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_emits_reach_their_own_namespace() {
    for broker in [Broker::redis(), Broker::rabbit()] {
        let server = TestServer::start_with(|b| broker.adapter(b)).await;
        let url = broker.python_url();
        let args = ["python/cluster_workers.py", &url, "namespaces", &server.url];
        run_client("python3", &args).await;
        server.stop().await;
    }
}

/// A *listening* python-socketio `KombuManager` (a python `Server`'s) on the exchange while
/// two Sockeye nodes publish their own messages (broadcasts python's format cannot carry,
/// binary, cluster requests, heartbeats): it hands them over undecoded and ignores them,
/// logs no error, and still gets the python emit that follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listening_kombu_manager_survives_sockeye_messages() {
    let broker = Broker::rabbit();
    let node1 = Node::start(&broker).await;
    let node2 = Node::start(&broker).await;
    let url = broker.python_url();
    let mut python = Python::ready(&[&url, "kombu_listener"]).await;
    // Both nodes count each other: requests go out on the exchange.
    for node in [&node1, &node2] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while node.io.server_count().await.ok() != Some(2) {
            assert!(std::time::Instant::now() < deadline, "no cluster of 2");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let io = &node1.io;
    io.except("x").emit("excepting", &1).await.expect("emit");
    io.to(["a", "b"]).emit("two rooms", &2).await.expect("emit");
    io.volatile().emit("volatile", &3).await.expect("emit");
    let binary = Payload::one(&json!({ "bin": sockeye::placeholder(0) }))
        .expect("a payload")
        .with_attachments(vec![vec![0x93u8, 0xff, 0x00].into()]);
    io.except("x")
        .emit_payload("binary", binary)
        .await
        .expect("emit");
    io.fetch_sockets()
        .await
        .expect("fetch_sockets across two nodes");
    io.server_side_emit("ss", &4)
        .await
        .expect("server_side_emit");
    let _ = io.server_side_emit_with_ack("ss", &5).await;
    tokio::io::AsyncWriteExt::write_all(&mut python.stdin, b"go\n")
        .await
        .expect("python's stdin");
    python.passed().await;
    node1.stop().await;
    node2.stop().await;
}

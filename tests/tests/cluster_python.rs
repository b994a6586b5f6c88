//! python-socketio's Redis managers and Sockeye nodes on one real Redis: each test starts
//! `redis-server` on a free port and Sockeye node(s) with the Redis adapter listening on
//! python-socketio's channel `socketio`, then runs one scenario of
//! `tests/python/cluster_workers.py` (python-socketio `AsyncClient`s on the nodes; the
//! managers and the python server in the script).
//!
//! The nodes run the demo application alone (namespace `/`, as `sockeye-demo`), not
//! [`TestServer`]'s extra namespaces: see [`python_emits_reach_their_own_namespace`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use sockeye::cluster::{RedisAdapterFactory, RedisConfig};
use sockeye::{Payload, SocketIo};
use sockeye_tests::redis::RedisServer;
use sockeye_tests::{run_client, tests_dir, TestServer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::task::JoinHandle;

fn factory(redis: &RedisServer) -> RedisAdapterFactory {
    let config = RedisConfig::new(redis.url.as_str()).with_python_channel("socketio");
    RedisAdapterFactory::new(config).expect("a valid Redis URL")
}

/// A Sockeye node on `redis` serving what `sockeye-demo --adapter redis://…` serves: the
/// demo contract on `/`.
struct Node {
    url: String,
    io: SocketIo,
    task: JoinHandle<()>,
}

impl Node {
    async fn start(redis: &RedisServer) -> Node {
        let (layer, io) = SocketIo::builder().adapter(factory(redis)).build_layer();
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

/// The README's snippet (run as is, only the URL changed) reaches the client in `my room`
/// and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_redis_manager_snippet_reaches_the_room() {
    let redis = RedisServer::start();
    let server = Node::start(&redis).await;
    let args = [
        "python/cluster_workers.py",
        &redis.url,
        "snippet",
        &server.url,
    ];
    run_client("python3", &args).await;
    server.stop().await;
}

/// `AsyncRedisManager(write_only=True)`: emits (room, skip_sid, a tuple of arguments, no
/// argument, binary, several rooms, a socket's own room, everyone, another namespace),
/// `enter_room` then an emit to that room, `leave_room`, `close_room`, a disconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_async_redis_manager_emits_and_room_operations() {
    let redis = RedisServer::start();
    let server = Node::start(&redis).await;
    let args = [
        "python/cluster_workers.py",
        &redis.url,
        "async_manager",
        &server.url,
    ];
    run_client("python3", &args).await;
    server.stop().await;
}

/// A python-socketio `AsyncServer` with `AsyncRedisManager` and two Sockeye nodes: room
/// broadcasts go both ways, once each; what python's format cannot carry (an excepted
/// room, several rooms) reaches the Sockeye nodes only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_server_and_sockeye_nodes_share_rooms_both_ways() {
    let redis = RedisServer::start();
    let node1 = Node::start(&redis).await;
    let node2 = Node::start(&redis).await;
    let mut child = tokio::process::Command::new("python3")
        .args(["python/cluster_workers.py", &redis.url, "mixed"])
        .args([&node1.url, &node2.url])
        .current_dir(tests_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
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

    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the python side finishes within 60 s")
        .expect("python3 exits");
    let stderr = stderr.await.unwrap_or_default();
    assert!(status.success(), "python: {status}\n{stderr}");
    node1.stop().await;
    node2.stop().await;
}

/// Emits to a room of `/` and to the same room of `/test` on a node with several namespaces
/// ([`TestServer`]: `/`, `/test`, `/auth`, dynamic ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_emits_reach_their_own_namespace() {
    let redis = RedisServer::start();
    let server = TestServer::start_with(|b| b.adapter(factory(&redis))).await;
    let args = [
        "python/cluster_workers.py",
        &redis.url,
        "namespaces",
        &server.url,
    ];
    run_client("python3", &args).await;
    server.stop().await;
}

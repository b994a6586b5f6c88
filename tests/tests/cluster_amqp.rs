//! The AMQP cluster adapter with real processes: a real `rabbitmq-server` per test (Debian's,
//! started unprivileged on free ports), Sockeye nodes (in-process, each with its own
//! `AmqpAdapterFactory`), Sockeye's AMQP `Emitter`, and socket.io-client sockets (Node, in
//! `node/cluster/agent.mjs`). python-socketio's Kombu and aio-pika managers are in
//! `cluster_python.rs`. Every wait has a deadline.

use std::time::{Duration, Instant};

use serde_json::json;
use sockeye::cluster::Emitter;
use sockeye_tests::cluster::{eventually, sockeye_node, sockeye_node_with, Agent, SockeyeNode};
use sockeye_tests::process::{demo_binary, Process, TempDir};
use sockeye_tests::rabbitmq::RabbitServer;
use sockeye_tests::redis::free_port;
use sockeye_tests::scenarios::{self, ids, set};
use sockeye_tests::{run_client, tests_dir};

const SECS_5: Duration = Duration::from_secs(5);

/// Waits until every node counts `n` servers (they heard each other's heartbeats).
async fn joined(nodes: &[&SockeyeNode], n: usize) {
    for node in nodes {
        eventually(
            &format!("a cluster of {n}"),
            Duration::from_secs(10),
            || async { node.io().server_count().await.ok() == Some(n) },
        )
        .await;
    }
}

/// Two Sockeye nodes on `rabbit`, each counting the other.
async fn two_nodes(
    rabbit: &RabbitServer,
    requests_timeout: Duration,
) -> (SockeyeNode, SockeyeNode) {
    let a = sockeye_node(&rabbit.url, "A", requests_timeout).await;
    let b = sockeye_node(&rabbit.url, "B", requests_timeout).await;
    joined(&[&a, &b], 2).await;
    (a, b)
}

// ---- 1. two Sockeye nodes: the scenarios of the Redis tests ------------------------------

/// [`scenarios::sockeye_nodes_broadcast_to_rooms_across`] on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_broadcast_to_rooms_across() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    scenarios::sockeye_nodes_broadcast_to_rooms_across(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_fetch_join_leave_disconnect_across`] on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_fetch_join_leave_disconnect_across() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    scenarios::sockeye_nodes_fetch_join_leave_disconnect_across(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_server_side_emit_and_broadcast_acks`] on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_server_side_emit_and_broadcast_acks() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    scenarios::sockeye_nodes_server_side_emit_and_broadcast_acks(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_demo_contract_across`] on RabbitMQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_demo_contract_across() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    scenarios::sockeye_nodes_demo_contract_across(&a, &b).await;
}

// ---- 2. what is AMQP's own -----------------------------------------------------------------

/// Broadcasts python's format cannot carry (several rooms, `except` rooms, volatile) travel
/// as Sockeye messages and select the same sockets as locally; a namespace one node does
/// not have answers `fetch_sockets` at once (no wait for the timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_broadcasts_and_namespaces_one_node_lacks() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    let ag = Agent::spawn().await;
    for (c, node, room) in [
        ("c1", &a, "r1"),
        ("c2", &b, "r1"),
        ("c3", &b, "r2"),
        ("c4", &b, "r3"),
    ] {
        ag.client(c, node.url()).await;
        ag.emit_ack(c, "join", json!([room])).await;
    }
    a.io().to("r1").to("r2").emit("two", &1).await.unwrap();
    a.io().except("r1").emit("not1", &2).await.unwrap();
    a.io().volatile().to("r3").emit("vol", &3).await.unwrap();
    a.io().emit("marker", &0).await.unwrap();
    for c in ["c1", "c2", "c3", "c4"] {
        ag.wait(c, "marker", 1).await;
    }
    // The marker left A after the others: what did not arrive will not.
    for (c, want) in [
        ("c1", [1, 0, 0]),
        ("c2", [1, 0, 0]),
        ("c3", [1, 1, 0]),
        ("c4", [0, 1, 1]),
    ] {
        let got = [
            ag.count(c, "two").await,
            ag.count(c, "not1").await,
            ag.count(c, "vol").await,
        ];
        assert_eq!(got, want.map(|n| n as usize), "{c}");
    }

    // `/extra` only on A: B answers for it with nothing, at once.
    let extra = a.io().of("/extra");
    let t0 = Instant::now();
    assert!(extra.fetch_sockets().await.unwrap().is_empty());
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert_eq!(
        ids(&a.io().fetch_sockets().await.unwrap()).len(),
        4,
        "the four clients of `/`"
    );
}

/// Sockeye's AMQP `Emitter` (no Socket.IO server behind it) → the clients of both nodes:
/// a room, `except`, binary, several rooms, `sockets_join`, `server_side_emit`,
/// `disconnect_sockets`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_emitter_to_clients_of_both_nodes() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    let ag = Agent::spawn().await;
    let s1 = ag.client("s1", a.url()).await;
    ag.client("s2", a.url()).await;
    ag.client("s3", b.url()).await;
    let s4 = ag.client("s4", b.url()).await;
    for c in ["s1", "s3"] {
        ag.emit_ack(c, "join", json!(["r"])).await;
    }
    ag.emit_ack("s4", "join", json!(["q"])).await;

    let emitter = Emitter::amqp(&rabbit.url).await.unwrap();
    scenarios::emitter_emits_to_rooms(&emitter, &ag, &["s1", "s3"], &["s2", "s4"]).await;
    // Several rooms: not python's format, a Sockeye message.
    emitter
        .of("/")
        .to("r")
        .to("q")
        .emit("rq", &2)
        .await
        .unwrap();
    for c in ["s1", "s3", "s4"] {
        ag.wait(c, "rq", 1).await;
    }
    assert_eq!(ag.count("s2", "rq").await, 0);

    emitter.of("/").to("q").sockets_join("r2").await.unwrap();
    eventually("s4 in r2", SECS_5, || async {
        b.local_rooms(&s4)
            .await
            .is_some_and(|r| r.contains(&"r2".to_owned()))
    })
    .await;
    assert!(!a.local_rooms(&s1).await.unwrap().contains(&"r2".to_owned()));

    emitter
        .of("/")
        .server_side_emit("ss", &json!({ "w": 1 }))
        .await
        .unwrap();
    for node in [&a, &b] {
        assert_eq!(
            node.next_server_side_event().await,
            ("ss".to_owned(), json!([{ "w": 1 }]))
        );
    }

    emitter.of("/").to("r").disconnect_sockets().await.unwrap();
    for c in ["s1", "s3"] {
        assert_eq!(ag.wait_disconnect(c).await, "io server disconnect");
    }
    for c in ["s2", "s4"] {
        assert_eq!(
            ag.emit_ack(c, "echo", json!(["alive"])).await,
            json!("alive")
        );
    }
}

/// RabbitMQ stopped mid-test: each node keeps serving its own clients (rooms, emits, acks),
/// cluster-wide requests fail or time out instead of hanging; started again: the nodes
/// reconnect, find each other and cross-node delivery resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_keeps_local_service_and_recovers() {
    let mut rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, Duration::from_secs(2)).await;
    let ag = Agent::spawn().await;
    ag.client("c1", a.url()).await;
    ag.client("c2", b.url()).await;
    for c in ["c1", "c2"] {
        ag.emit_ack(c, "join", json!(["r"])).await;
    }
    a.io().to("r").emit("before", &1).await.unwrap();
    for c in ["c1", "c2"] {
        ag.wait(c, "before", 1).await;
    }

    rabbit.stop();
    // Local service: a join, a chat in the room (the sender's node), an echo.
    let t0 = Instant::now();
    assert_eq!(
        ag.emit_ack("c1", "join", json!(["local"])).await,
        json!({ "room": "local", "members": 1 })
    );
    ag.emit_ack("c1", "chat", json!([{ "room": "r", "text": "during" }]))
        .await;
    assert_eq!(
        ag.wait("c1", "chat", 1).await[0][0]["text"],
        json!("during")
    );
    assert_eq!(ag.emit_ack("c2", "echo", json!(["up"])).await, json!("up"));
    let local_service = t0.elapsed();
    assert!(local_service < Duration::from_secs(3), "{local_service:?}");
    // A cluster-wide request: an error, within the requests timeout.
    let t0 = Instant::now();
    let fetched = a.io().fetch_sockets().await;
    let fetch_took = t0.elapsed();
    assert!(
        fetched.is_err(),
        "fetch_sockets without a broker: {fetched:?}"
    );
    assert!(fetch_took < Duration::from_secs(4), "{fetch_took:?}");

    rabbit.restart();
    let t0 = Instant::now();
    joined(&[&a, &b], 2).await;
    let rejoined = t0.elapsed();
    // Delivery resumes both ways (the first messages after reconnection may still race the
    // queue's re-declaration: retry until one arrives).
    for (from, to, client) in [(&a, "b", "c2"), (&b, "a", "c1")] {
        eventually(
            &format!("a broadcast reaches {to}"),
            Duration::from_secs(15),
            || async {
                from.io().to("r").emit("after", &1).await.unwrap();
                tokio::time::sleep(Duration::from_millis(200)).await;
                ag.count(client, "after").await > 0
            },
        )
        .await;
    }
    assert_eq!(ids(&a.io().fetch_sockets().await.unwrap()).len(), 2);
    println!(
        "broker down: local join+chat+echo in {local_service:?}, fetch_sockets error in \
         {fetch_took:?}; broker back: cluster of 2 again {rejoined:?} after the restart"
    );
}

/// Garbage on the exchange (not JSON, JSON that is no message, Sockeye headers of an
/// unknown kind or over bodies that do not decode) is logged and dropped; the nodes go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_on_the_exchange_are_dropped() {
    let rabbit = RabbitServer::start();
    let (a, b) = two_nodes(&rabbit, SECS_5).await;
    let ag = Agent::spawn().await;
    let c1 = ag.client("c1", a.url()).await;
    let c2 = ag.client("c2", b.url()).await;

    let bodies: [&[u8]; 8] = [
        b"",
        b"\xff\x00garbage",
        b"[1,2,3]",
        br#"{"method":"emit"}"#,
        br#"{"method":"emit","event":"e","data":"#,
        br#"{"method":"enter_room","sid":7,"room":[]}"#,
        br#""{\"method\": \"emit\"}""#,
        b"\x93\xa6emitter\x83\xa4type\x02",
    ];
    for body in bodies {
        rabbit.publish_raw("socketio", body, None).await;
        rabbit
            .publish_raw("socketio", body, Some("application/json"))
            .await;
    }
    for kind in ["broadcast", "request", "response", "nonsense"] {
        for body in bodies {
            rabbit
                .publish_raw_with_headers(
                    "socketio",
                    body,
                    &[("sockeye", kind), ("from", "intruder"), ("nsp", "/")],
                )
                .await;
        }
    }
    // Still one cluster, delivering both ways.
    a.io().emit("ok", &1).await.unwrap();
    b.io().emit("ok", &2).await.unwrap();
    for c in ["c1", "c2"] {
        ag.wait(c, "ok", 2).await;
    }
    assert_eq!(ids(&a.io().fetch_sockets().await.unwrap()), set([&c1, &c2]));
}

/// Two `sockeye-demo --adapter amqp://…` processes (the binary users run): the demo contract
/// across them (a room's members counted on both, `chat` to the room), and the issue's
/// `KombuManager` snippet reaching a client of one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_demo_binaries_on_rabbitmq() {
    let rabbit = RabbitServer::start();
    let demo = demo_binary().await;
    let dir = TempDir::new("amqp-demo");
    let www = tests_dir().join("../www");
    let mut nodes = Vec::new();
    let mut urls = Vec::new();
    for i in 0..2 {
        let port = free_port();
        let mut cmd = tokio::process::Command::new(&demo);
        cmd.args(["--port", &port.to_string(), "--adapter", &rabbit.url])
            .arg("--static")
            .arg(&www)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        let mut node = Process::spawn(&mut cmd, dir.0.join(format!("node{i}.log")));
        node.wait_ready("sockeye-demo", port, Some("listening on"))
            .await;
        nodes.push(node);
        urls.push(format!("http://127.0.0.1:{port}"));
    }
    // Each node has said hello and heard the other.
    for node in &nodes {
        eventually(
            "the nodes heard each other",
            Duration::from_secs(10),
            || async { node.log().contains("a server joined the cluster") },
        )
        .await;
    }

    let ag = Agent::spawn().await;
    let c1 = ag.client("c1", &urls[0]).await;
    ag.client("c2", &urls[1]).await;
    assert_eq!(
        ag.emit_ack("c1", "join", json!(["room1"])).await,
        json!({ "room": "room1", "members": 1 })
    );
    assert_eq!(
        ag.emit_ack("c2", "join", json!(["room1"])).await,
        json!({ "room": "room1", "members": 2 })
    );
    ag.emit_ack(
        "c1",
        "chat",
        json!([{ "room": "room1", "text": "over amqp" }]),
    )
    .await;
    let want = json!([{ "room": "room1", "from": c1, "text": "over amqp" }]);
    for c in ["c1", "c2"] {
        assert_eq!(ag.wait(c, "chat", 1).await[0], want);
    }

    let url = rabbit.amqp_url_vhost_slashes();
    let args = ["python/cluster_workers.py", &url, "snippet", &urls[1]];
    run_client("python3", &args).await;
    for node in nodes {
        node.stop();
    }
}

/// A node that goes away says so: the others stop counting it at once (not three
/// heartbeats later), and their cluster-wide requests do not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_leaves_is_no_longer_counted() {
    let rabbit = RabbitServer::start();
    // Heartbeats every 5 s: silence alone would take 10–15 s to uncount a node.
    let a = sockeye_node_with(&rabbit.url, "A", SECS_5, SECS_5).await;
    let b = sockeye_node_with(&rabbit.url, "B", SECS_5, SECS_5).await;
    joined(&[&a, &b], 2).await;
    b.io().close().await;
    drop(b);
    let t0 = Instant::now();
    eventually("A counts itself alone", Duration::from_secs(10), || async {
        a.io().server_count().await.ok() == Some(1)
    })
    .await;
    let gone = t0.elapsed();
    assert!(gone < Duration::from_secs(5), "{gone:?}");
    let t0 = Instant::now();
    assert!(a.io().fetch_sockets().await.unwrap().is_empty());
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

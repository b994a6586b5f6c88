//! The Redis cluster adapter with real processes: a real `redis-server` per test, Sockeye
//! nodes (in-process [`TestServer`]s with their own `RedisAdapterFactory`), a Node
//! socket.io 4.8 server with `@socket.io/redis-adapter` 8.3, `@socket.io/redis-emitter`
//! 5.1, Sockeye's `Emitter`, and socket.io-client sockets (all Node, in
//! `node/cluster/agent.mjs`). Every wait has a deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sockeye::cluster::Emitter;
use sockeye::{AckError, Payload};
use sockeye_tests::cluster::{eventually, node_broadcast, sockeye_node, Agent, Mp, SockeyeNode};
use sockeye_tests::redis::{free_port, RedisServer};
use sockeye_tests::scenarios::{self, ids, set, sorted};
use sockeye_tests::TestServer;

const SECS_5: Duration = Duration::from_secs(5);

/// Waits until the node with `uid` has subscribed everything of namespace `/` (its
/// uid-specific response channel is the last one).
async fn subscribed(redis: &RedisServer, uid: &str) {
    redis
        .wait_subscribers(&format!("socket.io-response#/#{uid}#"), 1)
        .await;
}

/// Two Sockeye nodes on `redis`, both subscribed.
async fn two_nodes(redis: &RedisServer, requests_timeout: Duration) -> (SockeyeNode, SockeyeNode) {
    let a = sockeye_node(&redis.url, "A", requests_timeout).await;
    let b = sockeye_node(&redis.url, "B", requests_timeout).await;
    subscribed(redis, &a.uid).await;
    subscribed(redis, &b.uid).await;
    assert_eq!(redis.numsub("socket.io-request#/#"), 2);
    (a, b)
}

/// A Node socket.io server (with the redis-adapter) in `agent`; its URL.
async fn node_server(agent: &Agent, redis: &RedisServer) -> String {
    let port = free_port();
    let uid = agent.server(port, &redis.url).await;
    subscribed(redis, &uid).await;
    format!("http://127.0.0.1:{port}")
}

// ---- 1. two Sockeye nodes ----------------------------------------------------------------

/// [`scenarios::sockeye_nodes_broadcast_to_rooms_across`] on Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_broadcast_to_rooms_across() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    scenarios::sockeye_nodes_broadcast_to_rooms_across(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_fetch_join_leave_disconnect_across`] on Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_fetch_join_leave_disconnect_across() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    scenarios::sockeye_nodes_fetch_join_leave_disconnect_across(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_server_side_emit_and_broadcast_acks`] on Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_server_side_emit_and_broadcast_acks() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    scenarios::sockeye_nodes_server_side_emit_and_broadcast_acks(&a, &b).await;
}

/// [`scenarios::sockeye_nodes_demo_contract_across`] on Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_nodes_demo_contract_across() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    scenarios::sockeye_nodes_demo_contract_across(&a, &b).await;
}

// ---- 2. mixed with a Node server -----------------------------------------------------------

/// A Node socket.io server with `@socket.io/redis-adapter` and a Sockeye node: broadcasts
/// (binary too) and the demo contract both ways, `fetchSockets` both ways, remote
/// join/leave/disconnect both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_sockeye_broadcasts_rooms_fetch() {
    let redis = RedisServer::start();
    let s = sockeye_node(&redis.url, "S", SECS_5).await;
    subscribed(&redis, &s.uid).await;
    let ag = Agent::spawn().await;
    let node_url = node_server(&ag, &redis).await;
    assert_eq!(redis.numsub("socket.io-request#/#"), 2);

    let n1 = ag.client("n1", &node_url).await;
    let s1 = ag.client("s1", s.url()).await;
    assert_eq!(
        ag.emit_ack("n1", "join", json!(["mix"])).await,
        json!({ "room": "mix", "members": 1 })
    );
    // Sockeye's `join` counts Node's socket (fetch_sockets through Node's adapter).
    assert_eq!(
        ag.emit_ack("s1", "join", json!(["mix"])).await,
        json!({ "room": "mix", "members": 2 })
    );
    assert_eq!(
        ag.wait("n1", "joined", 1).await[0],
        json!([{ "id": s1, "room": "mix" }])
    );

    // Node → Sockeye, with a binary argument.
    ag.srv(
        "emit",
        json!({ "rooms": ["mix"], "event": "news", "args": ["from-node", { "$bin": [1, 2, 3] }] }),
    )
    .await;
    for c in ["n1", "s1"] {
        assert_eq!(
            ag.wait(c, "news", 1).await[0],
            json!(["from-node", { "$bin": [1, 2, 3] }])
        );
    }
    // Sockeye → Node, JSON and binary.
    s.io()
        .to("mix")
        .emit("news", &"from-sockeye")
        .await
        .unwrap();
    s.io()
        .to("mix")
        .emit_payload("bin", Payload::binary(vec![4u8, 5, 6]))
        .await
        .unwrap();
    ag.wait_arg("n1", "news", json!("from-sockeye")).await;
    assert_eq!(
        ag.wait("n1", "bin", 1).await[0],
        json!([{ "$bin": [4, 5, 6] }])
    );

    // The demo chat both ways.
    ag.emit_ack(
        "s1",
        "chat",
        json!([{ "room": "mix", "text": "hi from s1" }]),
    )
    .await;
    ag.wait_arg(
        "n1",
        "chat",
        json!({ "room": "mix", "from": s1, "text": "hi from s1" }),
    )
    .await;
    ag.emit_ack(
        "n1",
        "chat",
        json!([{ "room": "mix", "text": "hi from n1" }]),
    )
    .await;
    ag.wait_arg(
        "s1",
        "chat",
        json!({ "room": "mix", "from": n1, "text": "hi from n1" }),
    )
    .await;

    // fetchSockets both ways: the same ids and rooms.
    let from_node = ag.srv("fetch", json!({})).await;
    let mut want = vec![
        json!({ "id": n1, "rooms": sorted(vec![n1.clone(), "mix".into()]) }),
        json!({ "id": s1, "rooms": sorted(vec![s1.clone(), "mix".into()]) }),
    ];
    let mut got: Vec<Value> = serde_json::from_value(from_node).unwrap();
    got.sort_by_key(|v| v["id"].to_string());
    want.sort_by_key(|v| v["id"].to_string());
    assert_eq!(got, want);
    let from_sockeye = s.io().fetch_sockets().await.unwrap();
    assert_eq!(ids(&from_sockeye), set([&n1, &s1]));
    let n1_remote = from_sockeye.iter().find(|x| x.id() == n1).unwrap();
    assert_eq!(
        sorted(n1_remote.rooms().to_vec()),
        sorted(vec![n1.clone(), "mix".into()])
    );
    assert!(n1_remote.local().is_none());
    assert!(
        n1_remote.handshake().is_object(),
        "Node's handshake comes along"
    );

    // socketsJoin / socketsLeave from Node act on Sockeye's socket.
    ag.srv("socketsJoin", json!({ "rooms": ["mix"], "join": "j-node" }))
        .await;
    eventually("s1 in j-node", SECS_5, || async {
        s.local_rooms(&s1)
            .await
            .is_some_and(|r| r.contains(&"j-node".to_owned()))
    })
    .await;
    ag.srv("socketsLeave", json!({ "leave": "j-node" })).await;
    eventually("s1 out of j-node", SECS_5, || async {
        s.local_rooms(&s1)
            .await
            .is_some_and(|r| !r.contains(&"j-node".to_owned()))
    })
    .await;
    // ... and from Sockeye on Node's socket.
    s.io().to("mix").join("j-sockeye").await.unwrap();
    let node_rooms = || async {
        let v = ag.srv("fetch", json!({ "local": true })).await;
        v[0]["rooms"].clone()
    };
    eventually("n1 in j-sockeye", SECS_5, || async {
        node_rooms()
            .await
            .as_array()
            .unwrap()
            .contains(&json!("j-sockeye"))
    })
    .await;
    s.io().sockets_leave("j-sockeye").await.unwrap();
    eventually("n1 out of j-sockeye", SECS_5, || async {
        !node_rooms()
            .await
            .as_array()
            .unwrap()
            .contains(&json!("j-sockeye"))
    })
    .await;

    // disconnectSockets both ways (one socket each, by its id-room).
    ag.srv("disconnectSockets", json!({ "rooms": [s1] })).await;
    assert_eq!(ag.wait_disconnect("s1").await, "io server disconnect");
    assert_eq!(
        ag.emit_ack("n1", "echo", json!(["still here"])).await,
        json!("still here")
    );
    ag.client("s2", s.url()).await;
    s.io().to(n1.clone()).disconnect().await.unwrap();
    assert_eq!(ag.wait_disconnect("n1").await, "io server disconnect");
    assert_eq!(ag.emit_ack("s2", "echo", json!(["ok"])).await, json!("ok"));
}

/// `serverSideEmit` both ways (with acks too), and broadcasts with acks across: Node's
/// `io.timeout(..).emitWithAck` reaches a client on Sockeye and Sockeye's reaches a client
/// on Node, timeouts included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_sockeye_server_side_emit_and_acks() {
    let redis = RedisServer::start();
    let s = sockeye_node(&redis.url, "S", SECS_5).await;
    subscribed(&redis, &s.uid).await;
    let ag = Agent::spawn().await;
    let node_url = node_server(&ag, &redis).await;

    ag.srv(
        "serverSideEmit",
        json!({ "event": "ss", "args": [{ "a": 1 }, "two"] }),
    )
    .await;
    assert_eq!(
        s.next_server_side_event().await,
        ("ss".to_owned(), json!([{ "a": 1 }, "two"]))
    );
    s.io()
        .server_side_emit("ss", &json!({ "b": 2 }))
        .await
        .unwrap();
    eventually("Node got the server-side event", SECS_5, || async {
        ag.srv("ssLog", json!({})).await == json!([[{ "b": 2 }]])
    })
    .await;

    let answers = ag
        .srv(
            "serverSideEmitWithAck",
            json!({ "event": "ss", "args": [3] }),
        )
        .await;
    assert_eq!(answers, json!([{ "node": "S", "got": [3] }]));
    assert_eq!(
        s.next_server_side_event().await,
        ("ss".to_owned(), json!([3]))
    );
    let answers = s.io().server_side_emit_with_ack("ss", &4).await.unwrap();
    assert_eq!(answers, vec![json!({ "node": "node", "got": [4] })]);

    ag.client("n1", &node_url).await;
    ag.client("s1", s.url()).await;
    // Node's emitWithAck: answers from its own client and Sockeye's.
    let answers = ag
        .srv(
            "emitWithAck",
            json!({ "event": "poll", "args": ["q?"], "timeout": 3000 }),
        )
        .await;
    let got: Vec<String> = serde_json::from_value(answers).unwrap();
    assert_eq!(sorted(got), vec!["n1", "s1"]);
    // Sockeye's: the same from the other side.
    let res = s
        .io()
        .timeout(Duration::from_secs(3))
        .emit_with_ack::<_, String>("poll", &"q?")
        .await
        .unwrap();
    let got: Vec<String> = res.into_iter().map(Result::unwrap).collect();
    assert_eq!(sorted(got), vec!["n1", "s1"]);

    // Clients that do not answer, one on each side.
    ag.client_with("n2", &node_url, json!({ "mute": ["poll"] }))
        .await;
    ag.client_with("s2", s.url(), json!({ "mute": ["poll"] }))
        .await;
    let r = ag
        .srv(
            "emitWithAckCount",
            json!({ "event": "poll", "args": ["q?"], "timeout": 800 }),
        )
        .await;
    assert!(r["error"].is_string(), "{r}");
    let got: Vec<String> = serde_json::from_value(r["answers"].clone()).unwrap();
    assert_eq!(sorted(got), vec!["n1", "s1"]);
    let res = s
        .io()
        .timeout(Duration::from_millis(800))
        .emit_with_ack::<_, String>("poll", &"q?")
        .await
        .unwrap();
    let ok: Vec<String> = res
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let timeouts = res
        .iter()
        .filter(|r| matches!(r, Err(AckError::Timeout)))
        .count();
    assert_eq!(sorted(ok), vec!["n1", "s1"]);
    assert_eq!(timeouts, 2, "{res:?}");
}

// ---- 3. emitters -------------------------------------------------------------------------

/// `@socket.io/redis-emitter` (a Node process with no server) → the clients of a Sockeye
/// node: rooms, except, a binary argument, socketsJoin/socketsLeave, serverSideEmit,
/// disconnectSockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_emitter_to_sockeye_clients() {
    let redis = RedisServer::start();
    let s = sockeye_node(&redis.url, "S", SECS_5).await;
    subscribed(&redis, &s.uid).await;
    let em = Agent::spawn().await;
    em.emitter(&redis.url).await;
    let ag = Agent::spawn().await;
    let s1 = ag.client("s1", s.url()).await;
    let s2 = ag.client("s2", s.url()).await;
    ag.emit_ack("s1", "join", json!(["a"])).await;
    ag.emit_ack("s2", "join", json!(["b"])).await;

    em.by_emitter(
        "emit",
        json!({ "rooms": ["a"], "event": "e1", "args": [1] }),
    )
    .await;
    assert_eq!(ag.wait("s1", "e1", 1).await[0], json!([1]));
    em.by_emitter(
        "emit",
        json!({ "except": ["a"], "event": "e2", "args": [2] }),
    )
    .await;
    assert_eq!(ag.wait("s2", "e2", 1).await[0], json!([2]));
    em.by_emitter(
        "emit",
        json!({ "rooms": ["a", "b"], "except": ["b"], "event": "e3" }),
    )
    .await;
    em.by_emitter(
        "emit",
        json!({ "event": "bin", "args": [{ "$bin": [1, 2, 3] }, "txt", { "k": [true, null] }] }),
    )
    .await;
    for c in ["s1", "s2"] {
        assert_eq!(
            ag.wait(c, "bin", 1).await[0],
            json!([{ "$bin": [1, 2, 3] }, "txt", { "k": [true, null] }])
        );
    }
    assert_eq!(ag.count("s1", "e3").await, 1);
    assert_eq!(ag.count("s2", "e3").await, 0);
    assert_eq!(ag.count("s1", "e2").await, 0);
    assert_eq!(ag.count("s2", "e1").await, 0);

    em.by_emitter("socketsJoin", json!({ "rooms": ["a"], "join": "c" }))
        .await;
    eventually("s1 in c", SECS_5, || async {
        s.local_rooms(&s1)
            .await
            .is_some_and(|r| r.contains(&"c".to_owned()))
    })
    .await;
    assert!(!s.local_rooms(&s2).await.unwrap().contains(&"c".to_owned()));
    em.by_emitter("socketsLeave", json!({ "leave": "c" })).await;
    eventually("s1 out of c", SECS_5, || async {
        s.local_rooms(&s1)
            .await
            .is_some_and(|r| !r.contains(&"c".to_owned()))
    })
    .await;

    em.by_emitter(
        "serverSideEmit",
        json!({ "event": "ss", "args": [{ "k": "v" }] }),
    )
    .await;
    assert_eq!(
        s.next_server_side_event().await,
        ("ss".to_owned(), json!([{ "k": "v" }]))
    );

    em.by_emitter("disconnectSockets", json!({ "rooms": ["b"] }))
        .await;
    assert_eq!(ag.wait_disconnect("s2").await, "io server disconnect");
    assert_eq!(
        ag.emit_ack("s1", "echo", json!(["alive"])).await,
        json!("alive")
    );
    assert!(s.local_rooms(&s2).await.is_none());
}

/// Sockeye's `Emitter` (no Socket.IO server behind it) → the clients of a Node server and
/// of a Sockeye node: rooms, except, binary, sockets_join, server_side_emit,
/// disconnect_sockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockeye_emitter_to_node_and_sockeye_clients() {
    let redis = RedisServer::start();
    let s = sockeye_node(&redis.url, "S", SECS_5).await;
    subscribed(&redis, &s.uid).await;
    let ag = Agent::spawn().await;
    let node_url = node_server(&ag, &redis).await;
    let n1 = ag.client("n1", &node_url).await;
    ag.client("n2", &node_url).await;
    let s1 = ag.client("s1", s.url()).await;
    ag.client("s2", s.url()).await;
    ag.emit_ack("n1", "join", json!(["r"])).await;
    ag.emit_ack("s1", "join", json!(["r"])).await;

    let emitter = Emitter::redis(&redis.url).await.unwrap();
    scenarios::emitter_emits_to_rooms(&emitter, &ag, &["n1", "s1"], &["n2", "s2"]).await;

    emitter.of("/").to("r").sockets_join("r2").await.unwrap();
    eventually("s1 in r2", SECS_5, || async {
        s.local_rooms(&s1)
            .await
            .is_some_and(|r| r.contains(&"r2".to_owned()))
    })
    .await;
    eventually("n1 in r2", SECS_5, || async {
        let v = ag
            .srv("fetch", json!({ "local": true, "rooms": ["r2"] }))
            .await;
        v.as_array().unwrap().len() == 1 && v[0]["id"] == n1
    })
    .await;

    emitter
        .of("/")
        .server_side_emit("ss", &json!({ "w": 1 }))
        .await
        .unwrap();
    assert_eq!(
        s.next_server_side_event().await,
        ("ss".to_owned(), json!([{ "w": 1 }]))
    );
    eventually("Node got the server-side event", SECS_5, || async {
        ag.srv("ssLog", json!({})).await == json!([[{ "w": 1 }]])
    })
    .await;

    emitter.of("/").to("r").disconnect_sockets().await.unwrap();
    for c in ["n1", "s1"] {
        assert_eq!(ag.wait_disconnect(c).await, "io server disconnect");
    }
    for c in ["n2", "s2"] {
        assert_eq!(
            ag.emit_ack(c, "echo", json!(["alive"])).await,
            json!("alive")
        );
    }
}

// ---- 4. faults ---------------------------------------------------------------------------

/// Redis killed mid-test: a node keeps serving its local clients (echo, local room chat, new
/// connections) and cluster-wide requests fail within the requests timeout; Redis back on
/// the same port: cross-node delivery resumes without restarting the nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_keeps_local_service_and_recovers() {
    let mut redis = RedisServer::start();
    let requests_timeout = Duration::from_secs(1);
    let (a, b) = two_nodes(&redis, requests_timeout).await;
    let ag = Agent::spawn().await;
    let a1 = ag.client("a1", a.url()).await;
    ag.client("a2", a.url()).await;
    ag.client("b1", b.url()).await;
    for c in ["a1", "a2", "b1"] {
        ag.emit_ack(c, "join", json!(["r"])).await;
    }
    b.io().to("r").emit("pre", &0).await.unwrap();
    ag.wait("a1", "pre", 1).await;

    redis.stop();
    let t0 = Instant::now();
    assert_eq!(ag.emit_ack("a1", "echo", json!(["hi"])).await, json!("hi"));
    ag.emit("a1", "chat", json!([{ "room": "r", "text": "local" }]))
        .await;
    for c in ["a1", "a2"] {
        ag.wait_arg(
            c,
            "chat",
            json!({ "room": "r", "from": a1, "text": "local" }),
        )
        .await;
    }
    let local_chat = t0.elapsed();
    ag.client("a3", a.url()).await;
    assert_eq!(ag.emit_ack("a3", "echo", json!([1])).await, json!(1));
    let t1 = Instant::now();
    let fetched = a.io().fetch_sockets().await;
    let fetch_took = t1.elapsed();
    assert!(fetched.is_err(), "fetch_sockets without Redis: {fetched:?}");
    let t2 = Instant::now();
    let ss = a.io().server_side_emit_with_ack("ss", &1).await;
    let ss_took = t2.elapsed();
    assert!(
        ss.is_err(),
        "server_side_emit_with_ack without Redis: {ss:?}"
    );
    // The requests timeout (1 s), plus the command timeout (2 s) at worst.
    let bound = Duration::from_secs(3) + Duration::from_millis(500);
    assert!(fetch_took < bound, "fetch_sockets took {fetch_took:?}");
    assert!(
        ss_took < bound,
        "server_side_emit_with_ack took {ss_took:?}"
    );
    println!(
        "redis down: local chat {local_chat:?}, fetch_sockets error in {fetch_took:?}, \
         server_side_emit_with_ack error in {ss_took:?}"
    );

    redis.restart();
    let t3 = Instant::now();
    let mut n = 0;
    eventually(
        "B → A delivery after Redis came back",
        Duration::from_secs(15),
        || {
            n += 1;
            let (b, ag) = (&b, &ag);
            async move {
                let _ = b.io().to("r").emit("post", &n).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                ag.count("a1", "post").await > 0
            }
        },
    )
    .await;
    let resumed = t3.elapsed();
    eventually(
        "A → B delivery after Redis came back",
        Duration::from_secs(15),
        || {
            let (a, ag) = (&a, &ag);
            async move {
                let _ = a.io().to("r").emit("post2", &0).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                ag.count("b1", "post2").await > 0
            }
        },
    )
    .await;
    eventually(
        "fetch_sockets across again",
        Duration::from_secs(15),
        || async { a.io().fetch_sockets().await.is_ok_and(|s| s.len() == 4) },
    )
    .await;
    println!("redis back: cross-node delivery resumed after {resumed:?}");
}

// ---- 5. malformed messages ----------------------------------------------------------------

static WORKER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on runtime worker threads (the nodes' tasks), then reports as usual.
fn count_worker_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("tokio-runtime-worker"))
            {
                WORKER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// Garbage, JSON of the wrong types, msgpack of the wrong shape, truncated msgpack, a 5 MB
/// blob, on every channel the nodes listen to: they keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_on_every_channel_are_dropped() {
    count_worker_panics();
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    let ag = Agent::spawn().await;
    let a1 = ag.client("a1", a.url()).await;
    ag.client("b1", b.url()).await;
    ag.emit_ack("a1", "join", json!(["r"])).await;

    let channels = vec![
        "socket.io#/#".to_owned(),
        "socket.io#/#r#".to_owned(),
        format!("socket.io#/#{a1}#"),
        "socket.io-request#/#".to_owned(),
        "socket.io-response#/#".to_owned(),
        format!("socket.io-response#/#{}#", a.uid),
        format!("socket.io-response#/#{}#", b.uid),
        "socket.io#/test#".to_owned(),
        "socket.io-request#/test#".to_owned(),
        "socket.io-response#/test#".to_owned(),
        "socketio".to_owned(),
    ];
    let json_bad = [
        "{",
        "{}",
        "[1,2,3]",
        "null",
        r#"{"type":"x"}"#,
        r#"{"type":1e99}"#,
        r#"{"type":-1,"requestId":"a"}"#,
        r#"{"type":0,"requestId":7,"rooms":{}}"#,
        r#"{"type":1,"requestId":null}"#,
        r#"{"type":2,"opts":{"rooms":5},"rooms":"r"}"#,
        r#"{"type":2,"opts":{"rooms":[1,2]},"rooms":[null]}"#,
        r#"{"type":3,"sid":5,"room":[]}"#,
        r#"{"type":4,"opts":"all","close":"yes"}"#,
        r#"{"type":4,"sid":"nobody"}"#,
        r#"{"type":5,"requestId":"x","opts":[]}"#,
        r#"{"type":6,"data":"not an array"}"#,
        r#"{"type":6,"data":[]}"#,
        r#"{"type":6,"uid":5,"data":[1,2,3]}"#,
        r#"{"type":6,"requestId":"zz","data":[{"a":1}]}"#,
        r#"{"type":7,"requestId":"x","packet":"nope"}"#,
        r#"{"type":8,"requestId":"x","clientCount":"lots"}"#,
        r#"{"type":9,"requestId":[],"packet":{}}"#,
        r#"{"requestId":"x","sockets":5,"rooms":7,"data":null}"#,
        r#"{"event":"x","method":"emit"}"#,
    ];
    let mut payloads: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\x00\xff\xfe garbage \x80\x81".to_vec(),
        b"\xc1".to_vec(),
        // python-socketio's pickles, wrong.
        b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.".to_vec(),
        b"\x80\x04N.".to_vec(),
    ];
    payloads.extend(json_bad.iter().map(|s| s.as_bytes().to_vec()));
    let s = Mp::s;
    let wrong_shapes = [
        Mp::Arr(vec![Mp::Int(1), Mp::Int(2)]),
        Mp::Map(vec![]),
        Mp::Arr(vec![s("uid"), Mp::Nil, Mp::Nil]),
        Mp::Arr(vec![
            s("uid"),
            Mp::Map(vec![
                (s("type"), s("2")),
                (s("data"), Mp::Int(5)),
                (s("nsp"), Mp::Int(1)),
            ]),
            Mp::Map(vec![(s("rooms"), Mp::Int(3)), (s("flags"), Mp::Bool(true))]),
        ]),
        Mp::Arr(vec![
            s("uid"),
            Mp::Map(vec![(s("type"), Mp::Int(2)), (s("data"), Mp::Arr(vec![]))]),
            Mp::Map(vec![]),
        ]),
        Mp::Arr(vec![
            s("uid"),
            Mp::Map(vec![
                (s("type"), Mp::Int(5)),
                (
                    s("data"),
                    Mp::Arr(vec![
                        s("ev"),
                        Mp::Map(vec![
                            (s("_placeholder"), Mp::Bool(true)),
                            (s("num"), Mp::Int(99)),
                        ]),
                    ]),
                ),
                (s("nsp"), s("/")),
                (s("attachments"), s("many")),
            ]),
            Mp::Map(vec![(s("rooms"), Mp::Arr(vec![]))]),
        ]),
        Mp::Map(vec![
            (s("type"), Mp::Int(7)),
            (s("requestId"), Mp::Int(5)),
            (s("packet"), Mp::Nil),
            (s("opts"), s("x")),
        ]),
        Mp::Map(vec![
            (s("type"), Mp::Int(9)),
            (s("requestId"), Mp::Arr(vec![])),
            (s("packet"), Mp::Int(1)),
        ]),
        Mp::Map(vec![
            (Mp::Int(1), Mp::Bin(vec![1, 2, 3])),
            (Mp::Nil, Mp::Nil),
        ]),
        Mp::Str("just a string".into()),
        Mp::Bin(vec![0; 64]),
    ];
    payloads.extend(wrong_shapes.iter().map(Mp::encode));
    // Headers claiming huge sizes, and deep nesting.
    payloads.push(vec![0xdd, 0xff, 0xff, 0xff, 0xff]);
    payloads.push(vec![0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b'x']);
    payloads.push(vec![0xdb, 0xff, 0xff, 0xff, 0xf0, b'x']);
    payloads.push(vec![0xc6, 0xff, 0xff, 0xff, 0xf0]);
    payloads.push(vec![0x91; 100_000]);
    payloads.push("[".repeat(100_000).into_bytes());
    // Truncated: every prefix of a valid broadcast and of a valid request.
    let valid = node_broadcast("fake", "/", vec![s("trunc"), Mp::Int(1)], &[]).encode();
    let request = Mp::Map(vec![
        (s("type"), Mp::Int(7)),
        (s("requestId"), s("rq")),
        (
            s("packet"),
            Mp::Map(vec![
                (s("type"), Mp::Int(2)),
                (s("data"), Mp::Arr(vec![s("trunc")])),
                (s("nsp"), s("/")),
            ]),
        ),
        (
            s("opts"),
            Mp::Map(vec![
                (s("rooms"), Mp::Arr(vec![])),
                (s("flags"), Mp::Map(vec![])),
            ]),
        ),
    ])
    .encode();
    for whole in [&valid, &request] {
        payloads.extend((1..whole.len()).map(|n| whole[..n].to_vec()));
    }
    // 5 MB blobs: noise, and noise that looks like JSON or a msgpack array.
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..5 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let mut json_like = noise.clone();
    json_like[0] = b'{';
    let mut mp_like = noise.clone();
    mp_like[..3].copy_from_slice(&[0x93, 0xa1, b'x']);

    let t0 = Instant::now();
    let mut published = 0;
    for channel in &channels {
        for p in &payloads {
            redis.publish(channel, p);
            published += 1;
        }
        for p in [&noise, &json_like, &mp_like] {
            redis.publish(channel, p);
            published += 1;
        }
    }
    println!(
        "{published} malformed messages published in {:?}",
        t0.elapsed()
    );

    // A well-formed broadcast from a node that does not exist (uid "fake") still arrives,
    // after all of the above (Redis keeps the order).
    let forged = node_broadcast("fake", "/", vec![s("forged"), Mp::Int(42)], &["r"]).encode();
    assert!(redis.publish("socket.io#/#r#", &forged) >= 2);
    assert_eq!(ag.wait("a1", "forged", 1).await[0], json!([42]));
    // A real broadcast, requests, and local service still work, on both nodes.
    b.io().to("r").emit("after", &1).await.unwrap();
    assert_eq!(ag.wait("a1", "after", 1).await[0], json!([1]));
    a.io().emit("after_a", &1).await.unwrap();
    ag.wait("b1", "after_a", 1).await;
    assert_eq!(a.io().fetch_sockets().await.unwrap().len(), 2);
    assert_eq!(b.io().fetch_sockets().await.unwrap().len(), 2);
    assert_eq!(
        a.io().server_side_emit_with_ack("q", &1).await.unwrap(),
        vec![json!({ "node": "B", "got": [1] })]
    );
    assert_eq!(ag.emit_ack("a1", "echo", json!(["ok"])).await, json!("ok"));
    assert_eq!(ag.emit_ack("b1", "echo", json!(["ok"])).await, json!("ok"));
    assert_eq!(
        ag.count("a1", "trunc").await,
        0,
        "no truncated message got through"
    );
    assert_eq!(
        WORKER_PANICS.load(Ordering::SeqCst),
        0,
        "a node's task panicked"
    );
}

// ---- 6. latency --------------------------------------------------------------------------

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    let i = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    sorted_ms[i]
}

/// Sends `N` chats from `tx` (on B) to room `lat` with `rx` (on A), one at a time or all
/// at once; asserts all arrived in order and prints p50/p99 of send → receive (one clock:
/// both clients are in the same Node process).
async fn chat_latency(burst: bool) {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    let ag = Agent::spawn().await;
    ag.client("rx", a.url()).await;
    ag.client("tx", b.url()).await;
    ag.emit_ack("rx", "join", json!(["lat"])).await;
    const N: usize = 200;
    let want: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    let r = ag
        .ok(json!({ "op": "chat_latency", "from": "tx", "to": "rx", "room": "lat", "n": N, "burst": burst }))
        .await;
    let texts: Vec<String> = serde_json::from_value(r["texts"].clone()).unwrap();
    let mut ms: Vec<f64> = serde_json::from_value(r["ms"].clone()).unwrap();
    ms.sort_by(f64::total_cmp);
    println!(
        "cross-node chat latency ({}, n={N}): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        if burst { "burst" } else { "one at a time" },
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms[N - 1]
    );
    let mut got = texts.clone();
    got.sort();
    let mut all = want.clone();
    all.sort();
    assert_eq!(got, all, "every message arrived, once");
    assert_eq!(texts, want, "in order");
}

/// 200 demo `chat`s from a client on B to a room with a client on A, each sent once the
/// previous one arrived: all arrive, in order; prints p50/p99. Also 200 broadcasts from B's
/// handle, awaited one after the other: all arrive at A in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_node_chat_latency() {
    chat_latency(false).await;

    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, SECS_5).await;
    let ag = Agent::spawn().await;
    ag.client("rx", a.url()).await;
    ag.emit_ack("rx", "join", json!(["seq"])).await;
    for i in 0..200 {
        b.io().to("seq").emit("n", &i).await.unwrap();
    }
    let got: Vec<Value> = ag.wait("rx", "n", 200).await;
    let want: Vec<Value> = (0..200).map(|i| json!([i])).collect();
    assert_eq!(got, want);
}

/// The same 200 chats sent all at once by the client: all arrive, but not in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_node_chat_burst_keeps_order() {
    chat_latency(true).await;
}

/// Two namespaces (`TestServer` has `/`, `/test`, `/auth`, dynamic ones) on the Redis
/// adapter: each namespace's traffic reaches the same namespace on the other node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_namespaces_on_the_redis_adapter() {
    let redis = RedisServer::start();
    let start = |name: &'static str| {
        let url = redis.url.clone();
        async move {
            let config = sockeye_tests::cluster::redis_config(&url, SECS_5);
            let factory = sockeye::cluster::RedisAdapterFactory::new(config).unwrap();
            let uid = factory.uid().to_owned();
            let server = TestServer::start_with(|b| b.adapter(factory)).await;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            sockeye_tests::cluster::on_server_side_events(&server.io, name, tx);
            (server, uid, rx)
        }
    };
    let (a, a_uid, _a_rx) = start("A").await;
    let (b, b_uid, mut b_rx) = start("B").await;
    subscribed(&redis, &a_uid).await;
    subscribed(&redis, &b_uid).await;
    let ag = Agent::spawn().await;
    ag.client("c1", &a.url).await;
    ag.client_with("t1", &a.url, json!({ "nsp": "/test" }))
        .await;
    ag.client("c2", &b.url).await;
    ag.client_with("t2", &b.url, json!({ "nsp": "/test" }))
        .await;

    b.io.emit("root", &1).await.unwrap();
    ag.wait("c1", "root", 1).await;
    b.io.of("/test").emit("test", &2).await.unwrap();
    ag.wait("t1", "test", 1).await;
    assert_eq!(a.io.fetch_sockets().await.unwrap().len(), 2);
    assert_eq!(a.io.of("/test").fetch_sockets().await.unwrap().len(), 2);
    a.io.server_side_emit("hello", &3).await.unwrap();
    let got = tokio::time::timeout(SECS_5, b_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, ("hello".to_owned(), json!([3])));
    assert_eq!(ag.count("c1", "test").await, 0);
    assert_eq!(ag.count("t1", "root").await, 0);
}

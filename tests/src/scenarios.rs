//! Scenarios of two Sockeye nodes in one cluster, run on every bus (the Redis and AMQP
//! cluster tests): each takes two nodes of the same cluster, already joined, and spawns
//! its socket.io-client sockets in a Node [`Agent`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use sockeye::cluster::Emitter;
use sockeye::{AckError, Payload};

use crate::cluster::{eventually, Agent, SockeyeNode};

const SECS_5: Duration = Duration::from_secs(5);

/// The ids of `sockets`.
pub fn ids(sockets: &[sockeye::RemoteSocket]) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id().to_owned()).collect()
}

/// A set of strings.
pub fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `v`, sorted.
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A client on A in room `r` gets what B broadcasts (B's handle, binary included, and the
/// demo `chat` of a client on B); `except` and `to` select across nodes.
pub async fn sockeye_nodes_broadcast_to_rooms_across(a: &SockeyeNode, b: &SockeyeNode) {
    let ag = Agent::spawn().await;
    let c1 = ag.client("c1", a.url()).await;
    let c2 = ag.client("c2", b.url()).await;
    ag.client("c3", a.url()).await;

    assert_eq!(
        ag.emit_ack("c1", "join", json!(["r"])).await,
        json!({ "room": "r", "members": 1 })
    );
    assert_eq!(
        ag.emit_ack("c2", "join", json!(["r"])).await,
        json!({ "room": "r", "members": 2 })
    );
    // c2's `joined` goes to the room from B, through Redis, to c1 on A.
    let joined = ag.wait("c1", "joined", 1).await;
    assert_eq!(joined[0], json!([{ "id": c2, "room": "r" }]));

    // B's handle → the room, on both nodes.
    b.io()
        .to("r")
        .emit("news", &json!({ "from": "B" }))
        .await
        .unwrap();
    for c in ["c1", "c2"] {
        ag.wait_arg(c, "news", json!({ "from": "B" })).await;
    }
    // Binary, from B to A.
    b.io()
        .to("r")
        .emit_payload("bin", Payload::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    assert_eq!(
        ag.wait("c1", "bin", 1).await[0],
        json!([{ "$bin": [1, 2, 3] }])
    );

    // The demo `chat` from a client on B reaches the room on A (and the sender).
    assert_eq!(
        ag.emit_ack("c2", "chat", json!([{ "room": "r", "text": "hello" }]))
            .await,
        json!({ "ok": true })
    );
    let want = json!([{ "room": "r", "from": c2, "text": "hello" }]);
    for c in ["c1", "c2"] {
        assert_eq!(ag.wait(c, "chat", 1).await[0], want);
    }

    // Outside the room, from B: only c3 (on A).
    b.io().except("r").emit("outside", &1).await.unwrap();
    ag.wait("c3", "outside", 1).await;
    // To one socket by id, from B to A.
    b.io()
        .to(c1.clone())
        .emit("direct", &"to c1")
        .await
        .unwrap();
    ag.wait_arg("c1", "direct", json!("to c1")).await;
    // Everyone, then check nobody got what was not theirs (Redis keeps the order).
    b.io().emit("all", &2).await.unwrap();
    for c in ["c1", "c2", "c3"] {
        ag.wait(c, "all", 1).await;
    }
    assert_eq!(ag.count("c1", "outside").await, 0);
    assert_eq!(ag.count("c2", "outside").await, 0);
    assert_eq!(ag.count("c3", "news").await, 0);
    assert_eq!(ag.count("c3", "chat").await, 0);
    assert_eq!(ag.count("c2", "direct").await, 0);
}

/// `fetch_sockets` sees the other node's sockets (ids, rooms); `sockets_join`,
/// `sockets_leave`, a `RemoteSocket`'s `join`/`emit` and `disconnect_sockets` from A act on
/// B's sockets.
pub async fn sockeye_nodes_fetch_join_leave_disconnect_across(a: &SockeyeNode, b: &SockeyeNode) {
    let ag = Agent::spawn().await;
    let c1 = ag.client("c1", a.url()).await;
    let c2 = ag.client("c2", b.url()).await;
    ag.emit_ack("c2", "join", json!(["r"])).await;

    let all = a.io().fetch_sockets().await.unwrap();
    assert_eq!(ids(&all), set([&c1, &c2]));
    let remote = all.iter().find(|s| s.id() == c2).unwrap();
    assert_eq!(
        sorted(remote.rooms().to_vec()),
        sorted(vec![c2.clone(), "r".into()])
    );
    assert!(remote.local().is_none(), "c2 is on B");
    assert!(all.iter().find(|s| s.id() == c1).unwrap().local().is_some());
    assert_eq!(ids(&b.io().fetch_sockets().await.unwrap()), set([&c1, &c2]));
    assert_eq!(
        ids(&a.io().to("r").fetch_sockets().await.unwrap()),
        set([&c2])
    );
    assert_eq!(
        ids(&a.io().local().fetch_sockets().await.unwrap()),
        set([&c1])
    );

    // sockets_join from A: B's socket joins too.
    a.io().sockets_join("extra").await.unwrap();
    eventually("c2 (on B) in `extra`", SECS_5, || async {
        b.local_rooms(&c2)
            .await
            .is_some_and(|r| r.contains(&"extra".to_owned()))
    })
    .await;
    assert!(a
        .local_rooms(&c1)
        .await
        .unwrap()
        .contains(&"extra".to_owned()));
    a.io().to("extra").emit("x", &1).await.unwrap();
    ag.wait("c2", "x", 1).await;

    // sockets_leave from A, only for the sockets in `r`.
    a.io().of("/").to("r").leave("extra").await.unwrap();
    eventually("c2 (on B) left `extra`", SECS_5, || async {
        b.local_rooms(&c2)
            .await
            .is_some_and(|r| !r.contains(&"extra".to_owned()))
    })
    .await;
    assert!(a
        .local_rooms(&c1)
        .await
        .unwrap()
        .contains(&"extra".to_owned()));
    a.io().sockets_leave("extra").await.unwrap();
    assert!(!a
        .local_rooms(&c1)
        .await
        .unwrap()
        .contains(&"extra".to_owned()));

    // A RemoteSocket of B's socket, acted on from A.
    remote.join("solo").await.unwrap();
    eventually("c2 (on B) in `solo`", SECS_5, || async {
        b.local_rooms(&c2)
            .await
            .is_some_and(|r| r.contains(&"solo".to_owned()))
    })
    .await;
    remote.emit("direct", &"via remote socket").await.unwrap();
    ag.wait_arg("c2", "direct", json!("via remote socket"))
        .await;

    // disconnect_sockets from A disconnects B's client.
    a.io().disconnect_sockets().await.unwrap();
    assert_eq!(ag.wait_disconnect("c2").await, "io server disconnect");
    assert_eq!(ag.wait_disconnect("c1").await, "io server disconnect");
    eventually("B has no sockets left", SECS_5, || async {
        b.io().local().fetch_sockets().await.unwrap().is_empty()
    })
    .await;
}

/// `server_side_emit` A → B (B's handler gets the args), with acks (A gets B's answer);
/// a broadcast with acks from A collects the answers of clients on both nodes, and a
/// timeout for the one that does not answer.
pub async fn sockeye_nodes_server_side_emit_and_broadcast_acks(a: &SockeyeNode, b: &SockeyeNode) {
    a.io()
        .server_side_emit("hello", &json!({ "x": 1 }))
        .await
        .unwrap();
    assert_eq!(
        b.next_server_side_event().await,
        ("hello".to_owned(), json!([{ "x": 1 }]))
    );
    let answers = a.io().server_side_emit_with_ack("q", &7).await.unwrap();
    assert_eq!(answers, vec![json!({ "node": "B", "got": [7] })]);
    assert_eq!(
        b.next_server_side_event().await,
        ("q".to_owned(), json!([7]))
    );
    let answers = b.io().server_side_emit_with_ack("q", &8).await.unwrap();
    assert_eq!(answers, vec![json!({ "node": "A", "got": [8] })]);

    let ag = Agent::spawn().await;
    ag.client("c1", a.url()).await;
    ag.client("c2", b.url()).await;
    ag.client_with("c3", b.url(), json!({ "mute": ["poll"] }))
        .await;
    for c in ["c1", "c2"] {
        ag.emit_ack(c, "join", json!(["answering"])).await;
    }

    // Everyone answers: done as soon as all are in.
    let t0 = Instant::now();
    let res = a
        .io()
        .of("/")
        .to("answering")
        .timeout(SECS_5)
        .emit_with_ack::<_, String>("poll", &"q?")
        .await
        .unwrap();
    let got: Vec<String> = res.into_iter().map(Result::unwrap).collect();
    assert_eq!(sorted(got), vec!["c1", "c2"]);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());

    // c3 (on B) does not answer: a timeout for it, the others' answers kept.
    let t0 = Instant::now();
    let res = a
        .io()
        .timeout(Duration::from_millis(800))
        .emit_with_ack::<_, String>("poll", &"q?")
        .await
        .unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(res.len(), 3, "{res:?}");
    let mut ok = Vec::new();
    let mut timeouts = 0;
    for r in res {
        match r {
            Ok(s) => ok.push(s),
            Err(AckError::Timeout) => timeouts += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(sorted(ok), vec!["c1", "c2"]);
    assert_eq!(timeouts, 1);
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(ag.wait("c3", "poll", 1).await[0], json!(["q?"]));
}

/// The demo contract across nodes: `join` counts the room's members on both nodes, `chat`
/// reaches the room on both, `leave` sends `lobby` "User left" to every client of both.
pub async fn sockeye_nodes_demo_contract_across(a: &SockeyeNode, b: &SockeyeNode) {
    let ag = Agent::spawn().await;
    let c1 = ag.client("c1", a.url()).await;
    ag.client("c2", b.url()).await;
    let c3 = ag.client("c3", b.url()).await;
    ag.client("lurker", a.url()).await;

    for (i, c) in ["c1", "c2", "c3"].into_iter().enumerate() {
        assert_eq!(
            ag.emit_ack(c, "join", json!(["room1"])).await,
            json!({ "room": "room1", "members": i + 1 })
        );
    }
    ag.emit_ack("c1", "chat", json!([{ "room": "room1", "text": "one" }]))
        .await;
    let want = json!([{ "room": "room1", "from": c1, "text": "one" }]);
    for c in ["c1", "c2", "c3"] {
        assert_eq!(ag.wait(c, "chat", 1).await[0], want);
    }

    assert_eq!(
        ag.emit_ack("c3", "leave", json!(["room1"])).await,
        json!({ "room": "room1" })
    );
    for c in ["c1", "c2", "c3", "lurker"] {
        assert_eq!(ag.wait(c, "lobby", 1).await[0], json!(["User left"]));
    }
    for c in ["c1", "c2"] {
        assert_eq!(
            ag.wait(c, "left", 1).await[0],
            json!([{ "id": c3, "room": "room1" }])
        );
    }

    ag.emit_ack("c2", "chat", json!([{ "room": "room1", "text": "two" }]))
        .await;
    for c in ["c1", "c2"] {
        ag.wait(c, "chat", 2).await;
    }
    a.io().emit("marker", &0).await.unwrap();
    for c in ["c3", "lurker"] {
        ag.wait(c, "marker", 1).await;
    }
    assert_eq!(ag.count("c3", "chat").await, 1, "c3 left room1");
    assert_eq!(ag.count("lurker", "chat").await, 0);
}

/// An `Emitter` (no server behind it) reaches the clients of the cluster: `to("r")` those
/// in `in_r`, `except("r")` those in `out_r`, a binary emit everyone; nobody gets what was
/// not theirs.
pub async fn emitter_emits_to_rooms(emitter: &Emitter, ag: &Agent, in_r: &[&str], out_r: &[&str]) {
    emitter
        .of("/")
        .to("r")
        .emit("hello", &json!({ "v": 1 }))
        .await
        .unwrap();
    for c in in_r {
        assert_eq!(ag.wait(c, "hello", 1).await[0], json!([{ "v": 1 }]));
    }
    emitter.of("/").except("r").emit("out", &1).await.unwrap();
    for c in out_r {
        assert_eq!(ag.wait(c, "out", 1).await[0], json!([1]));
    }
    emitter
        .of("/")
        .emit_payload(
            "bin",
            Payload::args(&json!([sockeye::placeholder(0), "txt"]))
                .unwrap()
                .with_attachments(vec![vec![9u8, 8].into()]),
        )
        .await
        .unwrap();
    for c in in_r.iter().chain(out_r) {
        assert_eq!(
            ag.wait(c, "bin", 1).await[0],
            json!([{ "$bin": [9, 8] }, "txt"])
        );
    }
    for c in in_r {
        assert_eq!(ag.count(c, "out").await, 0);
    }
    for c in out_r {
        assert_eq!(ag.count(c, "hello").await, 0);
    }
}

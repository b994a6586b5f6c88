//! The core's client state machine (`sockeye_core::socket::client::Client`) against the real
//! axum service of `sockeye`, in process: hyper serves the router over in-memory duplex
//! connections, and every test runs on tokio's paused clock, so heartbeats, ack timeouts and
//! reconnection delays cost no wall time. See `support/mod.rs` for the harness.

mod support;

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use sockeye::{
    AckSender, Bin, ConnectError, Data, DisconnectReason, Payload, SocketIo, SocketIoBuilder,
    SocketRef, State,
};
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::socket::client::{
    ConnectError as ClientConnectError, DisconnectReason as ClientReason, Event,
};
use support::{config, Server, TestClient};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the server's handlers saw: `(kind, details)`.
#[derive(Clone)]
struct Log(mpsc::UnboundedSender<(String, Value)>);

impl Log {
    fn send(&self, kind: &str, v: Value) {
        let _ = self.0.send((kind.to_owned(), v));
    }
}

struct Logs(mpsc::UnboundedReceiver<(String, Value)>);

impl Logs {
    /// The next entry of `kind` (others are skipped); panics after 10 s (tokio time).
    async fn wait(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.0.recv()).await {
                Ok(Some((k, v))) if k == kind => return v,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!("server never logged {kind:?}"),
            }
        }
    }

    /// Every entry logged so far.
    fn drain(&mut self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        while let Ok(e) = self.0.try_recv() {
            out.push(e);
        }
        out
    }
}

/// The server under test: namespaces `/` and `/guarded`.
///
/// `/`: the connect handler logs `connect`, emits `hello` with the auth, then `n` with
/// 0..`auth.burst` (if given); `echo` acks its
/// arguments back (binary included); `bin_info` acks the attachments it received; `send_bin`
/// emits `bin` with two attachments; `ask` asks the client `question` with an ack and acks
/// back the answer (or the error); `join` joins a room; `burst` emits `n` with 0..N
/// (`paced_burst`: one a millisecond);
/// `kick` disconnects the socket; `step` logs `start` and `end` with its argument (a
/// multiple of 3 sleeps 1 ms between), `hold` sleeps 5 s between; the
/// disconnect handler logs `disconnect` with the reason.
///
/// `/guarded`: a middleware refuses unless `auth.token == "ok"`.
fn app(builder: SocketIoBuilder) -> (Server, SocketIo, Logs) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (server, io) = Server::start(builder.with_state(Log(tx)));
    io.ns(
        "/",
        |socket: SocketRef, Data(auth): Data<Value>, State(log): State<Log>| async move {
            log.send(
                "connect",
                json!({ "id": socket.id(), "auth": auth, "recovered": socket.recovered() }),
            );
            let _ = socket.emit("hello", &auth);
            for i in 0..auth.get("burst").and_then(Value::as_u64).unwrap_or(0) {
                let _ = socket.emit("n", &i);
            }
            socket.on("echo", |ack: AckSender, payload: Payload| async move {
                let _ = ack.send_payload(payload);
            });
            socket.on("bin_info", |Bin(bins): Bin, ack: AckSender| async move {
                let bins: Vec<Vec<u8>> = bins.iter().map(|b| b.to_vec()).collect();
                let _ = ack.send(&bins);
            });
            socket.on("send_bin", |socket: SocketRef| async move {
                let payload = Payload::args(&json!([
                    "two",
                    sockeye::placeholder(0),
                    { "nested": sockeye::placeholder(1) }
                ]))
                .expect("an array")
                .with_attachments(vec![
                    Bytes::from_static(&[1, 2, 3]),
                    Bytes::from(vec![0xAB; 500]),
                ]);
                let _ = socket.emit_payload("bin", payload);
            });
            socket.on(
                "ask",
                |socket: SocketRef, ack: AckSender, State(log): State<Log>| async move {
                    let answer: Result<String, _> = socket.emit_with_ack("question", "q?").await;
                    let answer = answer.unwrap_or_else(|e| format!("error: {e}"));
                    log.send("answer", json!(answer));
                    let _ = ack.send(&answer);
                },
            );
            socket.on(
                "join",
                |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                    let _ = socket.join(room.clone()).await;
                    let _ = ack.send(&room);
                },
            );
            socket.on(
                "burst",
                |socket: SocketRef, Data(n): Data<u32>| async move {
                    for i in 0..n {
                        let _ = socket.emit("n", &i);
                    }
                },
            );
            socket.on(
                "paced_burst",
                |socket: SocketRef, Data(n): Data<u32>| async move {
                    for i in 0..n {
                        let _ = socket.emit("n", &i);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                },
            );
            socket.on(
                "step",
                |Data(i): Data<u64>, State(log): State<Log>| async move {
                    log.send("start", json!(i));
                    if i % 3 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    log.send("end", json!(i));
                },
            );
            socket.on(
                "hold",
                |Data(i): Data<u64>, State(log): State<Log>| async move {
                    log.send("start", json!(i));
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    log.send("end", json!(i));
                },
            );
            socket.on("kick", |socket: SocketRef| async move {
                let _ = socket.disconnect();
            });
            socket.on_disconnect(
                |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                    log.send(
                        "disconnect",
                        json!({ "id": socket.id(), "reason": reason.as_str() }),
                    );
                },
            );
        },
    );
    io.ns("/guarded", |socket: SocketRef| async move {
        let _ = socket.emit("welcome", "in");
    })
    .with(|Data(auth): Data<Value>| async move {
        if auth.get("token").and_then(Value::as_str) == Some("ok") {
            Ok(())
        } else {
            Err(ConnectError::new("not authorized").with_data(&json!({ "code": 42 })))
        }
    });
    (server, io, Logs(rx))
}

/// Waits (tokio time, at most 5 s) until `cond` holds.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn bytes_list(v: &[Bytes]) -> Vec<Vec<u8>> {
    v.iter().map(|b| b.to_vec()).collect()
}

/// Connects `/` with an auth object and checks the handshake reached the connect handler;
/// returns the socket id and the auth.
async fn connect_with_auth(
    client: &mut TestClient,
    logs: &mut Logs,
    io: &SocketIo,
) -> (String, Value) {
    let auth = json!({ "token": "abc", "n": 7 });
    client.connect("/", Some(&auth.to_string())).await;
    assert_eq!(client.next_event().await, Event::Open);
    let (sid, recovered) = match client
        .wait_for("connect", |e| matches!(e, Event::Connect { .. }))
        .await
    {
        Event::Connect {
            nsp,
            sid,
            recovered,
        } => {
            assert_eq!(nsp, "/");
            (sid.to_string(), recovered)
        }
        _ => unreachable!(),
    };
    assert!(!recovered);
    let seen = logs.wait("connect").await;
    assert_eq!(
        seen["id"],
        json!(sid),
        "server and client agree on the socket id"
    );
    assert_eq!(seen["auth"], auth, "auth reached the connect handler");
    let (hello, _, _) = client.wait_event("/", "hello").await;
    assert_eq!(hello, json!([auth]));
    assert_eq!(io.session_count(), 1);
    (sid, auth)
}

async fn echo(client: &mut TestClient, text: &str) {
    let data = json!(["echo", text, { "n": 1 }]).to_string();
    let id = client.emit_with_ack("/", &data, vec![], None).await;
    let (args, _) = client.wait_ack(id).await;
    assert_eq!(args, json!([text, { "n": 1 }]));
}

// ---------------------------------------------------------------------------------------
// 1. Handshake and namespace connect.

#[tokio::test(start_paused = true)]
async fn auth_of_a_client_that_sent_none_is_an_empty_object() {
    let (server, io) = Server::start(SocketIo::builder());
    io.ns("/", |socket: SocketRef| async move {
        socket.on("auth", |socket: SocketRef, ack: AckSender| async move {
            let auth = socket.auth::<Value>().map_err(|e| e.to_string());
            let _ = ack.send(&json!({ "auth": auth.ok(), "raw": socket.auth_raw() }));
        });
    });
    for auth in [None, Some(r#"{"token":"t"}"#)] {
        let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
        client.connected("/", auth).await;
        let id = client.emit_with_ack("/", r#"["auth"]"#, vec![], None).await;
        let (args, _) = client.wait_ack(id).await;
        let expected = match auth {
            // As Node's `socket.handshake.auth`: `{}` when the client sent nothing.
            None => json!([{ "auth": {}, "raw": null }]),
            Some(a) => json!([{ "auth": { "token": "t" }, "raw": a }]),
        };
        assert_eq!(args, expected);
    }
}

#[tokio::test(start_paused = true)]
async fn polling_only_handshake_and_connect_with_auth() {
    let (server, io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::Polling]));
    connect_with_auth(&mut client, &mut logs, &io).await;
    assert_eq!(client.transport().await, Some(Transport::Polling));

    let posts = client.stats.posts();
    echo(&mut client, "over polling").await;
    assert!(client.stats.posts() > posts);
    assert_eq!(
        client.stats.websockets(),
        0,
        "a polling-only client never opens a WebSocket"
    );
    assert!(!client.seen.contains(&Event::Upgrade));
}

#[tokio::test(start_paused = true)]
async fn websocket_only_handshake_and_connect_with_auth() {
    let (server, io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
    connect_with_auth(&mut client, &mut logs, &io).await;
    assert_eq!(client.transport().await, Some(Transport::WebSocket));
    echo(&mut client, "over websocket").await;
    let s = &client.stats;
    assert_eq!(s.gets(), 0);
    assert_eq!(s.posts(), 0);
    assert_eq!(s.websockets(), 1);
}

#[tokio::test(start_paused = true)]
async fn polling_upgrades_to_websocket() {
    let (server, io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::Polling, Transport::WebSocket]));
    let (sid, _) = connect_with_auth(&mut client, &mut logs, &io).await;
    client.upgraded().await;
    assert_eq!(client.transport().await, Some(Transport::WebSocket));
    assert!(client.stats.gets() >= 1);

    // After the upgrade, traffic goes over the WebSocket: no more POSTs.
    let posts = client.stats.posts();
    echo(&mut client, "after upgrade").await;
    echo(&mut client, "again").await;
    assert_eq!(client.stats.posts(), posts);
    assert_eq!(client.stats.websockets(), 1);
    // Same session, same socket.
    assert_eq!(io.session_count(), 1);
    assert_eq!(
        client.with(|c, _| c.sid("/").map(|s| s.to_string())).await,
        Some(sid)
    );
}

#[tokio::test(start_paused = true)]
async fn events_sent_during_the_upgrade_arrive_once_and_in_order() {
    let (server, _io, _logs) = app(SocketIo::builder());
    // The WebSocket opens 50 ms (of the paused clock) after the handshake: the connect
    // handler's events go over polling, and those of the paced burst (one a millisecond)
    // straddle the switch of transports.
    let transports = config(&[Transport::Polling, Transport::WebSocket]);
    let mut client = TestClient::with_ws_delay(&server, transports, Duration::from_millis(50));
    client.connected("/", Some(r#"{"burst":150}"#)).await;
    client.emit("/", r#"["paced_burst",150]"#, vec![]).await;
    let mut got = Vec::new();
    while got.len() < 300 {
        let (args, _, _) = client.wait_event("/", "n").await;
        got.push(args[0].as_u64().expect("a number"));
    }
    let expected: Vec<u64> = (0..150).chain(0..150).collect();
    assert_eq!(got, expected);
    client.upgraded().await;
    assert_eq!(client.transport().await, Some(Transport::WebSocket));
    assert_eq!(client.try_next_event(Duration::from_secs(1)).await, None);
    // Some events came over polling, the rest over the WebSocket.
    let is_n = |e: &Event| matches!(e, Event::Event { data, .. } if data.starts_with("[\"n\""));
    let up = client.seen.iter().position(|e| *e == Event::Upgrade);
    let up = up.expect("upgraded");
    assert!(client.seen[..up].iter().any(is_n), "{:#?}", client.seen);
    assert!(client.seen[up..].iter().any(is_n), "{:#?}", client.seen);
}

/// Handlers start in event order, whether an event runs in the task that read it (nothing
/// else running for the socket), queued behind one that does, or behind handlers that wait
/// for a running slot (256 `hold`s at once fill them): none is lost.
async fn handlers_start_in_event_order(transport: Transport) {
    let (server, _io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[transport]));
    client.connected("/", None).await;
    logs.drain();
    let mut want = Vec::new();
    for i in 0..200u64 {
        client.emit("/", &format!(r#"["step",{i}]"#), vec![]).await;
        want.push(i);
    }
    for i in 1000..1300u64 {
        client.emit("/", &format!(r#"["hold",{i}]"#), vec![]).await;
        want.push(i);
    }
    client.emit("/", r#"["step",2000]"#, vec![]).await;
    want.push(2000);
    let (mut started, mut ended) = (Vec::new(), 0);
    while ended < want.len() {
        let (kind, v) = tokio::time::timeout(Duration::from_secs(60), logs.0.recv())
            .await
            .expect("every handler ends")
            .expect("a log");
        match kind.as_str() {
            "start" => started.push(v.as_u64().expect("a number")),
            "end" => ended += 1,
            _ => {}
        }
    }
    assert_eq!(started, want);
}

#[tokio::test(start_paused = true)]
async fn handlers_start_in_event_order_over_websocket() {
    handlers_start_in_event_order(Transport::WebSocket).await;
}

#[tokio::test(start_paused = true)]
async fn handlers_start_in_event_order_over_polling() {
    handlers_start_in_event_order(Transport::Polling).await;
}

// ---------------------------------------------------------------------------------------
// 2. Heartbeats (300 ms / 200 ms on the paused clock).

fn fast_heartbeat() -> SocketIoBuilder {
    SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
}

async fn healthy_client_stays_connected(transports: &[Transport]) {
    let (server, io, mut logs) = app(fast_heartbeat());
    let mut client = TestClient::new(&server, config(transports));
    let (sid, _) = client.connected("/", None).await;
    logs.wait("connect").await;

    let wall = std::time::Instant::now();
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(start.elapsed() >= Duration::from_secs(6));

    // About 20 intervals went by, each with a ping the client answered.
    let pings = client.stats.pings();
    assert!((15..=21).contains(&pings), "{pings} pings in 6 s");
    while let Some(e) = client.try_next_event(Duration::ZERO).await {
        assert!(
            !matches!(e, Event::Disconnect { .. } | Event::Close(_)),
            "unexpected {e:?}"
        );
    }
    assert!(client.is_connected("/").await);
    assert_eq!(
        client.with(|c, _| c.sid("/").map(|s| s.to_string())).await,
        Some(sid)
    );
    assert_eq!(io.session_count(), 1);
    assert!(
        !logs.drain().iter().any(|(k, _)| k == "disconnect"),
        "the server kept the socket"
    );
    echo(&mut client, "still alive").await;
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "the paused clock drove 6 s of heartbeats in {:?}",
        wall.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeat_keeps_a_healthy_polling_client() {
    healthy_client_stays_connected(&[Transport::Polling]).await;
}

#[tokio::test(start_paused = true)]
async fn heartbeat_keeps_a_healthy_websocket_client() {
    healthy_client_stays_connected(&[Transport::WebSocket]).await;
}

async fn silent_client_is_closed(transports: &[Transport]) {
    let (server, io, mut logs) = app(fast_heartbeat());
    let mut client = TestClient::new(&server, config(transports));
    let (sid, _) = client.connected("/", None).await;
    logs.wait("connect").await;
    let start = Instant::now();
    client.freeze();

    let d = logs.wait("disconnect").await;
    let elapsed = start.elapsed();
    assert_eq!(d, json!({ "id": sid, "reason": "ping timeout" }));
    // The first ping goes out 300 ms after the handshake; no pong within 200 ms.
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed <= Duration::from_millis(600),
        "closed after {elapsed:?}"
    );
    until("the session to go", || io.session_count() == 0).await;
}

#[tokio::test(start_paused = true)]
async fn server_closes_a_silent_polling_client_on_ping_timeout() {
    silent_client_is_closed(&[Transport::Polling]).await;
}

#[tokio::test(start_paused = true)]
async fn server_closes_a_silent_websocket_client_on_ping_timeout() {
    silent_client_is_closed(&[Transport::WebSocket]).await;
}

// ---------------------------------------------------------------------------------------
// 3. Acks both ways.

#[tokio::test(start_paused = true)]
async fn client_emit_with_ack_is_answered_by_the_server() {
    let (server, _io, _logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
    client.connected("/", None).await;
    let a = client
        .emit_with_ack("/", r#"["echo",1,"two",[3]]"#, vec![], None)
        .await;
    let b = client
        .emit_with_ack("/", r#"["echo",{"b":true}]"#, vec![], None)
        .await;
    assert_ne!(a, b);
    // Each answer resolves its own id.
    assert_eq!(client.wait_ack(a).await.0, json!([1, "two", [3]]));
    assert_eq!(client.wait_ack(b).await.0, json!([{ "b": true }]));
}

#[tokio::test(start_paused = true)]
async fn server_emit_with_ack_is_answered_by_the_client() {
    let (server, _io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::Polling]));
    client.connected("/", None).await;
    let ask = client.emit_with_ack("/", r#"["ask"]"#, vec![], None).await;
    let (args, _, id) = client.wait_event("/", "question").await;
    assert_eq!(args, json!(["q?"]));
    let id = id.expect("the server asks for an ack");
    client.ack("/", id, r#"["yes"]"#, vec![]).await;
    assert_eq!(logs.wait("answer").await, json!("yes"));
    assert_eq!(client.wait_ack(ask).await.0, json!(["yes"]));
}

#[tokio::test(start_paused = true)]
async fn server_ack_times_out_when_the_client_does_not_answer() {
    let (server, _io, mut logs) = app(SocketIo::builder().ack_timeout(Duration::from_millis(1500)));
    let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
    client.connected("/", None).await;
    let ask = client.emit_with_ack("/", r#"["ask"]"#, vec![], None).await;
    let (_, _, id) = client.wait_event("/", "question").await;
    assert!(id.is_some());
    let start = Instant::now();
    // No answer.
    assert_eq!(logs.wait("answer").await, json!("error: ack timed out"));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed <= Duration::from_millis(1600),
        "timed out after {elapsed:?}"
    );
    assert_eq!(
        client.wait_ack(ask).await.0,
        json!(["error: ack timed out"])
    );
    // A late answer is ignored, and the socket survives the timeout.
    client
        .ack("/", id.unwrap_or_default(), r#"["too late"]"#, vec![])
        .await;
    echo(&mut client, "after timeout").await;
    assert!(client.is_connected("/").await);
}

// ---------------------------------------------------------------------------------------
// 4. Binary.

async fn binary_both_ways(transports: &[Transport]) {
    let (server, _io, _logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(transports));
    client.connected("/", None).await;
    assert_eq!(client.transport().await, transports.first().copied());

    let first = Bytes::from_static(&[0, 1, 2, 0xFF, 0x1E]);
    let second: Bytes = (0..=255u8).cycle().take(1000).collect::<Vec<u8>>().into();
    let data = json!([
        "echo",
        "text",
        { "_placeholder": true, "num": 0 },
        { "inner": { "_placeholder": true, "num": 1 } }
    ])
    .to_string();

    // Client → server: the handler sees both attachments, reassembled.
    let info = client
        .emit_with_ack(
            "/",
            &data.replace("\"echo\"", "\"bin_info\""),
            vec![first.clone(), second.clone()],
            None,
        )
        .await;
    let (args, _) = client.wait_ack(info).await;
    assert_eq!(args, json!([[first.to_vec(), second.to_vec()]]));

    // Client → server → client: echoed back as a binary ack.
    let id = client
        .emit_with_ack("/", &data, vec![first.clone(), second.clone()], None)
        .await;
    let (args, attachments) = client.wait_ack(id).await;
    assert_eq!(
        args,
        json!([
            "text",
            { "_placeholder": true, "num": 0 },
            { "inner": { "_placeholder": true, "num": 1 } }
        ])
    );
    assert_eq!(bytes_list(&attachments), bytes_list(&[first, second]));

    // Server → client: a binary event.
    client.emit("/", r#"["send_bin"]"#, vec![]).await;
    let (args, attachments, _) = client.wait_event("/", "bin").await;
    assert_eq!(
        args,
        json!([
            "two",
            { "_placeholder": true, "num": 0 },
            { "nested": { "_placeholder": true, "num": 1 } }
        ])
    );
    assert_eq!(
        bytes_list(&attachments),
        vec![vec![1, 2, 3], vec![0xAB; 500]]
    );
}

#[tokio::test(start_paused = true)]
async fn binary_both_ways_over_polling() {
    binary_both_ways(&[Transport::Polling]).await;
}

#[tokio::test(start_paused = true)]
async fn binary_both_ways_over_websocket() {
    binary_both_ways(&[Transport::WebSocket]).await;
}

// ---------------------------------------------------------------------------------------
// 5. Connection state recovery.

async fn recovery(transports: &[Transport]) {
    let (server, io, mut logs) =
        app(SocketIo::builder().connection_state_recovery(Duration::from_secs(60)));
    let mut client = TestClient::new(&server, config(transports));
    let (sid, recovered) = client.connected("/", Some(r#"{"user":"ann"}"#)).await;
    assert!(!recovered);
    // `hello` carries the first offset.
    let (hello, _, _) = client.wait_event("/", "hello").await;
    assert_eq!(hello[0], json!({ "user": "ann" }));
    assert!(hello[1].is_string(), "an offset is appended: {hello}");
    if transports.len() > 1 {
        client.upgraded().await;
        assert_eq!(client.transport().await, Some(Transport::WebSocket));
    }
    let join = client
        .emit_with_ack("/", r#"["join","room1"]"#, vec![], None)
        .await;
    assert_eq!(client.wait_ack(join).await.0, json!(["room1"]));
    logs.drain();

    // The connection drops; the client stays away while the server broadcasts.
    client.set_offline(true);
    client.drop_transport();
    // A failed polling request reads as a transport error, a WebSocket gone as a close.
    let reason = match transports.last() {
        Some(Transport::Polling) => ClientReason::TransportError,
        _ => ClientReason::TransportClose,
    };
    assert_eq!(
        client
            .wait_for("disconnect", |e| matches!(e, Event::Disconnect { .. }))
            .await,
        Event::Disconnect {
            nsp: "/".into(),
            reason,
        }
    );
    let d = logs.wait("disconnect").await;
    assert_eq!(d["id"], json!(sid));
    // Noticed at once (a dropped WebSocket, or a pending GET whose connection went away),
    // not through a ping timeout.
    assert_eq!(d["reason"], json!("transport close"), "{d}");
    until("the session to go", || io.session_count() == 0).await;
    io.to("room1").emit("news", "while away").await.unwrap();
    io.to("other-room")
        .emit("news", "not for you")
        .await
        .unwrap();

    // Back: same socket id, recovered, and the missed broadcast arrives.
    client.set_offline(false);
    let (sid2, recovered) = match client
        .wait_for("reconnect", |e| matches!(e, Event::Connect { .. }))
        .await
    {
        Event::Connect { sid, recovered, .. } => (sid.to_string(), recovered),
        _ => unreachable!(),
    };
    assert!(recovered, "seen: {:#?}", client.seen);
    assert_eq!(sid2, sid);
    let c = logs.wait("connect").await;
    assert_eq!(c["recovered"], json!(true));
    assert_eq!(c["id"], json!(sid));
    let (news, _, _) = client.wait_event("/", "news").await;
    assert_eq!(news[0], json!("while away"));
    assert!(client.seen.iter().any(|e| matches!(e, Event::Reconnect(_))));

    // Still in room1 (rooms recovered); the broadcast to another room was not replayed.
    io.to("room1").emit("news", "live").await.unwrap();
    let (news, _, _) = client.wait_event("/", "news").await;
    assert_eq!(news[0], json!("live"), "seen: {:#?}", client.seen);
}

#[tokio::test(start_paused = true)]
async fn connection_state_recovery_over_websocket() {
    recovery(&[Transport::WebSocket]).await;
}

#[tokio::test(start_paused = true)]
async fn connection_state_recovery_over_polling() {
    recovery(&[Transport::Polling]).await;
}

#[tokio::test(start_paused = true)]
async fn connection_state_recovery_after_an_upgrade() {
    recovery(&[Transport::Polling, Transport::WebSocket]).await;
}

// ---------------------------------------------------------------------------------------
// 6. Refusals.

#[tokio::test(start_paused = true)]
async fn middleware_refusal_reaches_the_client_with_message_and_data() {
    let (server, _io, _logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::Polling]));
    client
        .connect("/guarded", Some(r#"{"token":"wrong"}"#))
        .await;
    let e = client
        .wait_for("connect error", |e| matches!(e, Event::ConnectError { .. }))
        .await;
    let Event::ConnectError {
        nsp,
        error: ClientConnectError::Server(data),
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(nsp, "/guarded");
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        data,
        json!({ "message": "not authorized", "data": { "code": 42 } })
    );
    assert!(!client.is_connected("/guarded").await);

    // The right token is let in (the middleware does not refuse everyone).
    let mut client = TestClient::new(&server, config(&[Transport::Polling]));
    client
        .connected("/guarded", Some(r#"{"token":"ok"}"#))
        .await;
    let (welcome, _, _) = client.wait_event("/guarded", "welcome").await;
    assert_eq!(welcome, json!(["in"]));
}

#[tokio::test(start_paused = true)]
async fn unknown_namespace_is_refused() {
    let (server, _io, _logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
    client.connect("/nope", None).await;
    let e = client
        .wait_for("connect error", |e| matches!(e, Event::ConnectError { .. }))
        .await;
    let Event::ConnectError {
        nsp,
        error: ClientConnectError::Server(data),
    } = e
    else {
        panic!("{e:?}");
    };
    assert_eq!(nsp, "/nope");
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data, json!({ "message": "Invalid namespace" }));
}

// ---------------------------------------------------------------------------------------
// 7. Server-side disconnect.

async fn server_disconnect(transports: &[Transport]) {
    let (server, io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(transports));
    let (sid, _) = client.connected("/", None).await;
    client.emit("/", r#"["kick"]"#, vec![]).await;
    assert_eq!(
        client
            .wait_for("disconnect", |e| matches!(e, Event::Disconnect { .. }))
            .await,
        Event::Disconnect {
            nsp: "/".into(),
            reason: ClientReason::IoServerDisconnect,
        }
    );
    assert_eq!(
        logs.wait("disconnect").await,
        json!({ "id": sid, "reason": "server namespace disconnect" })
    );
    assert!(!client.is_connected("/").await);
    // The client closes its (now empty) connection and does not come back.
    until("the session to go", || io.session_count() == 0).await;
    while let Some(e) = client.try_next_event(Duration::from_secs(10)).await {
        assert!(
            !matches!(
                e,
                Event::ReconnectAttempt(_) | Event::Open | Event::Connect { .. }
            ),
            "unexpected {e:?}"
        );
    }
    assert!(!client
        .seen
        .iter()
        .any(|e| matches!(e, Event::Close(CloseReason::PingTimeout))));
}

#[tokio::test(start_paused = true)]
async fn server_disconnect_reaches_a_websocket_client() {
    server_disconnect(&[Transport::WebSocket]).await;
}

#[tokio::test(start_paused = true)]
async fn server_disconnect_reaches_a_polling_client() {
    server_disconnect(&[Transport::Polling]).await;
}

#[tokio::test(start_paused = true)]
async fn server_disconnect_of_one_namespace_keeps_the_others() {
    let (server, io, mut logs) = app(SocketIo::builder());
    let mut client = TestClient::new(&server, config(&[Transport::WebSocket]));
    client.connected("/", None).await;
    client
        .connected("/guarded", Some(r#"{"token":"ok"}"#))
        .await;
    client.wait_event("/guarded", "welcome").await;
    client.emit("/", r#"["kick"]"#, vec![]).await;
    assert_eq!(
        client
            .wait_for("disconnect", |e| matches!(e, Event::Disconnect { .. }))
            .await,
        Event::Disconnect {
            nsp: "/".into(),
            reason: ClientReason::IoServerDisconnect,
        }
    );
    logs.wait("disconnect").await;
    // The Engine.IO session and the other namespace live on.
    assert!(client.is_connected("/guarded").await);
    assert!(!client.is_connected("/").await);
    assert_eq!(io.session_count(), 1);
    io.of("/guarded").emit("still", &1).await.unwrap();
    let (args, _, _) = client.wait_event("/guarded", "still").await;
    assert_eq!(args, json!([1]));
}

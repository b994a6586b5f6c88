//! The bare Engine.IO server (`sockeye::engine::EngineIo`) on a real 127.0.0.1 port, driven
//! with raw HTTP/1.1 requests and raw WebSockets: the bytes and status codes of Node's
//! `engine.io` (Engine.IO v4).

mod engine_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use engine_support::*;
use hyper::Method;
use sockeye::engine::{CloseReason, EngineIo};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Pings every 200 ms, waits 150 ms for the pong.
fn short_heartbeat() -> sockeye::engine::EngineIoBuilder {
    EngineIo::builder()
        .ping_interval(Duration::from_millis(200))
        .ping_timeout(Duration::from_millis(150))
}

#[tokio::test]
async fn handshake_over_polling() {
    let mut s = Server::start(
        EngineIo::builder()
            .ping_interval(Duration::from_millis(1234))
            .ping_timeout(Duration::from_millis(567))
            .max_payload(8910),
    )
    .await;
    let (sid, hs) = s.open_polling().await;
    assert_eq!(sid.len(), 20);
    assert!(
        sid.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{sid}"
    );
    assert_eq!(
        hs,
        serde_json::json!({
            "sid": sid,
            "upgrades": ["websocket"],
            "pingInterval": 1234,
            "pingTimeout": 567,
            "maxPayload": 8910,
        })
    );
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    assert_eq!(s.io.session_count(), 1);

    // Without WebSocket there is nothing to upgrade to.
    let s2 = Server::start(EngineIo::builder().transports(true, false)).await;
    let (_, hs) = s2.open_polling().await;
    assert_eq!(hs["upgrades"], serde_json::json!([]));
}

#[tokio::test]
async fn handshake_over_websocket() {
    let mut s = Server::default().await;
    let (mut ws, sid, hs) = s.open_ws().await;
    assert_eq!(sid.len(), 20);
    assert_eq!(
        hs,
        serde_json::json!({
            "sid": sid,
            "upgrades": [],
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1000000,
        })
    );
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    assert_eq!(s.io.session_count(), 1);
    // A client close frame ends the session.
    ws.close(None).await.unwrap();
    assert_eq!(s.event().await, Ev::Close(sid, CloseReason::TransportClose));
    s.wait_sessions(0).await;
}

/// Frames are written by the sender itself while the socket takes them, and queued for the
/// socket's writer once it does not: a client that stops reading, then reads, gets every
/// message once and in order, across both paths and back to the first; a frame the socket
/// took only in part is finished though nothing follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_stay_in_order_when_the_client_reads_late() {
    let mut s = Server::start(EngineIo::builder().max_buffered_bytes(64 << 20)).await;
    let (mut ws, sid, _) = s.open_ws().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    // More than the kernel's socket buffers hold: one message of 15 MB, then 1,000 of
    // 16 KB, then a few once the client has read everything.
    for (n, pad) in [(1, 15 << 20), (1000, 16 << 10), (10, 16 << 10)] {
        let pad = "x".repeat(pad);
        for i in 0..n {
            s.io.broadcast(text(&format!("{i:04}{pad}")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        for i in 0..n {
            let got = next_text(&mut ws).await;
            assert_eq!(&got[..5], format!("4{i:04}"));
            assert_eq!(got.len(), 5 + pad.len());
        }
    }
    assert_eq!(s.io.session_count(), 1);
}

#[tokio::test]
async fn polling_messages_both_ways() {
    let mut s = Server::default().await;
    let (sid, _) = s.open_polling().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    let r = s.post(&sid, "4a\x1e4b\x1ebAQID").await;
    assert_eq!(r.ok(), "ok");
    assert_eq!(r.content_type, "text/html");
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("a")));
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("b")));
    assert_eq!(
        s.event().await,
        Ev::Message(sid.clone(), binary(&[1, 2, 3]))
    );
    // The three echoes in one body, binary as `b` + base64.
    let r = s.get(&sid).await;
    assert_eq!(r.content_type, "text/plain; charset=UTF-8");
    assert_eq!(r.ok(), "4a\x1e4b\x1ebAQID");

    // A pending GET is answered as soon as there is something to send.
    let pending = s.pending_get(&sid).await;
    assert_eq!(s.post(&sid, "4\u{e9}t\u{e9}").await.ok(), "ok");
    assert_eq!(pending.await.unwrap().ok(), "4\u{e9}t\u{e9}");
    assert_eq!(
        s.event().await,
        Ev::Message(sid.clone(), text("\u{e9}t\u{e9}"))
    );
    s.no_event();
}

#[tokio::test]
async fn websocket_messages_both_ways() {
    let mut s = Server::default().await;
    let (mut ws, sid, _) = s.open_ws().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    send_text(&mut ws, "4hello").await;
    assert_eq!(next_text(&mut ws).await, "4hello");
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("hello")));

    // Binary frames carry the raw bytes, no type prefix.
    send_binary(&mut ws, &[1, 2, 3]).await;
    assert_eq!(
        next_frame(&mut ws).await,
        Some(WsMessage::binary(vec![1, 2, 3]))
    );
    assert_eq!(
        s.event().await,
        Ev::Message(sid.clone(), binary(&[1, 2, 3]))
    );
    // A text message that looks like base64 binary stays text.
    send_text(&mut ws, "4bAQID").await;
    assert_eq!(next_text(&mut ws).await, "4bAQID");
    assert_eq!(s.event().await, Ev::Message(sid, text("bAQID")));
}

#[tokio::test]
async fn heartbeat_over_polling() {
    let mut s = Server::start(short_heartbeat()).await;
    let (sid, hs) = s.open_polling().await;
    assert_eq!(hs["pingInterval"], 200);
    assert_eq!(hs["pingTimeout"], 150);
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    let opened = Instant::now();

    // The first ping, after pingInterval.
    assert_eq!(s.get(&sid).await.ok(), "2");
    assert!(
        opened.elapsed() >= Duration::from_millis(150),
        "pinged too early"
    );
    // Answered: the session stays and is pinged again.
    assert_eq!(s.post(&sid, "3").await.ok(), "ok");
    let answered = Instant::now();
    assert_eq!(s.get(&sid).await.ok(), "2");
    assert!(
        answered.elapsed() >= Duration::from_millis(100),
        "pinged too early"
    );
    assert_eq!(s.io.session_count(), 1);

    // Not answered: closed after pingTimeout.
    assert_eq!(
        s.event().await,
        Ev::Close(sid.clone(), CloseReason::PingTimeout)
    );
    assert_eq!(CloseReason::PingTimeout.as_str(), "ping timeout");
    assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn heartbeat_over_websocket() {
    let mut s = Server::start(short_heartbeat()).await;
    let (mut ws, sid, _) = s.open_ws().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    assert_eq!(next_text(&mut ws).await, "2");
    send_text(&mut ws, "3").await;
    assert_eq!(next_text(&mut ws).await, "2");
    // No pong: the server closes the socket.
    let started = Instant::now();
    assert_ws_closed(&mut ws).await;
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(s.event().await, Ev::Close(sid, CloseReason::PingTimeout));
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn forced_close_over_polling() {
    let mut s = Server::default().await;
    let (sid, _) = s.open_polling().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    let pending = s.pending_get(&sid).await;
    assert_eq!(s.post(&sid, "4close-me").await.ok(), "ok");
    assert_eq!(pending.await.unwrap().ok(), "1");
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("close-me")));
    assert_eq!(
        s.event().await,
        Ev::Close(sid.clone(), CloseReason::ForcedClose)
    );
    assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn forced_close_over_websocket() {
    let mut s = Server::default().await;
    let (mut ws, sid, _) = s.open_ws().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    send_text(&mut ws, "4close-me").await;
    assert_eq!(next_text(&mut ws).await, "1");
    assert_ws_closed(&mut ws).await;
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("close-me")));
    assert_eq!(s.event().await, Ev::Close(sid, CloseReason::ForcedClose));
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn upgrade_from_polling_to_websocket() {
    let mut s = Server::default().await;
    let (sid, _) = s.open_polling().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    assert_eq!(s.post(&sid, "4before").await.ok(), "ok");
    assert_eq!(s.get(&sid).await.ok(), "4before");

    let mut ws = s
        .ws(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await
        .unwrap();
    let pending = s.pending_get(&sid).await;
    send_text(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    // The pending poll is released with a noop.
    assert_eq!(pending.await.unwrap().ok(), "6");
    send_text(&mut ws, "5").await;

    // Messages flow on the WebSocket only.
    send_text(&mut ws, "4after").await;
    assert_eq!(next_text(&mut ws).await, "4after");
    send_binary(&mut ws, &[9, 8]).await;
    assert_eq!(
        next_frame(&mut ws).await,
        Some(WsMessage::binary(vec![9, 8]))
    );
    s.io.broadcast(text("all"));
    assert_eq!(next_text(&mut ws).await, "4all");
    assert_error(&s.get(&sid).await, 400, 3, "Bad request");

    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("before")));
    assert_eq!(s.event().await, Ev::Message(sid.clone(), text("after")));
    assert_eq!(s.event().await, Ev::Message(sid.clone(), binary(&[9, 8])));
    s.no_event();
    assert_eq!(s.io.session_count(), 1);

    // A second WebSocket for the same session is closed at once.
    let mut again = s
        .ws(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await
        .unwrap();
    assert_ws_closed(&mut again).await;
    // The first one still works.
    send_text(&mut ws, "4still").await;
    assert_eq!(next_text(&mut ws).await, "4still");
    // An upgrade of an unknown session gets the HTTP error.
    let (status, body) = s
        .ws("EIO=4&transport=websocket&sid=nope")
        .await
        .err()
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(body, r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[tokio::test]
async fn client_close_packet_while_get_pending() {
    let mut s = Server::default().await;
    let (sid, _) = s.open_polling().await;
    assert_eq!(s.event().await, Ev::Open(sid.clone()));

    let pending = s.pending_get(&sid).await;
    assert_eq!(s.post(&sid, "1").await.ok(), "ok");
    assert_eq!(pending.await.unwrap().ok(), "6");
    assert_eq!(
        s.event().await,
        Ev::Close(sid.clone(), CloseReason::PeerClose)
    );
    assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn undecodable_body_closes_the_session() {
    let mut s = Server::default().await;
    let other = s.open_polling().await.0;
    for body in [
        Bytes::from_static(b"9garbage"),
        Bytes::from_static(b"4\xff\xfe"),
    ] {
        let (sid, _) = s.open_polling().await;
        assert_error(&s.post(&sid, body).await, 400, 3, "Bad request");
        assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");
    }
    // The other session is untouched.
    assert_eq!(s.post(&other, "4x").await.ok(), "ok");
    assert_eq!(s.get(&other).await.ok(), "4x");
    assert_eq!(s.io.session_count(), 1);
    assert_eq!(s.event().await, Ev::Open(other));
    for _ in 0..2 {
        let Ev::Open(_) = s.event().await else {
            panic!()
        };
        let Ev::Close(_, reason) = s.event().await else {
            panic!()
        };
        assert_eq!(reason, CloseReason::ParseError);
    }
}

#[tokio::test]
async fn overlapping_gets_close_the_session() {
    let mut s = Server::default().await;
    let (sid, _) = s.open_polling().await;
    let first = s.pending_get(&sid).await;
    assert_error(&s.get(&sid).await, 400, 3, "Bad request");
    assert_eq!(first.await.unwrap().ok(), "1");
    assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");
    assert_eq!(s.event().await, Ev::Open(sid.clone()));
    assert_eq!(s.event().await, Ev::Close(sid, CloseReason::ProtocolError));
    s.wait_sessions(0).await;
}

#[tokio::test]
async fn http_errors() {
    let s = Server::start(EngineIo::builder().max_payload(1000)).await;
    let get = |q: &'static str| s.http(Method::GET, q, Bytes::new());
    assert_error(
        &get("EIO=4&transport=carrier-pigeon").await,
        400,
        0,
        "Transport unknown",
    );
    assert_error(&get("EIO=4").await, 400, 0, "Transport unknown");
    assert_error(
        &s.http(Method::POST, "EIO=4&transport=polling", "x").await,
        400,
        2,
        "Bad handshake method",
    );
    assert_error(
        &get("EIO=3&transport=polling").await,
        400,
        5,
        "Unsupported protocol version",
    );
    assert_error(
        &get("transport=polling").await,
        400,
        5,
        "Unsupported protocol version",
    );
    assert_error(
        &get("EIO=4&transport=polling&sid=nope").await,
        400,
        1,
        "Session ID unknown",
    );

    let (sid, _) = s.open_polling().await;
    // A WebSocket request that is not an upgrade, an unknown method.
    assert_error(
        &s.http(
            Method::GET,
            &format!("EIO=4&transport=websocket&sid={sid}"),
            "",
        )
        .await,
        400,
        3,
        "Bad request",
    );
    assert_error(
        &s.http(
            Method::PUT,
            &format!("EIO=4&transport=polling&sid={sid}"),
            "",
        )
        .await,
        400,
        3,
        "Bad request",
    );
    // A body over max_payload: 413, and the session is closed.
    let big = format!("4{}", "x".repeat(2000));
    let r = s.post(&sid, big).await;
    assert_eq!(r.status, 413, "{r:?}");
    s.wait_sessions(0).await;
    assert_error(&s.get(&sid).await, 400, 1, "Session ID unknown");

    // Refused handshakes.
    let s = Server::start(EngineIo::builder().allow_request(|_| Err("no".into()))).await;
    assert_error(
        &s.http(Method::GET, "EIO=4&transport=polling", "").await,
        403,
        4,
        "Forbidden",
    );
    let s = Server::start(EngineIo::builder().transports(false, true)).await;
    assert_error(
        &s.http(Method::GET, "EIO=4&transport=polling", "").await,
        400,
        0,
        "Transport unknown",
    );
}

#[tokio::test]
async fn broadcast_reaches_every_session() {
    let mut s = Server::default().await;
    let (p1, _) = s.open_polling().await;
    let (p2, _) = s.open_polling().await;
    let (mut ws, w, _) = s.open_ws().await;
    assert_eq!(s.io.session_count(), 3);

    s.io.broadcast(text("hi"));
    s.io.broadcast(binary(&[1, 2, 3]));
    assert_eq!(s.get(&p1).await.ok(), "4hi\x1ebAQID");
    assert_eq!(s.get(&p2).await.ok(), "4hi\x1ebAQID");
    assert_eq!(next_text(&mut ws).await, "4hi");
    assert_eq!(
        next_frame(&mut ws).await,
        Some(WsMessage::binary(vec![1, 2, 3]))
    );

    // Every way of closing: a client close frame, a client close packet, the server.
    ws.close(None).await.unwrap();
    assert_eq!(s.post(&p1, "1").await.ok(), "ok");
    let pending = s.pending_get(&p2).await;
    s.io.close().await;
    assert_eq!(pending.await.unwrap().ok(), "1");
    s.wait_sessions(0).await;

    let mut closed = Vec::new();
    for _ in 0..6 {
        match s.event().await {
            Ev::Open(_) => {}
            Ev::Close(sid, reason) => closed.push((sid, reason)),
            ev => panic!("{ev:?}"),
        }
    }
    closed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (w, CloseReason::TransportClose),
        (p1, CloseReason::PeerClose),
        (p2, CloseReason::ServerShutdown),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(closed, want);
}

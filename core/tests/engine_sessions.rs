//! Engine.IO session state machines driven directly, byte by byte, for the paths the
//! simulation does not reach: protocol errors, limits, upgrade failures.

use bytes::Bytes;
use sockeye_core::engine::client::{self, Transmit as CTx};
use sockeye_core::engine::packet::{Frame, Message};
use sockeye_core::engine::server::{Config, Event, Session, SessionError, State, Transmit};
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::{Instant, Str};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn drain(s: &mut Session) -> Vec<Transmit> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn body(tx: &Transmit) -> String {
    match tx {
        Transmit::PollResponse(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("not a poll response: {other:?}"),
    }
}

/// A polling session whose handshake GET was answered.
fn polling(config: Config) -> Session {
    let mut s = Session::new("abc", Transport::Polling, config, t(0));
    s.handle_poll_get(t(0)).unwrap();
    let open = drain(&mut s);
    assert_eq!(open.len(), 1);
    let b = body(&open[0]);
    assert!(b.starts_with(r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":"#), "{b}");
    s
}

#[test]
fn handshake_over_websocket_has_no_upgrades() {
    let mut s = Session::new("w", Transport::WebSocket, Config::default(), t(0));
    let tx = drain(&mut s);
    match &tx[..] {
        [Transmit::Ws(Frame::Text(text))] => {
            assert!(text.starts_with(r#"0{"sid":"w","upgrades":[]"#), "{text}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pending_poll_is_answered_when_data_arrives() {
    let mut s = polling(Config::default());
    s.handle_poll_get(t(1)).unwrap();
    assert!(
        drain(&mut s).is_empty(),
        "nothing to send yet: the GET waits"
    );
    s.send(Message::Text(Str::from("2[\"a\"]"))).unwrap();
    s.send(Message::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    let tx = drain(&mut s);
    assert_eq!(tx.len(), 1);
    assert_eq!(body(&tx[0]), "42[\"a\"]");
    // The second message waits for the next GET.
    s.handle_poll_get(t(2)).unwrap();
    assert_eq!(body(&drain(&mut s)[0]), "bAQID");
}

#[test]
fn second_concurrent_poll_closes_the_session() {
    let mut s = polling(Config::default());
    s.handle_poll_get(t(1)).unwrap();
    assert_eq!(s.handle_poll_get(t(2)), Err(SessionError::Overlap));
    assert_eq!(s.state(), State::Closed(CloseReason::ProtocolError));
    // The first GET learns about it.
    assert_eq!(body(&drain(&mut s)[0]), "1");
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ProtocolError)]
    );
    assert_eq!(s.handle_poll_get(t(3)), Err(SessionError::Closed));
}

#[test]
fn post_bodies_are_decoded_in_order() {
    let mut s = polling(Config::default());
    s.handle_poll_post(t(1), Str::from("4hello\x1ebAQID\x1e4€"))
        .unwrap();
    assert_eq!(
        events(&mut s),
        vec![
            Event::Message(Message::Text(Str::from("hello"))),
            Event::Message(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
            Event::Message(Message::Text(Str::from("€"))),
        ]
    );
}

#[test]
fn oversized_post_closes_the_session() {
    let mut config = Config::default();
    config.max_payload = 10;
    let mut s = polling(config);
    let err = s
        .handle_poll_post(t(1), Str::from("4hello world"))
        .unwrap_err();
    assert!(matches!(err, SessionError::Decode(_)), "{err:?}");
    assert_eq!(s.state(), State::Closed(CloseReason::PayloadTooLarge));
}

#[test]
fn malformed_post_closes_the_session() {
    for bad in ["", "9x", "b!!!", "4a\x1e\x1e"] {
        let mut s = polling(Config::default());
        assert!(s.handle_poll_post(t(1), Str::from(bad)).is_err(), "{bad:?}");
        assert_eq!(s.state(), State::Closed(CloseReason::ParseError), "{bad:?}");
    }
}

#[test]
fn client_close_packet_closes_the_session() {
    let mut s = polling(Config::default());
    s.handle_poll_post(t(1), Str::from("1")).unwrap();
    assert_eq!(events(&mut s), vec![Event::Closed(CloseReason::PeerClose)]);
}

#[test]
fn client_close_while_a_poll_is_pending_releases_it_with_a_noop() {
    let mut s = polling(Config::default());
    s.handle_poll_get(t(1)).unwrap();
    assert!(drain(&mut s).is_empty(), "the GET waits");
    s.handle_poll_post(t(2), Str::from("1")).unwrap();
    let out = drain(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(body(&out[0]), "6");
    assert_eq!(events(&mut s), vec![Event::Closed(CloseReason::PeerClose)]);
    assert!(s.is_closed());
    assert_eq!(s.handle_poll_get(t(3)), Err(SessionError::Closed));
}

#[test]
fn unexpected_packets_from_the_client_close_the_session() {
    let mut s = polling(Config::default());
    assert!(s.handle_poll_post(t(1), Str::from("5")).is_err());
    assert_eq!(s.state(), State::Closed(CloseReason::ProtocolError));
}

#[test]
fn heartbeat_pings_and_times_out_without_pong() {
    let mut s = Session::new("h", Transport::WebSocket, Config::default(), t(0));
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(t(25_000)));
    s.handle_timeout(t(25_000));
    assert_eq!(
        drain(&mut s),
        vec![Transmit::Ws(Frame::Text(Str::from("2")))]
    );
    assert_eq!(s.poll_timeout(), Some(t(45_000)));
    // A pong re-arms the ping timer.
    s.handle_ws_frame(t(30_000), Frame::Text(Str::from("3")))
        .unwrap();
    assert_eq!(s.poll_timeout(), Some(t(55_000)));
    s.handle_timeout(t(55_000));
    drain(&mut s);
    s.handle_timeout(t(75_000));
    assert_eq!(s.state(), State::Closed(CloseReason::PingTimeout));
    assert_eq!(drain(&mut s), vec![Transmit::CloseWs]);
}

#[test]
fn websocket_upgrade_probe_releases_the_pending_poll() {
    let mut s = polling(Config::default());
    s.handle_poll_get(t(1)).unwrap();
    s.handle_ws_attach(t(2)).unwrap();
    assert_eq!(s.state(), State::Upgrading);
    s.handle_ws_frame(t(3), Frame::Text(Str::from("2probe")))
        .unwrap();
    let tx = drain(&mut s);
    assert_eq!(tx[0], Transmit::Ws(Frame::Text(Str::from("3probe"))));
    assert_eq!(body(&tx[1]), "6");
    // Data sent mid-upgrade waits, then goes out on the WebSocket.
    s.send(Message::Text(Str::from("x"))).unwrap();
    assert!(drain(&mut s).is_empty());
    s.handle_ws_frame(t(4), Frame::Text(Str::from("5")))
        .unwrap();
    assert_eq!(s.transport(), Transport::WebSocket);
    assert_eq!(events(&mut s), vec![Event::Upgraded]);
    assert_eq!(
        drain(&mut s),
        vec![Transmit::Ws(Frame::Text(Str::from("4x")))]
    );
    // Polling is over for this session.
    assert_eq!(s.handle_poll_get(t(5)), Err(SessionError::BadTransport));
}

#[test]
fn invalid_upgrade_packet_cancels_the_upgrade_only() {
    let mut s = polling(Config::default());
    s.handle_ws_attach(t(1)).unwrap();
    assert!(s
        .handle_ws_frame(t(2), Frame::Text(Str::from("4hi")))
        .is_err());
    assert_eq!(drain(&mut s), vec![Transmit::CloseWs]);
    assert_eq!(s.state(), State::Open);
    assert_eq!(s.transport(), Transport::Polling);
}

#[test]
fn stalled_upgrade_times_out() {
    let mut s = polling(Config::default());
    s.handle_ws_attach(t(1)).unwrap();
    s.handle_timeout(t(10_001));
    assert_eq!(drain(&mut s), vec![Transmit::CloseWs]);
    assert_eq!(s.state(), State::Open);
    // A second WebSocket for the same session is refused while one is attached.
    s.handle_ws_attach(t(10_002)).unwrap();
    assert_eq!(
        s.handle_ws_attach(t(10_003)),
        Err(SessionError::BadTransport)
    );
}

#[test]
fn garbage_websocket_frame_closes_with_parse_error() {
    let mut s = Session::new("g", Transport::WebSocket, Config::default(), t(0));
    drain(&mut s);
    assert!(s
        .handle_ws_frame(t(1), Frame::Text(Str::from("x")))
        .is_err());
    assert_eq!(s.state(), State::Closed(CloseReason::ParseError));
}

#[test]
fn a_client_that_never_reads_is_disconnected_at_the_queue_bound() {
    let mut config = Config::default();
    config.max_queued_packets = 8;
    let mut s = polling(config);
    for i in 0..8 {
        s.send(Message::Text(Str::from(format!("{i}")))).unwrap();
    }
    assert_eq!(s.state(), State::Open);
    s.send(Message::Text(Str::from("one too many"))).unwrap();
    assert_eq!(s.state(), State::Closed(CloseReason::QueueFull));
}

#[test]
fn a_client_that_never_reads_is_disconnected_at_the_byte_budget() {
    let mut config = Config::default();
    config.max_queued_bytes = 10_000;
    let mut s = polling(config);
    let kib = "x".repeat(1000);
    for _ in 0..9 {
        s.send(Message::Text(Str::from(kib.clone()))).unwrap();
    }
    assert_eq!(s.state(), State::Open);
    s.send(Message::Text(Str::from(kib.clone()))).unwrap();
    assert_eq!(s.state(), State::Closed(CloseReason::QueueFull));
}

#[test]
fn server_close_sends_close_packet() {
    let mut s = Session::new("c", Transport::WebSocket, Config::default(), t(0));
    drain(&mut s);
    s.close(t(1), CloseReason::ServerShutdown);
    assert_eq!(
        drain(&mut s),
        vec![Transmit::Ws(Frame::Text(Str::from("1"))), Transmit::CloseWs]
    );
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ServerShutdown)]
    );
}

#[test]
fn client_batches_posts_within_max_payload() {
    let mut c = client::Session::new(client::Config::with_transports(&[Transport::Polling]), t(0));
    assert_eq!(c.poll_transmit(), Some(CTx::PollGet { sid: None }));
    c.handle_poll_response(
        t(1),
        Str::from(r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":12}"#),
    )
    .unwrap();
    assert_eq!(
        c.poll_transmit(),
        Some(CTx::PollGet {
            sid: Some(Str::from("s"))
        })
    );
    for m in ["aaaa", "bbbb", "cccc", "dddd"] {
        c.send(Message::Text(Str::from(m))).unwrap();
    }
    // One POST in flight at a time, each within 12 bytes.
    let post = |body: &str| {
        Some(CTx::PollPost {
            sid: Str::from("s"),
            body: body.into(),
        })
    };
    assert_eq!(c.poll_transmit(), post("4aaaa"));
    assert_eq!(c.poll_transmit(), None);
    c.handle_post_done(t(2));
    assert_eq!(c.poll_transmit(), post("4bbbb\x1e4cccc"));
    assert_eq!(c.poll_transmit(), None);
    c.handle_post_done(t(3));
    assert_eq!(c.poll_transmit(), post("4dddd"));
}

#[test]
fn client_answers_pings_and_times_out_on_silence() {
    let mut c = client::Session::new(
        client::Config::with_transports(&[Transport::WebSocket]),
        t(0),
    );
    assert_eq!(c.poll_transmit(), Some(CTx::WsOpen { sid: None }));
    c.handle_ws_open(t(0));
    c.handle_ws_frame(
        t(1),
        Frame::Text(Str::from(
            r#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100}"#,
        )),
    )
    .unwrap();
    assert_eq!(c.poll_timeout(), Some(t(501)));
    c.handle_ws_frame(t(300), Frame::Text(Str::from("2")))
        .unwrap();
    assert_eq!(
        c.poll_transmit(),
        Some(CTx::Ws(Frame::Text(Str::from("3"))))
    );
    assert_eq!(c.poll_timeout(), Some(t(800)));
    c.handle_timeout(t(800));
    assert_eq!(c.state(), client::State::Closed(CloseReason::PingTimeout));
    assert_eq!(c.poll_transmit(), Some(CTx::CloseWs));
}

#[test]
fn client_keeps_polling_when_the_probe_fails() {
    let mut c = client::Session::new(client::Config::default(), t(0));
    c.poll_transmit();
    c.handle_poll_response(
        t(1),
        Str::from(r#"0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100}"#),
    )
    .unwrap();
    let tx: Vec<_> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert!(tx.contains(&CTx::WsOpen {
        sid: Some(Str::from("s"))
    }));
    // The WebSocket cannot be opened (e.g. a proxy refuses it).
    c.handle_ws_closed(t(2));
    assert_eq!(c.transport(), Transport::Polling);
    assert_eq!(c.state(), client::State::Open);
    c.handle_poll_response(t(3), Str::from("6")).unwrap();
    assert_eq!(
        c.poll_transmit(),
        Some(CTx::PollGet {
            sid: Some(Str::from("s"))
        })
    );
}

#[test]
fn client_rejects_a_broken_handshake() {
    let mut c = client::Session::new(client::Config::default(), t(0));
    c.poll_transmit();
    assert!(c
        .handle_poll_response(t(1), Str::from("0{\"sid\":"))
        .is_err());
    assert_eq!(c.state(), client::State::Closed(CloseReason::ParseError));
}

#[test]
fn a_prepared_broadcast_shares_one_frame_and_still_works_on_polling() {
    use sockeye_core::engine::server::Prepared;
    let prepared = Prepared::new(Message::Text(Str::from("2[\"news\",1]")));
    let mut frames = Vec::new();
    for sid in ["a", "b"] {
        let mut s = Session::new(sid, Transport::WebSocket, Config::default(), t(0));
        drain(&mut s);
        s.send_prepared(prepared.clone()).unwrap();
        match &drain(&mut s)[..] {
            [Transmit::Ws(Frame::Text(text))] => frames.push(text.clone()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(frames[0], "42[\"news\",1]");
    // Both sessions got the very same buffer, not copies.
    assert_eq!(frames[0].as_ptr(), frames[1].as_ptr());

    let mut s = polling(Config::default());
    s.send_prepared(prepared).unwrap();
    s.handle_poll_get(t(1)).unwrap();
    assert_eq!(body(&drain(&mut s)[0]), "42[\"news\",1]");
}

#[test]
fn graceful_close_on_polling_waits_for_the_next_poll() {
    let mut s = polling(Config::default());
    s.send(Message::Text(Str::from("bye"))).unwrap();
    s.close(t(10), CloseReason::ForcedClose);
    assert_eq!(s.state(), State::Closing(CloseReason::ForcedClose));
    assert!(events(&mut s).is_empty());
    assert!(s.send(Message::Text(Str::from("late"))).is_err());
    assert_eq!(s.poll_timeout(), Some(t(1010)));
    // The next poll takes what was queued and the close packet.
    s.handle_poll_get(t(20)).unwrap();
    assert_eq!(body(&drain(&mut s)[0]), "4bye\x1e1");
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(CloseReason::ForcedClose)]
    );
}

#[test]
fn graceful_close_on_polling_gives_up_after_close_timeout() {
    let mut s = polling(Config::default());
    s.close(t(10), CloseReason::ServerShutdown);
    s.handle_timeout(t(1009));
    assert_eq!(s.state(), State::Closing(CloseReason::ServerShutdown));
    s.handle_timeout(t(1010));
    assert_eq!(s.state(), State::Closed(CloseReason::ServerShutdown));
    assert!(drain(&mut s).is_empty());
}

#[test]
fn close_on_polling_with_a_pending_poll_is_immediate() {
    let mut s = polling(Config::default());
    s.handle_poll_get(t(1)).unwrap();
    s.close(t(2), CloseReason::ForcedClose);
    assert_eq!(body(&drain(&mut s)[0]), "1");
    assert_eq!(s.state(), State::Closed(CloseReason::ForcedClose));
}

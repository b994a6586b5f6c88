//! Deterministic simulations: the Socket.IO client state machine against the server state
//! machines over an in-memory network with a fake clock. The same tests run natively and on
//! wasm32.

mod support;

use bytes::Bytes;
use core::time::Duration;
use sockeye_core::engine::client::Transmit as CTx;
use sockeye_core::engine::packet::Frame;
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::socket::backoff::Backoff;
use sockeye_core::socket::client::{AckFailure, ConnectError, DisconnectReason, EmitError, Event};
use sockeye_core::socket::server::Event as SioEvent;
use sockeye_core::Str;
use support::sim::{Policy, Seen, Sim};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const POLLING: &[Transport] = &[Transport::Polling];
const WEBSOCKET: &[Transport] = &[Transport::WebSocket];
const BOTH: &[Transport] = &[Transport::Polling, Transport::WebSocket];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn connects(sim: &Sim) -> Vec<(String, String, bool)> {
    sim.client_events(|e| match e {
        Event::Connect {
            nsp,
            sid,
            recovered,
        } => Some((nsp.to_string(), sid.to_string(), *recovered)),
        _ => None,
    })
}

fn disconnects(sim: &Sim) -> Vec<DisconnectReason> {
    sim.client_events(|e| match e {
        Event::Disconnect { reason, .. } => Some(*reason),
        _ => None,
    })
}

/// The server's events: (namespace, name, arguments, attachment count, ack id).
fn server_events(sim: &Sim) -> Vec<(String, String, String, usize, Option<u64>)> {
    sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Event {
            nsp,
            name,
            args,
            attachments,
            id,
        }) => Some((
            nsp.to_string(),
            name.to_string(),
            args.to_string(),
            attachments.len(),
            *id,
        )),
        _ => None,
    })
}

/// The server's events as (name, arguments).
fn names_and_args(sim: &Sim) -> Vec<(String, String)> {
    server_events(sim).into_iter().map(|e| (e.1, e.2)).collect()
}

fn pair(name: &str, args: &str) -> (String, String) {
    (name.to_string(), args.to_string())
}

#[test]
fn handshake_over_polling_connects_namespace_with_auth() {
    let mut sim = Sim::new(Sim::config(POLLING));
    sim.connect("/", Some(r#"{"token":"abc"}"#));
    assert_eq!(connects(&sim), vec![("/".into(), "/#1".into(), false)]);
    assert!(sim.client.is_connected("/"));
    let auths = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Connect { nsp, auth }) => Some((nsp.to_string(), auth.clone())),
        _ => None,
    });
    assert_eq!(
        auths,
        vec![("/".into(), Some(Str::from(r#"{"token":"abc"}"#)))]
    );
    assert_eq!(sim.session().unwrap().transport(), Transport::Polling);
    // The first request is the handshake GET without a sid.
    assert_eq!(sim.wire[0], CTx::PollGet { sid: None });
    assert!(!sim.wire.iter().any(|t| matches!(t, CTx::WsOpen { .. })));
}

#[test]
fn handshake_over_websocket_only() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);
    assert_eq!(connects(&sim).len(), 1);
    assert_eq!(sim.session().unwrap().transport(), Transport::WebSocket);
    assert_eq!(sim.wire[0], CTx::WsOpen { sid: None });
    assert!(!sim.wire.iter().any(|t| matches!(t, CTx::PollGet { .. })));
}

#[test]
fn upgrade_from_polling_to_websocket_then_traffic_flows_on_websocket() {
    let mut sim = Sim::new(Sim::config(BOTH));
    sim.connect("/", None);
    assert_eq!(sim.session().unwrap().transport(), Transport::WebSocket);
    assert_eq!(
        sim.client.engine().unwrap().transport(),
        Transport::WebSocket
    );
    assert!(sim.events.iter().any(|(_, e)| *e == Event::Upgrade));
    assert!(sim.seen.iter().any(|(_, s)| *s == Seen::Upgraded));
    // The probe exchange happened on the WebSocket.
    assert!(sim
        .wire
        .contains(&CTx::Ws(Frame::Text(Str::from("2probe")))));
    assert!(sim.wire.contains(&CTx::Ws(Frame::Text(Str::from("5")))));

    sim.clear();
    let id = sim
        .client
        .emit_with_ack(sim.now, "/", Str::from(r#"["echo",1]"#), vec![], None)
        .unwrap();
    sim.pump();
    assert!(!sim.wire.is_empty());
    assert!(
        sim.wire.iter().all(|t| matches!(t, CTx::Ws(_))),
        "after the upgrade only WebSocket frames go out: {:?}",
        sim.wire
    );
    let acks = sim.client_events(|e| match e {
        Event::Ack { id, data, .. } => Some((*id, data.to_string())),
        _ => None,
    });
    // The server's echo acks with the event's arguments.
    assert_eq!(acks, vec![(id, "[1]".to_string())]);
}

#[test]
fn upgrade_disabled_stays_on_polling() {
    let mut sim = Sim::new(Sim::config(BOTH));
    sim.server_config.allow_upgrades = false;
    sim.connect("/", None);
    assert_eq!(connects(&sim).len(), 1);
    assert_eq!(sim.session().unwrap().transport(), Transport::Polling);
    assert!(!sim.wire.iter().any(|t| matches!(t, CTx::WsOpen { .. })));
}

#[test]
fn heartbeat_keeps_a_healthy_connection_alive() {
    for transports in [POLLING, WEBSOCKET, BOTH] {
        let mut sim = Sim::new(Sim::config(transports));
        sim.connect("/", None);
        sim.advance(Duration::from_secs(600));
        assert!(disconnects(&sim).is_empty(), "{transports:?}");
        assert!(sim.client.is_connected("/"));
        // 600 s / 25 s of pings, each answered.
        let pongs = sim
            .wire
            .iter()
            .filter(|t| match t {
                CTx::Ws(Frame::Text(s)) => s.as_str() == "3",
                CTx::PollPost { body, .. } => body.contains('3'),
                _ => false,
            })
            .count();
        assert!(pongs >= 23, "{transports:?}: {pongs} pongs");
    }
}

#[test]
fn server_closes_a_silent_client_after_ping_interval_plus_timeout() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);
    let start = sim.now;
    // The client vanishes without closing anything: nothing reaches the server any more.
    sim.blackhole = true;
    sim.advance(Duration::from_secs(60));
    let closes: Vec<_> = sim
        .seen
        .iter()
        .filter_map(|(t, s)| match s {
            Seen::EngineClosed(r) => Some((*t, *r)),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 1, "{:?}", sim.seen);
    assert_eq!(closes[0].1, CloseReason::PingTimeout);
    assert_eq!(closes[0].0 - start, Duration::from_secs(45));
}

#[test]
fn client_detects_a_silent_server_and_reconnects() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);
    let start = sim.now;
    sim.blackhole = true;
    sim.advance(Duration::from_secs(46));
    let dc: Vec<_> = sim
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Disconnect { reason, .. } => Some((*t, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        dc,
        vec![(
            start + Duration::from_secs(45),
            DisconnectReason::PingTimeout
        )]
    );
    // The network heals. An attempt made during the outage hangs until the connect timeout
    // (20 s) gives up on it; a later one succeeds.
    sim.blackhole = false;
    sim.advance(Duration::from_secs(30));
    assert!(sim.client.is_connected("/"));
    let timeouts = sim.client_events(|e| match e {
        Event::ConnectError { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert!(
        !timeouts.is_empty(),
        "the attempt made during the outage timed out"
    );
    assert!(timeouts.iter().all(|e| *e == ConnectError::Timeout));
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::Reconnect(_))));
}

#[test]
fn acks_both_ways_and_timeouts() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);

    // Client → server with ack: the server echoes.
    let id = sim
        .client
        .emit_with_ack(
            sim.now,
            "/",
            Str::from(r#"["hi",{"a":1}]"#),
            vec![],
            Some(ms(500)),
        )
        .unwrap();
    sim.pump();
    assert_eq!(
        server_events(&sim),
        vec![("/".into(), "hi".into(), r#"[{"a":1}]"#.into(), 0, Some(id))]
    );
    sim.advance(ms(1000));
    let failed = sim.client_events(|e| match e {
        Event::AckFailed { .. } => Some(()),
        _ => None,
    });
    assert!(failed.is_empty(), "answered acks never time out");

    // Client → server with ack, unanswered: times out at exactly 500 ms.
    sim.echo_acks = false;
    sim.clear();
    let t0 = sim.now;
    let id2 = sim
        .client
        .emit_with_ack(
            sim.now,
            "/",
            Str::from(r#"["slow"]"#),
            vec![],
            Some(ms(500)),
        )
        .unwrap();
    assert_ne!(id, id2);
    sim.advance(ms(2000));
    let failed: Vec<_> = sim
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::AckFailed { id, reason, .. } => Some((*t - t0, *id, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![(ms(500), id2, AckFailure::Timeout)]);

    // Server → client with ack: the client answers.
    sim.clear();
    let sid = sim
        .server_emit("/", r#"["ask",2]"#, vec![], Some(Some(ms(1000))))
        .unwrap();
    let asked = sim.client_events(|e| match e {
        Event::Event { data, id, .. } => Some((data.to_string(), *id)),
        _ => None,
    });
    assert_eq!(asked, vec![(r#"["ask",2]"#.to_string(), Some(sid))]);
    sim.client
        .ack("/", sid, Str::from(r#"["answer"]"#), vec![])
        .unwrap();
    sim.pump();
    let answered = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Ack { id, args, .. }) => Some((*id, args.to_string())),
        _ => None,
    });
    assert_eq!(answered, vec![(sid, r#"["answer"]"#.to_string())]);

    // Server → client with ack, unanswered: the server's timeout fires.
    sim.clear();
    let sid2 = sim
        .server_emit("/", r#"["ask",3]"#, vec![], Some(Some(ms(1000))))
        .unwrap();
    sim.advance(ms(1500));
    let timeouts = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::AckTimeout { id, .. }) => Some(*id),
        _ => None,
    });
    assert_eq!(timeouts, vec![sid2]);
}

#[test]
fn binary_events_both_ways_over_every_transport() {
    for transports in [POLLING, WEBSOCKET, BOTH] {
        let mut sim = Sim::new(Sim::config(transports));
        sim.connect("/", None);
        let a = Bytes::from_static(&[0, 1, 2, 255]);
        let b = Bytes::from(vec![7u8; 1000]);
        let data =
            r#"["upload",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#;
        let id = sim
            .client
            .emit_with_ack(
                sim.now,
                "/",
                Str::from(data),
                vec![a.clone(), b.clone()],
                None,
            )
            .unwrap();
        sim.pump();
        let got = sim.server_seen(|s| match s {
            Seen::Sio(SioEvent::Event {
                name,
                args,
                attachments,
                ..
            }) => Some((name.to_string(), args.to_string(), attachments.clone())),
            _ => None,
        });
        let args = r#"[{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#;
        assert_eq!(
            got,
            vec![(
                "upload".to_string(),
                args.to_string(),
                vec![a.clone(), b.clone()]
            )],
            "{transports:?}"
        );
        // The echo ack carries the binaries back.
        let acks = sim.client_events(|e| match e {
            Event::Ack {
                id, attachments, ..
            } => Some((*id, attachments.clone())),
            _ => None,
        });
        assert_eq!(
            acks,
            vec![(id, vec![a.clone(), b.clone()])],
            "{transports:?}"
        );
        // Server → client binary event.
        sim.server_emit(
            "/",
            r#"["file",{"_placeholder":true,"num":0}]"#,
            vec![a.clone()],
            None,
        );
        let got = sim.client_events(|e| match e {
            Event::Event { attachments, .. } => Some(attachments.clone()),
            _ => None,
        });
        assert_eq!(got, vec![vec![a.clone()]], "{transports:?}");
    }
}

#[test]
fn reconnects_with_exponential_backoff_after_the_server_dies() {
    let mut config = Sim::config(WEBSOCKET);
    config.backoff = Backoff {
        min: ms(1000),
        max: ms(5000),
        factor: 2,
        jitter: 0.5,
        max_attempts: u32::MAX,
    };
    let backoff = config.backoff;
    let mut sim = Sim::new(config);
    sim.connect("/", None);
    sim.clear();
    let down_at = sim.now;
    sim.kill_server();
    assert_eq!(disconnects(&sim), vec![DisconnectReason::TransportClose]);
    // Three failed attempts while the server is down.
    sim.advance(ms(30_000));
    let attempts: Vec<_> = sim
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::ReconnectAttempt(n) => Some((*t, *n)),
            _ => None,
        })
        .collect();
    assert!(attempts.len() >= 4, "{attempts:?}");
    // Each attempt waits the backoff delay for its number (seeded, so exact).
    let mut expected = down_at;
    for (i, (t, n)) in attempts.iter().enumerate() {
        expected = expected + backoff.delay(i as u32, 0x5eed);
        assert_eq!(*n, i as u32 + 1);
        assert_eq!(*t, expected, "attempt {n}");
    }
    // Delays grow, then cap at 5 s (+/- jitter is applied before the cap).
    let delays: Vec<Duration> = (0..attempts.len() as u32)
        .map(|i| backoff.delay(i, 0x5eed))
        .collect();
    assert!(delays.iter().all(|d| *d <= ms(5000)));
    assert!(delays[2] > delays[0]);
    let errors = sim.client_events(|e| matches!(e, Event::ReconnectError).then_some(()));
    assert_eq!(errors.len(), attempts.len());

    // The server comes back: the next attempt reconnects and the namespace rejoins.
    sim.restart_server();
    sim.clear();
    sim.advance(ms(10_000));
    let reconnected = sim.client_events(|e| match e {
        Event::Reconnect(n) => Some(*n),
        _ => None,
    });
    assert_eq!(reconnected.len(), 1);
    assert!(reconnected[0] as usize > attempts.len());
    assert_eq!(connects(&sim).len(), 1);
    assert!(sim.client.is_connected("/"));
}

#[test]
fn reconnection_gives_up_after_max_attempts() {
    let mut config = Sim::config(POLLING);
    config.backoff.max_attempts = 3;
    let mut sim = Sim::new(config);
    sim.connect("/", None);
    sim.kill_server();
    sim.advance(ms(120_000));
    let attempts = sim.client_events(|e| match e {
        Event::ReconnectAttempt(n) => Some(*n),
        _ => None,
    });
    assert_eq!(attempts, vec![1, 2, 3]);
    let failed = sim.client_events(|e| matches!(e, Event::ReconnectFailed).then_some(()));
    assert_eq!(failed.len(), 1);
    assert_eq!(sim.client.poll_timeout(), None, "nothing left to do");
}

#[test]
fn no_reconnection_when_disabled() {
    let mut config = Sim::config(WEBSOCKET);
    config.reconnection = false;
    let mut sim = Sim::new(config);
    sim.connect("/", None);
    sim.kill_server();
    sim.restart_server();
    sim.advance(ms(60_000));
    assert_eq!(sim.sessions_created(), 1);
    assert!(!sim.client.is_connected("/"));
}

#[test]
fn emits_while_offline_are_buffered_and_sent_in_order_on_connect() {
    let mut sim = Sim::new(Sim::config(POLLING));
    sim.client.connect(sim.now, "/", None).unwrap();
    // Not connected yet: these wait.
    sim.client
        .emit("/", Str::from(r#"["a",1]"#), vec![])
        .unwrap();
    sim.client
        .emit("/", Str::from(r#"["b",2]"#), vec![])
        .unwrap();
    assert!(!sim.client.emit_volatile("/", Str::from(r#"["v"]"#), vec![]));
    sim.pump();
    assert_eq!(
        names_and_args(&sim),
        vec![pair("a", "[1]"), pair("b", "[2]")]
    );

    // Dropped connection: emits buffer again and flush after reconnection.
    sim.clear();
    sim.kill_server();
    sim.client
        .emit("/", Str::from(r#"["c",3]"#), vec![])
        .unwrap();
    sim.restart_server();
    sim.advance(ms(10_000));
    assert_eq!(names_and_args(&sim), vec![pair("c", "[3]")]);
}

#[test]
fn emit_with_is_each_of_the_four_emits() {
    let mut sim = Sim::new(Sim::config(POLLING));
    let emit = |sim: &mut Sim, name: &str, ack: bool, volatile: bool| {
        let data = Str::from(format!(r#"["{name}"]"#));
        let now = sim.now;
        sim.client
            .emit_with(now, "/", data, vec![], volatile, ack.then_some(None))
    };
    // Not active: refused, but for a volatile emit without an ack (dropped, as emit_volatile).
    assert_eq!(emit(&mut sim, "x", false, false), Err(EmitError::Inactive));
    assert_eq!(emit(&mut sim, "x", true, false), Err(EmitError::Inactive));
    assert_eq!(emit(&mut sim, "x", true, true), Err(EmitError::Inactive));
    assert_eq!(emit(&mut sim, "x", false, true), Ok(None));
    // Not connected yet: buffered (emit, emit_with_ack), or dropped with the ack id still
    // taken (emit_volatile_with_ack).
    sim.client.connect(sim.now, "/", None).unwrap();
    assert_eq!(emit(&mut sim, "a", false, false), Ok(None));
    assert_eq!(emit(&mut sim, "b", true, false), Ok(Some(0)));
    assert_eq!(emit(&mut sim, "v", false, true), Ok(None));
    assert_eq!(emit(&mut sim, "w", true, true), Ok(Some(1)));
    sim.pump();
    assert_eq!(names_and_args(&sim), vec![pair("a", "[]"), pair("b", "[]")]);
    // Connected: each sent at once.
    sim.clear();
    assert_eq!(emit(&mut sim, "c", false, false), Ok(None));
    assert_eq!(emit(&mut sim, "d", true, false), Ok(Some(2)));
    assert_eq!(emit(&mut sim, "e", false, true), Ok(None));
    assert_eq!(emit(&mut sim, "f", true, true), Ok(Some(3)));
    sim.pump();
    assert_eq!(
        names_and_args(&sim),
        vec![
            pair("c", "[]"),
            pair("d", "[]"),
            pair("e", "[]"),
            pair("f", "[]")
        ]
    );
}

#[test]
fn offline_buffer_is_bounded() {
    let mut config = Sim::config(POLLING);
    config.max_buffered = 2;
    let mut sim = Sim::new(config);
    sim.client.connect(sim.now, "/", None).unwrap();
    sim.client.emit("/", Str::from(r#"["a"]"#), vec![]).unwrap();
    sim.client.emit("/", Str::from(r#"["b"]"#), vec![]).unwrap();
    assert!(sim.client.emit("/", Str::from(r#"["c"]"#), vec![]).is_err());
}

#[test]
fn connection_state_recovery_restores_the_socket_and_replays_missed_packets() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.policy = Policy::Recover { max_age: 60_000 };
    sim.connect("/", Some(r#"{"token":"t"}"#));
    let first = connects(&sim);
    assert_eq!(first.len(), 1);
    assert!(!first[0].2, "a first connection is not a recovery");
    // With recovery on, the server appends each packet's offset as the last argument.
    sim.server_emit("/", r#"["news",1]"#, vec![], None);
    sim.server_emit("/", r#"["news",2]"#, vec![], None);
    let got = sim.client_events(|e| match e {
        Event::Event { data, .. } => Some(data.to_string()),
        _ => None,
    });
    assert_eq!(got, vec![r#"["news",1,"off-1"]"#, r#"["news",2,"off-2"]"#]);
    sim.clear();
    sim.drop_ws();
    assert_eq!(disconnects(&sim), vec![DisconnectReason::TransportClose]);
    // While the client is away: one broadcast reaches its room, another does not.
    let sid = first[0].1.clone();
    sim.broadcast(&[&sid], r#"["missed",3]"#);
    sim.broadcast(&["elsewhere"], r#"["not-for-me"]"#);
    sim.advance(ms(10_000));
    let auths = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Connect { auth, .. }) => auth.clone(),
        _ => None,
    });
    assert_eq!(
        auths,
        vec![Str::from(r#"{"pid":"pid1","offset":"off-2","token":"t"}"#)]
    );
    assert_eq!(sim.recovered, 1);
    assert_eq!(connects(&sim), vec![("/".into(), sid, true)]);
    let replayed = sim.client_events(|e| match e {
        Event::Event { data, .. } => Some(data.to_string()),
        _ => None,
    });
    assert_eq!(replayed, vec![r#"["missed",3,"off-3"]"#]);
}

#[test]
fn connection_state_is_not_recovered_after_max_age() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.policy = Policy::Recover { max_age: 2_000 };
    sim.connect("/", None);
    sim.server_emit("/", r#"["news"]"#, vec![], None);
    let sid = connects(&sim)[0].1.clone();
    sim.clear();
    // The server dies for longer than max_age: the pid is forgotten.
    sim.kill_server();
    sim.advance(ms(3_000));
    sim.restart_server();
    sim.advance(ms(30_000));
    assert_eq!(sim.recovered, 0);
    let again = connects(&sim);
    assert_eq!(again.len(), 1);
    assert!(!again[0].2, "not recovered");
    assert_ne!(again[0].1, sid, "a new socket id");
}

#[test]
fn refused_connect_reports_the_server_error_and_does_not_reconnect() {
    let mut sim = Sim::new(Sim::config(POLLING));
    sim.policy = Policy::Reject("Not authorized");
    sim.connect("/admin", Some(r#"{"token":"bad"}"#));
    let errors = sim.client_events(|e| match e {
        Event::ConnectError { nsp, error } => Some((nsp.to_string(), error.clone())),
        _ => None,
    });
    assert_eq!(
        errors,
        vec![(
            "/admin".to_string(),
            ConnectError::Server(Str::from(r#"{"message":"Not authorized"}"#))
        )]
    );
    sim.advance(ms(60_000));
    assert_eq!(sim.sessions_created(), 1);
    assert!(!sim.client.is_connected("/admin"));
}

#[test]
fn namespaces_are_multiplexed_over_one_session() {
    let mut sim = Sim::new(Sim::config(BOTH));
    sim.connect("/", None);
    sim.connect("/admin", None);
    assert_eq!(sim.sessions_created(), 1);
    let mut c: Vec<String> = connects(&sim).into_iter().map(|c| c.0).collect();
    c.sort();
    assert_eq!(c, vec!["/", "/admin"]);
    sim.client
        .emit("/admin", Str::from(r#"["x"]"#), vec![])
        .unwrap();
    sim.pump();
    assert_eq!(server_events(&sim)[0].0, "/admin");
    // Leaving one keeps the other connected; leaving both closes the session.
    sim.client.disconnect("/admin");
    sim.pump();
    assert!(sim.client.is_connected("/"));
    assert!(sim.session().is_some());
    sim.client.disconnect("/");
    sim.pump();
    assert!(
        sim.session().is_none(),
        "engine closed when no namespace is left"
    );
    assert!(sim
        .seen
        .iter()
        .any(|(_, s)| *s == Seen::EngineClosed(CloseReason::PeerClose)));
}

#[test]
fn server_disconnect_is_reported_and_not_retried() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);
    sim.connection_mut().unwrap().disconnect("/");
    sim.pump();
    assert_eq!(
        disconnects(&sim),
        vec![DisconnectReason::IoServerDisconnect]
    );
    sim.advance(ms(60_000));
    assert_eq!(sim.sessions_created(), 1);
}

#[test]
fn connect_timeout_when_the_handshake_never_answers() {
    let mut config = Sim::config(POLLING);
    config.connect_timeout = ms(2000);
    config.reconnection = false;
    let mut sim = Sim::new(config);
    sim.blackhole = true;
    sim.connect("/", None);
    sim.advance(ms(3000));
    let errors = sim.client_events(|e| match e {
        Event::ConnectError { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert_eq!(errors, vec![ConnectError::Timeout]);
}

#[test]
fn acks_pending_on_a_lost_connection_fail() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.connect("/", None);
    sim.echo_acks = false;
    let id = sim
        .client
        .emit_with_ack(sim.now, "/", Str::from(r#"["never"]"#), vec![], None)
        .unwrap();
    sim.pump();
    sim.drop_ws();
    let failed = sim.client_events(|e| match e {
        Event::AckFailed { id, reason, .. } => Some((*id, *reason)),
        _ => None,
    });
    assert_eq!(failed, vec![(id, AckFailure::Disconnected)]);
}

#[test]
fn auth_is_requested_before_every_connect() {
    let mut sim = Sim::new(Sim::config(WEBSOCKET));
    sim.client.connect_with_auth_request(sim.now, "/");
    sim.pump();
    let requests = |sim: &Sim| {
        sim.client_events(|e| match e {
            Event::AuthRequest { nsp } => Some(nsp.to_string()),
            _ => None,
        })
    };
    assert_eq!(requests(&sim), vec!["/"]);
    assert!(
        !sim.client.is_connected("/"),
        "no CONNECT before the auth is given"
    );
    sim.client
        .provide_auth("/", Some(Str::from(r#"{"token":"one"}"#)))
        .unwrap();
    sim.pump();
    assert!(sim.client.is_connected("/"));

    // After a drop, a fresh token is asked for and used.
    sim.clear();
    sim.drop_ws();
    sim.advance(ms(10_000));
    assert_eq!(requests(&sim), vec!["/"]);
    sim.client
        .provide_auth("/", Some(Str::from(r#"{"token":"two"}"#)))
        .unwrap();
    sim.pump();
    assert!(sim.client.is_connected("/"));
    let auths = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Connect { auth, .. }) => auth.clone(),
        _ => None,
    });
    assert_eq!(auths, vec![Str::from(r#"{"token":"two"}"#)]);
    assert!(sim
        .client
        .provide_auth("/", Some(Str::from("[1]")))
        .is_err());
}

#[test]
fn set_auth_changes_the_next_connect() {
    let mut sim = Sim::new(Sim::config(POLLING));
    sim.connect("/", Some(r#"{"token":"old"}"#));
    sim.client
        .set_auth("/", Some(Str::from(r#"{"token":"new"}"#)))
        .unwrap();
    sim.clear();
    sim.kill_server();
    sim.restart_server();
    sim.advance(ms(10_000));
    let auths = sim.server_seen(|s| match s {
        Seen::Sio(SioEvent::Connect { auth, .. }) => auth.clone(),
        _ => None,
    });
    assert_eq!(auths, vec![Str::from(r#"{"token":"new"}"#)]);
}

//! The Rust side of the client in headless Chromium (wasm-bindgen-test): the exported
//! `Manager` driven as `js/index.js` drives it (records out, I/O reports in), and the
//! allocator over a long session. The client against real servers, with its JS half doing
//! the I/O, is tested end to end in `wasm-client/e2e/`.
#![cfg(target_arch = "wasm32")]

use sockeye_core::engine::Transport;
use sockeye_wasm::manager::{code, command, flag, input};
use sockeye_wasm::Manager;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// One record of `Manager::drain` (see `records.rs`), its fields as text.
#[derive(Debug, PartialEq)]
enum F {
    N(f64),
    S(String),
    B(Vec<Vec<u8>>),
}

/// The records of `buf`, as `js/index.js` reads them.
fn records(buf: &[u8]) -> Vec<(u8, Vec<F>)> {
    const FIELDS: [&str; 24] = [
        "ns", "nss", "ns", "s", "r", "", "n", "", "", "", "s", "s", "ssn", "sns", "ss", "ssbn",
        "snsb", "snn", "ssb", "n", "n", "", "", "s",
    ];
    let mut i = 0;
    let u32 = |i: &mut usize| {
        let n = u32::from_le_bytes(buf[*i..*i + 4].try_into().expect("4 bytes"));
        *i += 4;
        n as usize
    };
    let mut out = Vec::new();
    while i < buf.len() {
        let tag = buf[i];
        i += 1;
        let mut fields = Vec::new();
        for k in FIELDS[tag as usize].chars() {
            fields.push(match k {
                'n' => {
                    i += 8;
                    F::N(f64::from_le_bytes(
                        buf[i - 8..i].try_into().expect("8 bytes"),
                    ))
                }
                'b' => {
                    let count = u32(&mut i);
                    F::B(
                        (0..count)
                            .map(|_| {
                                let n = u32(&mut i);
                                i += n;
                                buf[i - n..i].to_vec()
                            })
                            .collect(),
                    )
                }
                _ => {
                    let n = u32(&mut i);
                    i += n;
                    F::S(String::from_utf8(buf[i - n..i].to_vec()).expect("UTF-8"))
                }
            });
        }
        out.push((tag, fields));
    }
    out
}

fn s(text: &str) -> F {
    F::S(text.into())
}

const N: f64 = f64::NAN;

/// A manager whose polling handshake fails reports the failed open and the namespace's
/// connect error, with no reconnection; the namespace stays active, not connected.
#[wasm_bindgen_test]
fn failed_handshake_gives_connect_error() {
    let opts = [N, 0.0, N, N, N, N, N, N, N, 0.0];
    let mut m = Manager::new(&opts, 1.0);
    m.command(command::CONNECT, "/");
    let recs = records(&m.drain());
    assert_eq!(recs[0], (0, vec![F::N(1.0), s("")]), "the handshake GET");
    assert_eq!(recs[1].0, 6, "the handshake timer");
    assert_eq!(recs.len(), 2, "auth is asked once open: {recs:?}");
    assert!(
        !m.provide_auth("/", Some("[1]".into())),
        "auth must be an object"
    );
    // An answer for another connection is dropped.
    assert!(!m.input(input::POLL_ERROR, 7.0, None, None));
    assert!(m.drain().is_empty());
    assert!(m.input(input::POLL_ERROR, 1.0, None, None));
    let kinds: Vec<(u8, Vec<F>)> = records(&m.drain())
        .into_iter()
        .filter(|(t, _)| *t != 6)
        .collect();
    assert_eq!(
        kinds,
        [(11, vec![s("")]), (13, vec![s("/"), F::N(0.0), s("")])]
    );
    assert_eq!(m.socket("/").as_deref(), Some("0"), "active, not connected");
    assert_eq!(m.socket("/other"), None);
    assert_eq!(m.engine(), None);
    // Offline, an emit is buffered: an ack id, then refusal once the buffer is full.
    let mut ids = Vec::new();
    for _ in 0..1024 {
        ids.push(m.emit("/", r#"["e"]"#.into(), &[], flag::ACK, -1.0));
    }
    assert_eq!(ids[0], 0.0);
    assert_eq!(ids[1023], 1023.0);
    let full = m.emit("/", r#"["e"]"#.into(), &[], 0, -1.0);
    assert_eq!(full, code::BUFFER_FULL);
    assert_eq!(
        m.emit("/other", r#"["e"]"#.into(), &[], 0, -1.0),
        code::INACTIVE
    );
}

/// A WebSocket connection through the records: the open, the namespace's connect, an event
/// with an attachment and an ack id, an emit with two attachments, the answer to the event.
#[wasm_bindgen_test]
fn websocket_session_through_records() {
    let opts = [N, N, N, N, N, N, N, N, N, 1.0];
    let mut m = Manager::new(&opts, 1.0);
    m.command(command::CONNECT, "/");
    let recs = records(&m.drain());
    assert_eq!(
        recs[0],
        (2, vec![F::N(1.0), s("")]),
        "a WebSocket handshake"
    );
    m.input(input::WS_OPEN, 0.0, None, None);
    let open = r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    m.input(input::WS_FRAME, 0.0, Some(open.into()), None);
    let recs = records(&m.drain());
    assert!(recs.contains(&(7, vec![])), "open: {recs:?}");
    assert!(recs.contains(&(23, vec![s("/")])), "auth asked: {recs:?}");
    assert!(m.provide_auth("/", None));
    assert_eq!(records(&m.drain()), [(3, vec![s("40")])]);
    assert_eq!(m.engine().as_deref(), Some("websocket s1"));
    m.input(input::WS_FRAME, 0.0, Some(r#"40{"sid":"x"}"#.into()), None);
    let recs = records(&m.drain());
    assert!(
        recs.contains(&(12, vec![s("/"), s("x"), F::N(0.0)])),
        "{recs:?}"
    );
    assert_eq!(m.socket("/").as_deref(), Some("1x"), "connected as x");
    let event = r#"451-5["bin",{"_placeholder":true,"num":0}]"#;
    m.input(input::WS_FRAME, 0.0, Some(event.into()), None);
    m.input(input::WS_FRAME, 0.0, None, Some(vec![1, 2, 3]));
    let recs = records(&m.drain());
    assert_eq!(
        recs,
        [(
            15,
            vec![
                s("/"),
                s(r#"["bin",{"_placeholder":true,"num":0}]"#),
                F::B(vec![vec![1, 2, 3]]),
                F::N(5.0)
            ]
        )]
    );
    let json = r#"["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    let id = m.emit(
        "/",
        json.into(),
        &[1, 0, 0, 0, 9, 2, 0, 0, 0, 8, 7],
        flag::ACK,
        -1.0,
    );
    assert_eq!(id, 0.0);
    let recs = records(&m.drain());
    assert_eq!(recs[0], (3, vec![s(&format!("452-0{json}"))]));
    assert_eq!(recs[1].0, 4);
    assert_eq!(recs[2].0, 4);
    assert_eq!(
        m.emit("/", "[1]".into(), &[], flag::REPLY, 5.0),
        code::OK,
        "the server's event answered"
    );
    assert_eq!(records(&m.drain()), [(3, vec![s("435[1]")])]);
}

/// The wasm memory's size in bytes.
fn memory_bytes() -> u32 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

/// The global allocator reuses freed memory: a long WebSocket session (the core's client,
/// driven in memory: emits with acks of varied sizes, their acks, server events, binary
/// attachments) stops growing the wasm memory once warm.
#[wasm_bindgen_test]
fn a_long_session_reuses_memory() {
    use sockeye_core::engine::client::Transmit;
    use sockeye_core::engine::Frame;
    use sockeye_core::socket::client::{Client, Config, Event};
    use sockeye_core::{Bytes, Instant, Str};

    let mut config = Config::default();
    config.engine = sockeye_core::engine::client::Config::with_transports(&[Transport::WebSocket]);
    let mut client = Client::new(config, 7);
    let t = Instant::from_millis(0);
    let text = |s: String| Frame::Text(Str::from(s));
    client.connect(t, "/", None).expect("no auth");
    while client.poll_transmit().is_some() {}
    client.handle_ws_open(t);
    let open = r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    client.handle_ws_frame(t, text(open.into())).expect("open");
    client
        .handle_ws_frame(t, text(r#"40{"sid":"x"}"#.into()))
        .expect("connect");
    while client.poll_event().is_some() {}

    let mut acks = 0u64;
    let mut round = |r: u32, acks: &mut u64| {
        for i in 0..500u32 {
            let n = ((i * 7919 + r * 104_729) % 30_000) as usize + 1;
            let payload = format!(r#"["e","{}"]"#, "x".repeat(n));
            let bin = vec![Bytes::from(vec![i as u8; n % 4000])];
            let id = client
                .emit_with_ack(t, "/", Str::from(payload.clone()), bin, None)
                .expect("connected");
            while let Some(tx) = client.poll_transmit() {
                assert!(matches!(tx, Transmit::Ws(_)), "{tx:?}");
            }
            let mut reply = String::from("43");
            sockeye_core::decimal::push(&mut reply, id);
            reply.push_str(&payload);
            client.handle_ws_frame(t, text(reply)).expect("ack");
            client
                .handle_ws_frame(t, text(format!("42{payload}")))
                .expect("event");
            while let Some(e) = client.poll_event() {
                if matches!(e, Event::Ack { .. }) {
                    *acks += 1;
                }
            }
        }
    };
    round(0, &mut acks);
    let warm = memory_bytes();
    for r in 1..10 {
        round(r, &mut acks);
    }
    assert_eq!(acks, 5000);
    assert_eq!(memory_bytes(), warm, "memory grew after warm-up");
}

/// sockeye-core's `host-json`, on in this crate's wasm32 build: the host's `JSON.parse`
/// (`js/host.js`, through wasm-bindgen here, through plain imports in the shipped build) reads
/// packets' payloads (with socket.io-parser's shape checks) and the handshake.
#[wasm_bindgen_test]
fn json_is_read_by_the_host() {
    // `js/host.js`'s functions, as `Manager::new` installs them.
    sockeye_wasm::host::install();
    use sockeye_core::engine::handshake::Handshake;
    use sockeye_core::socket::packet::Packet;
    use sockeye_core::Str;
    use std::time::Duration;

    let decodes = |s: &str| Packet::decode(Str::from(s.to_string())).is_ok();
    // JSON.parse has no depth limit (the built-in scanner stops at 128).
    let deep = format!(r#"2["deep",{}1{}]"#, "[".repeat(200), "]".repeat(200));
    for good in [
        r#"2["a",1,{"b":[true,null]}]"#,
        "2[1]",
        r#"2/admin,7 [ "a" ] "#,
        "3[]",
        r#"3["x"]"#,
        "0",
        r#"0{"sid":"x"}"#,
        r#"4"refused""#,
        r#"4{"message":"no"}"#,
        "1",
        r#"51-["b",{"_placeholder":true,"num":0}]"#,
        &deep,
    ] {
        assert!(decodes(good), "{good}");
    }
    for bad in [
        r#"2["a",]"#,
        "2[]",
        r#"2["connect"]"#,
        "2[null]",
        "2{}",
        r#"2"x""#,
        "2['a']",
        "3{}",
        "0[]",
        "0null",
        r#"0{"a":1}x"#,
        "1{}",
        "4[1]",
        r#"2["\x"]"#,
    ] {
        assert!(!decodes(bad), "{bad}");
    }

    let hs = Handshake::from_json(
        r#"{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":2e4}"#,
    )
    .expect("a handshake");
    assert_eq!(hs.sid, "s");
    assert_eq!(hs.upgrades, ["websocket"]);
    assert_eq!(hs.ping_interval, Duration::from_millis(25000));
    assert_eq!(hs.ping_timeout, Duration::from_millis(20000));
    assert_eq!(hs.max_payload, 1_000_000);
    let hs =
        Handshake::from_json(r#"{"pingTimeout":1,"maxPayload":5,"sid":"é\n","pingInterval":0}"#)
            .expect("a handshake");
    assert_eq!(
        (hs.sid.as_str(), hs.upgrades.len(), hs.max_payload),
        ("é\n", 0, 5)
    );
    for bad in [
        "[]",
        r#"{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#,
        r#"{"sid":1,"pingInterval":1,"pingTimeout":1}"#,
        r#"{"sid":"s","pingInterval":-1,"pingTimeout":1}"#,
        r#"{"sid":"s","pingInterval":1.5,"pingTimeout":1}"#,
        r#"{"sid":"s","pingInterval":1}"#,
        r#"{"sid":"s","upgrades":[1],"pingInterval":1,"pingTimeout":1}"#,
        r#"{"sid":"s","upgrades":"websocket","pingInterval":1,"pingTimeout":1}"#,
        r#"{"sid":"s","pingInterval":1,"pingTimeout":1,"maxPayload":18446744073709551616}"#,
        r#"{"sid":"s","pingInterval":1,"pingTimeout":1"#,
    ] {
        assert!(Handshake::from_json(bad).is_err(), "{bad}");
    }
}

/// sockeye-core's `host-base64`, on in this crate's wasm32 build: binary messages over
/// long-polling (`b` + base64) through the host's `atob`/`btoa`.
#[wasm_bindgen_test]
fn base64_is_coded_by_the_host() {
    sockeye_wasm::host::install();
    use sockeye_core::engine::packet::{Message, Packet};
    use sockeye_core::{Bytes, Str};

    let decode = |s: &str| Packet::decode_text(Str::from(s.to_string()));
    let all: Vec<u8> = (0..=255).collect();
    for bytes in [vec![], vec![1, 2, 3], vec![0xff; 4], all] {
        let packet = Packet::Message(Message::Binary(Bytes::from(bytes.clone())));
        let mut text = String::new();
        packet.encode_text_into(&mut text);
        assert_eq!(decode(&text), Ok(packet), "{text}");
    }
    let mut text = String::new();
    Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))).encode_text_into(&mut text);
    assert_eq!(text, "bAQIDBA==");
    for (wire, bytes) in [("bAQIDBA", &[1u8, 2, 3, 4][..]), ("bAQ==", &[1])] {
        assert_eq!(
            decode(wire),
            Ok(Packet::Message(Message::Binary(Bytes::from_static(bytes)))),
            "{wire}"
        );
    }
    for bad in ["bA", "bAQ=I", "b!!!!", "bAQIDBA=", "b€"] {
        assert!(decode(bad).is_err(), "{bad}");
    }
}

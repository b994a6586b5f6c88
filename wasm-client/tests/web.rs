//! The Rust side of the client in headless Chromium (wasm-bindgen-test): options read from
//! JavaScript objects, URLs, and a manager whose server is unreachable. The client against
//! real servers is tested end to end in `wasm-client/e2e/`.
#![cfg(target_arch = "wasm32")]

use core::time::Duration;
use js_sys::{Array, Function, Promise, JSON};
use sockeye_core::engine::Transport;
use sockeye_wasm::events;
use sockeye_wasm::options::client_config;
use sockeye_wasm::transport::Endpoint;
use sockeye_wasm::Manager;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn js(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

#[wasm_bindgen_test]
fn options_from_a_js_object() {
    let c = client_config(&js(r#"{"transports": ["websocket"], "upgrade": false,
        "reconnection": false, "reconnectionAttempts": 3, "reconnectionDelay": 10,
        "reconnectionDelayMax": 20, "randomizationFactor": 0, "timeout": 500,
        "ackTimeout": 50}"#));
    assert_eq!(c.engine.transports, vec![Transport::WebSocket]);
    assert!(!c.engine.upgrade);
    assert!(!c.reconnection);
    assert_eq!(c.backoff.max_attempts, 3);
    assert_eq!(c.backoff.min, Duration::from_millis(10));
    assert_eq!(c.backoff.max, Duration::from_millis(20));
    assert_eq!(c.backoff.jitter, 0.0);
    assert_eq!(c.connect_timeout, Duration::from_millis(500));
    assert_eq!(c.ack_timeout, Some(Duration::from_millis(50)));
}

#[wasm_bindgen_test]
fn wrong_or_missing_options_keep_the_defaults() {
    let c = client_config(&js(r#"{"transports": "polling", "timeout": "soon",
        "reconnectionAttempts": null, "randomizationFactor": 7}"#));
    assert_eq!(
        c.engine.transports,
        vec![Transport::Polling, Transport::WebSocket]
    );
    assert_eq!(c.connect_timeout, Duration::from_millis(20_000));
    assert_eq!(c.backoff.max_attempts, u32::MAX);
    assert_eq!(c.backoff.jitter, 1.0);
    let d = client_config(&JsValue::UNDEFINED);
    assert!(d.reconnection);
    assert_eq!(d.ack_timeout, None);
    // 0 reads as "no limit", as in socket.io-client (`opts.reconnectionAttempts || Infinity`).
    let zero = client_config(&js(r#"{"reconnectionAttempts": 0}"#));
    assert_eq!(zero.backoff.max_attempts, u32::MAX);
    // Infinity (socket.io-client's default for reconnectionAttempts) means unlimited.
    let inf = client_config(&js(r#"{"reconnectionAttempts": 1e999}"#));
    assert_eq!(inf.backoff.max_attempts, u32::MAX);
}

#[wasm_bindgen_test]
fn urls_for_both_transports() {
    let mut e = Endpoint::new("https://example.test/socket.io/?EIO=4&room=a");
    assert_eq!(
        e.polling_url(None),
        "https://example.test/socket.io/?EIO=4&room=a&transport=polling&t=1"
    );
    assert_eq!(
        e.polling_url(Some("ab-_C")),
        "https://example.test/socket.io/?EIO=4&room=a&transport=polling&t=2&sid=ab-_C"
    );
    assert_eq!(
        e.websocket_url(Some("a b")),
        "wss://example.test/socket.io/?EIO=4&room=a&transport=websocket&sid=a%20b"
    );
}

/// A manager whose server refuses connections reports `connect_error` (a transport error),
/// and nothing throws.
#[wasm_bindgen_test]
async fn unreachable_server_gives_connect_error() {
    let events = Array::new();
    let (done, resolve) = {
        let mut resolve = None;
        let p = Promise::new(&mut |res, _rej| resolve = Some(res));
        (p, resolve.expect("Promise calls its executor at once"))
    };
    let log = events.clone();
    let on = Closure::<dyn FnMut(u32, JsValue, JsValue)>::new(move |kind, nsp, a| {
        log.push(&Array::of3(&JsValue::from(kind), &nsp, &a));
        if kind == events::CONNECT_ERROR {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let on: Function = on.into_js_value().unchecked_into();
    let opts = js(r#"{"transports": ["polling"], "reconnection": false}"#);
    let m = Manager::new("http://127.0.0.1:9/socket.io/?EIO=4", &opts, 1.0, on);
    m.connect("/", None).expect("no auth, no error");
    assert!(
        m.connect("/x", Some("[1]".into())).is_err(),
        "auth must be an object"
    );
    JsFuture::from(done).await.expect("resolved");
    let first = Array::from(&events.get(0));
    assert_eq!(
        first.get(0).as_f64(),
        Some(f64::from(events::CONNECT_ERROR))
    );
    assert_eq!(first.get(1).as_string().as_deref(), Some("/"));
    assert_eq!(first.get(2).as_string().as_deref(), Some("transport error"));
    assert!(!m.connected("/"));
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

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
    let mut e = Endpoint::new("https://example.test", &js(r#"{"query": {"room": "a b"}}"#));
    assert_eq!(
        e.url(Transport::Polling, None),
        "https://example.test/socket.io/?room=a%20b&EIO=4&transport=polling&t=1"
    );
    assert_eq!(
        e.url(Transport::Polling, Some("ab-_C")),
        "https://example.test/socket.io/?room=a%20b&EIO=4&transport=polling&t=2&sid=ab-_C"
    );
    assert_eq!(
        e.url(Transport::WebSocket, Some("a b")),
        "wss://example.test/socket.io/?room=a%20b&EIO=4&transport=websocket&sid=a%20b"
    );
    e.configure(&js(
        r#"{"path": "/x/", "addTrailingSlash": false, "query": "k=v",
        "timestampRequests": true, "timestampParam": "ts"}"#,
    ));
    assert_eq!(
        e.url(Transport::WebSocket, None),
        "wss://example.test/x?k=v&EIO=4&transport=websocket&ts=3"
    );
}

#[wasm_bindgen(inline_js = "export function listener(done) { const l = { log: [] }; \
  for (const m of ['onOpen','onPing','onUpgrade','onClose','onOpenFailed','onConnect','onConnectError',\
  'onDisconnect','onEvent','onAck','onAckFailed','onSent','onReconnectAttempt','onReconnect',\
  'onReconnectError','onReconnectFailed']) l[m] = (...a) => { l.log.push([m, ...a]); if (m === 'onConnectError') done(); }; \
  l.onAuthRequest = (nsp) => { l.log.push(['onAuthRequest', nsp]); }; return l; }")]
extern "C" {
    fn listener(done: &Function) -> events::Listener;
}

/// A manager whose server refuses connections reports `onOpenFailed` and `onConnectError`
/// (socket.io-client's `xhr poll error`), and nothing throws.
#[wasm_bindgen_test]
async fn unreachable_server_gives_connect_error() {
    let (done, resolve) = {
        let mut resolve = None;
        let p = Promise::new(&mut |res, _rej| resolve = Some(res));
        (p, resolve.expect("Promise calls its executor at once"))
    };
    let l = listener(&resolve);
    let log: JsValue = js_sys::Reflect::get(&l, &"log".into()).expect("log");
    let opts = js(r#"{"transports": ["polling"], "reconnection": false}"#);
    let m = Manager::new("http://127.0.0.1:9", opts, 1.0, l);
    m.connect("/");
    JsFuture::from(done).await.expect("resolved");
    let log = Array::from(&log);
    let kinds: Vec<String> = log
        .iter()
        .map(|e| Array::from(&e).get(0).as_string().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["onOpenFailed", "onConnectError"]);
    let err = Array::from(&log.get(1));
    assert_eq!(err.get(1).as_string().as_deref(), Some("/"));
    assert_eq!(err.get(2).as_string().as_deref(), Some("xhr poll error"));
    assert!(!m.connected("/"));
    assert!(m.active("/"));
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

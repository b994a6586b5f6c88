//! Core events to JavaScript: the typed set a manager reports, one method of its
//! [`Listener`] per event (in `js/index.js`, the `Manager` class implements them).
//!
//! | method | when | arguments |
//! |---|---|---|
//! | `onOpen()` | the connection opened | |
//! | `onPing()` | the server pinged | |
//! | `onUpgrade(transport)` | moved to WebSocket | `"websocket"` |
//! | `onClose(reason, cause, context)` | the connection closed | reason, what the transport said (below) |
//! | `onOpenFailed(message, context)` | the connection could not open | `"xhr poll error"`, `"timeout"`, ... |
//! | `onConnect(nsp, sid, recovered)` | a namespace connected | |
//! | `onConnectError(nsp, message, data)` | a namespace could not connect | server refusal: `data` its raw JSON; otherwise `message` as in `onOpenFailed` |
//! | `onDisconnect(nsp, reason)` | a namespace disconnected | socket.io-client's reason |
//! | `onEvent(nsp, json, attachments, id)` | an event | raw JSON array, `Uint8Array[]`, ack id or `undefined` |
//! | `onAck(nsp, id, json, attachments)` | an ack arrived | |
//! | `onAckFailed(nsp, id, timedOut)` | an ack will not come | `true`: timeout, `false`: disconnected |
//! | `onSent(nsp, json, attachments)` | an emit buffered offline was sent | |
//! | `onReconnectAttempt(n)` / `onReconnect(n)` | a reconnection attempt starts / succeeded | attempt number |
//! | `onReconnectError()` / `onReconnectFailed()` | an attempt failed / reconnection gave up | |
//! | `onAuthRequest(nsp)` | `nsp` is about to send `CONNECT`: answer with `Manager.provideAuth` | |
//!
//! `cause` and `context` describe what the transport reported, in socket.io-client's words:
//! `"xhr poll error"` / `"xhr post error"` (context: the HTTP status, 0 for a network error),
//! `"websocket error"` (context: the browser's event), `"websocket connection closed"`
//! (context: the `CloseEvent`), `"transport closed by the server"`; `undefined` otherwise.
//! A listener that throws has its exception reported to the page (asynchronously), never
//! to the connection.

use js_sys::{Array, Uint8Array};
use sockeye_core::engine::CloseReason;
use sockeye_core::socket::client::{AckFailure, ConnectError, Event};
use sockeye_core::Bytes;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "export function sockeye_report(e) { setTimeout(() => { throw e; }); }")]
extern "C" {
    fn sockeye_report(e: JsValue);
}

#[wasm_bindgen]
extern "C" {
    /// The object receiving a manager's events (see the module documentation).
    pub type Listener;
    #[wasm_bindgen(method, catch, js_name = onOpen)]
    fn on_open(this: &Listener) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onPing)]
    fn on_ping(this: &Listener) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onUpgrade)]
    fn on_upgrade(this: &Listener, transport: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onClose)]
    fn on_close(
        this: &Listener,
        reason: &str,
        cause: Option<&str>,
        context: &JsValue,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onOpenFailed)]
    fn on_open_failed(this: &Listener, message: &str, context: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onConnect)]
    fn on_connect(this: &Listener, nsp: &str, sid: &str, recovered: bool) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onConnectError)]
    fn on_connect_error(
        this: &Listener,
        nsp: &str,
        message: &str,
        data: Option<&str>,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onDisconnect)]
    fn on_disconnect(this: &Listener, nsp: &str, reason: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onEvent)]
    fn on_event(
        this: &Listener,
        nsp: &str,
        json: &str,
        attachments: Array,
        id: Option<f64>,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onAck)]
    fn on_ack(
        this: &Listener,
        nsp: &str,
        id: f64,
        json: &str,
        attachments: Array,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onAckFailed)]
    fn on_ack_failed(this: &Listener, nsp: &str, id: f64, timed_out: bool) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onSent)]
    fn on_sent(this: &Listener, nsp: &str, json: &str, attachments: Array) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onReconnectAttempt)]
    fn on_reconnect_attempt(this: &Listener, attempt: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onReconnect)]
    fn on_reconnect(this: &Listener, attempts: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onReconnectError)]
    fn on_reconnect_error(this: &Listener) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onReconnectFailed)]
    fn on_reconnect_failed(this: &Listener) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = onAuthRequest)]
    fn on_auth_request(this: &Listener, nsp: &str) -> Result<(), JsValue>;
}

/// What the transport last reported: socket.io-client's words for it and its context.
pub type Cause = Option<(&'static str, JsValue)>;

fn attachments(list: Vec<Bytes>) -> Array {
    list.iter()
        .map(|b| JsValue::from(Uint8Array::from(&b[..])))
        .collect()
}

/// The message of a connection that could not open.
fn open_error(error: &ConnectError, cause: &Cause) -> &'static str {
    match (error, cause) {
        (ConnectError::Timeout, _) => "timeout",
        (ConnectError::Transport(CloseReason::ParseError), _) => "parse error",
        (_, Some((c, _))) => c,
        _ => "transport error",
    }
}

/// Hands `event` to `to`; `cause` is what the transport last reported (for close and
/// connection errors).
pub fn dispatch(to: &Listener, event: Event, cause: &Cause) {
    let context = cause
        .as_ref()
        .map_or(JsValue::UNDEFINED, |(_, c)| c.clone());
    let r = match event {
        Event::Open => to.on_open(),
        Event::Ping => to.on_ping(),
        Event::Upgrade => to.on_upgrade("websocket"),
        Event::Close(reason) => to.on_close(reason.as_str(), cause.as_ref().map(|c| c.0), &context),
        Event::OpenFailed(error) => to.on_open_failed(open_error(&error, cause), &context),
        Event::Connect {
            nsp,
            sid,
            recovered,
        } => to.on_connect(&nsp, &sid, recovered),
        Event::ConnectError { nsp, error } => match &error {
            ConnectError::Server(raw) => to.on_connect_error(&nsp, "", Some(raw)),
            _ => to.on_connect_error(&nsp, open_error(&error, cause), None),
        },
        Event::Disconnect { nsp, reason } => to.on_disconnect(&nsp, reason.as_str()),
        Event::Event {
            nsp,
            data,
            attachments: att,
            id,
        } => to.on_event(&nsp, &data, attachments(att), id.map(|id| id as f64)),
        Event::Ack {
            nsp,
            id,
            data,
            attachments: att,
        } => to.on_ack(&nsp, id as f64, &data, attachments(att)),
        Event::AckFailed { nsp, id, reason } => {
            to.on_ack_failed(&nsp, id as f64, reason == AckFailure::Timeout)
        }
        Event::Sent {
            nsp,
            data,
            attachments: att,
        } => to.on_sent(&nsp, &data, attachments(att)),
        Event::ReconnectAttempt(n) => to.on_reconnect_attempt(n),
        Event::Reconnect(n) => to.on_reconnect(n),
        Event::ReconnectError => to.on_reconnect_error(),
        Event::ReconnectFailed => to.on_reconnect_failed(),
        Event::AuthRequest { nsp } => to.on_auth_request(&nsp),
        _ => Ok(()),
    };
    if let Err(e) = r {
        sockeye_report(e);
    }
}

//! Core events to JavaScript: each [`Event`] becomes one call of the manager's callback,
//! `on(kind, nsp, a, b, c)`, with `kind` one of the constants below.
//!
//! | kind | event | `a` | `b` | `c` |
//! |---|---|---|---|---|
//! | [`OPEN`] | the connection opened | | | |
//! | [`UPGRADE`] | moved to WebSocket | | | |
//! | [`CONNECT`] | `nsp` connected | sid | recovered (bool) | |
//! | [`CONNECT_ERROR`] | `nsp` could not connect | message | raw JSON of a server refusal | |
//! | [`DISCONNECT`] | `nsp` disconnected | reason | | |
//! | [`EVENT`] | an event | raw JSON array | attachments (`Uint8Array[]`) | ack id or `undefined` |
//! | [`ACK`] | an ack arrived | ack id | raw JSON array | attachments |
//! | [`ACK_FAILED`] | an ack will not come | ack id | `"timeout"` / `"disconnected"` | |
//! | [`CLOSE`] | the connection closed | reason | | |
//! | [`RECONNECT_ATTEMPT`] | a reconnection attempt starts | attempt | | |
//! | [`RECONNECT`] | reconnected | attempts | | |
//! | [`RECONNECT_ERROR`] | a reconnection attempt failed | | | |
//! | [`RECONNECT_FAILED`] | reconnection gave up | | | |
//! | [`AUTH_REQUEST`] | `nsp` is about to connect: answer with `Manager.provide_auth` | | | |

use js_sys::{Array, Function, Uint8Array};
use sockeye_core::engine::CloseReason;
use sockeye_core::socket::client::{AckFailure, ConnectError, Event};
use sockeye_core::Bytes;
use wasm_bindgen::JsValue;

/// The connection opened.
pub const OPEN: u32 = 0;
/// The connection moved to WebSocket.
pub const UPGRADE: u32 = 1;
/// A namespace connected.
pub const CONNECT: u32 = 2;
/// A namespace could not connect.
pub const CONNECT_ERROR: u32 = 3;
/// A namespace disconnected.
pub const DISCONNECT: u32 = 4;
/// An event from the server.
pub const EVENT: u32 = 5;
/// An ack from the server.
pub const ACK: u32 = 6;
/// An ack will not come.
pub const ACK_FAILED: u32 = 7;
/// The connection closed.
pub const CLOSE: u32 = 8;
/// A reconnection attempt starts.
pub const RECONNECT_ATTEMPT: u32 = 9;
/// Reconnected.
pub const RECONNECT: u32 = 10;
/// A reconnection attempt failed.
pub const RECONNECT_ERROR: u32 = 11;
/// Reconnection gave up.
pub const RECONNECT_FAILED: u32 = 12;
/// A namespace with an auth callback is about to connect.
pub const AUTH_REQUEST: u32 = 13;

fn attachments(list: Vec<Bytes>) -> JsValue {
    list.iter()
        .map(|b| JsValue::from(Uint8Array::from(&b[..])))
        .collect::<Array>()
        .into()
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

fn close_message(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::TransportError | CloseReason::TransportClose | CloseReason::PeerClose => {
            "transport error"
        }
        other => other.as_str(),
    }
}

/// Calls `on` for `event`. A callback that throws is ignored (as a listener error would be
/// reported by the browser, not by the connection).
pub fn dispatch(on: &Function, event: Event) {
    let u = JsValue::UNDEFINED;
    let (kind, nsp, a, b, c) = match event {
        Event::Open => (OPEN, u.clone(), u.clone(), u.clone(), u),
        Event::Upgrade => (UPGRADE, u.clone(), u.clone(), u.clone(), u),
        Event::Connect {
            nsp,
            sid,
            recovered,
        } => (CONNECT, s(&nsp), s(&sid), JsValue::from_bool(recovered), u),
        Event::ConnectError { nsp, error } => {
            let (message, raw) = match error {
                ConnectError::Server(raw) => (s("server refused"), s(&raw)),
                ConnectError::Transport(reason) => (s(close_message(reason)), u.clone()),
                ConnectError::Timeout => (s("timeout"), u.clone()),
                _ => (s("connect error"), u.clone()),
            };
            (CONNECT_ERROR, s(&nsp), message, raw, u)
        }
        Event::Disconnect { nsp, reason } => {
            (DISCONNECT, s(&nsp), s(reason.as_str()), u.clone(), u)
        }
        Event::Event {
            nsp,
            data,
            attachments: att,
            id,
        } => (
            EVENT,
            s(&nsp),
            s(&data),
            attachments(att),
            id.map_or(u, |id| JsValue::from_f64(id as f64)),
        ),
        Event::Ack {
            nsp,
            id,
            data,
            attachments: att,
        } => (
            ACK,
            s(&nsp),
            JsValue::from_f64(id as f64),
            s(&data),
            attachments(att),
        ),
        Event::AckFailed { nsp, id, reason } => {
            let why = if reason == AckFailure::Timeout {
                "timeout"
            } else {
                "disconnected"
            };
            (ACK_FAILED, s(&nsp), JsValue::from_f64(id as f64), s(why), u)
        }
        Event::Close(reason) => (CLOSE, u.clone(), s(reason.as_str()), u.clone(), u),
        Event::ReconnectAttempt(n) => {
            (RECONNECT_ATTEMPT, u.clone(), JsValue::from(n), u.clone(), u)
        }
        Event::Reconnect(n) => (RECONNECT, u.clone(), JsValue::from(n), u.clone(), u),
        Event::ReconnectError => (RECONNECT_ERROR, u.clone(), u.clone(), u.clone(), u),
        Event::ReconnectFailed => (RECONNECT_FAILED, u.clone(), u.clone(), u.clone(), u),
        Event::AuthRequest { nsp } => (AUTH_REQUEST, s(&nsp), u.clone(), u.clone(), u),
        _ => return,
    };
    let args = Array::of5(&JsValue::from(kind), &nsp, &a, &b, &c);
    let _ = on.apply(&JsValue::NULL, &args);
}

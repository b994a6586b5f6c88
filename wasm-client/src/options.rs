//! Manager options, read from the JavaScript options object (socket.io-client's names).

use crate::transport::polling::RequestOptions;
use core::time::Duration;
use js_sys::{Array, Reflect};
use sockeye_core::engine::client::Config as EngineConfig;
use sockeye_core::engine::Transport;
use sockeye_core::socket::client::Config;
use wasm_bindgen::prelude::*;

fn get(opts: &JsValue, key: &str) -> Option<JsValue> {
    if !opts.is_object() {
        return None;
    }
    Reflect::get(opts, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn number(opts: &JsValue, key: &str) -> Option<f64> {
    get(opts, key)
        .and_then(|v| v.as_f64())
        .filter(|n| !n.is_nan())
}

/// A boolean option, if set.
pub fn flag(opts: &JsValue, key: &str) -> Option<bool> {
    get(opts, key).and_then(|v| v.as_bool())
}

fn millis(opts: &JsValue, key: &str) -> Option<Duration> {
    number(opts, key).map(|n| Duration::from_millis(n.clamp(0.0, u32::MAX as f64) as u64))
}

/// The core's client configuration from `transports`, `upgrade`, `reconnection`,
/// `reconnectionAttempts`, `reconnectionDelay`, `reconnectionDelayMax`,
/// `randomizationFactor`, `timeout` and `ackTimeout`; anything missing or of the wrong type
/// keeps socket.io-client's default.
pub fn client_config(opts: &JsValue) -> Config {
    let mut config = Config::default();
    if let Some(list) = get(opts, "transports").filter(Array::is_array) {
        let transports: Vec<Transport> = Array::from(&list)
            .iter()
            .filter_map(|t| t.as_string().and_then(|t| Transport::parse(&t)))
            .collect();
        if !transports.is_empty() {
            config.engine = EngineConfig::with_transports(&transports);
        }
    }
    if let Some(upgrade) = flag(opts, "upgrade") {
        config.engine.upgrade = upgrade;
    }
    if let Some(r) = flag(opts, "reconnection") {
        config.reconnection = r;
    }
    if let Some(n) = number(opts, "reconnectionAttempts") {
        // As socket.io-client's `opts.reconnectionAttempts || Infinity`: 0 means no limit.
        config.backoff.max_attempts = if n == 0.0 {
            u32::MAX
        } else {
            n.clamp(0.0, u32::MAX as f64) as u32
        };
    }
    if let Some(d) = millis(opts, "reconnectionDelay") {
        config.backoff.min = d;
    }
    if let Some(d) = millis(opts, "reconnectionDelayMax") {
        config.backoff.max = d;
    }
    if let Some(j) = number(opts, "randomizationFactor") {
        config.backoff.jitter = j.clamp(0.0, 1.0);
    }
    if let Some(d) = millis(opts, "timeout") {
        config.connect_timeout = d;
    }
    if let Some(d) = millis(opts, "ackTimeout") {
        config.ack_timeout = Some(d);
    }
    config
}

/// `withCredentials` and `extraHeaders` (headers go on polling requests only: browsers set
/// no headers on a WebSocket).
pub fn request_options(opts: &JsValue) -> RequestOptions {
    RequestOptions {
        with_credentials: flag(opts, "withCredentials").unwrap_or(false),
        headers: get(opts, "extraHeaders").unwrap_or(JsValue::UNDEFINED),
    }
}

//! The two Engine.IO transports as the browser offers them: HTTP long-polling over `fetch`
//! ([`polling`]) and `WebSocket` ([`websocket`]). Both only carry bytes the core produced.
//!
//! [`Endpoint`] is the one place request URLs are built.

pub mod polling;
pub mod websocket;

use js_sys::{encode_uri_component, Array, Object, Reflect};
use sockeye_core::engine::Transport;
use wasm_bindgen::prelude::*;

/// Where the server is, and how socket.io-client spells its request URLs.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `http(s)://host[:port]`.
    origin: String,
    /// The path and query every request carries: `/socket.io/?user=query&EIO=4`.
    base: String,
    /// `timestampParam` on polling requests (`None` with `timestampRequests: false`).
    poll_stamp: Option<String>,
    /// `timestampParam` on WebSocket URLs (only with `timestampRequests: true`).
    ws_stamp: Option<String>,
    counter: u32,
}

fn read(opts: &JsValue, key: &str) -> JsValue {
    if opts.is_object() {
        Reflect::get(opts, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

impl Endpoint {
    /// An endpoint on `origin` (`http(s)://host[:port]`, or `ws(s)://`), its path and
    /// query read from `opts` by [`Endpoint::configure`].
    pub fn new(origin: &str, opts: &JsValue) -> Endpoint {
        let origin = match origin.strip_prefix("ws") {
            Some(rest) => ["http", rest].concat(),
            None => origin.to_owned(),
        };
        let mut e = Endpoint {
            origin,
            base: String::new(),
            poll_stamp: None,
            ws_stamp: None,
            counter: 0,
        };
        e.configure(opts);
        e
    }

    /// Reads `path` (default `/socket.io`), `addTrailingSlash` (default true), `query` (an
    /// object, or a string), `timestampRequests` and `timestampParam` (default `t`) from the
    /// options object, as engine.io-client does for every new connection: a `query` changed
    /// since is used from the next (re)connection on.
    pub fn configure(&mut self, opts: &JsValue) {
        let path = read(opts, "path").as_string();
        let path = path.as_deref().unwrap_or("/socket.io");
        let mut base = String::from(path.strip_suffix('/').unwrap_or(path));
        if read(opts, "addTrailingSlash").as_bool() != Some(false) {
            base.push('/');
        }
        base.push('?');
        let query = read(opts, "query");
        if let Some(q) = query.as_string() {
            let q = q.strip_prefix('?').unwrap_or(&q);
            if !q.is_empty() {
                base.push_str(q);
                base.push('&');
            }
        } else if query.is_object() {
            for entry in Object::entries(query.unchecked_ref()).iter() {
                let kv = Array::from(&entry);
                let v = kv.get(1);
                if v.is_undefined() {
                    continue;
                }
                base.push_str(&String::from(encode_uri_component(
                    &kv.get(0).as_string().unwrap_or_default(),
                )));
                base.push('=');
                let v = v
                    .as_string()
                    .unwrap_or_else(|| String::from(js_sys::JsString::from(v)));
                base.push_str(&String::from(encode_uri_component(&v)));
                base.push('&');
            }
        }
        base.push_str("EIO=4");
        self.base = base;
        let stamps = read(opts, "timestampRequests").as_bool();
        let param = read(opts, "timestampParam")
            .as_string()
            .unwrap_or_else(|| "t".into());
        self.poll_stamp = (stamps != Some(false)).then(|| param.clone());
        self.ws_stamp = (stamps == Some(true)).then_some(param);
    }

    /// The URL of a request on `transport`: a polling request (handshake when `sid` is
    /// `None`) or a WebSocket (handshake, or upgrade of session `sid`).
    pub fn url(&mut self, transport: Transport, sid: Option<&str>) -> String {
        let ws = transport == Transport::WebSocket;
        let origin = if ws {
            [
                "ws",
                self.origin.strip_prefix("http").unwrap_or(&self.origin),
            ]
            .concat()
        } else {
            self.origin.clone()
        };
        let mut url = [&origin, &self.base, "&transport=", transport.as_str()].concat();
        if let Some(param) = if ws { &self.ws_stamp } else { &self.poll_stamp } {
            self.counter = self.counter.wrapping_add(1);
            url.push('&');
            url.push_str(param);
            url.push('=');
            sockeye_core::decimal::push(&mut url, u64::from(self.counter));
        }
        if let Some(sid) = sid {
            url.push_str("&sid=");
            url.push_str(&String::from(encode_uri_component(sid)));
        }
        url
    }
}

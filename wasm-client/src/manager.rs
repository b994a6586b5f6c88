//! [`Manager`]: one Socket.IO connection (the core's [`Client`]) with its transports and its
//! timer, exported to JavaScript.
//!
//! Every entry point — a method call from JavaScript, a fetch answer, a WebSocket event, the
//! timer — feeds the core, then [`pump`]s: performs the core's transmits, re-arms the timer
//! at the core's next deadline and hands the core's events to the JavaScript callback. The
//! callback runs with no borrow held, so listeners may call back into the manager.

use crate::events;
use crate::options;
use crate::time::{now, Timer};
use crate::transport::polling::{self, RequestOptions};
use crate::transport::websocket::{Ws, WsEvent};
use crate::transport::Endpoint;
use core::time::Duration;
use js_sys::{Array, Function, Uint8Array};
use sockeye_core::engine::client::Transmit;
use sockeye_core::socket::client::{Client, EmitError};
use sockeye_core::{Bytes, Str};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

struct Inner {
    client: Client,
    endpoint: Endpoint,
    request: RequestOptions,
    on_event: Function,
    /// The current WebSocket and its serial number (events of older ones are dropped).
    ws: Option<(u32, Ws)>,
    ws_serial: u32,
    timer: Option<Timer>,
    /// The JS function the timer calls (kept alive here).
    on_timer: Option<Closure<dyn FnMut()>>,
    this: Weak<RefCell<Inner>>,
}

/// A Socket.IO connection multiplexing namespaces (socket.io-client's `Manager` without
/// the JavaScript conveniences, which `js/index.js` adds).
#[wasm_bindgen]
pub struct Manager {
    inner: Rc<RefCell<Inner>>,
}

fn bytes_list(list: &Array) -> Vec<Bytes> {
    list.iter()
        .map(|b| Bytes::from(Uint8Array::new(&b).to_vec()))
        .collect()
}

fn emit_error(e: EmitError) -> JsValue {
    JsValue::from_str(match e {
        EmitError::BufferFull => "offline buffer full",
        _ => "namespace is not active",
    })
}

#[wasm_bindgen]
impl Manager {
    /// A manager for `url`, the polling base URL with the query every request carries
    /// (`http://host:port/socket.io/?EIO=4&...`). `opts` is socket.io-client's options
    /// object (see [`options`]); `seed` feeds the reconnection jitter; `on_event` receives
    /// every event (see [`events`]). Nothing connects until [`Manager::connect`].
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, opts: &JsValue, seed: f64, on_event: Function) -> Manager {
        let inner = Rc::new_cyclic(|this: &Weak<RefCell<Inner>>| {
            let weak = this.clone();
            let on_timer = Closure::<dyn FnMut()>::new(move || {
                if let Some(rc) = weak.upgrade() {
                    {
                        let mut me = rc.borrow_mut();
                        me.timer = None;
                        me.client.handle_timeout(now());
                    }
                    pump(&rc);
                }
            });
            RefCell::new(Inner {
                client: Client::new(options::client_config(opts), seed as u64),
                endpoint: Endpoint::new(url),
                request: options::request_options(opts),
                on_event,
                ws: None,
                ws_serial: 0,
                timer: None,
                on_timer: Some(on_timer),
                this: this.clone(),
            })
        });
        Manager { inner }
    }

    /// Opens namespace `nsp` (connecting first if needed); `auth` is a JSON object text.
    /// Throws if `auth` is not a JSON object.
    pub fn connect(&self, nsp: &str, auth: Option<String>) -> Result<(), JsValue> {
        let r = self
            .inner
            .borrow_mut()
            .client
            .connect(now(), nsp, auth.map(Str::from));
        pump(&self.inner);
        r.map_err(|_| JsValue::from_str("auth must be a JSON object"))
    }

    /// Opens namespace `nsp` whose auth comes from a callback: before every `CONNECT` (first
    /// connection and each reconnection) an `AUTH_REQUEST` event asks for it, answered with
    /// [`Manager::provide_auth`].
    pub fn connect_with_auth_request(&self, nsp: &str) {
        self.inner
            .borrow_mut()
            .client
            .connect_with_auth_request(now(), nsp);
        pump(&self.inner);
    }

    /// Answers an `AUTH_REQUEST` for `nsp` with `auth` (a JSON object text) and sends the
    /// `CONNECT`. Throws if `auth` is not a JSON object.
    pub fn provide_auth(&self, nsp: &str, auth: Option<String>) -> Result<(), JsValue> {
        let r = self
            .inner
            .borrow_mut()
            .client
            .provide_auth(nsp, auth.map(Str::from));
        pump(&self.inner);
        r.map_err(|_| JsValue::from_str("auth must be a JSON object"))
    }

    /// Leaves namespace `nsp`; the connection closes when no namespace is left.
    pub fn disconnect(&self, nsp: &str) {
        self.inner.borrow_mut().client.disconnect(nsp);
        pump(&self.inner);
    }

    /// Leaves every namespace and closes the connection.
    pub fn close(&self) {
        self.inner.borrow_mut().client.close();
        pump(&self.inner);
    }

    /// Emits `data` (a JSON array text, `["event", ...args]`, with placeholders for the
    /// `Uint8Array` `attachments`) on `nsp`, buffered while offline. With `ack`, asks for an
    /// ack (timeout in ms, negative for the default) and returns its id.
    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        attachments: &Array,
        ack: bool,
        timeout: f64,
    ) -> Result<Option<f64>, JsValue> {
        let att = bytes_list(attachments);
        let r = {
            let mut me = self.inner.borrow_mut();
            if ack {
                let t = (timeout >= 0.0).then(|| Duration::from_millis(timeout as u64));
                me.client
                    .emit_with_ack(now(), nsp, Str::from(data), att, t)
                    .map(|id| Some(id as f64))
            } else {
                me.client.emit(nsp, Str::from(data), att).map(|_| None)
            }
        };
        pump(&self.inner);
        r.map_err(emit_error)
    }

    /// Emits only if `nsp` is connected now; returns whether it was sent.
    #[wasm_bindgen(js_name = emitVolatile)]
    pub fn emit_volatile(&self, nsp: &str, data: String, attachments: &Array) -> bool {
        let sent = self.inner.borrow_mut().client.emit_volatile(
            nsp,
            Str::from(data),
            bytes_list(attachments),
        );
        pump(&self.inner);
        sent
    }

    /// Answers the server's event `id` on `nsp`.
    pub fn ack(
        &self,
        nsp: &str,
        id: f64,
        data: String,
        attachments: &Array,
    ) -> Result<(), JsValue> {
        let r = self.inner.borrow_mut().client.ack(
            nsp,
            id as u64,
            Str::from(data),
            bytes_list(attachments),
        );
        pump(&self.inner);
        r.map_err(emit_error)
    }

    /// Whether `nsp` is connected.
    pub fn connected(&self, nsp: &str) -> bool {
        self.inner.borrow().client.is_connected(nsp)
    }

    /// The socket id in `nsp`, while connected.
    pub fn id(&self, nsp: &str) -> Option<String> {
        self.inner
            .borrow()
            .client
            .sid(nsp)
            .map(|s| s.as_str().to_owned())
    }

    /// The current transport name (`"polling"` / `"websocket"`), while a connection exists.
    pub fn transport(&self) -> Option<String> {
        self.inner
            .borrow()
            .client
            .engine()
            .map(|e| e.transport().as_str().to_owned())
    }
}

/// Performs transmits, re-arms the timer and dispatches events until the core is quiet.
fn pump(rc: &Rc<RefCell<Inner>>) {
    loop {
        let (events, on) = {
            let mut me = rc.borrow_mut();
            me.transmit();
            me.arm_timer();
            let mut events = Vec::new();
            while let Some(e) = me.client.poll_event() {
                events.push(e);
            }
            (events, me.on_event.clone())
        };
        if events.is_empty() {
            return;
        }
        for e in events {
            events::dispatch(&on, e);
        }
    }
}

impl Inner {
    fn transmit(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            let generation = self.client.generation();
            match t {
                Transmit::PollGet { sid } => self.poll(generation, sid, None),
                Transmit::PollPost { sid, body } => self.poll(generation, Some(sid), Some(body)),
                Transmit::WsOpen { sid } => self.open_ws(sid),
                Transmit::Ws(frame) => {
                    if let Some((_, ws)) = &self.ws {
                        ws.send(&frame);
                    }
                }
                Transmit::CloseWs => {
                    if let Some((_, ws)) = self.ws.take() {
                        ws.close();
                    }
                }
                _ => {}
            }
        }
    }

    fn poll(&mut self, generation: u64, sid: Option<Str>, body: Option<String>) {
        let url = self.endpoint.polling_url(sid.as_deref());
        let post = body.is_some();
        let weak = self.this.clone();
        polling::request(&url, body, &self.request, move |text| {
            let Some(rc) = weak.upgrade() else { return };
            {
                let mut me = rc.borrow_mut();
                if me.client.generation() != generation {
                    return;
                }
                let now = now();
                match text {
                    // A decode error closes the session; the core reports it as events.
                    Some(text) if !post => {
                        let _ = me.client.handle_poll_response(now, Str::from(text));
                    }
                    Some(_) => me.client.handle_post_done(now),
                    None => me.client.handle_poll_error(now),
                }
            }
            pump(&rc);
        });
    }

    fn open_ws(&mut self, sid: Option<Str>) {
        if let Some((_, old)) = self.ws.take() {
            old.close();
        }
        self.ws_serial = self.ws_serial.wrapping_add(1);
        let serial = self.ws_serial;
        let weak = self.this.clone();
        let url = self.endpoint.websocket_url(sid.as_deref());
        let opened = Ws::open(&url, move |event| {
            let Some(rc) = weak.upgrade() else { return };
            {
                let mut me = rc.borrow_mut();
                if me.ws.as_ref().map(|(s, _)| *s) != Some(serial) {
                    return;
                }
                let now = now();
                match event {
                    WsEvent::Open => me.client.handle_ws_open(now),
                    WsEvent::Frame(frame) => {
                        let _ = me.client.handle_ws_frame(now, frame);
                    }
                    WsEvent::Closed => {
                        me.ws = None;
                        me.client.handle_ws_closed(now);
                    }
                }
            }
            pump(&rc);
        });
        match opened {
            Ok(ws) => self.ws = Some((serial, ws)),
            // An unusable URL: report it as a closed socket (the loop in `transmit` goes on).
            Err(_) => self.client.handle_ws_closed(now()),
        }
    }

    fn arm_timer(&mut self) {
        let want = self.client.poll_timeout();
        if self.timer.as_ref().map(|t| t.at) == want {
            return;
        }
        self.timer = match (want, &self.on_timer) {
            (Some(at), Some(f)) => Some(Timer::start(f.as_ref().unchecked_ref(), at)),
            _ => None,
        };
    }
}

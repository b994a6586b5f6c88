//! [`Manager`]: one Socket.IO connection (the core's [`Client`]) with its transports and its
//! timer, exported to JavaScript.
//!
//! Every entry point — a method call from JavaScript, a fetch answer, a WebSocket event, the
//! timer — feeds the core, then [`pump`]s: performs the core's transmits, re-arms the timer
//! at the core's next deadline and hands the core's events to the JavaScript callback. The
//! callback runs with no borrow held, so listeners may call back into the manager.

use crate::events::{self, Cause, Listener};
use crate::options;
use crate::time::{now, Timer};
use crate::transport::polling::{self, RequestOptions};
use crate::transport::websocket::{Ws, WsEvent};
use crate::transport::Endpoint;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use core::time::Duration;
use js_sys::{Array, Uint8Array};
use sockeye_core::engine::client::Transmit;
use sockeye_core::engine::Transport;
use sockeye_core::socket::client::{Client, EmitError, Event};
use sockeye_core::{Bytes, Str};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

struct Inner {
    client: Client,
    endpoint: Endpoint,
    request: RequestOptions,
    /// The options object (read again for every new connection: `query`, `path`, ...).
    opts: JsValue,
    /// The generation the endpoint was configured for.
    endpoint_generation: u64,
    /// The configured transports (`rememberUpgrade` may put WebSocket first).
    transports: Vec<Transport>,
    remember_upgrade: bool,
    listener: Listener,
    /// What the transport last reported, for the events it causes.
    cause: Cause,
    /// The current WebSocket and its serial number (events of older ones are dropped).
    ws: Option<(u32, Ws)>,
    ws_serial: u32,
    timer: Option<Timer>,
    /// The JS function the timer calls (kept alive here).
    on_timer: Option<Closure<dyn FnMut()>>,
    this: Weak<RefCell<Inner>>,
}

/// engine.io-client's `Socket.priorWebsocketSuccess`, shared by every manager of the page:
/// whether the last connection that tried WebSocket got it (read with `rememberUpgrade`).
static PRIOR_WEBSOCKET: AtomicBool = AtomicBool::new(false);

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
    /// A manager for the server at `origin` (`http(s)://host[:port]`); `opts` is
    /// socket.io-client's options object (see [`options`] and [`Endpoint::configure`]),
    /// read again for every new connection; `seed` feeds the reconnection jitter;
    /// `listener` receives every event (see [`events`]). Nothing connects until
    /// [`Manager::connect`] or [`Manager::open`].
    #[wasm_bindgen(constructor)]
    pub fn new(origin: &str, opts: JsValue, seed: f64, listener: Listener) -> Manager {
        let inner = Rc::new_cyclic(|this: &Weak<RefCell<Inner>>| {
            let weak = this.clone();
            let on_timer = Closure::<dyn FnMut()>::new(move || {
                if let Some(rc) = weak.upgrade() {
                    {
                        let mut me = rc.borrow_mut();
                        me.timer = None;
                        me.prefer_transport();
                        me.client.handle_timeout(now());
                    }
                    pump(&rc);
                }
            });
            let config = options::client_config(&opts);
            RefCell::new(Inner {
                transports: config.engine.transports.clone(),
                client: Client::new(config, seed as u64),
                endpoint: Endpoint::new(origin, &opts),
                endpoint_generation: 0,
                request: options::request_options(&opts),
                remember_upgrade: options::flag(&opts, "rememberUpgrade") == Some(true),
                opts,
                listener,
                cause: None,
                ws: None,
                ws_serial: 0,
                timer: None,
                on_timer: Some(on_timer),
                this: this.clone(),
            })
        });
        Manager { inner }
    }

    /// Opens namespace `nsp` (connecting first if needed; again if the connection gave up).
    /// Before every `CONNECT` (first connection and each reconnection) `onAuthRequest` asks
    /// for its auth, answered with [`Manager::provide_auth`].
    pub fn connect(&self, nsp: &str) {
        {
            let mut me = self.inner.borrow_mut();
            me.prefer_transport();
            me.client.connect_with_auth_request(now(), nsp);
        }
        pump(&self.inner);
    }

    /// Opens the connection if there is none (socket.io-client's `manager.open()`).
    pub fn open(&self) {
        {
            let mut me = self.inner.borrow_mut();
            me.prefer_transport();
            me.client.open(now());
        }
        pump(&self.inner);
    }

    /// Answers `onAuthRequest` for `nsp` with `auth` (a JSON object text) and sends the
    /// `CONNECT`. Throws if `auth` is not a JSON object.
    #[wasm_bindgen(js_name = provideAuth)]
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

    /// Closes the connection, keeping the namespaces, with no reconnection
    /// (socket.io-client's `manager.close()`).
    pub fn close(&self) {
        self.inner.borrow_mut().client.close_connection();
        pump(&self.inner);
    }

    /// Applies `opts` again (the reconnection and timeout options; socket.io-client's
    /// `manager.reconnectionDelay(ms)` and the other setters).
    pub fn reconfigure(&self, opts: &JsValue) {
        {
            let mut me = self.inner.borrow_mut();
            let config = options::client_config(opts);
            let on = config.reconnection;
            me.transports = config.engine.transports.clone();
            *me.client.config_mut() = config;
            me.client.set_reconnection(on);
        }
        pump(&self.inner);
    }

    /// Emits `data` (a JSON array text, `["event", ...args]`, with placeholders for the
    /// `Uint8Array` `attachments`) on `nsp`, buffered while offline (dropped instead if
    /// `volatile`). With `ack`, asks for an ack (timeout in ms, negative for the default)
    /// and returns its id. Throws `offline buffer full` when the namespace's offline buffer
    /// (1,024 packets) is full.
    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        attachments: &Array,
        ack: bool,
        timeout: f64,
        volatile: bool,
    ) -> Result<Option<f64>, JsValue> {
        let att = bytes_list(attachments);
        let data = Str::from(data);
        let r = {
            let mut me = self.inner.borrow_mut();
            let t = (timeout >= 0.0).then(|| Duration::from_millis(timeout as u64));
            match (ack, volatile) {
                (true, false) => me
                    .client
                    .emit_with_ack(now(), nsp, data, att, t)
                    .map(|id| Some(id as f64)),
                (true, true) => me
                    .client
                    .emit_volatile_with_ack(now(), nsp, data, att, t)
                    .map(|(id, _)| Some(id as f64)),
                (false, false) => me.client.emit(nsp, data, att).map(|_| None),
                (false, true) => {
                    me.client.emit_volatile(nsp, data, att);
                    Ok(None)
                }
            }
        };
        pump(&self.inner);
        r.map_err(emit_error)
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

    /// Whether `nsp` is open: connected, or connecting or waiting to reconnect.
    pub fn active(&self, nsp: &str) -> bool {
        self.inner.borrow().client.is_active(nsp)
    }

    /// The socket id in `nsp`, while connected.
    pub fn id(&self, nsp: &str) -> Option<String> {
        self.inner
            .borrow()
            .client
            .sid(nsp)
            .map(|s| s.as_str().to_owned())
    }

    /// The Engine.IO session id, while a connection is open.
    pub fn sid(&self) -> Option<String> {
        self.inner
            .borrow()
            .client
            .engine()
            .and_then(|e| e.sid())
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
        let (events, listener, cause) = {
            let mut me = rc.borrow_mut();
            me.transmit();
            me.arm_timer();
            let mut events = Vec::new();
            while let Some(e) = me.client.poll_event() {
                match e {
                    Event::Upgrade => PRIOR_WEBSOCKET.store(true, Relaxed),
                    Event::Open => PRIOR_WEBSOCKET.store(
                        me.client.engine().map(|e| e.transport()) == Some(Transport::WebSocket),
                        Relaxed,
                    ),
                    _ => {}
                }
                events.push(e);
            }
            let cause = if events.is_empty() {
                None
            } else {
                me.cause.take()
            };
            (
                events,
                me.listener.clone().unchecked_into::<Listener>(),
                cause,
            )
        };
        if events.is_empty() {
            return;
        }
        for e in events {
            events::dispatch(&listener, e, &cause);
        }
    }
}

impl Inner {
    /// `rememberUpgrade`: the next connection starts on WebSocket if the last one got it.
    fn prefer_transport(&mut self) {
        let mut transports = self.transports.clone();
        if self.remember_upgrade && PRIOR_WEBSOCKET.load(Relaxed) {
            if let Some(i) = transports.iter().position(|t| *t == Transport::WebSocket) {
                transports.remove(i);
                transports.insert(0, Transport::WebSocket);
            }
        }
        self.client.config_mut().engine.transports = transports;
    }

    fn transmit(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            let generation = self.client.generation();
            if generation != self.endpoint_generation {
                // A new connection: the options' query and path as they are now.
                self.endpoint_generation = generation;
                self.endpoint.configure(&self.opts);
            }
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
        let url = self.endpoint.url(Transport::Polling, sid.as_deref());
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
                    Ok(text) if !post => {
                        let _ = me.client.handle_poll_response(now, Str::from(text));
                    }
                    Ok(_) => me.client.handle_post_done(now),
                    Err(status) => {
                        let what = if post {
                            "xhr post error"
                        } else {
                            "xhr poll error"
                        };
                        me.cause = Some((what, status));
                        me.client.handle_poll_error(now);
                    }
                }
            }
            pump(&rc);
        });
    }

    fn open_ws(&mut self, sid: Option<Str>) {
        if let Some((_, old)) = self.ws.take() {
            old.close();
        }
        if sid.is_some() {
            // An upgrade probe: as engine.io-client, forget the last success until it works.
            PRIOR_WEBSOCKET.store(false, Relaxed);
        }
        self.ws_serial = self.ws_serial.wrapping_add(1);
        let serial = self.ws_serial;
        let weak = self.this.clone();
        let url = self.endpoint.url(Transport::WebSocket, sid.as_deref());
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
                    WsEvent::Error(e) => {
                        if let Some((_, ws)) = me.ws.take() {
                            ws.close();
                        }
                        me.cause = Some(("websocket error", e));
                        me.client.handle_ws_error(now);
                    }
                    WsEvent::Closed(e) => {
                        me.ws = None;
                        me.cause = Some(("websocket connection closed", e));
                        me.client.handle_ws_closed(now);
                    }
                }
            }
            pump(&rc);
        });
        match opened {
            Ok(ws) => self.ws = Some((serial, ws)),
            // An unusable URL: report it as a failed socket (the loop in `transmit` goes on).
            Err(e) => {
                self.cause = Some(("websocket error", e));
                self.client.handle_ws_error(now());
            }
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

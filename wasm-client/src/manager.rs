//! [`Manager`]: one Socket.IO connection (the core's [`Client`]), exported to JavaScript.
//!
//! The boundary is narrow and byte-oriented: `js/index.js` does the I/O (fetch, WebSocket,
//! setTimeout) and hands over what happened — strings and bytes — through the methods below; after each call it asks [`Manager::drain`] for what to do
//! next: transmits to perform, the timer to re-arm, events to dispatch (see
//! [`crate::records`]). Every byte on the wire comes from the core; the protocol state
//! (`connected`, `id`, `active`, acks, the offline buffer) lives in the core only, and the JS
//! side asks for it.

use crate::options::{self, Opt};
use crate::records::Records;
use crate::time::now;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use core::time::Duration;
use sockeye_core::engine::{Frame, Transport};
use sockeye_core::socket::client::{Client, EmitError, Event};
use sockeye_core::{binary_from_vec, Bytes, Instant, Str};

/// engine.io-client's `Socket.priorWebsocketSuccess`, shared by every manager of the page:
/// whether the last connection that tried WebSocket got it (read with `rememberUpgrade`).
static PRIOR_WEBSOCKET: AtomicBool = AtomicBool::new(false);

/// What [`Manager::input`] reports, by its `kind`.
pub mod input {
    /// A polling `GET` answered (`text`: the body).
    pub const POLL_BODY: u8 = 0;
    /// A polling `POST` answered.
    pub const POST_DONE: u8 = 1;
    /// A polling request failed.
    pub const POLL_ERROR: u8 = 2;
    /// The WebSocket opened.
    pub const WS_OPEN: u8 = 3;
    /// A WebSocket frame arrived (`text`, or `data` for a binary frame).
    pub const WS_FRAME: u8 = 4;
    /// The WebSocket failed.
    pub const WS_ERROR: u8 = 5;
    /// The WebSocket closed.
    pub const WS_CLOSED: u8 = 6;
    /// The timer fired.
    pub const TIMER: u8 = 7;
}

/// What [`Manager::command`] does, by its `kind`.
pub mod command {
    /// Opens namespace `nsp` (connecting first if needed; again if the connection gave up).
    /// Before every `CONNECT` (first connection and each reconnection) an auth request event
    /// asks for its auth, answered with [`Manager::provide_auth`](crate::Manager::provide_auth).
    pub const CONNECT: u8 = 0;
    /// Opens the connection if there is none (socket.io-client's `manager.open()`).
    pub const OPEN: u8 = 1;
    /// Leaves namespace `nsp`; the connection closes when no namespace is left.
    pub const DISCONNECT: u8 = 2;
    /// Closes the connection, keeping the namespaces, with no reconnection
    /// (socket.io-client's `manager.close()`).
    pub const CLOSE: u8 = 3;
}

/// Flags of [`Manager::emit`].
pub mod flag {
    /// Ask for an ack.
    pub const ACK: u8 = 1;
    /// Drop the event unless the namespace is connected now.
    pub const VOLATILE: u8 = 2;
    /// Not an event: the answer to one of the server's events (an ack).
    pub const REPLY: u8 = 4;
}

/// Result codes of [`Manager::emit`] (ack ids are never negative).
pub mod code {
    /// Done, with no ack id.
    pub const OK: f64 = -1.0;
    /// The namespace's offline buffer (1,024 packets) is full.
    pub const BUFFER_FULL: f64 = -2.0;
    /// The namespace is not active.
    pub const INACTIVE: f64 = -3.0;
}

/// A Socket.IO connection multiplexing namespaces (socket.io-client's `Manager` without the
/// JavaScript, which `js/index.js` adds). Exported to JavaScript by [`crate::abi`] (wasm32),
/// as the class `Manager` of `js/wasm.js`.
#[derive(Debug)]
pub struct Manager {
    client: Client,
    /// The configured transports (`rememberUpgrade` may put WebSocket first).
    transports: Vec<Transport>,
    remember_upgrade: bool,
    /// The deadline the JS timer is armed for.
    timer: Option<Instant>,
    out: Records,
}

/// Attachments passed as one buffer: each is its length (u32, little-endian) then its bytes.
/// (One buffer rather than a second array of lengths: each typed array crossing the boundary
/// costs its own conversion code in the wasm and in the glue.) A truncated buffer ends the
/// list.
fn split(mut rest: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    while let Some((len, after)) = rest.split_first_chunk::<4>() {
        let (a, b) = after.split_at((u32::from_le_bytes(*len) as usize).min(after.len()));
        out.push(binary_from_vec(a.to_vec()));
        rest = b;
    }
    out
}

fn code(r: Result<Option<u64>, EmitError>) -> f64 {
    match r {
        Ok(Some(id)) => id as f64,
        Ok(None) => code::OK,
        Err(EmitError::BufferFull) => code::BUFFER_FULL,
        Err(_) => code::INACTIVE,
    }
}

impl Manager {
    /// A manager with options `opts` (see [`options`]); `seed` feeds the reconnection
    /// jitter. Nothing connects until [`Manager::command`] connects or opens.
    pub fn new(opts: &[f64], seed: f64) -> Manager {
        #[cfg(target_arch = "wasm32")]
        crate::host::install();
        let config = options::client_config(opts);
        Manager {
            transports: config.engine.transports.clone(),
            client: Client::new(config, seed as u64),
            remember_upgrade: options::flag(opts, Opt::RememberUpgrade) == Some(true),
            timer: None,
            out: Records::default(),
        }
    }

    /// Connects or disconnects namespace `nsp`, opens or closes the connection: see
    /// [`command`] (`nsp` is ignored by [`command::OPEN`] and [`command::CLOSE`]). One export
    /// for the four: each export costs its own glue on both sides of the boundary.
    pub fn command(&mut self, kind: u8, nsp: &str) {
        let c = &mut self.client;
        match kind {
            command::CONNECT | command::OPEN => {
                self.prefer_transport();
                if kind == command::OPEN {
                    self.client.open(now());
                } else {
                    self.client.connect_with_auth_request(now(), nsp);
                }
            }
            command::DISCONNECT => c.disconnect(nsp),
            _ => c.close_connection(),
        }
    }

    /// Answers the auth request of `nsp` with `auth` (a JSON object text) and sends the
    /// `CONNECT`. `false` if `auth` is not a JSON object.
    pub fn provide_auth(&mut self, nsp: &str, auth: Option<String>) -> bool {
        self.client.provide_auth(nsp, auth.map(Str::from)).is_ok()
    }

    /// Applies `opts` again (the reconnection and timeout options; socket.io-client's
    /// `manager.reconnectionDelay(ms)` and the other setters).
    pub fn reconfigure(&mut self, opts: &[f64]) {
        let config = options::client_config(opts);
        let on = config.reconnection;
        self.transports = config.engine.transports.clone();
        *self.client.config_mut() = config;
        self.client.set_reconnection(on);
    }

    /// Sends `data` (a JSON array text with placeholders for the attachments `att`, each its
    /// length as a little-endian u32 then its bytes) on `nsp`, as `flags` say (see [`flag`]). An event (`["event", ...args]`) is
    /// buffered while offline (dropped instead if [`flag::VOLATILE`]); with [`flag::ACK`] it
    /// asks for an ack, `n` its timeout in ms (negative for the default), and the ack id is
    /// returned, else [`code::OK`]; [`code::BUFFER_FULL`] when the namespace's offline buffer
    /// is full, [`code::INACTIVE`] when it is not active. With [`flag::REPLY`], `data` (the
    /// arguments) answers the server's event `n`: [`code::OK`], or [`code::INACTIVE`].
    /// One export for both: each export costs its own glue on both sides of the boundary.
    pub fn emit(&mut self, nsp: &str, data: String, att: &[u8], flags: u8, n: f64) -> f64 {
        let att = split(att);
        let data = Str::from(data);
        let c = &mut self.client;
        if flags & flag::REPLY != 0 {
            return code(c.ack(nsp, n as u64, data, att).map(|_| None));
        }
        let t = (n >= 0.0).then(|| Duration::from_millis(n as u64));
        code(c.emit_with(
            now(),
            nsp,
            data,
            att,
            flags & flag::VOLATILE != 0,
            (flags & flag::ACK != 0).then_some(t),
        ))
    }

    /// Namespace `nsp` as socket.io-client's `socket.active`, `connected` and `id` show it:
    /// none if not active (neither connected, connecting nor waiting to reconnect), else `0`
    /// while not connected, or `1` then the socket id while connected. (One query for the
    /// three: each export costs its own glue on both sides of the boundary.)
    pub fn socket(&self, nsp: &str) -> Option<String> {
        let c = &self.client;
        c.is_active(nsp).then(|| match c.sid(nsp) {
            Some(sid) => {
                let mut s = String::from("1");
                s.push_str(sid);
                s
            }
            None => String::from("0"),
        })
    }

    /// While a connection exists, its transport (`polling` / `websocket`), then a space and
    /// the Engine.IO session id once open.
    pub fn engine(&self) -> Option<String> {
        self.client.engine().map(|e| {
            let mut s = String::from(e.transport().as_str());
            s.push_str(" ");
            s.push_str(e.sid().as_deref().unwrap_or(""));
            s
        })
    }

    /// What the I/O did (`kind`: see [`input`]); `generation` is that of the polling
    /// request being answered. `false` if dropped: an answer to an older connection's.
    pub fn input(
        &mut self,
        kind: u8,
        generation: f64,
        text: Option<String>,
        data: Option<Vec<u8>>,
    ) -> bool {
        let now = now();
        let c = &mut self.client;
        let stale = c.generation() as f64 != generation;
        if stale && kind <= input::POLL_ERROR {
            return false;
        }
        // A decode error closes the session; the core reports it as events.
        match kind {
            input::POLL_BODY => {
                let _ = c.handle_poll_response(now, Str::from(text.unwrap_or_default()));
            }
            input::POST_DONE => c.handle_post_done(now),
            input::POLL_ERROR => c.handle_poll_error(now),
            input::WS_OPEN => c.handle_ws_open(now),
            input::WS_FRAME => {
                let frame = match (text, data) {
                    (Some(t), _) => Frame::Text(Str::from(t)),
                    (_, Some(d)) => Frame::Binary(binary_from_vec(d)),
                    _ => return true,
                };
                let _ = c.handle_ws_frame(now, frame);
            }
            input::WS_ERROR => c.handle_ws_error(now),
            input::WS_CLOSED => c.handle_ws_closed(now),
            input::TIMER => {
                self.timer = None;
                self.prefer_transport();
                self.client.handle_timeout(now);
            }
            _ => {}
        }
        true
    }

    /// What to do now, as records (see [`crate::records`]): the transmits, the timer if its
    /// deadline changed, and the events, in that order. Empty when there is nothing.
    pub fn drain(&mut self) -> Vec<u8> {
        while let Some(t) = self.client.poll_transmit() {
            if let sockeye_core::engine::client::Transmit::WsOpen { sid: Some(_) } = t {
                // An upgrade probe: as engine.io-client, forget the last success until it works.
                PRIOR_WEBSOCKET.store(false, Relaxed);
            }
            self.out.transmit(self.client.generation(), &t);
        }
        let want = self.client.poll_timeout();
        if want != self.timer {
            self.timer = want;
            let now = now().as_millis();
            // In u64 milliseconds: `Duration::as_millis` is a u128 (128-bit arithmetic).
            self.out
                .timer(want.map(|at| at.as_millis().saturating_sub(now)));
        }
        while let Some(e) = self.client.poll_event() {
            match e {
                Event::Upgrade => PRIOR_WEBSOCKET.store(true, Relaxed),
                Event::Open => PRIOR_WEBSOCKET.store(
                    self.client.engine().map(|e| e.transport()) == Some(Transport::WebSocket),
                    Relaxed,
                ),
                _ => {}
            }
            self.out.event(&e);
        }
        self.out.take()
    }
}

impl Manager {
    /// `rememberUpgrade`: the next connection starts on WebSocket if the last one got it.
    fn prefer_transport(&mut self) {
        let mut transports = self.transports.clone();
        if self.remember_upgrade && PRIOR_WEBSOCKET.load(Relaxed) {
            if let Some(i) = transports.iter().position(|t| *t == Transport::WebSocket) {
                // Moved to the front, the others keeping their order; swaps rather than
                // `remove` + `insert`, whose panic paths (with their messages) weigh more.
                for j in (0..i).rev() {
                    transports.swap(j, j + 1);
                }
            }
        }
        self.client.config_mut().engine.transports = transports;
    }
}

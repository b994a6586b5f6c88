//! The Socket.IO client: what socket.io-client's `Manager` and `Socket` do, without I/O.
//!
//! A [`Client`] owns one Engine.IO client session at a time (a new one per reconnection) and
//! multiplexes namespaces over it. It keeps ack ids and their timeouts, buffers emits while
//! offline, reconnects with [`Backoff`] and asks the server to recover the session state
//! (`pid`/`offset`) when it comes back.
//!
//! Drive it like the engine session it wraps: feed wire events to the `handle_*` methods
//! (they take the same arguments as [`crate::engine::client::Session`]'s), then drain
//! [`Client::poll_transmit`] and [`Client::poll_event`], and call [`Client::handle_timeout`]
//! at [`Client::poll_timeout`].
//!
//! Every engine session gets a new [`Client::generation`]: the I/O layer notes the generation
//! when it starts a request or opens a WebSocket, and drops answers that arrive for an older
//! one.

use crate::engine::client::{self as engine_client, Session};
use crate::engine::packet::{DecodeError, Frame, Message};
use crate::engine::CloseReason;
use crate::json;
use crate::prelude::*;
use crate::queue::Queue;
use crate::socket::acks::Acks;
use crate::socket::backoff::Backoff;
use crate::socket::packet::{Packet, PacketType};
use crate::socket::parser::{self, Decoder, DEFAULT_MAX_ATTACHMENTS};
use crate::time::earliest;
use crate::vec_map::VecMap;
use crate::{Instant, Str};
use bytes::Bytes;
use core::time::Duration;

/// Client settings, with socket.io-client's defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Engine.IO settings (transports, upgrade).
    pub engine: engine_client::Config,
    /// Whether to reconnect after the connection drops (default true).
    pub reconnection: bool,
    /// Reconnection delays and attempt limit.
    pub backoff: Backoff,
    /// How long the Engine.IO handshake may take (`timeout`, default 20 s).
    pub connect_timeout: Duration,
    /// Default ack timeout for [`Client::emit_with_ack`] when none is given (`ackTimeout`,
    /// default none).
    pub ack_timeout: Option<Duration>,
    /// Most attachments accepted per binary packet (default 10).
    pub max_attachments: usize,
    /// Most packets buffered per namespace while offline (default 1,024); one more is refused
    /// with [`EmitError::BufferFull`].
    pub max_buffered: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: engine_client::Config::default(),
            reconnection: true,
            backoff: Backoff::default(),
            connect_timeout: Duration::from_millis(20_000),
            ack_timeout: None,
            max_attachments: DEFAULT_MAX_ATTACHMENTS,
            max_buffered: 1024,
        }
    }
}

/// Why a namespace disconnected, spelled as socket.io-client spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server sent `DISCONNECT` (no automatic reconnection).
    IoServerDisconnect,
    /// [`Client::disconnect`] or [`Client::close`] (no automatic reconnection).
    IoClientDisconnect,
    /// The server stopped pinging.
    PingTimeout,
    /// The connection closed.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The server sent something unreadable.
    ParseError,
    /// [`Client::close_connection`]: the connection was closed on purpose, the namespaces
    /// stay open (no automatic reconnection; [`Client::open`] reconnects them).
    ForcedClose,
}

impl DisconnectReason {
    /// The reason as socket.io-client reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
        }
    }

    fn from_close(reason: CloseReason) -> Self {
        match reason {
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::TransportError | CloseReason::ProtocolError => {
                DisconnectReason::TransportError
            }
            CloseReason::ForcedClose => DisconnectReason::IoClientDisconnect,
            _ => DisconnectReason::TransportClose,
        }
    }
}

/// Why a namespace could not connect.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server refused (`CONNECT_ERROR`); raw JSON, usually `{"message": ..., "data": ...}`.
    Server(Str),
    /// The Engine.IO connection failed before it opened.
    Transport(CloseReason),
    /// The Engine.IO handshake took longer than `connect_timeout`.
    Timeout,
}

/// Why an ack will never come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckFailure {
    /// The timeout passed.
    Timeout,
    /// The namespace was disconnected on purpose before the answer.
    Disconnected,
}

/// Something that happened, for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The Engine.IO connection opened (the manager's `open`).
    Open,
    /// The connection moved to WebSocket (the engine's `upgrade`).
    Upgrade,
    /// The server pinged (the manager's `ping`).
    Ping,
    /// An event packet buffered while offline was sent (just before [`Event::Connect`] of its
    /// namespace): what socket.io-client hands its outgoing listeners at that moment.
    Sent {
        /// Namespace.
        nsp: Str,
        /// Raw JSON array `["name", ...args]`, as given to [`Client::emit`].
        data: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
    },
    /// A namespace connected.
    Connect {
        /// Namespace.
        nsp: Str,
        /// The socket id in that namespace.
        sid: Str,
        /// Whether the server recovered the previous session's state (rooms, missed packets).
        recovered: bool,
    },
    /// A namespace could not connect. A server refusal stops reconnection of that namespace;
    /// a transport failure is followed by reconnection if enabled.
    ConnectError {
        /// Namespace.
        nsp: Str,
        /// What went wrong.
        error: ConnectError,
    },
    /// A connected namespace disconnected.
    Disconnect {
        /// Namespace.
        nsp: Str,
        /// Why.
        reason: DisconnectReason,
    },
    /// An event from the server.
    Event {
        /// Namespace.
        nsp: Str,
        /// Raw JSON array `["name", ...args]` (placeholders where attachments go).
        data: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
        /// Ack id: answer with [`Client::ack`].
        id: Option<u64>,
    },
    /// The server acknowledged one of our emits.
    Ack {
        /// Namespace.
        nsp: Str,
        /// The id [`Client::emit_with_ack`] returned.
        id: u64,
        /// Raw JSON array of arguments.
        data: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
    },
    /// An ack will not come.
    AckFailed {
        /// Namespace.
        nsp: Str,
        /// Ack id.
        id: u64,
        /// Why.
        reason: AckFailure,
    },
    /// The Engine.IO connection closed (the manager's `close`).
    Close(CloseReason),
    /// A namespace opened with [`Client::connect_with_auth_request`] is about to connect:
    /// answer with [`Client::provide_auth`].
    AuthRequest {
        /// Namespace.
        nsp: Str,
    },
    /// A reconnection attempt starts (1-based attempt number).
    ReconnectAttempt(u32),
    /// Reconnected after that many attempts.
    Reconnect(u32),
    /// A reconnection attempt failed; another follows if allowed.
    ReconnectError,
    /// Reconnection gave up after `max_attempts`.
    ReconnectFailed,
    /// The connection could not open (the manager's `error`); [`Event::ConnectError`] for
    /// each namespace follows, then [`Event::ReconnectError`] if it was a reconnection.
    OpenFailed(ConnectError),
}

/// Why an emit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The namespace was never opened with [`Client::connect`], or was disconnected.
    #[error("namespace is not active")]
    Inactive,
    /// The offline buffer of the namespace is full.
    #[error("offline buffer full")]
    BufferFull,
}

/// An `auth` payload that is not a JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("auth must be a JSON object")]
pub struct InvalidAuth;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NsState {
    /// Waiting for the engine to open, or for the server's CONNECT.
    Connecting,
    Connected,
}

#[derive(Debug)]
struct Namespace {
    state: NsState,
    auth: Option<Str>,
    sid: Option<Str>,
    pid: Option<Str>,
    offset: Option<Str>,
    /// Whether CONNECT was sent (or auth requested) on the current engine session.
    connect_sent: bool,
    /// Ask the application for auth before every CONNECT ([`Event::AuthRequest`]).
    auth_on_demand: bool,
    acks: Acks,
    buffer: Vec<Packet>,
}

/// A Socket.IO client connection (the manager plus its namespace sockets).
#[derive(Debug)]
pub struct Client {
    config: Config,
    seed: u64,
    engine: Option<Session>,
    engine_open: bool,
    generation: u64,
    decoder: Decoder,
    namespaces: VecMap<Str, Namespace>,
    /// Reconnection attempts made since the last successful open.
    attempts: u32,
    reconnecting: bool,
    reconnect_at: Option<Instant>,
    connect_deadline: Option<Instant>,
    transmits: Queue<engine_client::Transmit>,
    events: Queue<Event>,
}

impl Client {
    /// A client that connects once a namespace is opened with [`Client::connect`]. `seed`
    /// feeds the reconnection jitter (draw it from a random source; a simulation passes a
    /// constant).
    pub fn new(config: Config, seed: u64) -> Self {
        Client {
            decoder: Decoder::new(config.max_attachments),
            config,
            seed,
            engine: None,
            engine_open: false,
            generation: 0,
            namespaces: VecMap::default(),
            attempts: 0,
            reconnecting: false,
            reconnect_at: None,
            connect_deadline: None,
            transmits: Queue::default(),
            events: Queue::default(),
        }
    }

    /// Which engine session current transmits belong to; increases with every (re)connection.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The Engine.IO session, if one exists (e.g. to read its transport or handshake).
    pub fn engine(&self) -> Option<&Session> {
        self.engine.as_ref()
    }

    /// Whether `nsp` is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.namespaces
            .get(nsp)
            .is_some_and(|n| n.state == NsState::Connected)
    }

    /// Whether `nsp` is open (connected, or waiting to connect or reconnect):
    /// socket.io-client's `socket.active`.
    pub fn is_active(&self, nsp: &str) -> bool {
        self.namespaces.contains_key(nsp)
    }

    /// The socket id in `nsp`, while connected.
    pub fn sid(&self, nsp: &str) -> Option<&Str> {
        self.namespaces
            .get(nsp)
            .filter(|n| n.state == NsState::Connected)
            .and_then(|n| n.sid.as_ref())
    }

    /// Opens namespace `nsp` with an optional `auth` JSON object, connecting the Engine.IO
    /// session first if needed. Connecting an already active namespace does nothing.
    pub fn connect(
        &mut self,
        now: Instant,
        nsp: &str,
        auth: Option<Str>,
    ) -> Result<(), InvalidAuth> {
        validate_auth(auth.as_ref())?;
        self.open_namespace(now, nsp, auth, false);
        Ok(())
    }

    fn open_namespace(&mut self, now: Instant, nsp: &str, auth: Option<Str>, on_demand: bool) {
        if self.namespaces.contains_key(nsp) {
            // Still wanted, but the connection may have given up (reconnection off, or
            // attempts exhausted): as socket.io-client's `socket.connect()`, open it again.
            self.open(now);
            return;
        }
        self.namespaces.insert(
            Str::from(nsp),
            Namespace {
                state: NsState::Connecting,
                auth,
                sid: None,
                pid: None,
                offset: None,
                connect_sent: false,
                auth_on_demand: on_demand,
                acks: Acks::default(),
                buffer: Vec::new(),
            },
        );
        if self.engine.is_none() && !self.reconnecting {
            self.open_engine(now);
        } else {
            self.send_connects();
        }
    }

    /// Opens the connection if there is none and no reconnection is pending (socket.io-client's
    /// `manager.open()`); the namespaces still open then connect on it. Does nothing otherwise.
    pub fn open(&mut self, now: Instant) {
        if self.engine.is_none() && !self.reconnecting {
            self.attempts = 0;
            self.open_engine(now);
        }
    }

    /// Closes the connection but keeps its namespaces (socket.io-client's `manager.close()`):
    /// [`Event::Close`] with [`CloseReason::ForcedClose`], [`Event::Disconnect`] with
    /// [`DisconnectReason::ForcedClose`] for each connected namespace (their pending acks
    /// fail), and no reconnection until [`Client::open`] or [`Client::connect`].
    pub fn close_connection(&mut self) {
        let was_open = self.engine_open;
        self.shutdown();
        if was_open {
            self.events
                .push_back(Event::Close(CloseReason::ForcedClose));
        }
        self.namespaces_down(DisconnectReason::ForcedClose);
    }

    /// The settings, to change them while running (e.g. socket.io-client's
    /// `manager.reconnectionDelay(ms)`); they apply from the next use.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Turns reconnection on or off; off also cancels a reconnection attempt waiting to start.
    pub fn set_reconnection(&mut self, on: bool) {
        self.config.reconnection = on;
        if !on && self.reconnect_at.take().is_some() {
            self.reconnecting = false;
        }
    }

    /// Leaves `nsp`: a `DISCONNECT` is sent if it was connected, its buffer is dropped and its
    /// pending acks fail. When no namespace is left, the Engine.IO session closes and no
    /// reconnection follows.
    pub fn disconnect(&mut self, nsp: &str) {
        let Some(ns) = self.namespaces.remove(nsp) else {
            return;
        };
        let nsp = Str::from(nsp);
        if ns.state == NsState::Connected {
            self.send_packet(&Packet::disconnect(nsp.clone()));
            self.events.push_back(Event::Disconnect {
                nsp: nsp.clone(),
                reason: DisconnectReason::IoClientDisconnect,
            });
        }
        for id in ns.acks.ids() {
            self.events.push_back(Event::AckFailed {
                nsp: nsp.clone(),
                id,
                reason: AckFailure::Disconnected,
            });
        }
        if self.namespaces.is_empty() {
            self.shutdown();
        }
    }

    /// Leaves every namespace and closes the connection for good.
    pub fn close(&mut self) {
        let all: Vec<Str> = self.namespaces.keys().cloned().collect();
        for nsp in all {
            self.disconnect(&nsp);
        }
        self.shutdown();
    }

    /// Emits an event (`data` the raw JSON array `["name", ...args]`, with placeholders for
    /// `attachments`). Sent now if `nsp` is connected, otherwise buffered until it is.
    pub fn emit(&mut self, nsp: &str, data: Str, attachments: Vec<Bytes>) -> Result<(), EmitError> {
        self.emit_packet(nsp, Packet::event(nsp, data, None, attachments))
    }

    /// Emits an event only if `nsp` is connected now; otherwise drops it (socket.io's
    /// `volatile`). Returns whether it was sent.
    pub fn emit_volatile(&mut self, nsp: &str, data: Str, attachments: Vec<Bytes>) -> bool {
        if !self.is_connected(nsp) {
            return false;
        }
        self.send_packet(&Packet::event(nsp, data, None, attachments));
        true
    }

    /// [`Client::emit_volatile`] asking for an ack: as socket.io-client, the ack is registered
    /// (with its timeout) whether or not the packet is sent, so a dropped emit fails its ack
    /// with [`AckFailure::Timeout`] when a timeout applies. Returns the ack id and whether the
    /// packet was sent.
    pub fn emit_volatile_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        data: Str,
        attachments: Vec<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<(u64, bool), EmitError> {
        let timeout = timeout.or(self.config.ack_timeout);
        let ns = self.namespaces.get_mut(nsp).ok_or(EmitError::Inactive)?;
        let id = ns.acks.register(now, timeout);
        let sent = ns.state == NsState::Connected;
        if sent {
            self.send_packet(&Packet::event(nsp, data, Some(id), attachments));
        }
        Ok((id, sent))
    }

    /// Emits an event that asks for an ack and returns its id. The timeout (or the configured
    /// `ack_timeout`) runs from now, buffered or not; when it passes,
    /// [`Event::AckFailed`] with [`AckFailure::Timeout`] fires.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        data: Str,
        attachments: Vec<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<u64, EmitError> {
        let timeout = timeout.or(self.config.ack_timeout);
        let ns = self.namespaces.get_mut(nsp).ok_or(EmitError::Inactive)?;
        let id = ns.acks.next_id();
        let packet = Packet::event(nsp, data, Some(id), attachments);
        self.emit_packet(nsp, packet)?;
        if let Some(ns) = self.namespaces.get_mut(nsp) {
            ns.acks.register(now, timeout);
        }
        Ok(id)
    }

    /// [`Client::emit`], [`Client::emit_volatile`], [`Client::emit_with_ack`] or
    /// [`Client::emit_volatile_with_ack`], as `volatile` and `ack` say, in one body (the wasm
    /// client's one `emit` export would otherwise carry all four). `ack`: `Some(timeout)` to
    /// ask for an ack (`None` inside: the configured `ack_timeout`). The ack id when asked for;
    /// a volatile emit without one never fails (it is dropped unless connected).
    pub fn emit_with(
        &mut self,
        now: Instant,
        nsp: &str,
        data: Str,
        attachments: Vec<Bytes>,
        volatile: bool,
        ack: Option<Option<Duration>>,
    ) -> Result<Option<u64>, EmitError> {
        let timeout = ack.flatten().or(self.config.ack_timeout);
        let ack = ack.is_some();
        let connected = self.is_connected(nsp);
        let Some(ns) = self.namespaces.get_mut(nsp) else {
            return if volatile && !ack {
                Ok(None)
            } else {
                Err(EmitError::Inactive)
            };
        };
        let id = ack.then(|| ns.acks.next_id());
        let packet = Packet::event(nsp, data, id, attachments);
        if volatile {
            // As socket.io-client: the ack is registered (its timeout runs) even if dropped.
            if ack {
                ns.acks.register(now, timeout);
            }
            if connected {
                self.send_packet(&packet);
            }
            return Ok(id);
        }
        self.emit_packet(nsp, packet)?;
        if let (true, Some(ns)) = (ack, self.namespaces.get_mut(nsp)) {
            ns.acks.register(now, timeout);
        }
        Ok(id)
    }

    /// Answers the server's event `id` (`data` a raw JSON array of arguments).
    pub fn ack(
        &mut self,
        nsp: &str,
        id: u64,
        data: Str,
        attachments: Vec<Bytes>,
    ) -> Result<(), EmitError> {
        if !self.is_connected(nsp) {
            return Err(EmitError::Inactive);
        }
        self.send_packet(&Packet::ack(nsp, data, id, attachments));
        Ok(())
    }

    /// See [`Session::handle_poll_response`].
    pub fn handle_poll_response(&mut self, now: Instant, body: Str) -> Result<(), DecodeError> {
        let r = match self.engine.as_mut() {
            Some(e) => e.handle_poll_response(now, body),
            None => Ok(()),
        };
        self.drive(now);
        r
    }

    /// See [`Session::handle_post_done`].
    pub fn handle_post_done(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_post_done(now);
        }
        self.drive(now);
    }

    /// See [`Session::handle_poll_error`].
    pub fn handle_poll_error(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_poll_error(now);
        }
        self.drive(now);
    }

    /// See [`Session::handle_ws_open`].
    pub fn handle_ws_open(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_ws_open(now);
        }
        self.drive(now);
    }

    /// See [`Session::handle_ws_frame`].
    pub fn handle_ws_frame(&mut self, now: Instant, frame: Frame) -> Result<(), DecodeError> {
        let r = match self.engine.as_mut() {
            Some(e) => e.handle_ws_frame(now, frame),
            None => Ok(()),
        };
        self.drive(now);
        r
    }

    /// See [`Session::handle_ws_error`].
    pub fn handle_ws_error(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_ws_error(now);
        }
        self.drive(now);
    }

    /// See [`Session::handle_ws_closed`].
    pub fn handle_ws_closed(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_ws_closed(now);
        }
        self.drive(now);
    }

    /// The next deadline: the engine's heartbeat, the handshake timeout, the reconnection
    /// delay, or the earliest ack timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        // Folded by hand rather than with iterator adapters: less code in the wasm client.
        let mut next = earliest(self.connect_deadline, self.reconnect_at);
        next = earliest(next, self.engine.as_ref().and_then(Session::poll_timeout));
        for ns in self.namespaces.values() {
            next = earliest(next, ns.acks.next_deadline());
        }
        next
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(e) = self.engine.as_mut() {
            e.handle_timeout(now);
        }
        self.drive(now);
        if self.connect_deadline.is_some_and(|d| now >= d) {
            self.connect_deadline = None;
            if let Some(mut e) = self.engine.take() {
                e.close();
                self.drain_engine(&mut e);
            }
            self.on_open_failed(now, ConnectError::Timeout);
        }
        if self.reconnect_at.is_some_and(|d| now >= d) {
            self.reconnect_at = None;
            self.events
                .push_back(Event::ReconnectAttempt(self.attempts));
            self.open_engine(now);
        }
        for (nsp, ns) in self.namespaces.iter_mut() {
            for id in ns.acks.expire(now) {
                self.events.push_back(Event::AckFailed {
                    nsp: nsp.clone(),
                    id,
                    reason: AckFailure::Timeout,
                });
            }
        }
    }

    /// The next thing to do on the wire (see [`engine_client::Transmit`]).
    pub fn poll_transmit(&mut self) -> Option<engine_client::Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn open_engine(&mut self, now: Instant) {
        self.generation += 1;
        self.engine_open = false;
        self.decoder.reset();
        for ns in self.namespaces.values_mut() {
            ns.connect_sent = false;
        }
        let engine = Session::new(self.config.engine.clone(), now);
        self.engine = Some(engine);
        self.connect_deadline = Some(now + self.config.connect_timeout);
        self.drive(now);
    }

    /// Stops everything: closes the engine (sending its close packet) and cancels reconnection.
    fn shutdown(&mut self) {
        self.reconnecting = false;
        self.reconnect_at = None;
        self.connect_deadline = None;
        if let Some(mut e) = self.engine.take() {
            e.close();
            self.drain_engine(&mut e);
        }
        self.engine_open = false;
    }

    fn drain_engine(&mut self, engine: &mut Session) {
        while let Some(t) = engine.poll_transmit() {
            self.transmits.push_back(t);
        }
        // Events of a session being discarded on purpose are not reported.
        while engine.poll_event().is_some() {}
    }

    /// Moves the engine's transmits out and reacts to its events.
    fn drive(&mut self, now: Instant) {
        loop {
            let Some(engine) = self.engine.as_mut() else {
                return;
            };
            while let Some(t) = engine.poll_transmit() {
                self.transmits.push_back(t);
            }
            let Some(event) = engine.poll_event() else {
                return;
            };
            match event {
                engine_client::Event::Open => self.on_open(),
                engine_client::Event::Message(m) => self.on_message(now, m),
                engine_client::Event::Upgraded => self.events.push_back(Event::Upgrade),
                engine_client::Event::Ping => self.events.push_back(Event::Ping),
                engine_client::Event::Closed(reason) => self.on_engine_closed(now, reason),
            }
        }
    }

    fn on_open(&mut self) {
        self.engine_open = true;
        self.connect_deadline = None;
        self.events.push_back(Event::Open);
        if self.reconnecting {
            self.reconnecting = false;
            self.events.push_back(Event::Reconnect(self.attempts));
        }
        self.attempts = 0;
        self.send_connects();
    }

    /// Sends `CONNECT` for every namespace that wants one on this engine session, merging
    /// `pid`/`offset` into the auth object when the server gave us a `pid`.
    fn send_connects(&mut self) {
        if !self.engine_open {
            return;
        }
        let mut packets = Vec::new();
        for (nsp, ns) in self.namespaces.iter_mut() {
            if ns.connect_sent || ns.state == NsState::Connected {
                continue;
            }
            ns.connect_sent = true;
            if ns.auth_on_demand {
                self.events
                    .push_back(Event::AuthRequest { nsp: nsp.clone() });
            } else {
                packets.push(connect_packet(nsp, ns));
            }
        }
        for p in packets {
            self.send_packet(&p);
        }
    }

    /// Like [`Client::connect`], but the auth object is asked for before every `CONNECT`
    /// (socket.io-client's `auth` callback): [`Event::AuthRequest`] fires each time the
    /// connection (re)opens, and [`Client::provide_auth`] sends the `CONNECT`.
    pub fn connect_with_auth_request(&mut self, now: Instant, nsp: &str) {
        self.open_namespace(now, nsp, None, true);
    }

    /// Answers [`Event::AuthRequest`] for `nsp`: stores `auth` and sends the `CONNECT`. Does
    /// nothing if no request is pending (e.g. the connection dropped meanwhile; a new request
    /// follows when it reopens).
    pub fn provide_auth(&mut self, nsp: &str, auth: Option<Str>) -> Result<(), InvalidAuth> {
        validate_auth(auth.as_ref())?;
        let engine_open = self.engine_open;
        let Some((key, ns)) = self.namespaces.iter_mut().find(|(k, _)| k.as_str() == nsp) else {
            return Ok(());
        };
        ns.auth = auth;
        if engine_open && ns.connect_sent && ns.state == NsState::Connecting {
            let packet = connect_packet(key, ns);
            self.send_packet(&packet);
        }
        Ok(())
    }

    /// Replaces the auth object sent with the next `CONNECT` of `nsp` (e.g. a refreshed token
    /// before reconnection).
    pub fn set_auth(&mut self, nsp: &str, auth: Option<Str>) -> Result<(), InvalidAuth> {
        validate_auth(auth.as_ref())?;
        if let Some(ns) = self.namespaces.get_mut(nsp) {
            ns.auth = auth;
        }
        Ok(())
    }

    fn on_message(&mut self, now: Instant, message: Message) {
        match self.decoder.decode(message) {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => {}
            Err(_) => {
                // Unreadable server: drop the connection; reconnection takes over.
                if let Some(e) = self.engine.as_mut() {
                    e.close();
                }
                self.on_engine_closed(now, CloseReason::ParseError);
            }
        }
    }

    fn on_packet(&mut self, p: Packet) {
        let nsp = p.nsp.clone();
        let Some(ns) = self.namespaces.get_mut(&nsp) else {
            return;
        };
        match p.ty {
            PacketType::Connect => {
                let Some((sid, pid)) = p.data.as_deref().and_then(parse_connect) else {
                    return;
                };
                let recovered = pid.is_some() && ns.pid == pid;
                ns.state = NsState::Connected;
                ns.sid = Some(sid.clone());
                ns.pid = pid;
                if !recovered {
                    ns.offset = None;
                }
                let buffered = core::mem::take(&mut ns.buffer);
                // As socket.io-client's `emitBuffered()`: the buffer goes out (each packet
                // reported to the outgoing listeners), then `connect` fires.
                for packet in buffered {
                    self.send_packet(&packet);
                    if let (PacketType::Event | PacketType::BinaryEvent, Some(data)) =
                        (packet.ty, packet.data)
                    {
                        self.events.push_back(Event::Sent {
                            nsp: nsp.clone(),
                            data,
                            attachments: packet.attachments,
                        });
                    }
                }
                self.events.push_back(Event::Connect {
                    nsp,
                    sid,
                    recovered,
                });
            }
            PacketType::ConnectError => {
                let data = p.data.unwrap_or_default();
                self.fail_namespace(&nsp, AckFailure::Disconnected);
                self.events.push_back(Event::ConnectError {
                    nsp,
                    error: ConnectError::Server(data),
                });
                if self.namespaces.is_empty() {
                    self.shutdown();
                }
            }
            PacketType::Disconnect => {
                let was_connected = ns.state == NsState::Connected;
                self.fail_namespace(&nsp, AckFailure::Disconnected);
                if was_connected {
                    self.events.push_back(Event::Disconnect {
                        nsp,
                        reason: DisconnectReason::IoServerDisconnect,
                    });
                }
                if self.namespaces.is_empty() {
                    self.shutdown();
                }
            }
            PacketType::Event | PacketType::BinaryEvent => {
                if ns.state != NsState::Connected {
                    return;
                }
                let data = p.data.unwrap_or_default();
                if ns.pid.is_some() {
                    // With recovery on, the server appends the packet's offset as a last string
                    // argument; remember it for the next CONNECT.
                    if let Some(offset) = last_string(&data) {
                        ns.offset = Some(Str::from(offset));
                    }
                }
                self.events.push_back(Event::Event {
                    nsp,
                    data,
                    attachments: p.attachments,
                    id: p.id,
                });
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = p.id else { return };
                if ns.acks.resolve(id) {
                    self.events.push_back(Event::Ack {
                        nsp,
                        id,
                        data: p.data.unwrap_or_default(),
                        attachments: p.attachments,
                    });
                }
            }
        }
    }

    /// Removes a namespace the server refused or closed, failing its acks.
    fn fail_namespace(&mut self, nsp: &Str, reason: AckFailure) {
        if let Some(ns) = self.namespaces.remove(nsp) {
            for id in ns.acks.ids() {
                self.events.push_back(Event::AckFailed {
                    nsp: nsp.clone(),
                    id,
                    reason,
                });
            }
        }
    }

    fn on_engine_closed(&mut self, now: Instant, reason: CloseReason) {
        let was_open = self.engine_open;
        if let Some(mut e) = self.engine.take() {
            while let Some(t) = e.poll_transmit() {
                self.transmits.push_back(t);
            }
        }
        self.engine_open = false;
        self.decoder.reset();
        if !was_open {
            self.on_open_failed(now, ConnectError::Transport(reason));
            return;
        }
        self.events.push_back(Event::Close(reason));
        self.namespaces_down(DisconnectReason::from_close(reason));
        self.schedule_reconnect(now);
    }

    /// The connection is gone: connected namespaces disconnect (their acks fail) and wait
    /// for the next one.
    fn namespaces_down(&mut self, dr: DisconnectReason) {
        for (nsp, ns) in self.namespaces.iter_mut() {
            ns.connect_sent = false;
            if ns.state == NsState::Connected {
                ns.state = NsState::Connecting;
                self.events.push_back(Event::Disconnect {
                    nsp: nsp.clone(),
                    reason: dr,
                });
                // As socket.io-client: answers to packets sent on the lost connection will not
                // come. (Nothing is buffered while connected, so every pending ack was sent.)
                for id in ns.acks.clear() {
                    self.events.push_back(Event::AckFailed {
                        nsp: nsp.clone(),
                        id,
                        reason: AckFailure::Disconnected,
                    });
                }
            }
        }
    }

    fn on_open_failed(&mut self, now: Instant, error: ConnectError) {
        self.connect_deadline = None;
        self.events.push_back(Event::OpenFailed(error.clone()));
        for nsp in self.namespaces.keys() {
            self.events.push_back(Event::ConnectError {
                nsp: nsp.clone(),
                error: error.clone(),
            });
        }
        // socket.io-client's order: `error`, `connect_error`s, then `reconnect_error`.
        if self.reconnecting {
            self.reconnecting = false;
            self.events.push_back(Event::ReconnectError);
        }
        self.schedule_reconnect(now);
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        if !self.config.reconnection || self.namespaces.is_empty() || self.reconnecting {
            return;
        }
        if !self.config.backoff.allows(self.attempts) {
            self.attempts = 0;
            self.events.push_back(Event::ReconnectFailed);
            return;
        }
        let delay = self.config.backoff.delay(self.attempts, self.seed);
        self.attempts += 1;
        self.reconnecting = true;
        self.reconnect_at = Some(now + delay);
    }

    fn emit_packet(&mut self, nsp: &str, packet: Packet) -> Result<(), EmitError> {
        let max = self.config.max_buffered;
        let ns = self.namespaces.get_mut(nsp).ok_or(EmitError::Inactive)?;
        if ns.state == NsState::Connected {
            self.send_packet(&packet);
        } else if ns.buffer.len() >= max {
            return Err(EmitError::BufferFull);
        } else {
            ns.buffer.push(packet);
        }
        Ok(())
    }

    fn send_packet(&mut self, packet: &Packet) {
        if let Some(e) = self.engine.as_mut() {
            for m in parser::encode(packet) {
                // A closed engine refuses; its close is already on the way as an event.
                let _ = e.send(m);
            }
            while let Some(t) = e.poll_transmit() {
                self.transmits.push_back(t);
            }
        }
    }
}

/// Whether `a` is one JSON object.
#[cfg(not(feature = "host-json"))]
fn is_object(a: &str) -> bool {
    json::kind(a) == Some(json::Kind::Object) && json::validate(a).is_ok()
}
#[cfg(feature = "host-json")]
use json::host::is_object;

/// Checks that `auth`, if any, is one JSON object.
fn validate_auth(auth: Option<&Str>) -> Result<(), InvalidAuth> {
    match auth {
        Some(a) if !is_object(a) => Err(InvalidAuth),
        _ => Ok(()),
    }
}

/// The last element of the (valid) JSON array `data`, if it is a string.
#[cfg(not(feature = "host-json"))]
fn last_string(data: &str) -> Option<String> {
    let els = json::array_elements(data).ok()?;
    let last = els.last().copied()?;
    if json::kind(last) != Some(json::Kind::String) {
        return None;
    }
    json::parse_string(last).ok()
}
#[cfg(feature = "host-json")]
use json::host::last_string;

/// The `CONNECT` for `nsp`: its auth, with `pid`/`offset` merged in when the server gave a
/// `pid` (connection state recovery).
fn connect_packet(nsp: &Str, ns: &Namespace) -> Packet {
    let data = match &ns.pid {
        Some(pid) => Some(recovery_auth(ns.auth.as_deref(), pid, ns.offset.as_deref())),
        None => ns.auth.clone(),
    };
    Packet::connect(nsp.clone(), data)
}

/// Parses the server's CONNECT data `{"sid": "...", "pid": "..."}`.
#[cfg(feature = "host-json")]
fn parse_connect(data: &str) -> Option<(Str, Option<Str>)> {
    let string = |key| json::host::string(data, key).flatten().map(Str::from);
    Some((string("sid")?, string("pid")))
}

/// Parses the server's CONNECT data `{"sid": "...", "pid": "..."}`.
#[cfg(not(feature = "host-json"))]
fn parse_connect(data: &str) -> Option<(Str, Option<Str>)> {
    let members = json::object_members(data).ok()?;
    let mut sid = None;
    let mut pid = None;
    for (k, v) in members {
        match k.as_str() {
            "sid" => sid = json::parse_string(v).ok().map(Str::from),
            "pid" => pid = json::parse_string(v).ok().map(Str::from),
            _ => {}
        }
    }
    Some((sid?, pid))
}

/// `{"pid": pid, "offset": offset, ...auth}`, as socket.io-client sends on reconnection.
fn recovery_auth(auth: Option<&str>, pid: &str, offset: Option<&str>) -> Str {
    #[cfg(feature = "host-json")]
    let write_string = |out: &mut String, s| out.push_str(&json::host::quote(s));
    #[cfg(not(feature = "host-json"))]
    use json::write_string;
    let mut out = String::from("{\"pid\":");
    write_string(&mut out, pid);
    out.push_str(",\"offset\":");
    match offset {
        Some(o) => write_string(&mut out, o),
        None => out.push_str("null"),
    }
    #[cfg(feature = "host-json")]
    if let Some(auth) = auth {
        out.push_str(&json::host::rest(auth));
    }
    #[cfg(not(feature = "host-json"))]
    if let Ok(members) = auth.map(json::object_members).transpose() {
        for (k, v) in members.unwrap_or_default() {
            if k == "pid" || k == "offset" {
                continue;
            }
            out.push(',');
            write_string(&mut out, &k);
            out.push(':');
            out.push_str(v);
        }
    }
    out.push_str("}");
    Str::from(out)
}

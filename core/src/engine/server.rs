//! The server side of one Engine.IO session.
//!
//! The I/O layer creates a [`Session`] when a handshake request arrives (it draws the session
//! id from a CSPRNG and passes it in), then feeds it what happens on the wire:
//!
//! | wire event | call |
//! |---|---|
//! | polling `GET` with this sid | [`Session::handle_poll_get`] |
//! | polling `POST` body | [`Session::handle_poll_post`] |
//! | the pending `GET` went away before it was answered | [`Session::handle_poll_closed`] |
//! | WebSocket opened for this sid (upgrade) | [`Session::handle_ws_attach`] |
//! | WebSocket frame | [`Session::handle_ws_frame`] |
//! | WebSocket closed | [`Session::handle_ws_closed`] |
//! | the deadline from [`Session::poll_timeout`] passed | [`Session::handle_timeout`] |
//!
//! and drains [`Session::poll_transmit`] (bytes to write) and [`Session::poll_event`]
//! (messages and state changes for the application) after each call.

use crate::engine::handshake::Handshake;
use crate::engine::packet::{DecodeError, Frame, Message, Packet, PacketType};
use crate::engine::{payload, CloseReason, Transport};
use crate::prelude::*;
use crate::time::earliest;
use crate::{Instant, Str};
use alloc::collections::VecDeque;
use bytes::Bytes;
use core::time::Duration;

/// Session settings, with the reference server's defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Interval between pings (default 25 s).
    pub ping_interval: Duration,
    /// How long to wait for a pong before closing (default 20 s).
    pub ping_timeout: Duration,
    /// How long a WebSocket upgrade may take once the socket is attached (default 10 s).
    pub upgrade_timeout: Duration,
    /// Largest polling body accepted, and announced to the client (default 1,000,000 bytes).
    pub max_payload: usize,
    /// Whether clients may upgrade from polling to WebSocket (default true).
    pub allow_upgrades: bool,
    /// Most packets kept waiting for a client that does not read; one more closes the session
    /// with [`CloseReason::QueueFull`] (default 4,096).
    ///
    /// This bounds what waits for a polling client; on WebSocket, packets go straight to
    /// [`Session::poll_transmit`], and the I/O layer bounds its own write queue.
    pub max_queued_packets: usize,
    /// Most bytes (of encoded messages) kept waiting for a client that does not read; one
    /// more closes the session with [`CloseReason::QueueFull`] and frees the queue (default
    /// 4 MiB). Like `max_queued_packets`, this bounds what waits for a polling client, and
    /// so the size of a polling answer.
    pub max_queued_bytes: usize,
    /// How long a graceful close on polling waits for the client's next `GET` to hand it the
    /// `close` packet (default 1 s; the client polls again at once, so this only matters for
    /// a stalled client).
    pub close_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            allow_upgrades: true,
            max_queued_packets: 4096,
            max_queued_bytes: 4 << 20,
            close_timeout: Duration::from_millis(1000),
        }
    }
}

/// Where the session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Open on its current transport.
    Open,
    /// Open on polling, with a WebSocket attached and being probed.
    Upgrading,
    /// Closing gracefully on polling: the `close` packet waits for the client's next `GET`
    /// (or `close_timeout`). Nothing else is sent or received.
    Closing(CloseReason),
    /// Closed; nothing more will be sent or received.
    Closed(CloseReason),
}

/// Something the I/O layer must write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Answer the pending polling `GET` with this body (`text/plain; charset=UTF-8`).
    PollResponse(Bytes),
    /// Send this frame on the WebSocket.
    Ws(Frame),
    /// Close the WebSocket (after the frames transmitted before this).
    CloseWs,
}

/// Something that happened, for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The client sent a message.
    Message(Message),
    /// The session moved from polling to WebSocket.
    Upgraded,
    /// The session closed. Emitted exactly once.
    Closed(CloseReason),
}

/// Why an input was refused. The session may have closed as a result (check
/// [`Session::state`]); the I/O layer maps these to HTTP errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session is closed.
    #[error("session closed")]
    Closed,
    /// The request does not fit the session's transport (e.g. a poll after the upgrade, or
    /// a second WebSocket).
    #[error("bad request for this transport")]
    BadTransport,
    /// A second `GET` while one is pending; the session is closed.
    #[error("overlapping polling request")]
    Overlap,
    /// The body could not be decoded; the session is closed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The client broke the protocol; the session is closed.
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
}

/// A message encoded once for many sessions (a broadcast): its WebSocket frame is built
/// once, here, and every session it is sent to shares that frame's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    packet: Packet,
    frame: Frame,
}

impl Prepared {
    /// Encodes `message` for sending to many sessions with [`Session::send_prepared`].
    pub fn new(message: Message) -> Self {
        let packet = Packet::Message(message);
        let frame = packet.encode_frame();
        Prepared { packet, frame }
    }

    /// A text message for one session, written by `write` into the buffer of its WebSocket
    /// frame, after the frame's type: the message is a slice of the frame, so the frame
    /// is not built again by copying (as [`Session::send`] must).
    pub fn text(capacity: usize, write: impl FnOnce(&mut String)) -> Self {
        let mut frame = String::with_capacity(capacity + 1);
        frame.push(PacketType::Message.as_char());
        write(&mut frame);
        let frame = Str::from(frame);
        let message = frame.slice(1..frame.len()).unwrap_or_default();
        Prepared {
            packet: Packet::Message(Message::Text(message)),
            frame: Frame::Text(frame),
        }
    }

    /// The size of its WebSocket frame in bytes.
    pub fn byte_len(&self) -> usize {
        match &self.frame {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }
}

/// A packet waiting for the transport.
#[derive(Debug)]
enum Outgoing {
    Packet(Packet),
    Prepared(Prepared),
}

impl Outgoing {
    fn into_frame(self) -> Frame {
        match self {
            Outgoing::Packet(p) => p.encode_frame(),
            Outgoing::Prepared(p) => p.frame,
        }
    }

    /// About the bytes this packet takes in a polling answer.
    fn byte_len(&self) -> usize {
        let message = match self {
            Outgoing::Packet(Packet::Message(m)) => m,
            Outgoing::Prepared(p) => match &p.frame {
                Frame::Text(t) => return t.len(),
                Frame::Binary(b) => return b.len() + 1,
            },
            Outgoing::Packet(_) => return 1,
        };
        match message {
            // Base64 in a polling answer.
            Message::Binary(b) => 2 + b.len().div_ceil(3) * 4,
            Message::Text(t) => 1 + t.len(),
        }
    }

    fn into_packet(self) -> Packet {
        match self {
            Outgoing::Packet(p) => p,
            Outgoing::Prepared(p) => p.packet,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upgrade {
    None,
    /// A WebSocket is attached; waiting for `2probe`.
    Attached,
    /// `3probe` sent; waiting for `5`.
    Probed,
}

/// One Engine.IO session, server side.
#[derive(Debug)]
pub struct Session {
    sid: Str,
    config: Config,
    transport: Transport,
    state: State,
    upgrade: Upgrade,
    upgrade_deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    poll_pending: bool,
    /// Packets not yet handed to a transport (polling waits for a `GET`).
    queue: VecDeque<Outgoing>,
    /// The sum of [`Outgoing::byte_len`] over `queue`.
    queued_bytes: usize,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
}

impl Session {
    /// Starts a session on `transport` with the given id (drawn by the caller from a CSPRNG).
    /// The `open` packet is queued at once: on WebSocket it is the first transmit; on polling
    /// it answers the handshake request, so call [`Session::handle_poll_get`] for that request
    /// too.
    pub fn new(sid: impl Into<Str>, transport: Transport, config: Config, now: Instant) -> Self {
        let sid = sid.into();
        let upgrades = if transport == Transport::Polling && config.allow_upgrades {
            vec!["websocket".to_owned()]
        } else {
            Vec::new()
        };
        let open = Packet::Open(Box::new(Handshake {
            sid: String::from(sid.as_str()),
            upgrades,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_payload: config.max_payload,
        }));
        let mut session = Session {
            sid,
            transport,
            state: State::Open,
            upgrade: Upgrade::None,
            upgrade_deadline: None,
            close_deadline: None,
            poll_pending: false,
            queue: VecDeque::new(),
            queued_bytes: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_ping: Some(now + config.ping_interval),
            pong_deadline: None,
            config,
        };
        session.queue.push_back(Outgoing::Packet(open));
        session.flush();
        session
    }

    /// The session id.
    pub fn sid(&self) -> &Str {
        &self.sid
    }

    /// The current transport. Changes to WebSocket when an upgrade completes.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The current state. Changed by every `handle_*` call and by [`Session::close`].
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// Whether a polling `GET` is waiting for data.
    pub fn has_pending_poll(&self) -> bool {
        self.poll_pending
    }

    /// The session's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A polling `GET` arrived. If data is queued it is transmitted at once as a
    /// [`Transmit::PollResponse`]; otherwise the request waits until something is sent
    /// (a message, a ping, or a `noop` during upgrade).
    ///
    /// A second `GET` while one is pending closes the session ([`SessionError::Overlap`]);
    /// the pending one is answered with a `close` packet.
    pub fn handle_poll_get(&mut self, _now: Instant) -> Result<(), SessionError> {
        if let State::Closing(reason) = self.state {
            // The poll the graceful close waited for: it takes the queue and the `close`.
            self.poll_pending = true;
            self.flush();
            self.close_with(reason);
            return Ok(());
        }
        self.ensure_open()?;
        if self.transport != Transport::Polling {
            return Err(SessionError::BadTransport);
        }
        if self.poll_pending {
            self.close_with(CloseReason::ProtocolError);
            return Err(SessionError::Overlap);
        }
        self.poll_pending = true;
        if self.upgrade == Upgrade::Probed && self.queue.is_empty() {
            // The client is finishing its upgrade: release this poll at once.
            self.queue.push_back(Outgoing::Packet(Packet::Noop));
        }
        self.flush();
        Ok(())
    }

    /// A polling `POST` body arrived. Its packets are decoded and handled in order. A body over
    /// `max_payload` bytes, or one that does not decode, closes the session.
    pub fn handle_poll_post(&mut self, now: Instant, body: Str) -> Result<(), SessionError> {
        self.ensure_open()?;
        if self.transport != Transport::Polling {
            return Err(SessionError::BadTransport);
        }
        // Packets are handled as they are decoded (as the reference server does): the ones
        // before a malformed packet count, and the session then closes with a parse error.
        let packets = match payload::packets(&body, self.config.max_payload) {
            Ok(p) => p,
            Err(e) => return Err(self.payload_error(e)),
        };
        for packet in packets {
            let packet = packet.map_err(|e| self.payload_error(e))?;
            self.handle_packet(now, packet)?;
            if self.is_closed() {
                break;
            }
        }
        Ok(())
    }

    /// Closes the session for a polling body that does not decode.
    fn payload_error(&mut self, e: DecodeError) -> SessionError {
        let reason = match e {
            DecodeError::TooLarge { .. } => CloseReason::PayloadTooLarge,
            _ => CloseReason::ParseError,
        };
        self.close_with(reason);
        e.into()
    }

    /// The pending polling `GET` went away unanswered (the client disconnected). The session
    /// closes with [`CloseReason::TransportClose`], as in the reference server.
    pub fn handle_poll_closed(&mut self, _now: Instant) {
        if self.poll_pending && !self.is_closed() {
            self.poll_pending = false;
            self.close_with(CloseReason::TransportClose);
        }
    }

    /// A WebSocket was opened for this session's id: the start of an upgrade from polling.
    /// Refused (and nothing changes) if the session is not on polling, already upgrading, or
    /// upgrades are disabled; the I/O layer then closes that WebSocket.
    pub fn handle_ws_attach(&mut self, now: Instant) -> Result<(), SessionError> {
        self.ensure_open()?;
        if self.transport != Transport::Polling
            || self.upgrade != Upgrade::None
            || !self.config.allow_upgrades
        {
            return Err(SessionError::BadTransport);
        }
        self.upgrade = Upgrade::Attached;
        self.upgrade_deadline = Some(now + self.config.upgrade_timeout);
        self.state = State::Upgrading;
        Ok(())
    }

    /// A WebSocket frame arrived (on the session's WebSocket, or on the one being probed).
    pub fn handle_ws_frame(&mut self, now: Instant, frame: Frame) -> Result<(), SessionError> {
        self.ensure_open()?;
        let packet = match Packet::decode_frame(frame) {
            Ok(p) => p,
            Err(e) => {
                if self.upgrade != Upgrade::None {
                    self.cancel_upgrade();
                    return Err(e.into());
                }
                self.close_with(CloseReason::ParseError);
                return Err(e.into());
            }
        };
        match (self.upgrade, packet) {
            (Upgrade::None, packet) => {
                if self.transport != Transport::WebSocket {
                    return Err(SessionError::BadTransport);
                }
                self.handle_packet(now, packet)
            }
            (Upgrade::Attached, Packet::Ping(p)) if p == "probe" => {
                self.upgrade = Upgrade::Probed;
                self.transmits
                    .push_back(Transmit::Ws(Packet::Pong(p).encode_frame()));
                if self.poll_pending && self.queue.is_empty() {
                    self.queue.push_back(Outgoing::Packet(Packet::Noop));
                    self.flush();
                }
                Ok(())
            }
            (Upgrade::Probed, Packet::Upgrade) => {
                self.upgrade = Upgrade::None;
                self.upgrade_deadline = None;
                self.state = State::Open;
                self.transport = Transport::WebSocket;
                if self.poll_pending {
                    // The old transport's last poll gets a noop so the client lets go of it.
                    self.poll_pending = false;
                    self.transmits
                        .push_back(Transmit::PollResponse(Bytes::from_static(b"6")));
                }
                self.events.push_back(Event::Upgraded);
                self.flush();
                Ok(())
            }
            _ => {
                self.cancel_upgrade();
                Err(SessionError::Protocol("invalid upgrade packet"))
            }
        }
    }

    /// The WebSocket closed. On a WebSocket session this closes the session; during an upgrade
    /// it abandons the upgrade and the session stays on polling.
    pub fn handle_ws_closed(&mut self, _now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.upgrade != Upgrade::None {
            self.upgrade = Upgrade::None;
            self.upgrade_deadline = None;
            self.state = State::Open;
        } else if self.transport == Transport::WebSocket {
            self.close_with(CloseReason::TransportClose);
        }
    }

    /// Queues a message for the client. Fails only if the session is closed. If the client
    /// does not read and more than `max_queued_packets` wait, the session closes with
    /// [`CloseReason::QueueFull`].
    pub fn send(&mut self, message: Message) -> Result<(), SessionError> {
        self.enqueue(Outgoing::Packet(Packet::Message(message)))
    }

    /// Like [`Session::send`], for a message encoded once for many sessions.
    pub fn send_prepared(&mut self, message: Prepared) -> Result<(), SessionError> {
        self.enqueue(Outgoing::Prepared(message))
    }

    fn enqueue(&mut self, item: Outgoing) -> Result<(), SessionError> {
        self.ensure_open()?;
        self.queued_bytes += item.byte_len();
        self.queue.push_back(item);
        self.flush();
        if self.queue.len() > self.config.max_queued_packets
            || self.queued_bytes > self.config.max_queued_bytes
        {
            self.close_with(CloseReason::QueueFull);
        }
        Ok(())
    }

    /// Closes the session: queued packets and a `close` packet go out on the current transport,
    /// then the WebSocket is closed. On polling with no `GET` pending, a graceful close
    /// ([`CloseReason::ForcedClose`], [`CloseReason::ServerShutdown`]) enters
    /// [`State::Closing`] and completes on the client's next `GET` or after `close_timeout`;
    /// other reasons close at once.
    pub fn close(&mut self, now: Instant, reason: CloseReason) {
        if self.is_closed() || matches!(self.state, State::Closing(_)) {
            return;
        }
        self.queue.push_back(Outgoing::Packet(Packet::Close));
        self.flush();
        let graceful = matches!(
            reason,
            CloseReason::ForcedClose | CloseReason::ServerShutdown
        );
        if graceful && self.transport == Transport::Polling && !self.queue.is_empty() {
            // No poll to answer now: keep the queue (ending with `close`) for the next one.
            self.cancel_upgrade();
            self.next_ping = None;
            self.pong_deadline = None;
            self.close_deadline = Some(now + self.config.close_timeout);
            self.state = State::Closing(reason);
            return;
        }
        self.close_with(reason);
    }

    /// The next time [`Session::handle_timeout`] must be called, if any. Changes after every
    /// `handle_*` call.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        // Asked after every input, broadcasts included: plain comparisons, no iterator.
        let a = earliest(self.next_ping, self.pong_deadline);
        let b = earliest(self.upgrade_deadline, self.close_deadline);
        earliest(a, b)
    }

    /// Runs the timers due at `now`: sends a ping, closes on a missing pong, or abandons a
    /// stalled upgrade.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if let State::Closing(reason) = self.state {
            if self.close_deadline.is_some_and(|d| now >= d) {
                self.close_with(reason);
            }
            return;
        }
        if self.pong_deadline.is_some_and(|d| now >= d) {
            self.pong_deadline = None;
            self.close_with(CloseReason::PingTimeout);
            return;
        }
        if self.upgrade_deadline.is_some_and(|d| now >= d) {
            self.cancel_upgrade();
        }
        if self.next_ping.is_some_and(|d| now >= d) {
            self.next_ping = None;
            self.pong_deadline = Some(now + self.config.ping_timeout);
            self.queue
                .push_back(Outgoing::Packet(Packet::Ping(Str::default())));
            self.flush();
        }
    }

    /// The next thing to write, if any. Call until `None` after each input.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application, if any. Call until `None` after each input.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn ensure_open(&self) -> Result<(), SessionError> {
        if self.is_closed() || matches!(self.state, State::Closing(_)) {
            Err(SessionError::Closed)
        } else {
            Ok(())
        }
    }

    fn handle_packet(&mut self, now: Instant, packet: Packet) -> Result<(), SessionError> {
        match packet {
            Packet::Message(m) => self.events.push_back(Event::Message(m)),
            Packet::Pong(_) => {
                if self.pong_deadline.take().is_some() {
                    self.next_ping = Some(now + self.config.ping_interval);
                }
            }
            Packet::Close => self.close_with(CloseReason::PeerClose),
            Packet::Noop | Packet::Ping(_) => {}
            Packet::Open(_) | Packet::Upgrade => {
                self.close_with(CloseReason::ProtocolError);
                return Err(SessionError::Protocol("unexpected packet from client"));
            }
        }
        Ok(())
    }

    /// Hands queued packets to the transport that can take them now.
    fn flush(&mut self) {
        if self.queue.is_empty() {
            self.queued_bytes = 0;
            return;
        }
        match self.transport {
            Transport::WebSocket => {
                for item in self.queue.drain(..) {
                    self.transmits.push_back(Transmit::Ws(item.into_frame()));
                }
                self.queued_bytes = 0;
            }
            Transport::Polling => {
                if !self.poll_pending {
                    return;
                }
                self.poll_pending = false;
                let packets: Vec<Packet> =
                    self.queue.drain(..).map(Outgoing::into_packet).collect();
                self.queued_bytes = 0;
                let body = payload::encode(&packets);
                self.transmits
                    .push_back(Transmit::PollResponse(Bytes::from(body)));
            }
        }
    }

    fn cancel_upgrade(&mut self) {
        if self.upgrade != Upgrade::None {
            self.upgrade = Upgrade::None;
            self.upgrade_deadline = None;
            self.state = State::Open;
            self.transmits.push_back(Transmit::CloseWs);
        }
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.is_closed() {
            return;
        }
        if self.poll_pending {
            self.poll_pending = false;
            // A client that sent `close` itself is done with the session: its pending poll
            // is released with a `noop`, as the reference server does; otherwise the poll
            // carries our `close`.
            let body: &'static [u8] = if reason == CloseReason::PeerClose {
                b"6"
            } else {
                b"1"
            };
            self.transmits
                .push_back(Transmit::PollResponse(Bytes::from_static(body)));
        }
        if self.transport == Transport::WebSocket || self.upgrade != Upgrade::None {
            self.transmits.push_back(Transmit::CloseWs);
        }
        self.queue = VecDeque::new();
        self.queued_bytes = 0;
        self.upgrade = Upgrade::None;
        self.upgrade_deadline = None;
        self.close_deadline = None;
        self.next_ping = None;
        self.pong_deadline = None;
        self.state = State::Closed(reason);
        self.events.push_back(Event::Closed(reason));
    }
}

/// The transport side of a server-side session state machine: the Engine.IO [`Session`]
/// itself, or a protocol composed over it (`socket::server::Connection`). The I/O layer
/// drives any of them the same way — wire events in, [`Transmit`]s and timers out — and
/// hands the machine's own events to the layer above.
///
/// Every input method forwards to the session, then calls [`Machine::after_input`], where a
/// composition moves the session's events into its own state.
pub trait Machine {
    /// What the machine reports to the layer above.
    type Event;

    /// The Engine.IO session.
    fn session(&self) -> &Session;
    /// The Engine.IO session, mutably.
    fn session_mut(&mut self) -> &mut Session;
    /// Runs after every input (default: nothing).
    fn after_input(&mut self, now: Instant) {
        let _ = now;
    }
    /// The next event for the layer above. Call until `None` after each input, then drain
    /// [`Machine::poll_transmit`].
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// A polling `GET` ([`Session::handle_poll_get`]).
    fn handle_poll_get(&mut self, now: Instant) -> Result<(), SessionError> {
        let r = self.session_mut().handle_poll_get(now);
        self.after_input(now);
        r
    }
    /// A polling `POST` body ([`Session::handle_poll_post`]).
    fn handle_poll_post(&mut self, now: Instant, body: Str) -> Result<(), SessionError> {
        let r = self.session_mut().handle_poll_post(now, body);
        self.after_input(now);
        r
    }
    /// The pending `GET` went away ([`Session::handle_poll_closed`]).
    fn handle_poll_closed(&mut self, now: Instant) {
        self.session_mut().handle_poll_closed(now);
        self.after_input(now);
    }
    /// A WebSocket opened for this session ([`Session::handle_ws_attach`]).
    fn handle_ws_attach(&mut self, now: Instant) -> Result<(), SessionError> {
        let r = self.session_mut().handle_ws_attach(now);
        self.after_input(now);
        r
    }
    /// A WebSocket frame ([`Session::handle_ws_frame`]).
    fn handle_ws_frame(&mut self, now: Instant, frame: Frame) -> Result<(), SessionError> {
        let r = self.session_mut().handle_ws_frame(now, frame);
        self.after_input(now);
        r
    }
    /// The WebSocket closed ([`Session::handle_ws_closed`]).
    fn handle_ws_closed(&mut self, now: Instant) {
        self.session_mut().handle_ws_closed(now);
        self.after_input(now);
    }
    /// A message encoded once for many sessions ([`Session::send_prepared`]).
    fn send_prepared(&mut self, now: Instant, message: Prepared) -> Result<(), SessionError> {
        let r = self.session_mut().send_prepared(message);
        self.after_input(now);
        r
    }
    /// Closes the session ([`Session::close`]).
    fn close(&mut self, now: Instant, reason: CloseReason) {
        self.session_mut().close(now, reason);
        self.after_input(now);
    }
    /// The next deadline ([`Session::poll_timeout`]); a composition adds its own timers.
    fn poll_timeout(&self) -> Option<Instant> {
        self.session().poll_timeout()
    }
    /// Runs the timers due at `now` ([`Session::handle_timeout`]).
    fn handle_timeout(&mut self, now: Instant) {
        self.session_mut().handle_timeout(now);
        self.after_input(now);
    }
    /// The next thing to write ([`Session::poll_transmit`]).
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.session_mut().poll_transmit()
    }
}

impl Machine for Session {
    type Event = Event;

    fn session(&self) -> &Session {
        self
    }

    fn session_mut(&mut self) -> &mut Session {
        self
    }

    fn poll_event(&mut self) -> Option<Event> {
        Session::poll_event(self)
    }
}

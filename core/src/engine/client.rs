//! The client side of one Engine.IO session.
//!
//! The I/O layer (the wasm client, or a native test client) performs what
//! [`Session::poll_transmit`] asks for — HTTP requests against the polling endpoint,
//! WebSocket opens, frames and closes — and reports the outcome back:
//!
//! | wire event | call |
//! |---|---|
//! | a polling `GET` answered 200 with a body | [`Session::handle_poll_response`] |
//! | a polling `POST` answered 200 | [`Session::handle_post_done`] |
//! | a polling request failed (network, non-200) | [`Session::handle_poll_error`] |
//! | WebSocket open | [`Session::handle_ws_open`] |
//! | WebSocket frame | [`Session::handle_ws_frame`] |
//! | WebSocket closed or failed | [`Session::handle_ws_closed`] |
//! | the deadline from [`Session::poll_timeout`] passed | [`Session::handle_timeout`] |
//!
//! Query strings are the I/O layer's job: every request carries `EIO=4` and
//! `transport=polling|websocket`, plus `sid` when the transmit names one.

use crate::engine::handshake::Handshake;
use crate::engine::packet::{DecodeError, Frame, Message, Packet};
use crate::engine::{payload, CloseReason, Transport};
use crate::prelude::*;
use crate::queue::Queue;
use crate::{Instant, Str};
use core::time::Duration;

/// Client settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Transports to use, in order of preference; the first opens the session
    /// (default `[Polling, WebSocket]`, as socket.io-client).
    pub transports: Vec<Transport>,
    /// Whether to upgrade from polling to WebSocket when the server offers it (default true).
    pub upgrade: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            transports: vec![Transport::Polling, Transport::WebSocket],
            upgrade: true,
        }
    }
}

impl Config {
    /// A configuration using only the given transports, in that order.
    pub fn with_transports(transports: &[Transport]) -> Config {
        Config {
            transports: transports.to_vec(),
            ..Config::default()
        }
    }
}

/// Where the session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Waiting for the server's `open` packet.
    Opening,
    /// Open on its current transport.
    Open,
    /// Closed.
    Closed(CloseReason),
}

/// Something the I/O layer must do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Send a polling `GET` (the handshake when `sid` is `None`).
    PollGet {
        /// The session id, once known.
        sid: Option<Str>,
    },
    /// Send a polling `POST` with this body.
    PollPost {
        /// The session id.
        sid: Str,
        /// The payload (`text/plain;charset=UTF-8`).
        body: String,
    },
    /// Open a WebSocket: the handshake when `sid` is `None`, an upgrade probe otherwise.
    WsOpen {
        /// The session id, for an upgrade.
        sid: Option<Str>,
    },
    /// Send a frame on the WebSocket.
    Ws(Frame),
    /// Close the WebSocket.
    CloseWs,
}

/// Something that happened, for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake completed; [`Session::handshake`] has it. (Not carried here: the event
    /// would need a copy of what the session keeps.)
    Open,
    /// The server sent a message.
    Message(Message),
    /// The session moved to WebSocket.
    Upgraded,
    /// The server pinged (the pong is already queued).
    Ping,
    /// The session closed. Emitted exactly once.
    Closed(CloseReason),
}

/// Why a message could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed.
    #[error("session closed")]
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    None,
    /// WebSocket being opened for the probe.
    Opening,
    /// `2probe` sent.
    Sent,
    /// `3probe` received; waiting for polling requests in flight to finish.
    Pausing,
}

/// [`payload::decode`] of a body the server sent, as a plain loop: the same result, in about
/// 250 fewer bytes (gzipped) of wasm client than collecting the packets' `Result`s.
fn decode_body(body: &Str) -> Result<Vec<Packet>, DecodeError> {
    let mut packets = Vec::new();
    for p in payload::packets(body, usize::MAX)? {
        packets.push(p?);
    }
    Ok(packets)
}

/// One Engine.IO session, client side.
#[derive(Debug)]
pub struct Session {
    config: Config,
    state: State,
    transport: Transport,
    handshake: Option<Handshake>,
    probe: Probe,
    get_in_flight: bool,
    post_in_flight: bool,
    /// Packets waiting for the transport (a `POST` in flight, or an upgrade under way).
    write_buf: Queue<Packet>,
    transmits: Queue<Transmit>,
    events: Queue<Event>,
    /// Heartbeat watchdog: closes if the server stays silent past this.
    ping_deadline: Option<Instant>,
}

impl Session {
    /// Starts a session: the first transmit is the handshake on the first configured
    /// transport. An empty transport list falls back to polling.
    pub fn new(config: Config, _now: Instant) -> Self {
        let transport = config
            .transports
            .first()
            .copied()
            .unwrap_or(Transport::Polling);
        let mut s = Session {
            config,
            state: State::Opening,
            transport,
            handshake: None,
            probe: Probe::None,
            get_in_flight: false,
            post_in_flight: false,
            write_buf: Queue::default(),
            transmits: Queue::default(),
            events: Queue::default(),
            ping_deadline: None,
        };
        match transport {
            Transport::Polling => {
                s.get_in_flight = true;
                s.transmits.push_back(Transmit::PollGet { sid: None });
            }
            Transport::WebSocket => s.transmits.push_back(Transmit::WsOpen { sid: None }),
        }
        s
    }

    /// The current state. Changed by `handle_*` calls and [`Session::close`].
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// The current transport. Changes when an upgrade completes.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The handshake, once open.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// The session id, once open.
    pub fn sid(&self) -> Option<Str> {
        self.handshake.as_ref().map(|h| Str::from(h.sid.as_str()))
    }

    /// A polling `GET` was answered with `body`. Its packets are handled in order; the next
    /// `GET` is then requested unless the session closed or is finishing an upgrade.
    pub fn handle_poll_response(&mut self, now: Instant, body: Str) -> Result<(), DecodeError> {
        self.get_in_flight = false;
        if self.is_closed() {
            return Ok(());
        }
        // The server's maxPayload binds what it accepts, not what it sends. The whole body
        // is decoded before any packet is handled: a bad packet drops the lot.
        let packets = match decode_body(&body) {
            Ok(p) => p,
            Err(e) => {
                self.close_with(CloseReason::ParseError, false);
                return Err(e);
            }
        };
        for packet in packets {
            self.handle_packet(now, packet);
            if self.is_closed() {
                return Ok(());
            }
        }
        if self.transport == Transport::Polling && self.probe != Probe::Pausing {
            self.get_in_flight = true;
            self.transmits
                .push_back(Transmit::PollGet { sid: self.sid() });
        }
        self.try_finish_upgrade();
        Ok(())
    }

    /// A polling `POST` succeeded; the next batch, if any, is sent.
    pub fn handle_post_done(&mut self, _now: Instant) {
        self.post_in_flight = false;
        self.flush();
        self.try_finish_upgrade();
    }

    /// A polling request failed. The session closes with [`CloseReason::TransportError`].
    pub fn handle_poll_error(&mut self, _now: Instant) {
        self.get_in_flight = false;
        self.post_in_flight = false;
        self.close_with(CloseReason::TransportError, false);
    }

    /// The WebSocket opened: a WebSocket handshake now waits for `open`; an upgrade sends its
    /// probe.
    pub fn handle_ws_open(&mut self, _now: Instant) {
        if self.probe == Probe::Opening {
            self.probe = Probe::Sent;
            let ping = Packet::Ping(Str::from_static("probe"));
            self.transmits
                .push_back(Transmit::Ws(ping.encode_client_frame()));
        }
    }

    /// A WebSocket frame arrived.
    pub fn handle_ws_frame(&mut self, now: Instant, frame: Frame) -> Result<(), DecodeError> {
        if self.is_closed() {
            return Ok(());
        }
        let packet = Packet::decode_frame(frame);
        match self.probe {
            Probe::None => match packet {
                Ok(p) if self.transport == Transport::WebSocket => {
                    self.handle_packet(now, p);
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => {
                    self.close_with(CloseReason::ParseError, true);
                    Err(e)
                }
            },
            Probe::Sent => {
                match packet {
                    Ok(Packet::Pong(p)) if p == "probe" => {
                        self.probe = Probe::Pausing;
                        self.try_finish_upgrade();
                    }
                    // Anything else: the probe failed; keep polling.
                    _ => self.abandon_probe(),
                }
                Ok(())
            }
            Probe::Opening | Probe::Pausing => {
                self.abandon_probe();
                Ok(())
            }
        }
    }

    /// The WebSocket closed or failed. During an upgrade probe the session stays on polling;
    /// on a WebSocket session it closes with [`CloseReason::TransportClose`].
    pub fn handle_ws_closed(&mut self, _now: Instant) {
        if self.probe != Probe::None {
            self.probe = Probe::None;
            // Polling may have paused for the upgrade: resume it.
            if self.transport == Transport::Polling && !self.get_in_flight && !self.is_closed() {
                self.get_in_flight = true;
                self.transmits
                    .push_back(Transmit::PollGet { sid: self.sid() });
            }
            self.flush();
            return;
        }
        if self.transport == Transport::WebSocket {
            self.close_with(CloseReason::TransportClose, false);
        }
    }

    /// The WebSocket reported an error (a close follows, to be ignored). During an upgrade
    /// probe the session stays on polling; on a WebSocket session it closes with
    /// [`CloseReason::TransportError`] (socket.io-client's `websocket error`).
    pub fn handle_ws_error(&mut self, now: Instant) {
        if self.probe == Probe::None && self.transport == Transport::WebSocket {
            self.close_with(CloseReason::TransportError, false);
        } else {
            self.handle_ws_closed(now);
        }
    }

    /// Queues a message for the server.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        self.write_buf.push_back(Packet::Message(message));
        self.flush();
        Ok(())
    }

    /// Closes the session on purpose: a `close` packet is sent after what is buffered, then
    /// the WebSocket is closed. Event: [`Event::Closed`] with [`CloseReason::ForcedClose`].
    pub fn close(&mut self) {
        if self.is_closed() {
            return;
        }
        if self.state == State::Open {
            self.write_buf.push_back(Packet::Close);
            // The close must not wait behind a POST in flight.
            self.post_in_flight = false;
            if self.probe != Probe::None {
                self.probe = Probe::None;
                self.transmits.push_back(Transmit::CloseWs);
            }
            self.flush();
        }
        self.close_with(CloseReason::ForcedClose, true);
    }

    /// The next time [`Session::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            None
        } else {
            self.ping_deadline
        }
    }

    /// Runs the heartbeat watchdog: if the server has not pinged within
    /// `pingInterval + pingTimeout`, the session closes with [`CloseReason::PingTimeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.ping_deadline.is_some_and(|d| now >= d) {
            self.ping_deadline = None;
            self.close_with(CloseReason::PingTimeout, true);
        }
    }

    /// The next thing to do on the wire, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn watchdog(&self) -> Duration {
        self.handshake
            .as_ref()
            .map(|h| h.ping_interval.saturating_add(h.ping_timeout))
            .unwrap_or_default()
    }

    fn handle_packet(&mut self, now: Instant, packet: Packet) {
        match packet {
            Packet::Open(hs) if self.state == State::Opening => {
                let upgrade = self.transport == Transport::Polling
                    && self.config.upgrade
                    && self.config.transports.contains(&Transport::WebSocket)
                    && hs.upgrades.iter().any(|u| u == "websocket");
                let sid = Str::from(hs.sid.as_str());
                self.handshake = Some(*hs);
                self.state = State::Open;
                self.ping_deadline = Some(now + self.watchdog());
                self.events.push_back(Event::Open);
                if upgrade {
                    self.probe = Probe::Opening;
                    self.transmits
                        .push_back(Transmit::WsOpen { sid: Some(sid) });
                }
                self.flush();
            }
            Packet::Ping(p) => {
                self.ping_deadline = Some(now + self.watchdog());
                self.write_buf.push_back(Packet::Pong(p));
                self.flush();
                self.events.push_back(Event::Ping);
            }
            Packet::Message(m) if self.state == State::Open => {
                self.events.push_back(Event::Message(m))
            }
            Packet::Close => self.close_with(CloseReason::TransportClose, false),
            Packet::Noop | Packet::Pong(_) | Packet::Upgrade => {}
            // An open packet twice, or a message before open: the server is broken.
            Packet::Open(_) | Packet::Message(_) => {
                self.close_with(CloseReason::ParseError, true);
            }
        }
    }

    /// Sends buffered packets if the transport can take them now.
    fn flush(&mut self) {
        if self.write_buf.is_empty() || self.state != State::Open {
            return;
        }
        match self.transport {
            Transport::WebSocket => {
                for p in self.write_buf.take_all() {
                    self.transmits
                        .push_back(Transmit::Ws(p.encode_client_frame()));
                }
            }
            Transport::Polling => {
                if self.post_in_flight || self.probe == Probe::Pausing {
                    return;
                }
                let Some(sid) = self.sid() else { return };
                let max = self
                    .handshake
                    .as_ref()
                    .map_or(usize::MAX, |h| h.max_payload);
                // Batch as many packets as fit in the server's maxPayload; always at least one.
                // The body is built as the packets are measured (`payload::encode`'s format).
                let mut body = String::new();
                let mut count = 0usize;
                while let Some(p) = self.write_buf.front() {
                    let mut text = String::new();
                    p.encode_client_text_into(&mut text);
                    let add = text.len() + usize::from(count > 0);
                    if count > 0 && body.len() + add > max {
                        break;
                    }
                    if count > 0 {
                        body.push_str("\x1e"); // payload::SEPARATOR, as a `&str`
                    }
                    body.push_str(&text);
                    count += 1;
                    self.write_buf.pop_front();
                }
                self.post_in_flight = true;
                self.transmits.push_back(Transmit::PollPost { sid, body });
            }
        }
    }

    fn try_finish_upgrade(&mut self) {
        if self.probe != Probe::Pausing || self.get_in_flight || self.post_in_flight {
            return;
        }
        self.probe = Probe::None;
        self.transport = Transport::WebSocket;
        self.transmits
            .push_back(Transmit::Ws(Packet::Upgrade.encode_client_frame()));
        self.events.push_back(Event::Upgraded);
        self.flush();
    }

    fn abandon_probe(&mut self) {
        let was_pausing = self.probe == Probe::Pausing;
        self.probe = Probe::None;
        self.transmits.push_back(Transmit::CloseWs);
        if was_pausing && !self.get_in_flight && !self.is_closed() {
            self.get_in_flight = true;
            self.transmits
                .push_back(Transmit::PollGet { sid: self.sid() });
        }
        self.flush();
    }

    fn close_with(&mut self, reason: CloseReason, close_ws: bool) {
        if self.is_closed() {
            return;
        }
        if close_ws && (self.transport == Transport::WebSocket || self.probe != Probe::None) {
            self.transmits.push_back(Transmit::CloseWs);
        }
        self.probe = Probe::None;
        self.write_buf.clear();
        self.ping_deadline = None;
        self.state = State::Closed(reason);
        self.events.push_back(Event::Closed(reason));
    }
}

//! The server side of one client connection: the Engine.IO [`Session`] and the Socket.IO
//! state above it, composed into one state machine, as [`crate::socket::client::Client`] is
//! for the client role.
//!
//! The I/O layer drives it through [`Machine`] (polling requests, WebSocket frames, timers,
//! transmits); the application answers its [`Event`]s with commands: a connect request with
//! [`Connection::accept`] or [`Connection::reject`], an event with [`Connection::ack`], and
//! sends with [`Connection::emit`] / [`Connection::emit_with_ack`]. The close policy lives
//! here: a client that breaks the Socket.IO protocol is closed with a parse error, one that
//! joins no namespace in time is closed (`forced close`), and when the session closes every
//! connected namespace gets its [`Event::Disconnect`] before [`Event::Closed`].
//!
//! Events reach the application with the event name and the arguments already split, from
//! the one scan of the JSON the decoder makes.

use crate::engine::server::{self as engine, Machine, Session};
use crate::engine::{CloseReason, Message, Transport};
use crate::json;
use crate::prelude::*;
use crate::socket::acks::Acks;
use crate::socket::packet::{Packet, PacketError, PacketType};
use crate::socket::parser::{Decoder, ParseError, DEFAULT_MAX_ATTACHMENTS};
use crate::time::earliest;
use crate::{Instant, Str};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use bytes::Bytes;
use core::time::Duration;

/// Socket.IO settings of a connection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Most attachments per binary packet (default 10).
    pub max_attachments: usize,
    /// How long a client may stay without any namespace connected before the session is
    /// closed (default 45 s, as the reference server's `connectTimeout`).
    pub connect_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_attachments: DEFAULT_MAX_ATTACHMENTS,
            connect_timeout: Duration::from_millis(45_000),
        }
    }
}

/// Why a socket left its namespace, as socket.io names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client left the namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server removed it ([`Connection::disconnect`]).
    ServerNamespaceDisconnect,
    /// The connection was lost or closed by the client.
    TransportClose,
    /// The transport failed, or the client broke the protocol or its bounds.
    TransportError,
    /// No heartbeat in time.
    PingTimeout,
    /// The client sent something that is not Socket.IO.
    ParseError,
    /// The server closed the connection.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// The reason as socket.io spells it (`"transport close"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }

    /// The reason of the sockets of a session that closed with `reason`.
    pub fn from_close(reason: CloseReason) -> DisconnectReason {
        match reason {
            CloseReason::TransportClose | CloseReason::PeerClose => {
                DisconnectReason::TransportClose
            }
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
            CloseReason::ServerShutdown => DisconnectReason::ServerShuttingDown,
            _ => DisconnectReason::TransportError,
        }
    }

    /// Whether a socket that left for this reason may have its state recovered (it lost its
    /// connection rather than leaving on purpose).
    pub fn is_recoverable(self) -> bool {
        !matches!(
            self,
            DisconnectReason::ClientNamespaceDisconnect
                | DisconnectReason::ServerNamespaceDisconnect
        )
    }
}

impl core::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened on the connection, for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The client asks to join `nsp`, with its `auth` object (raw JSON), if any. Answer with
    /// [`Connection::accept`] or [`Connection::reject`].
    Connect {
        /// Namespace.
        nsp: Str,
        /// The client's auth payload (a JSON object), if any.
        auth: Option<Str>,
    },
    /// An event from the client.
    Event {
        /// Namespace.
        nsp: Str,
        /// The event name (unescaped; the raw text if the client sent a number).
        name: Str,
        /// The arguments, a raw JSON array (with placeholders for binary).
        args: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
        /// Ack id, if the client wants an answer ([`Connection::ack`]).
        id: Option<u64>,
    },
    /// The client acknowledged one of our emits.
    Ack {
        /// Namespace.
        nsp: Str,
        /// The ack id [`Connection::emit_with_ack`] returned.
        id: u64,
        /// The ack's arguments, a raw JSON array.
        args: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
    },
    /// An ack we waited for did not come in time; later answers to it are ignored.
    AckTimeout {
        /// Namespace.
        nsp: Str,
        /// Ack id.
        id: u64,
    },
    /// The socket of `nsp` left: the client left, the server disconnected it, or the
    /// session closed. Exactly once per accepted namespace; its pending acks are dropped.
    Disconnect {
        /// Namespace.
        nsp: Str,
        /// Why.
        reason: DisconnectReason,
    },
    /// The session moved from polling to WebSocket.
    Upgraded,
    /// The session closed (after the [`Event::Disconnect`] of every namespace). Last event.
    Closed(CloseReason),
}

/// Why a command could not be carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The namespace is not connected on this connection.
    #[error("namespace not connected")]
    NotConnected,
    /// The session is closed.
    #[error("connection closed")]
    Closed,
}

#[derive(Debug, Default)]
struct Namespace {
    acks: Acks,
}

/// One client connection, server side: an Engine.IO session and its Socket.IO namespaces.
#[derive(Debug)]
pub struct Connection {
    session: Session,
    config: Config,
    decoder: Decoder,
    namespaces: BTreeMap<Str, Namespace>,
    pending_connects: BTreeSet<Str>,
    connect_deadline: Option<Instant>,
    events: VecDeque<Event>,
    /// Set once the protocol is broken: further messages are ignored while the session
    /// closes.
    failed: bool,
    closed: bool,
    /// The time of the latest input (commands carry no time of their own).
    now: Instant,
}

impl Connection {
    /// A connection on a new Engine.IO session `sid` (drawn by the caller from a CSPRNG).
    /// Its `open` packet is queued at once (see [`Session::new`]).
    pub fn new(
        sid: impl Into<Str>,
        transport: Transport,
        engine: engine::Config,
        config: Config,
        now: Instant,
    ) -> Self {
        Connection {
            session: Session::new(sid, transport, engine, now),
            decoder: Decoder::new(config.max_attachments),
            connect_deadline: Some(now + config.connect_timeout),
            config,
            namespaces: BTreeMap::new(),
            pending_connects: BTreeSet::new(),
            events: VecDeque::new(),
            failed: false,
            closed: false,
            now,
        }
    }

    /// The connection's Socket.IO configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether `nsp` is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.namespaces.contains_key(nsp)
    }

    /// The connected namespaces.
    pub fn namespaces(&self) -> impl Iterator<Item = &Str> {
        self.namespaces.keys()
    }

    /// Accepts a connect request: `sid` is the socket id in `nsp` (random, drawn by the
    /// caller); `pid` the private id for connection state recovery, if enabled. Fails if the
    /// session closed meanwhile or `nsp` was not requested.
    pub fn accept(&mut self, nsp: &str, sid: &str, pid: Option<&str>) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let Some(nsp) = self.pending_connects.take(nsp) else {
            return Err(SendError::NotConnected);
        };
        let mut data = String::with_capacity(20 + sid.len() + pid.map_or(0, |p| p.len() + 8));
        data.push_str("{\"sid\":");
        json::write_string(&mut data, sid);
        if let Some(pid) = pid {
            data.push_str(",\"pid\":");
            json::write_string(&mut data, pid);
        }
        data.push('}');
        self.namespaces.insert(nsp.clone(), Namespace::default());
        self.connect_deadline = None;
        self.send(&Packet::connect(nsp, Some(Str::from(data))));
        Ok(())
    }

    /// Refuses a connect request with a `CONNECT_ERROR` whose data is
    /// `{"message": message, "data": data}` (`data` raw JSON, omitted if `None`).
    pub fn reject(&mut self, nsp: &str, message: &str, data: Option<&str>) {
        if self.closed || !self.pending_connects.remove(nsp) {
            return;
        }
        let mut json_data = String::from("{\"message\":");
        json::write_string(&mut json_data, message);
        if let Some(d) = data {
            json_data.push_str(",\"data\":");
            json_data.push_str(d);
        }
        json_data.push('}');
        self.send(&Packet::connect_error(nsp, Str::from(json_data)));
    }

    /// Sends an event (`data` the raw JSON array `["name", ...]`) without an ack.
    pub fn emit(&mut self, nsp: &str, data: Str, attachments: Vec<Bytes>) -> Result<(), SendError> {
        let nsp = self.connected_nsp(nsp)?;
        self.send(&Packet::event(nsp, data, None, attachments));
        Ok(())
    }

    /// Sends an event that asks for an ack; returns its id. If `timeout` is given and no ack
    /// comes by then, [`Event::AckTimeout`] fires.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        data: Str,
        attachments: Vec<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<u64, SendError> {
        let nsp = self.connected_nsp(nsp)?;
        let ns = self
            .namespaces
            .get_mut(&nsp)
            .ok_or(SendError::NotConnected)?;
        let id = ns.acks.register(now, timeout);
        self.send(&Packet::event(nsp, data, Some(id), attachments));
        Ok(id)
    }

    /// Answers the client's event `id` with `args` (a raw JSON array of arguments).
    pub fn ack(
        &mut self,
        nsp: &str,
        id: u64,
        args: Str,
        attachments: Vec<Bytes>,
    ) -> Result<(), SendError> {
        let nsp = self.connected_nsp(nsp)?;
        self.send(&Packet::ack(nsp, args, id, attachments));
        Ok(())
    }

    /// Removes the client from `nsp`, telling it so with a `DISCONNECT` packet;
    /// [`Event::Disconnect`] follows with [`DisconnectReason::ServerNamespaceDisconnect`].
    pub fn disconnect(&mut self, nsp: &str) {
        if let Some((nsp, _)) = self.namespaces.remove_entry(nsp) {
            self.send(&Packet::disconnect(nsp.clone()));
            self.events.push_back(Event::Disconnect {
                nsp,
                reason: DisconnectReason::ServerNamespaceDisconnect,
            });
        }
    }

    /// The name of the connected namespace `nsp` as the map keeps it: a shared `Str`, no
    /// copy of the name for each packet sent to it.
    fn connected_nsp(&self, nsp: &str) -> Result<Str, SendError> {
        self.namespaces
            .get_key_value(nsp)
            .map(|(key, _)| key.clone())
            .ok_or(SendError::NotConnected)
    }

    fn send(&mut self, packet: &Packet) {
        // As `parser::encode`, without its vector; the text is written into its WebSocket
        // frame's buffer at once.
        let text = engine::Prepared::text(packet.encoded_len_hint(), |out| packet.encode_into(out));
        if self.session.send_prepared(text).is_ok() {
            for a in packet.sent_attachments() {
                if self.session.send(Message::Binary(a.clone())).is_err() {
                    break;
                }
            }
        }
        // A client that does not read may have made the session close (queue bound).
        self.drain_session();
    }

    /// Moves the session's events into the Socket.IO state.
    fn drain_session(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                engine::Event::Message(m) => self.handle_message(m),
                engine::Event::Upgraded => self.events.push_back(Event::Upgraded),
                engine::Event::Closed(reason) => self.on_closed(reason),
            }
        }
    }

    fn on_closed(&mut self, reason: CloseReason) {
        self.closed = true;
        self.pending_connects.clear();
        self.connect_deadline = None;
        let why = DisconnectReason::from_close(reason);
        for (nsp, _) in core::mem::take(&mut self.namespaces) {
            self.events
                .push_back(Event::Disconnect { nsp, reason: why });
        }
        self.events.push_back(Event::Closed(reason));
    }

    fn handle_message(&mut self, message: Message) {
        if self.failed || self.closed {
            return;
        }
        match self.decoder.decode(message) {
            Ok(Some(packet)) => {
                if let Err(e) = self.handle_packet(packet) {
                    self.fail(e);
                }
            }
            Ok(None) => {}
            Err(e) => self.fail(e),
        }
    }

    /// The client broke the protocol: the session closes with a parse error.
    fn fail(&mut self, _error: ParseError) {
        self.failed = true;
        self.session.close(self.now, CloseReason::ParseError);
    }

    fn handle_packet(&mut self, p: Packet) -> Result<(), ParseError> {
        let nsp = p.nsp;
        match p.ty {
            PacketType::Connect => {
                if self.namespaces.contains_key(&nsp) || self.pending_connects.contains(&nsp) {
                    return Ok(());
                }
                self.pending_connects.insert(nsp.clone());
                self.events.push_back(Event::Connect { nsp, auth: p.data });
            }
            PacketType::Disconnect => {
                if let Some((nsp, _)) = self.namespaces.remove_entry(&nsp) {
                    self.events.push_back(Event::Disconnect {
                        nsp,
                        reason: DisconnectReason::ClientNamespaceDisconnect,
                    });
                }
            }
            PacketType::Event | PacketType::BinaryEvent => {
                if self.namespaces.contains_key(&nsp) {
                    let data = p.data.unwrap_or_default();
                    let (name, args) = split_event(&data)
                        .ok_or(ParseError::Packet(PacketError::InvalidPayload))?;
                    self.events.push_back(Event::Event {
                        nsp,
                        name,
                        args,
                        attachments: p.attachments,
                        id: p.id,
                    });
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = p.id else { return Ok(()) };
                let Some(ns) = self.namespaces.get_mut(&nsp) else {
                    return Ok(());
                };
                if ns.acks.resolve(id) {
                    self.events.push_back(Event::Ack {
                        nsp,
                        id,
                        args: p.data.unwrap_or_default(),
                        attachments: p.attachments,
                    });
                }
            }
            // Only servers send CONNECT_ERROR; the reference server ignores one from a client.
            PacketType::ConnectError => {}
        }
        Ok(())
    }
}

impl Machine for Connection {
    type Event = Event;

    fn session(&self) -> &Session {
        &self.session
    }

    fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    fn after_input(&mut self, now: Instant) {
        self.now = now;
        self.drain_session();
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The session's deadline, the connect timeout, or the earliest ack timeout.
    fn poll_timeout(&self) -> Option<Instant> {
        let mut next = earliest(self.session.poll_timeout(), self.connect_deadline);
        for ns in self.namespaces.values() {
            next = earliest(next, ns.acks.next_deadline());
        }
        next
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.session.handle_timeout(now);
        self.drain_session();
        if self.connect_deadline.is_some_and(|d| now >= d) {
            self.connect_deadline = None;
            self.session.close(now, CloseReason::ForcedClose);
            self.drain_session();
        }
        for (nsp, ns) in self.namespaces.iter_mut() {
            for id in ns.acks.expire(now) {
                self.events.push_back(Event::AckTimeout {
                    nsp: nsp.clone(),
                    id,
                });
            }
        }
    }
}

/// Splits an event's data `["name", ...args]` into the name and the arguments array. The
/// data was validated by the decoder; this finds the end of the first element and copies
/// the rest once.
fn split_event(data: &Str) -> Option<(Str, Str)> {
    let s = data.as_str();
    let after = s.get(s.find('[')? + 1..)?;
    let start = s.len() - after.trim_start().len();
    let end = json::skip_value(s, start).ok()?;
    let raw = s.get(start..end)?;
    let name = match json::kind(raw) {
        Some(json::Kind::String) => {
            let inner = raw.get(1..raw.len().saturating_sub(1))?;
            if inner.contains('\\') {
                Str::from(json::parse_string(raw).ok()?)
            } else {
                data.slice(start + 1..end - 1)?
            }
        }
        _ => data.slice(start..end)?,
    };
    let rest = s.get(end..)?.trim_start();
    let args = match rest.strip_prefix(',') {
        Some(tail) => {
            let mut a = String::with_capacity(tail.len() + 1);
            a.push('[');
            a.push_str(tail.trim_end());
            Str::from(a)
        }
        None => Str::from_static("[]"),
    };
    Some((name, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn split(s: &str) -> Option<(String, String)> {
        split_event(&Str::from(s)).map(|(n, a)| (n.to_string(), a.to_string()))
    }

    #[test]
    fn events_split_into_name_and_arguments() {
        assert_eq!(split(r#"["a"]"#), Some(("a".into(), "[]".into())));
        assert_eq!(
            split(r#"[ "chat" , {"x":[1,2]}, "y" ]"#),
            Some(("chat".into(), r#"[ {"x":[1,2]}, "y" ]"#.into()))
        );
        assert_eq!(split(r#"["q\"x",1]"#), Some(("q\"x".into(), "[1]".into())));
        assert_eq!(split(r#"[42,true]"#), Some(("42".into(), "[true]".into())));
        assert_eq!(split("[]"), None);
        assert_eq!(split("{}"), None);
    }
}

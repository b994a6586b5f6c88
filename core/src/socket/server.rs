//! The Socket.IO side of one server connection (one Engine.IO session).
//!
//! It decodes the client's messages into namespace connects, events and acks, tracks the ack
//! ids of server → client emits with their timeouts, and encodes what the server sends.
//! Namespaces, rooms and handlers are the server crate's business: a connect request becomes
//! [`Event::ConnectRequest`], answered with [`Connection::accept`] or [`Connection::reject`].

use crate::engine::Message;
use crate::json;
use crate::socket::acks::Acks;
use crate::socket::packet::{Packet, PacketType};
use crate::socket::parser::{self, Decoder, ParseError, DEFAULT_MAX_ATTACHMENTS};
use crate::{Instant, Str};
use bytes::Bytes;
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

/// Connection settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Most attachments per binary packet (default 10).
    pub max_attachments: usize,
    /// How long a client may stay without any namespace connected before
    /// [`Event::ConnectTimeout`] (default 45 s, as the reference server's `connectTimeout`).
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

/// Something the client did, for the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The client asks to join `nsp`, with its `auth` object (raw JSON), if any. Answer with
    /// [`Connection::accept`] or [`Connection::reject`].
    ConnectRequest {
        /// Namespace.
        nsp: Str,
        /// The client's auth payload (a JSON object), if any.
        auth: Option<Str>,
    },
    /// An event from the client.
    Event {
        /// Namespace.
        nsp: Str,
        /// Raw JSON array `["name", ...args]` (with placeholders for binary).
        data: Str,
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
        /// Raw JSON array of the ack's arguments.
        data: Str,
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
    /// The client left `nsp`.
    Disconnect {
        /// Namespace.
        nsp: Str,
    },
    /// No namespace was joined within `connect_timeout`: close the Engine.IO session.
    ConnectTimeout,
    /// The client sent something that is not Socket.IO: close the Engine.IO session with a
    /// parse error.
    ProtocolError(ParseError),
}

/// Why something could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The namespace is not connected on this connection.
    #[error("namespace not connected")]
    NotConnected,
}

#[derive(Debug, Default)]
struct Namespace {
    acks: Acks,
}

/// The Socket.IO state of one server connection.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    decoder: Decoder,
    namespaces: BTreeMap<Str, Namespace>,
    pending_connects: Vec<Str>,
    connect_deadline: Option<Instant>,
    events: VecDeque<Event>,
    out: VecDeque<Message>,
    failed: bool,
}

impl Connection {
    /// A connection whose Engine.IO session just opened.
    pub fn new(config: Config, now: Instant) -> Self {
        Connection {
            decoder: Decoder::new(config.max_attachments),
            connect_deadline: Some(now + config.connect_timeout),
            config,
            namespaces: BTreeMap::new(),
            pending_connects: Vec::new(),
            events: VecDeque::new(),
            out: VecDeque::new(),
            failed: false,
        }
    }

    /// The connection's configuration.
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

    /// An Engine.IO message from the client. After a protocol error the connection ignores
    /// further input (the server is expected to close the session).
    pub fn handle_message(&mut self, now: Instant, message: Message) {
        if self.failed {
            return;
        }
        match self.decoder.decode(message) {
            Ok(Some(packet)) => self.handle_packet(now, packet),
            Ok(None) => {}
            Err(e) => {
                self.failed = true;
                self.events.push_back(Event::ProtocolError(e));
            }
        }
    }

    fn handle_packet(&mut self, _now: Instant, p: Packet) {
        let nsp = p.nsp;
        match p.ty {
            PacketType::Connect => {
                if self.namespaces.contains_key(&nsp) || self.pending_connects.contains(&nsp) {
                    return;
                }
                self.pending_connects.push(nsp.clone());
                self.events
                    .push_back(Event::ConnectRequest { nsp, auth: p.data });
            }
            PacketType::Disconnect => {
                if self.namespaces.remove(&nsp).is_some() {
                    self.events.push_back(Event::Disconnect { nsp });
                }
            }
            PacketType::Event | PacketType::BinaryEvent => {
                if self.namespaces.contains_key(&nsp) {
                    self.events.push_back(Event::Event {
                        nsp,
                        data: p.data.unwrap_or_default(),
                        attachments: p.attachments,
                        id: p.id,
                    });
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = p.id else { return };
                let Some(ns) = self.namespaces.get_mut(&nsp) else {
                    return;
                };
                if ns.acks.resolve(id) {
                    self.events.push_back(Event::Ack {
                        nsp,
                        id,
                        data: p.data.unwrap_or_default(),
                        attachments: p.attachments,
                    });
                }
            }
            // Only servers send CONNECT_ERROR; the reference server ignores one from a client.
            PacketType::ConnectError => {}
        }
    }

    /// Accepts a connect request: `sid` is the socket id in `nsp` (random, drawn by the
    /// caller); `pid` the private id for connection state recovery, if enabled.
    pub fn accept(&mut self, nsp: &str, sid: &str, pid: Option<&str>) {
        self.pending_connects.retain(|n| n != nsp);
        let mut data = String::from("{\"sid\":");
        json::write_string(&mut data, sid);
        if let Some(pid) = pid {
            data.push_str(",\"pid\":");
            json::write_string(&mut data, pid);
        }
        data.push('}');
        let nsp = Str::from(nsp);
        self.namespaces.insert(nsp.clone(), Namespace::default());
        self.connect_deadline = None;
        self.push(&Packet::connect(nsp, Some(Str::from(data))));
    }

    /// Refuses a connect request with a `CONNECT_ERROR` whose data is
    /// `{"message": message, "data": data}` (`data` raw JSON, omitted if `None`).
    pub fn reject(&mut self, nsp: &str, message: &str, data: Option<&str>) {
        self.pending_connects.retain(|n| n != nsp);
        let mut json_data = String::from("{\"message\":");
        json::write_string(&mut json_data, message);
        if let Some(d) = data {
            json_data.push_str(",\"data\":");
            json_data.push_str(d);
        }
        json_data.push('}');
        self.push(&Packet::connect_error(nsp, Str::from(json_data)));
    }

    /// Sends an event (`data` the raw JSON array `["name", ...]`) without an ack.
    pub fn emit(&mut self, nsp: &str, data: Str, attachments: Vec<Bytes>) -> Result<(), SendError> {
        if !self.namespaces.contains_key(nsp) {
            return Err(SendError::NotConnected);
        }
        self.push(&Packet::event(nsp, data, None, attachments));
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
        let ns = self
            .namespaces
            .get_mut(nsp)
            .ok_or(SendError::NotConnected)?;
        let id = ns.acks.register(now, timeout);
        self.push(&Packet::event(nsp, data, Some(id), attachments));
        Ok(id)
    }

    /// Answers the client's event `id` with `data` (a raw JSON array of arguments).
    pub fn ack(
        &mut self,
        nsp: &str,
        id: u64,
        data: Str,
        attachments: Vec<Bytes>,
    ) -> Result<(), SendError> {
        if !self.namespaces.contains_key(nsp) {
            return Err(SendError::NotConnected);
        }
        self.push(&Packet::ack(nsp, data, id, attachments));
        Ok(())
    }

    /// Removes the client from `nsp`, telling it so with a `DISCONNECT` packet. Pending acks
    /// of that namespace are dropped.
    pub fn disconnect(&mut self, nsp: &str) {
        if self.namespaces.remove(nsp).is_some() {
            self.push(&Packet::disconnect(nsp));
        }
    }

    /// The next Engine.IO message to send, if any.
    pub fn poll_message(&mut self) -> Option<Message> {
        self.out.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next deadline: the connect timeout or the earliest ack timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let acks = self
            .namespaces
            .values()
            .filter_map(|ns| ns.acks.next_deadline())
            .min();
        [self.connect_deadline, acks].into_iter().flatten().min()
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.connect_deadline.is_some_and(|d| now >= d) {
            self.connect_deadline = None;
            self.events.push_back(Event::ConnectTimeout);
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

    fn push(&mut self, packet: &Packet) {
        self.out.extend(parser::encode(packet));
    }
}

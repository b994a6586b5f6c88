//! A deterministic in-memory network: one Socket.IO client state machine against the server
//! state machines (Engine.IO session + Socket.IO connection), with a fake clock.
//!
//! Deliveries are instantaneous and in order; the clock moves only through
//! [`Sim::advance`], which fires every timer due on the way, in deadline order.

#![allow(dead_code)]

use bytes::Bytes;
use core::time::Duration;
use sockeye_core::engine::client::Transmit as CTx;
use sockeye_core::engine::server::{self, Machine, Session, Transmit as STx};
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::socket::client::{Client, Config, Event};
use sockeye_core::socket::recovery::{self, Store, Target};
use sockeye_core::socket::server::{self as sio, Connection};
use sockeye_core::{Instant, Str};
use std::collections::VecDeque;

/// What the server application does with connect requests.
#[derive(Clone, Debug, PartialEq)]
pub enum Policy {
    /// Accept every namespace connect.
    Accept,
    /// Accept, with connection state recovery on (the core's [`Store`], kept for `max_age`
    /// ms): sockets get a pid, emits carry offsets, lost sockets are restored.
    Recover {
        /// How long state is kept, in ms.
        max_age: u64,
    },
    /// Refuse with this message.
    Reject(&'static str),
}

/// Something the server application saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The session closed.
    EngineClosed(CloseReason),
    /// A Socket.IO event from the connection (connects, events, acks, disconnects).
    Sio(sio::Event),
    /// The session upgraded.
    Upgraded,
}

/// The server's one live connection, with the socket id and recovery pid of each
/// namespace it accepted.
struct Server {
    conn: Connection,
    sockets: Vec<(Str, Str, Option<Str>)>,
}

/// Client → server traffic still to be processed.
enum Up {
    Tx(CTx),
}

/// The simulated world.
pub struct Sim {
    pub now: Instant,
    pub client: Client,
    server: Option<Server>,
    pub server_config: server::Config,
    pub policy: Policy,
    /// When true, auto-ack every client event that asks for one with its own arguments.
    pub echo_acks: bool,
    /// The server process is down: requests fail, WebSocket opens fail.
    pub server_down: bool,
    /// The network drops everything in both directions (no errors, just silence).
    pub blackhole: bool,
    /// Client events, in order, with the time they happened.
    pub events: Vec<(Instant, Event)>,
    /// Server-side observations, in order.
    pub seen: Vec<(Instant, Seen)>,
    /// Every request or frame the client put on the wire, for assertions on the traffic.
    pub wire: Vec<CTx>,
    sessions_created: u32,
    /// The WebSocket the client has open, if any, and whether the server side knows it.
    ws_open: bool,
    up: VecDeque<Up>,
    /// The recovery store of [`Policy::Recover`] (one namespace's worth; the tests use one).
    store: Option<Store>,
    /// Sockets restored by recovery so far.
    pub recovered: u32,
}

impl Sim {
    /// A simulation with the client configured by `config`, nothing connected yet.
    pub fn new(config: Config) -> Sim {
        Sim {
            now: Instant::from_millis(0),
            client: Client::new(config, 0x5eed),
            server: None,
            server_config: server::Config::default(),
            policy: Policy::Accept,
            echo_acks: true,
            server_down: false,
            blackhole: false,
            events: Vec::new(),
            seen: Vec::new(),
            wire: Vec::new(),
            sessions_created: 0,
            ws_open: false,
            up: VecDeque::new(),
            store: None,
            recovered: 0,
        }
    }

    /// Client config using only these transports.
    pub fn config(transports: &[Transport]) -> Config {
        let mut c = Config::default();
        c.engine = sockeye_core::engine::client::Config::with_transports(transports);
        c
    }

    /// Connects namespace `nsp` and runs until quiet.
    pub fn connect(&mut self, nsp: &str, auth: Option<&str>) {
        self.client
            .connect(self.now, nsp, auth.map(Str::from))
            .expect("valid auth");
        self.pump();
    }

    /// The server's Engine.IO session, if one is alive.
    pub fn session(&self) -> Option<&Session> {
        self.server.as_ref().map(|s| s.conn.session())
    }

    /// The server's Socket.IO connection, if alive.
    pub fn connection_mut(&mut self) -> Option<&mut Connection> {
        self.server.as_mut().map(|s| &mut s.conn)
    }

    /// How many Engine.IO sessions the server created so far.
    pub fn sessions_created(&self) -> u32 {
        self.sessions_created
    }

    /// Kills the server process: its session vanishes without a word, and the client's open
    /// connections drop (as a TCP reset would).
    pub fn kill_server(&mut self) {
        self.server = None;
        self.server_down = true;
        if self.ws_open {
            self.ws_open = false;
            self.client.handle_ws_closed(self.now);
        }
        // A pending polling GET fails.
        self.client.handle_poll_error(self.now);
        self.pump();
    }

    /// Brings the server process back (with no sessions).
    pub fn restart_server(&mut self) {
        self.server_down = false;
    }

    /// Drops the client's WebSocket (both ends notice).
    pub fn drop_ws(&mut self) {
        if self.ws_open {
            self.ws_open = false;
            if let Some(s) = self.server.as_mut() {
                s.conn.handle_ws_closed(self.now);
            }
            self.client.handle_ws_closed(self.now);
            self.pump();
        }
    }

    /// Sends a server → client event on `nsp` (raw JSON array) through the Socket.IO
    /// connection; with `ack_timeout` it asks for an ack and returns its id. With recovery
    /// on, a plain emit is recorded in the store (to the socket's own room) and carries its
    /// offset.
    pub fn server_emit(
        &mut self,
        nsp: &str,
        data: &str,
        attachments: Vec<Bytes>,
        ack_timeout: Option<Option<Duration>>,
    ) -> Option<u64> {
        let now = self.now;
        let s = self.server.as_mut()?;
        let mut data = Str::from(data);
        if let (Some(store), None) = (self.store.as_mut(), ack_timeout) {
            let sid = s.sockets.iter().find(|(n, ..)| n == nsp)?.1.clone();
            let target = Target {
                rooms: vec![sid.to_string()],
                ..Target::default()
            };
            data = store.record(now, &data, &attachments, target);
        }
        let data = data.as_str();
        let id = match ack_timeout {
            Some(t) => Some(
                s.conn
                    .emit_with_ack(now, nsp, Str::from(data), attachments, t)
                    .ok()?,
            ),
            None => {
                s.conn.emit(nsp, Str::from(data), attachments).ok()?;
                None
            }
        };
        self.pump();
        id
    }

    /// Records a broadcast to `rooms` in the recovery store (e.g. one that happens while the
    /// client is away); the connection, if any, does not send it.
    pub fn broadcast(&mut self, rooms: &[&str], data: &str) {
        let target = Target {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            ..Target::default()
        };
        let now = self.now;
        if let Some(store) = self.store.as_mut() {
            store.record(now, data, &[], target);
        }
    }

    /// Runs until no more traffic or events are pending at the current time.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut progressed = false;
            while let Some(e) = self.client.poll_event() {
                self.events.push((self.now, e));
                progressed = true;
            }
            while let Some(t) = self.client.poll_transmit() {
                self.wire.push(t.clone());
                self.up.push_back(Up::Tx(t));
                progressed = true;
            }
            if let Some(Up::Tx(t)) = self.up.pop_front() {
                self.deliver_up(t);
                progressed = true;
            }
            progressed |= self.run_server();
            if !progressed {
                return;
            }
        }
        panic!("simulation did not settle");
    }

    /// Moves the clock to `now + by`, firing every timer due on the way in order.
    pub fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        loop {
            self.pump();
            let next = [
                self.client.poll_timeout(),
                self.server.as_ref().and_then(|s| s.conn.poll_timeout()),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                    if let Some(s) = self.server.as_mut() {
                        s.conn.handle_timeout(self.now);
                    }
                }
                _ => break,
            }
        }
        self.now = target;
        self.pump();
    }

    fn deliver_up(&mut self, t: CTx) {
        let now = self.now;
        if self.blackhole {
            return;
        }
        match t {
            CTx::PollGet { sid: None } => {
                if self.server_down {
                    self.client.handle_poll_error(now);
                    return;
                }
                self.new_session(Transport::Polling);
                if let Some(s) = self.server.as_mut() {
                    s.conn.handle_poll_get(now).expect("handshake poll");
                }
            }
            CTx::PollGet { sid: Some(sid) } => match self.live_server(&sid) {
                Some(s) => {
                    if s.conn.handle_poll_get(now).is_err() {
                        self.client.handle_poll_error(now);
                    }
                }
                None => self.client.handle_poll_error(now),
            },
            CTx::PollPost { sid, body } => match self.live_server(&sid) {
                Some(s) => {
                    if s.conn.handle_poll_post(now, Str::from(body)).is_ok() {
                        self.client.handle_post_done(now);
                    } else {
                        self.client.handle_poll_error(now);
                    }
                }
                None => self.client.handle_poll_error(now),
            },
            CTx::WsOpen { sid: None } => {
                if self.server_down {
                    self.client.handle_ws_closed(now);
                    return;
                }
                self.ws_open = true;
                self.client.handle_ws_open(now);
                self.new_session(Transport::WebSocket);
            }
            CTx::WsOpen { sid: Some(sid) } => {
                let ok = self
                    .live_server(&sid)
                    .is_some_and(|s| s.conn.handle_ws_attach(now).is_ok());
                if ok {
                    self.ws_open = true;
                    self.client.handle_ws_open(now);
                } else {
                    self.client.handle_ws_closed(now);
                }
            }
            CTx::Ws(frame) => {
                if !self.ws_open {
                    return;
                }
                if let Some(s) = self.server.as_mut() {
                    let _ = s.conn.handle_ws_frame(now, frame);
                }
            }
            CTx::CloseWs => {
                if self.ws_open {
                    self.ws_open = false;
                    if let Some(s) = self.server.as_mut() {
                        s.conn.handle_ws_closed(now);
                    }
                }
            }
            _ => unreachable!("unknown transmit"),
        }
    }

    fn live_server(&mut self, sid: &str) -> Option<&mut Server> {
        if self.server_down {
            return None;
        }
        self.server
            .as_mut()
            .filter(|s| s.conn.session().sid().as_str() == sid && !s.conn.session().is_closed())
    }

    fn new_session(&mut self, transport: Transport) {
        self.sessions_created += 1;
        let sid = format!("sid{}", self.sessions_created);
        let conn = Connection::new(
            sid,
            transport,
            self.server_config.clone(),
            sio::Config::default(),
            self.now,
        );
        if let (Policy::Recover { max_age }, None) = (&self.policy, &self.store) {
            self.store = Some(Store::new(Duration::from_millis(*max_age), "off"));
        }
        self.server = Some(Server {
            conn,
            sockets: Vec::new(),
        });
    }

    /// Runs the server side once: the connection's events into the application (this
    /// file's policy), then its transmits to the client.
    fn run_server(&mut self) -> bool {
        let now = self.now;
        let mut progressed = false;
        let Some(s) = self.server.as_mut() else {
            return false;
        };
        while let Some(e) = s.conn.poll_event() {
            progressed = true;
            match &e {
                sio::Event::Connect { nsp, auth } => {
                    let n = self.sessions_created;
                    match &self.policy {
                        Policy::Accept => {
                            let sid = format!("{nsp}#{n}");
                            let _ = s.conn.accept(nsp, &sid, None);
                            s.sockets.push((nsp.clone(), Str::from(sid), None));
                        }
                        Policy::Recover { .. } => {
                            let store = self.store.as_mut().expect("store");
                            let restored = auth.as_deref().and_then(recovery::parse_auth).and_then(
                                |(pid, offset)| {
                                    let r = store.restore(now, &pid, &offset)?;
                                    Some((r, pid))
                                },
                            );
                            let (sid, pid, missed) = match restored {
                                Some((r, pid)) => {
                                    self.recovered += 1;
                                    (r.sid, Str::from(pid), r.missed)
                                }
                                None => (
                                    Str::from(format!("{nsp}#{n}")),
                                    Str::from(format!("pid{n}")),
                                    Vec::new(),
                                ),
                            };
                            let _ = s.conn.accept(nsp, &sid, Some(&pid));
                            for p in missed {
                                let _ = s.conn.emit(nsp, p.data, p.attachments);
                            }
                            s.sockets.push((nsp.clone(), sid, Some(pid)));
                        }
                        Policy::Reject(msg) => s.conn.reject(nsp, msg, None),
                    }
                }
                sio::Event::Event {
                    nsp,
                    args,
                    attachments,
                    id: Some(id),
                    ..
                } if self.echo_acks => {
                    let _ = s.conn.ack(nsp, *id, args.clone(), attachments.clone());
                }
                sio::Event::Disconnect { nsp, reason } => {
                    if let Some(i) = s.sockets.iter().position(|(n, ..)| n == nsp) {
                        let (_, sid, pid) = s.sockets.remove(i);
                        if let (Some(store), Some(pid)) = (self.store.as_mut(), pid) {
                            store.save(now, &pid, sid.clone(), vec![sid.to_string()], *reason);
                        }
                    }
                }
                _ => {}
            }
            self.seen.push((
                now,
                match e {
                    sio::Event::Upgraded => Seen::Upgraded,
                    sio::Event::Closed(r) => Seen::EngineClosed(r),
                    e => Seen::Sio(e),
                },
            ));
        }
        let mut to_client = Vec::new();
        while let Some(t) = s.conn.poll_transmit() {
            to_client.push(t);
        }
        let closed = s.conn.session().is_closed();
        for t in to_client {
            progressed = true;
            if self.blackhole {
                continue;
            }
            match t {
                STx::PollResponse(body) => {
                    let body = Str::from_utf8(body).expect("server writes UTF-8");
                    let _ = self.client.handle_poll_response(now, body);
                }
                STx::Ws(frame) => {
                    if self.ws_open {
                        let _ = self.client.handle_ws_frame(now, frame);
                    }
                }
                STx::CloseWs => {
                    if self.ws_open {
                        self.ws_open = false;
                        self.client.handle_ws_closed(now);
                    }
                }
                _ => unreachable!(),
            }
        }
        if closed && !progressed {
            // Every event and transmit of the closed session is out: forget it.
            self.server = None;
        }
        progressed
    }

    /// Client events of one kind, via a filter-map.
    pub fn client_events<T>(&self, f: impl Fn(&Event) -> Option<T>) -> Vec<T> {
        self.events.iter().filter_map(|(_, e)| f(e)).collect()
    }

    /// Server observations of one kind, via a filter-map.
    pub fn server_seen<T>(&self, f: impl Fn(&Seen) -> Option<T>) -> Vec<T> {
        self.seen.iter().filter_map(|(_, e)| f(e)).collect()
    }

    /// Forgets recorded events and observations.
    pub fn clear(&mut self) {
        self.events.clear();
        self.seen.clear();
        self.wire.clear();
    }
}

//! Server settings and the [`SocketIoBuilder`].

use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;

use crate::adapter::{AdapterFactory, LocalAdapterFactory};
use crate::engine::EngineConfig;
use crate::io::SocketIo;
use crate::layer::SocketIoLayer;
use crate::state::StateMap;

/// Server settings. Built with [`SocketIo::builder`].
#[derive(Clone)]
pub(crate) struct Config {
    /// The Engine.IO layer's settings (path, heartbeat, payload and queue bounds, ...).
    pub engine: EngineConfig,
    pub socket: sockeye_core::socket::server::Config,
    pub ack_timeout: Duration,
    /// Connection state recovery's `maxDisconnectionDuration`, if on.
    pub recovery: Option<Duration>,
    /// What one client can make the server hold.
    pub limits: Limits,
}

/// Caps on what clients can make the server hold (see the builder's methods).
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub rooms_per_socket: usize,
    pub dynamic_namespaces: usize,
    pub pending_connects: usize,
    pub recovery: sockeye_core::socket::recovery::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rooms_per_socket: 1024,
            dynamic_namespaces: 1024,
            pending_connects: 64,
            recovery: Default::default(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineConfig::new(crate::SOCKET_IO_PATH),
            socket: Default::default(),
            ack_timeout: Duration::from_secs(5),
            recovery: None,
            limits: Limits::default(),
        }
    }
}

/// Builds a [`SocketIo`] server: `SocketIo::builder().ping_interval(..).build_layer()`.
pub struct SocketIoBuilder {
    config: Config,
    adapter: Arc<dyn AdapterFactory>,
    state: StateMap,
}

impl Default for SocketIoBuilder {
    fn default() -> Self {
        SocketIoBuilder {
            config: Config::default(),
            adapter: Arc::new(LocalAdapterFactory),
            state: StateMap::default(),
        }
    }
}

impl SocketIoBuilder {
    /// The path Socket.IO is served at (default `/socket.io/`, as the clients expect).
    pub fn req_path(mut self, path: impl Into<String>) -> Self {
        self.config.engine.path = EngineConfig::new(path).path;
        self
    }

    /// Interval between heartbeats (default 25 s).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.config.engine.session.ping_interval = d;
        self
    }

    /// How long to wait for a heartbeat answer (default 20 s).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.config.engine.session.ping_timeout = d;
        self
    }

    /// How long an upgrade from polling to WebSocket may take (default 10 s).
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.config.engine.session.upgrade_timeout = d;
        self
    }

    /// Largest polling body or WebSocket message accepted (Node's `maxHttpBufferSize`;
    /// default 1,000,000 bytes). A bigger one closes the session.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.engine.session.max_payload = bytes;
        self
    }

    /// Most packets waiting for a client that does not read (default 4,096 on each of the
    /// session's queues); one more disconnects that client.
    pub fn max_buffer_size(mut self, packets: usize) -> Self {
        self.config.engine.session.max_queued_packets = packets;
        self.config.engine.max_buffer_size = packets;
        self
    }

    /// Most sessions open at once (default 10,000). A handshake over it is answered
    /// `503 {"code":4,"message":"Forbidden"}` (the client sees a connection error and
    /// retries).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.config.engine.max_sessions = n;
        self
    }

    /// Most sessions open at once per remote IP address (default: no limit). A handshake
    /// over it is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer address:
    /// serve with `into_make_service_with_connect_info::<SocketAddr>()`.
    pub fn max_sessions_per_address(mut self, n: usize) -> Self {
        self.config.engine.max_sessions_per_address = Some(n);
        self
    }

    /// Most handshakes per remote IP address in each `window` (default: no limit). One more
    /// is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer address.
    pub fn handshake_rate(mut self, handshakes: u32, window: Duration) -> Self {
        self.config.engine.handshake_rate = Some((handshakes, window));
        self
    }

    /// Largest request head (URI and headers) of a handshake, which the session keeps for
    /// its life (default 16 KiB). A bigger one is answered
    /// `431 {"code":3,"message":"Bad request"}`.
    pub fn max_request_header_bytes(mut self, bytes: usize) -> Self {
        self.config.engine.max_request_header_bytes = bytes;
        self
    }

    /// How long the body of a polling `POST` may take to arrive (default 10 s). A slower
    /// one is answered `408 {"code":3,"message":"Bad request"}` and closes the session.
    pub fn http_body_timeout(mut self, d: Duration) -> Self {
        self.config.engine.http_body_timeout = d;
        self
    }

    /// Byte budget of each session's queues (default 4 MiB): what waits for a polling
    /// client (and so the size of a polling answer), the WebSocket write queue, and the
    /// input queue of the session's task. A client that does not read and lets more than
    /// this pile up is disconnected (`transport error`) and its queues are freed; a client
    /// that sends faster than its session handles is slowed down (its frames wait).
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.config.engine.session.max_queued_bytes = bytes;
        self
    }

    /// Most binary attachments per packet (default 10). More closes the session.
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.config.socket.max_attachments = n;
        self
    }

    /// How long a client may stay connected without joining a namespace (default 45 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.socket.connect_timeout = d;
        self
    }

    /// Default timeout of `emit_with_ack` (default 5 s).
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.config.ack_timeout = d;
        self
    }

    /// Whether clients may upgrade from polling to WebSocket (default true).
    pub fn allow_upgrades(mut self, allow: bool) -> Self {
        self.config.engine.session.allow_upgrades = allow;
        self
    }

    /// Which transports are accepted: `(polling, websocket)`, both by default. A refused one
    /// answers `{"code":0,"message":"Transport unknown"}`.
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.config.engine.transports = [polling, websocket];
        if !websocket {
            self.config.engine.session.allow_upgrades = false;
        }
        self
    }

    /// A check run on every handshake request (origin, headers, ...; not on the later
    /// polls and upgrade of a session), like Node's `allowRequest`. Returning `Err` answers
    /// `403 {"code":4,"message":"Forbidden"}`.
    pub fn allow_request(
        mut self,
        f: impl Fn(&Parts) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.config.engine.allow_request = Some(Arc::new(f));
        self
    }

    /// Turns on connection state recovery (Socket.IO v4.6): a client that lost its
    /// connection and comes back within `max_disconnection_duration` gets its socket id,
    /// rooms and missed broadcasts back (`socket.recovered` on the client), without running
    /// the middlewares again. Broadcast events then carry an offset as their last argument,
    /// which socket.io-client strips.
    pub fn connection_state_recovery(mut self, max_disconnection_duration: Duration) -> Self {
        self.config.recovery = Some(max_disconnection_duration);
        self
    }

    /// Most rooms one socket may be in through [`crate::SocketRef::join`], besides its own
    /// room (default 1,024). A join that would go past it joins none of its rooms and
    /// fails with [`crate::adapter::AdapterError::TooManyRooms`], which the handler sees
    /// (and may report to its client, e.g. in an ack); the first one is logged at `warn`.
    /// Server-wide joins ([`crate::BroadcastOperator::join`]) are the server's own doing and
    /// are not counted against it.
    pub fn max_rooms_per_socket(mut self, n: usize) -> Self {
        self.config.limits.rooms_per_socket = n;
        self
    }

    /// Most namespaces created through [`SocketIo::dyn_ns`] that may exist at once
    /// (default 1,024). Past it, a CONNECT to a new dynamic name is refused with a
    /// `CONNECT_ERROR` `{"message":"Invalid namespace"}`, as for an unknown namespace (the
    /// first refusal is logged at `warn`). A dynamic namespace is removed, with its
    /// adapter and recovery state, once its last socket leaves (and, with connection
    /// state recovery on, once no lost socket of it is still remembered).
    pub fn max_dynamic_namespaces(mut self, n: usize) -> Self {
        self.config.limits.dynamic_namespaces = n;
        self
    }

    /// Most CONNECT requests of one client that may wait for their namespace's
    /// middlewares at once (default 64). One more closes the whole session (the client
    /// sees its transport close; logged at `warn` the first time): a client connecting
    /// that many namespaces at once is not an honest one.
    pub fn max_pending_connects(mut self, n: usize) -> Self {
        self.config.limits.pending_connects = n;
        self
    }

    /// Bounds of each namespace's connection state recovery store, on top of its
    /// `max_disconnection_duration`: at most `max_packets` packets kept for replay
    /// (default 100,000), of at most `max_bytes` bytes of data and attachments in all
    /// (default 32 MiB), and at most `max_lost_sockets` lost sockets remembered (default
    /// 100,000). Past a bound the oldest entries go first (logged at `warn` the first
    /// time); a client whose offset or socket was dropped reconnects as a new socket
    /// (`socket.recovered` false), as after an expiry.
    pub fn recovery_limits(
        mut self,
        max_packets: usize,
        max_bytes: usize,
        max_lost_sockets: usize,
    ) -> Self {
        self.config.limits.recovery =
            sockeye_core::socket::recovery::Limits::new(max_packets, max_bytes, max_lost_sockets);
        self
    }

    /// The adapter that keeps rooms and carries broadcasts (default: in memory).
    pub fn adapter(mut self, factory: impl AdapterFactory) -> Self {
        self.adapter = Arc::new(factory);
        self
    }

    /// Shared state handlers get with the [`crate::State`] extractor (one value per type).
    pub fn with_state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Builds the server: a tower layer to put on an axum `Router`, and the handle to
    /// register namespaces and emit with.
    pub fn build_layer(self) -> (SocketIoLayer, SocketIo) {
        let io = SocketIo::new(self.config, self.adapter, self.state);
        (SocketIoLayer::new(io.engine().clone()), io)
    }
}

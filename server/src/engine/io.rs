//! A bare Engine.IO server, like Node's `engine.io` package: raw text and binary messages
//! both ways, no namespaces, no events. Implement [`EngineHandler`], build with
//! [`EngineIo::builder`].

use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use sockeye_core::engine::server::{Event, Prepared, Session};
use sockeye_core::engine::{CloseReason, Message, Transport};
use sockeye_core::{Instant, Str};

use super::config::EngineConfig;
use super::layer::EngineLayer;
use super::request::RequestInfo;
use super::server::Engine;
use super::session::{Protocol, QueueError, SessionHandle};

/// What a bare Engine.IO server does with its sessions. The methods run inside the
/// session's task, in order: keep them short (spawn for slow work).
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened.
    fn on_open(&self, socket: &EngineSocket) {
        let _ = socket;
    }
    /// The client sent a message.
    fn on_message(&self, socket: &EngineSocket, message: Message);
    /// The session closed.
    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        let _ = (socket, reason);
    }
}

/// Commands of a bare session.
#[derive(Debug)]
pub enum EngineCommand {
    /// Send a message.
    Send(Message),
    /// Close the session (`forced close`).
    Close,
}

/// One client of a bare Engine.IO server. Cheap to clone.
#[derive(Clone)]
pub struct EngineSocket {
    handle: SessionHandle<EngineCommand>,
    info: Arc<RequestInfo>,
}

impl EngineSocket {
    /// The session id.
    pub fn sid(&self) -> &Str {
        self.handle.sid()
    }

    /// The request that opened the session.
    pub fn req_info(&self) -> &RequestInfo {
        &self.info
    }

    /// Sends a message (text or binary). Fails if the session is closed, or its queue is
    /// full (the client does not read; the session is then closed).
    pub fn send(&self, message: Message) -> Result<(), QueueError> {
        let bytes = match &message {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
        };
        self.handle.command(EngineCommand::Send(message), bytes)
    }

    /// Closes the session.
    pub fn close(&self) -> Result<(), QueueError> {
        self.handle.command(EngineCommand::Close, 0)
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

/// The [`Protocol`] of a bare Engine.IO server: the core's `Session` and an
/// [`EngineHandler`].
pub struct Bare<H: EngineHandler> {
    handler: H,
}

impl<H: EngineHandler> Protocol for Bare<H> {
    type Machine = Session;
    type Command = EngineCommand;
    type State = EngineSocket;
    type Deferred = std::convert::Infallible;

    fn take_deferred(&self, _: &mut EngineSocket) -> Option<Self::Deferred> {
        None
    }

    fn run_deferred(&self, deferred: Self::Deferred) {
        match deferred {}
    }

    fn open(
        &self,
        config: &EngineConfig,
        handle: &SessionHandle<EngineCommand>,
        transport: Transport,
        info: Arc<RequestInfo>,
        now: Instant,
    ) -> (Session, EngineSocket) {
        let socket = EngineSocket {
            handle: handle.clone(),
            info,
        };
        let session = Session::new(handle.sid().clone(), transport, config.session.clone(), now);
        self.handler.on_open(&socket);
        (session, socket)
    }

    fn on_event(&self, socket: &mut EngineSocket, _: &mut Session, _: Instant, event: Event) {
        match event {
            Event::Message(m) => self.handler.on_message(socket, m),
            Event::Closed(reason) => self.handler.on_close(socket, reason),
            Event::Upgraded => tracing::debug!(sid = %socket.sid(), "upgraded to websocket"),
            _ => {}
        }
    }

    fn on_command(
        &self,
        _: &mut EngineSocket,
        session: &mut Session,
        now: Instant,
        c: EngineCommand,
    ) {
        match c {
            EngineCommand::Send(m) => {
                let _ = session.send(m);
            }
            EngineCommand::Close => session.close(now, CloseReason::ForcedClose),
        }
    }
}

/// A bare Engine.IO server. Cheap to clone.
///
/// ```no_run
/// use sockeye::engine::{EngineHandler, EngineIo, EngineSocket, Message};
///
/// /// Sends every message back.
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     fn on_message(&self, socket: &EngineSocket, message: Message) {
///         let _ = socket.send(message);
///     }
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let (layer, engine) = EngineIo::builder().build_layer(Echo);
/// let app = axum::Router::new().layer(layer); // at /engine.io/
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub struct EngineIo<H: EngineHandler> {
    engine: Arc<Engine<Bare<H>>>,
}

impl<H: EngineHandler> Clone for EngineIo<H> {
    fn clone(&self) -> Self {
        EngineIo {
            engine: self.engine.clone(),
        }
    }
}

impl EngineIo<NoHandler> {
    /// A builder for the server's settings.
    pub fn builder() -> EngineIoBuilder {
        EngineIoBuilder {
            config: EngineConfig::new("/engine.io/"),
        }
    }
}

impl<H: EngineHandler> EngineIo<H> {
    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.engine.session_count()
    }

    /// Sends `message` to every session, encoded once.
    pub fn broadcast(&self, message: Message) {
        let prepared: Arc<[Prepared]> = Arc::new([Prepared::new(message)]);
        for s in self.engine.sessions() {
            let _ = s.send_prepared(prepared.clone(), false);
        }
    }

    /// Refuses new handshakes from now on, closes every session with a `close` packet and
    /// waits (at most 2 s) for them to end.
    pub async fn close(&self) {
        self.engine.close_all(Duration::from_secs(2)).await;
    }

    /// The handler given to the builder.
    pub fn handler(&self) -> &H {
        &self.engine.protocol().handler
    }
}

/// The handler type of [`EngineIo::builder`] before `build_layer` names the real one.
#[doc(hidden)]
pub struct NoHandler;

impl EngineHandler for NoHandler {
    fn on_message(&self, _: &EngineSocket, _: Message) {}
}

/// Builds an [`EngineIo`]: `EngineIo::builder().ping_interval(..).build_layer(handler)`.
pub struct EngineIoBuilder {
    config: EngineConfig,
}

impl EngineIoBuilder {
    /// The path served (default `/engine.io/`, as Node's `engine.io`).
    pub fn req_path(mut self, path: impl Into<String>) -> Self {
        self.config.path = EngineConfig::new(path).path;
        self
    }

    /// Interval between heartbeats (default 25 s).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.config.session.ping_interval = d;
        self
    }

    /// How long to wait for a heartbeat answer (default 20 s).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.config.session.ping_timeout = d;
        self
    }

    /// Largest polling body or WebSocket message accepted (default 1,000,000 bytes).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.session.max_payload = bytes;
        self
    }

    /// Which transports are accepted: `(polling, websocket)`, both by default.
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        self.config.transports = [polling, websocket];
        if !websocket {
            self.config.session.allow_upgrades = false;
        }
        self
    }

    /// A check run on every handshake request, like Node's `allowRequest`.
    pub fn allow_request(
        mut self,
        f: impl Fn(&Parts) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.config.allow_request = Some(Arc::new(f));
        self
    }

    /// Most sessions open at once (default 10,000). A handshake over it is answered
    /// `503 {"code":4,"message":"Forbidden"}` (the client sees a connection error and
    /// retries).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.config.max_sessions = n;
        self
    }

    /// Most sessions open at once per remote IP address (default: no limit). A handshake
    /// over it is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer address:
    /// serve with `into_make_service_with_connect_info::<SocketAddr>()`.
    pub fn max_sessions_per_address(mut self, n: usize) -> Self {
        self.config.max_sessions_per_address = Some(n);
        self
    }

    /// Most handshakes per remote IP address in each `window` (default: no limit). One more
    /// is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer address.
    pub fn handshake_rate(mut self, handshakes: u32, window: Duration) -> Self {
        self.config.handshake_rate = Some((handshakes, window));
        self
    }

    /// Largest request head (URI and headers) of a handshake, which the session keeps for
    /// its life (default 16 KiB). A bigger one is answered
    /// `431 {"code":3,"message":"Bad request"}`.
    pub fn max_request_header_bytes(mut self, bytes: usize) -> Self {
        self.config.max_request_header_bytes = bytes;
        self
    }

    /// How long the body of a polling `POST` may take to arrive (default 10 s). A slower
    /// one is answered `408 {"code":3,"message":"Bad request"}` and closes the session.
    pub fn http_body_timeout(mut self, d: Duration) -> Self {
        self.config.http_body_timeout = d;
        self
    }

    /// Byte budget of each session's queues (default 4 MiB): what waits for a polling
    /// client (and so the size of a polling answer), the WebSocket write queue, and the
    /// input queue of the session's task. A client that does not read and lets more than
    /// this pile up is disconnected (`transport error`) and its queues are freed; a client
    /// that sends faster than its session handles is slowed down (its frames wait).
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.config.session.max_queued_bytes = bytes;
        self
    }

    /// Every setting at once.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the server: a tower layer for an axum `Router`, and the handle.
    pub fn build_layer<H: EngineHandler>(self, handler: H) -> (EngineLayer<Bare<H>>, EngineIo<H>) {
        let engine = Engine::new(self.config, Bare { handler });
        (EngineLayer::new(engine.clone()), EngineIo { engine })
    }
}

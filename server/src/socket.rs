//! A client connected to a namespace: [`SocketRef`].

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use foldhash::HashMap;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
pub use sockeye_core::socket::server::DisconnectReason;
use sockeye_core::Str;
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};

use crate::ack::AckError;
use crate::adapter::{AdapterError, Encoded};
use crate::connection::{Command, Session};
use crate::engine::{QueueError, RequestInfo};
use crate::handler::{boxed, BoxedHandler, Ctx, Handler};
use crate::io::{Limit, SocketIo};
use crate::lock;
use crate::ns::Namespace;
use crate::operators::{BroadcastOperator, IntoRooms};
use crate::payload::{Payload, PayloadError};

/// Why something could not be sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The data did not serialize.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The socket is disconnected.
    #[error("socket disconnected")]
    Disconnected,
    /// The client does not read: its queue is full (the session is being closed).
    #[error("outgoing queue full")]
    Full,
    /// The adapter failed.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

impl From<serde_json::Error> for SendError {
    fn from(e: serde_json::Error) -> Self {
        SendError::Payload(PayloadError::Json(e))
    }
}

/// An event waiting for its handler.
pub(crate) struct Dispatch {
    name: Str,
    payload: Payload,
    id: Option<u64>,
}

/// A handler that suspended in its first poll, with what its end needs.
struct Suspended {
    fut: BoxFuture<'static, ()>,
    name: Str,
    id: Option<u64>,
    acked: Arc<AtomicBool>,
}

/// Who runs a socket's handlers now: one at a time, in event order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runner {
    Nobody,
    /// The socket's dispatch task (the connect handler, then events it was handed).
    Task,
    /// The session's caller, after it released the session (see [`SocketRef::run_inline`]).
    Inline,
}

/// A socket's events waiting for their handlers.
struct Events {
    queue: VecDeque<Dispatch>,
    runner: Runner,
    /// A handler run inline that suspended while every running slot was taken: the
    /// dispatch task waits for a slot for it before the next events.
    stalled: Option<Suspended>,
    /// The socket is closed: no more events; the task ends once the queue is empty.
    closed: bool,
}

/// What [`SocketRef::dispatch`] did with an event.
pub(crate) enum Dispatched {
    /// Queued for the runner (or dropped: the socket is closed).
    Queued,
    /// The queue is full: the client sends more than its handlers take.
    Full,
    /// Nothing runs: the caller runs it with [`SocketRef::run_inline`] once it has released
    /// the session.
    Inline(Dispatch),
}

pub(crate) struct Socket {
    id: Str,
    pid: Option<Str>,
    recovered: bool,
    ns: Arc<Namespace>,
    session: Session,
    info: Arc<RequestInfo>,
    auth: Option<Str>,
    connected: AtomicBool,
    /// Set once the socket gave its namespace back ([`crate::ns::Namespace::release`]).
    released: AtomicBool,
    /// By name; a `&'static str` name is kept without a copy.
    handlers: RwLock<HashMap<Cow<'static, str>, BoxedHandler>>,
    any: RwLock<Option<BoxedHandler>>,
    on_disconnect: RwLock<Option<BoxedHandler>>,
    /// Events waiting for their handlers, and who runs them.
    events: Mutex<Events>,
    /// Wakes the dispatch task when it is handed events (or the socket closes).
    events_wake: Notify,
    /// Handlers of this socket still running after their first suspension point.
    running: Arc<Semaphore>,
    /// Node's `socket.handshake`, built the first time the socket is fetched: a demo's
    /// `join` that counts the room's members fetches every member each time.
    handshake: std::sync::OnceLock<Arc<serde_json::Value>>,
}

/// Events a socket may have waiting for its handlers; a client sending more than its
/// handlers can take is disconnected rather than allowed to grow memory.
const EVENT_QUEUE: usize = 1024;
/// Handlers of one socket that may run at once; more wait, which fills the event queue.
const RUNNING_HANDLERS: usize = 256;

/// A client connected to a namespace. Cheap to clone.
#[derive(Clone)]
pub struct SocketRef(Arc<Socket>);

impl fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("ns", &self.0.ns.name())
            .finish()
    }
}

impl SocketRef {
    /// A new socket; `restored` gives the id of a recovered one.
    pub(crate) fn new(
        ns: Arc<Namespace>,
        session: Session,
        info: Arc<RequestInfo>,
        auth: Option<Str>,
        restored: Option<(Str, Str)>,
    ) -> SocketRef {
        let recovered = restored.is_some();
        let (id, pid) = match restored {
            Some((sid, pid)) => (sid, Some(pid)),
            None => (
                crate::engine::sid::generate(),
                ns.recovers().then(crate::engine::sid::generate),
            ),
        };
        SocketRef(Arc::new(Socket {
            id,
            pid,
            recovered,
            ns,
            session,
            info,
            auth,
            connected: AtomicBool::new(false),
            released: AtomicBool::new(false),
            handlers: RwLock::new(HashMap::default()),
            any: RwLock::new(None),
            on_disconnect: RwLock::new(None),
            events: Mutex::new(Events {
                queue: VecDeque::new(),
                runner: Runner::Task,
                stalled: None,
                closed: false,
            }),
            events_wake: Notify::new(),
            running: Arc::new(Semaphore::new(RUNNING_HANDLERS)),
            handshake: std::sync::OnceLock::new(),
        }))
    }

    /// The socket id (distinct from the Engine.IO session id).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The namespace's name.
    pub fn ns(&self) -> &str {
        self.0.ns.name()
    }

    pub(crate) fn ns_name(&self) -> &Str {
        self.0.ns.name_str()
    }

    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.0.ns
    }

    /// The server this socket belongs to (`None` only once the server is dropped).
    pub fn io(&self) -> Option<SocketIo> {
        self.0.ns.io()
    }

    /// The Engine.IO session id of the underlying connection.
    pub fn transport_sid(&self) -> &str {
        self.0.session.sid()
    }

    /// The HTTP request that opened the connection (headers, query, address).
    pub fn req_info(&self) -> &RequestInfo {
        &self.0.info
    }

    /// The client's `auth` payload, raw JSON, if any.
    pub fn auth_raw(&self) -> Option<&str> {
        self.0.auth.as_deref()
    }

    /// The client's `auth` payload, deserialized; `{}` if the client sent none, as Node's
    /// `socket.handshake.auth`.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.auth.as_deref().unwrap_or("{}"))
    }

    /// Whether this socket's state (id, rooms, missed packets) was recovered from a lost
    /// connection.
    pub fn recovered(&self) -> bool {
        self.0.recovered
    }

    /// The private id of connection state recovery, if on.
    pub(crate) fn pid(&self) -> Option<&str> {
        self.0.pid.as_deref()
    }

    /// Whether the socket is still connected.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// Registers the handler of `event` (replacing any previous one).
    pub fn on<H: Handler<T>, T>(&self, event: impl Into<Cow<'static, str>>, handler: H) {
        let (event, handler) = (event.into(), boxed(handler));
        let mut handlers = lock::write(&self.0.handlers);
        if handlers.capacity() == 0 {
            // Apps register their events one by one on every connect: room for several at
            // once, not three regrowths of the table.
            handlers.reserve(8);
        }
        handlers.insert(event, handler);
    }

    /// Registers a catch-all handler for events that have no handler of their own (the
    /// [`crate::EventName`] extractor gives the name).
    pub fn on_any<H: Handler<T>, T>(&self, handler: H) {
        let handler = boxed(handler);
        *lock::write(&self.0.any) = Some(handler);
    }

    /// Registers the disconnect handler (the [`DisconnectReason`] extractor gives the
    /// reason).
    pub fn on_disconnect<H: Handler<T>, T>(&self, handler: H) {
        let handler = boxed(handler);
        *lock::write(&self.0.on_disconnect) = Some(handler);
    }

    /// Sends `event` with one argument.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), SendError> {
        self.emit_payload(event, Payload::one(data)?)
    }

    /// Sends `event` with raw arguments (several, or binary).
    pub fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), SendError> {
        let mut data = payload.event_data(event);
        if self.0.ns.recovers() {
            // Kept for replay, as a broadcast to the socket's own room (as Node does).
            let opts = crate::adapter::BroadcastOptions {
                rooms: vec![self.id().to_owned()],
                ..Default::default()
            };
            data = self.0.ns.record(data, &payload.attachments, &opts);
        }
        self.command(Command::Emit {
            nsp: self.ns_name().clone(),
            data,
            attachments: payload.attachments,
            ack: None,
        })
    }

    /// Sends `event` with one argument and waits for the client's ack (at most the
    /// builder's `ack_timeout`); the ack's arguments are deserialized like [`crate::Data`].
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, AckError> {
        let timeout = self
            .io()
            .map_or(Duration::from_secs(5), |io| io.config().ack_timeout);
        let payload = Payload::one(data).map_err(SendError::from)?;
        self.emit_with_ack_payload(event, payload, timeout)
            .await?
            .deserialize()
            .map_err(AckError::from)
    }

    /// Sends `event` with raw arguments and waits at most `timeout` for the ack's raw
    /// arguments.
    pub async fn emit_with_ack_payload(
        &self,
        event: &str,
        payload: Payload,
        timeout: Duration,
    ) -> Result<Payload, AckError> {
        self.emit_raw_with_ack(payload.event_data(event), payload.attachments, timeout)
            .await
    }

    /// Sends an event array `data` (`["name", ...args]`) asking for an ack.
    pub(crate) async fn emit_raw_with_ack(
        &self,
        data: Str,
        attachments: Vec<bytes::Bytes>,
        timeout: Duration,
    ) -> Result<Payload, AckError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Emit {
            nsp: self.ns_name().clone(),
            data,
            attachments,
            ack: Some((tx, timeout)),
        })?;
        rx.await.unwrap_or(Err(AckError::Disconnected))
    }

    /// The handshake as Node's `socket.handshake` (for cluster-wide `fetch_sockets`).
    pub(crate) fn handshake_json(&self) -> Arc<serde_json::Value> {
        self.0
            .handshake
            .get_or_init(|| Arc::new(self.build_handshake_json()))
            .clone()
    }

    fn build_handshake_json(&self) -> serde_json::Value {
        let info = &self.0.info;
        let headers: serde_json::Map<String, serde_json::Value> = info
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.into())))
            .collect();
        let query: serde_json::Map<String, serde_json::Value> = info
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.into())
            })
            .collect();
        let issued = info
            .issued
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let auth: serde_json::Value = self.auth().unwrap_or_else(|_| serde_json::json!({}));
        serde_json::json!({
            "headers": headers,
            "time": issued.to_string(),
            "address": info.address.map(|a| a.ip().to_string()),
            "xdomain": info.headers.contains_key("origin"),
            "secure": false,
            "issued": issued,
            "url": info.uri.to_string(),
            "query": query,
            "auth": auth,
        })
    }

    /// Joins rooms. Fails with [`AdapterError::TooManyRooms`] (joining none of them) if the
    /// socket would be in more rooms, besides its own, than
    /// [`crate::SocketIoBuilder::max_rooms_per_socket`] allows.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        let rooms = rooms.into_rooms();
        let adapter = self.0.ns.adapter();
        if let Some(io) = self.io() {
            let cap = io.config().limits.rooms_per_socket;
            let current: HashSet<String> = adapter
                .socket_rooms(self.0.id.clone())
                .await?
                .into_iter()
                .filter(|r| r.as_str() != self.id())
                .collect();
            let added: HashSet<&String> = rooms
                .iter()
                .filter(|r| r.as_str() != self.id() && !current.contains(*r))
                .collect();
            if current.len() + added.len() > cap {
                io.limit_hit(
                    Limit::Rooms,
                    format_args!("socket {} would be in more than {cap} rooms", self.id()),
                );
                return Err(AdapterError::TooManyRooms(cap));
            }
        }
        adapter.add_all(self.0.id.clone(), rooms).await
    }

    /// Leaves rooms.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.0
            .ns
            .adapter()
            .del(self.0.id.clone(), rooms.into_rooms())
            .await
    }

    /// Leaves every room (but its own).
    pub async fn leave_all(&self) -> Result<(), AdapterError> {
        let rooms: Vec<String> = self
            .rooms()
            .await?
            .into_iter()
            .filter(|r| r.as_str() != self.id())
            .collect();
        self.leave(rooms).await
    }

    /// The rooms the socket is in (its own id included).
    pub async fn rooms(&self) -> Result<Vec<String>, AdapterError> {
        self.0.ns.adapter().socket_rooms(self.0.id.clone()).await
    }

    /// A broadcast to `rooms`, this socket excluded.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// A broadcast to `rooms`, this socket included if it is in one of them.
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).to(rooms)
    }

    /// A broadcast to every socket in the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        let mut op = BroadcastOperator::new(self.0.ns.clone());
        op.opts.except_sids.push(self.0.id.clone());
        op
    }

    /// A broadcast to every socket in the namespace except those in `rooms` (and this one).
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Removes the socket from its namespace (the client gets a `DISCONNECT`).
    pub fn disconnect(&self) -> Result<(), SendError> {
        self.command(Command::Disconnect {
            nsp: self.ns_name().clone(),
        })
    }

    /// Sends a command to the socket's session task.
    pub(crate) fn command(&self, command: Command) -> Result<(), SendError> {
        if !self.connected() {
            return Err(SendError::Disconnected);
        }
        let bytes = command.byte_len();
        self.0.session.command(command, bytes).map_err(|e| match e {
            QueueError::Full => SendError::Full,
            QueueError::Closed => SendError::Disconnected,
        })
    }

    /// Delivers an encoded broadcast.
    pub(crate) fn deliver(&self, packet: &Encoded, volatile: bool) {
        if self.connected() {
            let _ = self
                .0
                .session
                .send_prepared(packet.prepared.clone(), volatile);
        }
    }

    pub(crate) fn ctx(&self, event: Option<String>, payload: Payload, ack_id: Option<u64>) -> Ctx {
        Ctx {
            socket: self.clone(),
            event,
            payload,
            ack_id,
            reason: None,
            acked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The context of connect handlers and middlewares: `Data` is the `auth` payload.
    pub(crate) fn connect_ctx(&self) -> Ctx {
        // No auth reads as `{}`, as in Node's `socket.handshake.auth`.
        let args = match &self.0.auth {
            Some(a) => Str::from(format!("[{a}]")),
            None => Str::from_static("[{}]"),
        };
        self.ctx(
            None,
            Payload {
                args,
                attachments: Vec::new(),
            },
            None,
        )
    }

    /// Called by the session when an event for this socket arrives (the session's lock
    /// held): queued behind the events being handled, or handed back to run inline when
    /// none is.
    pub(crate) fn dispatch(&self, name: Str, payload: Payload, id: Option<u64>) -> Dispatched {
        let event = Dispatch { name, payload, id };
        let mut events = lock::lock(&self.0.events);
        if events.closed {
            return Dispatched::Queued;
        }
        if events.runner == Runner::Nobody {
            events.runner = Runner::Inline;
            return Dispatched::Inline(event);
        }
        if events.queue.len() >= EVENT_QUEUE {
            return Dispatched::Full;
        }
        events.queue.push_back(event);
        Dispatched::Queued
    }

    /// Runs an event [`dispatch`](Self::dispatch) handed back, in the caller's task (the
    /// session's lock released): its handler up to its first suspension point, the rest as
    /// a task of its own. Events queued meanwhile go to the dispatch task. This saves an
    /// event the switch to the dispatch task (its handler's emits and acks are written by
    /// this same task).
    pub(crate) fn run_inline(&self, event: Dispatch) {
        // No task is woken by this context: a handler that suspends is polled again by its
        // own task (which registers its waker), so no wake-up is lost.
        let mut cx = Context::from_waker(Waker::noop());
        let stalled = match self.start_event(event, &mut cx) {
            Some(suspended) => match self.0.running.clone().try_acquire_owned() {
                Ok(permit) => {
                    self.spawn_rest(suspended, permit);
                    None
                }
                Err(_) => Some(suspended),
            },
            None => None,
        };
        let mut events = lock::lock(&self.0.events);
        events.stalled = stalled;
        events.runner = if events.queue.is_empty() && events.stalled.is_none() {
            Runner::Nobody
        } else {
            Runner::Task
        };
        if events.runner == Runner::Task || events.closed {
            drop(events);
            self.0.events_wake.notify_one();
        }
    }

    /// Called by the session task once the client is accepted: joins the socket's own room,
    /// runs the connect handler, then the events it is handed, in order.
    pub(crate) fn start(&self) {
        self.0.connected.store(true, Ordering::Release);
        self.0.ns.insert(self.clone());
        let socket = self.clone();
        tokio::spawn(async move {
            let handler = socket.0.ns.handler();
            let run = AssertUnwindSafe(handler(socket.connect_ctx())).catch_unwind();
            if let Err(panic) = run.await {
                tracing::error!(
                    ns = socket.ns(),
                    "connect handler panicked: {}",
                    panic_message(&panic)
                );
            }
            socket.dispatch_task().await;
        });
    }

    /// Runs the events the socket's dispatch task is handed (it holds [`Runner::Task`] after
    /// the connect handler), until the socket closes.
    async fn dispatch_task(&self) {
        loop {
            let (stalled, next) = {
                let mut events = lock::lock(&self.0.events);
                if events.runner == Runner::Task {
                    let next = events.queue.pop_front();
                    if next.is_none() && events.stalled.is_none() {
                        events.runner = Runner::Nobody;
                    }
                    (events.stalled.take(), next)
                } else if events.closed && events.runner == Runner::Nobody {
                    return;
                } else {
                    (None, None)
                }
            };
            let had_stalled = stalled.is_some();
            if let Some(suspended) = stalled {
                self.run_rest(suspended).await;
            }
            match next {
                Some(event) => self.run_event(event).await,
                // Still the runner: look again.
                None if had_stalled => {}
                // Nothing to run (handed to nobody, or to an inline runner): wait to be
                // handed events. A notification sent meanwhile is kept by `Notify`.
                None => self.0.events_wake.notified().await,
            }
        }
    }

    /// Runs the event's handler up to its first real suspension point here, in event order
    /// (so that, as in Node, what a handler does before it awaits anything — e.g. a join with
    /// the in-memory adapter — is done before the next event's handler starts); the rest runs
    /// as its own task. A panic in either part is caught and logged with the event name:
    /// the socket goes on with its next events. An event whose ack cannot be answered by a
    /// handler (none, its arguments do not fit, it panicked) is answered with an error
    /// ([`crate::handler`]'s documentation).
    async fn run_event(&self, event: Dispatch) {
        let mut event = Some(event);
        let suspended = std::future::poll_fn(|cx| {
            Poll::Ready(event.take().and_then(|e| self.start_event(e, cx)))
        })
        .await;
        if let Some(suspended) = suspended {
            self.run_rest(suspended).await;
        }
    }

    /// Waits for a running slot for a suspended handler (holding back the next events), then
    /// runs its rest as a task of its own.
    async fn run_rest(&self, suspended: Suspended) {
        if let Ok(permit) = self.0.running.clone().acquire_owned().await {
            self.spawn_rest(suspended, permit);
        }
    }

    /// Looks up the event's handler and polls it once: what is left of it if it suspended.
    fn start_event(&self, event: Dispatch, cx: &mut Context<'_>) -> Option<Suspended> {
        let Dispatch { name, payload, id } = event;
        let handler = lock::read(&self.0.handlers)
            .get(name.as_str())
            .cloned()
            .or_else(|| lock::read(&self.0.any).clone());
        let Some(h) = handler else {
            tracing::debug!(event = %name, "no handler");
            self.ack_error(id, None, crate::handler::ACK_UNKNOWN_EVENT);
            return None;
        };
        let ctx = self.ctx(Some(String::from(name.as_str())), payload, id);
        let acked = ctx.acked.clone();
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| h(ctx)));
        let Ok(mut fut) = fut.map_err(|p| self.handler_panicked(&name, id, &acked, &p)) else {
            return None;
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Err(panic) => {
                self.handler_panicked(&name, id, &acked, &panic);
                None
            }
            Ok(Poll::Ready(())) => None,
            Ok(Poll::Pending) => Some(Suspended {
                fut,
                name,
                id,
                acked,
            }),
        }
    }

    /// Runs the rest of a suspended handler as a task of its own, holding a running slot.
    fn spawn_rest(&self, suspended: Suspended, permit: OwnedSemaphorePermit) {
        let socket = self.clone();
        tokio::spawn(async move {
            let Suspended {
                fut,
                name,
                id,
                acked,
            } = suspended;
            if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
                socket.handler_panicked(&name, id, &acked, &panic);
            }
            drop(permit);
        });
    }

    fn handler_panicked(
        &self,
        event: &str,
        id: Option<u64>,
        acked: &AtomicBool,
        panic: &(dyn Any + Send),
    ) {
        tracing::error!(
            event,
            socket = self.id(),
            ns = self.ns(),
            "event handler panicked: {}",
            panic_message(panic)
        );
        self.ack_error(id, Some(acked), crate::handler::ACK_HANDLER_FAILED);
    }

    /// Answers the client's event `id` (if any, and not answered yet) with one argument
    /// `{"error": message}`.
    pub(crate) fn ack_error(&self, id: Option<u64>, acked: Option<&AtomicBool>, message: &str) {
        let Some(id) = id else { return };
        if acked.is_some_and(|a| a.swap(true, Ordering::AcqRel)) {
            return;
        }
        if let Ok(payload) = Payload::one(&serde_json::json!({ "error": message })) {
            let _ = self.command(Command::Ack {
                nsp: self.ns_name().clone(),
                id,
                payload,
            });
        }
    }

    /// Called when a socket whose connect was in flight will not connect after all (refused,
    /// or the session closed meanwhile): it leaves every room it may have joined, and its
    /// namespace.
    pub(crate) fn abandon(&self) {
        let socket = self.clone();
        let cleanup = async move {
            if let Err(e) = socket.0.ns.adapter().del_all(socket.0.id.clone()).await {
                tracing::warn!("adapter: {e}");
            }
            socket.release();
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(cleanup);
            }
            // No runtime (dropped while shutting down): an in-memory adapter is done at once.
            Err(_) => {
                let _ = cleanup.now_or_never();
            }
        }
    }

    /// Gives the socket's namespace back, once.
    fn release(&self) {
        if !self.0.released.swap(true, Ordering::AcqRel) {
            self.0.ns.release();
        }
    }

    /// Called by the session task when the socket left its namespace.
    pub(crate) fn closed(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        lock::lock(&self.0.events).closed = true;
        self.0.events_wake.notify_one();
        let socket = self.clone();
        tokio::spawn(async move {
            if let (true, Some(pid)) = (socket.0.ns.recovers(), socket.pid()) {
                let rooms = socket.rooms().await.unwrap_or_default();
                socket.0.ns.save(pid, socket.0.id.clone(), rooms, reason);
            }
            if let Err(e) = socket.0.ns.adapter().del_all(socket.0.id.clone()).await {
                tracing::warn!("adapter: {e}");
            }
            socket.0.ns.remove(&socket.0.id);
            let handler = lock::read(&socket.0.on_disconnect).clone();
            if let Some(h) = handler {
                let mut ctx = socket.ctx(None, Payload::empty(), None);
                ctx.reason = Some(reason);
                if let Err(panic) = AssertUnwindSafe(h(ctx)).catch_unwind().await {
                    tracing::error!(
                        socket = socket.id(),
                        ns = socket.ns(),
                        "disconnect handler panicked: {}",
                        panic_message(&panic)
                    );
                }
            }
            // Drop handlers: they may hold clones of this socket.
            lock::write(&socket.0.handlers).clear();
            *lock::write(&socket.0.any) = None;
            *lock::write(&socket.0.on_disconnect) = None;
            socket.release();
        });
    }
}

/// The message of a caught panic, if it has one.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

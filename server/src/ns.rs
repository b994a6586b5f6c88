//! Namespaces: their connect handler, middlewares, sockets and adapter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::Bytes;
use serde::Serialize;
use sockeye_core::socket::recovery::{Recovered, Store, Target};
use sockeye_core::socket::server::DisconnectReason;
use sockeye_core::{Instant, Str};

use crate::adapter::{Adapter, BroadcastOptions, Encoded, ServerAck};
use crate::handler::{boxed_middleware, BoxedHandler, BoxedMiddleware, Middleware};
use crate::io::{IoInner, Limit, SocketIo};
use crate::lock;
use crate::payload::Payload;
use crate::socket::SocketRef;

/// A refusal from a connect middleware: the client gets a `CONNECT_ERROR` with
/// `{"message": message, "data": data}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The message (`err.message` on the client).
    pub message: String,
    /// Extra data as raw JSON (`err.data` on the client).
    pub data: Option<String>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> ConnectError {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data (`err.data` on the client). Data that does not serialize is left out.
    pub fn with_data<T: Serialize + ?Sized>(mut self, data: &T) -> ConnectError {
        self.data = serde_json::to_string(data).ok();
        self
    }
}

/// The shared parts of a namespace (or of every child of a dynamic namespace).
#[derive(Clone)]
pub(crate) struct NsConfig {
    pub handler: BoxedHandler,
    pub middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
}

/// A namespace.
pub(crate) struct Namespace {
    name: Str,
    io: Weak<IoInner>,
    config: NsConfig,
    sockets: RwLock<foldhash::HashMap<Str, SocketRef>>,
    adapter: Arc<dyn Adapter>,
    /// Connection state recovery's store (the core's), if on.
    recovery: Option<Mutex<Store>>,
    /// The handler of events other servers send with `server_side_emit`.
    server_side: RwLock<Option<ServerSideHandler>>,
    /// Created through `dyn_ns`: removed once nothing uses it.
    dynamic: bool,
    /// Sockets of this namespace not yet released: connecting or connected.
    users: AtomicUsize,
}

/// A handler of server-side events.
pub(crate) type ServerSideHandler =
    Arc<dyn Fn(ServerSideEvent) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

/// An event another server of the cluster sent with `server_side_emit` (Node's
/// `serverSideEmit`).
#[derive(Debug)]
pub struct ServerSideEvent {
    /// The event name.
    pub event: String,
    /// Its arguments.
    pub args: Payload,
    ack: Option<ServerAck>,
}

impl ServerSideEvent {
    /// Whether the sender waits for an answer.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the sender (one value, as Node's callback takes one argument). Does nothing
    /// if no answer was asked for.
    pub fn ack<T: Serialize + ?Sized>(mut self, value: &T) {
        if let Some(tx) = self.ack.take() {
            let _ = tx.send(serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
        }
    }
}

impl Namespace {
    pub(crate) fn new(io: &SocketIo, name: Str, config: NsConfig, dynamic: bool) -> Arc<Namespace> {
        let limits = io.config().limits.recovery;
        Arc::new_cyclic(|weak: &Weak<Namespace>| Namespace {
            adapter: io.adapter_factory().create(NamespaceRef {
                ns: weak.clone(),
                name: name.clone(),
            }),
            recovery: io.config().recovery.map(|age| {
                Mutex::new(Store::with_limits(
                    age,
                    crate::engine::sid::generate(),
                    limits,
                ))
            }),
            dynamic,
            users: AtomicUsize::new(0),
            name,
            io: Arc::downgrade(&io.0),
            config,
            sockets: RwLock::new(foldhash::HashMap::default()),
            server_side: RwLock::new(None),
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_str(&self) -> &Str {
        &self.name
    }

    /// The server, unless it has been dropped.
    pub(crate) fn io(&self) -> Option<SocketIo> {
        self.io.upgrade().map(SocketIo)
    }

    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    pub(crate) fn set_server_side_handler(&self, handler: ServerSideHandler) {
        *lock::write(&self.server_side) = Some(handler);
    }

    /// Whether it was created through `dyn_ns`.
    pub(crate) fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// One more socket uses the namespace (called with the server's namespace map locked).
    pub(crate) fn acquire(&self) {
        self.users.fetch_add(1, Ordering::AcqRel);
    }

    /// A socket of [`Namespace::acquire`] is gone (refused, abandoned or disconnected); a
    /// dynamic namespace nothing uses any more is removed.
    pub(crate) fn release(self: &Arc<Self>) {
        if self.users.fetch_sub(1, Ordering::AcqRel) == 1 && self.dynamic {
            if let Some(io) = self.io() {
                io.remove_if_idle(self);
            }
        }
    }

    /// No socket uses it, and no lost socket of it waits to be recovered (called with the
    /// server's namespace map locked for writing).
    pub(crate) fn is_idle(&self, now: Instant) -> bool {
        self.users.load(Ordering::Acquire) == 0
            && !self.store().is_some_and(|mut s| s.has_saved_sockets(now))
    }

    /// Whether connection state recovery is on.
    pub(crate) fn recovers(&self) -> bool {
        self.recovery.is_some()
    }

    fn now(&self) -> Instant {
        self.io().map_or(Instant::from_millis(0), |io| io.now())
    }

    // A poisoned store is still a consistent store (every method leaves it so): keep using it.
    fn store(&self) -> Option<std::sync::MutexGuard<'_, Store>> {
        self.recovery
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// With recovery on: appends an offset to the event array `data` and keeps the packet
    /// for the sockets `opts` targets. Without: `data` as it is.
    pub(crate) fn record(&self, data: Str, attachments: &[Bytes], opts: &BroadcastOptions) -> Str {
        let now = self.now();
        match self.store() {
            Some(mut store) => {
                let target = Target {
                    rooms: opts.rooms.clone(),
                    except: opts.except.clone(),
                    except_sids: opts.except_sids.clone(),
                };
                let evicted = store.evicted();
                let data = store.record(now, &data, attachments, target);
                let over = store.evicted() > evicted;
                drop(store);
                if over {
                    self.recovery_limit_hit();
                }
                data
            }
            None => data,
        }
    }

    /// Remembers a socket that lost its connection (if recovery is on and `reason` allows).
    pub(crate) fn save(&self, pid: &str, sid: Str, rooms: Vec<String>, reason: DisconnectReason) {
        let now = self.now();
        if let Some(mut store) = self.store() {
            let evicted = store.evicted();
            store.save(now, pid, sid, rooms, reason);
            let over = store.evicted() > evicted;
            drop(store);
            if over {
                self.recovery_limit_hit();
            }
        }
    }

    fn recovery_limit_hit(&self) {
        if let Some(io) = self.io() {
            io.limit_hit(
                Limit::Recovery,
                format_args!(
                    "namespace {}: recovery store full, oldest entries dropped",
                    self.name
                ),
            );
        }
    }

    /// The socket of `pid`, restored with what it missed since `offset`, if recovery is on
    /// and it is still known.
    pub(crate) fn restore(&self, now: Instant, pid: &str, offset: &str) -> Option<Recovered> {
        self.store()?.restore(now, pid, offset)
    }

    pub(crate) fn handler(&self) -> BoxedHandler {
        self.config.handler.clone()
    }

    pub(crate) fn middlewares(&self) -> Vec<BoxedMiddleware> {
        lock::read(&self.config.middlewares).clone()
    }

    pub(crate) fn insert(&self, socket: SocketRef) {
        lock::write(&self.sockets).insert(Str::from(socket.id()), socket);
    }

    pub(crate) fn remove(&self, sid: &str) {
        lock::write(&self.sockets).remove(sid);
    }

    pub(crate) fn get(&self, sid: &str) -> Option<SocketRef> {
        lock::read(&self.sockets).get(sid).cloned()
    }

    pub(crate) fn all(&self) -> Vec<SocketRef> {
        lock::read(&self.sockets).values().cloned().collect()
    }
}

/// What an [`Adapter`] may do with the local sockets of its namespace.
#[derive(Clone)]
pub struct NamespaceRef {
    ns: Weak<Namespace>,
    // Kept here: the adapter factory reads it while the namespace is being built.
    name: Str,
}

impl NamespaceRef {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A local socket by id.
    pub fn socket(&self, sid: &str) -> Option<SocketRef> {
        self.ns.upgrade().and_then(|ns| ns.get(sid))
    }

    /// Every local socket.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns.upgrade().map(|ns| ns.all()).unwrap_or_default()
    }

    /// Hands a packet encoded once to the sessions of the local sockets `sids` (unknown ids
    /// are skipped). `volatile`: dropped for clients that cannot take it now.
    pub fn deliver<'a>(
        &self,
        sids: impl IntoIterator<Item = &'a Str>,
        packet: &Encoded,
        volatile: bool,
    ) {
        let Some(ns) = self.ns.upgrade() else { return };
        let sockets = lock::read(&ns.sockets);
        for sid in sids {
            if let Some(socket) = sockets.get(sid) {
                socket.deliver(packet, volatile);
            }
        }
    }

    /// Runs this namespace's server-side event handler for an event from another server
    /// (`ack`: where its answer goes, if the sender wants one). Without a handler the event
    /// is dropped (and the sender gets no answer from this server).
    pub fn server_side_event(&self, event: String, args: Payload, ack: Option<ServerAck>) {
        let Some(ns) = self.ns.upgrade() else { return };
        let handler = lock::read(&ns.server_side).clone();
        match handler {
            Some(h) => {
                tokio::spawn(h(ServerSideEvent { event, args, ack }));
            }
            None => tracing::debug!(%event, "no server-side event handler"),
        }
    }

    /// Disconnects the local socket `sid` (the client gets a `DISCONNECT`), if it exists.
    pub fn disconnect(&self, sid: &str) {
        if let Some(socket) = self.socket(sid) {
            let _ = socket.disconnect();
        }
    }
}

/// A namespace as registered with [`SocketIo::ns`]: add connect middlewares to it.
#[derive(Clone)]
pub struct NsHandle {
    pub(crate) middlewares: Arc<RwLock<Vec<BoxedMiddleware>>>,
}

impl NsHandle {
    /// Adds a middleware, run in order before a client may join: it can read the `auth`
    /// payload ([`crate::Data`]) and the request ([`SocketRef::req_info`]) and refuse with
    /// a [`ConnectError`].
    pub fn with<M: Middleware<T>, T>(self, middleware: M) -> Self {
        let middleware = boxed_middleware(middleware);
        lock::write(&self.middlewares).push(middleware);
        self
    }
}

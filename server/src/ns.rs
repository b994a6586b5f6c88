//! Namespaces: their connect handler, middlewares, sockets and adapter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::Bytes;
use serde::Serialize;
use sockeye_core::socket::recovery::{Recovered, Store, Target};
use sockeye_core::socket::server::DisconnectReason;
use sockeye_core::{Instant, Str};

use crate::adapter::{Adapter, BroadcastOptions, Encoded, ServerAck};
use crate::handler::{boxed_middleware, BoxedHandler, BoxedMiddleware, Middleware};
use crate::io::{IoInner, SocketIo};
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
    sockets: RwLock<HashMap<Str, SocketRef>>,
    adapter: Arc<dyn Adapter>,
    /// Connection state recovery's store (the core's), if on.
    recovery: Option<Mutex<Store>>,
    /// The handler of events other servers send with `server_side_emit`.
    server_side: RwLock<Option<ServerSideHandler>>,
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
    pub(crate) fn new(io: &SocketIo, name: Str, config: NsConfig) -> Arc<Namespace> {
        Arc::new_cyclic(|weak: &Weak<Namespace>| Namespace {
            adapter: io.adapter_factory().create(NamespaceRef {
                ns: weak.clone(),
                name: name.clone(),
            }),
            recovery: io
                .config()
                .recovery
                .map(|age| Mutex::new(Store::new(age, crate::engine::sid::generate()))),
            name,
            io: Arc::downgrade(&io.0),
            config,
            sockets: RwLock::new(HashMap::new()),
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
        if let Ok(mut h) = self.server_side.write() {
            *h = Some(handler);
        }
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
                store.record(now, &data, attachments, target)
            }
            None => data,
        }
    }

    /// Remembers a socket that lost its connection (if recovery is on and `reason` allows).
    pub(crate) fn save(&self, pid: &str, sid: Str, rooms: Vec<String>, reason: DisconnectReason) {
        let now = self.now();
        if let Some(mut store) = self.store() {
            store.save(now, pid, sid, rooms, reason);
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
        self.config
            .middlewares
            .read()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    pub(crate) fn insert(&self, socket: SocketRef) {
        if let Ok(mut s) = self.sockets.write() {
            s.insert(Str::from(socket.id()), socket);
        }
    }

    pub(crate) fn remove(&self, sid: &str) {
        if let Ok(mut s) = self.sockets.write() {
            s.remove(sid);
        }
    }

    pub(crate) fn get(&self, sid: &str) -> Option<SocketRef> {
        self.sockets.read().ok().and_then(|s| s.get(sid).cloned())
    }

    pub(crate) fn all(&self) -> Vec<SocketRef> {
        self.sockets
            .read()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
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
        let Ok(sockets) = ns.sockets.read() else {
            return;
        };
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
        let handler = ns.server_side.read().ok().and_then(|h| h.clone());
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
        if let Ok(mut m) = self.middlewares.write() {
            m.push(boxed_middleware(middleware));
        }
        self
    }
}

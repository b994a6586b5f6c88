//! [`SocketIo`]: the server handle — namespaces, broadcasts, shutdown.

use foldhash::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use sockeye_core::{Instant, Str};

use crate::adapter::{AdapterError, AdapterFactory};
use crate::config::{Config, SocketIoBuilder};
use crate::connection::SocketIoProtocol;
use crate::engine::Engine;
use crate::handler::{boxed, Handler};
use crate::layer::SocketIoLayer;
use crate::lock;
use crate::ns::{Namespace, NsConfig, NsHandle, ServerSideEvent};
use crate::operators::{BroadcastOperator, IntoRooms};
use crate::payload::Payload;
use crate::remote::RemoteSocket;
use crate::socket::SendError;
use crate::state::StateMap;

type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The Socket.IO layer's state: namespaces, adapter, settings, and the Engine.IO server
/// underneath (which owns the sessions).
pub(crate) struct IoInner {
    pub(crate) config: Config,
    engine: Arc<Engine<SocketIoProtocol>>,
    adapter: Arc<dyn AdapterFactory>,
    state: StateMap,
    namespaces: RwLock<HashMap<Str, Arc<Namespace>>>,
    dynamic: RwLock<Vec<(Predicate, NsConfig)>>,
    /// Which [`Limit`]s were already logged at `warn`.
    warned: AtomicU32,
}

/// A cap a client ran into (each is logged at `warn` the first time, at `debug` after).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Limit {
    Rooms = 1,
    DynamicNamespaces = 2,
    PendingConnects = 4,
    Recovery = 8,
}

/// The Socket.IO server. Cheap to clone; every clone is the same server.
///
/// ```no_run
/// use sockeye::{SocketIo, SocketRef, Data};
///
/// # async fn run() {
/// let (layer, io) = SocketIo::builder().build_layer();
/// io.ns("/", |socket: SocketRef| async move {
///     socket.on("hello", |socket: SocketRef, Data(name): Data<String>| async move {
///         socket.emit("hi", &format!("hello {name}")).ok();
///     });
/// });
/// let app = axum::Router::new().layer(layer);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
/// axum::serve(listener, app).await.unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct SocketIo(pub(crate) Arc<IoInner>);

impl SocketIo {
    /// A builder for the server's settings.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }

    /// A server with the default settings: `(layer, io)`.
    pub fn new_layer() -> (SocketIoLayer, SocketIo) {
        Self::builder().build_layer()
    }

    pub(crate) fn new(
        config: Config,
        adapter: Arc<dyn AdapterFactory>,
        state: StateMap,
    ) -> SocketIo {
        SocketIo(Arc::new_cyclic(|io| IoInner {
            engine: Engine::new(config.engine.clone(), SocketIoProtocol { io: io.clone() }),
            config,
            adapter,
            state,
            namespaces: RwLock::new(HashMap::default()),
            dynamic: RwLock::new(Vec::new()),
            warned: AtomicU32::new(0),
        }))
    }

    /// Logs that a client ran into `limit`: at `warn` the first time, at `debug` after.
    pub(crate) fn limit_hit(&self, limit: Limit, detail: std::fmt::Arguments<'_>) {
        let bit = limit as u32;
        if self.0.warned.fetch_or(bit, Ordering::AcqRel) & bit == 0 {
            tracing::warn!(
                ?limit,
                "limit reached: {detail} (logged once; later at debug)"
            );
        } else {
            tracing::debug!(?limit, "limit reached: {detail}");
        }
    }

    /// Registers namespace `path` (e.g. `"/"`) with its connect handler, an async function
    /// of extractors ([`SocketRef`](crate::SocketRef), [`crate::Data`] of the `auth` payload, ...). Events
    /// are dispatched to the socket once the connect handler returns, so register event
    /// handlers there. Returns a handle to add middlewares with.
    pub fn ns<H: Handler<T>, T>(&self, path: impl Into<String>, handler: H) -> NsHandle {
        let config = NsConfig {
            handler: boxed(handler),
            middlewares: Default::default(),
        };
        let name = Str::from(path.into());
        let ns = Namespace::new(self, name.clone(), config.clone(), false);
        lock::write(&self.0.namespaces).insert(name, ns);
        NsHandle {
            middlewares: config.middlewares,
        }
    }

    /// Registers dynamic namespaces: any name `predicate` accepts becomes a namespace with
    /// this handler (and the middlewares added to the returned handle) on first connect.
    pub fn dyn_ns<H: Handler<T>, T>(
        &self,
        predicate: impl Fn(&str) -> bool + Send + Sync + 'static,
        handler: H,
    ) -> NsHandle {
        let config = NsConfig {
            handler: boxed(handler),
            middlewares: Default::default(),
        };
        lock::write(&self.0.dynamic).push((Arc::new(predicate), config.clone()));
        NsHandle {
            middlewares: config.middlewares,
        }
    }

    /// Removes namespace `path` (its connected sockets stay until they disconnect).
    pub fn delete_ns(&self, path: &str) {
        lock::write(&self.0.namespaces).remove(path);
    }

    /// How many namespaces exist: the registered ones and the dynamic ones that have
    /// sockets (or, with connection state recovery, lost sockets still remembered).
    pub fn namespace_count(&self) -> usize {
        lock::read(&self.0.namespaces).len()
    }

    /// The namespace named `path`, if it exists (a dynamic one is not created: with no
    /// socket it has nobody to reach).
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        lock::read(&self.0.namespaces).get(path).cloned()
    }

    /// The namespace a client asks to join — a dynamic one is created if a predicate
    /// accepts `path` and the cap allows — counted as used by one more socket until
    /// [`Namespace::release`]. `None`: no such namespace, or too many dynamic ones.
    pub(crate) fn namespace_for_connect(&self, path: &str) -> Option<Arc<Namespace>> {
        if let Some(ns) = lock::read(&self.0.namespaces).get(path) {
            ns.acquire();
            return Some(ns.clone());
        }
        // A predicate is user code: one that panics refuses the name, and the session that
        // asked goes on.
        let accepts = |p: &Predicate| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p(path))).unwrap_or_else(
                |_| {
                    tracing::error!(
                        "a dyn_ns predicate panicked on {path:?}; the CONNECT is refused"
                    );
                    false
                },
            )
        };
        let config = lock::read(&self.0.dynamic)
            .iter()
            .find(|(p, _)| accepts(p))
            .map(|(_, c)| c.clone())?;
        let cap = self.config().limits.dynamic_namespaces;
        let mut map = lock::write(&self.0.namespaces);
        if let Some(ns) = map.get(path) {
            ns.acquire();
            return Some(ns.clone());
        }
        let dynamic =
            |map: &HashMap<Str, Arc<Namespace>>| map.values().filter(|ns| ns.is_dynamic()).count();
        if dynamic(&map) >= cap {
            // Those kept only for their lost sockets may have expired meanwhile.
            let now = self.now();
            map.retain(|_, ns| !(ns.is_dynamic() && ns.is_idle(now)));
            if dynamic(&map) >= cap {
                drop(map);
                self.limit_hit(
                    Limit::DynamicNamespaces,
                    format_args!("{cap} dynamic namespaces exist; CONNECT to {path:?} refused"),
                );
                return None;
            }
        }
        let ns = Namespace::new(self, Str::from(path), config, true);
        ns.acquire();
        map.insert(Str::from(path), ns.clone());
        Some(ns)
    }

    /// Removes the dynamic namespace `ns` if nothing uses it any more.
    pub(crate) fn remove_if_idle(&self, ns: &Arc<Namespace>) {
        let now = self.now();
        let mut map = lock::write(&self.0.namespaces);
        let current = map.get(ns.name()).is_some_and(|n| Arc::ptr_eq(n, ns));
        if current && ns.is_idle(now) {
            map.remove(ns.name());
        }
    }

    /// Operations on namespace `path` (selecting nothing if it does not exist).
    pub fn of(&self, path: &str) -> BroadcastOperator {
        self.namespace(path)
            .map_or_else(BroadcastOperator::none, BroadcastOperator::new)
    }

    fn root(&self) -> BroadcastOperator {
        self.of("/")
    }

    /// Sockets of `/` in `rooms`.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.root().to(rooms)
    }

    /// Same as [`SocketIo::to`].
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.root().to(rooms)
    }

    /// Sockets of `/` not in `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.root().except(rooms)
    }

    /// Sockets of `/` on this server only.
    pub fn local(&self) -> BroadcastOperator {
        self.root().local()
    }

    /// Sockets of `/`, dropping data for clients that cannot take it now.
    pub fn volatile(&self) -> BroadcastOperator {
        self.root().volatile()
    }

    /// Sockets of `/`, with an ack timeout for `emit_with_ack`.
    pub fn timeout(&self, d: Duration) -> BroadcastOperator {
        self.root().timeout(d)
    }

    /// Emits to every socket of `/` (encoded once).
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        self.root().emit(event, data).await
    }

    /// Emits raw arguments to every socket of `/`.
    pub async fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), SendError> {
        self.root().emit_payload(event, payload).await
    }

    /// The sockets of `/`, on every server of the cluster.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.root().fetch_sockets().await
    }

    /// Makes every socket of `/` join `rooms`.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.root().join(rooms).await
    }

    /// Makes every socket of `/` leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.root().leave(rooms).await
    }

    /// Disconnects every socket of `/`.
    pub async fn disconnect_sockets(&self) -> Result<(), AdapterError> {
        self.root().disconnect().await
    }

    /// How many servers share the cluster of `/`, this one included (Node's
    /// `adapter.serverCount()`; 1 with the in-memory adapter).
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        match self.namespace("/") {
            Some(ns) => ns.adapter().server_count().await,
            None => Ok(1),
        }
    }

    /// Sends `event` to the other servers of the cluster through the adapter of `/` (Node's
    /// `serverSideEmit`; nothing to do with the in-memory adapter).
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        let payload = Payload::one(data)?;
        match self.namespace("/") {
            Some(ns) => Ok(ns
                .adapter()
                .server_side_emit(event.to_owned(), payload)
                .await?),
            None => Ok(()),
        }
    }

    /// Sends `event` to the other servers of the cluster and waits (at most the builder's
    /// `ack_timeout`) for each one's answer (Node's `serverSideEmitWithAck`).
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<serde_json::Value>, SendError> {
        let payload = Payload::one(data)?;
        match self.namespace("/") {
            Some(ns) => Ok(ns
                .adapter()
                .server_side_emit_with_ack(event.to_owned(), payload, self.config().ack_timeout)
                .await?),
            None => Ok(Vec::new()),
        }
    }

    /// Handles events that other servers of the cluster send to `/` with
    /// `server_side_emit` (Node's `io.on(event, ...)` for server-side events). One handler
    /// for every event name; it may answer with [`ServerSideEvent::ack`].
    pub fn on_server_side_emit<F, Fut>(&self, handler: F)
    where
        F: Fn(ServerSideEvent) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(ns) = self.namespace("/") {
            ns.set_server_side_handler(Arc::new(move |ev| Box::pin(handler(ev))));
        }
    }

    /// A state value given to the builder.
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.state.get::<T>()
    }

    /// How many Engine.IO sessions are open.
    pub fn session_count(&self) -> usize {
        self.0.engine.session_count()
    }

    /// Refuses new handshakes from now on (`503`), closes every session with a `close`
    /// packet ("server shutting down" on the clients) and waits (at most 2 s) for them to
    /// end. Call this when the HTTP server stops accepting connections.
    pub async fn close(&self) {
        self.0.engine.close_all(Duration::from_secs(2)).await;
    }

    pub(crate) fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn engine(&self) -> &Arc<Engine<SocketIoProtocol>> {
        &self.0.engine
    }

    pub(crate) fn adapter_factory(&self) -> &Arc<dyn AdapterFactory> {
        &self.0.adapter
    }

    /// The current time for the core (the Engine.IO layer's clock).
    pub(crate) fn now(&self) -> Instant {
        self.0.engine.now()
    }
}

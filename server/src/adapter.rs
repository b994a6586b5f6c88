//! The adapter: where rooms live and how broadcasts reach sockets. Async, so an adapter
//! over Redis or RabbitMQ can implement it; [`LocalAdapter`] (in memory) is the default.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;
use sockeye_core::engine::server::Prepared;
use sockeye_core::engine::Message;
use sockeye_core::socket::{parser, Packet};
use sockeye_core::Str;

use crate::ns::NamespaceRef;
use crate::payload::Payload;

/// Which sockets an operation targets.
#[derive(Clone, Debug, Default)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket if empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// Minus these sockets (e.g. the sender).
    pub except_sids: Vec<Str>,
    /// Only this server's sockets (for multi-server adapters).
    pub local: bool,
    /// Drop the data for clients that cannot take it now rather than queue it.
    pub volatile: bool,
}

/// A packet encoded once for every recipient: its Engine.IO messages (for adapters that
/// forward them to other servers) and their prepared WebSocket frames, shared by every local
/// session they go to.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The Engine.IO messages (text, then one per binary attachment).
    pub messages: Arc<[Message]>,
    pub(crate) prepared: Arc<[Prepared]>,
}

impl Encoded {
    /// Encodes `packet` once.
    pub fn new(packet: &Packet) -> Encoded {
        Encoded::from_messages(parser::encode(packet))
    }

    /// Prepares already encoded messages (e.g. received from another server).
    pub fn from_messages(messages: Vec<Message>) -> Encoded {
        let prepared: Arc<[Prepared]> = messages.iter().cloned().map(Prepared::new).collect();
        Encoded {
            messages: messages.into(),
            prepared,
        }
    }
}

/// Why an adapter operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The adapter's backend failed.
    #[error("adapter: {0}")]
    Backend(String),
}

/// A future returned by an [`Adapter`].
pub type AdapterFuture<'a, T> = BoxFuture<'a, Result<T, AdapterError>>;

/// Rooms and broadcasts of one namespace.
pub trait Adapter: Send + Sync + 'static {
    /// Adds socket `sid` to `rooms`.
    fn add_all(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Removes socket `sid` from `rooms`.
    fn del(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Removes socket `sid` from every room.
    fn del_all(&self, sid: Str) -> AdapterFuture<'_, ()>;
    /// The rooms of socket `sid`.
    fn socket_rooms(&self, sid: Str) -> AdapterFuture<'_, Vec<String>>;
    /// The ids of the sockets `opts` targets.
    fn sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<Str>>;
    /// Sends a packet, encoded once and shared by every recipient, to the sockets `opts`
    /// targets.
    fn broadcast(&self, packet: Encoded, opts: BroadcastOptions) -> AdapterFuture<'_, ()>;
    /// Makes the targeted sockets join `rooms`.
    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Makes the targeted sockets leave `rooms`.
    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Disconnects the targeted sockets.
    fn disconnect_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, ()>;
    /// Sends an event to the other servers of the cluster (Node's `serverSideEmit`). A
    /// single-server adapter has nobody to send it to: the default does nothing.
    fn server_side_emit(&self, event: String, payload: Payload) -> AdapterFuture<'_, ()> {
        let _ = (event, payload);
        Box::pin(async { Ok(()) })
    }
}

/// Creates the adapter of each namespace.
pub trait AdapterFactory: Send + Sync + 'static {
    /// The adapter of the namespace `ns`.
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter>;
}

/// The factory of [`LocalAdapter`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalAdapterFactory;

impl AdapterFactory for LocalAdapterFactory {
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter> {
        Arc::new(LocalAdapter::new(ns))
    }
}

#[derive(Default)]
struct Rooms {
    rooms: HashMap<String, HashSet<Str>>,
    sids: HashMap<Str, HashSet<String>>,
}

/// The in-memory adapter: one server process.
pub struct LocalAdapter {
    ns: NamespaceRef,
    rooms: RwLock<Rooms>,
}

impl LocalAdapter {
    /// An adapter for `ns`.
    pub fn new(ns: NamespaceRef) -> LocalAdapter {
        LocalAdapter {
            ns,
            rooms: RwLock::new(Rooms::default()),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rooms> {
        self.rooms.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rooms> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn add_now(&self, sid: &Str, rooms: &[String]) {
        let mut r = self.write();
        for room in rooms {
            r.rooms.entry(room.clone()).or_default().insert(sid.clone());
        }
        r.sids
            .entry(sid.clone())
            .or_default()
            .extend(rooms.iter().cloned());
    }

    fn del_now(&self, sid: &Str, rooms: &[String]) {
        let mut r = self.write();
        for room in rooms {
            if let Some(set) = r.rooms.get_mut(room) {
                set.remove(sid);
                if set.is_empty() {
                    r.rooms.remove(room);
                }
            }
            if let Some(set) = r.sids.get_mut(sid) {
                set.remove(room);
            }
        }
    }

    fn del_all_now(&self, sid: &Str) {
        let mut r = self.write();
        if let Some(rooms) = r.sids.remove(sid) {
            for room in rooms {
                if let Some(set) = r.rooms.get_mut(&room) {
                    set.remove(sid);
                    if set.is_empty() {
                        r.rooms.remove(&room);
                    }
                }
            }
        }
    }

    /// The ids `opts` targets, each once.
    fn targets(&self, opts: &BroadcastOptions) -> Vec<Str> {
        let r = self.read();
        let excluded: HashSet<&Str> = opts
            .except
            .iter()
            .filter_map(|room| r.rooms.get(room))
            .flatten()
            .chain(opts.except_sids.iter())
            .collect();
        let mut seen = HashSet::new();
        let candidates: Box<dyn Iterator<Item = &Str>> = if opts.rooms.is_empty() {
            Box::new(r.sids.keys())
        } else {
            Box::new(
                opts.rooms
                    .iter()
                    .filter_map(|room| r.rooms.get(room))
                    .flatten(),
            )
        };
        candidates
            .filter(|sid| !excluded.contains(sid) && seen.insert(*sid))
            .cloned()
            .collect()
    }
}

impl Adapter for LocalAdapter {
    fn add_all(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.add_now(&sid, &rooms);
        Box::pin(async { Ok(()) })
    }

    fn del(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.del_now(&sid, &rooms);
        Box::pin(async { Ok(()) })
    }

    fn del_all(&self, sid: Str) -> AdapterFuture<'_, ()> {
        self.del_all_now(&sid);
        Box::pin(async { Ok(()) })
    }

    fn socket_rooms(&self, sid: Str) -> AdapterFuture<'_, Vec<String>> {
        let rooms = self
            .read()
            .sids
            .get(&sid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        Box::pin(async { Ok(rooms) })
    }

    fn sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<Str>> {
        let ids = self.targets(&opts);
        Box::pin(async { Ok(ids) })
    }

    fn broadcast(&self, packet: Encoded, opts: BroadcastOptions) -> AdapterFuture<'_, ()> {
        self.ns
            .deliver(self.targets(&opts).iter(), &packet, opts.volatile);
        Box::pin(async { Ok(()) })
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        for sid in self.targets(&opts) {
            self.add_now(&sid, &rooms);
        }
        Box::pin(async { Ok(()) })
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        for sid in self.targets(&opts) {
            self.del_now(&sid, &rooms);
        }
        Box::pin(async { Ok(()) })
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, ()> {
        for sid in self.targets(&opts) {
            self.ns.disconnect(&sid);
        }
        Box::pin(async { Ok(()) })
    }
}

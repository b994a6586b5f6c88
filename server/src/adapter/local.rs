//! [`LocalAdapter`]: rooms in memory, for one server process. Cluster adapters keep one for
//! their own sockets.

use foldhash::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::join_all;
use sockeye_core::socket::Packet;
use sockeye_core::Str;

use super::{Adapter, AdapterFactory, AdapterFuture, BroadcastOptions, Encoded, SocketData};
use crate::ack::AckError;
use crate::ns::NamespaceRef;
use crate::payload::Payload;

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

    /// Whether a local socket is in `room`.
    pub fn has_room(&self, room: &str) -> bool {
        self.read().rooms.contains_key(room)
    }

    /// Every room a local socket is in.
    pub fn all_rooms(&self) -> Vec<String> {
        self.read().rooms.keys().cloned().collect()
    }

    /// The local sockets `opts` targets, as a cluster-wide query reports them.
    pub fn local_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketData> {
        let targets = self.targets(opts);
        let r = self.read();
        targets
            .iter()
            .filter_map(|sid| {
                let socket = self.ns.socket(sid)?;
                let rooms = r
                    .sids
                    .get(sid)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                Some(SocketData {
                    id: sid.to_string(),
                    rooms,
                    handshake: socket.handshake_json(),
                    data: serde_json::Value::Null,
                })
            })
            .collect()
    }

    /// Sends the event `packet` to the local sockets `opts` targets, each with an ack; the
    /// answers (or errors) in socket order.
    pub fn local_broadcast_with_ack(
        &self,
        packet: &Packet,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Vec<Result<Payload, AckError>>> + Send + 'static {
        let data = packet.data.clone().unwrap_or_default();
        let calls: Vec<_> = self
            .targets(opts)
            .iter()
            .filter_map(|sid| self.ns.socket(sid))
            .map(|socket| {
                let (data, attachments) = (data.clone(), packet.attachments.clone());
                async move { socket.emit_raw_with_ack(data, attachments, timeout).await }
            })
            .collect();
        join_all(calls)
    }

    /// Hands `packet` to the local sockets `opts` targets, now.
    pub fn deliver(&self, packet: &Encoded, opts: &BroadcastOptions) {
        self.ns
            .deliver(self.targets(opts).iter(), packet, opts.volatile);
    }

    /// The ids `opts` targets, each once.
    pub fn targets(&self, opts: &BroadcastOptions) -> Vec<Str> {
        let r = self.read();
        // The common broadcasts, to one room or to everyone, without exceptions: that set is
        // the answer, no second set to deduplicate or exclude.
        match (
            opts.rooms.as_slice(),
            opts.except.as_slice(),
            opts.except_sids.as_slice(),
        ) {
            ([room], [], []) => {
                return r
                    .rooms
                    .get(room)
                    .map(|sids| sids.iter().cloned().collect())
                    .unwrap_or_default();
            }
            ([], [], []) => return r.sids.keys().cloned().collect(),
            _ => {}
        }
        let excluded: HashSet<&Str> = opts
            .except
            .iter()
            .filter_map(|room| r.rooms.get(room))
            .flatten()
            .chain(opts.except_sids.iter())
            .collect();
        let mut seen = HashSet::default();
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
        self.deliver(&packet, &opts);
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

    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketData>> {
        let sockets = self.local_sockets(&opts);
        Box::pin(async { Ok(sockets) })
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'_, Vec<Result<Payload, AckError>>> {
        let acks = self.local_broadcast_with_ack(&packet, &opts, timeout);
        Box::pin(async move { Ok(acks.await) })
    }
}

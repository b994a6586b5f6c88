//! The cluster logic of one namespace, whatever the bus ([`Bus`]: Redis or AMQP): local
//! sockets through a [`LocalAdapter`], the rest through messages in the formats of Node's
//! `@socket.io/redis-adapter` (broadcasts, requests and responses) and python-socketio's
//! pub/sub managers.
//!
//! Requests (fetch sockets, remote join/leave/disconnect, server-side emits, broadcasts with
//! acks) go to every other server; the answers are collected per request id until every
//! server counted by [`Bus::server_count`] answered or the requests timeout passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::Value;
use sockeye_core::socket::Packet;
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot};

use super::bus::{Bus, PythonFormat, Route};
use super::msgpack::{self, Broadcast, Flags};
use super::python;
use super::requests::{fetched_sockets, kind, Request, Response, ResponseHead, WireOpts};
use crate::ack::AckError;
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, BroadcastOptions, Encoded, LocalAdapter, SocketData,
};
use crate::ns::NamespaceRef;
use crate::payload::Payload;

/// The namespaces of one server, for the bus to route what it receives.
#[derive(Default)]
pub(crate) struct Registry {
    namespaces: RwLock<HashMap<String, Weak<Shared>>>,
}

impl Registry {
    /// The namespace `nsp`, if this server has it.
    pub(crate) fn get(&self, nsp: &str) -> Option<Arc<Shared>> {
        crate::lock::read(&self.namespaces).get(nsp)?.upgrade()
    }

    /// Every namespace of this server, with its name.
    #[cfg(feature = "redis")]
    pub(crate) fn all_named(&self) -> Vec<(String, Arc<Shared>)> {
        crate::lock::read(&self.namespaces)
            .iter()
            .filter_map(|(name, w)| Some((name.clone(), w.upgrade()?)))
            .collect()
    }

    /// A python-socketio message: handled by the namespace it names.
    pub(crate) fn on_python(&self, payload: &[u8]) {
        if let Some((nsp, host_id)) = python::emit_head(payload) {
            match self.get(&nsp) {
                Some(shared) if !shared.skips_python_emit(host_id.as_deref()) => {}
                _ => return,
            }
        }
        let Some(message) = python::decode(payload) else {
            tracing::debug!("cluster: malformed python-socketio message dropped");
            return;
        };
        if let Some(shared) = self.get(message.namespace()) {
            shared.on_python(message);
        }
    }

    /// A request for namespace `nsp`, which this server does not have, from server `from`:
    /// the questions that are waiting for every server's answer get an empty one (Redis
    /// needs none: there, only servers with the namespace are counted).
    #[cfg(feature = "amqp")]
    pub(crate) fn answer_absent(&self, bus: &dyn Bus, nsp: &str, from: Option<&str>, body: &[u8]) {
        let to = Route::Response { nsp, to: from };
        if body.first() != Some(&b'{') {
            if let Ok(msgpack::Request::Broadcast { request_id, .. }) =
                msgpack::decode_request(body)
            {
                let mut r = Response::new(request_id);
                r.kind = Some(kind::BROADCAST_CLIENT_COUNT);
                r.client_count = Some(0);
                if let Ok(bytes) = serde_json::to_vec(&r) {
                    bus.send(to, bytes);
                }
            }
            return;
        }
        let Ok(req) = serde_json::from_slice::<Request>(body) else {
            return;
        };
        let Some(id) = req.request_id else { return };
        let mut r = Response::new(id);
        match req.kind {
            kind::SOCKETS | kind::REMOTE_FETCH => r.sockets = Some(Value::Array(Vec::new())),
            kind::ALL_ROOMS => r.rooms = Some(Vec::new()),
            // Server-side emits are answered by handlers, and there are none here.
            _ => return,
        }
        if let Ok(bytes) = serde_json::to_vec(&r) {
            bus.send(to, bytes);
        }
    }

    /// The adapter of namespace `ns`, on `bus`.
    pub(crate) fn create(&self, bus: Arc<dyn Bus>, ns: NamespaceRef) -> ClusterAdapter {
        let nsp = ns.name().to_owned();
        let shared = Arc::new(Shared {
            python_host: format!("{}{}", python::SOCKEYE_HOST, bus.uid()),
            bus,
            local: LocalAdapter::new(ns.clone()),
            ns,
            nsp: nsp.clone(),
            requests: Mutex::new(HashMap::new()),
        });
        crate::lock::write(&self.namespaces).insert(nsp, Arc::downgrade(&shared));
        ClusterAdapter { shared }
    }
}

/// A request of ours waiting for the other servers' answers.
enum Pending {
    Fetch {
        expected: usize,
        got: usize,
        sockets: Vec<SocketData>,
        done: Option<oneshot::Sender<Vec<SocketData>>>,
    },
    ServerSideEmit {
        expected: usize,
        answers: Vec<Value>,
        done: Option<oneshot::Sender<Vec<Value>>>,
    },
    BroadcastAck(mpsc::Sender<AckNews>),
}

/// What other servers report about a broadcast with acks.
enum AckNews {
    ClientCount(u64),
    Ack(Payload),
}

/// How long a client's ack to a python server's emit is waited for (python-socketio has no
/// timeout of its own for callbacks).
const PYTHON_CALLBACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Most acks or counts of one broadcast waiting to be collected.
const ACK_QUEUE: usize = 4096;

/// One namespace's view of the cluster.
pub(crate) struct Shared {
    bus: Arc<dyn Bus>,
    ns: NamespaceRef,
    local: LocalAdapter,
    nsp: String,
    /// Our `host_id` in python-socketio's messages (`sockeye-<uid>`).
    python_host: String,
    requests: Mutex<HashMap<String, Pending>>,
}

/// The adapter of one namespace on a cluster (Redis or AMQP). Made by
/// [`super::RedisAdapterFactory`] or [`super::AmqpAdapterFactory`].
pub struct ClusterAdapter {
    shared: Arc<Shared>,
}

impl Shared {
    fn requests(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn uid(&self) -> &str {
        self.bus.uid()
    }

    async fn publish_json<T: serde::Serialize>(
        &self,
        to: Route<'_>,
        msg: &T,
    ) -> Result<(), AdapterError> {
        let bytes = serde_json::to_vec(msg).map_err(|e| AdapterError::Backend(e.to_string()))?;
        self.bus.publish(to, bytes).await
    }

    fn request_route(&self) -> Route<'_> {
        Route::Request { nsp: &self.nsp }
    }

    /// Sends a response to server `to`'s request.
    fn respond_json<T: serde::Serialize>(&self, to: Option<&str>, msg: T) {
        match serde_json::to_vec(&msg) {
            Ok(bytes) => self.respond_bytes(to, bytes),
            Err(e) => tracing::debug!("cluster: response not encodable: {e}"),
        }
    }

    fn respond_bytes(&self, to: Option<&str>, bytes: Vec<u8>) {
        let route = Route::Response { nsp: &self.nsp, to };
        self.bus.send(route, bytes);
    }

    /// A broadcast in the native format; `room` is the one room it was addressed to, if the
    /// bus told (servers without that room skip it undecoded).
    pub(crate) fn on_broadcast(self: &Arc<Self>, room: Option<&str>, payload: &[u8]) {
        if room.is_some_and(|room| !self.local.has_room(room)) {
            return;
        }
        // Our own broadcast, back from the bus: dropped before it is decoded.
        if msgpack::broadcast_uid(payload) == Some(self.uid().as_bytes()) {
            return;
        }
        let b = match msgpack::decode_broadcast(payload) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("cluster: malformed broadcast dropped: {e}");
                return;
            }
        };
        if b.uid == self.uid() || b.nsp != self.nsp {
            return;
        }
        let opts = BroadcastOptions {
            rooms: b.rooms,
            except: b.except,
            volatile: b.flags.volatile,
            ..Default::default()
        };
        let packet = Packet::event(
            Str::from(self.nsp.as_str()),
            Str::from(b.args),
            None,
            b.attachments,
        );
        self.local.deliver(&Encoded::new(packet), &opts);
    }

    /// A request of another server (JSON, or msgpack for broadcasts with acks).
    pub(crate) fn on_request(self: &Arc<Self>, payload: &[u8]) {
        if payload.first() != Some(&b'{') {
            return self.on_msgpack_request(payload);
        }
        let req: Request = match serde_json::from_slice(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("cluster: malformed request dropped: {e}");
                return;
            }
        };
        let opts = req.opts.clone().unwrap_or_default().into_opts();
        let from = req.uid.clone();
        let from = from.as_deref();
        // The id to answer, unless the request is one of ours (we answer for ourselves).
        let foreign_request = req
            .request_id
            .clone()
            .filter(|id| !self.requests().contains_key(id));
        match req.kind {
            kind::SOCKETS => {
                let Some(id) = foreign_request else {
                    return;
                };
                let opts = BroadcastOptions {
                    rooms: req.rooms.unwrap_or_default(),
                    ..Default::default()
                };
                let ids: Vec<String> = self
                    .local
                    .targets(&opts)
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let mut r = Response::new(id);
                r.sockets = Some(Value::from(ids));
                self.respond_json(from, r);
            }
            kind::ALL_ROOMS => {
                let Some(id) = foreign_request else {
                    return;
                };
                let mut r = Response::new(id);
                r.rooms = Some(self.local.all_rooms());
                self.respond_json(from, r);
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT => {
                // Ours were applied here before they were published.
                if from != Some(self.uid()) {
                    self.on_remote_op(req, opts);
                }
            }
            kind::REMOTE_FETCH => {
                let Some(id) = foreign_request else {
                    return;
                };
                let mut r = Response::new(id);
                r.sockets = serde_json::to_value(self.local.local_sockets(&opts)).ok();
                self.respond_json(from, r);
            }
            kind::SERVER_SIDE_EMIT => {
                if from == Some(self.uid()) {
                    return;
                }
                let Some(Value::Array(mut data)) = req.data else {
                    return;
                };
                if data.is_empty() {
                    return;
                }
                let event = match data.remove(0) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                let args = Payload {
                    args: Str::from(Value::Array(data).to_string()),
                    attachments: Vec::new(),
                };
                let ack = req.request_id.map(|id| {
                    let (tx, rx) = oneshot::channel::<Value>();
                    let me = self.clone();
                    let from = req.uid.clone();
                    tokio::spawn(async move {
                        if let Ok(value) = rx.await {
                            let mut r = Response::new(id);
                            r.kind = Some(kind::SERVER_SIDE_EMIT);
                            r.data = Some(value);
                            me.respond_json(from.as_deref(), r);
                        }
                    });
                    tx
                });
                self.ns.server_side_event(event, args, ack);
            }
            other => tracing::debug!(kind = other, "cluster: unknown request type ignored"),
        }
    }

    fn on_remote_op(self: &Arc<Self>, req: Request, opts: BroadcastOptions) {
        let me = self.clone();
        tokio::spawn(async move {
            if req.opts.is_some() {
                let rooms = req.rooms.unwrap_or_default();
                let _ = match req.kind {
                    kind::REMOTE_JOIN => me.local.add_sockets(opts, rooms).await,
                    kind::REMOTE_LEAVE => me.local.del_sockets(opts, rooms).await,
                    _ => me.local.disconnect_sockets(opts).await,
                };
                return;
            }
            // The old form: one socket by id, answered.
            let Some(sid) = req.sid else { return };
            if me.ns.socket(&sid).is_none() {
                return;
            }
            let room = req.room.map(|r| vec![r]).unwrap_or_default();
            let sid = Str::from(sid);
            let _ = match req.kind {
                kind::REMOTE_JOIN => me.local.add_all(sid, room).await,
                kind::REMOTE_LEAVE => me.local.del(sid, room).await,
                _ => {
                    me.ns.disconnect(&sid);
                    Ok(())
                }
            };
            if let Some(id) = req.request_id {
                me.respond_json(req.uid.as_deref(), Response::new(id));
            }
        });
    }

    /// A `BROADCAST` request (msgpack): emit to our targets with acks; report how many, then
    /// each ack as it comes.
    fn on_msgpack_request(self: &Arc<Self>, payload: &[u8]) {
        let req = match msgpack::decode_request(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("cluster: malformed request dropped: {e}");
                return;
            }
        };
        let msgpack::Request::Broadcast {
            request_id,
            broadcast,
        } = req
        else {
            tracing::debug!("cluster: msgpack request of an unknown type ignored");
            return;
        };
        if broadcast.uid == self.uid() || broadcast.nsp != self.nsp {
            return;
        }
        let origin = Some(broadcast.uid.clone());
        let opts = BroadcastOptions {
            rooms: broadcast.rooms.clone(),
            except: broadcast.except.clone(),
            ..Default::default()
        };
        let timeout = Duration::from_millis(broadcast.flags.timeout.unwrap_or(5000));
        let targets: Vec<_> = self
            .local
            .targets(&opts)
            .iter()
            .filter_map(|sid| self.ns.socket(sid))
            .collect();
        let mut count = Response::new(request_id.clone());
        count.kind = Some(kind::BROADCAST_CLIENT_COUNT);
        count.client_count = Some(targets.len() as u64);
        // The count leaves before any ack: the bus keeps the order of what it is given.
        self.respond_json(origin.as_deref(), count);
        let data = Str::from(broadcast.args);
        let attachments = broadcast.attachments;
        for socket in targets {
            let (me, request_id) = (self.clone(), request_id.clone());
            let (data, attachments) = (data.clone(), attachments.clone());
            let origin = origin.clone();
            tokio::spawn(async move {
                let Ok(ack) = socket.emit_raw_with_ack(data, attachments, timeout).await else {
                    return;
                };
                let ack = msgpack::BroadcastAck {
                    request_id,
                    // Node's adapter forwards the first argument of an ack.
                    arg: sockeye_core::json::array_elements(&ack.args)
                        .ok()
                        .and_then(|a| a.first().map(|s| s.to_string())),
                    attachments: ack.attachments,
                };
                match msgpack::encode_broadcast_ack(&ack) {
                    Ok(bytes) => me.respond_bytes(origin.as_deref(), bytes),
                    Err(e) => tracing::debug!("cluster: ack not encodable: {e}"),
                }
            });
        }
    }

    /// An answer to one of our requests (JSON, or msgpack for acks of a broadcast).
    pub(crate) fn on_response(self: &Arc<Self>, payload: &[u8]) {
        if payload.first() != Some(&b'{') {
            let Ok(ack) = msgpack::decode_broadcast_ack(payload) else {
                tracing::debug!("cluster: malformed response dropped");
                return;
            };
            if let Some(Pending::BroadcastAck(tx)) = self.requests().get(&ack.request_id) {
                let args = match ack.arg {
                    Some(a) => format!("[{a}]"),
                    None => "[]".to_owned(),
                };
                let _ = tx.try_send(AckNews::Ack(Payload {
                    args: Str::from(args),
                    attachments: ack.attachments,
                }));
            }
            return;
        }
        // Every node hears every response on the shared channel: the request id first
        // (a scan, no values built), the whole response only for a request of ours.
        let Ok(head) = serde_json::from_slice::<ResponseHead>(payload) else {
            tracing::debug!("cluster: malformed response dropped");
            return;
        };
        if !self.requests().contains_key(&head.request_id) {
            return;
        }
        let Ok(resp) = serde_json::from_slice::<Response>(payload) else {
            tracing::debug!("cluster: malformed response dropped");
            return;
        };
        let mut requests = self.requests();
        let Some(pending) = requests.get_mut(&resp.request_id) else {
            return;
        };
        let finished = match pending {
            Pending::Fetch {
                expected,
                got,
                sockets,
                done,
            } => {
                *got += 1;
                if let Some(s) = resp.sockets {
                    sockets.extend(fetched_sockets(s));
                }
                if *got >= *expected {
                    if let Some(done) = done.take() {
                        let _ = done.send(std::mem::take(sockets));
                    }
                    true
                } else {
                    false
                }
            }
            Pending::ServerSideEmit {
                expected,
                answers,
                done,
            } => {
                answers.push(resp.data.unwrap_or(Value::Null));
                if answers.len() >= *expected {
                    if let Some(done) = done.take() {
                        let _ = done.send(std::mem::take(answers));
                    }
                    true
                } else {
                    false
                }
            }
            Pending::BroadcastAck(tx) => {
                if resp.kind == Some(kind::BROADCAST_CLIENT_COUNT) {
                    let _ = tx.try_send(AckNews::ClientCount(resp.client_count.unwrap_or(0)));
                }
                false
            }
        };
        if finished {
            requests.remove(&resp.request_id);
        }
    }

    /// Whether a python-socketio `emit` from `host_id` is ours, or a Sockeye node's copy of
    /// a broadcast that also came natively.
    fn skips_python_emit(&self, host_id: Option<&str>) -> bool {
        let from_sockeye = host_id.is_some_and(|h| h.starts_with(python::SOCKEYE_HOST));
        let ours = host_id == Some(self.python_host.as_str());
        ours || (from_sockeye && self.bus.python() != PythonFormat::Preferred)
    }

    /// Handles a python-socketio message now, on the subscriber task: the messages take
    /// effect in the order they were published (an `enter_room` before the `emit` to that
    /// room that follows it). The local adapter's room operations complete at once.
    fn on_python(self: &Arc<Self>, message: python::Message) {
        match message {
            python::Message::Emit {
                event,
                args,
                attachments,
                rooms,
                skip_sids,
                host_id,
                callback,
                ..
            } => {
                if self.skips_python_emit(host_id.as_deref()) {
                    return;
                }
                let payload = Payload {
                    args: Str::from(args),
                    attachments,
                };
                let opts = BroadcastOptions {
                    rooms,
                    except_sids: skip_sids.into_iter().map(Str::from).collect(),
                    ..Default::default()
                };
                let data = payload.event_data(&event);
                match (callback, host_id) {
                    (Some(cb), Some(host)) => {
                        self.python_emit_with_ack(data, payload.attachments, &opts, cb, host)
                    }
                    _ => {
                        let packet = Packet::event(
                            Str::from(self.nsp.as_str()),
                            data,
                            None,
                            payload.attachments,
                        );
                        self.local.deliver(&Encoded::new(packet), &opts);
                    }
                }
            }
            python::Message::EnterRoom { sid, room, .. } => {
                if self.ns.socket(&sid).is_some() {
                    let _ = self
                        .local
                        .add_all(Str::from(sid), vec![room])
                        .now_or_never();
                }
            }
            python::Message::LeaveRoom { sid, room, .. } => {
                let _ = self.local.del(Str::from(sid), vec![room]).now_or_never();
            }
            python::Message::CloseRoom { room, .. } => {
                let opts = BroadcastOptions {
                    rooms: vec![room.clone()],
                    ..Default::default()
                };
                let _ = self.local.del_sockets(opts, vec![room]).now_or_never();
            }
            python::Message::Disconnect { sid, .. } => self.ns.disconnect(&sid),
        }
    }

    /// A python server's emit with a callback: each targeted client's ack goes back to that
    /// server as a `callback` message.
    fn python_emit_with_ack(
        self: &Arc<Self>,
        data: Str,
        attachments: Vec<bytes::Bytes>,
        opts: &BroadcastOptions,
        cb: python::Callback,
        host: String,
    ) {
        let cb = Arc::new(cb);
        for sid in self.local.targets(opts) {
            let Some(socket) = self.ns.socket(&sid) else {
                continue;
            };
            let (me, data, attachments) = (self.clone(), data.clone(), attachments.clone());
            let (cb, host) = (cb.clone(), host.clone());
            tokio::spawn(async move {
                let Ok(ack) = socket
                    .emit_raw_with_ack(data, attachments, PYTHON_CALLBACK_TIMEOUT)
                    .await
                else {
                    return;
                };
                match python::encode_callback(&host, &cb.room, &cb, &ack.args) {
                    Some(bytes) => me.bus.send(Route::Python, bytes),
                    None => tracing::debug!("cluster: python callback not encodable"),
                }
            });
        }
    }

    /// Waits for the answers of request `id` (registered as `pending`), at most the
    /// requests timeout.
    async fn wait<T>(
        &self,
        id: &str,
        rx: oneshot::Receiver<T>,
        timeout: Duration,
        what: &'static str,
    ) -> Result<T, AdapterError> {
        let r = tokio::time::timeout(timeout, rx).await;
        self.requests().remove(id);
        match r {
            Ok(Ok(v)) => Ok(v),
            _ => Err(AdapterError::Timeout(what)),
        }
    }

    /// `packet` (an event) to the sockets `opts` targets, as this node publishes it.
    fn broadcast_message(
        &self,
        packet: &Packet,
        opts: &BroadcastOptions,
        flags: Flags,
    ) -> Broadcast {
        Broadcast {
            uid: self.uid().to_owned(),
            nsp: self.nsp.clone(),
            packet_type: msgpack::EVENT,
            args: packet.data.as_deref().unwrap_or("[]").to_owned(),
            attachments: packet.attachments.clone(),
            id: None,
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            flags,
        }
    }

    /// Queues a broadcast for the other servers, in the native format and/or
    /// python-socketio's (see [`PythonFormat`]); broadcasts go out in the order of these
    /// calls.
    fn queue_broadcast(&self, packet: &Packet, opts: &BroadcastOptions) {
        let flags = Flags {
            volatile: opts.volatile,
            ..Flags::default()
        };
        let b = self.broadcast_message(packet, opts, flags);
        let python = match self.bus.python() {
            PythonFormat::Off => None,
            // Python servers have no volatile emits: such broadcasts stay native where the
            // native format reaches every server.
            PythonFormat::Preferred if opts.volatile => None,
            _ => self.python_emit(&b, opts),
        };
        let native_too = self.bus.python() != PythonFormat::Preferred || python.is_none();
        if let Some(bytes) = python {
            self.bus.send(Route::Python, bytes);
        }
        if native_too {
            let bytes = match msgpack::encode_broadcast(&b) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::debug!("cluster: broadcast not encodable: {e}");
                    return;
                }
            };
            let room = match opts.rooms.as_slice() {
                [room] => Some(room.as_str()),
                _ => None,
            };
            self.bus.send(
                Route::Broadcast {
                    nsp: &self.nsp,
                    room,
                },
                bytes,
            );
        }
    }

    /// The broadcast as a python-socketio `emit`, if its format can say it.
    fn python_emit(&self, b: &Broadcast, opts: &BroadcastOptions) -> Option<Vec<u8>> {
        if !opts.except.is_empty() {
            return None;
        }
        let elements = sockeye_core::json::array_elements(&b.args).ok()?;
        let (name, rest) = elements.split_first()?;
        let event = sockeye_core::json::parse_string(name).ok()?;
        let args = format!("[{}]", rest.join(","));
        let skip: Vec<String> = opts.except_sids.iter().map(|s| s.to_string()).collect();
        python::encode_emit(
            &self.python_host,
            &self.nsp,
            &event,
            &args,
            &b.attachments,
            &opts.rooms,
            &skip,
        )
    }
}

/// A new server uid (Node's adapter `uid`).
pub(crate) fn random_uid() -> String {
    crate::engine::sid::generate().chars().take(6).collect()
}

fn request_id() -> String {
    crate::engine::sid::generate().chars().take(6).collect()
}

impl Adapter for ClusterAdapter {
    fn add_all(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.shared.local.add_all(sid, rooms)
    }

    fn del(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.shared.local.del(sid, rooms)
    }

    fn del_all(&self, sid: Str) -> AdapterFuture<'_, ()> {
        self.shared.local.del_all(sid)
    }

    fn socket_rooms(&self, sid: Str) -> AdapterFuture<'_, Vec<String>> {
        self.shared.local.socket_rooms(sid)
    }

    fn sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<Str>> {
        self.shared.local.sockets(opts)
    }

    fn broadcast(&self, packet: Encoded, opts: BroadcastOptions) -> AdapterFuture<'_, ()> {
        // Local clients first: they never wait on the bus. The cluster part is queued now,
        // so broadcasts leave in call order; it is lost while the bus is down (at most once).
        self.shared.local.deliver(&packet, &opts);
        if !opts.local {
            self.shared.queue_broadcast(&packet.packet, &opts);
        }
        Box::pin(async { Ok(()) })
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.remote_op(kind::REMOTE_JOIN, opts, Some(rooms))
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        self.remote_op(kind::REMOTE_LEAVE, opts, Some(rooms))
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, ()> {
        self.remote_op(kind::REMOTE_DISCONNECT, opts, None)
    }

    fn server_side_emit(&self, event: String, payload: Payload) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            let req = Request {
                uid: Some(self.shared.uid().to_owned()),
                kind: kind::SERVER_SIDE_EMIT,
                data: Some(server_side_data(&event, &payload)?),
                ..Default::default()
            };
            let s = &self.shared;
            s.publish_json(s.request_route(), &req).await
        })
    }

    fn server_side_emit_with_ack(
        &self,
        event: String,
        payload: Payload,
        timeout: Duration,
    ) -> AdapterFuture<'_, Vec<Value>> {
        Box::pin(async move {
            let s = &self.shared;
            let expected = s.bus.server_count(&s.nsp).await?.saturating_sub(1);
            if expected == 0 {
                return Ok(Vec::new());
            }
            let id = request_id();
            let (tx, rx) = oneshot::channel();
            s.requests().insert(
                id.clone(),
                Pending::ServerSideEmit {
                    expected,
                    answers: Vec::new(),
                    done: Some(tx),
                },
            );
            let req = Request {
                uid: Some(s.uid().to_owned()),
                request_id: Some(id.clone()),
                kind: kind::SERVER_SIDE_EMIT,
                data: Some(server_side_data(&event, &payload)?),
                ..Default::default()
            };
            if let Err(e) = s.publish_json(s.request_route(), &req).await {
                s.requests().remove(&id);
                return Err(e);
            }
            s.wait(&id, rx, timeout, "serverSideEmit responses").await
        })
    }

    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketData>> {
        Box::pin(async move {
            let s = &self.shared;
            let local = s.local.local_sockets(&opts);
            if opts.local {
                return Ok(local);
            }
            let servers = s.bus.server_count(&s.nsp).await?;
            if servers <= 1 {
                return Ok(local);
            }
            let id = request_id();
            let (tx, rx) = oneshot::channel();
            s.requests().insert(
                id.clone(),
                Pending::Fetch {
                    expected: servers,
                    got: 1,
                    sockets: local,
                    done: Some(tx),
                },
            );
            let req = Request {
                uid: Some(s.uid().to_owned()),
                request_id: Some(id.clone()),
                kind: kind::REMOTE_FETCH,
                opts: Some(WireOpts::from_opts(&opts)),
                ..Default::default()
            };
            if let Err(e) = s.publish_json(s.request_route(), &req).await {
                s.requests().remove(&id);
                return Err(e);
            }
            let timeout = s.bus.requests_timeout();
            s.wait(&id, rx, timeout, "fetchSockets response").await
        })
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'_, Vec<Result<Payload, AckError>>> {
        Box::pin(async move {
            let s = &self.shared;
            let local = s.local.local_broadcast_with_ack(&packet, &opts, timeout);
            if opts.local {
                return Ok(local.await);
            }
            let servers = s
                .bus
                .server_count(&s.nsp)
                .await
                .unwrap_or(1)
                .saturating_sub(1);
            if servers == 0 {
                return Ok(local.await);
            }
            let id = request_id();
            let (tx, mut rx) = mpsc::channel(ACK_QUEUE);
            s.requests().insert(id.clone(), Pending::BroadcastAck(tx));
            let flags = Flags {
                timeout: Some(timeout.as_millis() as u64),
                ..Flags::default()
            };
            let b = s.broadcast_message(&packet, &opts, flags);
            let published = match msgpack::encode_broadcast_request(&id, &b) {
                Ok(bytes) => s.bus.publish(s.request_route(), bytes).await,
                Err(e) => Err(AdapterError::Backend(e.to_string())),
            };
            if let Err(e) = published {
                s.requests().remove(&id);
                tracing::debug!("cluster: broadcast with acks not published: {e}");
                return Ok(local.await);
            }
            // Collect the other servers' counts and acks until all are in or time is up.
            let deadline = tokio::time::Instant::now() + timeout;
            let remote = async {
                let (mut reported, mut expected, mut acks) = (0usize, 0u64, Vec::new());
                while reported < servers || (acks.len() as u64) < expected {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(AckNews::ClientCount(n))) => {
                            reported += 1;
                            expected += n;
                        }
                        Ok(Some(AckNews::Ack(p))) => acks.push(Ok(p)),
                        _ => break,
                    }
                }
                let missing = expected.saturating_sub(acks.len() as u64);
                acks.extend((0..missing).map(|_| Err(AckError::Timeout)));
                acks
            };
            let (mut all, remote) = tokio::join!(local, remote);
            s.requests().remove(&id);
            all.extend(remote);
            Ok(all)
        })
    }

    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(async move {
            let s = &self.shared;
            s.bus.server_count(&s.nsp).await
        })
    }
}

impl ClusterAdapter {
    /// Applies a join/leave/disconnect here, then publishes it for the other servers
    /// (unless local).
    fn remote_op(
        &self,
        kind: u64,
        opts: BroadcastOptions,
        rooms: Option<Vec<String>>,
    ) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            let s = &self.shared;
            let local_rooms = rooms.clone().unwrap_or_default();
            match kind {
                kind::REMOTE_JOIN => s.local.add_sockets(opts.clone(), local_rooms).await?,
                kind::REMOTE_LEAVE => s.local.del_sockets(opts.clone(), local_rooms).await?,
                _ => s.local.disconnect_sockets(opts.clone()).await?,
            }
            if !opts.local {
                let req = Request {
                    uid: Some(s.uid().to_owned()),
                    kind,
                    opts: Some(WireOpts::from_opts(&opts)),
                    rooms,
                    close: (kind == kind::REMOTE_DISCONNECT).then_some(false),
                    ..Default::default()
                };
                if let Err(e) = s.publish_json(s.request_route(), &req).await {
                    tracing::debug!("cluster: remote operation not published: {e}");
                }
            }
            Ok(())
        })
    }
}

/// `[event, ...args]` of a server-side emit, as JSON (server-side events carry no binary).
fn server_side_data(event: &str, payload: &Payload) -> Result<Value, AdapterError> {
    let args: Vec<Value> =
        serde_json::from_str(&payload.args).map_err(|e| AdapterError::Backend(e.to_string()))?;
    let mut data = vec![Value::String(event.to_owned())];
    data.extend(args);
    Ok(Value::Array(data))
}

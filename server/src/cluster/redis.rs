//! The Redis adapter: one publisher connection and one subscriber connection per process,
//! shared by every namespace, and per namespace a [`RedisAdapter`] speaking the protocol of
//! Node's `@socket.io/redis-adapter` 8.x (classic pub/sub):
//!
//! - broadcasts on `<key>#<nsp>#` (or `<key>#<nsp>#<room>#` when one room is targeted),
//!   msgpack `[uid, packet, {rooms, except, flags}]`; our own uid is ignored on receipt;
//! - requests on `<key>-request#<nsp>#` (JSON, or msgpack for `BROADCAST`), responses on
//!   `<key>-response#<nsp>#` (we also listen on `<key>-response#<nsp>#<uid>#`); the number of
//!   servers is `PUBSUB NUMSUB` of the request channel;
//! - with [`RedisConfig::python_channel`], python-socketio's messages on that channel too.
//!
//! When Redis goes away, local service goes on (local rooms and emits): the outage is logged
//! once, publishing fails fast, cluster-wide requests time out, and the subscriber
//! reconnects with backoff and subscribes everything again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::Value;
use sockeye_core::socket::Packet;
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot};

use super::msgpack::{self, Broadcast, Flags};
use super::python;
use super::requests::{fetched_sockets, kind, Request, Response, WireOpts};
use crate::ack::AckError;
use crate::adapter::{
    Adapter, AdapterError, AdapterFactory, AdapterFuture, BroadcastOptions, Encoded, LocalAdapter,
    SocketData,
};
use crate::ns::NamespaceRef;
use crate::payload::Payload;

/// Settings of the Redis adapter.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The Redis URL (`redis://host:port[/db]`).
    pub url: String,
    /// The channel prefix, as Node's `key` option (default `socket.io`).
    pub key: String,
    /// How long cluster-wide requests wait for the other servers (default 5 s).
    pub requests_timeout: Duration,
    /// python-socketio's channel (e.g. `socketio`): when set, its messages are handled, and
    /// broadcasts its format can express are also published there.
    pub python_channel: Option<String>,
    /// How long a Redis command may take before it fails (default 2 s).
    pub command_timeout: Duration,
}

impl RedisConfig {
    /// The defaults for Redis at `url`.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            key: "socket.io".to_owned(),
            requests_timeout: Duration::from_secs(5),
            python_channel: None,
            command_timeout: Duration::from_secs(2),
        }
    }

    /// Also speak python-socketio's format on `channel` (its default is `socketio`).
    pub fn with_python_channel(mut self, channel: impl Into<String>) -> RedisConfig {
        self.python_channel = Some(channel.into());
        self
    }

    /// The channel prefix (Node's `key`).
    pub fn with_key(mut self, key: impl Into<String>) -> RedisConfig {
        self.key = key.into();
        self
    }

    /// How long cluster-wide requests wait.
    pub fn with_requests_timeout(mut self, d: Duration) -> RedisConfig {
        self.requests_timeout = d;
        self
    }
}

/// A subscription for the subscriber task.
enum Sub {
    Channel(String),
    Pattern(String),
}

/// Most subscriptions waiting for the subscriber task (namespaces created at once).
const SUB_QUEUE: usize = 1024;

/// The process's connections, shared by every namespace's adapter.
pub(crate) struct Node {
    pub(crate) uid: String,
    config: RedisConfig,
    publisher: ConnectionManager,
    /// Whether Redis is known to be unreachable (the outage is logged once).
    down: AtomicBool,
    /// While down, when a command last tried Redis: one try per second, the others fail at
    /// once, so that a node never makes its clients wait on an outage.
    last_try: Mutex<Option<tokio::time::Instant>>,
    adapters: RwLock<HashMap<String, Weak<Shared>>>,
    subs: mpsc::Sender<Sub>,
    /// Everything this node publishes, in order, for the publisher task.
    outbox: mpsc::Sender<Outgoing>,
}

/// A message waiting for the publisher task; `done` hears how it went.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    done: Option<oneshot::Sender<Result<(), AdapterError>>>,
}

/// Most messages waiting to be published (past it, broadcasts are dropped for the other
/// servers — at most once delivery — and requests fail).
const OUTBOX: usize = 8192;
/// Most messages published in one pipelined round trip.
const BATCH: usize = 64;

impl Node {
    fn mark_down(&self, what: &str, e: &dyn std::fmt::Display) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                "redis unreachable ({what}: {e}); serving local clients only until it is back"
            );
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("redis reachable again; cluster traffic resumes");
        }
    }

    /// Whether a command may try Redis now (always when it is up; once a second when down).
    fn may_try(&self) -> Result<(), AdapterError> {
        if !self.down.load(Ordering::Acquire) {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        let mut last = self.last_try.lock().unwrap_or_else(|e| e.into_inner());
        match *last {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => {
                Err(AdapterError::Backend("redis unreachable".to_owned()))
            }
            _ => {
                *last = Some(now);
                Ok(())
            }
        }
    }

    /// Publishes `payload` on `channel` after everything queued before it, and waits for
    /// the outcome; fails fast while Redis is down.
    pub(crate) async fn publish(
        &self,
        channel: &str,
        payload: Vec<u8>,
    ) -> Result<(), AdapterError> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(channel, payload, Some(tx))?;
        rx.await
            .unwrap_or_else(|_| Err(AdapterError::Backend("publisher stopped".to_owned())))
    }

    /// Queues `payload` for `channel` without waiting (broadcasts: their order is the order
    /// of these calls).
    fn publish_nowait(&self, channel: &str, payload: Vec<u8>) {
        if let Err(e) = self.enqueue(channel, payload, None) {
            tracing::debug!("redis: not published: {e}");
        }
    }

    fn enqueue(
        &self,
        channel: &str,
        payload: Vec<u8>,
        done: Option<oneshot::Sender<Result<(), AdapterError>>>,
    ) -> Result<(), AdapterError> {
        let msg = Outgoing {
            channel: channel.to_owned(),
            payload,
            done,
        };
        self.outbox.try_send(msg).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                AdapterError::Backend("too many messages waiting for redis".to_owned())
            }
            mpsc::error::TrySendError::Closed(_) => {
                AdapterError::Backend("publisher stopped".to_owned())
            }
        })
    }

    /// Publishes a batch in one pipelined round trip.
    async fn publish_batch(&self, batch: &[Outgoing]) -> Result<(), AdapterError> {
        self.may_try()?;
        let mut pipe = redis::pipe();
        for m in batch {
            pipe.cmd("PUBLISH").arg(&m.channel).arg(&m.payload).ignore();
        }
        let mut conn = self.publisher.clone();
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                self.mark_up();
                Ok(())
            }
            Err(e) => {
                self.mark_down("publish", &e);
                Err(AdapterError::Backend(e.to_string()))
            }
        }
    }

    /// Subscribers of `channel` (`PUBSUB NUMSUB`): the servers of a namespace.
    async fn numsub(&self, channel: &str) -> Result<usize, AdapterError> {
        self.may_try()?;
        let mut conn = self.publisher.clone();
        let r: redis::RedisResult<(String, usize)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut conn)
            .await;
        match r {
            Ok((_, n)) => Ok(n),
            Err(e) => {
                self.mark_down("pubsub numsub", &e);
                Err(AdapterError::Backend(e.to_string()))
            }
        }
    }

    fn subscribe(&self, sub: Sub) {
        if self.subs.try_send(sub).is_err() {
            tracing::warn!("redis: too many subscriptions waiting; one is dropped");
        }
    }

    fn adapter(&self, nsp: &str) -> Option<Arc<Shared>> {
        crate::lock::read(&self.adapters).get(nsp)?.upgrade()
    }

    fn all_adapters(&self) -> Vec<Arc<Shared>> {
        crate::lock::read(&self.adapters)
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Routes a message from the subscriber connection.
    fn dispatch(&self, channel: &str, payload: &[u8]) {
        if self.config.python_channel.as_deref() == Some(channel) {
            return self.on_python(payload);
        }
        for shared in self.all_adapters() {
            if let Some(rest) = channel.strip_prefix(shared.channel.as_str()) {
                let room = rest.strip_suffix('#').unwrap_or(rest);
                return shared.on_broadcast(room, payload);
            }
            if channel == shared.request_channel {
                return shared.on_request(payload);
            }
            if channel.starts_with(shared.response_channel.as_str()) {
                return shared.on_response(payload);
            }
        }
        tracing::trace!(channel, "redis: message for no namespace of ours");
    }

    fn on_python(&self, payload: &[u8]) {
        let Some(message) = python::decode(payload) else {
            tracing::debug!("redis: malformed python-socketio message dropped");
            return;
        };
        let nsp = match &message {
            python::Message::Emit { namespace, .. }
            | python::Message::EnterRoom { namespace, .. }
            | python::Message::LeaveRoom { namespace, .. }
            | python::Message::CloseRoom { namespace, .. }
            | python::Message::Disconnect { namespace, .. } => namespace.clone(),
        };
        if let Some(shared) = self.adapter(&nsp) {
            shared.on_python(message);
        }
    }
}

/// The subscriber connection: subscribes what the adapters ask for, hands messages to
/// [`Node::dispatch`], and on a lost connection reconnects with backoff and subscribes
/// everything again. Ends when the node is dropped.
async fn subscriber(node: Weak<Node>, client: redis::Client, mut subs: mpsc::Receiver<Sub>) {
    let mut channels: Vec<String> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut delay = Duration::from_millis(100);
    loop {
        let error = match client.get_async_pubsub().await {
            Ok(pubsub) => {
                let (mut sink, mut stream) = pubsub.split();
                let mut ok = true;
                for c in &channels {
                    ok &= sink.subscribe(c).await.is_ok();
                }
                for p in &patterns {
                    ok &= sink.psubscribe(p).await.is_ok();
                }
                if ok {
                    if let Some(n) = node.upgrade() {
                        n.mark_up();
                    }
                    delay = Duration::from_millis(100);
                    loop {
                        tokio::select! {
                            sub = subs.recv() => match sub {
                                None => return,
                                Some(Sub::Channel(c)) => {
                                    let _ = sink.subscribe(&c).await;
                                    channels.push(c);
                                }
                                Some(Sub::Pattern(p)) => {
                                    let _ = sink.psubscribe(&p).await;
                                    patterns.push(p);
                                }
                            },
                            msg = stream.next() => match msg {
                                Some(m) => {
                                    let Some(n) = node.upgrade() else { return };
                                    n.dispatch(m.get_channel_name(), m.get_payload_bytes());
                                }
                                None => break,
                            },
                        }
                    }
                    "subscriber connection lost".to_owned()
                } else {
                    "subscribe failed".to_owned()
                }
            }
            Err(e) => e.to_string(),
        };
        match node.upgrade() {
            Some(n) => n.mark_down("subscribe", &error),
            None => return,
        }
        // Wait before reconnecting, still taking subscriptions.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                sub = subs.recv() => match sub {
                    None => return,
                    Some(Sub::Channel(c)) => channels.push(c),
                    Some(Sub::Pattern(p)) => patterns.push(p),
                },
            }
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The publisher: publishes what the node queued, in order, a batch per round trip. Ends
/// when the node is dropped.
async fn publish_loop(node: Weak<Node>, mut outbox: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(BATCH);
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        let Some(n) = node.upgrade() else { return };
        let result = n.publish_batch(&batch).await;
        for m in batch.drain(..) {
            if let Some(done) = m.done {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// Creates a [`RedisAdapter`] per namespace, all sharing one pair of connections. Put it in
/// the builder: `SocketIo::builder().adapter(RedisAdapterFactory::new(config)?)`.
#[derive(Clone)]
pub struct RedisAdapterFactory {
    node: Arc<Node>,
}

impl RedisAdapterFactory {
    /// Sets up the connections to `config.url` (lazily: a server starts even if Redis is
    /// down, and joins the cluster when it comes up). Fails only on an invalid URL. Needs a
    /// tokio runtime.
    pub fn new(config: RedisConfig) -> Result<RedisAdapterFactory, AdapterError> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| AdapterError::Backend(e.to_string()))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.command_timeout))
            .set_connection_timeout(Some(config.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(5));
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| AdapterError::Backend(e.to_string()))?;
        let (tx, rx) = mpsc::channel(SUB_QUEUE);
        let (out_tx, out_rx) = mpsc::channel(OUTBOX);
        let node = Arc::new(Node {
            uid: random_uid(),
            config,
            publisher,
            down: AtomicBool::new(false),
            last_try: Mutex::new(None),
            adapters: RwLock::new(HashMap::new()),
            subs: tx,
            outbox: out_tx,
        });
        if let Some(c) = &node.config.python_channel {
            node.subscribe(Sub::Channel(c.clone()));
        }
        tokio::spawn(subscriber(Arc::downgrade(&node), client, rx));
        tokio::spawn(publish_loop(Arc::downgrade(&node), out_rx));
        Ok(RedisAdapterFactory { node })
    }

    /// This server's id in the cluster (Node's adapter `uid`).
    pub fn uid(&self) -> &str {
        &self.node.uid
    }
}

impl AdapterFactory for RedisAdapterFactory {
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter> {
        let nsp = ns.name().to_owned();
        let key = &self.node.config.key;
        let shared = Arc::new(Shared {
            node: self.node.clone(),
            local: LocalAdapter::new(ns.clone()),
            ns,
            channel: format!("{key}#{nsp}#"),
            request_channel: format!("{key}-request#{nsp}#"),
            response_channel: format!("{key}-response#{nsp}#"),
            nsp: nsp.clone(),
            requests: Mutex::new(HashMap::new()),
        });
        crate::lock::write(&self.node.adapters).insert(nsp, Arc::downgrade(&shared));
        self.node
            .subscribe(Sub::Pattern(format!("{}*", shared.channel)));
        self.node
            .subscribe(Sub::Channel(shared.request_channel.clone()));
        self.node
            .subscribe(Sub::Channel(shared.response_channel.clone()));
        self.node.subscribe(Sub::Channel(format!(
            "{}{}#",
            shared.response_channel, self.node.uid
        )));
        Arc::new(RedisAdapter { shared })
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

/// Most acks or counts of one broadcast waiting to be collected.
const ACK_QUEUE: usize = 4096;

/// One namespace's view of the cluster.
struct Shared {
    node: Arc<Node>,
    ns: NamespaceRef,
    local: LocalAdapter,
    nsp: String,
    channel: String,
    request_channel: String,
    response_channel: String,
    requests: Mutex<HashMap<String, Pending>>,
}

/// The Redis adapter of one namespace. Made by [`RedisAdapterFactory`].
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

impl Shared {
    fn requests(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn publish_json<T: serde::Serialize>(
        &self,
        channel: &str,
        msg: &T,
    ) -> Result<(), AdapterError> {
        let bytes = serde_json::to_vec(msg).map_err(|e| AdapterError::Backend(e.to_string()))?;
        self.node.publish(channel, bytes).await
    }

    /// Publishes a response (on the shared response channel, which every Node version
    /// listens to).
    fn respond_json<T: serde::Serialize>(self: &Arc<Self>, msg: T) {
        match serde_json::to_vec(&msg) {
            Ok(bytes) => self.respond_bytes(bytes),
            Err(e) => tracing::debug!("redis: response not encodable: {e}"),
        }
    }

    fn respond_bytes(self: &Arc<Self>, bytes: Vec<u8>) {
        let me = self.clone();
        tokio::spawn(async move {
            let channel = me.response_channel.clone();
            if let Err(e) = me.node.publish(&channel, bytes).await {
                tracing::debug!("redis: response not sent: {e}");
            }
        });
    }

    fn on_broadcast(self: &Arc<Self>, room: &str, payload: &[u8]) {
        if !room.is_empty() && !self.local.has_room(room) {
            return;
        }
        let b = match msgpack::decode_broadcast(payload) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("redis: malformed broadcast dropped: {e}");
                return;
            }
        };
        if b.uid == self.node.uid || b.nsp != self.nsp {
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

    fn on_request(self: &Arc<Self>, payload: &[u8]) {
        if payload.first() != Some(&b'{') {
            return self.on_msgpack_request(payload);
        }
        let req: Request = match serde_json::from_slice(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("redis: malformed request dropped: {e}");
                return;
            }
        };
        let opts = req.opts.clone().unwrap_or_default().into_opts();
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
                self.respond_json(r);
            }
            kind::ALL_ROOMS => {
                let Some(id) = foreign_request else {
                    return;
                };
                let mut r = Response::new(id);
                r.rooms = Some(self.local.all_rooms());
                self.respond_json(r);
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT => {
                // Ours were applied here before they were published.
                if req.uid.as_deref() != Some(self.node.uid.as_str()) {
                    self.on_remote_op(req, opts);
                }
            }
            kind::REMOTE_FETCH => {
                let Some(id) = foreign_request else {
                    return;
                };
                let mut r = Response::new(id);
                r.sockets = serde_json::to_value(self.local.local_sockets(&opts)).ok();
                self.respond_json(r);
            }
            kind::SERVER_SIDE_EMIT => {
                if req.uid.as_deref() == Some(self.node.uid.as_str()) {
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
                    tokio::spawn(async move {
                        if let Ok(value) = rx.await {
                            let mut r = Response::new(id);
                            r.kind = Some(kind::SERVER_SIDE_EMIT);
                            r.data = Some(value);
                            let channel = me.response_channel.clone();
                            let _ = me.publish_json(&channel, &r).await;
                        }
                    });
                    tx
                });
                self.ns.server_side_event(event, args, ack);
            }
            other => tracing::debug!(kind = other, "redis: unknown request type ignored"),
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
                me.respond_json(Response::new(id));
            }
        });
    }

    /// A `BROADCAST` request (msgpack): emit to our targets with acks; report how many, then
    /// each ack as it comes.
    fn on_msgpack_request(self: &Arc<Self>, payload: &[u8]) {
        let req = match msgpack::decode_request(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("redis: malformed request dropped: {e}");
                return;
            }
        };
        let msgpack::Request::Broadcast {
            request_id,
            broadcast,
        } = req
        else {
            tracing::debug!("redis: msgpack request of an unknown type ignored");
            return;
        };
        if broadcast.uid == self.node.uid || broadcast.nsp != self.nsp {
            return;
        }
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
        let me = self.clone();
        let data = Str::from(broadcast.args);
        let attachments = broadcast.attachments;
        tokio::spawn(async move {
            let channel = me.response_channel.clone();
            if me.publish_json(&channel, &count).await.is_err() {
                return;
            }
            for socket in targets {
                let (me, request_id) = (me.clone(), request_id.clone());
                let (data, attachments) = (data.clone(), attachments.clone());
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
                        Ok(bytes) => me.respond_bytes(bytes),
                        Err(e) => tracing::debug!("redis: ack not encodable: {e}"),
                    }
                });
            }
        });
    }

    fn on_response(self: &Arc<Self>, payload: &[u8]) {
        if payload.first() != Some(&b'{') {
            let Ok(ack) = msgpack::decode_broadcast_ack(payload) else {
                tracing::debug!("redis: malformed response dropped");
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
        let Ok(resp) = serde_json::from_slice::<Response>(payload) else {
            tracing::debug!("redis: malformed response dropped");
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
                ..
            } => {
                if host_id.is_some_and(|h| h.starts_with(python::SOCKEYE_HOST)) {
                    // A Sockeye node: the same broadcast came in Node's format.
                    return;
                }
                let payload = Payload {
                    args: Str::from(args),
                    attachments,
                };
                let packet = Packet::event(
                    Str::from(self.nsp.as_str()),
                    payload.event_data(&event),
                    None,
                    payload.attachments,
                );
                let opts = BroadcastOptions {
                    rooms,
                    except_sids: skip_sids.into_iter().map(Str::from).collect(),
                    ..Default::default()
                };
                self.local.deliver(&Encoded::new(packet), &opts);
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
            uid: self.node.uid.clone(),
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

    /// Queues a broadcast in Node's format (and python-socketio's, if on and possible);
    /// broadcasts go out in the order of these calls.
    fn queue_broadcast(&self, packet: &Packet, opts: &BroadcastOptions) {
        let flags = Flags {
            volatile: opts.volatile,
            ..Flags::default()
        };
        let b = self.broadcast_message(packet, opts, flags);
        let bytes = match msgpack::encode_broadcast(&b) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::debug!("redis: broadcast not encodable: {e}");
                return;
            }
        };
        let channel = match opts.rooms.as_slice() {
            [room] => format!("{}{}#", self.channel, room),
            _ => self.channel.clone(),
        };
        self.node.publish_nowait(&channel, bytes);
        if let Some(py) = &self.node.config.python_channel {
            self.queue_python(py, &b, opts);
        }
    }

    fn queue_python(&self, channel: &str, b: &Broadcast, opts: &BroadcastOptions) {
        if !opts.except.is_empty() {
            return;
        }
        let Ok(elements) = sockeye_core::json::array_elements(&b.args) else {
            return;
        };
        let Some((name, rest)) = elements.split_first() else {
            return;
        };
        let Ok(event) = sockeye_core::json::parse_string(name) else {
            return;
        };
        let args = format!("[{}]", rest.join(","));
        let skip: Vec<String> = opts.except_sids.iter().map(|s| s.to_string()).collect();
        let host = format!("{}{}", python::SOCKEYE_HOST, self.node.uid);
        if let Some(bytes) = python::encode_emit(
            &host,
            &self.nsp,
            &event,
            &args,
            &b.attachments,
            &opts.rooms,
            &skip,
        ) {
            self.node.publish_nowait(channel, bytes);
        }
    }
}

fn random_uid() -> String {
    crate::engine::sid::generate().chars().take(6).collect()
}

fn request_id() -> String {
    crate::engine::sid::generate().chars().take(6).collect()
}

impl Adapter for RedisAdapter {
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
        // Local clients first: they never wait on Redis. The cluster part is queued now, so
        // broadcasts leave in call order; it is lost while Redis is down (at most once).
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
                uid: Some(self.shared.node.uid.clone()),
                kind: kind::SERVER_SIDE_EMIT,
                data: Some(server_side_data(&event, &payload)?),
                ..Default::default()
            };
            let s = &self.shared;
            s.publish_json(&s.request_channel, &req).await
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
            let expected = s.node.numsub(&s.request_channel).await?.saturating_sub(1);
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
                uid: Some(s.node.uid.clone()),
                request_id: Some(id.clone()),
                kind: kind::SERVER_SIDE_EMIT,
                data: Some(server_side_data(&event, &payload)?),
                ..Default::default()
            };
            if let Err(e) = s.publish_json(&s.request_channel, &req).await {
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
            let servers = s.node.numsub(&s.request_channel).await?;
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
                uid: Some(s.node.uid.clone()),
                request_id: Some(id.clone()),
                kind: kind::REMOTE_FETCH,
                opts: Some(WireOpts::from_opts(&opts)),
                ..Default::default()
            };
            if let Err(e) = s.publish_json(&s.request_channel, &req).await {
                s.requests().remove(&id);
                return Err(e);
            }
            let timeout = s.node.config.requests_timeout;
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
                .node
                .numsub(&s.request_channel)
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
                Ok(bytes) => s.node.publish(&s.request_channel, bytes).await,
                Err(e) => Err(AdapterError::Backend(e.to_string())),
            };
            if let Err(e) = published {
                s.requests().remove(&id);
                tracing::debug!("redis: broadcast with acks not published: {e}");
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
            s.node.numsub(&s.request_channel).await
        })
    }
}

impl RedisAdapter {
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
                    uid: Some(s.node.uid.clone()),
                    kind,
                    opts: Some(WireOpts::from_opts(&opts)),
                    rooms,
                    close: (kind == kind::REMOTE_DISCONNECT).then_some(false),
                    ..Default::default()
                };
                if let Err(e) = s.publish_json(&s.request_channel, &req).await {
                    tracing::debug!("redis: remote operation not published: {e}");
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

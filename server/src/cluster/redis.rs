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

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot};

use super::adapter::{random_uid, ClusterAdapter, Registry};
use super::bus::{self, Bus, Done, Health, PythonFormat, Route};
use crate::adapter::{Adapter, AdapterError, AdapterFactory};
use crate::ns::NamespaceRef;

/// The Redis adapter of one namespace (made by [`RedisAdapterFactory`]).
pub type RedisAdapter = ClusterAdapter;

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
    /// Whether Redis is reachable (the outage is logged once).
    health: Health,
    /// While down, when a command last tried Redis: one try per second, the others fail at
    /// once, so that a node never makes its clients wait on an outage.
    last_try: Mutex<Option<tokio::time::Instant>>,
    namespaces: Registry,
    subs: mpsc::Sender<Sub>,
    /// Everything this node publishes, in order, for the publisher task.
    outbox: mpsc::Sender<Outgoing>,
}

/// A message waiting for the publisher task; `done` hears how it went.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    done: Option<Done>,
}

/// Most messages waiting to be published (past it, broadcasts are dropped for the other
/// servers — at most once delivery — and requests fail).
const OUTBOX: usize = 8192;
/// Most messages published in one pipelined round trip.
const BATCH: usize = 64;

impl Node {
    /// Whether a command may try Redis now (always when it is up; once a second when down).
    fn may_try(&self) -> Result<(), AdapterError> {
        if !self.health.is_down() {
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

    /// The channel of `route`: Node's adapter's channels, python-socketio's.
    fn channel(&self, route: Route<'_>) -> String {
        let key = &self.config.key;
        match route {
            Route::Broadcast { nsp, room: None } => format!("{key}#{nsp}#"),
            Route::Broadcast {
                nsp,
                room: Some(room),
            } => format!("{key}#{nsp}#{room}#"),
            Route::Request { nsp } => format!("{key}-request#{nsp}#"),
            // Every Node version listens on the shared response channel.
            Route::Response { nsp, .. } => format!("{key}-response#{nsp}#"),
            Route::Python => self.config.python_channel.clone().unwrap_or_default(),
        }
    }

    fn enqueue(
        &self,
        route: Route<'_>,
        payload: Vec<u8>,
        done: Option<Done>,
    ) -> Result<(), AdapterError> {
        let msg = Outgoing {
            channel: self.channel(route),
            payload,
            done,
        };
        bus::queue(&self.outbox, msg, "redis")
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
                self.health.mark_up();
                Ok(())
            }
            Err(e) => {
                self.health.mark_down("publish", &e);
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
                self.health.mark_down("pubsub numsub", &e);
                Err(AdapterError::Backend(e.to_string()))
            }
        }
    }

    fn subscribe(&self, sub: Sub) {
        if self.subs.try_send(sub).is_err() {
            tracing::warn!("redis: too many subscriptions waiting; one is dropped");
        }
    }

    /// Routes a message from the subscriber connection: `<key>#<nsp>#[<room>#]`,
    /// `<key>-request#<nsp>#`, `<key>-response#<nsp>#[<uid>#]`, or python-socketio's channel.
    /// Namespaces may contain `#`: each of ours is tried as the prefix.
    fn dispatch(&self, channel: &str, payload: &[u8]) {
        if self.config.python_channel.as_deref() == Some(channel) {
            return self.namespaces.on_python(payload);
        }
        let key = self.config.key.as_str();
        for (nsp, shared) in self.namespaces.all_named() {
            let within = |suffix: &str| {
                channel
                    .strip_prefix(key)?
                    .strip_prefix(suffix)?
                    .strip_prefix(nsp.as_str())?
                    .strip_prefix('#')
            };
            if let Some(rest) = within("#") {
                let room = rest.strip_suffix('#').filter(|r| !r.is_empty());
                return shared.on_broadcast(room, payload);
            }
            if within("-request#") == Some("") {
                return shared.on_request(payload);
            }
            if within("-response#").is_some() {
                return shared.on_response(payload);
            }
        }
        tracing::trace!(channel, "redis: message for no namespace of ours");
    }
}

impl Bus for Node {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn requests_timeout(&self) -> Duration {
        self.config.requests_timeout
    }

    fn python(&self) -> PythonFormat {
        match self.config.python_channel {
            Some(_) => PythonFormat::Also,
            None => PythonFormat::Off,
        }
    }

    fn send(&self, to: Route<'_>, payload: Vec<u8>) {
        if let Err(e) = self.enqueue(to, payload, None) {
            tracing::debug!("redis: not published: {e}");
        }
    }

    fn publish<'a>(
        &'a self,
        to: Route<'a>,
        payload: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AdapterError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.enqueue(to, payload, Some(tx))?;
            bus::outcome(rx).await
        })
    }

    /// Subscribers of the namespace's request channel (`PUBSUB NUMSUB`).
    fn server_count<'a>(&'a self, nsp: &'a str) -> BoxFuture<'a, Result<usize, AdapterError>> {
        Box::pin(async move { self.numsub(&self.channel(Route::Request { nsp })).await })
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
                        n.health.mark_up();
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
            Some(n) => n.health.mark_down("subscribe", &error),
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
            health: Health::new("redis"),
            last_try: Mutex::new(None),
            namespaces: Registry::default(),
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
        let node = &self.node;
        let adapter = node.namespaces.create(node.clone(), ns);
        let broadcasts = node.channel(Route::Broadcast {
            nsp: &nsp,
            room: None,
        });
        let responses = node.channel(Route::Response {
            nsp: &nsp,
            to: None,
        });
        node.subscribe(Sub::Pattern(format!("{broadcasts}*")));
        node.subscribe(Sub::Channel(node.channel(Route::Request { nsp: &nsp })));
        node.subscribe(Sub::Channel(format!("{responses}{}#", node.uid)));
        node.subscribe(Sub::Channel(responses));
        Arc::new(adapter)
    }
}

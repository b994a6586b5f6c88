//! The AMQP 0-9-1 bus (RabbitMQ, through `lapin`): python-socketio's fanout exchange (named
//! after its channel, default `socketio`, declared as its `KombuManager` and
//! `AsyncAioPikaManager` declare it) and one exclusive, auto-delete queue per server bound to
//! it (`sockeye-<uid>`).
//!
//! Two kinds of messages travel on the exchange:
//! - python-socketio's JSON messages (`emit`, `enter_room`, …): broadcasts its format can
//!   express go out in it, so python servers get them; every node takes them.
//! - Sockeye's own messages, for what python's format cannot say (binary-free native
//!   broadcasts with several rooms or `except`, volatile ones, requests): the bytes of the
//!   Redis adapter's messages, with the headers `sockeye` (`broadcast`, `request`,
//!   `response`, `hello`, `heartbeat`), `from` (the sender's uid), `nsp` and `room`.
//!   python-socketio skips them (see [`own_properties`]). Responses go straight to the
//!   requester's queue through the default exchange.
//!
//! Servers find each other by heartbeats (a `hello` when a node (re)connects, answered by a
//! `heartbeat`, then one per interval); [`Bus::server_count`] counts the live ones.
//!
//! Delivery is at most once: broadcasts are published with publisher confirms and a
//! refused or unconfirmed one is logged, not retried. When the broker goes away, local
//! service goes on, publishing fails fast, requests time out, and the node reconnects with
//! backoff (100 ms doubling to 5 s), declares its queue and bindings again and says `hello`.
//! Nothing is buffered without bound: at most [`OUTBOX`] messages wait to be published,
//! at most `queue_max_length` wait for us in the broker (oldest dropped first), and at most
//! [`PREFETCH`] unacknowledged ones are in flight to us.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::adapter::{random_uid, ClusterAdapter, Registry};
use super::bus::{self, Bus, Done, Health, PythonFormat, Route};
use crate::adapter::{Adapter, AdapterError, AdapterFactory};
use crate::ns::NamespaceRef;

/// Settings of the AMQP adapter.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AmqpConfig {
    /// The broker's URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: String,
    /// The fanout exchange: python-socketio's `channel` (default `socketio`).
    pub exchange: String,
    /// How long cluster-wide requests wait for the other servers (default 5 s).
    pub requests_timeout: Duration,
    /// How often a node says it is alive (default 5 s); a node silent for three intervals
    /// no longer counts.
    pub heartbeat_interval: Duration,
    /// How long connecting, declaring and a publisher confirm may take (default 5 s).
    pub command_timeout: Duration,
    /// Most messages waiting for this node in its queue at the broker (default 100,000;
    /// past it the oldest are dropped).
    pub queue_max_length: u32,
}

impl AmqpConfig {
    /// The defaults for the broker at `url`.
    pub fn new(url: impl Into<String>) -> AmqpConfig {
        AmqpConfig {
            url: url.into(),
            exchange: "socketio".to_owned(),
            requests_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(5),
            command_timeout: Duration::from_secs(5),
            queue_max_length: 100_000,
        }
    }

    /// The exchange (python-socketio's `channel`).
    pub fn with_exchange(mut self, exchange: impl Into<String>) -> AmqpConfig {
        self.exchange = exchange.into();
        self
    }

    /// How long cluster-wide requests wait.
    pub fn with_requests_timeout(mut self, d: Duration) -> AmqpConfig {
        self.requests_timeout = d;
        self
    }

    /// How often nodes say they are alive.
    pub fn with_heartbeat_interval(mut self, d: Duration) -> AmqpConfig {
        self.heartbeat_interval = d;
        self
    }
}

/// Most messages waiting to be published (past it, broadcasts are dropped for the other
/// servers — at most once delivery — and requests fail).
pub(crate) const OUTBOX: usize = 8192;
/// Most messages published before their confirms are awaited.
const BATCH: usize = 64;
/// Most deliveries in flight to this node before it acknowledges them.
pub(crate) const PREFETCH: u16 = 256;

/// The header naming a Sockeye message's kind.
const KIND: &str = "sockeye";

/// The kinds of Sockeye's own messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Broadcast,
    Request,
    Response,
    Hello,
    Heartbeat,
    Bye,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Broadcast => "broadcast",
            Kind::Request => "request",
            Kind::Response => "response",
            Kind::Hello => "hello",
            Kind::Heartbeat => "heartbeat",
            Kind::Bye => "bye",
        }
    }

    fn parse(s: &[u8]) -> Option<Kind> {
        Some(match s {
            b"broadcast" => Kind::Broadcast,
            b"request" => Kind::Request,
            b"response" => Kind::Response,
            b"hello" => Kind::Hello,
            b"heartbeat" => Kind::Heartbeat,
            b"bye" => Kind::Bye,
            _ => return None,
        })
    }
}

/// Where and how a message is published.
struct Outgoing {
    exchange: ShortString,
    routing_key: ShortString,
    properties: BasicProperties,
    payload: Vec<u8>,
    done: Option<Done>,
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()))
}

/// The properties of a Sockeye message. python-socketio must skip it without an error:
/// kombu hands an `application/octet-stream` body with the `binary` encoding over
/// undecoded, and python-socketio's JSON decoding of it fails quietly (aio-pika hands
/// bodies over as they are).
fn own_properties(
    kind: Kind,
    from: &str,
    nsp: Option<&str>,
    room: Option<&str>,
) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(KIND.into(), long(kind.name()));
    headers.insert("from".into(), long(from));
    if let Some(nsp) = nsp {
        headers.insert("nsp".into(), long(nsp));
    }
    if let Some(room) = room {
        headers.insert("room".into(), long(room));
    }
    BasicProperties::default()
        .with_content_type("application/octet-stream".into())
        .with_content_encoding("binary".into())
        .with_headers(headers)
}

/// The properties of a python-socketio message: those of `KombuManager`'s (kombu sends a
/// `str` as `text/plain` in `utf-8`; python-socketio's listeners decode the JSON
/// themselves).
fn python_properties() -> BasicProperties {
    BasicProperties::default()
        .with_content_type("text/plain".into())
        .with_content_encoding("utf-8".into())
}

/// Declares `exchange` as python-socketio's managers do — fanout, not durable, not
/// auto-delete, no arguments: the broker refuses a declaration that differs from the
/// existing exchange's.
async fn declare_exchange(channel: &Channel, exchange: &ShortString) -> Result<(), lapin::Error> {
    let options = ExchangeDeclareOptions {
        durable: false,
        auto_delete: false,
        ..Default::default()
    };
    channel
        .exchange_declare(
            exchange.clone(),
            ExchangeKind::Fanout,
            options,
            FieldTable::default(),
        )
        .await
}

/// The name of server `uid`'s queue.
fn queue_name(uid: &str) -> String {
    format!("sockeye-{uid}")
}

/// The header `name` of a delivery, as bytes.
fn header<'a>(headers: Option<&'a FieldTable>, name: &str) -> Option<&'a [u8]> {
    match headers?.inner().get(name)? {
        AMQPValue::LongString(s) => Some(s.as_bytes()),
        AMQPValue::ShortString(s) => Some(s.as_str().as_bytes()),
        _ => None,
    }
}

/// The process's link to the broker, shared by every namespace's adapter.
pub(crate) struct Node {
    uid: String,
    config: AmqpConfig,
    exchange: ShortString,
    /// The publishing channel (confirm mode) while connected.
    channel: Mutex<Option<Channel>>,
    /// Whether the broker is reachable (the outage is logged once).
    health: Health,
    namespaces: Registry,
    /// The other Sockeye servers, by uid, with when they were last heard of.
    peers: Mutex<HashMap<String, Instant>>,
    outbox: mpsc::Sender<Outgoing>,
    /// Dropped with the node: ends the connection task.
    _stop: oneshot::Sender<()>,
}

impl Node {
    fn current_channel(&self) -> Option<Channel> {
        self.channel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_channel(&self, channel: Option<Channel>) {
        *self.channel.lock().unwrap_or_else(|e| e.into_inner()) = channel;
    }

    /// A Sockeye message of `kind` on the exchange (or to one server's queue).
    fn own(
        &self,
        kind: Kind,
        nsp: Option<&str>,
        room: Option<&str>,
        to: Option<&str>,
        payload: Vec<u8>,
    ) -> Result<Outgoing, AdapterError> {
        let (exchange, routing_key) = match to {
            // Straight to that server's queue.
            Some(uid) => (ShortString::from(""), short(&queue_name(uid))?),
            None => (self.exchange.clone(), ShortString::from("")),
        };
        Ok(Outgoing {
            exchange,
            routing_key,
            properties: own_properties(kind, &self.uid, nsp, room),
            payload,
            done: None,
        })
    }

    fn outgoing(&self, route: Route<'_>, payload: Vec<u8>) -> Result<Outgoing, AdapterError> {
        match route {
            Route::Broadcast { nsp, room } => {
                self.own(Kind::Broadcast, Some(nsp), room, None, payload)
            }
            Route::Request { nsp } => self.own(Kind::Request, Some(nsp), None, None, payload),
            Route::Response { nsp, to: Some(to) } => {
                self.own(Kind::Response, Some(nsp), None, Some(to), payload)
            }
            Route::Response { to: None, .. } => Err(AdapterError::Backend(
                "a response to a request of no known server".to_owned(),
            )),
            Route::Python => Ok(Outgoing {
                exchange: self.exchange.clone(),
                routing_key: ShortString::from(""),
                properties: python_properties(),
                payload,
                done: None,
            }),
        }
    }

    fn enqueue(&self, msg: Outgoing) -> Result<(), AdapterError> {
        if self.health.is_down() {
            return Err(AdapterError::Backend("amqp broker unreachable".to_owned()));
        }
        bus::queue(&self.outbox, msg, "the amqp broker")
    }

    /// Says `kind` (hello or heartbeat) to every server.
    fn announce(&self, kind: Kind) {
        if let Ok(msg) = self.own(kind, None, None, None, Vec::new()) {
            if let Err(e) = self.enqueue(msg) {
                tracing::debug!("amqp: {} not sent: {e}", kind.name());
            }
        }
    }

    /// Publishes a batch, then waits for the broker's confirms.
    async fn publish_batch(&self, batch: &mut Vec<Outgoing>) {
        let Some(channel) = self.current_channel() else {
            let e = AdapterError::Backend("amqp broker unreachable".to_owned());
            for m in batch.drain(..) {
                if let Some(done) = m.done {
                    let _ = done.send(Err(e.clone()));
                }
            }
            return;
        };
        let mut confirms = Vec::with_capacity(batch.len());
        for m in batch.drain(..) {
            let published = channel
                .basic_publish(
                    m.exchange,
                    m.routing_key,
                    BasicPublishOptions::default(),
                    &m.payload,
                    m.properties,
                )
                .await;
            confirms.push((published, m.done));
        }
        for (published, done) in confirms {
            let result = match published {
                Ok(confirm) => {
                    match tokio::time::timeout(self.config.command_timeout, confirm).await {
                        Ok(Ok(c)) if c.is_ack() => Ok(()),
                        Ok(Ok(_)) => Err(AdapterError::Backend(
                            "the broker refused the message".to_owned(),
                        )),
                        Ok(Err(e)) => Err(AdapterError::Backend(e.to_string())),
                        Err(_) => Err(AdapterError::Backend(
                            "no publisher confirm in time".to_owned(),
                        )),
                    }
                }
                Err(e) => Err(AdapterError::Backend(e.to_string())),
            };
            match (&result, done) {
                (_, Some(done)) => {
                    let _ = done.send(result);
                }
                (Err(e), None) => tracing::debug!("amqp: message lost: {e}"),
                (Ok(()), None) => {}
            }
        }
    }

    /// Routes a delivery.
    fn dispatch(&self, headers: Option<&FieldTable>, body: &[u8]) {
        let Some(kind) = header(headers, KIND) else {
            // Not ours: python-socketio's (or garbage, dropped there).
            return self.namespaces.on_python(body);
        };
        let Some(kind) = Kind::parse(kind) else {
            tracing::debug!("amqp: message of an unknown kind dropped");
            return;
        };
        let from = header(headers, "from").and_then(|f| std::str::from_utf8(f).ok());
        if from == Some(self.uid.as_str()) {
            return;
        }
        if kind == Kind::Bye {
            if let Some(from) = from {
                self.forget(from);
            }
            return;
        }
        if matches!(kind, Kind::Hello | Kind::Heartbeat) {
            if let Some(from) = from {
                self.heard_from(from);
            }
            if kind == Kind::Hello {
                self.announce(Kind::Heartbeat);
            }
            return;
        }
        let Some(nsp) = header(headers, "nsp").and_then(|n| std::str::from_utf8(n).ok()) else {
            tracing::debug!("amqp: message without a namespace dropped");
            return;
        };
        let Some(shared) = self.namespaces.get(nsp) else {
            if kind == Kind::Request {
                // Requesters count every server: say "none here" rather than be waited for.
                self.namespaces.answer_absent(self, nsp, from, body);
            }
            return;
        };
        match kind {
            Kind::Broadcast => {
                let room = header(headers, "room").and_then(|r| std::str::from_utf8(r).ok());
                shared.on_broadcast(room, body);
            }
            Kind::Request => shared.on_request(body),
            Kind::Response => shared.on_response(body),
            Kind::Hello | Kind::Heartbeat | Kind::Bye => {}
        }
    }

    fn heard_from(&self, uid: &str) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.insert(uid.to_owned(), Instant::now()).is_none() {
            tracing::info!(peer = uid, "amqp: a server joined the cluster");
        }
    }

    fn forget(&self, uid: &str) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.remove(uid).is_some() {
            tracing::info!(peer = uid, "amqp: a server left the cluster");
        }
    }

    /// The servers heard of within three heartbeat intervals, this one included.
    fn live_servers(&self) -> usize {
        let horizon = self.config.heartbeat_interval * 3;
        let now = Instant::now();
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.retain(|uid, seen| {
            let alive = now.duration_since(*seen) <= horizon;
            if !alive {
                tracing::info!(peer = uid.as_str(), "amqp: a server left the cluster");
            }
            alive
        });
        1 + peers.len()
    }

    /// Connects, declares the exchange and this server's queue, and starts consuming.
    async fn connect(&self) -> Result<(Connection, lapin::Consumer), lapin::Error> {
        let conn = Connection::connect(&self.config.url, ConnectionProperties::default()).await?;
        let publisher = conn.create_channel().await?;
        let consumer = conn.create_channel().await?;
        declare_exchange(&publisher, &self.exchange).await?;
        let queue = ShortString::from(queue_name(&self.uid));
        let mut args = FieldTable::default();
        args.insert(
            "x-max-length".into(),
            AMQPValue::LongUInt(self.config.queue_max_length),
        );
        consumer
            .queue_declare(
                queue.clone(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    durable: false,
                    ..Default::default()
                },
                args,
            )
            .await?;
        consumer
            .queue_bind(
                queue.clone(),
                self.exchange.clone(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        consumer
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let deliveries = consumer
            .basic_consume(
                queue,
                ShortString::from(format!("sockeye-{}", self.uid)),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.set_channel(Some(publisher));
        Ok((conn, deliveries))
    }
}

fn short(s: &str) -> Result<ShortString, AdapterError> {
    ShortString::try_new(s).map_err(|e| AdapterError::Backend(e.to_string()))
}

impl Bus for Node {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn requests_timeout(&self) -> Duration {
        self.config.requests_timeout
    }

    fn python(&self) -> PythonFormat {
        PythonFormat::Preferred
    }

    fn send(&self, to: Route<'_>, payload: Vec<u8>) {
        if let Err(e) = self.outgoing(to, payload).and_then(|m| self.enqueue(m)) {
            tracing::debug!("amqp: not published: {e}");
        }
    }

    fn publish<'a>(
        &'a self,
        to: Route<'a>,
        payload: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AdapterError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            let mut msg = self.outgoing(to, payload)?;
            msg.done = Some(tx);
            self.enqueue(msg)?;
            bus::outcome(rx).await
        })
    }

    fn server_count<'a>(&'a self, _nsp: &'a str) -> BoxFuture<'a, Result<usize, AdapterError>> {
        Box::pin(async move {
            if self.health.is_down() {
                return Err(AdapterError::Backend("amqp broker unreachable".to_owned()));
            }
            Ok(self.live_servers())
        })
    }
}

/// Keeps the node connected: connects, consumes until the connection is lost, reconnects
/// with backoff. Ends when the node is dropped.
async fn run(node: Weak<Node>, mut stop: oneshot::Receiver<()>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(n) = node.upgrade() else { return };
        let timeout = n.config.command_timeout;
        let connected = tokio::select! {
            _ = &mut stop => return,
            r = tokio::time::timeout(timeout, n.connect()) => r,
        };
        let error = match connected {
            Ok(Ok((conn, mut deliveries))) => {
                n.health.mark_up();
                delay = Duration::from_millis(100);
                n.announce(Kind::Hello);
                let farewell = n.own(Kind::Bye, None, None, None, Vec::new()).ok();
                drop(n);
                let error = loop {
                    let delivery = tokio::select! {
                        _ = &mut stop => {
                            // The others stop counting this server now, not three
                            // heartbeats later.
                            if let Some(m) = farewell {
                                let bye = async {
                                    let ch = conn.create_channel().await?;
                                    ch.basic_publish(
                                        m.exchange,
                                        m.routing_key,
                                        BasicPublishOptions::default(),
                                        &m.payload,
                                        m.properties,
                                    )
                                    .await
                                };
                                let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
                            }
                            let _ = conn.close(200, "OK".into()).await;
                            return;
                        }
                        d = deliveries.next() => d,
                    };
                    match delivery {
                        Some(Ok(d)) => {
                            let Some(n) = node.upgrade() else { return };
                            n.dispatch(d.properties.headers().as_ref(), &d.data);
                            if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
                                break e.to_string();
                            }
                        }
                        Some(Err(e)) => break e.to_string(),
                        None => break "consumer cancelled".to_owned(),
                    }
                };
                let _ = conn.close(200, "OK".into()).await;
                error
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "connection timed out".to_owned(),
        };
        match node.upgrade() {
            Some(n) => {
                n.set_channel(None);
                n.health.mark_down("connection", &error);
            }
            None => return,
        }
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The publisher: publishes what the node queued, in order. Ends when the node is dropped.
async fn publish_loop(node: Weak<Node>, mut outbox: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(BATCH);
    while outbox.recv_many(&mut batch, BATCH).await > 0 {
        let Some(n) = node.upgrade() else { return };
        n.publish_batch(&mut batch).await;
    }
}

/// Says the node is alive every heartbeat interval. Ends when the node is dropped.
async fn heartbeat_loop(node: Weak<Node>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(n) = node.upgrade() else { return };
        n.announce(Kind::Heartbeat);
    }
}

/// Creates an adapter per namespace, all sharing one connection to the broker. Put it in
/// the builder: `SocketIo::builder().adapter(AmqpAdapterFactory::new(config)?)`.
#[derive(Clone)]
pub struct AmqpAdapterFactory {
    node: Arc<Node>,
}

impl AmqpAdapterFactory {
    /// Connects to `config.url` in the background (a server starts even if the broker is
    /// down, and joins the cluster when it comes up). Fails only on an invalid setting.
    /// Needs a tokio runtime.
    pub fn new(config: AmqpConfig) -> Result<AmqpAdapterFactory, AdapterError> {
        config
            .url
            .parse::<lapin::uri::AMQPUri>()
            .map_err(|e| AdapterError::Backend(format!("amqp url: {e}")))?;
        let exchange = short(&config.exchange)?;
        let (out_tx, out_rx) = mpsc::channel(OUTBOX);
        let (stop_tx, stop_rx) = oneshot::channel();
        let interval = config.heartbeat_interval;
        let node = Arc::new(Node {
            uid: random_uid(),
            config,
            exchange,
            channel: Mutex::new(None),
            health: Health::new("amqp broker"),
            namespaces: Registry::default(),
            peers: Mutex::new(HashMap::new()),
            outbox: out_tx,
            _stop: stop_tx,
        });
        tokio::spawn(run(Arc::downgrade(&node), stop_rx));
        tokio::spawn(publish_loop(Arc::downgrade(&node), out_rx));
        tokio::spawn(heartbeat_loop(Arc::downgrade(&node), interval));
        Ok(AmqpAdapterFactory { node })
    }

    /// This server's id in the cluster.
    pub fn uid(&self) -> &str {
        &self.node.uid
    }
}

impl AdapterFactory for AmqpAdapterFactory {
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter> {
        let adapter: ClusterAdapter = self.node.namespaces.create(self.node.clone(), ns);
        Arc::new(adapter)
    }
}

/// An emitter's link to the broker: one connection and one publishing channel (confirm
/// mode), opened again once if it was lost.
pub(crate) struct Publisher {
    url: String,
    exchange: ShortString,
    link: tokio::sync::Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    /// Connects to `url` and declares `exchange` (as python-socketio does).
    pub(crate) async fn connect(url: &str, exchange: &str) -> Result<Publisher, AdapterError> {
        let publisher = Publisher {
            url: url.to_owned(),
            exchange: short(exchange)?,
            link: tokio::sync::Mutex::new(None),
        };
        let link = publisher.open().await?;
        *publisher.link.lock().await = Some(link);
        Ok(publisher)
    }

    async fn open(&self) -> Result<(Connection, Channel), AdapterError> {
        let backend = |e: lapin::Error| AdapterError::Backend(e.to_string());
        let open = async {
            let conn = Connection::connect(&self.url, ConnectionProperties::default())
                .await
                .map_err(backend)?;
            let channel = conn.create_channel().await.map_err(backend)?;
            declare_exchange(&channel, &self.exchange)
                .await
                .map_err(backend)?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(backend)?;
            Ok((conn, channel))
        };
        tokio::time::timeout(Duration::from_secs(5), open)
            .await
            .map_err(|_| AdapterError::Backend("amqp: connection timed out".to_owned()))?
    }

    async fn send(&self, properties: BasicProperties, payload: &[u8]) -> Result<(), AdapterError> {
        let mut link = self.link.lock().await;
        // One more try on a fresh connection if the one we had is gone.
        for attempt in 0..2 {
            if link.as_ref().is_none_or(|(c, _)| !c.status().connected()) {
                *link = Some(self.open().await?);
            }
            let Some((_, channel)) = link.as_ref() else {
                continue;
            };
            let published = async {
                channel
                    .basic_publish(
                        self.exchange.clone(),
                        ShortString::from(""),
                        BasicPublishOptions::default(),
                        payload,
                        properties.clone(),
                    )
                    .await?
                    .await
            };
            match tokio::time::timeout(Duration::from_secs(5), published).await {
                Ok(Ok(c)) if c.is_ack() => return Ok(()),
                Ok(Ok(_)) => {
                    return Err(AdapterError::Backend(
                        "the broker refused the message".to_owned(),
                    ))
                }
                Ok(Err(e)) if attempt == 1 => return Err(AdapterError::Backend(e.to_string())),
                Err(_) if attempt == 1 => {
                    return Err(AdapterError::Backend(
                        "no publisher confirm in time".to_owned(),
                    ))
                }
                _ => *link = None,
            }
        }
        Err(AdapterError::Backend("amqp broker unreachable".to_owned()))
    }

    /// A python-socketio message.
    pub(crate) async fn publish_python(&self, payload: Vec<u8>) -> Result<(), AdapterError> {
        self.send(python_properties(), &payload).await
    }

    /// A native broadcast of namespace `nsp`.
    pub(crate) async fn publish_broadcast(
        &self,
        nsp: &str,
        room: Option<&str>,
        payload: Vec<u8>,
    ) -> Result<(), AdapterError> {
        let properties = own_properties(Kind::Broadcast, EMITTER, Some(nsp), room);
        self.send(properties, &payload).await
    }

    /// A request to the servers of namespace `nsp`.
    pub(crate) async fn publish_request(
        &self,
        nsp: &str,
        payload: Vec<u8>,
    ) -> Result<(), AdapterError> {
        let properties = own_properties(Kind::Request, EMITTER, Some(nsp), None);
        self.send(properties, &payload).await
    }
}

/// The `from` of an emitter's messages.
const EMITTER: &str = "emitter";

/// The AMQP adapter of one namespace (made by [`AmqpAdapterFactory`]).
pub type AmqpAdapter = ClusterAdapter;

#[cfg(test)]
mod tests {
    use super::*;

    /// Measured against the real managers (tests/python/AMQP_WIRE.md): a listening
    /// `KombuManager` survives a binary body only as `application/octet-stream` with the
    /// `binary` encoding (anything else makes it raise, reconnect and lose messages).
    #[test]
    fn sockeye_messages_carry_what_kombu_hands_over_undecoded() {
        let p = own_properties(Kind::Broadcast, "abc", Some("/chat"), Some("r"));
        assert_eq!(
            p.content_type().as_ref().map(ShortString::as_str),
            Some("application/octet-stream")
        );
        assert_eq!(
            p.content_encoding().as_ref().map(ShortString::as_str),
            Some("binary")
        );
        let headers = p.headers().clone();
        assert_eq!(header(headers.as_ref(), KIND), Some(&b"broadcast"[..]));
        assert_eq!(header(headers.as_ref(), "from"), Some(&b"abc"[..]));
        assert_eq!(header(headers.as_ref(), "nsp"), Some(&b"/chat"[..]));
        assert_eq!(header(headers.as_ref(), "room"), Some(&b"r"[..]));
        let py = python_properties();
        assert_eq!(
            py.content_type().as_ref().map(ShortString::as_str),
            Some("text/plain")
        );
        assert!(header(py.headers().as_ref(), KIND).is_none());
    }

    #[test]
    fn kinds_round_trip_and_strangers_are_refused() {
        for k in [
            Kind::Broadcast,
            Kind::Request,
            Kind::Response,
            Kind::Hello,
            Kind::Heartbeat,
            Kind::Bye,
        ] {
            assert_eq!(Kind::parse(k.name().as_bytes()), Some(k));
        }
        assert_eq!(Kind::parse(b"emit"), None);
        assert_eq!(Kind::parse(b""), None);
    }

    #[test]
    fn responses_go_to_the_asking_server_s_queue() {
        assert_eq!(queue_name("x1y2z3"), "sockeye-x1y2z3");
        assert!(short(&"q".repeat(256)).is_err());
        assert!(AmqpConfig::new("amqp://h").exchange == "socketio");
    }
}

//! The scenarios, each run against one server (started fresh for it), and the markdown table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use sockeye_core::socket::packet::Packet;

use crate::client::{BoxError, Client, EventHandler, Transport};
use crate::server::{start_redis, Server, ServerSpec};

/// Counts of one run.
#[derive(Clone, Debug)]
pub struct Params {
    /// Fan-out to a room: clients that join it.
    pub fanout_clients: usize,
    pub fanout_messages: usize,
    pub fanout_rate: f64,
    /// Fan-out to every client (`lobby`): one run per size, each with the same load: about
    /// `fanout_all_deliveries` deliveries at `fanout_all_delivery_rate` per second (so
    /// `deliveries / n` messages at `rate / n` per second).
    pub fanout_all_clients: Vec<usize>,
    pub fanout_all_deliveries: usize,
    pub fanout_all_delivery_rate: f64,
    pub echo_clients: usize,
    pub echo_secs: f64,
    pub idle_clients: usize,
    pub connects: usize,
    pub binary_clients: usize,
    pub binary_echoes: usize,
    /// 2-node fan-out over Redis: clients in the room, half on each node.
    pub redis_clients: usize,
    /// 2-node fan-out over Redis: `chat`s sent by one client of node A.
    pub redis_messages: usize,
    /// 2-node fan-out over Redis: `chat`s per second.
    pub redis_rate: f64,
    pub concurrency: usize,
    /// Pause after setup (joins, idle connects) before measuring.
    pub settle: Duration,
    /// Time bound of opening one scenario's clients; past it no more connects are started.
    pub connect_budget: Duration,
    /// Whether a server that cannot hold every client of `idle` or `fanout-all` fails the
    /// run (smoke) or is reported in the table's notes (full: a peer's limit is a result).
    pub strict: bool,
}

impl Params {
    pub fn smoke() -> Params {
        Params {
            fanout_clients: 20,
            fanout_messages: 5,
            fanout_rate: 50.0,
            fanout_all_clients: vec![10, 30],
            fanout_all_deliveries: 60,
            fanout_all_delivery_rate: 600.0,
            echo_clients: 4,
            echo_secs: 0.5,
            idle_clients: 20,
            connects: 20,
            binary_clients: 2,
            binary_echoes: 2,
            redis_clients: 10,
            redis_messages: 5,
            redis_rate: 50.0,
            concurrency: 16,
            settle: Duration::from_millis(200),
            connect_budget: Duration::from_secs(20),
            strict: true,
        }
    }

    pub fn full() -> Params {
        Params {
            fanout_clients: 1000,
            fanout_messages: 100,
            fanout_rate: 50.0,
            fanout_all_clients: vec![1000, 10_000],
            fanout_all_deliveries: 100_000,
            fanout_all_delivery_rate: 25_000.0,
            echo_clients: 1000,
            echo_secs: 10.0,
            idle_clients: 10_000,
            connects: 1000,
            binary_clients: 10,
            binary_echoes: 500,
            redis_clients: 1000,
            redis_messages: 100,
            redis_rate: 50.0,
            concurrency: 64,
            settle: Duration::from_secs(2),
            connect_budget: Duration::from_secs(90),
            strict: false,
        }
    }
}

/// `(metric, unit, value, lower is better)`.
pub type Metric = (String, &'static str, f64, bool);

/// What one scenario measured on one server; `failure` if it did not deliver what it sent;
/// `notes` for what the table should say beside the figures (a peer's limit).
#[derive(Default)]
pub struct Outcome {
    pub metrics: Vec<Metric>,
    pub failure: Option<String>,
    pub notes: Vec<String>,
}

impl Outcome {
    fn add(&mut self, metric: impl Into<String>, unit: &'static str, v: f64, lower: bool) {
        self.metrics.push((metric.into(), unit, v, lower));
    }
    fn fail(&mut self, why: String) {
        eprintln!("   failure: {why}");
        self.failure.get_or_insert(why);
    }
    fn note(&mut self, what: String) {
        eprintln!("   note: {what}");
        self.notes.push(what);
    }
    /// Takes in `other`'s metrics, failure and notes, its metric names prefixed.
    fn merge(&mut self, other: Outcome, prefix: &str) {
        for (m, unit, v, lower) in other.metrics {
            self.add(format!("{prefix}{m}"), unit, v, lower);
        }
        if let Some(f) = other.failure {
            self.failure.get_or_insert(f);
        }
        self.notes.extend(other.notes);
    }
}

/// One table row: a metric across servers.
pub struct Row {
    pub key: String,
    pub unit: &'static str,
    pub lower_better: bool,
    pub values: Vec<(&'static str, f64)>,
}

impl Row {
    pub fn new(key: String, unit: &'static str, lower_better: bool) -> Row {
        Row {
            key,
            unit,
            lower_better,
            values: Vec::new(),
        }
    }
}

/// Each server's median of its values (one per round; the upper middle of an even count),
/// in order of first appearance.
pub fn medians(values: &[(&'static str, f64)]) -> Vec<(&'static str, f64)> {
    let mut out: Vec<(&'static str, f64)> = Vec::new();
    for &(name, _) in values {
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut mine: Vec<f64> = values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|&(_, v)| v)
            .collect();
        mine.sort_by(f64::total_cmp);
        out.push((name, mine[mine.len() / 2]));
    }
    out
}

fn now_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64
}

fn ignore_events() -> EventHandler {
    Arc::new(|_: &Packet| {})
}

/// The clients [`connect_many`] opened, and how many it could not.
struct Connected {
    clients: Vec<Arc<Client>>,
    failed: usize,
    first_error: Option<String>,
}

impl Connected {
    /// All of them, or the first error.
    fn all(self) -> Result<Vec<Arc<Client>>, BoxError> {
        match self.first_error {
            None if self.failed == 0 => Ok(self.clients),
            e => Err(format!(
                "{} of {} failed to connect: {}",
                self.failed,
                self.failed + self.clients.len(),
                e.unwrap_or_default()
            )
            .into()),
        }
    }

    /// What the table's notes say when a server did not hold them all.
    fn shortfall(&self, what: &str) -> String {
        format!(
            "held {} of {} {what} clients (then: {})",
            self.clients.len(),
            self.clients.len() + self.failed,
            self.first_error.as_deref().unwrap_or("?")
        )
    }
}

/// Opens `n` clients, at most `p.concurrency` connects at a time; client `i` gets the event
/// handler `handler(i)`. Once `p.concurrency` connects have failed (the server is at its
/// limit) or `p.connect_budget` has passed, the rest are not tried.
async fn connect_many(
    port: u16,
    transport: Transport,
    n: usize,
    p: &Params,
    handler: impl Fn(usize) -> EventHandler,
) -> Connected {
    let give_up = Instant::now() + p.connect_budget;
    let failures = AtomicU64::new(0);
    let max_failures = p.concurrency.max(1) as u64;
    let results: Vec<Result<Client, String>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let (h, failures) = (handler(i), &failures);
            async move {
                if failures.load(Ordering::Relaxed) >= max_failures || Instant::now() > give_up {
                    return Err("not tried".to_owned());
                }
                let r = Client::connect(port, transport, h).await;
                r.map_err(|e| {
                    failures.fetch_add(1, Ordering::Relaxed);
                    format!("{} connect: {e}", transport.name())
                })
            }
        })
        .buffer_unordered(p.concurrency.max(1))
        .collect()
        .await;
    let mut out = Connected {
        clients: Vec::with_capacity(n),
        failed: 0,
        first_error: None,
    };
    for r in results {
        match r {
            Ok(c) => out.clients.push(Arc::new(c)),
            Err(e) => {
                out.failed += 1;
                if out.first_error.is_none() && e != "not tried" {
                    out.first_error = Some(e);
                }
            }
        }
    }
    if out.failed > 0 && out.first_error.is_none() {
        out.first_error = Some(format!(
            "connect budget of {:.0} s spent",
            p.connect_budget.as_secs_f64()
        ));
    }
    out
}

/// Every client joins `room` (at most `concurrency` joins at a time; each join is broadcast
/// to the room, so the whole costs n(n-1)/2 `joined` deliveries).
async fn join_all(clients: &[Arc<Client>], room: &str, p: &Params) -> Result<(), BoxError> {
    let args = format!(r#""join","{room}""#);
    let joins: Vec<Result<Packet, BoxError>> = futures_util::stream::iter(clients.iter())
        .map(|c| c.emit(&args, vec![]))
        .buffer_unordered(p.concurrency.max(1))
        .collect()
        .await;
    for j in joins {
        j.map_err(|e| format!("join: {e}"))?;
    }
    Ok(())
}

/// Starts a fresh instance of `spec`, runs `$scenario(&server, ...)`, stops the server.
macro_rules! with_server {
    ($spec:expr, $scenario:ident ( $($arg:expr),* )) => {{
        let server = $spec.start().await?;
        let result = $scenario(&server, $($arg),*).await;
        server.stop().await;
        result
    }};
}

/// Runs scenario `name` against a fresh instance (or two) of `spec`.
pub async fn run(name: &str, spec: &ServerSpec, p: &Params) -> Result<Outcome, BoxError> {
    match name {
        "fanout" => with_server!(spec, fanout(p)),
        "fanout-all" => {
            let mut out = Outcome::default();
            for &n in &p.fanout_all_clients {
                let o = with_server!(spec, fanout_all(p, n))?;
                out.merge(o, &format!("{n} clients, "));
            }
            Ok(out)
        }
        "echo" => with_server!(spec, echo(p)),
        "binary" => with_server!(spec, binary(p)),
        "redis" => redis_fanout(spec, p).await,
        "idle" | "connect" => {
            let mut out = Outcome::default();
            for t in [Transport::WebSocket, Transport::Polling] {
                let o = if name == "idle" {
                    with_server!(spec, idle(p, t))?
                } else {
                    with_server!(spec, connect_rate(p, t))?
                };
                out.merge(o, "");
            }
            Ok(out)
        }
        other => Err(format!("unknown scenario {other:?}").into()),
    }
}

// ------------------------------------------------------------------------- fan-out

/// What the receivers of a fan-out saw: deliveries and their latencies (µs).
#[derive(Default)]
struct Deliveries {
    count: AtomicU64,
    lat: Mutex<Vec<u64>>,
    /// Receivers that have seen a warm-up message.
    warmed: AtomicU64,
}

impl Deliveries {
    /// A handler counting `chat` events: those whose text is a send time (µs since
    /// [`now_us`]'s start) as deliveries, those with text `warmup` once per client.
    fn chat_handler(self: &Arc<Self>) -> EventHandler {
        let (me, warm) = (self.clone(), std::sync::atomic::AtomicBool::new(false));
        Arc::new(move |pk: &Packet| {
            if pk.event_name().as_deref() != Some("chat") {
                return;
            }
            let now = now_us();
            let v: serde_json::Value =
                serde_json::from_str(pk.data.as_deref().unwrap_or("null")).unwrap_or_default();
            match v[1]["text"].as_str() {
                Some("warmup") if !warm.swap(true, Ordering::Relaxed) => {
                    me.warmed.fetch_add(1, Ordering::Relaxed);
                }
                Some("warmup") => {}
                Some(t) => {
                    if let Ok(ts) = t.parse::<u64>() {
                        me.record(now.saturating_sub(ts));
                    }
                }
                None => {}
            }
        })
    }

    fn record(&self, lat_us: u64) {
        self.lat.lock().unwrap().push(lat_us);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn got(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn warmed(&self) -> u64 {
        self.warmed.load(Ordering::Relaxed)
    }

    fn take_latencies(&self) -> Vec<u64> {
        std::mem::take(&mut *self.lat.lock().unwrap())
    }
}

/// Waits (at most 30 s) until `ds` have seen `expected` deliveries together.
async fn wait_for(ds: &[&Deliveries], expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ds.iter().map(|d| d.got()).sum::<u64>() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `sender` emits `m` events at `rate` per second, `args(i)` the arguments of the `i`-th
/// (built at its send time); returns their ack receivers.
async fn send_at_rate(
    sender: &Client,
    m: usize,
    rate: f64,
    args: impl Fn(usize) -> String,
) -> Result<Vec<tokio::sync::oneshot::Receiver<Packet>>, BoxError> {
    let t0 = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut acks = Vec::with_capacity(m);
    for i in 0..m {
        tokio::time::sleep_until((t0 + interval * i as u32).into()).await;
        acks.push(sender.emit_nowait(&args(i), vec![])?);
    }
    Ok(acks)
}

/// How many of `acks` arrive within 10 s (all together).
async fn count_acks(acks: Vec<tokio::sync::oneshot::Receiver<Packet>>) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut acked = 0;
    for a in acks {
        if tokio::time::timeout_at(deadline, a)
            .await
            .is_ok_and(|r| r.is_ok())
        {
            acked += 1;
        }
    }
    acked
}

/// The fan-out rows: deliveries (those of all `ds` together), CPU per delivery, latency
/// percentiles; failures if fewer than `expected` deliveries or `m` acks.
fn fanout_outcome(
    ds: &[&Deliveries],
    expected: u64,
    cpu_us: f64,
    acked: usize,
    m: usize,
) -> Outcome {
    let got: u64 = ds.iter().map(|d| d.got()).sum();
    let mut lat: Vec<u64> = ds.iter().flat_map(|d| d.take_latencies()).collect();
    lat.sort_unstable();
    let mut out = Outcome::default();
    out.add("deliveries", "count", got as f64, false);
    out.add(
        "server CPU per delivery",
        "µs",
        cpu_us / got.max(1) as f64,
        true,
    );
    out.add("latency p50", "ms", percentile(&lat, 0.5) / 1e3, true);
    out.add("latency p99", "ms", percentile(&lat, 0.99) / 1e3, true);
    eprintln!("   {got}/{expected} deliveries, {acked}/{m} acks");
    if got != expected {
        out.fail(format!("{got} of {expected} deliveries"));
    }
    if acked != m {
        out.fail(format!("{acked} of {m} acks"));
    }
    out
}

fn chat_args(text: &str) -> String {
    format!(r#""chat",{{"room":"bench","text":"{text}"}}"#)
}

/// `fanout_clients` join room `bench`; one of them sends `chat`s to it at a fixed rate.
async fn fanout(s: &Server, p: &Params) -> Result<Outcome, BoxError> {
    let (n, m) = (p.fanout_clients, p.fanout_messages);
    let d = Arc::new(Deliveries::default());
    let clients = connect_many(s.port, Transport::WebSocket, n, p, |_| d.chat_handler())
        .await
        .all()?;
    join_all(&clients, "bench", p).await?;
    tokio::time::sleep(p.settle).await;
    let expected = (n * m) as u64;
    let cpu0 = s.cpu_us();
    let acks = send_at_rate(&clients[0], m, p.fanout_rate, |_| {
        chat_args(&now_us().to_string())
    })
    .await?;
    wait_for(&[&d], expected).await;
    let cpu1 = s.cpu_us();
    let acked = count_acks(acks).await;
    Ok(fanout_outcome(&[&d], expected, cpu1 - cpu0, acked, m))
}

/// How many `leave`s `fanout_all` sends to `n` clients, and how many per second.
fn fanout_all_sends(p: &Params, n: usize) -> (usize, f64) {
    let n = n.max(1);
    (
        (p.fanout_all_deliveries / n).max(1),
        p.fanout_all_delivery_rate / n as f64,
    )
}

/// `n` clients connected, no room: one of them `leave`s a room nobody is in, which the demo
/// contract answers with `lobby` to every client. Joining one room instead costs n(n-1)/2
/// `joined` deliveries, 50 million at 10,000 clients (minutes of CPU per server).
async fn fanout_all(s: &Server, p: &Params, n: usize) -> Result<Outcome, BoxError> {
    let (m, rate) = fanout_all_sends(p, n);
    let d = Arc::new(Deliveries::default());
    // `lobby` carries no timestamp: a client's k-th `lobby` answers the k-th `leave` (one
    // connection keeps order), sent at `sent[k]`.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..m).map(|_| AtomicU64::new(0)).collect());
    let conn = connect_many(s.port, Transport::WebSocket, n, p, |_| {
        let (d, sent, seen) = (d.clone(), sent.clone(), AtomicU64::new(0));
        Arc::new(move |pk: &Packet| {
            if pk.event_name().as_deref() != Some("lobby") {
                return;
            }
            let now = now_us();
            let k = seen.fetch_add(1, Ordering::Relaxed) as usize;
            if let Some(at) = sent.get(k) {
                d.record(now.saturating_sub(at.load(Ordering::Acquire)));
            }
        })
    })
    .await;
    if conn.failed > 0 && !p.strict {
        let mut out = Outcome::default();
        for (metric, unit, lower) in [
            ("deliveries", "count", false),
            ("server CPU per delivery", "µs", true),
            ("latency p50", "ms", true),
            ("latency p99", "ms", true),
        ] {
            out.add(metric, unit, f64::NAN, lower);
        }
        out.note(format!("fan-out to all: {}", conn.shortfall("websocket")));
        return Ok(out);
    }
    let clients = conn.all()?;
    tokio::time::sleep(p.settle).await;
    let expected = (n * m) as u64;
    let cpu0 = s.cpu_us();
    let acks = send_at_rate(&clients[0], m, rate, |i| {
        sent[i].store(now_us(), Ordering::Release);
        r#""leave","nowhere""#.to_owned()
    })
    .await?;
    wait_for(&[&d], expected).await;
    let cpu1 = s.cpu_us();
    let acked = count_acks(acks).await;
    Ok(fanout_outcome(&[&d], expected, cpu1 - cpu0, acked, m))
}

/// Two instances of `spec` over one fresh `redis-server`, half the clients on each, all in
/// room `bench`; one client of node A sends `chat`s to the room. CPU is both nodes'.
async fn redis_fanout(spec: &ServerSpec, p: &Params) -> Result<Outcome, BoxError> {
    let redis = start_redis().await?;
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let a = spec.start_with(&["--adapter", &url]).await?;
    let b = spec.start_with(&["--adapter", &url]).await?;
    let result = redis_fanout_on(&redis, [&a, &b], p).await;
    a.stop().await;
    b.stop().await;
    redis.stop().await;
    result
}

async fn redis_fanout_on(
    redis: &Server,
    nodes: [&Server; 2],
    p: &Params,
) -> Result<Outcome, BoxError> {
    let m = p.redis_messages;
    let per_node = [p.redis_clients.div_ceil(2), p.redis_clients / 2];
    let n = per_node[0] + per_node[1];
    // Each node's clients count apart: node B's deliveries are the ones that crossed Redis.
    let ds = [
        Arc::new(Deliveries::default()),
        Arc::new(Deliveries::default()),
    ];
    let mut clients = Vec::with_capacity(n);
    for ((node, &k), d) in nodes.iter().zip(&per_node).zip(&ds) {
        let c = connect_many(node.port, Transport::WebSocket, k, p, |_| d.chat_handler())
            .await
            .all()?;
        clients.push(c);
    }
    let all: Vec<Arc<Client>> = clients.iter().flatten().cloned().collect();
    join_all(&all, "bench", p).await?;
    tokio::time::sleep(p.settle).await;
    // Warm-up: the first broadcast that reaches every client of both nodes shows that both
    // have subscribed; the figures start after it.
    let sender = &clients[0][0];
    let warmed = || ds[0].warmed() + ds[1].warmed();
    let warm_deadline = Instant::now() + Duration::from_secs(20);
    while warmed() < n as u64 {
        if Instant::now() > warm_deadline {
            return Err(format!("warm-up: {} of {n} clients reached within 20 s", warmed()).into());
        }
        sender.emit(&chat_args("warmup"), vec![]).await?;
        let round = Instant::now() + Duration::from_millis(500);
        while warmed() < n as u64 && Instant::now() < round {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let cpu = || nodes[0].cpu_us() + nodes[1].cpu_us();
    let expected = (n * m) as u64;
    let (cpu0, redis0) = (cpu(), redis.cpu_us());
    let acks = send_at_rate(sender, m, p.redis_rate, |_| {
        chat_args(&now_us().to_string())
    })
    .await?;
    wait_for(&[&ds[0], &ds[1]], expected).await;
    let (cpu1, redis1) = (cpu(), redis.cpu_us());
    let acked = count_acks(acks).await;
    let (on_a, on_b) = (ds[0].got(), ds[1].got());
    let mut out = fanout_outcome(&[&ds[0], &ds[1]], expected, cpu1 - cpu0, acked, m);
    let extra: [Metric; 3] = [
        ("deliveries on node A".into(), "count", on_a as f64, false),
        ("deliveries on node B".into(), "count", on_b as f64, false),
        (
            // Per message, not per delivery: Redis carries each broadcast once.
            "redis-server CPU per chat".into(),
            "µs",
            (redis1 - redis0) / m.max(1) as f64,
            true,
        ),
    ];
    // After the total deliveries and the servers' CPU per delivery.
    out.metrics.splice(2..2, extra);
    Ok(out)
}

// ------------------------------------------------------------------------- echo

/// Builds request `i` of client `ci`: the arguments' JSON and the attachments.
type MakeRequest = Arc<dyn Fn(usize, usize) -> (String, Vec<Bytes>) + Send + Sync>;
/// Whether the ack of request `i` of client `ci` is right.
type CheckAck = Arc<dyn Fn(usize, usize, &Packet) -> bool + Send + Sync>;

/// `clients` each in a request → ack loop until `secs` have passed; each ack is checked by
/// `check`. Returns (acks, mismatches, sorted latencies in µs, elapsed).
async fn ack_loop(
    clients: &[Arc<Client>],
    secs: f64,
    max_per_client: usize,
    make: MakeRequest,
    check: CheckAck,
) -> (u64, u64, Vec<u64>, Duration) {
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        let (c, make, check) = (c.clone(), make.clone(), check.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad, mut lat) = (0u64, 0u64, Vec::new());
            let mut i = 0;
            while i < max_per_client && (i == 0 || Instant::now() < end) {
                let (args, att) = make(ci, i);
                let t = Instant::now();
                match c.emit(&args, att).await {
                    Ok(pk) if check(ci, i, &pk) => {
                        ok += 1;
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    _ => bad += 1,
                }
                i += 1;
            }
            (ok, bad, lat)
        }));
    }
    let (mut ok, mut bad, mut lat) = (0, 0, Vec::new());
    for t in tasks {
        if let Ok((o, b, l)) = t.await {
            ok += o;
            bad += b;
            lat.extend(l);
        } else {
            bad += 1;
        }
    }
    lat.sort_unstable();
    (ok, bad, lat, t0.elapsed())
}

async fn echo(s: &Server, p: &Params) -> Result<Outcome, BoxError> {
    let clients = connect_many(s.port, Transport::WebSocket, p.echo_clients, p, |_| {
        ignore_events()
    })
    .await
    .all()?;
    tokio::time::sleep(p.settle / 4).await;
    let cpu0 = s.cpu_us();
    let (ok, bad, lat, elapsed) = ack_loop(
        &clients,
        p.echo_secs,
        usize::MAX,
        Arc::new(|ci, i| (format!(r#""echo","hello {ci} {i}""#), vec![])),
        Arc::new(|ci, i, pk| pk.data.as_deref() == Some(&format!(r#"["hello {ci} {i}"]"#)[..])),
    )
    .await;
    let cpu1 = s.cpu_us();
    let mut out = Outcome::default();
    out.add(
        "acks per second",
        "1/s",
        ok as f64 / elapsed.as_secs_f64(),
        false,
    );
    out.add(
        "server CPU per ack",
        "µs",
        (cpu1 - cpu0) / ok.max(1) as f64,
        true,
    );
    out.add("latency p50", "ms", percentile(&lat, 0.5) / 1e3, true);
    out.add("latency p99", "ms", percentile(&lat, 0.99) / 1e3, true);
    eprintln!("   {ok} acks, {bad} failed, {:.2} s", elapsed.as_secs_f64());
    if ok == 0 || bad != 0 {
        out.fail(format!("{ok} acks, {bad} failed or wrong"));
    }
    Ok(out)
}

// ------------------------------------------------------------------------- binary

const BINARY_SIZE: usize = 64 * 1024;

fn binary_body(ci: usize, i: usize) -> Bytes {
    let seed = (ci * 7919 + i * 104_729) as u32;
    Bytes::from(
        (0..BINARY_SIZE as u32)
            .map(|k| (k.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
            .collect::<Vec<u8>>(),
    )
}

async fn binary(s: &Server, p: &Params) -> Result<Outcome, BoxError> {
    let clients = connect_many(s.port, Transport::WebSocket, p.binary_clients, p, |_| {
        ignore_events()
    })
    .await
    .all()?;
    let cpu0 = s.cpu_us();
    let (ok, bad, lat, elapsed) = ack_loop(
        &clients,
        600.0, // the count bounds it; this is the time bound
        p.binary_echoes,
        Arc::new(|ci, i| {
            (
                r#""echo",{"_placeholder":true,"num":0}"#.to_owned(),
                vec![binary_body(ci, i)],
            )
        }),
        Arc::new(|ci, i, pk| pk.attachments.len() == 1 && pk.attachments[0] == binary_body(ci, i)),
    )
    .await;
    let cpu1 = s.cpu_us();
    let expected = (p.binary_clients * p.binary_echoes) as u64;
    let mut out = Outcome::default();
    out.add(
        "64 KiB echoes per second",
        "1/s",
        ok as f64 / elapsed.as_secs_f64(),
        false,
    );
    out.add(
        "server CPU per echo",
        "µs",
        (cpu1 - cpu0) / ok.max(1) as f64,
        true,
    );
    out.add("latency p50", "ms", percentile(&lat, 0.5) / 1e3, true);
    out.add("latency p99", "ms", percentile(&lat, 0.99) / 1e3, true);
    eprintln!("   {ok}/{expected} echoes intact, {bad} failed");
    if ok != expected {
        out.fail(format!("{ok} of {expected} binary echoes intact"));
    }
    Ok(out)
}

// ------------------------------------------------------------------------- idle, connect

async fn idle(s: &Server, p: &Params, t: Transport) -> Result<Outcome, BoxError> {
    tokio::time::sleep(p.settle / 4).await;
    let rss0 = s.rss_kib();
    let conn = connect_many(s.port, t, p.idle_clients, p, |_| ignore_events()).await;
    tokio::time::sleep(p.settle).await;
    let rss1 = s.rss_kib();
    let held = conn.clients.len();
    let mut out = Outcome::default();
    out.add(
        format!("clients held, {}", t.name()),
        "count",
        held as f64,
        false,
    );
    // Over the clients it holds, if it could not take them all.
    out.add(
        format!("RSS per idle client, {}", t.name()),
        "KiB",
        (rss1 - rss0) / held.max(1) as f64,
        true,
    );
    eprintln!("   {held} {} clients: RSS {rss0} → {rss1} KiB", t.name());
    if conn.failed > 0 {
        let why = format!("idle: {}", conn.shortfall(t.name()));
        if p.strict {
            out.fail(why);
        } else {
            out.note(why);
        }
    }
    Ok(out)
}

async fn connect_rate(s: &Server, p: &Params, t: Transport) -> Result<Outcome, BoxError> {
    let cpu0 = s.cpu_us();
    let t0 = Instant::now();
    let clients = connect_many(s.port, t, p.connects, p, |_| ignore_events())
        .await
        .all()?;
    let elapsed = t0.elapsed();
    let cpu1 = s.cpu_us();
    let mut out = Outcome::default();
    out.add(
        format!("connects per second, {}", t.name()),
        "1/s",
        clients.len() as f64 / elapsed.as_secs_f64(),
        false,
    );
    out.add(
        format!("server CPU per connect, {}", t.name()),
        "µs",
        (cpu1 - cpu0) / clients.len().max(1) as f64,
        true,
    );
    eprintln!(
        "   {} {} connects in {:.2} s",
        clients.len(),
        t.name(),
        elapsed.as_secs_f64()
    );
    Ok(out)
}

// ------------------------------------------------------------------------- table

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The markdown report: parameters, then one table (absolute figures, and sockeye's figure
/// as a ratio of each peer's), then the notes (what a server could not do).
pub fn markdown(
    rows: &[Row],
    names: &[&str],
    notes: &[String],
    p: &Params,
    smoke: bool,
    elapsed: Duration,
) -> String {
    let mut s = String::new();
    s.push_str("# sockeye-bench results\n\n");
    s.push_str(&format!(
        "Mode: {}; {} CPUs; servers started one after another, fresh for each scenario, \
         loopback; load generator on the same machine. Total {:.0} s.\n\n",
        if smoke { "smoke" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        elapsed.as_secs_f64()
    ));
    let all_sizes: Vec<String> = p.fanout_all_clients.iter().map(|n| n.to_string()).collect();
    let all_sends: Vec<String> = p
        .fanout_all_clients
        .iter()
        .map(|&n| {
            let (m, rate) = fanout_all_sends(p, n);
            format!("{m} `leave`s at {rate}/s for {n} clients")
        })
        .collect();
    s.push_str(&format!(
        "Parameters (WebSocket clients unless said): \
         **fanout** {} clients join room `bench` (n(n-1)/2 `joined` deliveries, not measured), \
         then one sends {} `chat`s to it at {}/s; \
         **fanout-all** {} clients (one run each) in no room, one sends `leave`s of an empty \
         room, each answered with `lobby` to every client (joining one room would cost 50 \
         million `joined` deliveries at 10,000 clients): {} deliveries at {}/s at every size \
         ({}); \
         **echo** {} clients each in an `echo` request → ack loop for {} s; \
         **idle** {} clients per transport (a polling client holds one connection while idle, \
         its long-poll GET: POSTs go on a connection closed once nothing is queued); \
         **connect** {} per transport; **binary** {} clients × {} echoes of 64 KiB; \
         **redis** two nodes of the server over one `redis-server` (each server's own Redis \
         adapter), {} clients in room `bench`, half on each node, one on node A sends {} \
         `chat`s at {}/s after a warm-up chat has reached them all; CPU is both nodes' \
         together, redis-server's apart. At most {} connects at a time; clients opened \
         within {:.0} s per scenario.\n\n",
        p.fanout_clients,
        p.fanout_messages,
        p.fanout_rate,
        all_sizes.join(" and "),
        p.fanout_all_deliveries,
        p.fanout_all_delivery_rate,
        all_sends.join(", "),
        p.echo_clients,
        p.echo_secs,
        p.idle_clients,
        p.connects,
        p.binary_clients,
        p.binary_echoes,
        p.redis_clients,
        p.redis_messages,
        p.redis_rate,
        p.concurrency,
        p.connect_budget.as_secs_f64()
    ));
    s.push_str(
        "Servers: sockeye-demo; socketioxide 0.18 (`socketioxide-demo`, Redis: \
         socketioxide-redis 0.4); Node socket.io 4.8.4 (`tests/bench/node/server.mjs`, Redis: \
         @socket.io/redis-adapter 8.3.0 on redis 4.7.1). CPU = utime+stime of the server \
         process (/proc/PID/stat, 10 ms ticks), RSS from /proc/PID/status. Ratio = sockeye ÷ \
         peer (below 1 is better for sockeye where lower is better, marked ↓); n/a: not \
         measured (see the notes).\n\n",
    );
    let peers: Vec<&str> = names.iter().copied().filter(|n| *n != "sockeye").collect();
    let has_sockeye = names.contains(&"sockeye");
    s.push_str("| scenario: metric | unit |");
    for n in names {
        s.push_str(&format!(" {n} |"));
    }
    if has_sockeye {
        for pn in &peers {
            s.push_str(&format!(" sockeye ÷ {pn} |"));
        }
    }
    s.push_str("\n|---|---|");
    for _ in names {
        s.push_str("---:|");
    }
    if has_sockeye {
        for _ in &peers {
            s.push_str("---:|");
        }
    }
    s.push('\n');
    for r in rows {
        let get = |n: &str| r.values.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let arrow = if r.lower_better { " ↓" } else { " ↑" };
        s.push_str(&format!("| {} | {}{arrow} |", r.key, r.unit));
        for n in names {
            let cell = match get(n) {
                None => "—".into(),
                Some(v) if r.unit == "count" && v.is_finite() => format!("{v:.0}"),
                Some(v) => fmt(v),
            };
            s.push_str(&format!(" {cell} |"));
        }
        if has_sockeye {
            for pn in &peers {
                let ratio = match (get("sockeye"), get(pn)) {
                    (Some(a), Some(b)) if b != 0.0 && (a / b).is_finite() => {
                        format!("{:.2}", a / b)
                    }
                    _ => "—".into(),
                };
                s.push_str(&format!(" {ratio} |"));
            }
        }
        s.push('\n');
    }
    if !notes.is_empty() {
        s.push_str("\nNotes:\n\n");
        for n in notes {
            s.push_str(&format!("- {n}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::medians;

    #[test]
    fn medians_are_per_server_in_first_appearance_order() {
        let values = [
            ("a", 3.0),
            ("b", 10.0),
            ("b", 30.0),
            ("a", 1.0),
            ("a", 2.0),
            ("b", 20.0),
        ];
        assert_eq!(medians(&values), vec![("a", 2.0), ("b", 20.0)]);
        assert_eq!(medians(&[("a", 1.0), ("a", 5.0)]), vec![("a", 5.0)]);
        assert_eq!(medians(&[("a", 4.0)]), vec![("a", 4.0)]);
        assert!(medians(&[]).is_empty());
    }
}

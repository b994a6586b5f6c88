//! The scenarios, each run against one server (started fresh for it), and the markdown table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use sockeye_core::socket::packet::Packet;

use crate::client::{BoxError, Client, EventHandler, Transport};
use crate::server::{Server, ServerSpec};

/// Counts of one run.
#[derive(Clone, Debug)]
pub struct Params {
    pub fanout_clients: usize,
    pub fanout_messages: usize,
    pub fanout_rate: f64,
    pub echo_clients: usize,
    pub echo_secs: f64,
    pub idle_clients: usize,
    pub connects: usize,
    pub binary_clients: usize,
    pub binary_echoes: usize,
    pub concurrency: usize,
    /// Pause after setup (joins, idle connects) before measuring.
    pub settle: Duration,
}

impl Params {
    pub fn smoke() -> Params {
        Params {
            fanout_clients: 20,
            fanout_messages: 5,
            fanout_rate: 50.0,
            echo_clients: 4,
            echo_secs: 0.5,
            idle_clients: 20,
            connects: 20,
            binary_clients: 2,
            binary_echoes: 2,
            concurrency: 16,
            settle: Duration::from_millis(200),
        }
    }

    pub fn full() -> Params {
        Params {
            fanout_clients: 1000,
            fanout_messages: 100,
            fanout_rate: 50.0,
            echo_clients: 200,
            echo_secs: 10.0,
            idle_clients: 2000,
            connects: 1000,
            binary_clients: 10,
            binary_echoes: 50,
            concurrency: 64,
            settle: Duration::from_secs(2),
        }
    }
}

/// `(metric, unit, value, lower is better)`.
pub type Metric = (String, &'static str, f64, bool);

/// What one scenario measured on one server; `failure` if it did not deliver what it sent.
#[derive(Default)]
pub struct Outcome {
    pub metrics: Vec<Metric>,
    pub failure: Option<String>,
}

impl Outcome {
    fn add(&mut self, metric: impl Into<String>, unit: &'static str, v: f64, lower: bool) {
        self.metrics.push((metric.into(), unit, v, lower));
    }
    fn fail(&mut self, why: String) {
        eprintln!("   failure: {why}");
        self.failure.get_or_insert(why);
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

/// Opens `n` clients, at most `concurrency` connects at a time.
async fn connect_many(
    port: u16,
    transport: Transport,
    n: usize,
    concurrency: usize,
    handler: &EventHandler,
) -> Result<Vec<Arc<Client>>, BoxError> {
    let results: Vec<Result<Client, BoxError>> = futures_util::stream::iter(0..n)
        .map(|_| Client::connect(port, transport, handler.clone()))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut clients = Vec::with_capacity(n);
    for r in results {
        clients.push(Arc::new(
            r.map_err(|e| format!("{} connect: {e}", transport.name()))?,
        ));
    }
    Ok(clients)
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
        "echo" => with_server!(spec, echo(p)),
        "binary" => with_server!(spec, binary(p)),
        "idle" | "connect" => {
            let mut out = Outcome::default();
            for t in [Transport::WebSocket, Transport::Polling] {
                let o = if name == "idle" {
                    with_server!(spec, idle(p, t))?
                } else {
                    with_server!(spec, connect_rate(p, t))?
                };
                out.metrics.extend(o.metrics);
                if let Some(f) = o.failure {
                    out.fail(f);
                }
            }
            Ok(out)
        }
        other => Err(format!("unknown scenario {other:?}").into()),
    }
}

// ------------------------------------------------------------------------- fan-out

async fn fanout(s: &Server, p: &Params) -> Result<Outcome, BoxError> {
    let (n, m) = (p.fanout_clients, p.fanout_messages);
    let delivered = Arc::new(AtomicU64::new(0));
    let lat: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(Vec::with_capacity(n * m)));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler: EventHandler = {
        let (delivered, lat, measuring) = (delivered.clone(), lat.clone(), measuring.clone());
        Arc::new(move |pk: &Packet| {
            if !measuring.load(Ordering::Relaxed) || pk.event_name().as_deref() != Some("chat") {
                return;
            }
            let now = now_us();
            let v: serde_json::Value =
                serde_json::from_str(pk.data.as_deref().unwrap_or("null")).unwrap_or_default();
            if let Some(ts) = v[1]["text"].as_str().and_then(|t| t.parse::<u64>().ok()) {
                lat.lock().unwrap().push(now.saturating_sub(ts));
                delivered.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let clients = connect_many(s.port, Transport::WebSocket, n, p.concurrency, &handler).await?;
    // Everyone joins the room (bounded concurrency; each join is broadcast to the room).
    let joins: Vec<Result<Packet, BoxError>> = futures_util::stream::iter(clients.iter())
        .map(|c| c.emit(r#""join","bench""#, vec![]))
        .buffer_unordered(p.concurrency.max(1))
        .collect()
        .await;
    for j in joins {
        j.map_err(|e| format!("join: {e}"))?;
    }
    tokio::time::sleep(p.settle).await;
    measuring.store(true, Ordering::Relaxed);
    let expected = (n * m) as u64;
    let cpu0 = s.cpu_us();
    let t0 = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / p.fanout_rate.max(0.1));
    let mut acks = Vec::with_capacity(m);
    for i in 0..m {
        let at = t0 + interval * i as u32;
        tokio::time::sleep_until(at.into()).await;
        let args = format!(r#""chat",{{"room":"bench","text":"{}"}}"#, now_us());
        acks.push(clients[0].emit_nowait(&args, vec![])?);
    }
    // Bounded wait for the deliveries: 30 s after the last send.
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu1 = s.cpu_us();
    let elapsed = t0.elapsed();
    let mut acked = 0;
    for a in acks {
        if tokio::time::timeout(Duration::from_secs(10), a)
            .await
            .is_ok_and(|r| r.is_ok())
        {
            acked += 1;
        }
    }
    let got = delivered.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *lat.lock().unwrap());
    lat.sort_unstable();
    let mut out = Outcome::default();
    out.add("deliveries", "count", got as f64, false);
    out.add(
        "server CPU per delivery",
        "µs",
        (cpu1 - cpu0) / got.max(1) as f64,
        true,
    );
    out.add("latency p50", "ms", percentile(&lat, 0.5) / 1e3, true);
    out.add("latency p99", "ms", percentile(&lat, 0.99) / 1e3, true);
    eprintln!(
        "   {got}/{expected} deliveries, {acked}/{m} acks in {:.2} s",
        elapsed.as_secs_f64()
    );
    if got != expected {
        out.fail(format!("{got} of {expected} chat deliveries"));
    }
    if acked != m {
        out.fail(format!("{acked} of {m} chat acks"));
    }
    drop(clients);
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
    let clients = connect_many(
        s.port,
        Transport::WebSocket,
        p.echo_clients,
        p.concurrency,
        &ignore_events(),
    )
    .await?;
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
    let clients = connect_many(
        s.port,
        Transport::WebSocket,
        p.binary_clients,
        p.concurrency,
        &ignore_events(),
    )
    .await?;
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
    let clients = connect_many(s.port, t, p.idle_clients, p.concurrency, &ignore_events()).await?;
    tokio::time::sleep(p.settle).await;
    let rss1 = s.rss_kib();
    let mut out = Outcome::default();
    out.add(
        format!("RSS per idle client, {}", t.name()),
        "KiB",
        (rss1 - rss0) / clients.len() as f64,
        true,
    );
    eprintln!(
        "   {} {} clients: RSS {rss0} → {rss1} KiB",
        clients.len(),
        t.name()
    );
    if clients.len() != p.idle_clients {
        out.fail(format!("{} of {} connected", clients.len(), p.idle_clients));
    }
    Ok(out)
}

async fn connect_rate(s: &Server, p: &Params, t: Transport) -> Result<Outcome, BoxError> {
    let cpu0 = s.cpu_us();
    let t0 = Instant::now();
    let clients = connect_many(s.port, t, p.connects, p.concurrency, &ignore_events()).await?;
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
    if clients.len() != p.connects {
        out.fail(format!("{} of {} connected", clients.len(), p.connects));
    }
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
/// as a ratio of each peer's).
pub fn markdown(
    rows: &[Row],
    names: &[&str],
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
    s.push_str(&format!(
        "Parameters: fan-out {} WebSocket clients in one room × {} chats at {}/s; echo {} \
         WebSocket clients × {} s; idle {} clients per transport; connect {} per transport \
         ({} at a time); binary {} clients × {} echoes of 64 KiB.\n\n",
        p.fanout_clients,
        p.fanout_messages,
        p.fanout_rate,
        p.echo_clients,
        p.echo_secs,
        p.idle_clients,
        p.connects,
        p.concurrency,
        p.binary_clients,
        p.binary_echoes
    ));
    s.push_str(
        "Servers: sockeye-demo; socketioxide 0.18 (`socketioxide-demo`); Node socket.io \
         4.8.4 (`tests/bench/node/server.mjs`). CPU = utime+stime of the server process \
         (/proc/PID/stat, 10 ms ticks), RSS from /proc/PID/status. Ratio = sockeye ÷ peer \
         (below 1 is better for sockeye where lower is better, marked ↓).\n\n",
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
            s.push_str(&format!(" {} |", get(n).map_or("—".into(), fmt)));
        }
        if has_sockeye {
            for pn in &peers {
                let ratio = match (get("sockeye"), get(pn)) {
                    (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
                    _ => "—".into(),
                };
                s.push_str(&format!(" {ratio} |"));
            }
        }
        s.push('\n');
    }
    s
}

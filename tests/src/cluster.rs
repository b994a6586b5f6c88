//! Helpers of the Redis cluster tests (`tests/tests/cluster_redis.rs`): Sockeye nodes on a
//! Redis ([`sockeye_node`]), and [`Agent`], a Node process (`node/cluster/agent.mjs`) that
//! hosts socket.io-client sockets, a socket.io server with `@socket.io/redis-adapter`, or a
//! `@socket.io/redis-emitter`, driven with one JSON command a line.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use serde_json::{json, Value};
use sockeye::cluster::{AmqpAdapterFactory, AmqpConfig, RedisAdapterFactory, RedisConfig};
use sockeye::SocketIo;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::tests_dir;

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// A `node node/cluster/agent.mjs` process (killed on drop).
pub struct Agent {
    stdin: tokio::sync::Mutex<ChildStdin>,
    waiters: Waiters,
    next: AtomicU64,
    _child: Child,
}

impl Agent {
    /// Starts one.
    pub async fn spawn() -> Agent {
        let mut child = Command::new("node")
            .arg("node/cluster/agent.mjs")
            .current_dir(tests_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (run scripts/setup.sh)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let waiters: Waiters = Arc::default();
        let w = waiters.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let Some(id) = v["id"].as_u64() else { continue };
                let r = match v.get("err") {
                    Some(e) => Err(e.as_str().unwrap_or_default().to_owned()),
                    None => Ok(v["ok"].clone()),
                };
                if let Some(tx) = w.lock().ok().and_then(|mut m| m.remove(&id)) {
                    let _ = tx.send(r);
                }
            }
        });
        Agent {
            stdin: tokio::sync::Mutex::new(stdin),
            waiters,
            next: AtomicU64::new(1),
            _child: child,
        }
    }

    /// Runs a command (`{"op": ..., ...}`); its result or its error (at most 30 s).
    pub async fn call(&self, mut cmd: Value) -> Result<Value, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        cmd["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().expect("waiters").insert(id, tx);
        let mut line = cmd.to_string();
        line.push('\n');
        self.stdin
            .lock()
            .await
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("agent stdin: {e}"))?;
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err("agent exited".to_owned()),
            Err(_) => Err(format!("agent: no answer in 30 s to {cmd}")),
        }
    }

    /// Runs a command; panics on error.
    pub async fn ok(&self, cmd: Value) -> Value {
        let what = cmd.to_string();
        self.call(cmd)
            .await
            .unwrap_or_else(|e| panic!("agent {what}: {e}"))
    }

    /// Connects socket.io-client socket `name` to `url` (websocket, no reconnection);
    /// returns its id. `extra` adds fields: `mute` (events it does not ack), `answer` (what
    /// it acks with; default its name), `nsp`, `opts`.
    pub async fn client_with(&self, name: &str, url: &str, extra: Value) -> String {
        let mut cmd = json!({ "op": "client", "name": name, "url": url });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                cmd[k] = v;
            }
        }
        self.ok(cmd).await["id"]
            .as_str()
            .expect("socket id")
            .to_owned()
    }

    /// Connects socket.io-client socket `name` to `url`; returns its id.
    pub async fn client(&self, name: &str, url: &str) -> String {
        self.client_with(name, url, json!({})).await
    }

    /// Client `name` emits `event` with `args` (a JSON array).
    pub async fn emit(&self, name: &str, event: &str, args: Value) {
        self.ok(json!({ "op": "emit", "name": name, "event": event, "args": args }))
            .await;
    }

    /// Client `name` emits `event` with `args` and returns the ack's first argument.
    pub async fn emit_ack(&self, name: &str, event: &str, args: Value) -> Value {
        self.ok(json!({ "op": "emit", "name": name, "event": event, "args": args, "ack": true }))
            .await
    }

    /// Waits (at most 5 s) until client `name` got `count` × `event`; their argument lists.
    pub async fn wait(&self, name: &str, event: &str, count: usize) -> Vec<Value> {
        let v = self
            .ok(json!({ "op": "wait", "name": name, "event": event, "count": count }))
            .await;
        serde_json::from_value(v).expect("argument lists")
    }

    /// Waits (at most 5 s) until client `name` got `event` with first argument `arg`; its
    /// argument list.
    pub async fn wait_arg(&self, name: &str, event: &str, arg: Value) -> Vec<Value> {
        let v = self
            .ok(json!({ "op": "wait", "name": name, "event": event, "arg": arg }))
            .await;
        let mut all: Vec<Vec<Value>> = serde_json::from_value(v).expect("argument lists");
        all.remove(0)
    }

    /// Waits (at most 5 s) until client `name` is disconnected; the reason.
    pub async fn wait_disconnect(&self, name: &str) -> String {
        self.wait(name, "$disconnect", 1).await[0][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// How many `event` client `name` got so far.
    pub async fn count(&self, name: &str, event: &str) -> usize {
        let v = self.ok(json!({ "op": "events", "name": name })).await;
        v.as_array()
            .map(|l| l.iter().filter(|e| e["event"] == event).count())
            .unwrap_or(0)
    }

    /// Starts this agent's socket.io server (redis-adapter on `redis`) on `port`; its uid.
    pub async fn server(&self, port: u16, redis: &str) -> String {
        let v = self
            .ok(json!({ "op": "server", "port": port, "redis": redis }))
            .await;
        v["uid"].as_str().unwrap_or_default().to_owned()
    }

    /// A server operation (`what`: emit, fetch, socketsJoin, socketsLeave,
    /// disconnectSockets, serverSideEmit, serverSideEmitWithAck, emitWithAck,
    /// emitWithAckCount, ssLog), with `extra` fields (`rooms`, `except`, `event`, `args`...).
    pub async fn srv(&self, what: &str, extra: Value) -> Value {
        let mut cmd = json!({ "op": "srv", "what": what });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                cmd[k] = v;
            }
        }
        self.ok(cmd).await
    }

    /// Creates this agent's `@socket.io/redis-emitter` on `redis`.
    pub async fn emitter(&self, redis: &str) {
        self.ok(json!({ "op": "emitter", "redis": redis })).await;
    }

    /// An emitter operation (`what`: emit, socketsJoin, socketsLeave, disconnectSockets,
    /// serverSideEmit), with `extra` fields; returns once the PUBLISH is done.
    pub async fn by_emitter(&self, what: &str, extra: Value) {
        let mut cmd = json!({ "op": "emit_by_emitter", "what": what });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                cmd[k] = v;
            }
        }
        self.ok(cmd).await;
    }
}

/// A Sockeye node of the cluster: the demo application (the contract on `/` only, as
/// `sockeye-demo --adapter redis://...` runs it) with the Redis adapter, on a free port;
/// and the server-side events it got (it acks each with `{"node": name, "got": args}`).
/// Stopped on drop.
pub struct SockeyeNode {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The server handle.
    pub io: SocketIo,
    /// Its uid in the cluster.
    pub uid: String,
    ss: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    task: JoinHandle<()>,
}

impl Drop for SockeyeNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Redis adapter's settings of the tests' nodes.
pub fn redis_config(redis_url: &str, requests_timeout: Duration) -> RedisConfig {
    RedisConfig::new(redis_url)
        .with_python_channel("socketio")
        .with_requests_timeout(requests_timeout)
}

/// Starts a Sockeye node on the Redis or AMQP broker at `url` (`redis://…` or `amqp://…`;
/// cluster requests time out after `requests_timeout`; AMQP heartbeats every second).
pub async fn sockeye_node(url: &str, name: &str, requests_timeout: Duration) -> SockeyeNode {
    sockeye_node_with(url, name, requests_timeout, Duration::from_secs(1)).await
}

/// [`sockeye_node`] with AMQP heartbeats every `heartbeat_interval`.
pub async fn sockeye_node_with(
    url: &str,
    name: &str,
    requests_timeout: Duration,
    heartbeat_interval: Duration,
) -> SockeyeNode {
    let builder = SocketIo::builder();
    let (uid, builder) = if url.starts_with("amqp://") {
        let config = AmqpConfig::new(url)
            .with_requests_timeout(requests_timeout)
            .with_heartbeat_interval(heartbeat_interval);
        let factory = AmqpAdapterFactory::new(config).expect("amqp adapter");
        (factory.uid().to_owned(), builder.adapter(factory))
    } else {
        let factory =
            RedisAdapterFactory::new(redis_config(url, requests_timeout)).expect("redis adapter");
        (factory.uid().to_owned(), builder.adapter(factory))
    };
    let (layer, io) = builder.build_layer();
    let www = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"));
    let app = sockeye::demo::router(&www, &io, layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind a test port");
    let addr = listener.local_addr().expect("local address");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let (tx, rx) = mpsc::unbounded_channel();
    on_server_side_events(&io, name, tx);
    SockeyeNode {
        url: format!("http://{addr}"),
        io,
        uid,
        ss: tokio::sync::Mutex::new(rx),
        task,
    }
}

/// Sends the server-side events `io` gets to `tx`, and acks each with
/// `{"node": name, "got": args}`.
pub fn on_server_side_events(
    io: &SocketIo,
    name: &str,
    tx: mpsc::UnboundedSender<(String, Value)>,
) {
    let name = name.to_owned();
    io.on_server_side_emit(move |ev: sockeye::ServerSideEvent| {
        let tx = tx.clone();
        let name = name.clone();
        async move {
            let args: Value = serde_json::from_str(&ev.args.args).unwrap_or_default();
            let _ = tx.send((ev.event.clone(), args.clone()));
            ev.ack(&json!({ "node": name, "got": args }));
        }
    });
}

impl SockeyeNode {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server handle.
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// The next server-side event it got (at most 5 s): `(event, args)`.
    pub async fn next_server_side_event(&self) -> (String, Value) {
        tokio::time::timeout(Duration::from_secs(5), self.ss.lock().await.recv())
            .await
            .expect("a server-side event within 5 s")
            .expect("handler alive")
    }

    /// The rooms of local socket `id` (sorted), or `None` if it is not here.
    pub async fn local_rooms(&self, id: &str) -> Option<Vec<String>> {
        let sockets = self.io().local().fetch_sockets().await.ok()?;
        let s = sockets.iter().find(|s| s.id() == id)?;
        let mut rooms = s.rooms().to_vec();
        rooms.sort();
        Some(rooms)
    }
}

/// Polls `check` every 20 ms until it holds; panics after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A msgpack value, to build well- and ill-formed adapter messages by hand.
#[derive(Clone, Debug)]
pub enum Mp {
    /// nil
    Nil,
    /// a boolean
    Bool(bool),
    /// an integer
    Int(i64),
    /// a string
    Str(String),
    /// binary
    Bin(Vec<u8>),
    /// an array
    Arr(Vec<Mp>),
    /// a map
    Map(Vec<(Mp, Mp)>),
}

impl Mp {
    /// A string.
    pub fn s(s: &str) -> Mp {
        Mp::Str(s.to_owned())
    }

    /// Its msgpack encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Mp::Nil => out.push(0xc0),
            Mp::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Mp::Int(n) => {
                if (0..128).contains(n) {
                    out.push(*n as u8);
                } else {
                    out.push(0xd3);
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            Mp::Str(s) => {
                out.push(0xdb);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Mp::Bin(b) => {
                out.push(0xc6);
                out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                out.extend_from_slice(b);
            }
            Mp::Arr(items) => {
                out.push(0xdd);
                out.extend_from_slice(&(items.len() as u32).to_be_bytes());
                for i in items {
                    i.write(out);
                }
            }
            Mp::Map(entries) => {
                out.push(0xdf);
                out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
                for (k, v) in entries {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }
}

/// A broadcast in Node's redis-adapter format: `[uid, packet, {rooms, except, flags}]` with
/// packet `{type: 2, data: [event, ...args], nsp}` (`data` as msgpack values).
pub fn node_broadcast(uid: &str, nsp: &str, data: Vec<Mp>, rooms: &[&str]) -> Mp {
    let rooms = Mp::Arr(rooms.iter().map(|r| Mp::s(r)).collect());
    Mp::Arr(vec![
        Mp::s(uid),
        Mp::Map(vec![
            (Mp::s("type"), Mp::Int(2)),
            (Mp::s("data"), Mp::Arr(data)),
            (Mp::s("nsp"), Mp::s(nsp)),
        ]),
        Mp::Map(vec![
            (Mp::s("rooms"), rooms),
            (Mp::s("except"), Mp::Arr(vec![])),
            (Mp::s("flags"), Mp::Map(vec![])),
        ]),
    ])
}

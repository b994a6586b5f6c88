//! In-process harness: the real axum service of `sockeye`, served by hyper over
//! `tokio::io::duplex` pairs (one fresh pair per HTTP request or WebSocket), and a driver
//! task that runs the sans-IO client `sockeye_core::socket::client::Client` against it.
//!
//! Nothing touches the network or the OS clock: with `#[tokio::test(start_paused = true)]`
//! every timer — the client's (heartbeat watchdog, reconnection, acks) and the server's
//! (heartbeats, ack timeouts) — runs on tokio's virtual clock.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sockeye::{SocketIo, SocketIoBuilder};
use sockeye_core::engine::client::{Config as EngineConfig, Transmit};
use sockeye_core::engine::packet::Frame;
use sockeye_core::engine::Transport;
use sockeye_core::socket::client::{Client, Config, Event};
use sockeye_core::{Instant as CoreInstant, Str};
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long [`TestClient::next_event`] and friends wait (tokio time: virtual under a
/// paused clock).
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The real server, reachable through in-memory connections.
#[derive(Clone)]
pub struct Server {
    router: Router,
}

impl Server {
    /// Builds the server from `builder`: `(server, io)`; register namespaces on `io`.
    pub fn start(builder: SocketIoBuilder) -> (Server, SocketIo) {
        let (layer, io) = builder.build_layer();
        (
            Server {
                router: Router::new().layer(layer),
            },
            io,
        )
    }

    /// A new in-memory connection with hyper serving the router on the other end.
    pub fn connect(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let service = TowerToHyperService::new(self.router.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server), service)
                .with_upgrades()
                .await;
        });
        client
    }

    /// One HTTP request on its own connection: `(status, body)`.
    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), String> {
        let io = TokioIo::new(self.connect());
        let (mut send, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost");
        if body.is_some() {
            req = req.header("content-type", "text/plain;charset=UTF-8");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        // The connection is driven here, so that dropping this future drops the connection.
        let exchange = async move {
            let resp = send
                .send_request(req)
                .await
                .map_err(|e| format!("request: {e}"))?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("body: {e}"))?
                .to_bytes();
            drop(send);
            Ok((status, body))
        };
        let (result, _) = tokio::join!(exchange, conn);
        result
    }
}

fn polling_uri(sid: Option<&Str>) -> String {
    match sid {
        Some(sid) => format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        None => "/socket.io/?EIO=4&transport=polling".to_owned(),
    }
}

fn ws_url(sid: Option<&Str>) -> String {
    match sid {
        Some(sid) => format!("ws://localhost/socket.io/?EIO=4&transport=websocket&sid={sid}"),
        None => "ws://localhost/socket.io/?EIO=4&transport=websocket".to_owned(),
    }
}

/// A client configuration using only `transports` (in order), otherwise the defaults.
pub fn config(transports: &[Transport]) -> Config {
    let mut c = Config::default();
    c.engine = EngineConfig::with_transports(transports);
    c
}

/// Wire-level counters kept by the driver.
#[derive(Debug, Default)]
pub struct Stats {
    /// Engine.IO `ping` packets received from the server.
    pub pings: AtomicUsize,
    /// Polling `GET`s sent.
    pub gets: AtomicUsize,
    /// Polling `POST`s sent.
    pub posts: AtomicUsize,
    /// WebSockets opened.
    pub websockets: AtomicUsize,
}

impl Stats {
    pub fn pings(&self) -> usize {
        self.pings.load(Ordering::Relaxed)
    }

    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::Relaxed)
    }

    pub fn posts(&self) -> usize {
        self.posts.load(Ordering::Relaxed)
    }

    pub fn websockets(&self) -> usize {
        self.websockets.load(Ordering::Relaxed)
    }
}

type ClientFn = Box<dyn FnOnce(&mut Client, CoreInstant) + Send>;

enum Cmd {
    With(ClientFn),
    /// Kill every connection without a goodbye and tell the client its transport failed.
    DropTransport,
    /// While offline the client's timers (reconnection) do not run.
    Offline(bool),
    /// Stop everything: no input reaches the client, nothing is sent, no timer runs.
    Freeze,
}

enum Io {
    Poll {
        gen: u64,
        result: Result<String, String>,
    },
    Post {
        gen: u64,
        result: Result<(), String>,
    },
    WsOpen {
        id: u64,
    },
    WsFrame {
        id: u64,
        frame: Frame,
    },
    WsClosed {
        id: u64,
    },
}

enum WsCmd {
    Frame(Frame),
    Close,
}

struct Ws {
    id: u64,
    out: mpsc::UnboundedSender<WsCmd>,
    task: JoinHandle<()>,
}

struct Driver {
    client: Client,
    server: Server,
    epoch: tokio::time::Instant,
    io_tx: mpsc::UnboundedSender<Io>,
    events: mpsc::UnboundedSender<Event>,
    requests: Vec<JoinHandle<()>>,
    ws: Option<Ws>,
    next_ws_id: u64,
    offline: bool,
    frozen: bool,
    stats: Arc<Stats>,
    /// How long each WebSocket takes to open (a slow network).
    ws_delay: Duration,
}

impl Driver {
    fn now(&self) -> CoreInstant {
        let ms = self.epoch.elapsed().as_millis();
        CoreInstant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    async fn run(
        mut self,
        mut cmds: mpsc::UnboundedReceiver<Cmd>,
        mut io: mpsc::UnboundedReceiver<Io>,
    ) {
        loop {
            self.pump();
            let deadline = if self.offline || self.frozen {
                None
            } else {
                self.client
                    .poll_timeout()
                    .map(|t| self.epoch + Duration::from_millis(t.as_millis()))
            };
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
                Some(input) = io.recv(), if !self.frozen => self.input(input),
                () = sleep => {
                    let now = self.now();
                    self.client.handle_timeout(now);
                }
            }
        }
        self.kill_transport();
    }

    fn pump(&mut self) {
        if self.frozen {
            return;
        }
        while let Some(t) = self.client.poll_transmit() {
            self.transmit(t);
        }
        while let Some(e) = self.client.poll_event() {
            let _ = self.events.send(e);
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::With(f) => {
                let now = self.now();
                f(&mut self.client, now);
            }
            Cmd::DropTransport => {
                let on_ws = self
                    .client
                    .engine()
                    .is_some_and(|e| e.transport() == Transport::WebSocket);
                let had_engine = self.client.engine().is_some();
                self.kill_transport();
                if had_engine {
                    let now = self.now();
                    if on_ws {
                        self.client.handle_ws_closed(now);
                    } else {
                        self.client.handle_poll_error(now);
                    }
                }
            }
            Cmd::Offline(offline) => self.offline = offline,
            Cmd::Freeze => self.frozen = true,
        }
    }

    /// Drops every connection abruptly (no close frame, no close packet).
    fn kill_transport(&mut self) {
        for r in self.requests.drain(..) {
            r.abort();
        }
        if let Some(ws) = self.ws.take() {
            ws.task.abort();
        }
    }

    fn input(&mut self, input: Io) {
        let now = self.now();
        let gen = self.client.generation();
        match input {
            Io::Poll { gen: g, result } if g == gen => match result {
                Ok(body) => {
                    let pings = body.split('\u{1e}').filter(|p| *p == "2").count();
                    self.stats.pings.fetch_add(pings, Ordering::Relaxed);
                    let _ = self.client.handle_poll_response(now, Str::from(body));
                }
                Err(_) => self.client.handle_poll_error(now),
            },
            Io::Post { gen: g, result } if g == gen => match result {
                Ok(()) => self.client.handle_post_done(now),
                Err(_) => self.client.handle_poll_error(now),
            },
            Io::WsOpen { id } if self.is_current_ws(id) => self.client.handle_ws_open(now),
            Io::WsFrame { id, frame } if self.is_current_ws(id) => {
                if matches!(&frame, Frame::Text(t) if t.as_str() == "2") {
                    self.stats.pings.fetch_add(1, Ordering::Relaxed);
                }
                let _ = self.client.handle_ws_frame(now, frame);
            }
            Io::WsClosed { id } if self.is_current_ws(id) => {
                self.ws = None;
                self.client.handle_ws_closed(now);
            }
            // An answer for an older engine session or WebSocket.
            _ => {}
        }
    }

    fn is_current_ws(&self, id: u64) -> bool {
        self.ws.as_ref().is_some_and(|w| w.id == id)
    }

    fn transmit(&mut self, t: Transmit) {
        let gen = self.client.generation();
        self.requests.retain(|r| !r.is_finished());
        match t {
            Transmit::PollGet { sid } => {
                self.stats.gets.fetch_add(1, Ordering::Relaxed);
                let server = self.server.clone();
                let tx = self.io_tx.clone();
                let uri = polling_uri(sid.as_ref());
                self.requests.push(tokio::spawn(async move {
                    let result = match server.request(Method::GET, &uri, None).await {
                        Ok((StatusCode::OK, body)) => {
                            String::from_utf8(body.to_vec()).map_err(|e| e.to_string())
                        }
                        Ok((status, body)) => Err(format!("{status}: {body:?}")),
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Io::Poll { gen, result });
                }));
            }
            Transmit::PollPost { sid, body } => {
                self.stats.posts.fetch_add(1, Ordering::Relaxed);
                let server = self.server.clone();
                let tx = self.io_tx.clone();
                let uri = polling_uri(Some(&sid));
                self.requests.push(tokio::spawn(async move {
                    let result = match server.request(Method::POST, &uri, Some(body)).await {
                        Ok((StatusCode::OK, _)) => Ok(()),
                        Ok((status, body)) => Err(format!("{status}: {body:?}")),
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Io::Post { gen, result });
                }));
            }
            Transmit::WsOpen { sid } => {
                if let Some(old) = self.ws.take() {
                    let _ = old.out.send(WsCmd::Close);
                }
                self.stats.websockets.fetch_add(1, Ordering::Relaxed);
                self.next_ws_id += 1;
                let id = self.next_ws_id;
                let (out, out_rx) = mpsc::unbounded_channel();
                let task = tokio::spawn(ws_task(
                    self.server.clone(),
                    ws_url(sid.as_ref()),
                    id,
                    self.io_tx.clone(),
                    out_rx,
                    self.ws_delay,
                ));
                self.ws = Some(Ws { id, out, task });
            }
            Transmit::Ws(frame) => {
                if let Some(ws) = &self.ws {
                    let _ = ws.out.send(WsCmd::Frame(frame));
                }
            }
            Transmit::CloseWs => {
                if let Some(ws) = self.ws.take() {
                    let _ = ws.out.send(WsCmd::Close);
                }
            }
            other => panic!("unexpected transmit {other:?}"),
        }
    }
}

/// One WebSocket: the handshake over a duplex stream, then frames both ways.
async fn ws_task(
    server: Server,
    url: String,
    id: u64,
    io: mpsc::UnboundedSender<Io>,
    mut out: mpsc::UnboundedReceiver<WsCmd>,
    delay: Duration,
) {
    tokio::time::sleep(delay).await;
    let ws = match tokio_tungstenite::client_async(url, server.connect()).await {
        Ok((ws, _)) => ws,
        Err(_) => {
            let _ = io.send(Io::WsClosed { id });
            return;
        }
    };
    let _ = io.send(Io::WsOpen { id });
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            cmd = out.recv() => match cmd {
                Some(WsCmd::Frame(frame)) => {
                    let msg = match frame {
                        Frame::Text(t) => WsMessage::text(t.as_str()),
                        Frame::Binary(b) => WsMessage::binary(b),
                    };
                    if sink.send(msg).await.is_err() {
                        break;
                    }
                }
                Some(WsCmd::Close) | None => {
                    let _ = sink.send(WsMessage::Close(None)).await;
                    let _ = sink.close().await;
                    break;
                }
            },
            msg = stream.next() => match msg {
                Some(Ok(WsMessage::Text(t))) => {
                    let frame = Frame::Text(Str::from(t.as_str().to_owned()));
                    let _ = io.send(Io::WsFrame { id, frame });
                }
                Some(Ok(WsMessage::Binary(b))) => {
                    let _ = io.send(Io::WsFrame { id, frame: Frame::Binary(b) });
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {}
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
            },
        }
    }
    let _ = io.send(Io::WsClosed { id });
}

/// A `Client` running in its own task against a [`Server`].
pub struct TestClient {
    cmds: mpsc::UnboundedSender<Cmd>,
    events: mpsc::UnboundedReceiver<Event>,
    /// Every event received so far, in order (including those `wait_for` skipped).
    pub seen: Vec<Event>,
    pub stats: Arc<Stats>,
    task: JoinHandle<()>,
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestClient {
    /// A client (jitter seed fixed) that does nothing until a namespace is connected.
    pub fn new(server: &Server, config: Config) -> TestClient {
        TestClient::with_ws_delay(server, config, Duration::ZERO)
    }

    /// A client whose WebSockets take `ws_delay` to open.
    pub fn with_ws_delay(server: &Server, config: Config, ws_delay: Duration) -> TestClient {
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let (io_tx, io_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        let stats = Arc::new(Stats::default());
        let driver = Driver {
            client: Client::new(config, 7),
            server: server.clone(),
            epoch: tokio::time::Instant::now(),
            io_tx,
            events: events_tx,
            requests: Vec::new(),
            ws: None,
            next_ws_id: 0,
            offline: false,
            frozen: false,
            stats: stats.clone(),
            ws_delay,
        };
        let task = tokio::spawn(driver.run(cmd_rx, io_rx));
        TestClient {
            cmds,
            events,
            seen: Vec::new(),
            stats,
            task,
        }
    }

    fn send(&self, cmd: Cmd) {
        self.cmds.send(cmd).expect("driver task alive");
    }

    /// Runs `f` on the client inside the driver (then the driver sends what it queued).
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client, CoreInstant) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::With(Box::new(move |c, now| {
            let _ = tx.send(f(c, now));
        })));
        rx.await.expect("driver task alive")
    }

    /// Opens namespace `nsp` with an optional raw JSON `auth` object.
    pub async fn connect(&self, nsp: &str, auth: Option<&str>) {
        let nsp = nsp.to_owned();
        let auth = auth.map(|a| Str::from(a.to_owned()));
        self.with(move |c, now| c.connect(now, &nsp, auth))
            .await
            .expect("auth is a JSON object");
    }

    /// Connects `nsp` and waits for its `Connect` event: `(sid, recovered)`.
    pub async fn connected(&mut self, nsp: &str, auth: Option<&str>) -> (String, bool) {
        self.connect(nsp, auth).await;
        let nsp2 = nsp.to_owned();
        match self
            .wait_for(
                "connect",
                move |e| matches!(e, Event::Connect { nsp, .. } if *nsp == *nsp2),
            )
            .await
        {
            Event::Connect { sid, recovered, .. } => (sid.to_string(), recovered),
            _ => unreachable!(),
        }
    }

    /// Emits `data` (a raw JSON array `["name", ...args]`).
    pub async fn emit(&self, nsp: &str, data: &str, attachments: Vec<Bytes>) {
        let (nsp, data) = (nsp.to_owned(), Str::from(data.to_owned()));
        self.with(move |c, _| c.emit(&nsp, data, attachments))
            .await
            .expect("emit");
    }

    /// Emits with an ack request; returns the ack id.
    pub async fn emit_with_ack(
        &self,
        nsp: &str,
        data: &str,
        attachments: Vec<Bytes>,
        timeout: Option<Duration>,
    ) -> u64 {
        let (nsp, data) = (nsp.to_owned(), Str::from(data.to_owned()));
        self.with(move |c, now| c.emit_with_ack(now, &nsp, data, attachments, timeout))
            .await
            .expect("emit_with_ack")
    }

    /// Answers the server's event `id`.
    pub async fn ack(&self, nsp: &str, id: u64, data: &str, attachments: Vec<Bytes>) {
        let (nsp, data) = (nsp.to_owned(), Str::from(data.to_owned()));
        self.with(move |c, _| c.ack(&nsp, id, data, attachments))
            .await
            .expect("ack");
    }

    /// The engine's current transport, if an engine session exists.
    pub async fn transport(&self) -> Option<Transport> {
        self.with(|c, _| c.engine().map(|s| s.transport())).await
    }

    /// Whether `nsp` is connected.
    pub async fn is_connected(&self, nsp: &str) -> bool {
        let nsp = nsp.to_owned();
        self.with(move |c, _| c.is_connected(&nsp)).await
    }

    /// Kills the connections without a goodbye; the client hears its transport failed.
    pub fn drop_transport(&self) {
        self.send(Cmd::DropTransport);
    }

    /// While offline the client's timers do not run (so it does not reconnect).
    pub fn set_offline(&self, offline: bool) {
        self.send(Cmd::Offline(offline));
    }

    /// The client goes silent: it stops reading, sending and running timers, but keeps its
    /// connections open.
    pub fn freeze(&self) {
        self.send(Cmd::Freeze);
    }

    /// The next event, or `None` after `within`.
    pub async fn try_next_event(&mut self, within: Duration) -> Option<Event> {
        let e = tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()?;
        self.seen.push(e.clone());
        Some(e)
    }

    /// The next event; panics after [`EVENT_TIMEOUT`].
    pub async fn next_event(&mut self) -> Event {
        match self.try_next_event(EVENT_TIMEOUT).await {
            Some(e) => e,
            None => panic!("no event within {EVENT_TIMEOUT:?}; seen: {:#?}", self.seen),
        }
    }

    /// Skips events until one matches `pred`; panics after [`EVENT_TIMEOUT`].
    pub async fn wait_for(&mut self, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next_event(left).await {
                Some(e) if pred(&e) => return e,
                Some(_) => {}
                None => panic!("no {what} within {EVENT_TIMEOUT:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Waits for the `Upgrade` event, unless it was already seen.
    pub async fn upgraded(&mut self) {
        if !self.seen.contains(&Event::Upgrade) {
            self.wait_for("upgrade", |e| *e == Event::Upgrade).await;
        }
    }

    /// Waits for an event named `name` on `nsp`: `(args, attachments, ack id)`, the args a
    /// JSON array without the name.
    pub async fn wait_event(
        &mut self,
        nsp: &str,
        name: &str,
    ) -> (serde_json::Value, Vec<Bytes>, Option<u64>) {
        let e = self
            .wait_for(name, |e| match e {
                Event::Event { nsp: n, data, .. } if *n == *nsp => event_name(data) == name,
                _ => false,
            })
            .await;
        match e {
            Event::Event {
                data,
                attachments,
                id,
                ..
            } => {
                let mut v: Vec<serde_json::Value> =
                    serde_json::from_str(&data).expect("event data is a JSON array");
                v.remove(0);
                (serde_json::Value::Array(v), attachments, id)
            }
            _ => unreachable!(),
        }
    }

    /// Waits for the ack of `id`: `(args, attachments)`.
    pub async fn wait_ack(&mut self, id: u64) -> (serde_json::Value, Vec<Bytes>) {
        let e = self
            .wait_for("ack", |e| matches!(e, Event::Ack { id: i, .. } if *i == id))
            .await;
        match e {
            Event::Ack {
                data, attachments, ..
            } => (
                serde_json::from_str(&data).expect("ack data is a JSON array"),
                attachments,
            ),
            _ => unreachable!(),
        }
    }
}

fn event_name(data: &str) -> String {
    serde_json::from_str::<Vec<serde_json::Value>>(data)
        .ok()
        .and_then(|v| v.first().and_then(|n| n.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

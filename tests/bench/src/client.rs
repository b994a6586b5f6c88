//! A minimal Socket.IO v5 client for load generation, on namespace `/`, over WebSocket or
//! HTTP long-polling, built on the core's codecs (`sockeye_core::engine::{packet, payload}`,
//! `sockeye_core::socket::{packet, parser}`).
//!
//! One tokio task per connection (two for polling: the GET loop and the POST loop). Events
//! go to a callback; acks complete the future returned by [`Client::emit`].
//!
//! A polling client holds one TCP connection while idle, its long-poll GET: its POSTs go on
//! a connection opened when there is something to send and closed once nothing more is
//! queued (as after a server's keep-alive timeout: Node's is 5 s). With two connections
//! each, 10,000 idle polling clients would need 20,000 descriptors on each side, all of the
//! hard `RLIMIT_NOFILE` here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use sockeye_core::engine::packet::{Message, Packet as EPacket};
use sockeye_core::engine::payload;
use sockeye_core::socket::packet::{Packet, PacketType};
use sockeye_core::socket::parser::{self, Decoder};
use sockeye_core::Str;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Bound of every single network step (connect, handshake, one request).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest polling body accepted.
const MAX_PAYLOAD: usize = 10_000_000;

/// How a client reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket from the start (`transport=websocket`).
    WebSocket,
    /// HTTP long-polling only.
    Polling,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
        }
    }
}

/// Called with every event packet (`EVENT` / `BINARY_EVENT`) the server sends.
pub type EventHandler = Arc<dyn Fn(&Packet) + Send + Sync>;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Packet>>>>;

enum Cmd {
    Send(Packet),
    Pong,
    Close,
}

/// A connected Socket.IO client (namespace `/`).
pub struct Client {
    tx: mpsc::UnboundedSender<Cmd>,
    pending: Pending,
    next_id: std::sync::atomic::AtomicU64,
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn err(msg: impl Into<String>) -> BoxError {
    msg.into().into()
}

async fn step<T, E: Into<BoxError>>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, BoxError> {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(err(format!("{what}: timed out"))),
    }
}

impl Client {
    /// Connects (Engine.IO handshake, then Socket.IO CONNECT to `/`) and returns once the
    /// server's CONNECT answer arrived.
    pub async fn connect(
        port: u16,
        transport: Transport,
        on_event: EventHandler,
    ) -> Result<Client, BoxError> {
        match transport {
            Transport::WebSocket => connect_ws(port, on_event).await,
            Transport::Polling => connect_polling(port, on_event).await,
        }
    }

    /// Emits `["name", ...args]` (`args_json` is the JSON of the arguments, without the
    /// brackets) with `attachments`, and waits for the ack.
    pub async fn emit(&self, args_json: &str, attachments: Vec<Bytes>) -> Result<Packet, BoxError> {
        let rx = self.emit_nowait(args_json, attachments)?;
        step("ack", rx).await
    }

    /// Like [`Client::emit`], but returns the ack's receiver at once.
    pub fn emit_nowait(
        &self,
        args_json: &str,
        attachments: Vec<Bytes>,
    ) -> Result<oneshot::Receiver<Packet>, BoxError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let data = Str::from(format!("[{args_json}]"));
        let packet = Packet::event("/", data, Some(id), attachments);
        self.tx
            .send(Cmd::Send(packet))
            .map_err(|_| err("connection closed"))?;
        Ok(rx)
    }

    /// Closes the connection (Engine.IO close); returns at once.
    pub fn close(&self) {
        let _ = self.tx.send(Cmd::Close);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

/// Dispatches one decoded Socket.IO packet; returns the CONNECT answer's sid, if this is it.
fn dispatch(p: Packet, pending: &Pending, on_event: &EventHandler) {
    match p.ty {
        PacketType::Ack | PacketType::BinaryAck => {
            if let Some(id) = p.id {
                if let Some(tx) = pending.lock().unwrap().remove(&id) {
                    let _ = tx.send(p);
                }
            }
        }
        PacketType::Event | PacketType::BinaryEvent => on_event(&p),
        _ => {}
    }
}

fn engine_messages(p: &Packet) -> Vec<EPacket> {
    parser::encode(p)
        .into_iter()
        .map(EPacket::Message)
        .collect()
}

// ------------------------------------------------------------------------- WebSocket

async fn connect_ws(port: u16, on_event: EventHandler) -> Result<Client, BoxError> {
    let tcp = step("tcp connect", TcpStream::connect(("127.0.0.1", port))).await?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = step(
        "websocket handshake",
        tokio_tungstenite::client_async(url, tcp),
    )
    .await?;
    let mut decoder = Decoder::new(16);
    // The open packet, then our CONNECT, then the server's CONNECT.
    let mut opened = false;
    let mut early = Vec::new();
    loop {
        let msg = step("socket.io connect", async {
            let next = ws
                .next()
                .await
                .ok_or_else(|| err("closed during connect"))?;
            next.map_err(BoxError::from)
        })
        .await?;
        let packet = match msg {
            WsMessage::Text(t) => EPacket::decode_text(Str::from_utf8(Bytes::from(t))?)?,
            WsMessage::Binary(b) => EPacket::decode_binary(b),
            _ => continue,
        };
        match packet {
            EPacket::Open(_) if !opened => {
                opened = true;
                ws.send(WsMessage::Text("40".into())).await?;
            }
            EPacket::Ping(d) => ws.send(WsMessage::Text(format!("3{}", &*d).into())).await?,
            EPacket::Message(m) => {
                if let Some(p) = decoder.decode(m)? {
                    match p.ty {
                        PacketType::Connect => break,
                        PacketType::ConnectError => return Err(err("connect_error")),
                        _ => early.push(p),
                    }
                }
            }
            EPacket::Close => return Err(err("closed during connect")),
            _ => {}
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let pending: Pending = Arc::default();
    for p in early {
        dispatch(p, &pending, &on_event);
    }
    let task_pending = pending.clone();
    tokio::spawn(async move {
        let pending = task_pending;
        loop {
            tokio::select! {
                msg = ws.next() => {
                    let Some(Ok(msg)) = msg else { break };
                    let packet = match msg {
                        WsMessage::Text(t) => match Str::from_utf8(Bytes::from(t)).ok().and_then(|s| EPacket::decode_text(s).ok()) {
                            Some(p) => p,
                            None => break,
                        },
                        WsMessage::Binary(b) => EPacket::decode_binary(b),
                        _ => continue,
                    };
                    match packet {
                        EPacket::Ping(d) if ws.send(WsMessage::Text(format!("3{}", &*d).into())).await.is_err() => break,
                        EPacket::Message(m) => match decoder.decode(m) {
                            Ok(Some(p)) => dispatch(p, &pending, &on_event),
                            Ok(None) => {}
                            Err(_) => break,
                        },
                        EPacket::Close => break,
                        _ => {}
                    }
                }
                cmd = rx.recv() => {
                    let packet = match cmd {
                        Some(Cmd::Send(p)) => p,
                        Some(Cmd::Pong) => continue,
                        Some(Cmd::Close) | None => {
                            let _ = ws.send(WsMessage::Text("1".into())).await;
                            let _ = ws.close(None).await;
                            break;
                        }
                    };
                    let mut failed = false;
                    for m in engine_messages(&packet) {
                        let frame = match m {
                            EPacket::Message(Message::Binary(b)) => WsMessage::Binary(b),
                            other => {
                                let mut s = String::new();
                                other.encode_text_into(&mut s);
                                WsMessage::Text(s.into())
                            }
                        };
                        if ws.feed(frame).await.is_err() {
                            failed = true;
                            break;
                        }
                    }
                    if failed || ws.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
        // Fail every waiting ack at once (their senders drop).
        pending.lock().unwrap().clear();
    });
    Ok(Client {
        tx,
        pending,
        next_id: Default::default(),
    })
}

// ------------------------------------------------------------------------- polling

struct Http {
    sender: SendRequest<Full<Bytes>>,
    port: u16,
}

impl Http {
    async fn open(port: u16) -> Result<Http, BoxError> {
        let tcp = step("tcp connect", TcpStream::connect(("127.0.0.1", port))).await?;
        tcp.set_nodelay(true)?;
        let (sender, conn) = step(
            "http handshake",
            hyper::client::conn::http1::handshake(TokioIo::new(tcp)),
        )
        .await?;
        tokio::spawn(conn);
        Ok(Http { sender, port })
    }

    /// One request; `body` `None` is a GET. Returns the response body. A GET can wait for
    /// a whole ping interval (the long poll), so only POSTs are bounded by [`STEP_TIMEOUT`];
    /// a GET is bounded by `get_timeout`.
    async fn request(
        &mut self,
        query: &str,
        body: Option<String>,
        get_timeout: Duration,
    ) -> Result<Bytes, BoxError> {
        let uri = format!("/socket.io/?EIO=4&transport=polling{query}");
        let builder = hyper::Request::builder()
            .uri(uri)
            .header(hyper::header::HOST, format!("127.0.0.1:{}", self.port));
        let req = match body {
            None => builder.method("GET").body(Full::new(Bytes::new()))?,
            Some(b) => builder
                .method("POST")
                .header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8")
                .body(Full::new(Bytes::from(b)))?,
        };
        let is_get = req.method() == hyper::Method::GET;
        let fut = async {
            self.sender.ready().await?;
            let resp = self.sender.send_request(req).await?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                return Err(err(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            Ok::<_, BoxError>(bytes)
        };
        let limit = if is_get { get_timeout } else { STEP_TIMEOUT };
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(err("polling request timed out")),
        }
    }
}

/// POSTs `body` on `conn`, opening it first if it is closed.
async fn post_on(
    conn: &mut Option<Http>,
    port: u16,
    sid_q: &str,
    body: String,
) -> Result<Bytes, BoxError> {
    if conn.is_none() {
        *conn = Some(Http::open(port).await?);
    }
    let http = conn.as_mut().ok_or("no connection")?;
    http.request(sid_q, Some(body), STEP_TIMEOUT).await
}

async fn connect_polling(port: u16, on_event: EventHandler) -> Result<Client, BoxError> {
    let mut get = Http::open(port).await?;
    let body = get.request("", None, STEP_TIMEOUT).await?;
    let packets = payload::decode(Str::from_utf8(body)?, MAX_PAYLOAD)?;
    let Some(EPacket::Open(h)) = packets.into_iter().next() else {
        return Err(err("no open packet"));
    };
    let sid_q = format!("&sid={}", h.sid);
    // Long polls wait up to a ping interval; give them that plus the ping timeout.
    let get_timeout = h.ping_interval + h.ping_timeout + Duration::from_secs(5);
    let mut post = None;
    let ok = post_on(&mut post, port, &sid_q, "40".into()).await?;
    if &ok[..] != b"ok" {
        return Err(err("POST not answered ok"));
    }
    let mut decoder = Decoder::new(16);
    let mut early = Vec::new();
    let mut connected = false;
    let mut deadline = 0;
    while !connected {
        deadline += 1;
        if deadline > 10 {
            return Err(err("no CONNECT answer within 10 polls"));
        }
        let body = get.request(&sid_q, None, STEP_TIMEOUT).await?;
        for p in payload::decode(Str::from_utf8(body)?, MAX_PAYLOAD)? {
            match p {
                EPacket::Message(m) => {
                    if let Some(p) = decoder.decode(m)? {
                        match p.ty {
                            PacketType::Connect => connected = true,
                            PacketType::ConnectError => return Err(err("connect_error")),
                            _ => early.push(p),
                        }
                    }
                }
                EPacket::Ping(_) => {
                    post_on(&mut post, port, &sid_q, "3".into()).await?;
                }
                EPacket::Close => return Err(err("closed during connect")),
                _ => {}
            }
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
    let pending: Pending = Arc::default();
    for p in early {
        dispatch(p, &pending, &on_event);
    }
    // The GET loop: decodes and dispatches; pings are answered through the POST loop.
    let (reader_pending, pong_tx) = (pending.clone(), tx.clone());
    let get_q = sid_q.clone();
    let reader = tokio::spawn(async move {
        loop {
            let Ok(body) = get.request(&get_q, None, get_timeout).await else {
                break;
            };
            let Ok(s) = Str::from_utf8(body) else { break };
            let Ok(packets) = payload::decode(s, MAX_PAYLOAD) else {
                break;
            };
            for p in packets {
                match p {
                    EPacket::Message(m) => match decoder.decode(m) {
                        Ok(Some(p)) => dispatch(p, &reader_pending, &on_event),
                        Ok(None) => {}
                        Err(_) => return,
                    },
                    EPacket::Ping(_) => {
                        let _ = pong_tx.send(Cmd::Pong);
                    }
                    EPacket::Close => return,
                    _ => {}
                }
            }
        }
        reader_pending.lock().unwrap().clear();
    });
    // The POST loop: batches what is queued into one payload.
    drop(post);
    tokio::spawn(async move {
        let mut post = None;
        let mut batch: Vec<EPacket> = Vec::new();
        let mut closing = false;
        while let Some(cmd) = rx.recv().await {
            let mut next = Some(cmd);
            while let Some(cmd) = next {
                match cmd {
                    Cmd::Send(p) => batch.extend(engine_messages(&p)),
                    Cmd::Pong => batch.push(EPacket::Pong(Str::default())),
                    Cmd::Close => {
                        batch.push(EPacket::Close);
                        closing = true;
                    }
                }
                next = rx.try_recv().ok();
            }
            let body = payload::encode(&batch);
            batch.clear();
            if post_on(&mut post, port, &sid_q, body).await.is_err() || closing {
                break;
            }
            if rx.is_empty() {
                post = None;
            }
        }
        reader.abort();
    });
    Ok(Client {
        tx,
        pending,
        next_id: Default::default(),
    })
}

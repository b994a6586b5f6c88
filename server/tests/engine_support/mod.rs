//! Harness of `engine_server.rs`: a bare Engine.IO server on a free 127.0.0.1 port, a
//! recording echo handler, a raw HTTP/1.1 client (hyper, one connection per request) and raw
//! WebSockets (tokio-tungstenite).

#![allow(dead_code)]

use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use sockeye::engine::{
    CloseReason, EngineHandler, EngineIo, EngineIoBuilder, EngineSocket, Message,
};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(3);

/// What the handler saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Open(String),
    Message(String, Message),
    Close(String, CloseReason),
}

/// Echoes every message back, except the text `close-me`, which closes the session; records
/// every call.
pub struct Recorder {
    tx: mpsc::UnboundedSender<Ev>,
}

impl EngineHandler for Recorder {
    fn on_open(&self, socket: &EngineSocket) {
        let _ = self.tx.send(Ev::Open(socket.sid().to_string()));
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let _ = self
            .tx
            .send(Ev::Message(socket.sid().to_string(), message.clone()));
        if matches!(&message, Message::Text(t) if t.as_str() == "close-me") {
            socket.close().expect("close");
        } else {
            socket.send(message).expect("echo");
        }
    }

    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        let _ = self.tx.send(Ev::Close(socket.sid().to_string(), reason));
    }
}

/// A running server.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub io: EngineIo<Recorder>,
    events: mpsc::UnboundedReceiver<Ev>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    /// Asserts a `200` polling answer and returns its body.
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, 200, "{self:?}");
        self.text()
    }
}

/// Asserts one of the reference server's JSON errors, byte for byte.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: u8, message: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.content_type, "application/json", "{r:?}");
    assert_eq!(
        r.text(),
        format!("{{\"code\":{code},\"message\":\"{message}\"}}")
    );
}

pub type Ws = WebSocketStream<TcpStream>;

impl Server {
    /// Starts a server built from `builder` on a free port.
    pub async fn start(builder: EngineIoBuilder) -> Server {
        let (tx, events) = mpsc::unbounded_channel();
        let (layer, io) = builder.build_layer(Recorder { tx });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, Router::new().layer(layer))
                .await
                .unwrap();
        });
        Server { addr, io, events }
    }

    /// The defaults (long heartbeat: no ping shows up during a test).
    pub async fn default() -> Server {
        Server::start(EngineIo::builder()).await
    }

    /// One HTTP/1.1 request on its own connection, to `/engine.io/?{query}`.
    pub async fn http(&self, method: Method, query: &str, body: impl Into<Bytes>) -> Resp {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(format!("/engine.io/?{query}"))
            .header("host", self.addr.to_string())
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(body.into()))
            .unwrap();
        let resp = tokio::time::timeout(WAIT, send.send_request(req))
            .await
            .expect("no answer in time")
            .unwrap();
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            content_type,
            body,
        }
    }

    /// A polling `GET` of session `sid`.
    pub async fn get(&self, sid: &str) -> Resp {
        self.http(
            Method::GET,
            &format!("EIO=4&transport=polling&sid={sid}"),
            Bytes::new(),
        )
        .await
    }

    /// A polling `POST` of `body` to session `sid`.
    pub async fn post(&self, sid: &str, body: impl Into<Bytes>) -> Resp {
        self.http(
            Method::POST,
            &format!("EIO=4&transport=polling&sid={sid}"),
            body,
        )
        .await
    }

    /// A polling `GET` sent now and answered later; waits until the server holds it.
    pub async fn pending_get(&self, sid: &str) -> tokio::task::JoinHandle<Resp> {
        let server = self.handle();
        let sid = sid.to_owned();
        let task = tokio::spawn(async move { server.get(&sid).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!task.is_finished(), "the GET was answered at once");
        task
    }

    /// A second view of the server for spawned requests (no events).
    fn handle(&self) -> Server {
        Server {
            addr: self.addr,
            io: self.io.clone(),
            events: mpsc::unbounded_channel().1,
        }
    }

    /// A polling handshake: `(sid, handshake JSON)`.
    pub async fn open_polling(&self) -> (String, serde_json::Value) {
        let r = self
            .http(Method::GET, "EIO=4&transport=polling", Bytes::new())
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.content_type, "text/plain; charset=UTF-8");
        let body = r.text();
        assert!(body.starts_with("0{"), "{body}");
        let hs: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
        let sid = hs["sid"].as_str().unwrap().to_owned();
        (sid, hs)
    }

    /// A WebSocket to `/engine.io/?{query}`; `Err((status, body))` if refused.
    pub async fn ws(&self, query: &str) -> Result<Ws, (u16, String)> {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let url = format!("ws://{}/engine.io/?{query}", self.addr);
        match tokio_tungstenite::client_async(url, stream).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((resp.status().as_u16(), body))
            }
            Err(e) => panic!("websocket: {e}"),
        }
    }

    /// A WebSocket-only session: `(ws, sid, handshake JSON)`.
    pub async fn open_ws(&self) -> (Ws, String, serde_json::Value) {
        let mut ws = self.ws("EIO=4&transport=websocket").await.unwrap();
        let open = next_text(&mut ws).await;
        assert!(open.starts_with("0{"), "{open}");
        let hs: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
        let sid = hs["sid"].as_str().unwrap().to_owned();
        (ws, sid, hs)
    }

    /// The handler's next call.
    pub async fn event(&mut self) -> Ev {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("no handler call in time")
            .expect("server gone")
    }

    /// Asserts the handler has not been called since the last [`Server::event`].
    pub fn no_event(&mut self) {
        if let Ok(ev) = self.events.try_recv() {
            panic!("unexpected handler call: {ev:?}");
        }
    }

    /// Waits for `session_count()` to reach `n`.
    pub async fn wait_sessions(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.io.session_count() != n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "session_count() stays at {} (want {n})",
                self.io.session_count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The next data frame (WebSocket pings and pongs skipped); `None` once the socket closed.
pub async fn next_frame(ws: &mut Ws) -> Option<WsMessage> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no WebSocket frame in time");
        match msg {
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(m)) => return Some(m),
        }
    }
}

/// The next frame, which must be text.
pub async fn next_text(ws: &mut Ws) -> String {
    match next_frame(ws).await {
        Some(WsMessage::Text(t)) => t.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Asserts the server closes the socket next (no more data frames).
pub async fn assert_ws_closed(ws: &mut Ws) {
    if let Some(m) = next_frame(ws).await {
        panic!("expected the socket to close, got {m:?}");
    }
}

/// Sends a text frame.
pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(WsMessage::text(text)).await.unwrap();
}

/// Sends a binary frame.
pub async fn send_binary(ws: &mut Ws, data: &[u8]) {
    ws.send(WsMessage::binary(data.to_vec())).await.unwrap();
}

/// A text message.
pub fn text(s: &str) -> Message {
    Message::Text(s.into())
}

/// A binary message.
pub fn binary(b: &[u8]) -> Message {
    Message::Binary(Bytes::copy_from_slice(b))
}

//! Hostile clients against the bare Engine.IO layer, in process on 127.0.0.1: each attack is
//! contained (refused, or its session closed and freed: `session_count()` back to baseline)
//! while an honest WebSocket client, connected alongside, keeps its echo round trip under
//! [`HONEST_RTT`].
//!
//! Attackers connect from 127.0.0.2 (the honest client from 127.0.0.1), so that the
//! per-address limits tell them apart.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axum::Router;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use sockeye::engine::{EngineHandler, EngineIo, EngineIoBuilder, EngineSocket, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// How long the honest client's echo may take during an attack (generous: a loaded 2-core
/// machine; unloaded it is well under 10 ms).
const HONEST_RTT: Duration = Duration::from_secs(2);
/// How long a test waits for anything before failing.
const WAIT: Duration = Duration::from_secs(5);

const HONEST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Echoes every message, except `flood:N:K`, answered with N text messages of K bytes.
struct Flood;

impl EngineHandler for Flood {
    fn on_message(&self, socket: &EngineSocket, message: Message) {
        if let Message::Text(t) = &message {
            if let Some(rest) = t.as_str().strip_prefix("flood:") {
                let (n, k) = rest.split_once(':').unwrap();
                let chunk = "x".repeat(k.parse().unwrap());
                for _ in 0..n.parse::<usize>().unwrap() {
                    if socket.send(Message::Text(chunk.as_str().into())).is_err() {
                        return;
                    }
                }
                return;
            }
        }
        let _ = socket.send(message);
    }
}

struct Server {
    addr: SocketAddr,
    io: EngineIo<Flood>,
}

impl Server {
    async fn start(builder: EngineIoBuilder) -> Server {
        let (layer, io) = builder.build_layer(Flood);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().layer(layer);
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Server { addr, io }
    }

    async fn wait_sessions(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.io.session_count() != n {
            assert!(
                Instant::now() < deadline,
                "session_count() stays at {} (want {n})",
                self.io.session_count()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A TCP connection from `ip`.
    async fn connect(&self, ip: IpAddr) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(ip, 0)).unwrap();
        socket.connect(self.addr).await.unwrap()
    }

    /// One HTTP/1.1 request from `ip` on its own connection: `(status, body)`.
    async fn http(
        &self,
        ip: IpAddr,
        method: Method,
        query: &str,
        headers: &[(&str, String)],
        body: impl Into<Bytes>,
    ) -> (u16, String) {
        let stream = self.connect(ip).await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/engine.io/?{query}"))
            .header("host", self.addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req.body(Full::new(body.into())).unwrap();
        let resp = tokio::time::timeout(WAIT, send.send_request(req))
            .await
            .expect("no answer in time")
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// A polling handshake from `ip`: `Ok(sid)` or `Err((status, body))`.
    async fn open_polling(&self, ip: IpAddr) -> Result<String, (u16, String)> {
        let (status, body) = self
            .http(
                ip,
                Method::GET,
                "EIO=4&transport=polling",
                &[],
                Bytes::new(),
            )
            .await;
        if status != 200 {
            return Err((status, body));
        }
        let hs: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
        Ok(hs["sid"].as_str().unwrap().to_owned())
    }

    async fn post(&self, ip: IpAddr, sid: &str, body: &str) -> (u16, String) {
        let query = format!("EIO=4&transport=polling&sid={sid}");
        self.http(ip, Method::POST, &query, &[], body.to_owned())
            .await
    }

    /// A WebSocket-only session from `ip`, its `open` packet read.
    async fn open_ws(&self, ip: IpAddr) -> WebSocketStream<TcpStream> {
        let stream = self.connect(ip).await;
        let url = format!("ws://{}/engine.io/?EIO=4&transport=websocket", self.addr);
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        let open = next_text(&mut ws).await;
        assert!(open.starts_with("0{"), "{open}");
        ws
    }
}

async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> String {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no WebSocket frame in time");
        match msg {
            Some(Ok(WsMessage::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The honest client's echo round trip; asserts it is under [`HONEST_RTT`].
async fn honest_echo(ws: &mut WebSocketStream<TcpStream>, what: &str) -> Duration {
    let start = Instant::now();
    ws.send(WsMessage::text("4hello")).await.unwrap();
    assert_eq!(next_text(ws).await, "4hello");
    let rtt = start.elapsed();
    eprintln!("{what}: honest echo round trip {rtt:?}");
    assert!(rtt < HONEST_RTT, "{what}: honest echo took {rtt:?}");
    rtt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_flood_is_capped_per_address_and_globally() {
    let s = Server::start(
        EngineIo::builder()
            .max_sessions(8)
            .max_sessions_per_address(5),
    )
    .await;
    let mut honest = s.open_ws(HONEST).await;

    // Per address: 5 sessions, then 429.
    let mut sids = Vec::new();
    for _ in 0..5 {
        sids.push(s.open_polling(ATTACKER).await.unwrap());
    }
    let refused = s.open_polling(ATTACKER).await.unwrap_err();
    assert_eq!(
        refused,
        (429, r#"{"code":4,"message":"Forbidden"}"#.to_owned())
    );
    // WebSocket handshakes count too.
    let stream = s.connect(ATTACKER).await;
    let url = format!("ws://{}/engine.io/?EIO=4&transport=websocket", s.addr);
    match tokio_tungstenite::client_async(url, stream).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        other => panic!("WebSocket handshake over the cap: {other:?}"),
    }
    honest_echo(&mut honest, "per-address flood").await;

    // Globally: 1 + 5 + 2 = 8 sessions, then 503 for everyone.
    let third = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
    sids.push(s.open_polling(third).await.unwrap());
    sids.push(s.open_polling(third).await.unwrap());
    let refused = s.open_polling(third).await.unwrap_err();
    assert_eq!(
        refused,
        (503, r#"{"code":4,"message":"Forbidden"}"#.to_owned())
    );
    honest_echo(&mut honest, "global flood").await;
    assert_eq!(s.io.session_count(), 8);

    // The attackers leave: their places are free again.
    for (i, sid) in sids.iter().enumerate() {
        let ip = if i < 5 { ATTACKER } else { third };
        assert_eq!(s.post(ip, sid, "1").await.0, 200);
    }
    s.wait_sessions(1).await;
    let sid = s.open_polling(ATTACKER).await.unwrap();
    assert_eq!(s.post(ATTACKER, &sid, "1").await.0, 200);
    s.wait_sessions(1).await;
    honest_echo(&mut honest, "after the flood").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_rate_is_limited_per_address() {
    let s = Server::start(EngineIo::builder().handshake_rate(4, Duration::from_secs(60))).await;
    let mut honest = s.open_ws(HONEST).await;
    for _ in 0..4 {
        let sid = s.open_polling(ATTACKER).await.unwrap();
        assert_eq!(s.post(ATTACKER, &sid, "1").await.0, 200);
    }
    for _ in 0..3 {
        let refused = s.open_polling(ATTACKER).await.unwrap_err();
        assert_eq!(
            refused,
            (429, r#"{"code":4,"message":"Forbidden"}"#.to_owned())
        );
    }
    honest_echo(&mut honest, "handshake rate").await;
    s.wait_sessions(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_handshake_headers_are_refused() {
    let s = Server::start(EngineIo::builder()).await;
    let mut honest = s.open_ws(HONEST).await;
    let big = "a".repeat(64 * 1024);
    let (status, body) = s
        .http(
            ATTACKER,
            Method::GET,
            "EIO=4&transport=polling",
            &[("x-junk", big)],
            Bytes::new(),
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (431, r#"{"code":3,"message":"Bad request"}"#)
    );
    assert_eq!(s.io.session_count(), 1);
    honest_echo(&mut honest, "huge headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_client_that_never_reads_is_cut_at_the_byte_budget() {
    let s = Server::start(EngineIo::builder().max_buffered_bytes(1 << 20)).await;
    let mut honest = s.open_ws(HONEST).await;
    let mut attacker = s.open_ws(ATTACKER).await;
    // 64 MB for a client that never reads.
    attacker
        .send(WsMessage::text("4flood:1000:65536"))
        .await
        .unwrap();
    s.wait_sessions(1).await;
    honest_echo(&mut honest, "WebSocket never reads").await;
    // The connection is closed too, though the writer was stuck on it: what the socket
    // buffers drains, then it ends.
    let drained = tokio::time::timeout(WAIT, async {
        while let Some(Ok(_)) = attacker.next().await {}
    })
    .await;
    assert!(drained.is_ok(), "the attacker's connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_client_that_never_polls_is_cut_at_the_byte_budget() {
    let s = Server::start(EngineIo::builder().max_buffered_bytes(1 << 20)).await;
    let mut honest = s.open_ws(HONEST).await;
    let sid = s.open_polling(ATTACKER).await.unwrap();
    assert_eq!(s.post(ATTACKER, &sid, "4flood:1000:65536").await.0, 200);
    s.wait_sessions(1).await;
    honest_echo(&mut honest, "polling never reads").await;
    // The session is gone for the client too.
    let (status, _) = s
        .http(
            ATTACKER,
            Method::GET,
            &format!("EIO=4&transport=polling&sid={sid}"),
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_giant_websocket_frame_is_refused_at_its_header() {
    let s = Server::start(EngineIo::builder().max_payload(100_000)).await;
    let mut honest = s.open_ws(HONEST).await;
    let mut tcp = s.connect(ATTACKER).await;
    let req = format!(
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        s.addr
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    s.wait_sessions(2).await;

    // A masked binary frame announcing 10 MiB, trickled a byte every 20 ms.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(10u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    tcp.write_all(&header).await.unwrap();
    let start = Instant::now();
    let closed = async {
        let trickle = async {
            loop {
                if tcp.write_all(&[0]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(WAIT, trickle).await.is_ok()
    };
    let (closed, ()) = tokio::join!(closed, s.wait_sessions(1));
    assert!(closed, "the connection stayed open");
    eprintln!("giant frame: connection closed after {:?}", start.elapsed());
    honest_echo(&mut honest, "giant frame").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_polling_post_hits_its_deadline() {
    let s = Server::start(EngineIo::builder().http_body_timeout(Duration::from_millis(500))).await;
    let mut honest = s.open_ws(HONEST).await;
    let sid = s.open_polling(ATTACKER).await.unwrap();
    let mut tcp = s.connect(ATTACKER).await;
    let req = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n4hel",
        s.addr
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("}") {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("no answer to the slow POST")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"code":3,"message":"Bad request"}"#),
        "{answer}"
    );
    eprintln!("slow POST: answered after {:?}", start.elapsed());
    s.wait_sessions(1).await;
    honest_echo(&mut honest, "slow POST").await;
}

//! `sockeye-demo` against hostile clients: slowloris headers and idle keep-alive connections
//! are cut, SIGTERM with polling, WebSocket, slowloris and reconnecting clients exits within
//! the bound, and foreign origins get neither credentialed CORS headers nor WebSockets. An
//! honest Socket.IO client (raw WebSocket, `echo` with an ack) keeps its round trip under
//! [`HONEST_RTT`] during each attack.

mod demo_process;

use demo_process::Demo;

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

const HONEST_RTT: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(5);

type Ws = WebSocketStream<TcpStream>;

async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
        {
            Some(Ok(WsMessage::Text(t))) => return Some(t.as_str().to_owned()),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            _ => return None,
        }
    }
}

/// A WebSocket to the demo's Socket.IO endpoint, with `origin` if given.
async fn ws(addr: &str, origin: Option<&str>) -> Result<Ws, u16> {
    let mut req = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    let stream = TcpStream::connect(addr).await.unwrap();
    match tokio_tungstenite::client_async(req, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("websocket: {e}"),
    }
}

/// An honest Socket.IO client on WebSocket, connected to `/`.
async fn honest(addr: &str) -> Ws {
    let mut ws = ws(addr, None).await.unwrap();
    assert!(next_text(&mut ws).await.unwrap().starts_with("0{"));
    ws.send(WsMessage::text("40")).await.unwrap();
    assert!(next_text(&mut ws).await.unwrap().starts_with("40{"));
    ws
}

/// The honest client's `echo` round trip; asserts it is under [`HONEST_RTT`].
async fn honest_echo(ws: &mut Ws, what: &str) {
    let start = Instant::now();
    ws.send(WsMessage::text(r#"421["echo","hi"]"#))
        .await
        .unwrap();
    assert_eq!(next_text(ws).await.unwrap(), r#"431["hi"]"#);
    let rtt = start.elapsed();
    eprintln!("{what}: honest echo round trip {rtt:?}");
    assert!(rtt < HONEST_RTT, "{what}: honest echo took {rtt:?}");
}

/// Whether the server closes `tcp` within `within` (reads to EOF or error).
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_and_idle_keep_alive_connections_are_cut() {
    let demo = Demo::start(&["--header-read-timeout", "1"]);
    let mut honest = honest(&demo.addr).await;

    // Headers, a byte every 100 ms: never complete.
    let mut slow = TcpStream::connect(&demo.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let trickle = async {
        loop {
            if slow.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(
        tokio::time::timeout(WAIT, trickle).await.is_ok(),
        "the slowloris connection stayed open"
    );
    eprintln!("slowloris: cut after {:?}", start.elapsed());
    honest_echo(&mut honest, "slowloris").await;

    // An idle keep-alive connection after one request.
    let mut idle = TcpStream::connect(&demo.addr).await.unwrap();
    idle.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    assert!(closed_within(&mut idle, WAIT).await, "idle connection kept");
    honest_echo(&mut honest, "idle keep-alive").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_hostile_and_honest_clients_exits_within_the_bound() {
    let demo = Demo::start(&[]);
    let addr = demo.addr.clone();
    let mut ws = honest(&addr).await;
    honest_echo(&mut ws, "before SIGTERM").await;

    // A polling client with a long poll pending.
    let mut poll = TcpStream::connect(&addr).await.unwrap();
    poll.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = poll.read(&mut buf).await.unwrap();
    let open = String::from_utf8_lossy(&buf[..n]).into_owned();
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let get =
        format!("GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n");
    poll.write_all(get.as_bytes()).await.unwrap();
    // A slowloris connection.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let start = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // Every client gets its close packet.
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some("1"),
        "WebSocket close packet"
    );
    let mut answer = Vec::new();
    while !answer.ends_with(b"1") {
        let n = tokio::time::timeout(WAIT, poll.read(&mut buf))
            .await
            .expect("long poll not answered")
            .unwrap();
        assert!(n > 0, "long poll closed without its close packet");
        answer.extend_from_slice(&buf[..n]);
    }
    // A reconnecting client is refused at once.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = tokio::time::timeout(WAIT, TcpStream::connect(&addr))
        .await
        .unwrap();
    assert!(
        again.is_err(),
        "a new connection was accepted while stopping"
    );

    let mut demo = demo;
    let exit = loop {
        if let Some(exit) = demo.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("SIGTERM: exited after {:?}", start.elapsed());
    assert!(exit.success(), "{exit}");
    let lines: Vec<String> = demo.lines.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("sockeye-demo stopped")),
        "{lines:?}"
    );
    drop(slow);
}

async fn http_get(addr: &str, path: &str, headers: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_get_no_cors_and_no_websocket_by_default() {
    let demo = Demo::start(&[]);
    let addr = demo.addr.clone();
    let mut ws_honest = honest(&addr).await;
    let handshake = "/socket.io/?EIO=4&transport=polling";

    let evil = http_get(&addr, handshake, "Origin: http://evil.example\r\n").await;
    assert!(!evil.contains("access-control-allow-origin"), "{evil}");
    assert!(!evil.contains("access-control-allow-credentials"), "{evil}");
    assert!(evil.starts_with("http/1.1 403"), "{evil}");
    assert_eq!(
        ws(&addr, Some("http://evil.example")).await.err(),
        Some(403)
    );
    honest_echo(&mut ws_honest, "foreign origin").await;

    // The page's own origin, and clients without an Origin, are welcome.
    let own = http_get(&addr, handshake, &format!("Origin: http://{addr}\r\n")).await;
    assert!(own.starts_with("http/1.1 200"), "{own}");
    assert!(ws(&addr, Some(&format!("http://{addr}"))).await.is_ok());

    // --cors-origin lets one more in, with credentials.
    let demo = Demo::start(&["--cors-origin", "http://good.example"]);
    let good = http_get(&demo.addr, handshake, "Origin: http://good.example\r\n").await;
    assert!(good.starts_with("http/1.1 200"), "{good}");
    assert!(
        good.contains("access-control-allow-origin: http://good.example"),
        "{good}"
    );
    assert!(
        good.contains("access-control-allow-credentials: true"),
        "{good}"
    );
    let evil = http_get(&demo.addr, handshake, "Origin: http://evil.example\r\n").await;
    assert!(!evil.contains("access-control-allow-origin"), "{evil}");
    assert_eq!(
        ws(&demo.addr, Some("http://evil.example")).await.err(),
        Some(403)
    );
}

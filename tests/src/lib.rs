//! # sockeye-tests
//!
//! Hosts Sockeye's cross-component and interop tests: the server against the reference
//! JavaScript (`socket.io-client`, under Node) and Python (`python-socketio`) clients.
//!
//! [`TestServer`] runs the demo application (the README's event contract on `/`) plus a few
//! test namespaces on a free port, in-process; the tests in `tests/tests/` drive the scripts
//! in `tests/node/` and `tests/python/` against it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
pub mod process;
pub mod rabbitmq;
pub mod redis;
pub mod scenarios;

use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use sockeye::{
    AckSender, Bin, ConnectError, Data, DisconnectReason, EventName, Payload, SocketIo,
    SocketIoBuilder, SocketRef, State, TryData,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Disconnect reasons seen by the `/test` namespace, newest last.
#[derive(Clone, Default)]
pub struct Reasons(pub Arc<Mutex<Vec<String>>>);

/// A server on `127.0.0.1`: the demo contract on `/`, plus:
///
/// - `/test`: `ask` (the server asks the client `question` with an ack and acks back the
///   answer), `ask_timeout` (same with a 200 ms timeout, acks `"timeout"` when it expires),
///   `bin` (the server emits `bin` with one binary argument `[1,2,3]`), `kick` (the server
///   disconnects the socket), `rooms` (acks the socket's rooms), `handshake` (acks the `foo`
///   query parameter and the `x-test` header), `reasons` (acks the disconnect reasons
///   seen so far), `flood` (emits `flood` N times), `flood_volatile` (the same as volatile
///   broadcasts to itself), `admin` (fetch_sockets, sockets_join,
///   a broadcast to the joined room, a broadcast `poll` with acks from everyone,
///   sockets_leave; acks `{count, answers, left}`), `disconnect_all` (disconnect_sockets),
///   `join` (joins a room), `except` (emits `hey` to every `/test` socket not in the room,
///   then leaves all rooms and acks its rooms), `bin_sizes` (acks the attachments' sizes),
///   and a catch-all that acks `{"event": name, "args": args}`;
/// - `/auth`: a middleware that accepts `auth.token == "secret"`, else refuses with
///   `"not authorized"` and data `{"code": 42}`; on connect it emits `welcome` with the auth;
/// - dynamic namespaces `/dyn-*`: `whoami` acks the namespace's name.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The server handle.
    pub io: SocketIo,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on a free port.
    pub async fn start() -> TestServer {
        Self::start_on(0).await
    }

    /// Starts a server on `port` (0: a free one). Panics if the port cannot be bound.
    pub async fn start_on(port: u16) -> TestServer {
        Self::start_full(port, |b| b).await
    }

    /// Starts a server on a free port with extra builder settings.
    pub async fn start_with(f: impl FnOnce(SocketIoBuilder) -> SocketIoBuilder) -> TestServer {
        Self::start_full(0, f).await
    }

    async fn start_full(
        port: u16,
        f: impl FnOnce(SocketIoBuilder) -> SocketIoBuilder,
    ) -> TestServer {
        init_tracing();
        // Default heartbeat settings (25 s / 20 s): no ping interleaves with a scenario's
        // packets, and a loaded machine cannot make a client miss one.
        let (layer, io) = f(SocketIo::builder().with_state(Reasons::default())).build_layer();
        // The demo application (contract, static files, CORS) plus the test namespaces.
        let www = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"));
        let app = sockeye::demo::router_with_cors(&www, &io, layer, &sockeye::demo::Cors::Any);
        register_test_namespaces(&io);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind a test port");
        let addr = listener.local_addr().expect("local address");
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shutdown_io = io.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
                shutdown_io.close().await;
            })
            .await;
        });
        TestServer {
            url: format!("http://{addr}"),
            addr,
            io,
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// Stops the server: closes every session (clients see "transport close" and
    /// reconnect) and frees the port.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn register_test_namespaces(io: &SocketIo) {
    io.ns("/test", |socket: SocketRef| async move {
        socket.on("ask", |socket: SocketRef, ack: AckSender| async move {
            let answer: Result<String, _> = socket.emit_with_ack("question", "q?").await;
            let _ = ack.send(&answer.unwrap_or_else(|e| format!("error: {e}")));
        });
        socket.on(
            "ask_timeout",
            |socket: SocketRef, ack: AckSender| async move {
                let r = socket
                    .emit_with_ack_payload(
                        "question",
                        Payload::one("q?").unwrap_or_else(|_| Payload::empty()),
                        Duration::from_millis(200),
                    )
                    .await;
                let _ = ack.send(match r {
                    Err(sockeye::AckError::Timeout) => "timeout",
                    Err(_) => "error",
                    Ok(_) => "answered",
                });
            },
        );
        // A handler that never finishes, for the bounded-dispatch test.
        socket.on("stall", || async {
            std::future::pending::<()>().await;
        });
        socket.on("bin", |socket: SocketRef| async move {
            let _ = socket.emit_payload("bin", Payload::binary(vec![1u8, 2, 3]));
        });
        socket.on(
            "flood",
            |socket: SocketRef, Data(n): Data<usize>| async move {
                for i in 0..n {
                    if socket.emit("flood", &i).is_err() {
                        break;
                    }
                }
            },
        );
        socket.on(
            "flood_volatile",
            |socket: SocketRef, Data(n): Data<usize>| async move {
                let Some(io) = socket.io() else { return };
                let me = io.of("/test").to(socket.id().to_owned()).volatile();
                for i in 0..n {
                    let _ = me.emit("flood", &i).await;
                }
            },
        );
        socket.on(
            "join",
            |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                let _ = socket.join(room).await;
                let _ = ack.send(&true);
            },
        );
        socket.on(
            "except",
            |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                let Some(io) = socket.io() else { return };
                let _ = io.of("/test").except(room).emit("hey", "you").await;
                let _ = socket.leave_all().await;
                let _ = ack.send(&socket.rooms().await.unwrap_or_default());
            },
        );
        socket.on(
            "bin_sizes",
            |Bin(bins): Bin, TryData(d): TryData<u32>, ack: AckSender| async move {
                let sizes: Vec<usize> = bins.iter().map(|b| b.len()).collect();
                let _ = ack.send(&json!({ "sizes": sizes, "number": d.ok() }));
            },
        );
        socket.on("admin", |socket: SocketRef, ack: AckSender| async move {
            let Some(io) = socket.io() else { return };
            let ns = io.of("/test");
            let count = ns.fetch_sockets().await.map(|s| s.len()).unwrap_or(0);
            let _ = ns.join("everyone").await;
            let _ = ns.clone().to("everyone").emit("everyone", &count).await;
            let answers: Vec<String> = ns
                .clone()
                .timeout(Duration::from_secs(2))
                .emit_with_ack::<_, String>("poll", "vote?")
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| e.to_string()))
                .collect();
            let _ = ns.leave("everyone").await;
            let left = ns
                .to("everyone")
                .sockets()
                .await
                .map(|s| s.len())
                .unwrap_or(0);
            let _ = ack.send(&json!({ "count": count, "answers": answers, "left": left }));
        });
        socket.on("disconnect_all", |socket: SocketRef| async move {
            if let Some(io) = socket.io() {
                let _ = io.of("/test").disconnect().await;
            }
        });
        socket.on("kick", |socket: SocketRef| async move {
            let _ = socket.disconnect();
        });
        socket.on("rooms", |socket: SocketRef, ack: AckSender| async move {
            let mut rooms = socket.rooms().await.unwrap_or_default();
            rooms.sort();
            let _ = ack.send(&rooms);
        });
        socket.on(
            "handshake",
            |socket: SocketRef, ack: AckSender| async move {
                let info = socket.req_info();
                let header = info
                    .headers
                    .get("x-test")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let ip = info.address.map(|a| a.ip().to_string());
                let _ = ack.send(&json!({ "foo": info.query("foo"), "header": header, "ip": ip }));
            },
        );
        socket.on(
            "reasons",
            |ack: AckSender, State(reasons): State<Reasons>| async move {
                let list = reasons.0.lock().map(|l| l.clone()).unwrap_or_default();
                let _ = ack.send(&list);
            },
        );
        socket.on_any(
            |EventName(name): EventName, payload: Payload, ack: AckSender| async move {
                let args: serde_json::Value =
                    serde_json::from_str(&payload.args).unwrap_or_default();
                let _ = ack.send(&json!({ "event": name, "args": args }));
            },
        );
        socket.on_disconnect(
            |reason: DisconnectReason, State(reasons): State<Reasons>| async move {
                if let Ok(mut l) = reasons.0.lock() {
                    l.push(reason.as_str().to_owned());
                }
            },
        );
    });

    io.ns(
        "/auth",
        |socket: SocketRef, Data(auth): Data<serde_json::Value>| async move {
            let _ = socket.emit("welcome", &auth);
        },
    )
    .with(|Data(auth): Data<serde_json::Value>| async move {
        if auth.get("token").and_then(|t| t.as_str()) == Some("secret") {
            Ok(())
        } else {
            Err(ConnectError::new("not authorized").with_data(&json!({ "code": 42 })))
        }
    });

    io.dyn_ns(
        |name| name.starts_with("/dyn-"),
        |socket: SocketRef| async move {
            socket.on("whoami", |socket: SocketRef, ack: AckSender| async move {
                let _ = ack.send(socket.ns());
            });
        },
    );
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// The repository's `tests/` directory.
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program args...` (from `tests/`) with a 60 s limit; panics with its output unless
/// it exits with status 0.
pub async fn run_client(program: &str, args: &[&str]) {
    let child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(tests_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (run scripts/setup.sh): {e}"));
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} timed out"))
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

//! `sockeye-demo`: the demo server. Serves the demo page (`www/`) at `/`; the Socket.IO
//! endpoint at `/socket.io/` speaks the demo event contract documented in the README.
//!
//! ```text
//! sockeye-demo [--port N] [--host ADDR] [--adapter memory|redis://…|amqp://…] [--static DIR]
//!              [--cors-origin URL]… [--cors-any] [--header-read-timeout SECS]
//!              [--shutdown-timeout SECS] [--tcp-keepalive SECS]
//! ```
//!
//! It serves HTTP/1.1 with hyper directly (not `axum::serve`) for the limits `axum::serve`
//! does not expose: a header read timeout (slowloris; it also closes idle keep-alive
//! connections), TCP keepalive on accepted sockets, and a graceful shutdown bounded in time.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::extract::ConnectInfo;
use clap::Parser;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sockeye::demo::Cors;
use tower::ServiceExt;
use tracing_subscriber::EnvFilter;

/// The repository's `www/` directory, resolved when this binary is compiled.
const DEFAULT_STATIC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www");

/// Exit code for usage errors (the same one clap uses).
const EXIT_USAGE: u8 = 2;

/// Where broadcasts go between server processes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Adapter {
    /// In-process only (a single server).
    Memory,
    /// A Redis server, e.g. `redis://127.0.0.1:6379`.
    Redis(String),
    /// An AMQP broker (RabbitMQ), e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    Amqp(String),
}

impl Adapter {
    fn parse(s: &str) -> Result<Adapter, String> {
        if s == "memory" {
            Ok(Adapter::Memory)
        } else if s.starts_with("redis://") || s.starts_with("rediss://") {
            Ok(Adapter::Redis(s.to_owned()))
        } else if s.starts_with("amqp://") {
            Ok(Adapter::Amqp(s.to_owned()))
        } else if s.starts_with("amqps://") {
            Err("`amqps://` (TLS) is not built in; use `amqp://`".to_owned())
        } else {
            Err("expected `memory`, `redis://…` or `amqp://…`".to_owned())
        }
    }
}

/// Sockeye demo server.
#[derive(Debug, Parser)]
#[command(name = "sockeye-demo", version, about)]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,

    /// Broadcast adapter: `memory`, `redis://…` or `amqp://…`.
    #[arg(long, default_value = "memory", value_parser = Adapter::parse)]
    adapter: Adapter,

    /// Directory served at `/`.
    #[arg(long = "static", value_name = "DIR", default_value = DEFAULT_STATIC_DIR)]
    static_dir: PathBuf,

    /// An origin (`https://app.example`) whose pages may use the server (CORS with
    /// credentials, and WebSocket handshakes); repeatable. By default only the server's own
    /// origin may.
    #[arg(long = "cors-origin", value_name = "URL")]
    cors_origin: Vec<String>,

    /// Let pages of every origin use the server (CORS reflecting any origin, with
    /// credentials). Unsafe outside development.
    #[arg(long = "cors-any", conflicts_with = "cors_origin")]
    cors_any: bool,

    /// Seconds a client may take to send a request's headers, and an idle keep-alive
    /// connection may stay open (slowloris).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_read_timeout: u64,

    /// Seconds the server may take to stop on SIGTERM/SIGINT (every client gets its close
    /// packet first; what is left is dropped).
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    shutdown_timeout: u64,

    /// Idle seconds before TCP keepalive probes on accepted sockets (0: off).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    tcp_keepalive: u64,
}

impl Args {
    fn cors(&self) -> Cors {
        if self.cors_any {
            Cors::Any
        } else if self.cors_origin.is_empty() {
            Cors::SameOrigin
        } else {
            Cors::Origins(
                self.cors_origin
                    .iter()
                    .map(|o| o.trim_end_matches('/').to_owned())
                    .collect(),
            )
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();

    let built = match &args.adapter {
        Adapter::Memory => true,
        Adapter::Redis(_) => cfg!(feature = "redis"),
        Adapter::Amqp(_) => cfg!(feature = "amqp"),
    };
    if !built {
        eprintln!(
            "error: --adapter: this build has no such adapter (cargo features `redis`, `amqp`)"
        );
        return ExitCode::from(EXIT_USAGE);
    }
    if !args.static_dir.is_dir() {
        eprintln!(
            "error: --static {}: not a directory",
            args.static_dir.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(args));
    // Tasks still running (connections dropped at the shutdown deadline) are cancelled.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;

    let cors = args.cors();
    let builder = sockeye::SocketIo::builder().allow_request(cors.check());
    let builder = match &args.adapter {
        Adapter::Memory => builder,
        #[cfg(feature = "redis")]
        Adapter::Redis(url) => {
            // python-socketio's channel too: its workers and servers share the cluster.
            let config =
                sockeye::cluster::RedisConfig::new(url.as_str()).with_python_channel("socketio");
            let factory = sockeye::cluster::RedisAdapterFactory::new(config)
                .map_err(|e| std::io::Error::other(format!("--adapter {url}: {e}")))?;
            tracing::info!(uid = factory.uid(), "joining the Redis cluster at {url}");
            builder.adapter(factory)
        }
        #[cfg(feature = "amqp")]
        Adapter::Amqp(url) => {
            // python-socketio's exchange `socketio`: its workers and servers share it.
            let config = sockeye::cluster::AmqpConfig::new(url.as_str());
            let factory = sockeye::cluster::AmqpAdapterFactory::new(config)
                .map_err(|e| std::io::Error::other(format!("--adapter {url}: {e}")))?;
            tracing::info!(
                uid = factory.uid(),
                "joining the AMQP cluster (exchange socketio)"
            );
            builder.adapter(factory)
        }
        #[allow(unreachable_patterns)]
        _ => return Err(std::io::Error::other("--adapter: not built in")),
    };
    let (layer, io) = builder.build_layer();
    tokio::spawn(release_memory(io.clone()));
    let app = sockeye::demo::router_with_cors(&args.static_dir, &io, layer, &cors);

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(args.header_read_timeout.max(1)));
    let keepalive = (args.tcp_keepalive > 0).then(|| {
        socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(args.tcp_keepalive))
            .with_interval(Duration::from_secs(10))
    });
    // Linux gives an accepted socket the listening socket's TCP_NODELAY and keepalive
    // settings: set once there, not with four system calls per connection.
    let per_connection = !INHERITED_OPTIONS || !tune(&listener, keepalive.as_ref());
    // `true` once shutting down; every connection task holds a receiver.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    tracing::info!("sockeye-demo listening on http://{local}");
    let signal = sockeye::shutdown_signal();
    tokio::pin!(signal);
    loop {
        let (tcp, remote) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: let it pass.
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        if per_connection {
            tune(&tcp, keepalive.as_ref());
        }
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(remote));
                    req
                });
        let conn = http
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc))
            .with_upgrades();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    // Finish the request in flight, then close.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%remote, "connection: {e}");
            }
        });
    }

    // New connections are refused at once; every session gets its close packet; requests
    // in flight finish; whatever is left after the timeout is dropped.
    drop(listener);
    drop(stop_rx);
    let timeout = Duration::from_secs(args.shutdown_timeout);
    tracing::info!("shutting down (at most {timeout:?})");
    let stopped = tokio::time::timeout(timeout, async {
        // Sessions first: their long polls are answered with the close packet.
        io.close().await;
        let _ = stop_tx.send(true);
        stop_tx.closed().await;
    })
    .await;
    if stopped.is_err() {
        tracing::info!("connections still open after {timeout:?}: dropped");
    }
    tracing::info!("sockeye-demo stopped");
    Ok(())
}

/// Gives the memory of clients that left back to the OS. glibc's allocator keeps freed
/// memory in its arenas (reused by the next clients, but counted in the RSS: 3,000 clients
/// that came and went left ~110 MiB resident); `malloc_trim` releases the free pages. Done
/// when the number of sessions fell well below its recent peak, at most every 30 s.
async fn release_memory(io: sockeye::SocketIo) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut peak = 0usize;
    loop {
        tick.tick().await;
        let now = io.session_count();
        peak = peak.max(now);
        if peak >= now * 2 + 100 {
            trim();
            peak = now;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks glibc's own arenas and takes their locks; it has no
    // preconditions on the caller.
    let released = unsafe { libc::malloc_trim(0) };
    tracing::debug!(released, "malloc_trim after clients left");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Whether accepted sockets inherit the listening socket's TCP options (Linux copies the
/// listener's socket when it accepts; a test below checks it).
const INHERITED_OPTIONS: bool = cfg!(target_os = "linux");

/// Sets TCP_NODELAY (small frames and poll answers must not wait for Nagle's algorithm)
/// and, if given, TCP keepalive (a vanished peer's connection is noticed). False if the
/// system refused one of them (logged).
fn tune<'s>(
    socket: impl Into<socket2::SockRef<'s>>,
    keepalive: Option<&socket2::TcpKeepalive>,
) -> bool {
    let socket = socket.into();
    let mut ok = true;
    if let Err(e) = socket.set_tcp_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {e}");
        ok = false;
    }
    if let Some(k) = keepalive {
        if let Err(e) = socket.set_tcp_keepalive(k) {
            tracing::debug!("cannot set TCP keepalive: {e}");
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serve` relies on to skip the per-connection system calls.
    #[test]
    fn accepted_sockets_inherit_the_listeners_tcp_options() {
        if !INHERITED_OPTIONS {
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(37))
            .with_interval(Duration::from_secs(11));
        assert!(tune(&listener, Some(&keepalive)));
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let s = socket2::SockRef::from(&accepted);
        assert!(s.tcp_nodelay().unwrap());
        assert!(s.keepalive().unwrap());
        assert_eq!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(37));
        assert_eq!(s.tcp_keepalive_interval().unwrap(), Duration::from_secs(11));
    }

    #[test]
    fn adapter_parses_the_three_kinds_and_rejects_others() {
        assert_eq!(Adapter::parse("memory"), Ok(Adapter::Memory));
        assert_eq!(
            Adapter::parse("redis://127.0.0.1:6379"),
            Ok(Adapter::Redis("redis://127.0.0.1:6379".into()))
        );
        assert_eq!(
            Adapter::parse("amqp://guest:guest@localhost:5672"),
            Ok(Adapter::Amqp("amqp://guest:guest@localhost:5672".into()))
        );
        assert!(Adapter::parse("amqps://x").is_err());
        assert!(Adapter::parse("Memory").is_err());
        assert!(Adapter::parse("http://x").is_err());
        assert!(Adapter::parse("").is_err());
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let args = Args::try_parse_from(["sockeye-demo"]).unwrap();
        assert_eq!(args.port, 3000);
        assert_eq!(args.host, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(args.adapter, Adapter::Memory);
        assert!(args.static_dir.join("index.html").is_file());
        assert_eq!(args.cors(), Cors::SameOrigin);
        assert_eq!(args.header_read_timeout, 10);
        assert_eq!(args.shutdown_timeout, 5);
        assert_eq!(args.tcp_keepalive, 60);
    }

    #[test]
    fn flags_override_defaults() {
        let args = Args::try_parse_from([
            "sockeye-demo",
            "--port",
            "0",
            "--host",
            "::1",
            "--adapter",
            "redis://r:1",
            "--static",
            "/tmp",
        ])
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(args.host, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(args.adapter, Adapter::Redis("redis://r:1".into()));
        assert_eq!(args.static_dir, PathBuf::from("/tmp"));
        assert!(Args::try_parse_from(["sockeye-demo", "--port", "70000"]).is_err());
    }

    #[test]
    fn cors_flags() {
        let args = Args::try_parse_from([
            "sockeye-demo",
            "--cors-origin",
            "https://a.example/",
            "--cors-origin",
            "http://b.example:8080",
        ])
        .unwrap();
        assert_eq!(
            args.cors(),
            Cors::Origins(vec![
                "https://a.example".into(),
                "http://b.example:8080".into()
            ])
        );
        let args = Args::try_parse_from(["sockeye-demo", "--cors-any"]).unwrap();
        assert_eq!(args.cors(), Cors::Any);
        assert!(
            Args::try_parse_from(["sockeye-demo", "--cors-any", "--cors-origin", "http://x"])
                .is_err()
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}

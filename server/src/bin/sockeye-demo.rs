//! `sockeye-demo`: the demo server. Serves the demo page (`www/`) at `/`; the Socket.IO
//! endpoint at `/socket.io/` speaks the demo event contract documented in the README.
//!
//! ```text
//! sockeye-demo [--port N] [--host ADDR] [--adapter memory|redis://…|amqp://…] [--static DIR]
//! ```

use axum::serve::ListenerExt;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
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
    /// An AMQP broker (RabbitMQ), e.g. `amqp://guest:guest@127.0.0.1:5672`.
    Amqp(String),
}

impl Adapter {
    fn parse(s: &str) -> Result<Adapter, String> {
        if s == "memory" {
            Ok(Adapter::Memory)
        } else if s.starts_with("redis://") || s.starts_with("rediss://") {
            Ok(Adapter::Redis(s.to_owned()))
        } else if s.starts_with("amqp://") || s.starts_with("amqps://") {
            Ok(Adapter::Amqp(s.to_owned()))
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
}

fn main() -> ExitCode {
    let args = Args::parse();

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();

    if let Adapter::Amqp(url) = &args.adapter {
        eprintln!("error: --adapter {url}: not supported yet (`memory` and `redis://` are)");
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
    match runtime.block_on(serve(args)) {
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
    // Small frames and poll answers must not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });

    let mut builder = sockeye::SocketIo::builder();
    if let Adapter::Redis(url) = &args.adapter {
        // python-socketio's channel too: its workers and servers share the cluster.
        let config =
            sockeye::cluster::RedisConfig::new(url.as_str()).with_python_channel("socketio");
        let factory = sockeye::cluster::RedisAdapterFactory::new(config)
            .map_err(|e| std::io::Error::other(format!("--adapter {url}: {e}")))?;
        tracing::info!(uid = factory.uid(), "joining the Redis cluster at {url}");
        builder = builder.adapter(factory);
    }
    let (layer, io) = builder.build_layer();
    let app = sockeye::demo::router(&args.static_dir, &io, layer);

    tracing::info!("sockeye-demo listening on http://{local}");
    let shutdown_io = io.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        sockeye::shutdown_signal().await;
        // Close every session with a close packet so that long polls and WebSockets end.
        shutdown_io.close().await;
    })
    .await?;
    tracing::info!("sockeye-demo stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}

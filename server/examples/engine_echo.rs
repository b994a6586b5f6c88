//! A bare Engine.IO server (like Node's `engine.io` package) that sends every message,
//! text or binary, back to its sender, and logs sessions opening and closing.
//!
//! ```sh
//! cargo run -p sockeye --example engine_echo                 # http://127.0.0.1:3001/engine.io/
//! cargo run -p sockeye --example engine_echo -- --port 4000  # or PORT=4000
//! ```
//!
//! Node's official `engine.io-client` talks to it as is:
//!
//! ```js
//! import { Socket } from "engine.io-client";
//! const socket = new Socket("ws://127.0.0.1:3001");
//! socket.on("open", () => socket.send("hello"));
//! socket.on("message", (data) => console.log("echo:", data));
//! ```

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use clap::Parser;
use sockeye::engine::{CloseReason, EngineHandler, EngineIo, EngineSocket, Message};
use tracing_subscriber::EnvFilter;

/// Bare Engine.IO echo server.
#[derive(Debug, Parser)]
#[command(name = "engine_echo", about)]
struct Args {
    /// TCP port to listen on (0 picks a free one); defaults to `$PORT`, else 3001.
    #[arg(long)]
    port: Option<u16>,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

/// Sends every message back; logs opens and closes.
struct Echo;

impl EngineHandler for Echo {
    fn on_open(&self, socket: &EngineSocket) {
        let transport = socket.req_info().query("transport").unwrap_or("?");
        tracing::info!(sid = %socket.sid(), transport, "open");
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        match &message {
            Message::Text(t) => tracing::debug!(sid = %socket.sid(), len = t.len(), "text"),
            Message::Binary(b) => tracing::debug!(sid = %socket.sid(), len = b.len(), "binary"),
        }
        if let Err(e) = socket.send(message) {
            tracing::warn!(sid = %socket.sid(), "echo dropped: {e}");
        }
    }

    fn on_close(&self, socket: &EngineSocket, reason: CloseReason) {
        tracing::info!(sid = %socket.sid(), reason = reason.as_str(), "close");
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let port = match args.port {
        Some(p) => p,
        None => match std::env::var("PORT") {
            Ok(s) => s.parse().map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "PORT: not a port")
            })?,
            Err(_) => 3001,
        },
    };

    let (layer, engine) = EngineIo::builder().build_layer(Echo);
    let app = Router::new().layer(layer); // at /engine.io/

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, port)).await?;
    tracing::info!(
        "engine.io echo on http://{}/engine.io/",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Tell every client (`close` packet) before the server stops.
            engine.close().await;
        })
        .await?;
    tracing::info!("stopped");
    Ok(())
}

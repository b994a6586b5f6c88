//! # sockeye
//!
//! The Socket.IO v5 server of Sockeye, for [axum] on tokio.
//!
//! All protocol work happens in the sans-IO [`sockeye_core`]; this crate only moves bytes
//! between sockets and the core's state machines and runs their timers.
//!
//! For now it provides the HTTP scaffolding of the demo server (static files and graceful
//! shutdown); the Socket.IO layer itself is not implemented yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::Path;

use axum::Router;
use tower_http::services::ServeDir;

/// The path the Socket.IO layer is (to be) mounted at, as the reference clients expect.
pub const SOCKET_IO_PATH: &str = "/socket.io/";

/// Builds the demo application: the files of `static_dir` served at `/` (with
/// `index.html` for directories).
pub fn demo_router(static_dir: &Path) -> Router {
    // TODO(issue 4): mount the Socket.IO layer (Engine.IO polling + WebSocket, driven by
    // sockeye-core) at `SOCKET_IO_PATH` here, before the static fallback.
    Router::new().fallback_service(ServeDir::new(static_dir))
}

/// Resolves when the process receives SIGINT (Ctrl-C) or, on Unix, SIGTERM.
///
/// Meant for [`axum::serve`]'s `with_graceful_shutdown`. If a signal handler cannot be
/// installed, that signal is ignored (logged) rather than triggering a shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

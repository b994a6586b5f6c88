//! # sockeye
//!
//! The Socket.IO v5 server of Sockeye, for [axum] on tokio.
//!
//! All protocol work happens in the sans-IO [`sockeye_core`]; this crate only moves bytes
//! between sockets and the core's state machines and runs their timers.
//!
//! ```no_run
//! use axum::Router;
//! use sockeye::{AckSender, Data, SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (layer, io) = SocketIo::builder().build_layer();
//! io.ns("/", |socket: SocketRef| async move {
//!     socket.on("join", |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
//!         socket.join(room.clone()).await.ok();
//!         ack.send(&room).ok();
//!     });
//! });
//! let app = Router::new().layer(layer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Two layers: [`engine`], the Engine.IO server (transports, sessions, heartbeats; usable on
//! its own as a bare Engine.IO server), and the Socket.IO layer on top of it (namespaces,
//! sockets, handlers, acks, rooms, adapters). Each session is one tokio task owning the
//! core's `socket::server::Connection`; HTTP requests, WebSocket frames, emits and
//! broadcasts reach it over a bounded channel.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ack;
pub mod adapter;
#[cfg(any(feature = "redis", feature = "amqp"))]
pub mod cluster;
mod config;
mod connection;
pub mod demo;
pub mod engine;
mod handler;
mod io;
mod layer;
mod lock;
mod ns;
mod operators;
mod payload;
mod remote;
mod socket;
mod state;

pub use ack::{AckError, AckSender};
pub use config::SocketIoBuilder;
pub use connection::{Command, PendingSocket, SocketIoProtocol};
pub use engine::{AllowRequest, EngineError, RequestInfo};
pub use handler::{
    Bin, Ctx, Data, EventName, ExtractError, FromCtx, Handler, Middleware, State, TryData,
};
pub use io::SocketIo;
pub use layer::{SocketIoLayer, SocketIoService};
pub use ns::{ConnectError, NamespaceRef, NsHandle, ServerSideEvent};
pub use operators::{BroadcastOperator, IntoRooms};
pub use payload::{placeholder, Payload, PayloadError};
pub use remote::RemoteSocket;
pub use socket::{DisconnectReason, SendError, SocketRef};
pub use sockeye_core::Bytes;

/// The default path of the Socket.IO endpoint, as the reference clients expect.
pub const SOCKET_IO_PATH: &str = "/socket.io/";

/// Resolves when the process receives SIGINT (Ctrl-C) or, on Unix, SIGTERM.
///
/// Meant for [`axum::serve()`]'s `with_graceful_shutdown`. If a signal handler cannot be
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

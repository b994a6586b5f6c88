//! The Engine.IO layer: HTTP long-polling, WebSocket, upgrades, heartbeats and the session
//! registry, over the core's sans-IO sessions. It knows nothing of Socket.IO: the layer
//! above plugs in as a [`Protocol`] (connection events in, typed commands out through
//! [`SessionHandle`]).
//!
//! Used on its own it is a bare Engine.IO server, like Node's `engine.io` package:
//! [`EngineIo`] with an [`EngineHandler`] (see `examples/engine_echo.rs`).
//!
//! - `server`: [`Engine`] — settings, clock, session registry, request routing and checks.
//! - `session`: one tokio task per session, driving its sans-IO machine.
//! - `polling`, `ws`: the transports.
//! - `layer`: the tower layer for axum.
//! - `io`: the bare Engine.IO server API.
//! - [`error`]: the HTTP errors of the reference server.

mod admission;
mod clock;
mod config;
pub mod error;
mod io;
mod layer;
mod polling;
mod request;
mod server;
mod session;
pub(crate) mod sid;
mod ws;

pub use clock::Clock;
pub use config::{AllowRequest, EngineConfig};
pub use error::EngineError;
pub use io::{Bare, EngineCommand, EngineHandler, EngineIo, EngineIoBuilder, EngineSocket};
pub use layer::{EngineLayer, EngineService};
pub use request::{query_param, RequestInfo};
pub use server::Engine;
pub use session::{Protocol, QueueError, SessionHandle};
pub use sockeye_core::engine::{CloseReason, Frame, Message, Transport};

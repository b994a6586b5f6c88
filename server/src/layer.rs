//! The tower layer that puts Socket.IO on an axum `Router`: the Engine.IO layer's, carrying
//! the Socket.IO protocol. Requests under the Socket.IO path (default `/socket.io/`) are
//! answered by the server, every other request goes to the wrapped service.

use crate::connection::SocketIoProtocol;
use crate::engine::{EngineLayer, EngineService};

/// Put it on a router with `Router::layer` (it then also sees requests that would reach the
/// fallback, so `/socket.io/` needs no route of its own).
pub type SocketIoLayer = EngineLayer<SocketIoProtocol>;

/// The service made by [`SocketIoLayer`].
pub type SocketIoService<S> = EngineService<S, SocketIoProtocol>;

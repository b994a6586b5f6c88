//! Settings of the Engine.IO layer.

use std::sync::Arc;

use axum::http::request::Parts;

/// A hook run on every handshake request (not on later polls or upgrades of a session)
/// before the session is created; returning `Err` answers
/// `403 {"code":4,"message":"Forbidden"}`.
pub type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), String> + Send + Sync>;

/// Engine.IO server settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The path the server answers at, with a trailing slash (`/engine.io/` for a bare
    /// Engine.IO server, `/socket.io/` under Socket.IO).
    pub path: String,
    /// The sans-IO session's settings (heartbeat, `max_payload`, upgrades, queue bound).
    pub session: sockeye_core::engine::server::Config,
    /// Which transports are accepted: `[polling, websocket]`.
    pub transports: [bool; 2],
    /// Bound of each session's input queue (requests, frames, commands, broadcasts waiting
    /// for the session task); a full queue closes the session.
    pub max_buffer_size: usize,
    /// The handshake check, if any.
    pub allow_request: Option<AllowRequest>,
}

impl EngineConfig {
    /// The defaults of the reference server, served at `path`.
    pub fn new(path: impl Into<String>) -> EngineConfig {
        let mut path = path.into();
        if !path.ends_with('/') {
            path.push('/');
        }
        EngineConfig {
            path,
            session: Default::default(),
            transports: [true, true],
            max_buffer_size: 4096,
            allow_request: None,
        }
    }
}

//! Settings of the Engine.IO layer.

use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;

/// A hook run on every handshake request (not on later polls or upgrades of a session)
/// before the session is created; returning `Err` answers
/// `403 {"code":4,"message":"Forbidden"}`.
pub type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), String> + Send + Sync>;

/// Engine.IO server settings.
///
/// Every client is assumed hostile: what it can make the server hold is capped, and what it
/// can make the server wait for has a deadline (see the `max_*` and `*_timeout` fields).
#[derive(Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The path the server answers at, with a trailing slash (`/engine.io/` for a bare
    /// Engine.IO server, `/socket.io/` under Socket.IO).
    pub path: String,
    /// The sans-IO session's settings (heartbeat, `max_payload`, upgrades, queue bounds).
    /// `session.max_queued_bytes` is also the byte budget of each session's input queue and
    /// WebSocket write queue.
    pub session: sockeye_core::engine::server::Config,
    /// Which transports are accepted: `[polling, websocket]`.
    pub transports: [bool; 2],
    /// Bound of each session's input queue (requests, frames, commands, broadcasts waiting
    /// for the session task); a full queue closes the session.
    pub max_buffer_size: usize,
    /// The handshake check, if any.
    pub allow_request: Option<AllowRequest>,
    /// Most sessions open at once (default 10,000); a handshake over it is answered
    /// `503 {"code":4,"message":"Forbidden"}`.
    pub max_sessions: usize,
    /// Most sessions open at once per remote IP address (default: no limit); a handshake
    /// over it is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer address
    /// (`into_make_service_with_connect_info::<SocketAddr>()`).
    pub max_sessions_per_address: Option<usize>,
    /// Most handshakes per remote IP address per window: `(count, window)` (default: no
    /// limit); one more is answered `429 {"code":4,"message":"Forbidden"}`. Needs the peer
    /// address.
    pub handshake_rate: Option<(u32, Duration)>,
    /// Largest request head (URI and headers, names and values) of a handshake, which the
    /// session keeps as its [`super::RequestInfo`] (default 16 KiB); a bigger one is answered
    /// `431 {"code":3,"message":"Bad request"}`.
    pub max_request_header_bytes: usize,
    /// How long the body of a polling `POST` may take to arrive (default 10 s); a slower
    /// one is answered `408 {"code":3,"message":"Bad request"}` and closes the session.
    pub http_body_timeout: Duration,
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
            max_sessions: 10_000,
            max_sessions_per_address: None,
            handshake_rate: None,
            max_request_header_bytes: 16 * 1024,
            http_body_timeout: Duration::from_secs(10),
        }
    }

    /// How long a WebSocket write may stall before the connection is closed:
    /// `ping_interval + ping_timeout`.
    pub fn ws_write_timeout(&self) -> Duration {
        self.session.ping_interval + self.session.ping_timeout
    }
}

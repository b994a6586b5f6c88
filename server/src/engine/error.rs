//! The Engine.IO HTTP errors, as Node's engine.io sends them.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why an Engine.IO HTTP request was refused. The codes and messages are those of the
/// reference server (`{"code":N,"message":"..."}`, status 400, or 403 for `Forbidden`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Code 0: the `transport` query parameter is missing or unknown.
    #[error("Transport unknown")]
    UnknownTransport,
    /// Code 1: the `sid` does not name a live session.
    #[error("Session ID unknown")]
    UnknownSid,
    /// Code 2: a handshake must be a `GET`.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// Code 3: the request does not fit the session (wrong transport, overlapping poll,
    /// undecodable body, ...).
    #[error("Bad request")]
    BadRequest,
    /// Code 4: refused by the `allow_request` hook.
    #[error("Forbidden")]
    Forbidden,
    /// Code 5: `EIO` is not `4`.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
}

impl EngineError {
    /// The numeric code of the reference server.
    pub fn code(self) -> u8 {
        match self {
            EngineError::UnknownTransport => 0,
            EngineError::UnknownSid => 1,
            EngineError::BadHandshakeMethod => 2,
            EngineError::BadRequest => 3,
            EngineError::Forbidden => 4,
            EngineError::UnsupportedProtocolVersion => 5,
        }
    }
}

impl IntoResponse for EngineError {
    fn into_response(self) -> Response {
        let status = match self {
            EngineError::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = format!("{{\"code\":{},\"message\":\"{}\"}}", self.code(), self);
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

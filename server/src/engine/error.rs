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
    /// The server is at `max_sessions` or shutting down: status 503, body of code 4.
    #[error("Forbidden (server busy)")]
    Busy,
    /// The address is over `max_sessions_per_address` or `handshake_rate`: status 429, body
    /// of code 4.
    #[error("Forbidden (too many requests)")]
    TooManyRequests,
    /// The handshake's head is over `max_request_header_bytes`: status 431, body of code 3.
    #[error("Bad request (headers too large)")]
    HeadersTooLarge,
    /// The polling body did not arrive within `http_body_timeout`: status 408, body of
    /// code 3.
    #[error("Bad request (body timeout)")]
    BodyTimeout,
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
            EngineError::Busy | EngineError::TooManyRequests => 4,
            EngineError::HeadersTooLarge | EngineError::BodyTimeout => 3,
        }
    }

    /// The message of the reference server for [`EngineError::code`].
    pub fn message(self) -> &'static str {
        match self.code() {
            0 => "Transport unknown",
            1 => "Session ID unknown",
            2 => "Bad handshake method",
            3 => "Bad request",
            4 => "Forbidden",
            _ => "Unsupported protocol version",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            EngineError::Forbidden => StatusCode::FORBIDDEN,
            EngineError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            EngineError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            EngineError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for EngineError {
    fn into_response(self) -> Response {
        let body = format!(
            "{{\"code\":{},\"message\":\"{}\"}}",
            self.code(),
            self.message()
        );
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

//! Engine.IO over HTTP: request routing and checks ([`handle`]), long-polling
//! ([`polling`]), WebSocket ([`ws`]), the session tasks ([`session`]) and the HTTP errors
//! ([`error`]).

pub mod error;
pub(crate) mod polling;
pub(crate) mod session;
pub(crate) mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use sockeye_core::engine::Transport;

use crate::handshake::{query_param, RequestInfo};
use crate::io::SocketIo;
use error::EngineError;

/// Answers one request under the Socket.IO path, with the checks of Node's
/// `Server.verify`.
pub(crate) async fn handle(io: SocketIo, req: Request<Body>) -> Response {
    match route(io, req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!("engine.io request refused: {e}");
            e.into_response()
        }
    }
}

async fn route(io: SocketIo, req: Request<Body>) -> Result<Response, EngineError> {
    let (mut parts, body) = req.into_parts();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let transport = query_param(&query, "transport")
        .and_then(Transport::parse)
        .ok_or(EngineError::UnknownTransport)?;
    let enabled = match transport {
        Transport::Polling => io.config().transports[0],
        _ => io.config().transports[1],
    };
    if !enabled {
        return Err(EngineError::UnknownTransport);
    }
    let is_ws = transport == Transport::WebSocket;

    if let Some(sid) = query_param(&query, "sid").filter(|s| !s.is_empty()) {
        let session = io.session(sid).ok_or(EngineError::UnknownSid)?;
        return match (is_ws, &parts.method) {
            (false, &Method::GET) => polling::get(&session).await,
            (false, &Method::POST) => polling::post(&io, &session, body).await,
            (true, &Method::GET) => {
                let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
                    .await
                    .map_err(|_| EngineError::BadRequest)?;
                Ok(ws::upgrade(io, upgrade, Some(session)))
            }
            _ => Err(EngineError::BadRequest),
        };
    }

    // A handshake.
    if parts.method != Method::GET {
        return Err(EngineError::BadHandshakeMethod);
    }
    if query_param(&query, "EIO") != Some("4") {
        return Err(EngineError::UnsupportedProtocolVersion);
    }
    if let Some(allow) = &io.config().allow_request {
        if let Err(why) = allow(&parts) {
            tracing::debug!("handshake refused by allow_request: {why}");
            return Err(EngineError::Forbidden);
        }
    }
    let info = Arc::new(RequestInfo {
        headers: parts.headers.clone(),
        uri: parts.uri.clone(),
        address: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        issued: SystemTime::now(),
    });
    if is_ws {
        let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
            .await
            .map_err(|_| EngineError::BadRequest)?;
        Ok(ws::handshake(io, upgrade, info))
    } else {
        polling::handshake(&io, info).await
    }
}

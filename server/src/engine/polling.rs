//! HTTP long-polling: `GET` waits for data, `POST` carries the client's packets.

use std::sync::Arc;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::Str;
use tokio::sync::oneshot;

use super::admission::Slot;
use super::error::EngineError;
use super::request::RequestInfo;
use super::server::Engine;
use super::session::{self, Input, Protocol, SessionHandle};

/// Opens a polling session and answers the handshake with its `open` packet.
pub(crate) async fn handshake<P: Protocol>(
    engine: &Arc<Engine<P>>,
    info: Arc<RequestInfo>,
    slot: Slot,
) -> Result<Response, EngineError> {
    let handle = session::spawn(engine, Transport::Polling, info, None, slot);
    get(&handle).await
}

/// A polling `GET`: resolves when the session has data (or closes).
pub(crate) async fn get<C: Send + 'static>(
    session: &SessionHandle<C>,
) -> Result<Response, EngineError> {
    let (tx, rx) = oneshot::channel();
    session.input(Input::PollGet(tx)).await?;
    let body = rx.await.map_err(|_| EngineError::UnknownSid)??;
    Ok(poll_response(body))
}

fn poll_response(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=UTF-8")], body).into_response()
}

/// A polling `POST`: hands the body to the session. A body over `max_payload` closes the
/// session (413), as does one that is not UTF-8 (400), or one that does not arrive within
/// `http_body_timeout` (408).
pub(crate) async fn post<P: Protocol>(
    engine: &Engine<P>,
    session: &SessionHandle<P::Command>,
    body: Body,
) -> Result<Response, EngineError> {
    let max = engine.config().session.max_payload;
    let deadline = engine.config().http_body_timeout;
    let bytes = match tokio::time::timeout(deadline, axum::body::to_bytes(body, max)).await {
        Ok(Ok(b)) => b,
        Err(_) => {
            tracing::warn!(sid = %session.sid(), "polling body not received within {deadline:?}; closing the session");
            let _ = session
                .input(Input::Close(CloseReason::TransportError))
                .await;
            return Err(EngineError::BodyTimeout);
        }
        Ok(Err(e)) => {
            tracing::debug!(sid = %session.sid(), "polling body refused: {e}");
            let _ = session
                .input(Input::Close(CloseReason::PayloadTooLarge))
                .await;
            return Ok((
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"code\":3,\"message\":\"Bad request\"}",
            )
                .into_response());
        }
    };
    let Ok(text) = Str::from_utf8(bytes) else {
        let _ = session.input(Input::Close(CloseReason::ParseError)).await;
        return Err(EngineError::BadRequest);
    };
    let permit = session.reserve(text.len()).await?;
    let (tx, rx) = oneshot::channel();
    session.input(Input::PollPost(text, tx, permit)).await?;
    rx.await.map_err(|_| EngineError::UnknownSid)??;
    Ok(([(header::CONTENT_TYPE, "text/html")], "ok").into_response())
}

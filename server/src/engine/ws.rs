//! WebSocket: a session opened directly on WebSocket, or an upgrade of a polling session.
//! A reader loop feeds frames to the session task; a writer task drains a bounded queue of
//! frames (a full queue, in frames or in bytes, closes the session).
//!
//! Limits: frames and messages over `max_payload` are refused by the WebSocket codec before
//! they are buffered; a write that does not progress for `ping_interval + ping_timeout`
//! closes the connection; when the session ends, the connection is dropped (after at most
//! [`CLOSE_GRACE`] to send the close frame), whatever the writer was doing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use sockeye_core::engine::{Frame, Transport};
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot};

use super::admission::Slot;
use super::request::RequestInfo;
use super::server::Engine;
use super::session::{self, frame_len, Input, Protocol, SessionHandle, WsOut, WsSender};

/// How long a WebSocket whose session ended may take to send its close frame.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Initial read buffer of a WebSocket. tungstenite's default (128 KiB) is allocated per
/// connection and was most of an idle client's memory; the buffer grows when a larger
/// message arrives (up to `max_payload`).
const READ_BUFFER: usize = 4 * 1024;
/// How much the writer gathers before writing to the socket (each frame is flushed anyway).
const WRITE_BUFFER: usize = 4 * 1024;

fn limits(ws: WebSocketUpgrade, max_payload: usize) -> WebSocketUpgrade {
    ws.max_message_size(max_payload)
        .max_frame_size(max_payload)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
}

/// A WebSocket-only client's handshake.
pub(crate) fn handshake<P: Protocol>(
    engine: Arc<Engine<P>>,
    ws: WebSocketUpgrade,
    info: Arc<RequestInfo>,
    slot: Slot,
) -> Response {
    let max = engine.config().session.max_payload;
    limits(ws, max).on_upgrade(move |socket| run(engine, socket, Target::New(info, slot)))
}

/// An upgrade of polling session `session`.
pub(crate) fn upgrade<P: Protocol>(
    engine: Arc<Engine<P>>,
    ws: WebSocketUpgrade,
    session: SessionHandle<P::Command>,
) -> Response {
    let max = engine.config().session.max_payload;
    limits(ws, max).on_upgrade(move |socket| run(engine, socket, Target::Existing(session)))
}

enum Target<C> {
    New(Arc<RequestInfo>, Slot),
    Existing(SessionHandle<C>),
}

async fn run<P: Protocol>(engine: Arc<Engine<P>>, socket: WebSocket, target: Target<P::Command>) {
    let (sink, mut stream) = socket.split();
    let cap = engine.config().session.max_queued_packets.max(16);
    let (out_tx, out_rx) = mpsc::channel(cap);
    let bytes = Arc::new(AtomicUsize::new(0));
    let out_tx = WsSender {
        tx: out_tx,
        bytes: bytes.clone(),
    };
    let id = engine.next_ws_id();
    let write_timeout = engine.config().ws_write_timeout();
    let handle = match target {
        Target::New(info, slot) => session::spawn(
            &engine,
            Transport::WebSocket,
            info,
            Some((id, out_tx)),
            slot,
        ),
        Target::Existing(handle) => {
            let (reply_tx, reply_rx) = oneshot::channel();
            let attach = Input::WsAttach {
                id,
                out: out_tx,
                reply: reply_tx,
            };
            if handle.input(attach).await.is_err() || !reply_rx.await.unwrap_or(false) {
                tracing::debug!(sid = %handle.sid(), "upgrade refused");
                let _ = tokio::time::timeout(CLOSE_GRACE, close(sink)).await;
                return;
            }
            handle
        }
    };
    drop(engine);
    let mut writer = tokio::spawn(write_loop(sink, out_rx, bytes, write_timeout));
    let reader = async {
        while let Some(msg) = stream.next().await {
            let frame = match msg {
                // The codec validated it; the read buffer shares its bytes, so `from_utf8`
                // would copy them anyway, and validate them a second time.
                Ok(WsMessage::Text(t)) => Frame::Text(Str::from(String::from(t.as_str()))),
                Ok(WsMessage::Binary(b)) => Frame::Binary(b),
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
                Ok(WsMessage::Close(_)) | Err(_) => break,
            };
            if handle.ws_frame(id, frame).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = reader => {}
        _ = &mut writer => {}
        () = handle.closed() => {}
    }
    let _ = handle.input(Input::WsClosed { id }).await;
    // The writer ends once the session lets go of its queue (at once if the session is
    // over); a stalled one is cut off, and the socket dropped with it.
    if !writer.is_finished()
        && tokio::time::timeout(CLOSE_GRACE, &mut writer)
            .await
            .is_err()
    {
        tracing::debug!(sid = %handle.sid(), "WebSocket writer stalled at close; dropping the connection");
        writer.abort();
    }
}

/// Largest shared text frame (a broadcast's) copied for each recipient rather than shared.
const COPY_SHARED_TEXT: usize = 1024;

/// Most frames written before one flush: what is already queued goes out together.
const WRITE_BATCH: usize = 64;

async fn write_loop(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut rx: mpsc::Receiver<WsOut>,
    bytes: Arc<AtomicUsize>,
    write_timeout: Duration,
) {
    while let Some(first) = rx.recv().await {
        let mut closing = false;
        // Frames already queued behind the first are fed too and flushed once: a burst (acks
        // and broadcasts at once) costs one write, not one per frame. The batch must make
        // progress within `write_timeout`.
        let batch = async {
            let mut next = Some(first);
            let mut fed = 0;
            while let Some(out) = next.take() {
                let frame = match out {
                    WsOut::Frame(frame) => frame,
                    WsOut::Close => {
                        closing = true;
                        break;
                    }
                };
                bytes.fetch_sub(frame_len(&frame), Ordering::Relaxed);
                let msg = match frame {
                    // A `Str` is UTF-8 already: a frame of its own goes as its `String`
                    // (no second validation). A shared one (a broadcast) is copied if
                    // small: handing the shared buffer to the codec allocates too (a
                    // `Bytes` owner), and the codec validates it again. A large one is
                    // shared, not copied per recipient.
                    Frame::Text(s) => match s.try_into_string() {
                        Ok(s) => Some(WsMessage::Text(Utf8Bytes::from(s))),
                        Err(s) if s.len() <= COPY_SHARED_TEXT => {
                            Some(WsMessage::Text(Utf8Bytes::from(s.as_str())))
                        }
                        Err(s) => Utf8Bytes::try_from(s.into_bytes())
                            .ok()
                            .map(WsMessage::Text),
                    },
                    Frame::Binary(b) => Some(WsMessage::Binary(b)),
                };
                if let Some(msg) = msg {
                    sink.feed(msg).await?;
                    fed += 1;
                }
                if fed < WRITE_BATCH && !rx.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            sink.flush().await
        };
        if !within(write_timeout, batch).await {
            return;
        }
        if closing {
            break;
        }
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, close(sink)).await;
}

/// Runs a write of the socket; false if it failed or could not progress for `limit`.
async fn within(
    limit: Duration,
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> bool {
    let mut write = std::pin::pin!(write);
    // Most writes complete at once (the socket has room): those arm no timer, which was a
    // tenth of the cost of a broadcast's delivery.
    let done = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    let result = match done {
        Poll::Ready(r) => Ok(r),
        Poll::Pending => tokio::time::timeout(limit, write).await,
    };
    match result {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::warn!("WebSocket write stalled for {limit:?}; closing the connection");
            false
        }
    }
}

async fn close(mut sink: SplitSink<WebSocket, WsMessage>) {
    let _ = sink.send(WsMessage::Close(None)).await;
    let _ = sink.close().await;
}

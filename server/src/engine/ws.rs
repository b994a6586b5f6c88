//! WebSocket: a session opened directly on WebSocket, or an upgrade of a polling session.
//! A reader loop feeds frames to the session task; a writer task drains a bounded queue of
//! frames (a full queue closes the session).

use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use sockeye_core::engine::{Frame, Transport};
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot};

use super::request::RequestInfo;
use super::server::Engine;
use super::session::{self, Input, Protocol, SessionHandle, WsOut};

/// A WebSocket-only client's handshake.
pub(crate) fn handshake<P: Protocol>(
    engine: Arc<Engine<P>>,
    ws: WebSocketUpgrade,
    info: Arc<RequestInfo>,
) -> Response {
    let max = engine.config().session.max_payload;
    ws.max_message_size(max)
        .on_upgrade(move |socket| run(engine, socket, Target::New(info)))
}

/// An upgrade of polling session `session`.
pub(crate) fn upgrade<P: Protocol>(
    engine: Arc<Engine<P>>,
    ws: WebSocketUpgrade,
    session: SessionHandle<P::Command>,
) -> Response {
    let max = engine.config().session.max_payload;
    ws.max_message_size(max)
        .on_upgrade(move |socket| run(engine, socket, Target::Existing(session)))
}

enum Target<C> {
    New(Arc<RequestInfo>),
    Existing(SessionHandle<C>),
}

async fn run<P: Protocol>(engine: Arc<Engine<P>>, socket: WebSocket, target: Target<P::Command>) {
    let (sink, mut stream) = socket.split();
    let cap = engine.config().session.max_queued_packets.max(16);
    let (out_tx, out_rx) = mpsc::channel(cap);
    let id = engine.next_ws_id();
    let handle = match target {
        Target::New(info) => {
            session::spawn(&engine, Transport::WebSocket, info, Some((id, out_tx)))
        }
        Target::Existing(handle) => {
            let (reply_tx, reply_rx) = oneshot::channel();
            let attach = Input::WsAttach {
                id,
                out: out_tx,
                reply: reply_tx,
            };
            if handle.input(attach).await.is_err() || !reply_rx.await.unwrap_or(false) {
                tracing::debug!(sid = %handle.sid(), "upgrade refused");
                close(sink).await;
                return;
            }
            handle
        }
    };
    drop(engine);
    let mut writer = tokio::spawn(write_loop(sink, out_rx));
    let reader = async {
        while let Some(msg) = stream.next().await {
            let frame = match msg {
                Ok(WsMessage::Text(t)) => match Str::from_utf8(Bytes::from(t)) {
                    Ok(s) => Frame::Text(s),
                    Err(_) => break,
                },
                Ok(WsMessage::Binary(b)) => Frame::Binary(b),
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
                Ok(WsMessage::Close(_)) | Err(_) => break,
            };
            if handle.input(Input::WsFrame { id, frame }).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        () = reader => {}
        _ = &mut writer => {}
    }
    let _ = handle.input(Input::WsClosed { id }).await;
}

async fn write_loop(mut sink: SplitSink<WebSocket, WsMessage>, mut rx: mpsc::Receiver<WsOut>) {
    while let Some(out) = rx.recv().await {
        let msg = match out {
            WsOut::Frame(Frame::Text(s)) => match Utf8Bytes::try_from(s.into_bytes()) {
                Ok(t) => WsMessage::Text(t),
                Err(_) => continue,
            },
            WsOut::Frame(Frame::Binary(b)) => WsMessage::Binary(b),
            WsOut::Close => break,
        };
        if sink.send(msg).await.is_err() {
            return;
        }
    }
    close(sink).await;
}

async fn close(mut sink: SplitSink<WebSocket, WsMessage>) {
    let _ = sink.send(WsMessage::Close(None)).await;
    let _ = sink.close().await;
}

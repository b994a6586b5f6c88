//! WebSocket: a session opened directly on WebSocket, or an upgrade of a polling session.
//! A reader loop feeds frames to the session (applied by the reader itself when the session
//! is idle). Frames out are written to the socket by whoever sends them ([`WsSender`]) while
//! nothing waits before them and the socket takes them; the rest goes through a bounded
//! queue that a writer task drains (a full queue, in frames or in bytes, closes the
//! session).
//!
//! Limits: frames and messages over `max_payload` are refused by the WebSocket codec before
//! they are buffered; a write that does not progress for `ping_interval + ping_timeout`
//! closes the connection; when the session ends, the connection is dropped (after at most
//! [`CLOSE_GRACE`] to send the close frame), whatever the writer was doing.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt, StreamExt};
use sockeye_core::engine::{Frame, Transport};
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::admission::Slot;
use super::request::RequestInfo;
use super::server::Engine;
use super::session::{self, frame_len, Input, Protocol, SessionHandle};

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
    let out = Arc::new(Out {
        bytes: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        stopped: AtomicBool::new(false),
        sink: Mutex::new(sink),
    });
    let out_tx = WsSender {
        tx: out_tx,
        out: out.clone(),
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
                let mut sink = out.sink.lock().await;
                let _ = tokio::time::timeout(CLOSE_GRACE, close(&mut sink)).await;
                return;
            }
            handle
        }
    };
    drop(engine);
    let mut writer = tokio::spawn(write_loop(out, out_rx, write_timeout));
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

/// What a WebSocket writer task is told to do.
#[derive(Debug)]
enum WsOut {
    Frame(Frame),
    /// A frame was handed to the codec by [`WsSender::send`] but could not be written at
    /// once: the writer finishes the write.
    Flush,
    Close,
}

/// A WebSocket's writing side, shared by its writer task and its senders.
struct Out {
    /// Bytes of the frames queued for the writer (the byte budget).
    bytes: AtomicUsize,
    /// Queued items (frames, flushes) the writer has not handed to the codec yet: while there
    /// are any, a frame must queue behind them.
    pending: AtomicUsize,
    /// The writer task has ended: everything goes to the (closed) queue.
    stopped: AtomicBool,
    sink: Mutex<SplitSink<WebSocket, WsMessage>>,
}

/// The sending side of a WebSocket: a frame is written to the socket at once by the sender
/// when nothing is queued and the writer is idle (most frames: a task wake-up and a switch
/// less per frame), else queued for the writer task, bounded in frames (by the channel) and
/// in bytes (which the writer decrements once a frame is written).
#[derive(Clone)]
pub(crate) struct WsSender {
    tx: mpsc::Sender<WsOut>,
    out: Arc<Out>,
}

/// The queue is over its frame or byte budget: the client does not read.
#[derive(Debug)]
pub(crate) struct QueueFull;

impl WsSender {
    /// Sends `frame`: written now if the socket takes it, else queued (`budget`: most bytes
    /// queued).
    pub(crate) fn send(&self, frame: Frame, budget: usize) -> Result<(), QueueFull> {
        let frame = match self.write_now(frame) {
            Ok(()) => return Ok(()),
            Err(frame) => frame,
        };
        let len = frame_len(&frame);
        let queued = self.out.bytes.fetch_add(len, Ordering::Relaxed) + len;
        if queued > budget {
            return Err(QueueFull);
        }
        self.queue(WsOut::Frame(frame))
    }

    /// Tells the writer to close the socket once the frames before are written.
    pub(crate) fn close(&self) {
        let _ = self.queue(WsOut::Close);
    }

    /// Whether the queue has room (under half its frames and bytes), as Node's
    /// `transport.writable`.
    pub(crate) fn writable(&self, budget: usize) -> bool {
        self.tx.capacity() > self.tx.max_capacity() / 2
            && self.out.bytes.load(Ordering::Relaxed) < budget / 2
    }

    fn queue(&self, item: WsOut) -> Result<(), QueueFull> {
        self.out.pending.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(item) {
            Err(mpsc::error::TrySendError::Full(_)) => Err(QueueFull),
            // A writer that is gone ended the connection: the frame is moot.
            _ => Ok(()),
        }
    }

    /// Writes `frame` to the socket in the caller's task if nothing is queued before it and
    /// the writer is not writing; the frame is given back otherwise, or if the socket cannot
    /// take it now. A write the socket takes only in part is finished by the writer task.
    fn write_now(&self, frame: Frame) -> Result<(), Frame> {
        let out = &*self.out;
        if out.pending.load(Ordering::Acquire) != 0 || out.stopped.load(Ordering::Acquire) {
            return Err(frame);
        }
        let Ok(mut sink) = out.sink.try_lock() else {
            return Err(frame);
        };
        // The writer decrements `pending` while it holds the lock: checked again under it.
        if out.pending.load(Ordering::Acquire) != 0 {
            return Err(frame);
        }
        let mut frame = Some(frame);
        let mut flushed = Poll::Pending;
        let write = std::future::poll_fn(|cx| {
            flushed = write_frame(&mut sink, &mut frame, cx);
            Poll::Ready(())
        });
        // Outside tokio's cooperative budget: the budget is the caller's (a broadcast writes
        // to thousands of sockets), and a write refused for it would wake this socket's
        // reader (the codec's waker wakes both directions) and leave the frame to the
        // writer. Queuing in a channel, as before, took no budget either. No task is woken
        // by this context: a write left pending is handed to the writer task, whose own
        // poll registers its waker (the socket's readiness is checked again then, so no
        // wake-up is lost).
        let mut write = std::pin::pin!(tokio::task::coop::unconstrained(write));
        let _ = write.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        drop(sink);
        if let Some(frame) = frame {
            return Err(frame);
        }
        if !matches!(flushed, Poll::Ready(Ok(()))) {
            // Unfinished, or failed: the writer finishes it or meets the error and ends.
            let _ = self.queue(WsOut::Flush);
        }
        Ok(())
    }
}

/// Hands `frame` to the codec (taking it, unless the sink cannot take a message now) and
/// flushes.
fn write_frame(
    sink: &mut SplitSink<WebSocket, WsMessage>,
    frame: &mut Option<Frame>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), axum::Error>> {
    match Pin::new(&mut *sink).poll_ready(cx) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(_)) | Poll::Pending => return Poll::Pending,
    }
    let Some(msg) = frame.take().and_then(message) else {
        return Poll::Ready(Ok(()));
    };
    Pin::new(&mut *sink).start_send(msg)?;
    Pin::new(&mut *sink).poll_flush(cx)
}

/// Largest shared text frame (a broadcast's) copied for each recipient rather than shared.
const COPY_SHARED_TEXT: usize = 1024;

/// The WebSocket message of a frame (None: a shared text frame that is not UTF-8, which a
/// `Str` never is).
fn message(frame: Frame) -> Option<WsMessage> {
    match frame {
        // A `Str` is UTF-8 already: a frame of its own goes as its `String` (no second
        // validation). A shared one (a broadcast) is copied if small: handing the shared
        // buffer to the codec allocates too (a `Bytes` owner), and the codec validates it
        // again. A large one is shared, not copied per recipient.
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
    }
}

/// Most frames written before one flush: what is already queued goes out together.
const WRITE_BATCH: usize = 64;

async fn write_loop(out: Arc<Out>, mut rx: mpsc::Receiver<WsOut>, write_timeout: Duration) {
    while let Some(first) = rx.recv().await {
        // Held while the writer has work (`first` still counts in `pending` meanwhile, so
        // no sender writes before it); released when idle, for senders to write directly.
        let mut sink = out.sink.lock().await;
        let mut closing = false;
        // Frames already queued behind the first are fed too and flushed once: a burst (acks
        // and broadcasts at once) costs one write, not one per frame. The batch must make
        // progress within `write_timeout`.
        let batch = async {
            let mut next = Some(first);
            let mut fed = 0;
            while let Some(item) = next.take() {
                match item {
                    WsOut::Frame(frame) => {
                        out.bytes.fetch_sub(frame_len(&frame), Ordering::Relaxed);
                        if let Some(msg) = message(frame) {
                            sink.feed(msg).await?;
                            fed += 1;
                        }
                    }
                    WsOut::Flush => {}
                    WsOut::Close => closing = true,
                }
                out.pending.fetch_sub(1, Ordering::AcqRel);
                if closing {
                    break;
                }
                if fed < WRITE_BATCH && !rx.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            sink.flush().await
        };
        if !within(write_timeout, batch).await {
            out.stopped.store(true, Ordering::Release);
            return;
        }
        if closing {
            break;
        }
    }
    out.stopped.store(true, Ordering::Release);
    let mut sink = out.sink.lock().await;
    let _ = tokio::time::timeout(CLOSE_GRACE, close(&mut sink)).await;
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

async fn close(sink: &mut SplitSink<WebSocket, WsMessage>) {
    let _ = sink.send(WsMessage::Close(None)).await;
    let _ = sink.close().await;
}

//! One Engine.IO session as one tokio task: it owns the core's [`Session`] and
//! [`Connection`], takes inputs from an mpsc channel (HTTP requests, WebSocket frames, emits
//! from handlers, broadcasts) and runs the core's timers with `sleep_until`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sockeye_core::engine::server::{Event as EngineEvent, Prepared, Session, Transmit};
use sockeye_core::engine::{CloseReason, Frame, Transport};
use sockeye_core::socket::server::{Connection, Event as SocketEvent};
use sockeye_core::Str;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::ack::AckError;
use crate::engine::error::EngineError;
use crate::handshake::RequestInfo;
use crate::io::SocketIo;
use crate::ns::ConnectError;
use crate::payload::Payload;
use crate::recovery::{parse_auth, StoredPacket};
use crate::socket::{DisconnectReason, SocketRef};

/// What a WebSocket writer task is told to do.
#[derive(Debug)]
pub(crate) enum WsOut {
    Frame(Frame),
    Close,
}

/// A reply channel for a pending ack.
pub(crate) type AckReply = oneshot::Sender<Result<Payload, AckError>>;

/// The inputs of a session task.
pub(crate) enum Input {
    PollGet(oneshot::Sender<Result<Bytes, EngineError>>),
    PollPost(Str, oneshot::Sender<Result<(), EngineError>>),
    WsAttach {
        id: u64,
        out: mpsc::Sender<WsOut>,
        reply: oneshot::Sender<bool>,
    },
    WsFrame {
        id: u64,
        frame: Frame,
    },
    WsClosed {
        id: u64,
    },
    /// The namespace's middlewares ran for `socket` (or its state was recovered, with the
    /// packets it missed).
    Connected {
        socket: SocketRef,
        result: Result<(), ConnectError>,
        missed: Vec<StoredPacket>,
    },
    Emit {
        nsp: Str,
        data: Str,
        attachments: Vec<Bytes>,
        ack: Option<(AckReply, Duration)>,
    },
    Ack {
        nsp: Str,
        id: u64,
        payload: Payload,
    },
    /// A broadcast, encoded once; `volatile` ones are dropped if the transport cannot take
    /// them now.
    Encoded {
        prepared: Arc<[Prepared]>,
        volatile: bool,
    },
    Disconnect {
        nsp: Str,
    },
    Close(CloseReason),
}

/// The handle the rest of the server keeps to a session task.
#[derive(Clone)]
pub(crate) struct SessionHandle {
    pub sid: Str,
    pub tx: mpsc::Sender<Input>,
    /// Notified when a broadcast found the input queue full: the session closes.
    pub overflow: Arc<Notify>,
}

impl SessionHandle {
    /// Queues `input` without waiting. A full queue means the client does not keep up: the
    /// session is closed (or, for `volatile` data, the input is dropped).
    pub fn deliver(&self, input: Input, volatile: bool) -> bool {
        match self.tx.try_send(input) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !volatile {
                    tracing::warn!(sid = %self.sid, "outgoing queue full; closing the session");
                    self.overflow.notify_one();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

struct SessionTask {
    io: SocketIo,
    session: Session,
    conn: Connection,
    handle: SessionHandle,
    info: Arc<RequestInfo>,
    pending_poll: Option<oneshot::Sender<Result<Bytes, EngineError>>>,
    ws: Option<(u64, mpsc::Sender<WsOut>)>,
    sockets: HashMap<Str, SocketRef>,
    acks: HashMap<(Str, u64), AckReply>,
    closed: Option<CloseReason>,
}

/// Starts a session on `transport` and registers it. For a WebSocket session, `ws` is the
/// socket's writer; for polling, send the handshake's [`Input::PollGet`] next.
pub(crate) fn spawn(
    io: &SocketIo,
    transport: Transport,
    info: Arc<RequestInfo>,
    ws: Option<(u64, mpsc::Sender<WsOut>)>,
) -> SessionHandle {
    let sid = crate::sid::generate();
    let cfg = io.config();
    let now = io.now();
    let (tx, rx) = mpsc::channel(cfg.max_buffer_size.max(16));
    let handle = SessionHandle {
        sid: sid.clone(),
        tx,
        overflow: Arc::new(Notify::new()),
    };
    let task = SessionTask {
        io: io.clone(),
        session: Session::new(sid.clone(), transport, cfg.engine.clone(), now),
        conn: Connection::new(cfg.socket.clone(), now),
        handle: handle.clone(),
        info,
        pending_poll: None,
        ws,
        sockets: HashMap::new(),
        acks: HashMap::new(),
        closed: None,
    };
    io.insert_session(handle.clone());
    tracing::debug!(%sid, transport = transport.as_str(), "session opened");
    tokio::spawn(task.run(rx));
    handle
}

enum Wake {
    Input(Option<Input>),
    Timeout,
    PollClosed,
    Overflow,
}

impl SessionTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        self.pump();
        while self.closed.is_none() {
            let deadline = [self.session.poll_timeout(), self.conn.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .map(|d| self.io.deadline(d));
            let wake = {
                let sleep = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                };
                let poll_closed = async {
                    match self.pending_poll.as_mut() {
                        Some(tx) => tx.closed().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    input = rx.recv() => Wake::Input(input),
                    () = sleep => Wake::Timeout,
                    () = poll_closed => Wake::PollClosed,
                    () = self.handle.overflow.notified() => Wake::Overflow,
                }
            };
            let now = self.io.now();
            match wake {
                Wake::Input(Some(input)) => self.handle_input(input),
                Wake::Input(None) => self.session.close(now, CloseReason::ServerShutdown),
                Wake::Timeout => {
                    self.session.handle_timeout(now);
                    self.conn.handle_timeout(now);
                }
                Wake::PollClosed => {
                    self.pending_poll = None;
                    self.session.handle_poll_closed(now);
                }
                Wake::Overflow => self.session.close(now, CloseReason::QueueFull),
            }
            self.pump();
        }
        self.io.remove_session(&self.handle.sid);
        // Answer whatever is still waiting, so no request hangs.
        rx.close();
        while let Ok(input) = rx.try_recv() {
            match input {
                // Raced with the close: to the client the session is gone.
                Input::PollGet(reply) => {
                    let _ = reply.send(Err(EngineError::UnknownSid));
                }
                Input::PollPost(_, reply) => {
                    let _ = reply.send(Err(EngineError::UnknownSid));
                }
                Input::WsAttach { reply, .. } => {
                    let _ = reply.send(false);
                }
                _ => {}
            }
        }
        tracing::debug!(sid = %self.handle.sid, reason = ?self.closed, "session task ended");
    }

    fn handle_input(&mut self, input: Input) {
        let now = self.io.now();
        match input {
            Input::PollGet(reply) => match self.session.handle_poll_get(now) {
                Ok(()) => {
                    self.pending_poll = Some(reply);
                }
                Err(e) => {
                    tracing::debug!(sid = %self.handle.sid, "poll refused: {e}");
                    let _ = reply.send(Err(EngineError::BadRequest));
                }
            },
            Input::PollPost(body, reply) => {
                let result = self.session.handle_poll_post(now, body).map_err(|e| {
                    tracing::debug!(sid = %self.handle.sid, "post refused: {e}");
                    EngineError::BadRequest
                });
                let _ = reply.send(result);
            }
            Input::WsAttach { id, out, reply } => {
                let ok = self.session.handle_ws_attach(now).is_ok();
                if ok {
                    self.ws = Some((id, out));
                }
                let _ = reply.send(ok);
            }
            Input::WsFrame { id, frame } => {
                if self.ws.as_ref().is_some_and(|(cur, _)| *cur == id) {
                    if let Err(e) = self.session.handle_ws_frame(now, frame) {
                        tracing::debug!(sid = %self.handle.sid, "bad frame: {e}");
                    }
                }
            }
            Input::WsClosed { id } => {
                if self.ws.as_ref().is_some_and(|(cur, _)| *cur == id) {
                    self.ws = None;
                    self.session.handle_ws_closed(now);
                }
            }
            Input::Connected {
                socket,
                result,
                missed,
            } => self.finish_connect(socket, result, missed),
            Input::Emit {
                nsp,
                data,
                attachments,
                ack,
            } => match ack {
                None => {
                    let _ = self.conn.emit(&nsp, data, attachments);
                }
                Some((reply, timeout)) => {
                    match self
                        .conn
                        .emit_with_ack(now, &nsp, data, attachments, Some(timeout))
                    {
                        Ok(id) => {
                            self.acks.insert((nsp, id), reply);
                        }
                        Err(_) => {
                            let _ = reply.send(Err(AckError::Disconnected));
                        }
                    }
                }
            },
            Input::Ack { nsp, id, payload } => {
                let _ = self.conn.ack(&nsp, id, payload.args, payload.attachments);
            }
            Input::Encoded { volatile, .. } if volatile && !self.writable() => {
                tracing::trace!(sid = %self.handle.sid, "volatile packet dropped");
            }
            Input::Encoded { prepared, .. } => {
                // The connection's own queue is empty between inputs (see `pump`), so
                // handing the shared frames to the session directly keeps the order.
                for p in prepared.iter() {
                    if self.session.send_prepared(p.clone()).is_err() {
                        break;
                    }
                }
            }
            Input::Disconnect { nsp } => {
                self.conn.disconnect(&nsp);
                self.close_socket(&nsp, DisconnectReason::ServerNamespaceDisconnect);
            }
            // A graceful close on polling waits in the core for the client's next poll,
            // so that it gets the `close` packet (as Node's polling transport does).
            Input::Close(reason) => self.session.close(now, reason),
        }
    }

    /// Whether the transport can take data now (a poll is pending, or the WebSocket's write
    /// queue has room), as Node's `transport.writable`.
    fn writable(&self) -> bool {
        match self.session.transport() {
            Transport::Polling => self.session.has_pending_poll(),
            _ => self
                .ws
                .as_ref()
                .is_some_and(|(_, out)| out.capacity() > out.max_capacity() / 2),
        }
    }

    /// Moves data between the two state machines and out to the transports until nothing
    /// is left to do.
    fn pump(&mut self) {
        loop {
            let mut progress = false;
            while let Some(ev) = self.session.poll_event() {
                progress = true;
                self.handle_engine_event(ev);
            }
            while let Some(ev) = self.conn.poll_event() {
                progress = true;
                self.handle_socket_event(ev);
            }
            while let Some(m) = self.conn.poll_message() {
                progress = true;
                if self.session.send(m).is_err() {
                    // Closed: drain and drop the rest.
                    while self.conn.poll_message().is_some() {}
                }
            }
            while let Some(t) = self.session.poll_transmit() {
                progress = true;
                self.transmit(t);
            }
            if !progress {
                break;
            }
        }
    }

    fn transmit(&mut self, t: Transmit) {
        match t {
            Transmit::PollResponse(body) => {
                if let Some(reply) = self.pending_poll.take() {
                    let _ = reply.send(Ok(body));
                }
            }
            Transmit::Ws(frame) => {
                let full = match &self.ws {
                    Some((_, out)) => matches!(
                        out.try_send(WsOut::Frame(frame)),
                        Err(mpsc::error::TrySendError::Full(_))
                    ),
                    None => false,
                };
                if full {
                    tracing::warn!(sid = %self.handle.sid, "WebSocket write queue full; closing");
                    self.ws = None;
                    self.session.close(self.io.now(), CloseReason::QueueFull);
                }
            }
            Transmit::CloseWs => {
                if let Some((_, out)) = self.ws.take() {
                    let _ = out.try_send(WsOut::Close);
                }
            }
            _ => {}
        }
    }

    fn handle_engine_event(&mut self, ev: EngineEvent) {
        match ev {
            EngineEvent::Message(m) => self.conn.handle_message(self.io.now(), m),
            EngineEvent::Upgraded => {
                tracing::debug!(sid = %self.handle.sid, "upgraded to websocket");
            }
            EngineEvent::Closed(reason) => {
                tracing::debug!(sid = %self.handle.sid, reason = reason.as_str(), "session closed");
                self.closed = Some(reason);
                let nsps: Vec<Str> = self.sockets.keys().cloned().collect();
                for nsp in nsps {
                    self.close_socket(&nsp, DisconnectReason::from_close(reason));
                }
                for (_, reply) in self.acks.drain() {
                    let _ = reply.send(Err(AckError::Disconnected));
                }
            }
            _ => {}
        }
    }

    fn handle_socket_event(&mut self, ev: SocketEvent) {
        match ev {
            SocketEvent::ConnectRequest { nsp, auth } => self.start_connect(nsp, auth),
            SocketEvent::Event {
                nsp,
                data,
                attachments,
                id,
            } => {
                let full = self
                    .sockets
                    .get(&nsp)
                    .is_some_and(|socket| !socket.dispatch(data, attachments, id));
                if full {
                    tracing::warn!(sid = %self.handle.sid, "event queue full; closing the session");
                    self.session.close(self.io.now(), CloseReason::QueueFull);
                }
            }
            SocketEvent::Ack {
                nsp,
                id,
                data,
                attachments,
            } => {
                if let Some(reply) = self.acks.remove(&(nsp, id)) {
                    let _ = reply.send(Ok(Payload {
                        args: data,
                        attachments,
                    }));
                }
            }
            SocketEvent::AckTimeout { nsp, id } => {
                if let Some(reply) = self.acks.remove(&(nsp, id)) {
                    let _ = reply.send(Err(AckError::Timeout));
                }
            }
            SocketEvent::Disconnect { nsp } => {
                self.close_socket(&nsp, DisconnectReason::ClientNamespaceDisconnect);
            }
            SocketEvent::ConnectTimeout => {
                tracing::debug!(sid = %self.handle.sid, "no namespace joined in time");
                self.session.close(self.io.now(), CloseReason::ForcedClose);
            }
            SocketEvent::ProtocolError(e) => {
                tracing::debug!(sid = %self.handle.sid, "protocol error: {e}");
                self.session.close(self.io.now(), CloseReason::ParseError);
            }
            _ => {}
        }
    }

    fn start_connect(&mut self, nsp: Str, auth: Option<Str>) {
        let Some(ns) = self.io.namespace(&nsp) else {
            self.conn.reject(&nsp, "Invalid namespace", None);
            return;
        };
        let restored = match (ns.recovery(), auth.as_deref().and_then(parse_auth)) {
            (Some(store), Some((pid, offset))) => {
                store.restore(&pid, &offset).map(|r| (r, Str::from(pid)))
            }
            _ => None,
        };
        // A recovered socket gets its old id and rooms back and skips the middlewares; a new
        // one runs them and joins its own room. Either way the session task hears the outcome
        // as `Input::Connected`.
        let (socket, recovered) = match restored {
            Some((recovered, pid)) => {
                tracing::debug!(sid = %recovered.sid, "connection state recovered");
                let restored_ids = Some((recovered.sid.clone(), pid));
                let socket = SocketRef::new(
                    ns,
                    self.handle.clone(),
                    self.info.clone(),
                    auth,
                    restored_ids,
                );
                (socket, Some(recovered))
            }
            None => (
                SocketRef::new(ns, self.handle.clone(), self.info.clone(), auth, None),
                None,
            ),
        };
        let tx = self.handle.tx.clone();
        tokio::spawn(async move {
            let (result, missed) = match recovered {
                Some(recovered) => {
                    let result = socket
                        .join(recovered.rooms)
                        .await
                        .map_err(|e| ConnectError::new(e.to_string()));
                    (result, recovered.missed)
                }
                None => (admit(&socket).await, Vec::new()),
            };
            let _ = tx
                .send(Input::Connected {
                    socket,
                    result,
                    missed,
                })
                .await;
        });
    }

    fn finish_connect(
        &mut self,
        socket: SocketRef,
        result: Result<(), ConnectError>,
        missed: Vec<StoredPacket>,
    ) {
        let nsp = socket.ns_name().clone();
        match result {
            Ok(()) => {
                if self.closed.is_some() || self.conn.is_connected(&nsp) {
                    socket.abandon();
                    return;
                }
                self.conn.accept(&nsp, socket.id(), socket.pid());
                for p in missed {
                    let _ = self.conn.emit(&nsp, p.data, p.attachments);
                }
                self.sockets.insert(nsp, socket.clone());
                socket.start();
            }
            Err(e) => self.conn.reject(&nsp, &e.message, e.data.as_deref()),
        }
    }

    fn close_socket(&mut self, nsp: &str, reason: DisconnectReason) {
        if let Some(socket) = self.sockets.remove(nsp) {
            self.acks.retain(|(n, _), _| n != nsp);
            socket.closed(reason);
        }
    }
}

/// Runs the namespace's middlewares for a new socket, then puts it in its own room (before
/// the client hears it is connected).
async fn admit(socket: &SocketRef) -> Result<(), ConnectError> {
    for m in socket.namespace().middlewares() {
        m(socket.connect_ctx()).await?;
    }
    socket.join(socket.id().to_owned()).await.map_err(|e| {
        tracing::warn!("adapter: {e}");
        ConnectError::new("adapter failure")
    })
}

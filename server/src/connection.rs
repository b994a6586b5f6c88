//! The Socket.IO layer on one Engine.IO session: [`SocketIoProtocol`] plugs into the
//! Engine.IO layer, gives each session the core's `socket::server::Connection`, and keeps,
//! inside the session's task, the session's sockets (one per namespace) and the acks they
//! wait for. Handlers and operators reach a session with [`Command`]s.

use foldhash::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use sockeye_core::engine::server::Machine;
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::socket::recovery::{self, StoredPacket};
use sockeye_core::socket::server::{Connection, DisconnectReason, Event};
use sockeye_core::{Instant, Str};
use tokio::sync::oneshot;

use crate::ack::AckError;
use crate::engine::{EngineConfig, Protocol, RequestInfo, SessionHandle};
use crate::io::{IoInner, Limit, SocketIo};
use crate::ns::ConnectError;
use crate::payload::Payload;
use crate::socket::{Dispatch, Dispatched, SocketRef};

/// A reply channel for a pending ack.
pub(crate) type AckReply = oneshot::Sender<Result<Payload, AckError>>;

/// The handle of a session, as the Socket.IO layer holds it.
pub(crate) type Session = SessionHandle<Command>;

/// What the Socket.IO layer asks of a session's task.
pub enum Command {
    /// The namespace's middlewares ran for `socket` (or its state was recovered, with the
    /// packets it missed).
    Connected {
        /// The socket.
        socket: PendingSocket,
        /// The middlewares' verdict.
        result: Result<(), ConnectError>,
        /// Packets to replay (recovery).
        missed: Vec<StoredPacket>,
    },
    /// Send an event (`data` the raw array `["name", ...]`), with an ack reply if wanted.
    Emit {
        /// Namespace.
        nsp: Str,
        /// The event array.
        data: Str,
        /// Binary attachments.
        attachments: Vec<Bytes>,
        /// Where the ack goes, and how long to wait for it.
        ack: Option<(AckReply, Duration)>,
    },
    /// Answer the client's event `id`.
    Ack {
        /// Namespace.
        nsp: Str,
        /// The client's ack id.
        id: u64,
        /// The arguments.
        payload: Payload,
    },
    /// Remove the socket of `nsp` (the client gets a `DISCONNECT`).
    Disconnect {
        /// Namespace.
        nsp: Str,
    },
}

impl Command {
    /// The bytes it will send (its data and attachments), for the session input queue's
    /// byte budget.
    pub(crate) fn byte_len(&self) -> usize {
        let (data, attachments) = match self {
            Command::Emit {
                data, attachments, ..
            } => (data.len(), attachments),
            Command::Ack { payload, .. } => (payload.args.len(), &payload.attachments),
            Command::Connected { .. } | Command::Disconnect { .. } => return 0,
        };
        data + attachments.iter().map(Bytes::len).sum::<usize>()
    }
}

/// A socket whose CONNECT is being decided. Dropped unanswered (the session ended before
/// it heard the outcome), the socket leaves its rooms and its namespace.
pub struct PendingSocket(Option<SocketRef>);

impl PendingSocket {
    fn take(mut self) -> SocketRef {
        self.0.take().expect("taken once")
    }
}

impl Drop for PendingSocket {
    fn drop(&mut self) {
        if let Some(socket) = self.0.take() {
            socket.abandon();
        }
    }
}

/// Events of a session to run once its lock is released ([`SocketRef::run_inline`]).
pub struct InlineEvents(Vec<(SocketRef, Dispatch)>);

/// The Socket.IO layer as an Engine.IO [`Protocol`]. Not used directly: [`SocketIo`] owns it.
pub struct SocketIoProtocol {
    pub(crate) io: Weak<IoInner>,
}

/// What the Socket.IO layer keeps per session, in its task.
pub struct SessionState {
    handle: Session,
    info: Arc<RequestInfo>,
    sockets: HashMap<Str, SocketRef>,
    acks: HashMap<(Str, u64), AckReply>,
    /// CONNECTs whose outcome has not come back yet.
    connecting: usize,
    /// A socket's event queue overflowed and the session is closing: the events still
    /// decoded from the same body are dropped without a word (the cap is logged once).
    overflowed: bool,
    /// Events to run once the session's lock is released ([`SocketRef::run_inline`]).
    inline: Vec<(SocketRef, Dispatch)>,
}

impl Protocol for SocketIoProtocol {
    type Machine = Connection;
    type Command = Command;
    type State = SessionState;
    type Deferred = InlineEvents;

    fn take_deferred(&self, state: &mut SessionState) -> Option<InlineEvents> {
        (!state.inline.is_empty()).then(|| InlineEvents(std::mem::take(&mut state.inline)))
    }

    fn run_deferred(&self, deferred: InlineEvents) {
        for (socket, event) in deferred.0 {
            socket.run_inline(event);
        }
    }

    fn open(
        &self,
        config: &EngineConfig,
        handle: &Session,
        transport: Transport,
        info: Arc<RequestInfo>,
        now: Instant,
    ) -> (Connection, SessionState) {
        let socket_config = self
            .io
            .upgrade()
            .map(|io| io.config.socket.clone())
            .unwrap_or_default();
        let conn = Connection::new(
            handle.sid().clone(),
            transport,
            config.session.clone(),
            socket_config,
            now,
        );
        let state = SessionState {
            handle: handle.clone(),
            info,
            sockets: HashMap::default(),
            acks: HashMap::default(),
            connecting: 0,
            overflowed: false,
            inline: Vec::new(),
        };
        (conn, state)
    }

    fn on_event(&self, st: &mut SessionState, conn: &mut Connection, now: Instant, ev: Event) {
        match ev {
            Event::Connect { nsp, auth } => match self.io.upgrade() {
                Some(io) => st.start_connect(&SocketIo(io), conn, now, nsp, auth),
                None => conn.reject(&nsp, "server closed", None),
            },
            Event::Event {
                nsp,
                name,
                args,
                attachments,
                id,
            } => {
                if st.overflowed {
                    return;
                }
                let payload = Payload { args, attachments };
                let Some(socket) = st.sockets.get(&nsp) else {
                    return;
                };
                let full = match socket.dispatch(name, payload, id) {
                    Dispatched::Queued => false,
                    Dispatched::Full => true,
                    Dispatched::Inline(event) => {
                        st.inline.push((socket.clone(), event));
                        false
                    }
                };
                if full {
                    st.overflowed = true;
                    tracing::warn!(sid = %st.handle.sid(), "event queue full; closing the session");
                    conn.close(now, CloseReason::QueueFull);
                }
            }
            Event::Ack {
                nsp,
                id,
                args,
                attachments,
            } => {
                if let Some(reply) = st.acks.remove(&(nsp, id)) {
                    let _ = reply.send(Ok(Payload { args, attachments }));
                }
            }
            Event::AckTimeout { nsp, id } => {
                if let Some(reply) = st.acks.remove(&(nsp, id)) {
                    let _ = reply.send(Err(AckError::Timeout));
                }
            }
            Event::Disconnect { nsp, reason } => st.close_socket(&nsp, reason),
            Event::Upgraded => tracing::debug!(sid = %st.handle.sid(), "upgraded to websocket"),
            Event::Closed(reason) => {
                tracing::debug!(sid = %st.handle.sid(), reason = reason.as_str(), "session closed");
                for (_, reply) in st.acks.drain() {
                    let _ = reply.send(Err(AckError::Disconnected));
                }
            }
            _ => {}
        }
    }

    fn on_command(&self, st: &mut SessionState, conn: &mut Connection, now: Instant, c: Command) {
        match c {
            Command::Connected {
                socket,
                result,
                missed,
            } => st.finish_connect(conn, socket, result, missed),
            Command::Emit {
                nsp,
                data,
                attachments,
                ack: None,
            } => {
                let _ = conn.emit(&nsp, data, attachments);
            }
            Command::Emit {
                nsp,
                data,
                attachments,
                ack: Some((reply, timeout)),
            } => match conn.emit_with_ack(now, &nsp, data, attachments, Some(timeout)) {
                Ok(id) => {
                    st.acks.insert((nsp, id), reply);
                }
                Err(_) => {
                    let _ = reply.send(Err(AckError::Disconnected));
                }
            },
            Command::Ack { nsp, id, payload } => {
                let _ = conn.ack(&nsp, id, payload.args, payload.attachments);
            }
            Command::Disconnect { nsp } => conn.disconnect(&nsp),
        }
    }
}

impl SessionState {
    fn start_connect(
        &mut self,
        io: &SocketIo,
        conn: &mut Connection,
        now: Instant,
        nsp: Str,
        auth: Option<Str>,
    ) {
        let cap = io.config().limits.pending_connects;
        if self.connecting >= cap {
            io.limit_hit(
                Limit::PendingConnects,
                format_args!(
                    "session {}: more than {cap} CONNECTs in flight; session closed",
                    self.handle.sid()
                ),
            );
            conn.close(now, CloseReason::ForcedClose);
            return;
        }
        let Some(ns) = io.namespace_for_connect(&nsp) else {
            conn.reject(&nsp, "Invalid namespace", None);
            return;
        };
        self.connecting += 1;
        let restored = match auth.as_deref().and_then(recovery::parse_auth) {
            Some((pid, offset)) => ns.restore(now, &pid, &offset).map(|r| (r, Str::from(pid))),
            None => None,
        };
        // A recovered socket gets its old id and rooms back and skips the middlewares; a new
        // one runs them and joins its own room. Either way the session task hears the outcome
        // as `Command::Connected`.
        let (socket, recovered) = match restored {
            Some((recovered, pid)) => {
                tracing::debug!(sid = %recovered.sid, "connection state recovered");
                let ids = Some((recovered.sid.clone(), pid));
                let socket = SocketRef::new(ns, self.handle.clone(), self.info.clone(), auth, ids);
                (socket, Some(recovered))
            }
            None => (
                SocketRef::new(ns, self.handle.clone(), self.info.clone(), auth, None),
                None,
            ),
        };
        let handle = self.handle.clone();
        let pending = PendingSocket(Some(socket.clone()));
        tokio::spawn(async move {
            let (result, missed) = match recovered {
                Some(recovered) => {
                    let result = socket
                        .join(recovered.rooms)
                        .await
                        .map_err(|e| ConnectError::new(e.to_string()));
                    (result, recovered.missed)
                }
                None => {
                    // A middleware that panics refuses the client rather than leaving it
                    // waiting.
                    let admitted = AssertUnwindSafe(admit(&socket)).catch_unwind().await;
                    let result = admitted.unwrap_or_else(|panic| {
                        tracing::error!(
                            ns = socket.ns(),
                            "connect middleware panicked: {}",
                            crate::socket::panic_message(&panic)
                        );
                        Err(ConnectError::new("server error"))
                    });
                    (result, Vec::new())
                }
            };
            let connected = Command::Connected {
                socket: pending,
                result,
                missed,
            };
            if let Err(e) = handle.command_wait(connected).await {
                tracing::debug!("connect outcome not delivered: {e}");
            }
        });
    }

    fn finish_connect(
        &mut self,
        conn: &mut Connection,
        socket: PendingSocket,
        result: Result<(), ConnectError>,
        missed: Vec<StoredPacket>,
    ) {
        self.connecting = self.connecting.saturating_sub(1);
        let socket = socket.take();
        let nsp = socket.ns_name().clone();
        match result {
            Ok(()) => {
                if conn.accept(&nsp, socket.id(), socket.pid()).is_err() {
                    // The session closed (or the request went away) meanwhile.
                    socket.abandon();
                    return;
                }
                for p in missed {
                    let _ = conn.emit(&nsp, p.data, p.attachments);
                }
                self.sockets.insert(nsp, socket.clone());
                socket.start();
            }
            Err(e) => {
                conn.reject(&nsp, &e.message, e.data.as_deref());
                // A recovered socket may have joined rooms already.
                socket.abandon();
            }
        }
    }

    fn close_socket(&mut self, nsp: &str, reason: DisconnectReason) {
        if let Some(socket) = self.sockets.remove(nsp) {
            let dropped: Vec<(Str, u64)> = self
                .acks
                .keys()
                .filter(|(n, _)| n.as_str() == nsp)
                .cloned()
                .collect();
            for key in dropped {
                if let Some(reply) = self.acks.remove(&key) {
                    let _ = reply.send(Err(AckError::Disconnected));
                }
            }
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

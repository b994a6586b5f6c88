//! One Engine.IO session as one tokio task. The task owns the session's sans-IO machine
//! (the core's `Session`, or a protocol composed over it) and the [`Protocol`]'s per-session
//! state; it takes [`Input`]s from a bounded channel (HTTP requests, WebSocket frames,
//! broadcasts, the protocol's commands) and runs the machine's timers with `sleep_until`.
//!
//! The machine sits behind a mutex shared with the session's handles, for one shortcut: a
//! broadcast to a WebSocket session whose queue is empty is handed to the machine by the
//! broadcaster itself and its frames go straight to the writer, instead of waking the task
//! (see [`SessionHandle::send_prepared`]). Everything else goes through the queue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError, Weak};

use bytes::Bytes;
use sockeye_core::engine::server::{Machine, Prepared, Transmit};
use sockeye_core::engine::{CloseReason, Frame, Transport};
use sockeye_core::{Instant, Str};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};

use super::admission::Slot;
use super::config::EngineConfig;
use super::error::EngineError;
use super::request::RequestInfo;
use super::server::Engine;
use super::ws::WsSender;

/// The layer above Engine.IO (Socket.IO, or a bare message handler): it gives each new
/// session its state machine and per-session state, and handles the machine's events and
/// its own commands inside the session's task.
pub trait Protocol: Send + Sync + Sized + 'static {
    /// The sans-IO machine of one session.
    type Machine: Machine<Event: Send> + Send + 'static;
    /// Commands the layer sends to a session's task with [`SessionHandle::command`].
    type Command: Send + 'static;
    /// What the layer keeps per session, inside the task.
    type State: Send + 'static;
    /// Work `on_event` leaves to run once the session's lock is released.
    type Deferred: Send;

    /// The work `on_event` left in `state`, if any.
    fn take_deferred(&self, state: &mut Self::State) -> Option<Self::Deferred>;

    /// Runs what [`take_deferred`](Self::take_deferred) took, the session's lock released
    /// (the layer may call into the session again).
    fn run_deferred(&self, deferred: Self::Deferred);

    /// A new session `handle` on `transport`, opened by the request `info`: its machine
    /// (built with `config.session`; its first transmit is the `open` packet) and state.
    fn open(
        &self,
        config: &EngineConfig,
        handle: &SessionHandle<Self::Command>,
        transport: Transport,
        info: Arc<RequestInfo>,
        now: Instant,
    ) -> (Self::Machine, Self::State);

    /// An event of the session's machine.
    fn on_event(
        &self,
        state: &mut Self::State,
        machine: &mut Self::Machine,
        now: Instant,
        event: <Self::Machine as Machine>::Event,
    );

    /// A command for the session.
    fn on_command(
        &self,
        state: &mut Self::State,
        machine: &mut Self::Machine,
        now: Instant,
        command: Self::Command,
    );
}

/// The size of a frame, for the byte budgets.
pub(crate) fn frame_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(t) => t.len(),
        Frame::Binary(b) => b.len(),
    }
}

/// The inputs of a session task.
pub(crate) enum Input<C> {
    PollGet(oneshot::Sender<Result<Bytes, EngineError>>),
    /// The permit holds the body's bytes in the input queue's byte budget.
    PollPost(
        Str,
        oneshot::Sender<Result<(), EngineError>>,
        OwnedSemaphorePermit,
    ),
    WsAttach {
        id: u64,
        out: WsSender,
        reply: oneshot::Sender<bool>,
    },
    WsFrame {
        id: u64,
        frame: Frame,
        /// Held for the byte budget until the task takes the frame.
        _permit: OwnedSemaphorePermit,
    },
    WsClosed {
        id: u64,
    },
    /// Messages encoded once for many sessions; `volatile` ones are dropped if the
    /// transport cannot take them now.
    Prepared {
        prepared: Arc<[Prepared]>,
        volatile: bool,
        /// Held for the byte budget until the task takes the messages.
        _permit: Option<OwnedSemaphorePermit>,
    },
    Close(CloseReason),
    /// A command of the protocol; the permit holds its bytes (see
    /// [`SessionHandle::command`]).
    Command(C, Option<OwnedSemaphorePermit>),
}

/// Why an input could not be queued for a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The session's input queue is full: the client does not keep up, and the session is
    /// being closed.
    #[error("session queue full")]
    Full,
    /// The session is closed.
    #[error("session closed")]
    Closed,
}

/// A handle to a session's task: its id, and the way to send it commands and broadcasts.
/// Cheap to clone.
pub struct SessionHandle<C> {
    sid: Str,
    /// Boxed inputs: a channel allocates its first block of 32 slots up front, and 32
    /// inputs inline were 2 KB per session (most inputs take the direct path anyway).
    tx: mpsc::Sender<Box<Input<C>>>,
    /// The input queue's byte budget (`max_queued_bytes`): frames, bodies and broadcasts
    /// hold permits until the task takes them.
    budget: Arc<Semaphore>,
    link: Arc<Link<C>>,
}

/// What a session's handles share besides the queue and its budget (one allocation, one
/// reference count to bump per clone of a handle).
struct Link<C> {
    /// Notified when an input found the queue full: the session closes.
    overflow: Notify,
    /// Inputs sent and not yet handled by the task: while there are any, a broadcast takes
    /// the queue too, behind them (the order of what a session sends is kept).
    queued: AtomicUsize,
    /// The shortcut for broadcasts, commands and WebSocket frames: the session's machine,
    /// set once the machine exists (weakly held: the machine's own state holds handles).
    direct: OnceLock<Arc<dyn DirectSend<C>>>,
}

impl<C> Clone for SessionHandle<C> {
    fn clone(&self) -> Self {
        SessionHandle {
            sid: self.sid.clone(),
            tx: self.tx.clone(),
            budget: self.budget.clone(),
            link: self.link.clone(),
        }
    }
}

/// A session's machine as its handles reach it, without its task.
trait DirectSend<C>: Send + Sync {
    /// Broadcast messages (the machine's events are left to the task: the broadcaster may
    /// hold locks the protocol's event handling takes). False if the shortcut is not open
    /// (the task is busy, inputs are queued, not on an attached WebSocket): queue them.
    fn prepared(&self, queued: &AtomicUsize, prepared: &Arc<[Prepared]>, volatile: bool) -> bool;
    /// A protocol command (events left to the task, as for broadcasts); given back if the
    /// shortcut is not open.
    fn command(&self, queued: &AtomicUsize, command: C) -> Result<(), C>;
    /// A frame of the WebSocket `id`, handled with all its consequences (the reader task
    /// holds no lock); given back if the shortcut is not open.
    fn ws_frame(&self, queued: &AtomicUsize, id: u64, frame: Frame) -> Result<(), Frame>;
}

impl<C: Send + 'static> SessionHandle<C> {
    /// The session id.
    pub fn sid(&self) -> &Str {
        &self.sid
    }

    /// Whether the session's task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    fn try_input(&self, input: Input<C>, volatile: bool) -> Result<(), QueueError> {
        self.link.queued.fetch_add(1, Ordering::SeqCst);
        let sent = self.tx.try_send(Box::new(input));
        if sent.is_err() {
            self.link.queued.fetch_sub(1, Ordering::SeqCst);
        }
        match sent {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !volatile {
                    tracing::warn!(sid = %self.sid, "session queue full; closing the session");
                    self.link.overflow.notify_one();
                }
                Err(QueueError::Full)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(QueueError::Closed),
        }
    }

    /// Takes `len` bytes of the input queue's byte budget without waiting. Past the budget
    /// the client does not keep up: the session is told to close (unless the input is
    /// `volatile`, which is only dropped).
    fn try_budget(&self, len: usize, volatile: bool) -> Result<OwnedSemaphorePermit, QueueError> {
        match self.budget.clone().try_acquire_many_owned(permits(len)) {
            Ok(p) => Ok(p),
            Err(tokio::sync::TryAcquireError::Closed) => Err(QueueError::Closed),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                if !volatile {
                    tracing::warn!(sid = %self.sid, "session queue over its byte budget; closing the session");
                    self.link.overflow.notify_one();
                }
                Err(QueueError::Full)
            }
        }
    }

    /// Queues a command of `bytes` bytes (what it will send) without waiting. It counts in
    /// the input queue's byte budget, as frames and broadcasts do; a full queue means the
    /// client does not keep up: the session is closed.
    pub fn command(&self, command: C, bytes: usize) -> Result<(), QueueError> {
        let command = match self.link.direct.get() {
            Some(direct) => match direct.command(&self.link.queued, command) {
                Ok(()) => return Ok(()),
                Err(command) => command,
            },
            None => command,
        };
        let permit = self.try_budget(bytes, false)?;
        self.try_input(Input::Command(command, Some(permit)), false)
    }

    /// Queues a command, waiting for room (for work that must not be lost, e.g. the outcome
    /// of a connect).
    pub async fn command_wait(&self, command: C) -> Result<(), QueueError> {
        self.send(Input::Command(command, None))
            .await
            .map_err(|_| QueueError::Closed)
    }

    /// Sends an input, waiting for room, counted in `queued` until the task has handled it.
    /// (If this future is dropped while it waits, the count stays one too high: the session
    /// then queues its broadcasts, which is only slower.)
    async fn send(&self, input: Input<C>) -> Result<(), mpsc::error::SendError<Box<Input<C>>>> {
        self.link.queued.fetch_add(1, Ordering::SeqCst);
        let sent = self.tx.send(Box::new(input)).await;
        if sent.is_err() {
            self.link.queued.fetch_sub(1, Ordering::SeqCst);
        }
        sent
    }

    /// Queues messages encoded once for many sessions. `volatile` ones are dropped (instead
    /// of closing the session) when the queue is full or the transport cannot take them now.
    pub fn send_prepared(
        &self,
        prepared: Arc<[Prepared]>,
        volatile: bool,
    ) -> Result<(), QueueError> {
        if let Some(direct) = self.link.direct.get() {
            if direct.prepared(&self.link.queued, &prepared, volatile) {
                return Ok(());
            }
        }
        let len: usize = prepared.iter().map(Prepared::byte_len).sum();
        let permit = self.try_budget(len, volatile)?;
        let input = Input::Prepared {
            prepared,
            volatile,
            _permit: Some(permit),
        };
        self.try_input(input, volatile)
    }

    /// A frame read from the session's WebSocket `id`: handled at once by the reader if the
    /// session is idle, else queued (waiting for room in the byte budget). An error means
    /// the session is gone.
    pub(crate) async fn ws_frame(&self, id: u64, frame: Frame) -> Result<(), EngineError> {
        let frame = match self.link.direct.get() {
            Some(direct) => match direct.ws_frame(&self.link.queued, id, frame) {
                Ok(()) => return Ok(()),
                Err(frame) => frame,
            },
            None => frame,
        };
        let permit = self.reserve(frame_len(&frame)).await?;
        self.input(Input::WsFrame {
            id,
            frame,
            _permit: permit,
        })
        .await
    }

    /// Waits for room for `len` bytes in the input queue's byte budget.
    pub(crate) async fn reserve(&self, len: usize) -> Result<OwnedSemaphorePermit, EngineError> {
        self.budget
            .clone()
            .acquire_many_owned(permits(len))
            .await
            .map_err(|_| EngineError::UnknownSid)
    }

    /// Resolves when the session's task has ended.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await
    }

    /// Closes the session (a graceful close on polling waits for the client's next poll).
    pub async fn close(&self, reason: CloseReason) {
        let _ = self.send(Input::Close(reason)).await;
    }

    pub(crate) async fn input(&self, input: Input<C>) -> Result<(), EngineError> {
        self.send(input).await.map_err(|_| EngineError::UnknownSid)
    }
}

/// Permits for `len` bytes (at least one, so that an empty input still counts; at most the
/// whole budget, which `spawn` clamps to `u32`).
fn permits(len: usize) -> u32 {
    u32::try_from(len.max(1)).unwrap_or(u32::MAX)
}

/// The part of a session its handles can reach: the machine and what the transports need.
struct Shared<P: Protocol> {
    engine: Arc<Engine<P>>,
    sid: Str,
    core: Mutex<Core<P>>,
    /// Tells the task that a broadcast left it work (events, a new deadline, a close).
    wake: Notify,
}

struct Core<P: Protocol> {
    machine: P::Machine,
    state: P::State,
    ws: Option<(u64, WsSender)>,
    /// Events a broadcast drew from the machine, for the task to hand to the protocol (never
    /// the broadcaster: the protocol's handlers may take locks the broadcaster holds).
    deferred: VecDeque<<P::Machine as Machine>::Event>,
    /// The machine's deadline the task's timer is armed for: a broadcast that moves it
    /// wakes the task.
    deadline: Option<Instant>,
}

impl<P: Protocol> Shared<P> {
    /// The core, whatever a panic elsewhere left of the lock's poison flag (every critical
    /// section leaves the machine usable).
    fn lock(&self) -> MutexGuard<'_, Core<P>> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the machine in the caller's task, if the session is on an attached
    /// WebSocket, nothing is queued for it and its task is not working on it; then sends
    /// the transmits and hands the events to the protocol (`events`) or leaves them to the
    /// task. Wakes the task if it has work (events, a new deadline, a close).
    fn direct<R>(
        &self,
        queued: &AtomicUsize,
        events: bool,
        f: impl FnOnce(&mut Core<P>, Instant) -> R,
    ) -> Option<R> {
        if queued.load(Ordering::SeqCst) != 0 {
            return None;
        }
        let mut guard = match self.core.try_lock() {
            Ok(core) => core,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let core = &mut *guard;
        let session = core.machine.session();
        if session.is_closed() || session.transport() != Transport::WebSocket || core.ws.is_none() {
            return None;
        }
        let r = f(core, self.engine.now());
        core.drain(&self.engine, &self.sid, events, None);
        if !core.deferred.is_empty()
            || core.machine.poll_timeout() != core.deadline
            || core.machine.session().is_closed()
        {
            self.wake.notify_one();
        }
        unlock(&self.engine, guard);
        Some(r)
    }
}

/// Releases the session's lock, then runs what the protocol's event handling left to run
/// without it.
fn unlock<P: Protocol>(engine: &Engine<P>, mut core: MutexGuard<'_, Core<P>>) {
    let protocol = engine.protocol();
    let deferred = protocol.take_deferred(&mut core.state);
    drop(core);
    if let Some(deferred) = deferred {
        protocol.run_deferred(deferred);
    }
}

/// The direct calls of a session's handles.
struct DirectCalls<P: Protocol> {
    shared: Weak<Shared<P>>,
}

impl<P: Protocol> DirectSend<P::Command> for DirectCalls<P> {
    fn prepared(&self, queued: &AtomicUsize, prepared: &Arc<[Prepared]>, volatile: bool) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        let done = shared.direct(queued, false, |core, now| {
            core.send_prepared(&shared.engine, &shared.sid, now, prepared, volatile);
        });
        done.is_some()
    }

    fn command(&self, queued: &AtomicUsize, command: P::Command) -> Result<(), P::Command> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(command);
        };
        let mut command = Some(command);
        shared.direct(queued, false, |core, now| {
            if let Some(c) = command.take() {
                core.command(&shared.engine, now, c);
            }
        });
        command.map_or(Ok(()), Err)
    }

    fn ws_frame(&self, queued: &AtomicUsize, id: u64, frame: Frame) -> Result<(), Frame> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(frame);
        };
        let mut frame = Some(frame);
        shared.direct(queued, true, |core, now| {
            if let Some(frame) = frame.take() {
                core.ws_frame(&shared.sid, now, id, frame);
            }
        });
        frame.map_or(Ok(()), Err)
    }
}

impl<P: Protocol> Core<P> {
    /// Broadcast messages for this session; `volatile` ones are dropped if the transport
    /// cannot take them now.
    fn send_prepared(
        &mut self,
        engine: &Engine<P>,
        sid: &Str,
        now: Instant,
        prepared: &[Prepared],
        volatile: bool,
    ) {
        if volatile && !self.writable(engine) {
            tracing::trace!(%sid, "volatile packet dropped");
            return;
        }
        for p in prepared {
            if self.machine.send_prepared(now, p.clone()).is_err() {
                break;
            }
        }
    }

    /// A frame of the WebSocket `id` (ignored if that is no longer the session's socket).
    fn ws_frame(&mut self, sid: &Str, now: Instant, id: u64, frame: Frame) {
        if self.ws.as_ref().is_some_and(|(cur, _)| *cur == id) {
            if let Err(e) = self.machine.handle_ws_frame(now, frame) {
                tracing::debug!(%sid, "bad frame: {e}");
            }
        }
    }

    /// A command of the protocol.
    fn command(&mut self, engine: &Engine<P>, now: Instant, command: P::Command) {
        engine
            .protocol()
            .on_command(&mut self.state, &mut self.machine, now, command);
    }

    /// Hands the machine's events to the protocol (`run_events`; else keeps them, for the
    /// task) and its transmits to the transports until nothing is left to do; events kept
    /// earlier go first.
    fn drain(
        &mut self,
        engine: &Engine<P>,
        sid: &Str,
        run_events: bool,
        mut pending_poll: Option<&mut Option<oneshot::Sender<Result<Bytes, EngineError>>>>,
    ) {
        let protocol = engine.protocol();
        loop {
            let mut progress = false;
            if run_events {
                while let Some(ev) = self
                    .deferred
                    .pop_front()
                    .or_else(|| self.machine.poll_event())
                {
                    progress = true;
                    protocol.on_event(&mut self.state, &mut self.machine, engine.now(), ev);
                }
            } else {
                while let Some(ev) = self.machine.poll_event() {
                    self.deferred.push_back(ev);
                }
            }
            while let Some(t) = self.machine.poll_transmit() {
                progress = true;
                self.transmit(engine, sid, t, pending_poll.as_deref_mut());
            }
            if !progress {
                break;
            }
        }
    }

    /// Whether the transport can take data now (a poll is pending, or the WebSocket's write
    /// queue has room), as Node's `transport.writable`.
    fn writable(&self, engine: &Engine<P>) -> bool {
        let session = self.machine.session();
        match session.transport() {
            Transport::Polling => session.has_pending_poll(),
            _ => self
                .ws
                .as_ref()
                .is_some_and(|(_, out)| out.writable(engine.config().session.max_queued_bytes)),
        }
    }

    /// Hands a transmit to its transport (`pending_poll`: the task's waiting `GET`).
    fn transmit(
        &mut self,
        engine: &Engine<P>,
        sid: &Str,
        t: Transmit,
        pending_poll: Option<&mut Option<oneshot::Sender<Result<Bytes, EngineError>>>>,
    ) {
        match t {
            Transmit::PollResponse(body) => {
                if let Some(reply) = pending_poll.and_then(Option::take) {
                    let _ = reply.send(Ok(body));
                }
            }
            Transmit::Ws(frame) => {
                let budget = engine.config().session.max_queued_bytes;
                let full = match &self.ws {
                    Some((_, out)) => out.send(frame, budget).is_err(),
                    None => false,
                };
                if full {
                    tracing::warn!(%sid, "WebSocket write queue full (frames or bytes); closing");
                    self.ws = None;
                    self.machine.close(engine.now(), CloseReason::QueueFull);
                }
            }
            Transmit::CloseWs => {
                if let Some((_, out)) = self.ws.take() {
                    out.close();
                }
            }
            _ => {}
        }
    }
}

struct SessionTask<P: Protocol> {
    shared: Arc<Shared<P>>,
    handle: SessionHandle<P::Command>,
    pending_poll: Option<oneshot::Sender<Result<Bytes, EngineError>>>,
    closed: bool,
    _slot: Slot,
}

/// Starts a session on `transport` and registers it. For a WebSocket session, `ws` is the
/// socket's writer; for polling, send the handshake's [`Input::PollGet`] next.
pub(crate) fn spawn<P: Protocol>(
    engine: &Arc<Engine<P>>,
    transport: Transport,
    info: Arc<RequestInfo>,
    ws: Option<(u64, WsSender)>,
    slot: Slot,
) -> SessionHandle<P::Command> {
    let sid = super::sid::generate();
    let (tx, rx) = mpsc::channel(engine.config().max_buffer_size.max(16));
    let budget = engine.config().session.max_queued_bytes.clamp(
        engine.config().session.max_payload.max(1),
        u32::MAX as usize,
    );
    let handle = SessionHandle {
        sid: sid.clone(),
        tx,
        budget: Arc::new(Semaphore::new(budget)),
        link: Arc::new(Link {
            overflow: Notify::new(),
            queued: AtomicUsize::new(0),
            direct: OnceLock::new(),
        }),
    };
    let now = engine.now();
    let (machine, state) = engine
        .protocol()
        .open(engine.config(), &handle, transport, info, now);
    let shared = Arc::new(Shared {
        engine: engine.clone(),
        sid: sid.clone(),
        core: Mutex::new(Core {
            machine,
            state,
            ws,
            deferred: VecDeque::new(),
            deadline: None,
        }),
        wake: Notify::new(),
    });
    let calls: Arc<dyn DirectSend<P::Command>> = Arc::new(DirectCalls {
        shared: Arc::downgrade(&shared),
    });
    let _ = handle.link.direct.set(calls);
    let task = SessionTask {
        shared,
        handle: handle.clone(),
        pending_poll: None,
        closed: false,
        _slot: slot,
    };
    engine.insert_session(handle.clone());
    tracing::debug!(%sid, transport = transport.as_str(), "session opened");
    tokio::spawn(task.run(rx));
    handle
}

/// Most packets of a polling body handed to the machine at once (its events are dispatched
/// between slices, so that they never pile up for a whole body).
const SLICE_PACKETS: usize = 512;

/// How long a polling body may hold its worker thread before the session task yields: a
/// yield costs a task switch (often a thread wake-up), so not after every slice.
const YIELD_AFTER: std::time::Duration = std::time::Duration::from_millis(1);

/// `body` cut after its `n`-th packet: the first `n` packets, and the rest (None if there
/// is no more). Sub-slices of `body`, found in one scan.
fn split_packets(body: &Str, n: usize) -> (Str, Option<Str>) {
    let sep = sockeye_core::engine::payload::SEPARATOR as u8;
    let cut = body
        .as_str()
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == sep)
        .nth(n.saturating_sub(1))
        .map(|(at, _)| at);
    // The separator is ASCII: both sides lie on character boundaries.
    match cut.and_then(|at| Some((body.slice(0..at)?, body.slice(at + 1..body.len())?))) {
        Some((first, rest)) => (first, Some(rest)),
        None => (body.clone(), None),
    }
}

enum Wake<C> {
    Input(Option<Input<C>>),
    Timeout,
    PollClosed,
    Overflow,
    /// A broadcast handed to the machine directly left work for the task.
    Direct,
}

impl<P: Protocol> SessionTask<P> {
    async fn run(mut self, mut rx: mpsc::Receiver<Box<Input<P::Command>>>) {
        self.pump();
        let shared = self.shared.clone();
        // One timer and one waiter each for overflow and direct broadcasts for the session's
        // whole life, re-armed only when needed: a new `Sleep` per wake-up registered and
        // removed a timer entry (and a `Notified` a waiter) for every packet sent.
        let sleep = tokio::time::sleep(std::time::Duration::ZERO);
        tokio::pin!(sleep);
        let mut armed: Option<tokio::time::Instant> = None;
        let link = self.handle.link.clone();
        let notified = link.overflow.notified();
        tokio::pin!(notified);
        let mut overflowed = false;
        let direct = shared.wake.notified();
        tokio::pin!(direct);
        while !self.closed {
            let deadline = {
                let mut core = shared.lock();
                core.deadline = core.machine.poll_timeout();
                core.deadline.map(|d| shared.engine.clock().deadline(d))
            };
            if deadline != armed {
                if let Some(d) = deadline {
                    sleep.as_mut().reset(d);
                }
                armed = deadline;
            }
            let wake = {
                let poll_closed = async {
                    match self.pending_poll.as_mut() {
                        Some(tx) => tx.closed().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    input = rx.recv() => Wake::Input(input.map(|input| *input)),
                    () = &mut sleep, if armed.is_some() => {
                        // Fired: re-armed from the machine's next deadline, whatever it is.
                        armed = None;
                        Wake::Timeout
                    }
                    () = poll_closed => Wake::PollClosed,
                    () = &mut notified, if !overflowed => {
                        overflowed = true;
                        Wake::Overflow
                    }
                    () = &mut direct => {
                        direct.set(shared.wake.notified());
                        Wake::Direct
                    }
                }
            };
            let now = shared.engine.now();
            match wake {
                Wake::Input(Some(input)) => {
                    self.handle_input(now, input).await;
                    self.pump();
                    // Handled: a broadcast may now take the shortcut (if nothing else is
                    // queued).
                    self.handle.link.queued.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                Wake::Input(None) => shared
                    .lock()
                    .machine
                    .close(now, CloseReason::ServerShutdown),
                Wake::Timeout => shared.lock().machine.handle_timeout(now),
                Wake::PollClosed => {
                    self.pending_poll = None;
                    shared.lock().machine.handle_poll_closed(now);
                }
                Wake::Overflow => shared.lock().machine.close(now, CloseReason::QueueFull),
                Wake::Direct => {}
            }
            self.pump();
        }
        shared.engine.remove_session(&self.handle.sid);
        // Answer whatever is still waiting, so no request hangs.
        rx.close();
        while let Ok(input) = rx.try_recv() {
            match *input {
                // Raced with the close: to the client the session is gone.
                Input::PollGet(reply) => {
                    let _ = reply.send(Err(EngineError::UnknownSid));
                }
                Input::PollPost(_, reply, _) => {
                    let _ = reply.send(Err(EngineError::UnknownSid));
                }
                Input::WsAttach { reply, .. } => {
                    let _ = reply.send(false);
                }
                _ => {}
            }
        }
        tracing::debug!(sid = %self.handle.sid, "session task ended");
    }

    /// A polling body, handed to the machine in slices of at most [`SLICE_PACKETS`]
    /// packets (cut at record separators), with the events of each slice dispatched and
    /// the runtime given a turn every [`YIELD_AFTER`]: a body of many tiny packets neither
    /// holds a worker thread for long nor is decoded into one vector of all its packets.
    async fn poll_post(&mut self, body: Str) -> Result<(), EngineError> {
        let mut rest = body;
        let mut since_yield = std::time::Instant::now();
        loop {
            let (slice, more) = split_packets(&rest, SLICE_PACKETS);
            let now = self.shared.engine.now();
            if let Err(e) = self.shared.lock().machine.handle_poll_post(now, slice) {
                tracing::debug!(sid = %self.handle.sid, "post refused: {e}");
                return Err(EngineError::BadRequest);
            }
            let Some(more) = more else { return Ok(()) };
            self.pump();
            if self.closed {
                return Ok(());
            }
            if since_yield.elapsed() >= YIELD_AFTER {
                tokio::task::yield_now().await;
                since_yield = std::time::Instant::now();
            }
            rest = more;
        }
    }

    async fn handle_input(&mut self, now: Instant, input: Input<P::Command>) {
        let shared = self.shared.clone();
        match input {
            Input::PollGet(reply) => {
                let polled = shared.lock().machine.handle_poll_get(now);
                match polled {
                    Ok(()) => self.pending_poll = Some(reply),
                    Err(e) => {
                        tracing::debug!(sid = %self.handle.sid, "poll refused: {e}");
                        let _ = reply.send(Err(EngineError::BadRequest));
                    }
                }
            }
            // The permit holds the body's bytes until it has been handled.
            Input::PollPost(body, reply, _permit) => {
                let result = self.poll_post(body).await;
                let _ = reply.send(result);
            }
            Input::WsAttach { id, out, reply } => {
                let mut core = shared.lock();
                let ok = core.machine.handle_ws_attach(now).is_ok();
                if ok {
                    core.ws = Some((id, out));
                }
                let _ = reply.send(ok);
            }
            Input::WsFrame { id, frame, .. } => shared.lock().ws_frame(&shared.sid, now, id, frame),
            Input::WsClosed { id } => {
                let mut core = shared.lock();
                if core.ws.as_ref().is_some_and(|(cur, _)| *cur == id) {
                    core.ws = None;
                    core.machine.handle_ws_closed(now);
                }
            }
            Input::Prepared {
                prepared, volatile, ..
            } => shared
                .lock()
                .send_prepared(&shared.engine, &shared.sid, now, &prepared, volatile),
            // A graceful close on polling waits in the core for the client's next poll,
            // so that it gets the `close` packet (as Node's polling transport does).
            Input::Close(reason) => shared.lock().machine.close(now, reason),
            Input::Command(c, _permit) => shared.lock().command(&shared.engine, now, c),
        }
    }

    /// Hands the machine's events to the protocol and its transmits to the transports until
    /// nothing is left to do (events a direct broadcast drew first).
    fn pump(&mut self) {
        let shared = &*self.shared;
        let mut core = shared.lock();
        core.drain(
            &shared.engine,
            &shared.sid,
            true,
            Some(&mut self.pending_poll),
        );
        self.closed = core.machine.session().is_closed();
        unlock(&shared.engine, core);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commands count in bytes, not only in number: a task that does not take its inputs
    /// gets its session closed once they pass the byte budget, far below the queue's count.
    #[tokio::test]
    async fn commands_are_bounded_in_bytes() {
        let (tx, mut rx) = mpsc::channel::<Box<Input<u8>>>(1024);
        let handle = SessionHandle {
            sid: Str::from_static("s"),
            tx,
            budget: Arc::new(Semaphore::new(10_000)),
            link: Arc::new(Link {
                overflow: Notify::new(),
                queued: AtomicUsize::new(0),
                direct: OnceLock::new(),
            }),
        };
        for _ in 0..9 {
            handle.command(0, 1_000).expect("within the budget");
        }
        assert_eq!(handle.command(0, 2_000), Err(QueueError::Full));
        // The session was told to close.
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            handle.link.overflow.notified(),
        )
        .await
        .expect("overflow notified");
        // Taking an input gives its bytes back.
        drop(rx.recv().await);
        handle.command(0, 1_500).expect("room again");
    }

    #[test]
    fn bodies_are_cut_after_the_nth_packet_and_nothing_is_lost() {
        let body = Str::from("a\x1eb\x1ec\x1ed".to_owned());
        let (first, rest) = split_packets(&body, 2);
        assert_eq!(first.as_str(), "a\x1eb");
        let rest = rest.expect("more");
        assert_eq!(rest.as_str(), "c\x1ed");
        let (first, rest) = split_packets(&rest, 2);
        assert_eq!((first.as_str(), rest), ("c\x1ed", None));
        // Empty parts stay where they were: the machine refuses them as before.
        let (first, rest) = split_packets(&Str::from("a\x1e".to_owned()), 1);
        assert_eq!(
            (first.as_str(), rest.map(|r| r.as_str().to_owned())),
            ("a", Some(String::new()))
        );
        let (first, rest) = split_packets(&Str::from("€\x1e€".to_owned()), 1);
        assert_eq!(
            (first.as_str(), rest.map(|r| r.as_str().to_owned())),
            ("€", Some("€".to_owned()))
        );
    }
}

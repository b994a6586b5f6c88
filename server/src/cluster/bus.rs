//! The message bus under a cluster adapter: Redis pub/sub or an AMQP exchange. The cluster
//! logic ([`super::adapter`]) says *what* goes *where* in terms of [`Route`]s; a bus maps
//! routes to its own addressing (Redis channels, AMQP headers and queues), keeps the order
//! of what one node sends, and counts the servers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::adapter::AdapterError;

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// A broadcast to the sockets of namespace `nsp` (`room`: the one room it targets, so
    /// that servers without it can skip it).
    Broadcast { nsp: &'a str, room: Option<&'a str> },
    /// A request to every other server of namespace `nsp`.
    Request { nsp: &'a str },
    /// The answer to a request of server `to` (None: a request of unknown origin).
    Response { nsp: &'a str, to: Option<&'a str> },
    /// python-socketio's channel (its JSON messages).
    Python,
}

/// How a cluster speaks python-socketio's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum PythonFormat {
    /// Not at all.
    Off,
    /// Broadcasts it can express go in it *as well as* in the native format (Redis: Node
    /// servers need theirs); Sockeye nodes ignore each other's python copies.
    Also,
    /// Broadcasts it can express go in it *instead of* the native format (AMQP: nobody else
    /// needs the native one); Sockeye nodes take each other's python messages.
    Preferred,
}

/// A message bus shared by every namespace of one server.
pub(crate) trait Bus: Send + Sync + 'static {
    /// This server's id in the cluster.
    fn uid(&self) -> &str;
    /// How long cluster-wide requests wait for the other servers.
    fn requests_timeout(&self) -> Duration;
    /// Whether and how python-socketio's format is spoken.
    fn python(&self) -> PythonFormat;
    /// Queues `payload` for `to` without waiting: what one node sends leaves in the order
    /// of these calls. Lost if the bus is down (at most once).
    fn send(&self, to: Route<'_>, payload: Vec<u8>);
    /// Sends `payload` after everything queued before it and waits for the outcome.
    fn publish<'a>(
        &'a self,
        to: Route<'a>,
        payload: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), AdapterError>>;
    /// How many servers share namespace `nsp` (this one included).
    fn server_count<'a>(&'a self, nsp: &'a str) -> BoxFuture<'a, Result<usize, AdapterError>>;
}

/// Where a bus's publisher task reports how one message went.
pub(crate) type Done = oneshot::Sender<Result<(), AdapterError>>;

/// Hands `msg` to a bus's publisher task through its bounded `outbox` (`backend` names the
/// bus in the error). A full outbox refuses at once: nobody waits on a bus.
pub(crate) fn queue<T>(
    outbox: &mpsc::Sender<T>,
    msg: T,
    backend: &str,
) -> Result<(), AdapterError> {
    outbox.try_send(msg).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => {
            AdapterError::Backend(format!("too many messages waiting for {backend}"))
        }
        mpsc::error::TrySendError::Closed(_) => {
            AdapterError::Backend("publisher stopped".to_owned())
        }
    })
}

/// What the publisher task reported for a message queued with a [`Done`].
pub(crate) async fn outcome(
    done: oneshot::Receiver<Result<(), AdapterError>>,
) -> Result<(), AdapterError> {
    done.await
        .unwrap_or_else(|_| Err(AdapterError::Backend("publisher stopped".to_owned())))
}

/// Whether a bus's backend is reachable, with its outage and its return each logged once.
pub(crate) struct Health {
    /// The backend's name in the logs (`redis`, `amqp broker`).
    name: &'static str,
    down: AtomicBool,
}

impl Health {
    pub(crate) fn new(name: &'static str) -> Health {
        Health {
            name,
            down: AtomicBool::new(false),
        }
    }

    /// Whether the backend is known to be unreachable.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    pub(crate) fn mark_down(&self, what: &str, e: &dyn std::fmt::Display) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                "{} unreachable ({what}: {e}); serving local clients only until it is back",
                self.name
            );
        }
    }

    pub(crate) fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("{} reachable again; cluster traffic resumes", self.name);
        }
    }
}

//! The adapter: where rooms live and how broadcasts reach sockets. Async, so an adapter
//! over Redis or RabbitMQ can implement it; [`LocalAdapter`] (in memory, one process) is
//! the default, and the cluster adapters build on it for their own sockets.

mod local;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sockeye_core::engine::server::Prepared;
use sockeye_core::engine::Message;
use sockeye_core::socket::{parser, Packet};
use sockeye_core::Str;

pub use local::{LocalAdapter, LocalAdapterFactory};

use crate::ack::AckError;
use crate::ns::NamespaceRef;
use crate::payload::Payload;

/// Which sockets an operation targets.
#[derive(Clone, Debug, Default)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket if empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// Minus these sockets (e.g. the sender).
    pub except_sids: Vec<Str>,
    /// Only this server's sockets (for multi-server adapters).
    pub local: bool,
    /// Drop the data for clients that cannot take it now rather than queue it.
    pub volatile: bool,
}

/// A packet encoded once for every recipient: the packet itself (for adapters that forward
/// it to other servers in their own format) and its prepared WebSocket frames, shared by
/// every local session it goes to.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The Socket.IO packet (namespace, event data with placeholders, attachments).
    pub packet: Packet,
    pub(crate) prepared: Arc<[Prepared]>,
}

impl Encoded {
    /// Encodes `packet` once.
    pub fn new(packet: Packet) -> Encoded {
        let messages: Vec<Message> = parser::encode(&packet);
        let prepared: Arc<[Prepared]> = messages.into_iter().map(Prepared::new).collect();
        Encoded { packet, prepared }
    }
}

/// A socket as a cluster-wide query sees it (Node's `RemoteSocket` data): on this server or
/// another one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SocketData {
    /// The socket id.
    pub id: String,
    /// Its rooms (its own id included).
    pub rooms: Vec<String>,
    /// Its handshake, as Node's `socket.handshake` (`headers`, `time`, `address`, `xdomain`,
    /// `secure`, `issued`, `url`, `query`, `auth`).
    /// Shared: a local socket builds it once, however often it is fetched.
    #[serde(default)]
    pub handshake: Arc<serde_json::Value>,
    /// Its `data` (Node's `socket.data`; `null` for Sockeye sockets).
    #[serde(default)]
    pub data: serde_json::Value,
}

/// What a server-side event handler may answer (Node's `serverSideEmit` with an ack).
pub type ServerAck = tokio::sync::oneshot::Sender<serde_json::Value>;

/// Why an adapter operation failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AdapterError {
    /// The adapter's backend failed.
    #[error("adapter: {0}")]
    Backend(String),
    /// Other servers did not all answer in time.
    #[error("timeout reached while waiting for {0}")]
    Timeout(&'static str),
    /// The join would put the socket in more rooms than the server allows
    /// ([`crate::SocketIoBuilder::max_rooms_per_socket`], the limit given here).
    #[error("too many rooms (at most {0} per socket)")]
    TooManyRooms(usize),
}

/// A future returned by an [`Adapter`].
pub type AdapterFuture<'a, T> = BoxFuture<'a, Result<T, AdapterError>>;

/// Rooms and broadcasts of one namespace.
pub trait Adapter: Send + Sync + 'static {
    /// Adds socket `sid` to `rooms`.
    fn add_all(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Removes socket `sid` from `rooms`.
    fn del(&self, sid: Str, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Removes socket `sid` from every room.
    fn del_all(&self, sid: Str) -> AdapterFuture<'_, ()>;
    /// The rooms of socket `sid`.
    fn socket_rooms(&self, sid: Str) -> AdapterFuture<'_, Vec<String>>;
    /// The ids of the sockets `opts` targets.
    fn sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<Str>>;
    /// Sends a packet, encoded once and shared by every recipient, to the sockets `opts`
    /// targets.
    fn broadcast(&self, packet: Encoded, opts: BroadcastOptions) -> AdapterFuture<'_, ()>;
    /// Makes the targeted sockets join `rooms`.
    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Makes the targeted sockets leave `rooms`.
    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, ()>;
    /// Disconnects the targeted sockets.
    fn disconnect_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, ()>;
    /// Sends an event to the other servers of the cluster (Node's `serverSideEmit`). A
    /// single-server adapter has nobody to send it to: the default does nothing.
    fn server_side_emit(&self, event: String, payload: Payload) -> AdapterFuture<'_, ()> {
        let _ = (event, payload);
        Box::pin(async { Ok(()) })
    }
    /// Sends an event to the other servers and waits (at most `timeout`) for one answer from
    /// each. A single-server adapter gets none: the default answers at once with none.
    fn server_side_emit_with_ack(
        &self,
        event: String,
        payload: Payload,
        timeout: Duration,
    ) -> AdapterFuture<'_, Vec<serde_json::Value>> {
        let _ = (event, payload, timeout);
        Box::pin(async { Ok(Vec::new()) })
    }
    /// The sockets `opts` targets on every server of the cluster (this one included).
    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketData>>;
    /// Sends `packet` (an event) to the sockets `opts` targets, each asking for an ack, and
    /// collects the answers that come within `timeout` (one `Err(Timeout)` per socket that
    /// did not answer, where the adapter knows of it).
    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> AdapterFuture<'_, Vec<Result<Payload, AckError>>>;
    /// How many servers share this namespace's cluster (1 for a single server).
    fn server_count(&self) -> AdapterFuture<'_, usize> {
        Box::pin(async { Ok(1) })
    }
}

/// Creates the adapter of each namespace.
pub trait AdapterFactory: Send + Sync + 'static {
    /// The adapter of the namespace `ns`.
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter>;
}

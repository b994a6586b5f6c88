//! [`RemoteSocket`]: a socket found by a cluster-wide `fetch_sockets`, on this server or on
//! another one. What it can do goes through the adapter, as a broadcast to the socket's own
//! room (Node's `RemoteSocket`), so it works wherever the socket is.

use std::sync::Arc;

use serde::Serialize;

use crate::adapter::{AdapterError, SocketData};
use crate::ns::Namespace;
use crate::operators::{BroadcastOperator, IntoRooms};
use crate::socket::{SendError, SocketRef};

/// A socket of the cluster, as `fetch_sockets` found it.
#[derive(Clone)]
pub struct RemoteSocket {
    data: SocketData,
    ns: Arc<Namespace>,
}

impl std::fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("id", &self.data.id)
            .field("rooms", &self.data.rooms)
            .finish()
    }
}

impl RemoteSocket {
    pub(crate) fn new(data: SocketData, ns: Arc<Namespace>) -> RemoteSocket {
        RemoteSocket { data, ns }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.data.id
    }

    /// Its rooms when it was fetched (its own id included).
    pub fn rooms(&self) -> &[String] {
        &self.data.rooms
    }

    /// Its handshake, as Node's `socket.handshake` (`headers`, `query`, `auth`, ...).
    pub fn handshake(&self) -> &serde_json::Value {
        &self.data.handshake
    }

    /// Its `data` (Node's `socket.data`; `null` for Sockeye sockets).
    pub fn data(&self) -> &serde_json::Value {
        &self.data.data
    }

    /// The socket itself, if it is on this server.
    pub fn local(&self) -> Option<SocketRef> {
        self.ns.get(&self.data.id)
    }

    fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(self.data.id.clone())
    }

    /// Sends it `event` with one argument.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        self.operator().emit(event, data).await
    }

    /// Makes it join `rooms`.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.operator().join(rooms).await
    }

    /// Makes it leave `rooms`.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.operator().leave(rooms).await
    }

    /// Disconnects it.
    pub async fn disconnect(&self) -> Result<(), AdapterError> {
        self.operator().disconnect().await
    }
}

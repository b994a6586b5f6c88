//! Broadcasts: `io.to("room").except("other").emit(..)`, `socket.broadcast().emit(..)`, and
//! the same selection for `fetch_sockets`, `sockets_join`, `sockets_leave`,
//! `disconnect_sockets`.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sockeye_core::socket::Packet;

use crate::ack::AckError;
use crate::adapter::{AdapterError, BroadcastOptions, Encoded};
use crate::ns::Namespace;
use crate::payload::Payload;
use crate::remote::RemoteSocket;
use crate::socket::{SendError, SocketRef};

/// Rooms given as one name or several.
pub trait IntoRooms {
    /// The room names.
    fn into_rooms(self) -> Vec<String>;
}

impl IntoRooms for String {
    fn into_rooms(self) -> Vec<String> {
        vec![self]
    }
}

impl IntoRooms for &str {
    fn into_rooms(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoRooms for &String {
    fn into_rooms(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<T: Into<String>> IntoRooms for Vec<T> {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String>, const N: usize> IntoRooms for [T; N] {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

/// A selection of sockets of one namespace, to emit to or act on.
#[derive(Clone)]
pub struct BroadcastOperator {
    ns: Option<Arc<Namespace>>,
    pub(crate) opts: BroadcastOptions,
    timeout: Option<Duration>,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> BroadcastOperator {
        BroadcastOperator {
            ns: Some(ns),
            opts: BroadcastOptions::default(),
            timeout: None,
        }
    }

    /// An operator on a namespace that does not exist: it selects nothing.
    pub(crate) fn none() -> BroadcastOperator {
        BroadcastOperator {
            ns: None,
            opts: BroadcastOptions::default(),
            timeout: None,
        }
    }

    /// Narrows to the sockets in `rooms` (adds to rooms given before).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// Same as [`BroadcastOperator::to`].
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// Only this server's sockets (meaningful with a multi-server adapter).
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// Drops the data for clients whose queue is full instead of disconnecting them.
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// The timeout of [`BroadcastOperator::emit_with_ack`].
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Emits `event` with one argument to the selected sockets. The packet is encoded once.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), SendError> {
        self.emit_payload(event, Payload::one(data)?).await
    }

    /// Emits `event` with raw arguments (several, or binary). The packet is encoded once.
    pub async fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), SendError> {
        let Some(ns) = &self.ns else { return Ok(()) };
        let mut data = payload.event_data(event);
        if !self.opts.volatile {
            data = ns.record(data, &payload.attachments, &self.opts);
        }
        let packet = Packet::event(ns.name_str().clone(), data, None, payload.attachments);
        ns.adapter()
            .broadcast(Encoded::new(packet), self.opts.clone())
            .await
            .map_err(SendError::from)
    }

    /// Emits `event` to every selected socket, on every server of the cluster, and waits for
    /// each one's ack (at most the timeout set with [`BroadcastOperator::timeout`], else the
    /// server's `ack_timeout`). One result per socket.
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<Result<R, AckError>>, SendError> {
        let Some(ns) = &self.ns else {
            return Ok(Vec::new());
        };
        let payload = Payload::one(data)?;
        let timeout = self.timeout.unwrap_or_else(|| {
            ns.io()
                .map_or(Duration::from_secs(5), |io| io.config().ack_timeout)
        });
        let packet = Packet::event(
            ns.name_str().clone(),
            payload.event_data(event),
            None,
            payload.attachments,
        );
        let acks = ns
            .adapter()
            .broadcast_with_ack(packet, self.opts.clone(), timeout)
            .await?;
        Ok(acks
            .into_iter()
            .map(|a| a.and_then(|p| p.deserialize().map_err(AckError::from)))
            .collect())
    }

    /// The selected sockets of this server.
    pub async fn sockets(&self) -> Result<Vec<SocketRef>, AdapterError> {
        let Some(ns) = &self.ns else {
            return Ok(Vec::new());
        };
        let ids = ns.adapter().sockets(self.opts.clone()).await?;
        Ok(ids.iter().filter_map(|id| ns.get(id)).collect())
    }

    /// The selected sockets of every server of the cluster (Node's `fetchSockets`); with
    /// [`BroadcastOperator::local`], of this server only.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        let Some(ns) = &self.ns else {
            return Ok(Vec::new());
        };
        let found = ns.adapter().fetch_sockets(self.opts.clone()).await?;
        Ok(found
            .into_iter()
            .map(|d| RemoteSocket::new(d, ns.clone()))
            .collect())
    }

    /// Makes the selected sockets join `rooms`.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        match &self.ns {
            Some(ns) => {
                ns.adapter()
                    .add_sockets(self.opts.clone(), rooms.into_rooms())
                    .await
            }
            None => Ok(()),
        }
    }

    /// Makes the selected sockets leave `rooms`.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        match &self.ns {
            Some(ns) => {
                ns.adapter()
                    .del_sockets(self.opts.clone(), rooms.into_rooms())
                    .await
            }
            None => Ok(()),
        }
    }

    /// Disconnects the selected sockets.
    pub async fn disconnect(&self) -> Result<(), AdapterError> {
        match &self.ns {
            Some(ns) => ns.adapter().disconnect_sockets(self.opts.clone()).await,
            None => Ok(()),
        }
    }
}

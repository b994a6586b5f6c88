//! [`Emitter`]: emits into a cluster from a process that is not a Socket.IO server (a worker,
//! a cron job), byte-compatible with Node's `@socket.io/redis-emitter` 5.x (uid `emitter`).
//!
//! ```no_run
//! # async fn run() -> Result<(), sockeye::adapter::AdapterError> {
//! use serde_json::json;
//! use sockeye::cluster::Emitter;
//!
//! let emitter = Emitter::redis("redis://127.0.0.1:6379").await?;
//! emitter.of("/").to("my room").emit("my event", &json!({ "foo": "bar" })).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde_json::Value;

use super::msgpack::{self, Broadcast, Flags};
use super::requests::{kind, Request, WireOpts};
use crate::adapter::{AdapterError, BroadcastOptions};
use crate::operators::IntoRooms;
use crate::payload::Payload;

/// The uid Node's emitter publishes with.
const UID: &str = "emitter";

/// A connection to the cluster's Redis, for emitting only.
#[derive(Clone)]
pub struct Emitter {
    conn: ConnectionManager,
    key: String,
}

impl Emitter {
    /// Connects to Redis at `url` (fails if it cannot). No Socket.IO server is needed.
    pub async fn redis(url: &str) -> Result<Emitter, AdapterError> {
        let client = redis::Client::open(url).map_err(|e| AdapterError::Backend(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| AdapterError::Backend(e.to_string()))?;
        Ok(Emitter {
            conn,
            key: "socket.io".to_owned(),
        })
    }

    /// The channel prefix (Node's `key` option; default `socket.io`).
    pub fn with_key(mut self, key: impl Into<String>) -> Emitter {
        self.key = key.into();
        self
    }

    /// Operations on namespace `nsp`.
    pub fn of(&self, nsp: &str) -> EmitterOperator {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        EmitterOperator {
            emitter: self.clone(),
            nsp,
            opts: BroadcastOptions::default(),
        }
    }

    /// Operations on `/`, narrowed to `rooms`.
    pub fn to(&self, rooms: impl IntoRooms) -> EmitterOperator {
        self.of("/").to(rooms)
    }

    async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), AdapterError> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| AdapterError::Backend(e.to_string()))
    }
}

/// A selection of sockets of one namespace of the cluster, to emit to or act on.
#[derive(Clone)]
pub struct EmitterOperator {
    emitter: Emitter,
    nsp: String,
    opts: BroadcastOptions,
}

impl EmitterOperator {
    /// Narrows to the sockets in `rooms` (adds to rooms given before).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// Dropped for clients that cannot take it now.
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// Emits `event` with one argument.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), AdapterError> {
        let payload = Payload::one(data).map_err(|e| AdapterError::Backend(e.to_string()))?;
        self.emit_payload(event, payload).await
    }

    /// Emits `event` with raw arguments (several, or binary).
    pub async fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), AdapterError> {
        let b = Broadcast {
            uid: UID.to_owned(),
            nsp: self.nsp.clone(),
            packet_type: 2,
            args: payload.event_data(event).to_string(),
            attachments: payload.attachments,
            id: None,
            rooms: self.opts.rooms.clone(),
            except: self.opts.except.clone(),
            flags: Flags {
                volatile: self.opts.volatile,
                ..Flags::default()
            },
        };
        let bytes = msgpack::encode_emitter_broadcast(&b)
            .map_err(|e| AdapterError::Backend(e.to_string()))?;
        let mut channel = format!("{}#{}#", self.emitter.key, self.nsp);
        if let [room] = self.opts.rooms.as_slice() {
            channel.push_str(room);
            channel.push('#');
        }
        self.emitter.publish(&channel, bytes).await
    }

    fn request_channel(&self) -> String {
        format!("{}-request#{}#", self.emitter.key, self.nsp)
    }

    async fn request(&self, req: Request) -> Result<(), AdapterError> {
        let bytes = serde_json::to_vec(&req).map_err(|e| AdapterError::Backend(e.to_string()))?;
        self.emitter.publish(&self.request_channel(), bytes).await
    }

    /// Makes the selected sockets join `rooms`, wherever they are.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.request(Request {
            kind: kind::REMOTE_JOIN,
            opts: Some(WireOpts::from_opts(&self.opts)),
            rooms: Some(rooms.into_rooms()),
            ..Default::default()
        })
        .await
    }

    /// Makes the selected sockets leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), AdapterError> {
        self.request(Request {
            kind: kind::REMOTE_LEAVE,
            opts: Some(WireOpts::from_opts(&self.opts)),
            rooms: Some(rooms.into_rooms()),
            ..Default::default()
        })
        .await
    }

    /// Disconnects the selected sockets.
    pub async fn disconnect_sockets(&self) -> Result<(), AdapterError> {
        self.request(Request {
            kind: kind::REMOTE_DISCONNECT,
            opts: Some(WireOpts::from_opts(&self.opts)),
            close: Some(false),
            ..Default::default()
        })
        .await
    }

    /// Sends `event` with one argument to every server of the namespace (their
    /// server-side event handlers).
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), AdapterError> {
        let value = serde_json::to_value(data).map_err(|e| AdapterError::Backend(e.to_string()))?;
        self.request(Request {
            uid: Some(UID.to_owned()),
            kind: kind::SERVER_SIDE_EMIT,
            data: Some(Value::Array(vec![Value::String(event.to_owned()), value])),
            ..Default::default()
        })
        .await
    }
}

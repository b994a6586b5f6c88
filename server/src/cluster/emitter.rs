//! [`Emitter`]: emits into a cluster from a process that is not a Socket.IO server (a worker,
//! a cron job). On Redis, byte-compatible with Node's `@socket.io/redis-emitter` 5.x (uid
//! `emitter`); on AMQP, emits python-socketio's format can say go in it (python servers get
//! them too), the rest as Sockeye's own messages.
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

#[cfg(feature = "amqp")]
use std::sync::Arc;
#[cfg(feature = "redis")]
use std::time::Duration;

#[cfg(feature = "redis")]
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

/// Where an emitter publishes.
#[derive(Clone)]
enum Backend {
    #[cfg(feature = "redis")]
    Redis(ConnectionManager),
    #[cfg(feature = "amqp")]
    Amqp(Arc<super::amqp::Publisher>),
}

/// A connection to the cluster's Redis or AMQP broker, for emitting only.
#[derive(Clone)]
pub struct Emitter {
    backend: Backend,
    key: String,
}

impl Emitter {
    /// Connects to the AMQP broker at `url` (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`;
    /// fails if it cannot), publishing on python-socketio's exchange `socketio`. No
    /// Socket.IO server is needed.
    #[cfg(feature = "amqp")]
    pub async fn amqp(url: &str) -> Result<Emitter, AdapterError> {
        Self::amqp_with_exchange(url, "socketio").await
    }

    /// [`Emitter::amqp`] on another exchange (python-socketio's `channel`).
    #[cfg(feature = "amqp")]
    pub async fn amqp_with_exchange(url: &str, exchange: &str) -> Result<Emitter, AdapterError> {
        let publisher = super::amqp::Publisher::connect(url, exchange).await?;
        Ok(Emitter {
            backend: Backend::Amqp(Arc::new(publisher)),
            key: "socket.io".to_owned(),
        })
    }

    /// Connects to Redis at `url` (fails if it cannot). No Socket.IO server is needed.
    #[cfg(feature = "redis")]
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
            backend: Backend::Redis(conn),
            key: "socket.io".to_owned(),
        })
    }

    /// The Redis channel prefix (Node's `key` option; default `socket.io`).
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

    #[cfg(feature = "redis")]
    async fn publish_redis(
        conn: &ConnectionManager,
        channel: &str,
        payload: Vec<u8>,
    ) -> Result<(), AdapterError> {
        let mut conn = conn.clone();
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
        #[cfg(feature = "amqp")]
        let payload_args = payload.args.to_string();
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
        let room = match self.opts.rooms.as_slice() {
            [room] => Some(room.as_str()),
            _ => None,
        };
        match &self.emitter.backend {
            #[cfg(feature = "redis")]
            Backend::Redis(conn) => {
                let bytes = msgpack::encode_emitter_broadcast(&b)
                    .map_err(|e| AdapterError::Backend(e.to_string()))?;
                let mut channel = format!("{}#{}#", self.emitter.key, self.nsp);
                if let Some(room) = room {
                    channel.push_str(room);
                    channel.push('#');
                }
                Emitter::publish_redis(conn, &channel, bytes).await
            }
            #[cfg(feature = "amqp")]
            Backend::Amqp(publisher) => {
                let python = (!self.opts.volatile && self.opts.except.is_empty())
                    .then(|| {
                        super::python::encode_emit(
                            &format!("{}{UID}", super::python::SOCKEYE_HOST),
                            &self.nsp,
                            event,
                            &payload_args,
                            &b.attachments,
                            &self.opts.rooms,
                            &[],
                        )
                    })
                    .flatten();
                match python {
                    Some(bytes) => publisher.publish_python(bytes).await,
                    None => {
                        let bytes = msgpack::encode_emitter_broadcast(&b)
                            .map_err(|e| AdapterError::Backend(e.to_string()))?;
                        publisher.publish_broadcast(&self.nsp, room, bytes).await
                    }
                }
            }
        }
    }

    async fn request(&self, req: Request) -> Result<(), AdapterError> {
        let bytes = serde_json::to_vec(&req).map_err(|e| AdapterError::Backend(e.to_string()))?;
        match &self.emitter.backend {
            #[cfg(feature = "redis")]
            Backend::Redis(conn) => {
                let channel = format!("{}-request#{}#", self.emitter.key, self.nsp);
                Emitter::publish_redis(conn, &channel, bytes).await
            }
            #[cfg(feature = "amqp")]
            Backend::Amqp(publisher) => publisher.publish_request(&self.nsp, bytes).await,
        }
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

//! Many servers, one cluster: adapters and emitters over Redis and over AMQP 0-9-1
//! (RabbitMQ).
//!
//! - Redis ([`RedisAdapterFactory`], [`Emitter::redis`]): wire-compatible with Node's
//!   `@socket.io/redis-adapter` 8.x (classic pub/sub) and `@socket.io/redis-emitter` 5.x,
//!   and with python-socketio's `RedisManager`/`AsyncRedisManager`.
//! - AMQP ([`AmqpAdapterFactory`], [`Emitter::amqp`]): wire-compatible with python-socketio's
//!   `KombuManager`/`AsyncAioPikaManager` (its fanout exchange and JSON messages), with
//!   Sockeye's own messages for what that format cannot say.
//!
//! The modules:
//! - `adapter`: [`ClusterAdapter`], the cluster logic of one namespace over any bus:
//!   broadcasts, and the request/response protocol of Node's adapter (fetch sockets, remote
//!   join/leave/disconnect, server-side emits, broadcasts with acks).
//! - `bus`: what a bus provides (routes, ordering, server count).
//! - `redis`, `amqp`: the two buses and their factories.
//! - `requests`: the JSON request and response messages of that protocol.
//! - `msgpack`: the msgpack messages (broadcasts, broadcast-with-ack requests and acks).
//! - `python`: python-socketio's pub/sub messages (channel or exchange `socketio`).
//! - `emitter`: [`Emitter`], for processes that are not servers.
//!
//! Built with the `redis` and `amqp` cargo features (both on by default).

mod adapter;
#[cfg(feature = "amqp")]
mod amqp;
mod bus;
mod emitter;
mod msgpack;
mod python;
#[cfg(feature = "redis")]
mod redis;
mod requests;

pub use self::adapter::ClusterAdapter;
#[cfg(feature = "amqp")]
pub use self::amqp::{AmqpAdapter, AmqpAdapterFactory, AmqpConfig};
pub use self::emitter::{Emitter, EmitterOperator};
#[cfg(feature = "redis")]
pub use self::redis::{RedisAdapter, RedisAdapterFactory, RedisConfig};

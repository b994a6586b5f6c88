//! Many servers, one cluster: the Redis adapter ([`RedisAdapterFactory`]) and emitter
//! ([`Emitter`]), wire-compatible with Node's `@socket.io/redis-adapter` 8.x (classic
//! pub/sub) and `@socket.io/redis-emitter` 5.x, and with python-socketio's Redis managers.
//!
//! - `redis`: the connections (one publisher, one subscriber with reconnection) and the
//!   adapter: broadcasts, and the request/response protocol of Node's adapter (fetch
//!   sockets, remote join/leave/disconnect, server-side emits, broadcasts with acks).
//! - `requests`: the JSON request and response messages of that protocol.
//! - `msgpack`: the msgpack messages (broadcasts, broadcast-with-ack requests and acks).
//! - `python`: python-socketio's pub/sub messages (channel `socketio`).
//! - `emitter`: [`Emitter`], for processes that are not servers.
//!
//! Built with the `redis` cargo feature (on by default).

mod adapter;
mod bus;
mod emitter;
mod msgpack;
mod python;
mod redis;
mod requests;

pub use self::adapter::ClusterAdapter;
pub use self::emitter::{Emitter, EmitterOperator};
pub use self::redis::{RedisAdapter, RedisAdapterFactory, RedisConfig};

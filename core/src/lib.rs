//! # sockeye-core
//!
//! The sans-IO protocol core of Sockeye: codecs and state machines for
//! [Engine.IO v4](https://github.com/socketio/engine.io-protocol) and
//! [Socket.IO v5](https://github.com/socketio/socket.io-protocol), for both the server and the
//! client role.
//!
//! Nothing here performs I/O, reads a clock, spawns, or draws random numbers. Time comes in as
//! an [`Instant`] argument, random bytes (session ids, jitter) come in from the caller, and
//! everything the machines want to do comes out as values to poll (`poll_transmit`,
//! `poll_event`, `poll_timeout`), in the style of `quinn-proto` and `str0m`.
//!
//! The crate builds for native targets and for `wasm32-unknown-unknown`; its test-suite runs
//! on both.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod base64;
pub mod engine;
pub mod json;
pub mod socket;
mod str;
mod time;
mod vec_map;

pub use crate::str::Str;
pub use crate::time::Instant;
pub use bytes::Bytes;

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
//! on both. Features: `std` (default; without it the crate is `no_std` + `alloc`), and, for
//! the wasm client only, `host-json` and `host-base64`: where the client reads JSON or
//! polling's base64, it asks the JavaScript host (`JSON.parse`, `atob`/`btoa`, through the
//! functions the wasm crate installs: `host::install`, a module of those features) instead
//! of carrying [`json`]'s scanner and [`base64`]'s codec; and
//! `owned-bytes`: binary data it receives is wrapped by `Bytes::from_owner`
//! ([`binary_from_vec`]), which brings less of the `bytes` crate into the wasm.
//!
//! ```
//! use sockeye_core::engine::client::Transmit;
//! use sockeye_core::engine::server::{self, Machine, Transmit as ServerTransmit};
//! use sockeye_core::engine::Transport;
//! use sockeye_core::socket::client::{Client, Config, Event};
//! use sockeye_core::socket::server::{self as sio, Connection};
//! use sockeye_core::{Instant, Str};
//!
//! let now = Instant::from_millis(0);
//! // The client wants namespace "/": its first transmit is the polling handshake.
//! let mut client = Client::new(Config::default(), 42);
//! client.connect(now, "/", None).unwrap();
//! assert_eq!(client.poll_transmit(), Some(Transmit::PollGet { sid: None }));
//!
//! // The server opens a connection for it (the session id would come from a CSPRNG) and
//! // answers the handshake request with the `open` packet.
//! let mut conn = Connection::new(
//!     "sid-1",
//!     Transport::Polling,
//!     server::Config::default(),
//!     sio::Config::default(),
//!     now,
//! );
//! conn.handle_poll_get(now).unwrap();
//! let Some(ServerTransmit::PollResponse(body)) = conn.poll_transmit() else { panic!() };
//! client.handle_poll_response(now, Str::from_utf8(body).unwrap()).unwrap();
//! assert_eq!(client.poll_event(), Some(Event::Open));
//!
//! // The client then polls again, probes a WebSocket and sends CONNECT for "/".
//! let mut wire = Vec::new();
//! while let Some(t) = client.poll_transmit() {
//!     wire.push(t);
//! }
//! assert!(wire.contains(&Transmit::PollPost { sid: Str::from("sid-1"), body: "40".into() }));
//!
//! // On the server, the POST body becomes a connect request for the application.
//! conn.handle_poll_post(now, Str::from("40")).unwrap();
//! assert_eq!(
//!     conn.poll_event(),
//!     Some(sio::Event::Connect { nsp: Str::from("/"), auth: None })
//! );
//! conn.accept("/", "socket-1", None).unwrap();
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// ASCII is pushed as a one-character `&str`: `String::push(char)` carries UTF-8 encoding code
// into the wasm client, for characters that are all ASCII here.
#![allow(clippy::single_char_add_str)]

extern crate alloc;

pub mod base64;
pub mod decimal;
pub mod engine;
#[cfg(any(feature = "host-json", feature = "host-base64"))]
pub mod host;
pub mod json;
mod prelude;
mod queue;
pub mod socket;
mod str;
mod time;
mod vec_map;

pub use crate::str::Str;
pub use crate::time::Instant;
pub use bytes::Bytes;

/// `v` as [`Bytes`], without copying it: `Bytes::from(v)`, or with feature `owned-bytes` (the
/// wasm client's build) `Bytes::from_owner(v)`, whose single vtable is smaller code than the
/// promotable and shared vtables `Bytes::from` brings. The same bytes either way.
pub fn binary_from_vec(v: alloc::vec::Vec<u8>) -> Bytes {
    #[cfg(feature = "owned-bytes")]
    return Bytes::from_owner(v);
    #[cfg(not(feature = "owned-bytes"))]
    Bytes::from(v)
}

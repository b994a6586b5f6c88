//! Socket.IO v5: namespaces, events, acknowledgements and binary attachments on top of
//! Engine.IO messages.
//!
//! - [`packet`]: the packet codec (`<type>[<attachments>-][<nsp>,][<id>][<json>]`).
//! - [`parser`]: reassembles binary packets from their attachments; encodes packets to
//!   Engine.IO messages.
//! - [`backoff`]: reconnection delays, as pure seeded functions.
//! - [`client`]: the client: namespaces, acks, offline buffer, reconnection, recovery.
//! - [`server`]: the server side of one connection: the Engine.IO session and the Socket.IO
//!   namespaces above it, composed into one state machine.
//! - [`recovery`]: connection state recovery's store (offsets, missed packets, expiry).

mod acks;
pub mod backoff;
pub mod client;
pub mod packet;
pub mod parser;
#[cfg(feature = "std")]
pub mod recovery;
pub mod server;

pub use packet::{Packet, PacketError, PacketType};
pub use parser::{Decoder, ParseError};

/// The Socket.IO protocol revision this crate speaks.
pub const PROTOCOL: u8 = 5;

//! Engine.IO v4: the transport layer under Socket.IO.
//!
//! - [`packet`]: the packet codec (one packet per WebSocket frame).
//! - [`payload`]: HTTP long-polling bodies (packets joined by `\x1e`, binary as `b` + base64).
//! - [`handshake`]: the `open` packet's JSON.
//! - [`server`]: the server-side session state machine.
//! - [`client`]: the client-side session state machine.

pub mod client;
pub mod handshake;
pub mod packet;
pub mod payload;
pub mod server;

pub use handshake::Handshake;
pub use packet::{DecodeError, Frame, Message, Packet, PacketType};

/// The Engine.IO protocol revision this crate speaks (`EIO=4` in the query string).
pub const PROTOCOL: u8 = 4;

/// The two transports of Engine.IO v4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// HTTP long-polling (`transport=polling`).
    Polling,
    /// WebSocket (`transport=websocket`).
    WebSocket,
}

impl Transport {
    /// The value of the `transport` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
        }
    }

    /// Parses the `transport` query parameter.
    pub fn parse(s: &str) -> Option<Transport> {
        match s {
            "polling" => Some(Transport::Polling),
            "websocket" => Some(Transport::WebSocket),
            _ => None,
        }
    }
}

/// Why an Engine.IO session closed. The strings match the reasons the reference
/// implementation reports (`"transport close"`, `"ping timeout"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The underlying connection closed (e.g. the WebSocket dropped).
    TransportClose,
    /// The transport failed (HTTP error, WebSocket error).
    TransportError,
    /// No heartbeat in time.
    PingTimeout,
    /// The peer sent a `close` packet.
    PeerClose,
    /// Closed locally on purpose (`close()`).
    ForcedClose,
    /// The peer sent something that is not Engine.IO.
    ParseError,
    /// The peer broke the protocol (e.g. two concurrent polling requests).
    ProtocolError,
    /// The peer sent more than `maxPayload` bytes.
    PayloadTooLarge,
    /// The peer did not read its data and the outgoing queue hit its bound.
    QueueFull,
    /// The server is shutting down.
    ServerShutdown,
}

impl CloseReason {
    /// The reason as the reference implementation spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::PeerClose => "transport close",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ParseError => "parse error",
            CloseReason::ProtocolError => "transport error",
            CloseReason::PayloadTooLarge => "transport error",
            CloseReason::QueueFull => "transport error",
            CloseReason::ServerShutdown => "server shutting down",
        }
    }
}

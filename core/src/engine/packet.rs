//! Engine.IO v4 packet codec.
//!
//! Over WebSocket each frame is one packet: a text frame is the packet type digit followed by
//! its data (`"4hello"`), a binary frame is a binary `message` with no prefix at all.

use crate::engine::Handshake;
use crate::Str;
use bytes::Bytes;

/// Packet type digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`, sent by the server at the start of a session.
    Open = 0,
    /// `1`, either side closes the session.
    Close = 1,
    /// `2`, heartbeat request (server → client), or `2probe` during upgrade.
    Ping = 2,
    /// `3`, heartbeat answer, or `3probe` during upgrade.
    Pong = 3,
    /// `4`, application data.
    Message = 4,
    /// `5`, completes an upgrade to WebSocket.
    Upgrade = 5,
    /// `6`, no-op; releases a pending poll during upgrade.
    Noop = 6,
}

/// Application data carried by a `message` packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

/// One Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet {
    /// The handshake, sent by the server first.
    Open(Handshake),
    /// Close the session.
    Close,
    /// Heartbeat request; the payload is `"probe"` during an upgrade, otherwise empty.
    Ping(Str),
    /// Heartbeat answer, echoing the ping's payload.
    Pong(Str),
    /// Application data.
    Message(Message),
    /// Upgrade complete.
    Upgrade,
    /// No-op.
    Noop,
}

/// One WebSocket frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(Str),
    /// A binary frame.
    Binary(Bytes),
}

/// Why bytes could not be decoded as Engine.IO.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Empty packet (no type digit).
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type digit `0`..`6`.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A `b`-prefixed polling packet whose base64 is invalid.
    #[error("invalid base64 in binary packet")]
    Base64,
    /// The open packet's JSON is not a valid handshake.
    #[error("invalid handshake: {0}")]
    Handshake(&'static str),
    /// A polling body that is not valid UTF-8.
    #[error("payload is not valid UTF-8")]
    Utf8,
    /// A payload larger than the allowed maximum.
    #[error("payload of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        max: usize,
    },
}

impl PacketType {
    /// The type for a digit character, if any.
    pub fn from_char(c: char) -> Option<PacketType> {
        todo!()
    }

    /// The digit character of this type.
    pub fn as_char(self) -> char {
        todo!()
    }
}

impl Packet {
    /// This packet's type.
    pub fn packet_type(&self) -> PacketType {
        todo!()
    }

    /// Encodes for a WebSocket frame: binary messages become binary frames, everything else a
    /// text frame `"<digit><data>"`.
    pub fn encode_frame(&self) -> Frame {
        todo!()
    }

    /// Appends the text form `"<digit><data>"` to `out` (used for polling payloads; binary
    /// messages are written as `"b<base64>"`).
    pub fn encode_text_into(&self, out: &mut String) {
        todo!()
    }

    /// Decodes a WebSocket text frame (or one packet of a polling payload that is not
    /// `b`-prefixed). Takes a [`Str`] so message data can share its buffer.
    pub fn decode_text(text: Str) -> Result<Packet, DecodeError> {
        todo!()
    }

    /// Decodes a WebSocket binary frame: always a binary `message`.
    pub fn decode_binary(data: Bytes) -> Packet {
        Packet::Message(Message::Binary(data))
    }

    /// Decodes a WebSocket frame.
    pub fn decode_frame(frame: Frame) -> Result<Packet, DecodeError> {
        match frame {
            Frame::Text(t) => Packet::decode_text(t),
            Frame::Binary(b) => Ok(Packet::decode_binary(b)),
        }
    }
}

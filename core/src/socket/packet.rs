//! Socket.IO v5 packet codec.
//!
//! A packet is `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`, e.g.
//! `2["hello",1]`, `2/admin,12["project:delete",123]`, `51-["up",{"_placeholder":true,"num":0}]`.
//! The data stays raw JSON text ([`Str`]): decoding reads only the header and checks the data's
//! shape with the [`crate::json`] scanner; nothing builds a tree.

use crate::json::JsonError;
use crate::Str;
use bytes::Bytes;

/// Packet type digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: connect to a namespace (client → server with optional auth object; server →
    /// client with `{"sid": ...}`).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event `["name", ...args]`.
    Event = 2,
    /// `3`: an acknowledgement `[...args]`.
    Ack = 3,
    /// `4`: the server refused a namespace connect (`{"message": ..., "data": ...}`).
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck = 6,
}

/// One Socket.IO packet, with its binary attachments once reassembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The type.
    pub ty: PacketType,
    /// The namespace, `"/"` by default.
    pub nsp: Str,
    /// The ack id, if the sender wants (or this is) an acknowledgement.
    pub id: Option<u64>,
    /// The raw JSON data, if any. For binary packets it holds
    /// `{"_placeholder":true,"num":n}` objects where the attachments go.
    pub data: Option<Str>,
    /// Binary attachments, in placeholder order. Only binary packet types carry any.
    pub attachments: Vec<Bytes>,
}

/// Why text could not be decoded as a Socket.IO packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Empty text.
    #[error("empty packet")]
    Empty,
    /// Unknown type digit.
    #[error("unknown packet type")]
    UnknownType,
    /// The attachment count of a binary packet is missing or malformed.
    #[error("illegal attachments")]
    IllegalAttachments,
    /// The ack id is not a valid integer.
    #[error("illegal ack id")]
    IllegalId,
    /// The data is not valid JSON.
    #[error("invalid JSON payload: {0}")]
    Json(#[from] JsonError),
    /// The data is valid JSON but not what this packet type carries (e.g. an event that is not
    /// a non-empty array starting with a string or number).
    #[error("invalid payload")]
    InvalidPayload,
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

    /// Whether this type carries binary attachments (`BinaryEvent`, `BinaryAck`).
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

impl Packet {
    /// `CONNECT` to `nsp`, with an optional auth/handshake object as raw JSON.
    pub fn connect(nsp: impl Into<Str>, data: Option<Str>) -> Packet {
        Packet {
            ty: PacketType::Connect,
            nsp: nsp.into(),
            id: None,
            data,
            attachments: Vec::new(),
        }
    }

    /// `DISCONNECT` from `nsp`.
    pub fn disconnect(nsp: impl Into<Str>) -> Packet {
        Packet {
            ty: PacketType::Disconnect,
            nsp: nsp.into(),
            id: None,
            data: None,
            attachments: Vec::new(),
        }
    }

    /// `CONNECT_ERROR` on `nsp` with raw JSON data (`{"message":...}`).
    pub fn connect_error(nsp: impl Into<Str>, data: Str) -> Packet {
        Packet {
            ty: PacketType::ConnectError,
            nsp: nsp.into(),
            id: None,
            data: Some(data),
            attachments: Vec::new(),
        }
    }

    /// An event: `data` is the raw JSON array `["name", ...args]`. With attachments the type
    /// becomes `BinaryEvent`.
    pub fn event(
        nsp: impl Into<Str>,
        data: Str,
        id: Option<u64>,
        attachments: Vec<Bytes>,
    ) -> Packet {
        let ty = if attachments.is_empty() {
            PacketType::Event
        } else {
            PacketType::BinaryEvent
        };
        Packet {
            ty,
            nsp: nsp.into(),
            id,
            data: Some(data),
            attachments,
        }
    }

    /// An acknowledgement of `id`: `data` is the raw JSON array of arguments. With attachments
    /// the type becomes `BinaryAck`.
    pub fn ack(nsp: impl Into<Str>, data: Str, id: u64, attachments: Vec<Bytes>) -> Packet {
        let ty = if attachments.is_empty() {
            PacketType::Ack
        } else {
            PacketType::BinaryAck
        };
        Packet {
            ty,
            nsp: nsp.into(),
            id: Some(id),
            data: Some(data),
            attachments,
        }
    }

    /// Encodes the text part (header and data). Binary packets announce
    /// `self.attachments.len()` attachments, which follow as separate binary messages.
    /// The namespace is omitted when it is `"/"`.
    pub fn encode(&self) -> Str {
        todo!()
    }

    /// Decodes the text part of a packet. Returns the packet (with no attachments yet) and the
    /// number of attachments that must follow (0 for non-binary types). Checks the data's shape
    /// for the type: CONNECT an object or nothing, DISCONNECT nothing, CONNECT_ERROR a string or
    /// object, (BINARY_)EVENT a non-empty array whose first element is a string or number,
    /// (BINARY_)ACK an array.
    pub fn decode(text: Str) -> Result<(Packet, usize), PacketError> {
        todo!()
    }

    /// For events: the event name (the first array element, unescaped), if it is a string.
    pub fn event_name(&self) -> Option<String> {
        todo!()
    }
}

//! Turns a stream of Engine.IO messages into Socket.IO packets (reassembling binary
//! attachments) and packets back into messages.

use crate::engine::Message;
use crate::socket::packet::{Packet, PacketError};
use crate::Str;
use bytes::Bytes;

/// Default cap on attachments per packet.
pub const DEFAULT_MAX_ATTACHMENTS: usize = 10;

/// Why a message stream could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is not a valid packet.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// A binary message arrived when no binary packet was waiting for attachments.
    #[error("unexpected binary attachment")]
    UnexpectedBinary,
    /// A text message arrived while a binary packet still waited for attachments.
    #[error("got a text packet while waiting for {0} more attachment(s)")]
    UnexpectedText(usize),
    /// A binary packet announced more attachments than allowed.
    #[error("{count} attachments exceed the maximum of {max}")]
    TooManyAttachments {
        /// Announced.
        count: usize,
        /// Allowed.
        max: usize,
    },
}

/// Incremental decoder for one connection.
#[derive(Debug)]
pub struct Decoder {
    max_attachments: usize,
    partial: Option<(Packet, usize)>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_ATTACHMENTS)
    }
}

impl Decoder {
    /// A decoder accepting at most `max_attachments` attachments per packet.
    pub fn new(max_attachments: usize) -> Decoder {
        Decoder {
            max_attachments,
            partial: None,
        }
    }

    /// Feeds a text message. Returns a packet when one is complete (a binary packet is
    /// complete only after its attachments).
    pub fn decode_text(&mut self, text: Str) -> Result<Option<Packet>, ParseError> {
        todo!()
    }

    /// Feeds a binary message (an attachment of the pending binary packet).
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, ParseError> {
        todo!()
    }

    /// Feeds an Engine.IO message.
    pub fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError> {
        match message {
            Message::Text(t) => self.decode_text(t),
            Message::Binary(b) => self.decode_binary(b),
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_awaiting_attachments(&self) -> bool {
        self.partial.is_some()
    }

    /// Drops any half-received packet (e.g. when the transport reconnects).
    pub fn reset(&mut self) {
        self.partial = None;
    }
}

/// Encodes `packet` as Engine.IO messages: its text, then one binary message per attachment.
pub fn encode(packet: &Packet) -> Vec<Message> {
    todo!()
}

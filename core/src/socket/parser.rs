//! Turns a stream of Engine.IO messages into Socket.IO packets (reassembling binary
//! attachments) and packets back into messages.

use crate::engine::Message;
use crate::prelude::*;
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
        if let Some((_, remaining)) = &self.partial {
            return Err(ParseError::UnexpectedText(*remaining));
        }
        let (mut packet, count) = Packet::decode(text)?;
        if !packet.ty.is_binary() || count == 0 {
            return Ok(Some(packet));
        }
        if count > self.max_attachments {
            return Err(ParseError::TooManyAttachments {
                count,
                max: self.max_attachments,
            });
        }
        packet.attachments.reserve_exact(count);
        self.partial = Some((packet, count));
        Ok(None)
    }

    /// Feeds a binary message (an attachment of the pending binary packet).
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, ParseError> {
        let Some((packet, remaining)) = &mut self.partial else {
            return Err(ParseError::UnexpectedBinary);
        };
        packet.attachments.push(data);
        *remaining = remaining.saturating_sub(1);
        if *remaining > 0 {
            return Ok(None);
        }
        Ok(self.partial.take().map(|(packet, _)| packet))
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
    let mut out = Vec::with_capacity(1 + packet.attachments.len());
    out.push(Message::Text(packet.encode()));
    // A loop, not `extend` over an adapter: less code in the wasm client.
    for a in packet.sent_attachments() {
        out.push(Message::Binary(a.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::packet::PacketType;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn text(s: &'static str) -> Message {
        Message::Text(Str::from_static(s))
    }

    fn binary(b: &'static [u8]) -> Message {
        Message::Binary(Bytes::from_static(b))
    }

    #[test]
    fn plain_packets_are_complete_at_once() {
        let mut d = Decoder::default();
        let p = d.decode(text(r#"2["foo"]"#)).unwrap().unwrap();
        assert_eq!(p.event_name().as_deref(), Some("foo"));
        assert!(!d.is_awaiting_attachments());
        let p = d.decode(text("0")).unwrap().unwrap();
        assert_eq!(p.ty, PacketType::Connect);
    }

    #[test]
    fn binary_event_with_one_attachment() {
        let mut d = Decoder::default();
        assert_eq!(
            d.decode(text(r#"51-["hello",{"_placeholder":true,"num":0}]"#)),
            Ok(None)
        );
        assert!(d.is_awaiting_attachments());
        let p = d.decode(binary(&[1, 2, 3])).unwrap().unwrap();
        assert!(!d.is_awaiting_attachments());
        assert_eq!(p.ty, PacketType::BinaryEvent);
        assert_eq!(p.nsp, "/");
        assert_eq!(p.event_name().as_deref(), Some("hello"));
        assert_eq!(p.attachments, [Bytes::from_static(&[1, 2, 3])]);
        assert_eq!(
            encode(&p),
            [
                text(r#"51-["hello",{"_placeholder":true,"num":0}]"#),
                binary(&[1, 2, 3])
            ]
        );
    }

    #[test]
    fn binary_ack_with_two_attachments() {
        let mut d = Decoder::default();
        let wire = r#"62-/admin,456[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(d.decode(text(wire)), Ok(None));
        assert_eq!(d.decode(binary(b"a")), Ok(None));
        let p = d.decode(binary(b"b")).unwrap().unwrap();
        assert_eq!(p.ty, PacketType::BinaryAck);
        assert_eq!(p.nsp, "/admin");
        assert_eq!(p.id, Some(456));
        assert_eq!(
            p.attachments,
            [Bytes::from_static(b"a"), Bytes::from_static(b"b")]
        );
        assert_eq!(encode(&p), [text(wire), binary(b"a"), binary(b"b")]);
        // The decoder is ready for the next packet.
        assert!(d.decode(text("3/admin,457[]")).unwrap().is_some());
    }

    #[test]
    fn zero_attachments_is_complete() {
        let mut d = Decoder::default();
        let p = d.decode(text(r#"60-["x"]"#)).unwrap().unwrap();
        assert_eq!(p.ty, PacketType::BinaryAck);
        assert!(p.attachments.is_empty());
        assert!(!d.is_awaiting_attachments());
    }

    #[test]
    fn unexpected_messages() {
        let mut d = Decoder::default();
        assert_eq!(d.decode(binary(b"x")), Err(ParseError::UnexpectedBinary));
        assert_eq!(d.decode(text(r#"52-["a"]"#)), Ok(None));
        assert_eq!(d.decode(binary(b"x")), Ok(None));
        assert_eq!(
            d.decode(text(r#"2["a"]"#)),
            Err(ParseError::UnexpectedText(1))
        );
        // Still waiting; reset drops the half packet.
        assert!(d.is_awaiting_attachments());
        d.reset();
        assert!(!d.is_awaiting_attachments());
        assert!(d.decode(text(r#"2["a"]"#)).unwrap().is_some());
        assert_eq!(d.decode(binary(b"x")), Err(ParseError::UnexpectedBinary));
    }

    #[test]
    fn attachment_limit() {
        let mut d = Decoder::new(2);
        assert_eq!(d.decode(text(r#"52-["a"]"#)), Ok(None));
        d.reset();
        assert_eq!(
            d.decode(text(r#"53-["a"]"#)),
            Err(ParseError::TooManyAttachments { count: 3, max: 2 })
        );
        assert!(!d.is_awaiting_attachments());
        // A count that does not even fit in a usize is malformed rather than too many.
        assert_eq!(
            d.decode(text(r#"5184467440737095516150-["a"]"#)),
            Err(ParseError::Packet(PacketError::IllegalAttachments))
        );
        assert_eq!(
            d.decode(text(r#"54294967295-["a"]"#)),
            Err(ParseError::TooManyAttachments {
                count: 4294967295,
                max: 2
            })
        );
        let mut d = Decoder::new(0);
        assert!(d.decode(text(r#"50-["a"]"#)).unwrap().is_some());
        assert_eq!(
            d.decode(text(r#"51-["a"]"#)),
            Err(ParseError::TooManyAttachments { count: 1, max: 0 })
        );
    }

    #[test]
    fn packet_errors_pass_through() {
        let mut d = Decoder::default();
        assert_eq!(
            d.decode(text("999")),
            Err(ParseError::Packet(PacketError::UnknownType))
        );
        assert_eq!(
            d.decode(text(r#"5-["x"]"#)),
            Err(ParseError::Packet(PacketError::IllegalAttachments))
        );
        assert!(!d.is_awaiting_attachments());
    }

    #[test]
    fn encode_plain_and_inconsistent_packets() {
        let p = crate::socket::Packet::event("/", Str::from_static(r#"["a"]"#), Some(1), vec![]);
        assert_eq!(encode(&p), [text(r#"21["a"]"#)]);
        // A non-binary type never sends attachments it did not announce.
        let mut p = p;
        p.attachments.push(Bytes::from_static(b"x"));
        assert_eq!(encode(&p), [text(r#"21["a"]"#)]);
    }
}

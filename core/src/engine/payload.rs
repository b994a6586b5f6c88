//! HTTP long-polling payloads: packets joined by the record separator `\x1e`; a binary
//! message is written as `b` followed by its standard base64.

use crate::engine::packet::{DecodeError, Packet};
use crate::prelude::*;
use crate::Str;

/// The record separator between packets of one polling body.
pub const SEPARATOR: char = '\x1e';

/// Encodes `packets` as one polling body.
pub fn encode(packets: &[Packet]) -> String {
    let mut out = String::new();
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        packet.encode_text_into(&mut out);
    }
    out
}

/// Decodes one polling body into its packets. `body` must be at most `max_payload` bytes
/// (checked first, before any decoding). An empty body is an error.
pub fn decode(body: Str, max_payload: usize) -> Result<Vec<Packet>, DecodeError> {
    if body.len() > max_payload {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            max: max_payload,
        });
    }
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    // Each part is a sub-slice of `body`, so text messages share its buffer. An empty part
    // (a leading, trailing or doubled separator) is an empty packet, an error. One pass over
    // the body to size the result, one to decode: linear, whatever the number of packets.
    let count = body.bytes().filter(|&b| b == SEPARATOR as u8).count() + 1;
    let mut packets = Vec::with_capacity(count);
    for part in body.split(SEPARATOR) {
        packets.push(Packet::decode_part(&body, part)?);
    }
    Ok(packets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::packet::Message;
    use bytes::Bytes;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn text(s: &'static str) -> Packet {
        Packet::Message(Message::Text(Str::from_static(s)))
    }

    fn decode_static(s: &'static str) -> Result<Vec<Packet>, DecodeError> {
        decode(Str::from_static(s), 1_000_000)
    }

    #[test]
    fn spec_example() {
        let packets = vec![
            text("hello"),
            text("€"),
            Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
        ];
        assert_eq!(encode(&packets), "4hello\x1e4€\x1ebAQIDBA==");
        assert_eq!(decode_static("4hello\x1e4€\x1ebAQIDBA=="), Ok(packets));
    }

    #[test]
    fn single_and_control_packets() {
        assert_eq!(decode_static("6"), Ok(vec![Packet::Noop]));
        assert_eq!(
            decode_static("2probe\x1e1"),
            Ok(vec![Packet::Ping(Str::from_static("probe")), Packet::Close])
        );
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[Packet::Noop]), "6");
    }

    #[test]
    fn size_is_checked_first() {
        // Too large wins over any other problem.
        assert_eq!(
            decode(Str::from_static("xxxxx"), 4),
            Err(DecodeError::TooLarge { size: 5, max: 4 })
        );
        assert_eq!(decode(Str::from_static("4abc"), 4), Ok(vec![text("abc")]));
        assert_eq!(decode(Str::from_static(""), 0), Err(DecodeError::Empty));
    }

    #[test]
    fn malformed_bodies() {
        assert_eq!(decode_static(""), Err(DecodeError::Empty));
        assert_eq!(decode_static("\x1e"), Err(DecodeError::Empty));
        assert_eq!(decode_static("4a\x1e"), Err(DecodeError::Empty));
        assert_eq!(decode_static("4a\x1e\x1e4b"), Err(DecodeError::Empty));
        assert_eq!(decode_static("4a\x1e9"), Err(DecodeError::UnknownType('9')));
        assert_eq!(decode_static("4a\x1ebA==="), Err(DecodeError::Base64));
        assert_eq!(decode_static("x"), Err(DecodeError::UnknownType('x')));
    }

    #[test]
    fn text_messages_share_the_body() {
        let body = Str::from("4abc\x1e4def");
        let packets = decode(body.clone(), 100).unwrap();
        let Packet::Message(Message::Text(second)) = &packets[1] else {
            panic!()
        };
        assert_eq!(second.as_ptr(), body[6..].as_ptr());
    }
}

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
    packets(&body, max_payload)?.collect()
}

/// The packets of one polling body, decoded one at a time as the iterator is advanced: a
/// body of half a million one-byte packets never becomes a vector of them. The size check
/// (`max_payload`) and the empty-body check happen here, before any packet is decoded; a
/// packet that does not decode is yielded as an error, and the iterator ends after it.
pub fn packets(body: &Str, max_payload: usize) -> Result<Packets<'_>, DecodeError> {
    if body.len() > max_payload {
        return Err(DecodeError::TooLarge {
            size: body.len(),
            max: max_payload,
        });
    }
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(Packets {
        body,
        rest: Some(body.as_str()),
    })
}

/// Iterator over the packets of a polling body; see [`packets`].
#[derive(Debug)]
pub struct Packets<'a> {
    body: &'a Str,
    /// What is left to decode; `None` once the last part (or an error) was yielded.
    rest: Option<&'a str>,
}

/// Where the next separator of `s` is. Packets of hostile bodies are a byte or two, for which
/// `str::find`'s vectorised search costs more than looking at the bytes; longer ones get it.
#[cfg(feature = "std")]
fn find_separator(s: &str) -> Option<usize> {
    const SHORT: usize = 16;
    let bytes = s.as_bytes();
    let head = &bytes[..bytes.len().min(SHORT)];
    for (at, &b) in head.iter().enumerate() {
        if b == SEPARATOR as u8 {
            return Some(at);
        }
    }
    if head.len() == bytes.len() {
        return None;
    }
    // UTF-8 never has the ASCII separator inside a multi-byte character, so scanning bytes
    // and searching from the first char boundary past SHORT find the same separator.
    let from = (SHORT..s.len()).find(|&i| s.is_char_boundary(i))?;
    // `get`, not indexing: no slicing panic (and its message formatting) in the wasm client.
    s.get(from..)?.find(SEPARATOR).map(|at| from + at)
}

/// Where the next separator of `s` is: without `std` (the wasm client, which decodes only its
/// server's bodies), a byte loop — `str::find`'s searcher weighs ~700 bytes of wasm.
#[cfg(not(feature = "std"))]
fn find_separator(s: &str) -> Option<usize> {
    s.bytes().position(|b| b == SEPARATOR as u8)
}

impl Iterator for Packets<'_> {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        // Each part is a sub-slice of the body, so text messages share its buffer. An empty
        // part (a leading, trailing or doubled separator) is an empty packet, an error. The
        // separator is ASCII: both sides of it lie on character boundaries, so the checked
        // split always succeeds (and, unlike indexing, brings no slicing panic into the wasm).
        let (part, after) = match find_separator(rest).and_then(|at| rest.split_at_checked(at)) {
            Some((part, sep_and_after)) => (part, sep_and_after.get(1..)),
            None => (rest, None),
        };
        let packet = Packet::decode_part(self.body, part);
        self.rest = if packet.is_ok() { after } else { None };
        Some(packet)
    }
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
    fn separators_found_across_multibyte_characters_and_long_packets() {
        // Parts whose 16th byte falls inside a character, and one past the short scan.
        for lead in 12..18 {
            let first = format!("4{}€€x", "a".repeat(lead));
            let long = format!("4{}", "é".repeat(40));
            let body = format!("{first}\x1e6\x1e{long}\x1e4€");
            let packets = decode(Str::from(body.as_str()), usize::MAX).unwrap();
            let texts: Vec<String> = packets
                .iter()
                .map(|p| encode(core::slice::from_ref(p)))
                .collect();
            assert_eq!(
                texts,
                [first.as_str(), "6", long.as_str(), "4€"],
                "lead {lead}"
            );
        }
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

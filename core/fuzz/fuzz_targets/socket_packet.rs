//! Socket.IO decoding: the input is split at 0xFF bytes into messages; a segment whose first
//! byte is even is a text message (if it is UTF-8), otherwise a binary one (the rest of the
//! segment). They are fed to a `socket::Decoder`; each text is also run through
//! `Packet::decode` (checking that what decodes re-encodes to the same packet) and the JSON
//! scanner.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sockeye_core::socket::{Decoder, Packet, ParseError};
use sockeye_core::{json, Str};

fn check_text(text: &Str) {
    if let Ok((mut packet, count)) = Packet::decode(text.clone()) {
        assert!(count == 0 || packet.ty.is_binary());
        let _ = packet.event_name();
        if count <= 256 {
            packet.attachments = vec![Bytes::new(); count];
            let (mut again, again_count) = Packet::decode(packet.encode()).expect("re-encoded");
            assert_eq!(again_count, count);
            again.attachments = packet.attachments.clone();
            assert_eq!(again, packet);
        }
    }

    let valid = json::validate(text).is_ok();
    if valid {
        assert!(json::kind(text).is_some());
    }
    if let Ok(end) = json::skip_value(text, 0) {
        assert!(end <= text.len());
    }
    if json::array_elements(text).is_ok() || json::object_members(text).is_ok() {
        assert!(valid);
    }
    if let Ok(s) = json::parse_string(text) {
        assert!(valid);
        let mut lit = String::new();
        json::write_string(&mut lit, &s);
        assert_eq!(json::parse_string(&lit), Ok(s));
    }
    let _ = json::parse_u64(text);
}

fuzz_target!(|data: &[u8]| {
    // The whole input as one text, too.
    if let Ok(text) = Str::from_utf8(Bytes::copy_from_slice(data)) {
        check_text(&text);
    }

    let max = data.first().map_or(0, |&b| usize::from(b % 8));
    let mut decoder = Decoder::new(max);
    for segment in data.split(|&b| b == 0xff) {
        let awaiting = decoder.is_awaiting_attachments();
        let (is_text, result) = match segment.split_first() {
            Some((&kind, rest)) if kind % 2 == 1 => {
                (false, decoder.decode_binary(Bytes::copy_from_slice(rest)))
            }
            _ => match Str::from_utf8(Bytes::copy_from_slice(segment.get(1..).unwrap_or(&[]))) {
                Ok(text) => {
                    check_text(&text);
                    (true, decoder.decode_text(text))
                }
                Err(_) => continue,
            },
        };
        match result {
            Ok(Some(packet)) => {
                assert!(packet.attachments.len() <= max);
                assert!(!decoder.is_awaiting_attachments());
            }
            Ok(None) => assert!(decoder.is_awaiting_attachments()),
            Err(ParseError::UnexpectedBinary) => assert!(!is_text && !awaiting),
            Err(ParseError::UnexpectedText(_)) => assert!(is_text && awaiting),
            Err(_) => assert!(is_text),
        }
    }
});

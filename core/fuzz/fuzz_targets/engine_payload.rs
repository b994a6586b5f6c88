//! Engine.IO text decoding: bytes → `Str::from_utf8` → `payload::decode` and
//! `Packet::decode_text`. Whatever decodes must re-encode to something that decodes the same.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sockeye_core::engine::{payload, DecodeError, Packet};
use sockeye_core::Str;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = Str::from_utf8(Bytes::copy_from_slice(data)) else {
        return;
    };
    let len = text.len();

    for max in [usize::MAX, len, len / 2] {
        match payload::decode(text.clone(), max) {
            Ok(packets) => {
                assert!(len <= max && !packets.is_empty());
                let again = payload::encode(&packets);
                assert_eq!(payload::decode(Str::from(again), usize::MAX), Ok(packets));
            }
            Err(DecodeError::TooLarge { size, max: m }) => {
                assert!(size == len && m == max && size > max)
            }
            Err(_) => assert!(len <= max),
        }
    }

    if let Ok(packet) = Packet::decode_text(text) {
        let mut again = String::new();
        packet.encode_text_into(&mut again);
        assert_eq!(Packet::decode_text(Str::from(again)), Ok(packet.clone()));
        let frame = packet.encode_frame();
        assert_eq!(Packet::decode_frame(frame), Ok(packet));
    }
});

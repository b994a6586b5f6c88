//! Standard base64 (RFC 4648 alphabet, `=` padding), as used for binary packets in polling
//! payloads. Hand-written to keep the wasm client small.

use crate::prelude::*;

#[cfg(feature = "host-base64")]
pub mod host;

/// Invalid base64 input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64")]
pub struct Base64Error;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The character for a 6-bit value (the mask keeps the index in range).
fn sextet_char(v: u32) -> char {
    char::from(ALPHABET[(v & 0x3f) as usize])
}

/// The 6-bit value of an alphabet character.
fn sextet_value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Appends the base64 encoding of `input` to `out`, padded with `=`.
pub fn encode_into(input: &[u8], out: &mut String) {
    out.reserve(input.len().div_ceil(3) * 4);
    let mut chunks = input.chunks_exact(3);
    for chunk in &mut chunks {
        if let [a, b, c] = *chunk {
            let n = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
            out.push(sextet_char(n >> 18));
            out.push(sextet_char(n >> 12));
            out.push(sextet_char(n >> 6));
            out.push(sextet_char(n));
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(sextet_char(n >> 18));
            out.push(sextet_char(n >> 12));
            out.push_str("==");
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.push(sextet_char(n >> 18));
            out.push(sextet_char(n >> 12));
            out.push(sextet_char(n >> 6));
            out.push('=');
        }
        _ => {}
    }
}

/// The base64 encoding of `input`.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    encode_into(input, &mut out);
    out
}

/// Decodes standard base64. Padding is optional; any other character than the alphabet and
/// trailing `=` is an error.
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    // Like the WHATWG "forgiving base64" used by `atob`: one or two `=` may end an input whose
    // length is a multiple of four; without padding the length must not be 1 mod 4. Unused
    // low bits of the last character are ignored.
    let mut bytes = input.as_bytes();
    if bytes.len() % 4 == 0 {
        if let Some(rest) = bytes.strip_suffix(b"==") {
            bytes = rest;
        } else if let Some(rest) = bytes.strip_suffix(b"=") {
            bytes = rest;
        }
    }
    if bytes.len() % 4 == 1 {
        return Err(Base64Error);
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut chunks = bytes.chunks_exact(4);
    for chunk in &mut chunks {
        let mut n = 0u32;
        for &c in chunk {
            n = n << 6 | sextet_value(c).ok_or(Base64Error)?;
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    let mut n = 0u32;
    for &c in rest {
        n = n << 6 | sextet_value(c).ok_or(Base64Error)?;
    }
    match rest.len() {
        2 => out.push((n >> 4) as u8),
        3 => out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]),
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_vectors() {
        for (plain, b64) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), *b64);
            assert_eq!(decode(b64).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn engine_io_example() {
        assert_eq!(encode(&[1, 2, 3, 4]), "AQIDBA==");
        assert_eq!(decode("AQIDBA==").unwrap(), [1, 2, 3, 4]);
    }

    #[test]
    fn all_byte_values() {
        let data: Vec<u8> = (0..=255u8).collect();
        let enc = encode(&data);
        assert!(enc.ends_with("/w=="));
        assert_eq!(decode(&enc).unwrap(), data);
    }

    #[test]
    fn encode_into_appends() {
        let mut s = String::from("b");
        encode_into(b"hi", &mut s);
        assert_eq!(s, "baGk=");
    }

    #[test]
    fn padding_is_optional() {
        assert_eq!(decode("Zg").unwrap(), b"f");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert_eq!(decode("AQIDBA").unwrap(), [1, 2, 3, 4]);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "Z",
            "Z===",
            "Zg=",
            "Zg===",
            "=",
            "==",
            "===",
            "====",
            "Zm9v=",
            "Zm 9v",
            "Zm9v\n",
            "Zm-v",
            "Zm_v",
            "Z=g=",
            "=Zg=",
            "Zg==Zg==",
            "é",
            "AQID\u{1e}",
        ] {
            assert_eq!(decode(bad), Err(Base64Error), "{bad:?}");
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_ignored() {
        // "Zh" has low bits set that "Zg" does not; atob accepts both.
        assert_eq!(decode("Zh==").unwrap(), b"f");
    }
}

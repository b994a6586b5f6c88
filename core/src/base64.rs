//! Standard base64 (RFC 4648 alphabet, `=` padding), as used for binary packets in polling
//! payloads. Hand-written to keep the wasm client small.

/// Invalid base64 input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64")]
pub struct Base64Error;

/// Appends the base64 encoding of `input` to `out`, padded with `=`.
pub fn encode_into(input: &[u8], out: &mut String) {
    todo!()
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
    todo!()
}

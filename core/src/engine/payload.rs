//! HTTP long-polling payloads: packets joined by the record separator `\x1e`; a binary
//! message is written as `b` followed by its standard base64.

use crate::engine::packet::{DecodeError, Packet};
use crate::Str;

/// The record separator between packets of one polling body.
pub const SEPARATOR: char = '\x1e';

/// Encodes `packets` as one polling body.
pub fn encode(packets: &[Packet]) -> String {
    todo!()
}

/// Decodes one polling body into its packets. `body` must be at most `max_payload` bytes
/// (checked first, before any decoding). An empty body is an error.
pub fn decode(body: Str, max_payload: usize) -> Result<Vec<Packet>, DecodeError> {
    todo!()
}

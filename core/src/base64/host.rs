//! Base64 by the JavaScript host (feature `host-base64`, the wasm client's build): `atob` and
//! `btoa` instead of this crate's codec, which then stays out of the wasm. Only binary
//! messages over HTTP long-polling (`b` + base64) use it, through the functions the wasm crate
//! installed ([`crate::host`]; the wasm client's `js/host.js`).
//!
//! `atob` is the WHATWG "forgiving base64" that [`super::decode`] follows, and also skips
//! ASCII whitespace; engine.io-client's own decoder is laxer still (it never fails).

use super::Base64Error;
use crate::prelude::*;

/// Decodes base64 with the host's `atob`.
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    (crate::host::get().b64decode)(input).ok_or(Base64Error)
}

/// Appends the base64 encoding of `input` (with the host's `btoa`) to `out`.
pub fn encode_into(input: &[u8], out: &mut String) {
    out.push_str(&(crate::host::get().b64encode)(input));
}

//! Base64 by the JavaScript host (feature `host-base64`, the wasm client's build): `atob` and
//! `btoa` instead of this crate's codec, which then stays out of the wasm. Only binary
//! messages over HTTP long-polling (`b` + base64) use it.
//!
//! `atob` is the WHATWG "forgiving base64" that [`super::decode`] follows, and also skips
//! ASCII whitespace; engine.io-client's own decoder is laxer still (it never fails).

use super::Base64Error;
use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function b64decode(s) {
  let t;
  try { t = atob(s); } catch (_) { return; }
  const u = new Uint8Array(t.length);
  for (let i = 0; i < t.length; i += 1) u[i] = t.charCodeAt(i);
  return u;
}
export function b64encode(u) {
  let t = '';
  for (let i = 0; i < u.length; i += 1) t += String.fromCharCode(u[i]);
  return btoa(t);
}
"#)]
extern "C" {
    fn b64decode(s: &str) -> Option<Vec<u8>>;
    fn b64encode(u: &[u8]) -> String;
}

/// Decodes base64 with the host's `atob`.
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    b64decode(input).ok_or(Base64Error)
}

/// Appends the base64 encoding of `input` (with the host's `btoa`) to `out`.
pub fn encode_into(input: &[u8], out: &mut String) {
    out.push_str(&b64encode(input));
}

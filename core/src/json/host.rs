//! JSON read by the JavaScript host (feature `host-json`, the wasm client's build).
//!
//! The wasm client hands every event's arguments to JavaScript, which `JSON.parse`s them
//! anyway. Where the client needs to look into JSON text — a packet's payload shape, the
//! handshake, the `CONNECT` answer, the recovery offset, the auth object — it asks the host's
//! `JSON.parse` here instead of carrying the scanner of [`crate::json`] in the wasm. What it
//! accepts is then exactly what socket.io-client's parser (`JSON.parse`) accepts.
//!
//! One function of the host ([`crate::host::Host::json`]) answers every question: its `op`
//! says which (see [`op`]). The wasm client's `js/host.js` implements it.

use crate::prelude::*;

/// What [`crate::host::Host::json`] is asked (the numbers `js/host.js` reads).
pub mod op {
    /// The value's shape: `o` an object, `s` a string, `n` an array whose first element is a
    /// number, `e` followed by the first element for an array starting with a string, `a`
    /// another array, `x` anything else; none if the text is not JSON.
    pub const SHAPE: u8 = 0;
    /// Member `key` of an object: `+` then its value if a string, `-` if not a string.
    pub const STRING: u8 = 1;
    /// Member `key` of an object: `+` then its decimal digits if a non-negative integer, `-`
    /// if not.
    pub const UINT: u8 = 2;
    /// Member `key` of an object: `+` then the strings, each followed by a NUL, if an array of
    /// strings, `-` if not.
    pub const STRINGS: u8 = 3;
    /// The last element of an array, if it is a string.
    pub const LAST_STRING: u8 = 4;
    /// The members of an object except `pid` and `offset`, each as `,"key":value`.
    pub const REST: u8 = 5;
    /// The text itself as a JSON string literal (`JSON.stringify`).
    pub const QUOTE: u8 = 6;
}

/// The host's answer to `op` about the JSON text `text` (see [`op`]): the `json` function
/// the wasm crate installed ([`crate::host`]).
fn json(text: &str, op: u8, key: &str) -> Option<String> {
    (crate::host::get().json)(text, op, key)
}

/// The shape of the JSON value `text` (see [`op::SHAPE`]); `None` if it is not JSON.
pub fn shape(text: &str) -> Option<String> {
    json(text, op::SHAPE, "")
}

/// Whether `text` is one JSON object.
pub fn is_object(text: &str) -> bool {
    shape(text).as_deref() == Some("o")
}

/// Member `key` of the object `text`: `None` if absent (or `text` is not an object),
/// `Some(None)` if present but not what `op` asks for.
fn member(text: &str, op: u8, key: &str) -> Option<Option<String>> {
    let a = json(text, op, key)?;
    Some(a.strip_prefix("+").map(String::from))
}

/// Member `key` of the object `text`, if present: its value if a string.
pub fn string(text: &str, key: &str) -> Option<Option<String>> {
    member(text, op::STRING, key)
}

/// Member `key` of the object `text`, if present: its value if an integer from 0 to
/// `u64::MAX`.
pub fn uint(text: &str, key: &str) -> Option<Option<u64>> {
    member(text, op::UINT, key).map(|m| m.and_then(|d| crate::decimal::parse(d.as_bytes())))
}

/// Member `key` of the object `text`, if present: its strings if an array of strings.
pub fn strings(text: &str, key: &str) -> Option<Option<Vec<String>>> {
    member(text, op::STRINGS, key).map(|m| {
        m.map(|all| {
            // Each string is followed by a NUL (a NUL inside one splits it: no transport
            // name has one). By bytes: `str::split`'s searcher weighs ~700 bytes of wasm.
            let mut out = Vec::new();
            let mut start = 0;
            for (i, &b) in all.as_bytes().iter().enumerate() {
                if b == 0 {
                    out.push(String::from(all.get(start..i).unwrap_or_default()));
                    start = i + 1;
                }
            }
            out
        })
    })
}

/// The last element of the array `text`, if it is a string.
pub fn last_string(text: &str) -> Option<String> {
    json(text, op::LAST_STRING, "")
}

/// The members of the object `text` except `pid` and `offset`, each as `,"key":value`
/// (empty if `text` is not an object).
pub fn rest(text: &str) -> String {
    json(text, op::REST, "").unwrap_or_default()
}

/// `s` as a JSON string literal, quotes included.
pub fn quote(s: &str) -> String {
    json(s, op::QUOTE, "").unwrap_or_default()
}

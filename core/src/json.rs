//! A small JSON scanner.
//!
//! The core keeps application payloads as raw JSON text and only looks *into* them where the
//! protocol requires it (the event name, the handshake fields, the connection-state-recovery
//! offset). This scanner finds value boundaries and decodes strings and integers without
//! building a tree, so the wasm client does not need `serde_json`.

/// Maximum nesting depth the scanner accepts; deeper input is rejected rather than risking
/// unbounded recursion.
pub const MAX_DEPTH: usize = 128;

/// Malformed JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Syntax error at the given byte offset.
    #[error("invalid JSON at byte {0}")]
    Invalid(usize),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// The kind of a JSON value, from its first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

/// The kind of the value `raw` starts with (after leading whitespace), without validating it.
pub fn kind(raw: &str) -> Option<Kind> {
    todo!()
}

/// Returns the byte index just past the value that starts at or after `pos` (leading
/// whitespace is skipped). The value is fully validated.
pub fn skip_value(s: &str, pos: usize) -> Result<usize, JsonError> {
    todo!()
}

/// Checks that `s` is exactly one JSON value, optionally surrounded by whitespace.
pub fn validate(s: &str) -> Result<(), JsonError> {
    todo!()
}

/// The raw text of each element of the JSON array `s` (whitespace-trimmed slices of `s`).
/// Errors if `s` is not exactly one valid array.
pub fn array_elements(s: &str) -> Result<Vec<&str>, JsonError> {
    todo!()
}

/// The members of the JSON object `s`: unescaped keys with the raw text of their values.
/// Errors if `s` is not exactly one valid object.
pub fn object_members(s: &str) -> Result<Vec<(String, &str)>, JsonError> {
    todo!()
}

/// Decodes a JSON string literal (with its quotes, surrounding whitespace allowed), handling
/// every escape including surrogate pairs.
pub fn parse_string(raw: &str) -> Result<String, JsonError> {
    todo!()
}

/// Decodes a non-negative JSON integer that fits in a `u64` (no fraction or exponent).
pub fn parse_u64(raw: &str) -> Option<u64> {
    todo!()
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub fn write_string(out: &mut String, s: &str) {
    todo!()
}

//! A small JSON scanner.
//!
//! The core keeps application payloads as raw JSON text and only looks *into* them where the
//! protocol requires it (the event name, the handshake fields, the connection-state-recovery
//! offset). This scanner finds value boundaries and decodes strings and integers without
//! building a tree, so the wasm client does not need `serde_json`. With feature `host-json` (the
//! wasm client's build) the client path asks the JavaScript host's `JSON.parse` instead
//! (`json::host`), and this scanner stays out of the wasm.

use crate::prelude::*;

#[cfg(feature = "host-json")]
pub mod host;

/// Maximum nesting depth the scanner accepts; deeper input is rejected rather than risking
/// unbounded recursion.
pub const MAX_DEPTH: usize = 128;

// The container stack is a bitset of `MAX_DEPTH` bits: one bit per open container.
const _: () = assert!(MAX_DEPTH <= u128::BITS as usize);

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

/// JSON insignificant whitespace (RFC 8259 §2).
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the first non-whitespace byte at or after `i` (or `b.len()`).
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

/// `s` without leading JSON whitespace (by bytes, as [`trim_ws`]).
pub(crate) fn trim_start_ws(s: &str) -> &str {
    s.get(skip_ws(s.as_bytes(), 0)..).unwrap_or_default()
}

/// `s` without leading and trailing JSON whitespace.
fn trim_ws(s: &str) -> &str {
    // By bytes: JSON whitespace is ASCII, so both ends stay on character boundaries, and no
    // UTF-8 decoding from either end (`str::trim_matches`) is needed.
    let b = s.as_bytes();
    let start = skip_ws(b, 0);
    let mut end = b.len();
    while end > start && b.get(end - 1).copied().is_some_and(is_ws) {
        end -= 1;
    }
    s.get(start..end).unwrap_or_default()
}

/// Expects byte `c` at `i`; returns the index after it.
fn expect(b: &[u8], i: usize, c: u8) -> Result<usize, JsonError> {
    if b.get(i) == Some(&c) {
        Ok(i + 1)
    } else {
        Err(JsonError::Invalid(i))
    }
}

/// Skips a string literal whose opening quote is at `i`; returns the index after the closing
/// quote. Validates escapes and rejects raw control characters.
fn scan_string(b: &[u8], i: usize) -> Result<usize, JsonError> {
    let mut i = expect(b, i, b'"')?;
    loop {
        match b.get(i) {
            None => return Err(JsonError::Invalid(i)),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    hex4(b, i + 2)?;
                    i += 6;
                }
                _ => return Err(JsonError::Invalid(i + 1)),
            },
            Some(&c) if c < 0x20 => return Err(JsonError::Invalid(i)),
            Some(_) => i += 1,
        }
    }
}

/// Reads four hex digits at `i`.
fn hex4(b: &[u8], i: usize) -> Result<u32, JsonError> {
    let mut v = 0u32;
    for k in i..i + 4 {
        let d = b
            .get(k)
            .and_then(|&c| char::from(c).to_digit(16))
            .ok_or(JsonError::Invalid(k))?;
        v = v << 4 | d;
    }
    Ok(v)
}

/// Skips a run of one or more ASCII digits at `i`.
fn scan_digits(b: &[u8], i: usize) -> Result<usize, JsonError> {
    let mut j = i;
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j == i {
        Err(JsonError::Invalid(i))
    } else {
        Ok(j)
    }
}

/// Skips a number starting at `i`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn scan_number(b: &[u8], mut i: usize) -> Result<usize, JsonError> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = scan_digits(b, i)?,
        _ => return Err(JsonError::Invalid(i)),
    }
    if b.get(i) == Some(&b'.') {
        i = scan_digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = scan_digits(b, i)?;
    }
    Ok(i)
}

/// Skips the literal `lit` at `i`.
fn scan_literal(b: &[u8], i: usize, lit: &[u8]) -> Result<usize, JsonError> {
    let end = i + lit.len();
    if b.get(i..end) == Some(lit) {
        Ok(end)
    } else {
        Err(JsonError::Invalid(i))
    }
}

/// Skips `"key" ws : ` starting at `i` (whitespace before the key already skipped).
fn scan_key(b: &[u8], i: usize) -> Result<usize, JsonError> {
    let i = scan_string(b, i)?;
    let i = skip_ws(b, i);
    expect(b, i, b':')
}

/// Validates one value starting at or after `i`, nested at most `max_depth` containers deep,
/// and returns the index just past it. Iterative: the open containers are kept as a bitset
/// (1 = object, 0 = array), so stack use is constant whatever the input.
fn scan_value(b: &[u8], mut i: usize, max_depth: usize) -> Result<usize, JsonError> {
    let max_depth = max_depth.min(MAX_DEPTH);
    let mut depth = 0usize;
    let mut objects: u128 = 0;
    loop {
        // A value is expected at `i`.
        i = skip_ws(b, i);
        // Either descend into a non-empty container (and loop for its first value), or skip a
        // whole scalar or empty container and fall through to the closing logic below.
        match b.get(i) {
            Some(&open @ (b'{' | b'[')) => {
                if depth >= max_depth {
                    return Err(JsonError::TooDeep);
                }
                let is_object = open == b'{';
                let close = if is_object { b'}' } else { b']' };
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&close) {
                    i += 1;
                } else {
                    if is_object {
                        objects |= 1u128 << depth;
                        i = scan_key(b, i)?;
                    } else {
                        objects &= !(1u128 << depth);
                    }
                    depth += 1;
                    continue;
                }
            }
            Some(b'"') => i = scan_string(b, i)?,
            Some(b't') => i = scan_literal(b, i, b"true")?,
            Some(b'f') => i = scan_literal(b, i, b"false")?,
            Some(b'n') => i = scan_literal(b, i, b"null")?,
            Some(b'-' | b'0'..=b'9') => i = scan_number(b, i)?,
            _ => return Err(JsonError::Invalid(i)),
        }
        // A value ended at `i`: close containers until one continues with a comma.
        loop {
            let Some(top) = depth.checked_sub(1) else {
                return Ok(i);
            };
            let is_object = objects >> top & 1 == 1;
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if is_object {
                        i = skip_ws(b, i);
                        i = scan_key(b, i)?;
                    }
                    break;
                }
                Some(b'}') if is_object => {
                    i += 1;
                    depth = top;
                }
                Some(b']') if !is_object => {
                    i += 1;
                    depth = top;
                }
                _ => return Err(JsonError::Invalid(i)),
            }
        }
    }
}

/// The kind of the value `raw` starts with (after leading whitespace), without validating it.
pub fn kind(raw: &str) -> Option<Kind> {
    let b = raw.as_bytes();
    Some(match b.get(skip_ws(b, 0))? {
        b'{' => Kind::Object,
        b'[' => Kind::Array,
        b'"' => Kind::String,
        b'-' | b'0'..=b'9' => Kind::Number,
        b't' | b'f' => Kind::Bool,
        b'n' => Kind::Null,
        _ => return None,
    })
}

/// Returns the byte index just past the value that starts at or after `pos` (leading
/// whitespace is skipped). The value is fully validated.
pub fn skip_value(s: &str, pos: usize) -> Result<usize, JsonError> {
    scan_value(s.as_bytes(), pos, MAX_DEPTH)
}

/// Checks that `s` is exactly one JSON value, optionally surrounded by whitespace.
pub fn validate(s: &str) -> Result<(), JsonError> {
    let b = s.as_bytes();
    let end = skip_ws(b, scan_value(b, 0, MAX_DEPTH)?);
    if end == b.len() {
        Ok(())
    } else {
        Err(JsonError::Invalid(end))
    }
}

/// Walks the container `s` (opened by `open`, closed by `close`), calling `item` at the start
/// of each element (after whitespace) with the index where it starts; `item` returns where
/// the element ends. Checks that nothing but whitespace follows the container.
fn walk_container(
    s: &str,
    open: u8,
    close: u8,
    mut item: impl FnMut(usize) -> Result<usize, JsonError>,
) -> Result<(), JsonError> {
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    i = skip_ws(b, expect(b, i, open)?);
    if b.get(i) == Some(&close) {
        i += 1;
    } else {
        loop {
            i = skip_ws(b, item(i)?);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(&c) if c == close => {
                    i += 1;
                    break;
                }
                _ => return Err(JsonError::Invalid(i)),
            }
        }
    }
    let end = skip_ws(b, i);
    if end == b.len() {
        Ok(())
    } else {
        Err(JsonError::Invalid(end))
    }
}

/// `s[start..end]`, as a JSON error rather than a panic if the range is not valid.
fn sub(s: &str, start: usize, end: usize) -> Result<&str, JsonError> {
    s.get(start..end).ok_or(JsonError::Invalid(start))
}

/// The raw text of each element of the JSON array `s` (whitespace-trimmed slices of `s`).
/// Errors if `s` is not exactly one valid array.
pub fn array_elements(s: &str) -> Result<Vec<&str>, JsonError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    walk_container(s, b'[', b']', |start| {
        let end = scan_value(b, start, MAX_DEPTH - 1)?;
        out.push(sub(s, start, end)?);
        Ok(end)
    })?;
    Ok(out)
}

/// The members of the JSON object `s`: unescaped keys with the raw text of their values.
/// Errors if `s` is not exactly one valid object.
pub fn object_members(s: &str) -> Result<Vec<(String, &str)>, JsonError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    walk_container(s, b'{', b'}', |start| {
        let key_end = scan_string(b, start)?;
        let key = parse_string(sub(s, start, key_end)?)?;
        let value_start = skip_ws(b, expect(b, skip_ws(b, key_end), b':')?);
        let end = scan_value(b, value_start, MAX_DEPTH - 1)?;
        out.push((key, sub(s, value_start, end)?));
        Ok(end)
    })?;
    Ok(out)
}

/// Decodes a JSON string literal (with its quotes, surrounding whitespace allowed), handling
/// every escape including surrogate pairs.
pub fn parse_string(raw: &str) -> Result<String, JsonError> {
    let b = raw.as_bytes();
    let start = skip_ws(b, 0);
    let end = scan_string(b, start)?;
    let rest = skip_ws(b, end);
    if rest != b.len() {
        return Err(JsonError::Invalid(rest));
    }
    // Validated: only the content between the quotes is left to unescape.
    let content = sub(raw, start + 1, end - 1)?;
    let mut out = String::with_capacity(content.len());
    let cb = content.as_bytes();
    // Literal text up to the first backslash, then escape + literal text, repeatedly.
    let mut i = content.find('\\').unwrap_or(content.len());
    out.push_str(sub(content, 0, i)?);
    while i < cb.len() {
        // `cb[i]` is a backslash.
        let (decoded, next) = match cb.get(i + 1) {
            Some(b'"') => ('"', i + 2),
            Some(b'\\') => ('\\', i + 2),
            Some(b'/') => ('/', i + 2),
            Some(b'b') => ('\u{8}', i + 2),
            Some(b'f') => ('\u{c}', i + 2),
            Some(b'n') => ('\n', i + 2),
            Some(b'r') => ('\r', i + 2),
            Some(b't') => ('\t', i + 2),
            Some(b'u') => {
                let hi = hex4(cb, i + 2)?;
                let mut next = i + 6;
                let c = if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate: combine with a following low one if there is one.
                    let lo = if cb.get(next) == Some(&b'\\') && cb.get(next + 1) == Some(&b'u') {
                        hex4(cb, next + 2).ok()
                    } else {
                        None
                    };
                    match lo {
                        Some(lo @ 0xDC00..0xE000) => {
                            next += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        }
                        _ => None,
                    }
                } else {
                    char::from_u32(hi)
                };
                (c.unwrap_or(char::REPLACEMENT_CHARACTER), next)
            }
            _ => return Err(JsonError::Invalid(start + 1 + i)),
        };
        out.push(decoded);
        let lit_end = content
            .get(next..)
            .and_then(|r| r.find('\\'))
            .map_or(content.len(), |k| next + k);
        out.push_str(sub(content, next, lit_end)?);
        i = lit_end;
    }
    Ok(out)
}

/// Decodes a non-negative JSON integer that fits in a `u64` (no fraction or exponent).
pub fn parse_u64(raw: &str) -> Option<u64> {
    let t = trim_ws(raw);
    if t.is_empty() || (t.len() > 1 && t.starts_with('0')) {
        return None;
    }
    crate::decimal::parse(t.as_bytes())
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let mut lit_start = 0;
    // By bytes: every character to escape is ASCII, and no byte of a multi-byte UTF-8
    // character is (so each escape's position is a character boundary). No UTF-8 decoding.
    for (i, &c) in s.as_bytes().iter().enumerate() {
        let short = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            c if c < b' ' => "",
            _ => continue,
        };
        out.push_str(s.get(lit_start..i).unwrap_or(""));
        if short.is_empty() {
            // Other control characters: `\u00XX`.
            let n = usize::from(c);
            out.push_str("\\u00");
            out.push(char::from(HEX[(n >> 4) & 0xf]));
            out.push(char::from(HEX[n & 0xf]));
        } else {
            out.push_str(short);
        }
        lit_start = i + 1;
    }
    out.push_str(s.get(lit_start..).unwrap_or(""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{}{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn validates_rfc8259_examples() {
        for ok in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1.5e10",
            "-12.25E-3",
            "1E+2",
            "\"\"",
            "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "[]",
            "{}",
            " [ 1 , 2 , [ ] , { } ] ",
            "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
            "\t\r\n{ \"k\" : \"v\" }\n",
            "\"€ unicode ✓ 😀\"",
            r#"{"Image":{"Width":800,"Height":600,"Title":"View from 15th Floor","Thumbnail":{"Url":"http://www.example.com/image/481989943","Height":125,"Width":100},"Animated":false,"IDs":[116,943,234,38793]}}"#,
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            " ",
            "[",
            "]",
            "{",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "{a:1}",
            "{1:1}",
            "[1 2]",
            "01",
            "-",
            "-01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "truex",
            "\"abc",
            "\"a\nb\"",
            "\"\t\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "'a'",
            "1 2",
            "[] []",
            "{}}",
            "[]]",
            "[}",
            "{]",
            "\u{a0}1",
            "\u{feff}1",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_offsets() {
        assert_eq!(validate("[1,]"), Err(JsonError::Invalid(3)));
        assert_eq!(validate("[1] x"), Err(JsonError::Invalid(4)));
        assert_eq!(validate(""), Err(JsonError::Invalid(0)));
    }

    #[test]
    fn depth_limit() {
        assert_eq!(validate(&nested("[", "]", MAX_DEPTH)), Ok(()));
        assert_eq!(
            validate(&nested("[", "]", MAX_DEPTH + 1)),
            Err(JsonError::TooDeep)
        );
        assert_eq!(
            validate(&nested("{\"a\":", "}", MAX_DEPTH + 1).replace("{\"a\":}", "{}")),
            Err(JsonError::TooDeep)
        );
        // Unterminated, far deeper than the limit: rejected without recursion.
        assert_eq!(validate(&"[".repeat(100_000)), Err(JsonError::TooDeep));
        // Mixed objects and arrays, exactly at the limit.
        let mut s = String::new();
        for d in 0..MAX_DEPTH {
            s.push_str(if d % 2 == 0 { "{\"k\":" } else { "[" });
        }
        s.push('1');
        for d in (0..MAX_DEPTH).rev() {
            s.push(if d % 2 == 0 { '}' } else { ']' });
        }
        assert_eq!(validate(&s), Ok(()));
        // The container kinds are tracked per level.
        assert!(validate("{\"a\":[1}]").is_err());
        assert!(validate("[{\"a\":1]}").is_err());
    }

    #[test]
    fn element_depth_counts_the_outer_array() {
        let inner = nested("[", "]", MAX_DEPTH - 1);
        assert_eq!(
            array_elements(&format!("[{inner}]")).unwrap(),
            [inner.as_str()]
        );
        let inner = nested("[", "]", MAX_DEPTH);
        assert_eq!(
            array_elements(&format!("[{inner}]")),
            Err(JsonError::TooDeep)
        );
        assert_eq!(
            object_members(&format!("{{\"a\":{inner}}}")),
            Err(JsonError::TooDeep)
        );
    }

    #[test]
    fn skip_value_positions() {
        let s = r#"2/admin,456["project:delete",123] tail"#;
        assert_eq!(skip_value(s, 11), Ok(33));
        assert_eq!(skip_value("  \"x\" ", 0), Ok(5));
        assert_eq!(skip_value("12,3", 0), Ok(2));
        assert_eq!(skip_value("[]", 5), Err(JsonError::Invalid(5)));
        assert_eq!(skip_value("[1,]", 0), Err(JsonError::Invalid(3)));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(" {"), Some(Kind::Object));
        assert_eq!(kind("[1"), Some(Kind::Array));
        assert_eq!(kind("\"x"), Some(Kind::String));
        assert_eq!(kind("-1"), Some(Kind::Number));
        assert_eq!(kind("7"), Some(Kind::Number));
        assert_eq!(kind("true"), Some(Kind::Bool));
        assert_eq!(kind("f"), Some(Kind::Bool));
        assert_eq!(kind("null"), Some(Kind::Null));
        assert_eq!(kind(""), None);
        assert_eq!(kind("  "), None);
        assert_eq!(kind("x"), None);
    }

    #[test]
    fn arrays() {
        assert_eq!(
            array_elements(r#" ["project:delete", 123 ,{"a":[1,2]}, null ] "#).unwrap(),
            ["\"project:delete\"", "123", "{\"a\":[1,2]}", "null"]
        );
        assert!(array_elements("[]").unwrap().is_empty());
        assert!(array_elements("[ ]").unwrap().is_empty());
        for bad in ["", "{}", "[1,]", "[1] 2", "[1", "\"[1]\"", "[1,,2]"] {
            assert!(array_elements(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn objects() {
        let m = object_members(r#"{"sid":"oSO0OpakMV_3jnilAAAA", "n" : 1, "k\u00e9y":{"x":[]}}"#)
            .unwrap();
        assert_eq!(
            m,
            [
                ("sid".to_string(), "\"oSO0OpakMV_3jnilAAAA\""),
                ("n".to_string(), "1"),
                ("kéy".to_string(), "{\"x\":[]}"),
            ]
        );
        assert!(object_members("{}").unwrap().is_empty());
        for bad in ["", "[]", "{\"a\":1,}", "{\"a\"}", "{\"a\":1} x", "{\"a\":}"] {
            assert!(object_members(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn strings() {
        assert_eq!(parse_string(r#""hello""#).unwrap(), "hello");
        assert_eq!(parse_string(r#"  "" "#).unwrap(), "");
        assert_eq!(
            parse_string(r#""a\"b\\c\/d\be\ff\ng\rh\ti""#).unwrap(),
            "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"
        );
        assert_eq!(parse_string(r#""\u00e9\u20AC""#).unwrap(), "é€");
        assert_eq!(parse_string(r#""\uD83D\uDE00!""#).unwrap(), "😀!");
        assert_eq!(parse_string(r#""\\\\""#).unwrap(), "\\\\");
        assert_eq!(parse_string(r#""\\u0041""#).unwrap(), "\\u0041");
        assert_eq!(parse_string(r#""\u0000""#).unwrap(), "\0");
        assert_eq!(parse_string("\"€😀\"").unwrap(), "€😀");
    }

    #[test]
    fn lone_surrogates_become_replacement_chars() {
        assert_eq!(parse_string(r#""\uD800""#).unwrap(), "\u{FFFD}");
        assert_eq!(parse_string(r#""\uDC00""#).unwrap(), "\u{FFFD}");
        assert_eq!(parse_string(r#""\uD800x""#).unwrap(), "\u{FFFD}x");
        assert_eq!(parse_string(r#""\uD800\n""#).unwrap(), "\u{FFFD}\n");
        // High then high: the second may still pair with what follows.
        assert_eq!(
            parse_string(r#""\uD800\uD83D\uDE00""#).unwrap(),
            "\u{FFFD}😀"
        );
        assert_eq!(
            parse_string(r#""\uDE00\uD83D""#).unwrap(),
            "\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn string_errors() {
        for bad in [
            "",
            "hello",
            "\"abc",
            "\"a\" x",
            "\"\\q\"",
            "\"\\u12\"",
            "\"\\uD800\\u12\"",
            "\"\n\"",
            "1",
            "[\"a\"]",
        ] {
            assert!(parse_string(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn u64s() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64(" 25000 "), Some(25000));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "18446744073709551616",
            "99999999999999999999999",
            "-1",
            "-0",
            "01",
            "1.0",
            "1e3",
            "+1",
            "\"1\"",
            "1 2",
            "٣",
        ] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn write_string_escapes() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}/€😀\u{7f}");
        assert_eq!(
            out,
            r#""a\"b\\c\n\r\t\b\f\u0001\u001f/€😀"#.to_string() + "\u{7f}\""
        );
        assert_eq!(validate(&out), Ok(()));
        let mut out = String::from("x");
        write_string(&mut out, "");
        assert_eq!(out, "x\"\"");
    }

    #[test]
    fn write_then_parse() {
        for s in [
            "",
            "plain",
            "\"quoted\"",
            "back\\slash",
            "\u{0}\u{1f}\u{7f}",
            "😀€é\u{2028}",
        ] {
            let mut out = String::new();
            write_string(&mut out, s);
            assert_eq!(parse_string(&out).unwrap(), s);
        }
    }
}

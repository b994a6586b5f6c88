//! MessagePack messages of the Redis adapter, wire-compatible with Node's
//! `@socket.io/redis-adapter` 8.x and `@socket.io/redis-emitter` 5.x.
//!
//! # Where the format comes from
//!
//! Both Node packages serialize with `notepack.io` 3.x by default. Three kinds of
//! message are MessagePack; every other request/response of the adapter is JSON
//! (its first byte is `{`), and is handled elsewhere.
//!
//! * **Broadcast** (published on `<key>#<nsp>#` or `<key>#<nsp>#<room>#`), a 3-array:
//!   ```text
//!   [uid, {type, data, nsp}, {rooms, except, flags}]        // redis-adapter
//!   ["emitter", {type, data, nsp}, {rooms, flags, except}]  // redis-emitter (other key order)
//!   ```
//!   `type` is always 2 (EVENT), also when `data` holds binaries: MessagePack carries
//!   them natively as `bin`, and the receiver's socket.io-parser turns the packet into a
//!   BINARY_EVENT itself. `data` is `[event, ...args]`. No `id` and no `compress` key
//!   appear in the packet; `flags` is the operator's flag object (`{}` when none was set,
//!   else `compress`, `volatile`, `local`, `timeout` in the order the operator calls were
//!   made).
//! * **BROADCAST request** (type 7, on `<key>-request#<nsp>#`), emitted for a broadcast
//!   with an acknowledgement: `{uid, requestId, type: 7, packet: {type, data, nsp}, opts:
//!   {rooms, except, flags}}`. The packet has no `id` either: the receiving node assigns it.
//! * **BROADCAST_ACK response** (type 9, on `<key>-response#<nsp>#`): `{type: 9,
//!   requestId, packet}` where `packet` is the **first** argument of one client's
//!   acknowledgement (Node calls `ack(arg)` with the first one only); the key is absent
//!   when the client acknowledged with no argument (notepack drops `undefined` values).
//!
//! # notepack's encoding of JS values (reproduced by [`encode_value`])
//!
//! * a number whose value is an integer (`Math.floor(v) === v`, finite) is a MessagePack
//!   integer in the smallest form: positive fixint / uint8 / uint16 / uint32 / uint64,
//!   negative fixint / int8 / int16 / int32 / int64 (so `-0` is `0x00`); any other number is
//!   a float64 (`0xcb`); float32 is never written;
//! * strings: fixstr / str8 / str16 / str32 by UTF-8 length; Buffers: bin8 / bin16 / bin32;
//!   arrays and objects: fix / 16 / 32 forms; `null` and `undefined` are `nil`;
//! * objects: keys in `Object.keys` order — array-index keys (`"0"`, `"1"`, …) ascending,
//!   then the other keys in insertion order; keys whose value is `undefined` are skipped.
//!
//! On decoding, notepack reads `fixext1` of type 0 as `undefined` (legacy) and `ext8/16/32`
//! of type 0 as an `ArrayBuffer` (legacy binary); this module does the same
//! ([`decode_value`] returns the latter as `Binary`, the former as `Ext(0, [_])`, which
//! [`value_to_json`] turns into `null` in arrays and drops from objects).
//!
//! # Socket.IO arguments
//!
//! Inside Sockeye a packet's arguments are raw JSON text in which each binary attachment is
//! a placeholder `{"_placeholder":true,"num":N}` (as socket.io-parser writes them), plus the
//! attachments. [`args_to_value`] turns that into the MessagePack value Node would publish
//! for the same JS value, [`value_to_args`] turns a received value back into JSON text with
//! placeholders numbered in traversal order, as `JSON.stringify` of the value Node decodes
//! would read.
//!
//! # Known differences from Node
//!
//! * Integers beyond ±2^53: Node has already rounded them to a double before encoding;
//!   this module keeps an integer literal that fits `i64`/`u64` exact (so Sockeye-to-Sockeye
//!   relays are lossless) and prints received 64-bit integers exactly.
//! * Integral numbers outside `[-2^63, 2^64)` (e.g. `1e21`): notepack writes a corrupted
//!   (wrapped) uint64/int64; this module writes the float64 instead.
//! * Timestamps (ext −1, decoded by notepack as `Date`) and other extension types are
//!   rejected by [`value_to_json`].
//!
//! # Limits
//!
//! Decoding never panics and never allocates more than a small multiple of its input: a
//! message is at most [`MAX_MESSAGE_LEN`] bytes and [`MAX_VALUES`] values, arguments nest at
//! most [`MAX_DEPTH`] levels (the envelope adds [`ENVELOPE_DEPTH`]), and every declared
//! length is checked against the bytes that remain before anything is allocated.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;
use rmpv::{Integer, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting of a Socket.IO argument array (the array itself is level 1).
pub const MAX_DEPTH: usize = 64;
/// Levels of the message envelope above the argument array (request map → packet map).
pub const ENVELOPE_DEPTH: usize = 2;
/// Largest message (or JSON argument text) accepted.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024 * 1024;
/// Most values (scalars, arrays, maps, keys) decoded from one message.
pub const MAX_VALUES: usize = 4 * 1024 * 1024;

/// Socket.IO packet types (socket.io-parser `PacketType`).
pub const EVENT: u8 = 2;
pub const ACK: u8 = 3;
pub const BINARY_EVENT: u8 = 5;
pub const BINARY_ACK: u8 = 6;

/// Adapter request types that travel as MessagePack.
pub const REQUEST_BROADCAST: u64 = 7;
pub const RESPONSE_BROADCAST_ACK: u64 = 9;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    #[error("msgpack input is truncated")]
    Truncated,
    #[error("{0} trailing bytes after the msgpack value")]
    TrailingBytes(usize),
    #[error("invalid msgpack marker 0x{0:02x}")]
    InvalidMarker(u8),
    #[error("nesting deeper than the limit")]
    TooDeep,
    #[error("message exceeds the size limit")]
    TooLarge,
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("illegal attachments: {0}")]
    Placeholder(String),
    #[error("unsupported msgpack extension type {0}")]
    UnsupportedExt(i8),
    #[error("unexpected message shape: {0}")]
    Shape(String),
}

fn shape<T>(what: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError::Shape(what.into()))
}

// ---------------------------------------------------------------------------
// Encoding (notepack-identical)
// ---------------------------------------------------------------------------

/// Serializes `v` exactly as notepack serializes the JS value it stands for.
///
/// `F32`/`F64` holding an integral value in `[-2^63, 2^64)` are written as integers (JS
/// has one number type); NaN is written as the canonical `0x7ff8…` NaN.
pub fn encode_value(v: &Value) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    write_value(&mut out, v, 0)?;
    Ok(out)
}

fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n < 0x1_0000 {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n < 0x1_0000_0000 {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `n` is negative.
fn write_negint(out: &mut Vec<u8>, n: i64) {
    if n >= -0x20 {
        out.push(n as i8 as u8);
    } else if n >= -0x80 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

fn write_f64(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() && f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_64).contains(&f) {
        if f >= 0.0 {
            // also -0.0, as notepack (`-0 >= 0`)
            write_uint(out, f as u64);
        } else {
            write_negint(out, f as i64);
        }
        return;
    }
    let bits = if f.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        f.to_bits()
    };
    out.push(0xcb);
    out.extend_from_slice(&bits.to_be_bytes());
}

fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) -> Result<(), CodecError> {
    match fix {
        Some((base, limit)) if len < limit => {
            out.push(base | len as u8);
            return Ok(());
        }
        _ => {}
    }
    if let Some(m8) = m8 {
        if len < 0x100 {
            out.extend_from_slice(&[m8, len as u8]);
            return Ok(());
        }
    }
    if len < 0x1_0000 {
        out.push(m16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else if (len as u64) < 0x1_0000_0000 {
        out.push(m32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        return Err(CodecError::TooLarge);
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &[u8]) -> Result<(), CodecError> {
    write_len(out, s.len(), Some((0xa0, 0x20)), Some(0xd9), 0xda, 0xdb)?;
    out.extend_from_slice(s);
    Ok(())
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), CodecError> {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6)?;
    out.extend_from_slice(b);
    Ok(())
}

fn write_array_header(out: &mut Vec<u8>, len: usize) -> Result<(), CodecError> {
    write_len(out, len, Some((0x90, 0x10)), None, 0xdc, 0xdd)
}

fn write_map_header(out: &mut Vec<u8>, len: usize) -> Result<(), CodecError> {
    write_len(out, len, Some((0x80, 0x10)), None, 0xde, 0xdf)
}

fn write_value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), CodecError> {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => write_uint(out, u),
            (None, Some(n)) => write_negint(out, n),
            (None, None) => return shape("integer out of range"),
        },
        Value::F32(f) => write_f64(out, f64::from(*f)),
        Value::F64(f) => write_f64(out, *f),
        Value::String(s) => write_str(out, s.as_bytes())?,
        Value::Binary(b) => write_bin(out, b)?,
        Value::Array(a) => {
            if depth > MAX_DEPTH + ENVELOPE_DEPTH {
                return Err(CodecError::TooDeep);
            }
            write_array_header(out, a.len())?;
            for e in a {
                write_value(out, e, depth + 1)?;
            }
        }
        Value::Map(m) => {
            if depth > MAX_DEPTH + ENVELOPE_DEPTH {
                return Err(CodecError::TooDeep);
            }
            write_map_header(out, m.len())?;
            for (k, e) in m {
                write_value(out, k, depth + 1)?;
                write_value(out, e, depth + 1)?;
            }
        }
        Value::Ext(ty, data) => {
            let ty = *ty as u8;
            match data.len() {
                1 => out.extend_from_slice(&[0xd4, ty]),
                2 => out.extend_from_slice(&[0xd5, ty]),
                4 => out.extend_from_slice(&[0xd6, ty]),
                8 => out.extend_from_slice(&[0xd7, ty]),
                16 => out.extend_from_slice(&[0xd8, ty]),
                n => {
                    write_len(out, n, None, Some(0xc7), 0xc8, 0xc9)?;
                    out.push(ty);
                }
            }
            out.extend_from_slice(data);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Decoding (bounded)
// ---------------------------------------------------------------------------

/// Parses one MessagePack value that must span all of `bytes` (notepack rejects trailing
/// bytes too). Invalid UTF-8 in strings is replaced by U+FFFD, as Node's
/// `buffer.toString('utf8')` does. ext8/16/32 of type 0 (notepack's legacy ArrayBuffer) is
/// returned as `Binary`; everything else keeps its MessagePack shape.
pub fn decode_value(bytes: &[u8]) -> Result<Value, CodecError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(CodecError::TooLarge);
    }
    let mut r = Reader {
        buf: bytes,
        pos: 0,
        values: 0,
    };
    let v = r.value(0)?;
    if r.pos != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - r.pos));
    }
    Ok(v)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    values: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(CodecError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn len8(&mut self) -> Result<usize, CodecError> {
        Ok(self.u8()? as usize)
    }
    fn len16(&mut self) -> Result<usize, CodecError> {
        Ok(u16::from_be_bytes(self.be()?) as usize)
    }
    fn len32(&mut self) -> Result<usize, CodecError> {
        Ok(u32::from_be_bytes(self.be()?) as usize)
    }

    fn str(&mut self, n: usize) -> Result<Value, CodecError> {
        let b = self.take(n)?;
        Ok(Value::from(String::from_utf8_lossy(b).into_owned()))
    }

    fn bin(&mut self, n: usize) -> Result<Value, CodecError> {
        Ok(Value::Binary(self.take(n)?.to_vec()))
    }

    fn ext(&mut self, n: usize, legacy_binary: bool) -> Result<Value, CodecError> {
        let ty = self.u8()? as i8;
        let data = self.take(n)?.to_vec();
        if legacy_binary && ty == 0 {
            return Ok(Value::Binary(data));
        }
        Ok(Value::Ext(ty, data))
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, CodecError> {
        if depth >= MAX_DEPTH + ENVELOPE_DEPTH {
            return Err(CodecError::TooDeep);
        }
        // every element takes at least one byte
        if n > self.remaining() {
            return Err(CodecError::Truncated);
        }
        let mut a = Vec::with_capacity(n);
        for _ in 0..n {
            a.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(a))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, CodecError> {
        if depth >= MAX_DEPTH + ENVELOPE_DEPTH {
            return Err(CodecError::TooDeep);
        }
        if n > self.remaining() / 2 {
            return Err(CodecError::Truncated);
        }
        let mut m = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            m.push((k, v));
        }
        Ok(Value::Map(m))
    }

    fn value(&mut self, depth: usize) -> Result<Value, CodecError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(CodecError::TooLarge);
        }
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Value::from(m),
            0x80..=0x8f => return self.map((m & 0x0f) as usize, depth),
            0x90..=0x9f => return self.array((m & 0x0f) as usize, depth),
            0xa0..=0xbf => return self.str((m & 0x1f) as usize),
            0xc0 => Value::Nil,
            0xc1 => return Err(CodecError::InvalidMarker(m)),
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xc4 => {
                let n = self.len8()?;
                return self.bin(n);
            }
            0xc5 => {
                let n = self.len16()?;
                return self.bin(n);
            }
            0xc6 => {
                let n = self.len32()?;
                return self.bin(n);
            }
            0xc7 => {
                let n = self.len8()?;
                return self.ext(n, true);
            }
            0xc8 => {
                let n = self.len16()?;
                return self.ext(n, true);
            }
            0xc9 => {
                let n = self.len32()?;
                return self.ext(n, true);
            }
            0xca => Value::F32(f32::from_be_bytes(self.be()?)),
            0xcb => Value::F64(f64::from_be_bytes(self.be()?)),
            0xcc => Value::from(self.u8()?),
            0xcd => Value::from(u16::from_be_bytes(self.be()?)),
            0xce => Value::from(u32::from_be_bytes(self.be()?)),
            0xcf => Value::from(u64::from_be_bytes(self.be()?)),
            0xd0 => Value::from(self.u8()? as i8),
            0xd1 => Value::from(i16::from_be_bytes(self.be()?)),
            0xd2 => Value::from(i32::from_be_bytes(self.be()?)),
            0xd3 => Value::from(i64::from_be_bytes(self.be()?)),
            0xd4 => return self.ext(1, false),
            0xd5 => return self.ext(2, false),
            0xd6 => return self.ext(4, false),
            0xd7 => return self.ext(8, false),
            0xd8 => return self.ext(16, false),
            0xd9 => {
                let n = self.len8()?;
                return self.str(n);
            }
            0xda => {
                let n = self.len16()?;
                return self.str(n);
            }
            0xdb => {
                let n = self.len32()?;
                return self.str(n);
            }
            0xdc => {
                let n = self.len16()?;
                return self.array(n, depth);
            }
            0xdd => {
                let n = self.len32()?;
                return self.array(n, depth);
            }
            0xde => {
                let n = self.len16()?;
                return self.map(n, depth);
            }
            0xdf => {
                let n = self.len32()?;
                return self.map(n, depth);
            }
            0xe0..=0xff => Value::from(m as i8),
        })
    }
}

// ---------------------------------------------------------------------------
// JS object semantics shared by both directions
// ---------------------------------------------------------------------------

/// `Some(n)` when `k` is an array index (`"0"`, `"1"`, … `"4294967294"`, canonical form),
/// which JS objects list first, ascending.
fn array_index(k: &str) -> Option<u32> {
    let b = k.as_bytes();
    if b.is_empty()
        || b.len() > 10
        || !b.iter().all(u8::is_ascii_digit)
        || (b.len() > 1 && b[0] == b'0')
    {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    (n < u32::MAX as u64).then_some(n as u32)
}

/// Applies JS property semantics to an object's entries in source order: a repeated key
/// keeps its first position and takes its last value; array-index keys come first in
/// ascending order, then the others in insertion order.
fn js_object_order<V>(entries: Vec<(String, V)>) -> Vec<(String, V)> {
    let mut out: Vec<(String, V)> = Vec::with_capacity(entries.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for (k, v) in entries {
        if let Some(&i) = index.get(&k) {
            out[i].1 = v;
        } else {
            index.insert(k.clone(), out.len());
            out.push((k, v));
        }
    }
    if out.iter().any(|(k, _)| array_index(k).is_some()) {
        out.sort_by_key(|(k, _)| match array_index(k) {
            Some(n) => (0u8, n),
            None => (1u8, 0),
        });
    }
    out
}

// ---------------------------------------------------------------------------
// JSON text (with placeholders) -> msgpack Value
// ---------------------------------------------------------------------------

/// A Socket.IO argument array (`["event", ...args]` or the args of an ack) as raw JSON
/// text with `{"_placeholder":true,"num":N}` placeholders → the MessagePack array notepack
/// would produce for the same JS value, each placeholder replaced by `Binary(attachments[N])`.
pub fn args_to_value(args: &str, attachments: &[Bytes]) -> Result<Value, CodecError> {
    let v = json_to_value(args, attachments)?;
    if !matches!(v, Value::Array(_)) {
        return shape("arguments are not a JSON array");
    }
    Ok(v)
}

/// Like [`args_to_value`] for any single JSON value (e.g. one acknowledgement argument).
pub fn json_to_value(json: &str, attachments: &[Bytes]) -> Result<Value, CodecError> {
    if json.len() > MAX_MESSAGE_LEN {
        return Err(CodecError::TooLarge);
    }
    let ctx = Ctx {
        attachments,
        err: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(json);
    let res = JsonSeed {
        ctx: &ctx,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|_| v));
    match res {
        Ok(v) => Ok(v),
        Err(e) => Err(ctx
            .err
            .into_inner()
            .unwrap_or_else(|| CodecError::Json(e.to_string()))),
    }
}

struct Ctx<'a> {
    attachments: &'a [Bytes],
    err: RefCell<Option<CodecError>>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&self, e: CodecError) -> E {
        let msg = e.to_string();
        *self.err.borrow_mut() = Some(e);
        E::custom(msg)
    }
}

#[derive(Clone, Copy)]
struct JsonSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_, '_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The JS number a JSON number denotes, as notepack would write it.
fn js_number(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_64).contains(&f) {
        if f >= 0.0 {
            Value::from(f as u64)
        } else {
            Value::from(f as i64)
        }
    } else {
        Value::F64(f)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(js_number(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.ctx.fail(CodecError::TooDeep));
        }
        let inner = JsonSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut a = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            a.push(v);
        }
        Ok(Value::Array(a))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.ctx.fail(CodecError::TooDeep));
        }
        let inner = JsonSeed {
            ctx: self.ctx,
            depth: self.depth + 1,
        };
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            entries.push((k, v));
        }
        let entries = js_object_order(entries);
        // socket.io-parser's reconstructPacket: `data._placeholder === true` → buffers[num]
        let is_placeholder = entries
            .iter()
            .any(|(k, v)| k == "_placeholder" && *v == Value::Boolean(true));
        if is_placeholder {
            let num = entries.iter().find(|(k, _)| k == "num").map(|(_, v)| v);
            let idx = match num {
                Some(Value::Integer(i)) => i.as_u64(),
                _ => None,
            };
            return match idx
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.ctx.attachments.get(i))
            {
                Some(b) => Ok(Value::Binary(b.to_vec())),
                None => Err(self.ctx.fail(CodecError::Placeholder(format!(
                    "placeholder num {:?} with {} attachments",
                    num,
                    self.ctx.attachments.len()
                )))),
            };
        }
        Ok(Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        ))
    }
}

// ---------------------------------------------------------------------------
// msgpack Value -> JSON text (with placeholders)
// ---------------------------------------------------------------------------

/// A received MessagePack argument array → raw JSON text with placeholders, and the
/// binaries in placeholder order.
pub fn value_to_args(v: &Value) -> Result<(String, Vec<Bytes>), CodecError> {
    if !matches!(v, Value::Array(_)) {
        return shape("arguments are not an array");
    }
    match value_to_json(v)? {
        Some(r) => Ok(r),
        None => shape("arguments are not an array"),
    }
}

/// Any MessagePack value → JSON text with placeholders, as `JSON.stringify` would write the
/// value notepack decodes (binaries become placeholders). `None` for notepack's `undefined`.
pub fn value_to_json(v: &Value) -> Result<Option<(String, Vec<Bytes>)>, CodecError> {
    let mut out = String::new();
    let mut bins = Vec::new();
    if is_undefined(v) {
        return Ok(None);
    }
    write_json(&mut out, &mut bins, v, 1)?;
    Ok(Some((out, bins)))
}

fn is_undefined(v: &Value) -> bool {
    matches!(v, Value::Ext(0, d) if d.len() == 1)
}

fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ECMAScript `Number::toString` for a finite double (what `JSON.stringify` prints).
fn js_number_string(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    // shortest round-trip digits, e.g. "1.2345e-7"
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if f < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

fn js_number_json(f: f64) -> String {
    if f.is_finite() {
        js_number_string(f)
    } else {
        "null".into()
    }
}

/// `String(key)` for a decoded map key, as the JS property name notepack creates.
fn js_key(v: &Value, depth: usize) -> Result<Cow<'_, str>, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::TooDeep);
    }
    Ok(match v {
        Value::Nil => "null".into(),
        Value::Boolean(b) => if *b { "true" } else { "false" }.into(),
        Value::Integer(i) => int_string(i).into(),
        Value::F32(f) => js_number_key(f64::from(*f)).into(),
        Value::F64(f) => js_number_key(*f).into(),
        Value::String(s) => String::from_utf8_lossy(s.as_bytes()),
        Value::Binary(b) => String::from_utf8_lossy(b),
        Value::Array(a) => {
            // Array.prototype.toString: join(",") with null/undefined as ""
            let mut s = String::new();
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                if !matches!(e, Value::Nil) && !is_undefined(e) {
                    s.push_str(&js_key(e, depth + 1)?);
                }
            }
            s.into()
        }
        Value::Map(_) => "[object Object]".into(),
        Value::Ext(0, d) if d.len() == 1 => "undefined".into(),
        Value::Ext(t, _) => return Err(CodecError::UnsupportedExt(*t)),
    })
}

fn js_number_key(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        js_number_string(f)
    }
}

fn int_string(i: &Integer) -> String {
    match (i.as_u64(), i.as_i64()) {
        (Some(u), _) => u.to_string(),
        (None, Some(n)) => n.to_string(),
        (None, None) => "0".into(),
    }
}

fn write_json(
    out: &mut String,
    bins: &mut Vec<Bytes>,
    v: &Value,
    depth: usize,
) -> Result<(), CodecError> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => out.push_str(&int_string(i)),
        Value::F32(f) => out.push_str(&js_number_json(f64::from(*f))),
        Value::F64(f) => out.push_str(&js_number_json(*f)),
        Value::String(s) => write_json_str(out, &String::from_utf8_lossy(s.as_bytes())),
        Value::Binary(b) => {
            out.push_str("{\"_placeholder\":true,\"num\":");
            out.push_str(&bins.len().to_string());
            out.push('}');
            bins.push(Bytes::copy_from_slice(b));
        }
        Value::Array(a) => {
            if depth > MAX_DEPTH {
                return Err(CodecError::TooDeep);
            }
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if is_undefined(e) {
                    out.push_str("null");
                } else {
                    write_json(out, bins, e, depth + 1)?;
                }
            }
            out.push(']');
        }
        Value::Map(m) => {
            if depth > MAX_DEPTH {
                return Err(CodecError::TooDeep);
            }
            let mut entries = Vec::with_capacity(m.len());
            for (k, e) in m {
                let k = js_key(k, depth + 1)?;
                // notepack's `value["__proto__"] = x` sets the prototype, no own property
                if k != "__proto__" {
                    entries.push((k.into_owned(), e));
                }
            }
            out.push('{');
            let mut first = true;
            for (k, e) in js_object_order(entries) {
                if is_undefined(e) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_json_str(out, &k);
                out.push(':');
                write_json(out, bins, e, depth + 1)?;
            }
            out.push('}');
        }
        Value::Ext(t, _) => return Err(CodecError::UnsupportedExt(*t)),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Broadcast messages
// ---------------------------------------------------------------------------

/// Broadcast flags as Node's `BroadcastOperator` sets them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub volatile: bool,
    pub local: bool,
    pub timeout: Option<u64>,
    /// `compress(bool)`; `None` when never called.
    pub compress: Option<bool>,
    /// Any other key (or a known key with an unexpected type), kept raw and re-encoded
    /// after the known ones, in received order.
    pub extra: Vec<(String, Value)>,
}

/// One broadcast as it travels between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The publishing node's uid (`"emitter"` for redis-emitter).
    pub uid: String,
    pub nsp: String,
    /// [`EVENT`] or [`ACK`]. A received BINARY_EVENT/BINARY_ACK is reported as EVENT/ACK
    /// and EVENT/ACK is what is encoded, as Node does: whether the packet goes out to
    /// clients as binary follows from `attachments` (see [`Broadcast::socketio_type`]).
    pub packet_type: u8,
    /// JSON array including the event name, with attachment placeholders.
    pub args: String,
    pub attachments: Vec<Bytes>,
    /// Packet id; Node never publishes one, it is encoded after `nsp` when set.
    pub id: Option<u64>,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    pub flags: Flags,
}

#[cfg(test)]
impl Broadcast {
    /// The socket.io-parser packet type to send to clients (5/6 when there are attachments).
    pub fn socketio_type(&self) -> u8 {
        match (self.packet_type, self.attachments.is_empty()) {
            (EVENT, false) => BINARY_EVENT,
            (ACK, false) => BINARY_ACK,
            (t, _) => t,
        }
    }
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn dedup(list: &[String]) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    list.iter()
        .filter(|r| seen.insert(r.as_str()))
        .map(|r| s(r))
        .collect()
}

fn packet_value(b: &Broadcast) -> Result<Value, CodecError> {
    let packet_type = match b.packet_type {
        EVENT | BINARY_EVENT => EVENT,
        ACK | BINARY_ACK => ACK,
        t => return shape(format!("packet type {t} cannot be broadcast")),
    };
    let mut packet = vec![
        (s("type"), Value::from(packet_type)),
        (s("data"), args_to_value(&b.args, &b.attachments)?),
        (s("nsp"), s(&b.nsp)),
    ];
    if let Some(id) = b.id {
        packet.push((s("id"), Value::from(id)));
    }
    Ok(Value::Map(packet))
}

fn flags_value(f: &Flags) -> Value {
    let mut m = Vec::new();
    if let Some(c) = f.compress {
        m.push((s("compress"), Value::Boolean(c)));
    }
    if f.volatile {
        m.push((s("volatile"), Value::Boolean(true)));
    }
    if f.local {
        m.push((s("local"), Value::Boolean(true)));
    }
    if let Some(t) = f.timeout {
        m.push((s("timeout"), Value::from(t)));
    }
    for (k, v) in &f.extra {
        if !is_undefined(v) {
            m.push((s(k), v.clone()));
        }
    }
    Value::Map(m)
}

fn opts_value(b: &Broadcast) -> Value {
    Value::Map(vec![
        (s("rooms"), Value::Array(dedup(&b.rooms))),
        (s("except"), Value::Array(dedup(&b.except))),
        (s("flags"), flags_value(&b.flags)),
    ])
}

/// `[uid, {type, data, nsp}, {rooms, except, flags}]`, byte for byte as redis-adapter
/// publishes it. Flags are written in the order compress, volatile, local, timeout, extra
/// (Node follows the order of the operator calls; this is the order socket.io declares them).
pub fn encode_broadcast(b: &Broadcast) -> Result<Vec<u8>, CodecError> {
    encode_value(&Value::Array(vec![
        s(&b.uid),
        packet_value(b)?,
        opts_value(b),
    ]))
}

/// `["emitter", {type, data, nsp}, {rooms, flags, except}]`, byte for byte as
/// `@socket.io/redis-emitter` publishes it (its options come in another order than the
/// adapter's).
pub fn encode_emitter_broadcast(b: &Broadcast) -> Result<Vec<u8>, CodecError> {
    let opts = Value::Map(vec![
        (s("rooms"), Value::Array(dedup(&b.rooms))),
        (s("flags"), flags_value(&b.flags)),
        (s("except"), Value::Array(dedup(&b.except))),
    ]);
    encode_value(&Value::Array(vec![s(&b.uid), packet_value(b)?, opts]))
}

/// The sender's uid of a broadcast (`[uid, packet, opts]`), read without decoding the rest:
/// a node hears its own broadcasts, and drops them before decoding. `None` if the message
/// does not start so.
pub fn broadcast_uid(bytes: &[u8]) -> Option<&[u8]> {
    let mut r = Reader {
        buf: bytes,
        pos: 0,
        values: 0,
    };
    match r.u8().ok()? {
        0x90..=0x9f => {}
        0xdc => {
            r.len16().ok()?;
        }
        0xdd => {
            r.len32().ok()?;
        }
        _ => return None,
    }
    let n = match r.u8().ok()? {
        b @ 0xa0..=0xbf => usize::from(b & 0x1f),
        0xd9 => r.len8().ok()?,
        0xda => r.len16().ok()?,
        0xdb => r.len32().ok()?,
        _ => return None,
    };
    r.take(n).ok()
}

/// Decodes what redis-adapter or redis-emitter publish on a broadcast channel.
pub fn decode_broadcast(bytes: &[u8]) -> Result<Broadcast, CodecError> {
    let v = decode_value(bytes)?;
    let Value::Array(a) = &v else {
        return shape("broadcast is not an array");
    };
    let uid = match a.first() {
        Some(Value::String(u)) => lossy(u.as_bytes()),
        _ => return shape("broadcast uid is not a string"),
    };
    let packet = a
        .get(1)
        .ok_or_else(|| CodecError::Shape("broadcast has no packet".into()))?;
    broadcast_from(uid, packet, a.get(2))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Node object property read: the last occurrence of a string key wins.
fn get<'v>(m: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    m.iter()
        .rev()
        .find(|(k, _)| matches!(k, Value::String(s) if s.as_bytes() == key.as_bytes()))
        .map(|(_, v)| v)
        .filter(|v| !is_undefined(v))
}

fn as_uint(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => i.as_u64(),
        Value::F64(f) if f.fract() == 0.0 && *f >= 0.0 && *f < TWO_POW_64 => Some(*f as u64),
        Value::F32(f) if f.fract() == 0.0 && *f >= 0.0 && f64::from(*f) < TWO_POW_64 => {
            Some(*f as u64)
        }
        _ => None,
    }
}

fn room_list(v: Option<&Value>, what: &str) -> Result<Vec<String>, CodecError> {
    match v {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| match r {
                Value::String(s) => Ok(lossy(s.as_bytes())),
                Value::Integer(i) => Ok(int_string(i)),
                Value::F64(f) if f.is_finite() => Ok(js_number_string(*f)),
                _ => shape(format!("{what} holds a non-string room")),
            })
            .collect(),
        Some(_) => shape(format!("{what} is not an array")),
    }
}

fn flags_from(v: Option<&Value>) -> Result<Flags, CodecError> {
    let mut f = Flags::default();
    let m = match v {
        None | Some(Value::Nil) => return Ok(f),
        Some(Value::Map(m)) => m,
        Some(_) => return shape("flags is not a map"),
    };
    let mut raw: Vec<(String, &Value)> = Vec::with_capacity(m.len());
    for (k, v) in m {
        let Value::String(k) = k else {
            return shape("flags has a non-string key");
        };
        raw.push((lossy(k.as_bytes()), v));
    }
    for (k, v) in js_object_order(raw) {
        match (k.as_str(), v) {
            (_, v) if is_undefined(v) => {}
            ("volatile", Value::Boolean(b)) => f.volatile = *b,
            ("local", Value::Boolean(b)) => f.local = *b,
            ("compress", Value::Boolean(b)) => f.compress = Some(*b),
            ("timeout", v) if as_uint(v).is_some() => f.timeout = as_uint(v),
            (_, Value::Nil)
                if matches!(k.as_str(), "volatile" | "local" | "compress" | "timeout") => {}
            _ => f.extra.push((k, v.clone())),
        }
    }
    Ok(f)
}

fn broadcast_from(
    uid: String,
    packet: &Value,
    opts: Option<&Value>,
) -> Result<Broadcast, CodecError> {
    let Value::Map(p) = packet else {
        return shape("packet is not a map");
    };
    let packet_type = match get(p, "type").and_then(as_uint) {
        Some(2 | 5) => EVENT,
        Some(3 | 6) => ACK,
        Some(t) => return shape(format!("packet type {t} cannot be broadcast")),
        None => return shape("packet type is missing or not a number"),
    };
    let nsp = match get(p, "nsp") {
        None | Some(Value::Nil) => "/".to_string(),
        Some(Value::String(s)) => lossy(s.as_bytes()),
        Some(_) => return shape("packet nsp is not a string"),
    };
    let data = get(p, "data").ok_or_else(|| CodecError::Shape("packet has no data".into()))?;
    if packet_type == EVENT && !is_event_data(data) {
        // Relayed as is, it would make every client it reaches drop the connection.
        return shape("event data is not [name, ...args]");
    }
    let (args, attachments) = value_to_args(data)?;
    let id = match get(p, "id") {
        None | Some(Value::Nil) => None,
        Some(v) => Some(
            as_uint(v).ok_or_else(|| CodecError::Shape("packet id is not an integer".into()))?,
        ),
    };
    let (rooms, except, flags) = match opts {
        None | Some(Value::Nil) => (Vec::new(), Vec::new(), Flags::default()),
        Some(Value::Map(o)) => (
            room_list(get(o, "rooms"), "rooms")?,
            room_list(get(o, "except"), "except")?,
            flags_from(get(o, "flags"))?,
        ),
        Some(_) => return shape("opts is not a map"),
    };
    Ok(Broadcast {
        uid,
        nsp,
        packet_type,
        args,
        attachments,
        id,
        rooms,
        except,
        flags,
    })
}

/// Whether `data` is an event's `[name, ...args]` as Socket.IO's parser accepts it (a
/// number, or a string that is not a reserved event name, first).
fn is_event_data(data: &Value) -> bool {
    match data {
        Value::Array(items) => match items.first() {
            Some(Value::Integer(_)) => true,
            Some(Value::String(s)) => s
                .as_str()
                .is_some_and(|s| !sockeye_core::socket::packet::is_reserved_event(s)),
            _ => false,
        },
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Requests / responses
// ---------------------------------------------------------------------------

/// A MessagePack request received on the request channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `BROADCAST` (7): broadcast with acknowledgements; answer with a JSON
    /// BROADCAST_CLIENT_COUNT, then one [`BroadcastAck`] per client acknowledgement.
    /// `broadcast.uid` is the requesting node.
    Broadcast {
        request_id: String,
        broadcast: Broadcast,
    },
    /// Any other request type that arrived as MessagePack (Node only does this with a
    /// custom parser); kept raw.
    Other { kind: u64, value: Value },
}

/// `{uid, requestId, type: 7, packet: {type, data, nsp}, opts: {rooms, except, flags}}`,
/// byte for byte as redis-adapter's `broadcastWithAck` publishes it.
pub fn encode_broadcast_request(request_id: &str, b: &Broadcast) -> Result<Vec<u8>, CodecError> {
    encode_value(&Value::Map(vec![
        (s("uid"), s(&b.uid)),
        (s("requestId"), s(request_id)),
        (s("type"), Value::from(REQUEST_BROADCAST)),
        (s("packet"), packet_value(b)?),
        (s("opts"), opts_value(b)),
    ]))
}

/// Decodes a MessagePack request (the caller has already sent `{`-prefixed ones to JSON).
pub fn decode_request(bytes: &[u8]) -> Result<Request, CodecError> {
    let v = decode_value(bytes)?;
    let Value::Map(m) = &v else {
        return shape("request is not a map");
    };
    let kind = get(m, "type")
        .and_then(as_uint)
        .ok_or_else(|| CodecError::Shape("request type is missing".into()))?;
    if kind != REQUEST_BROADCAST {
        return Ok(Request::Other { kind, value: v });
    }
    let request_id = match get(m, "requestId") {
        Some(Value::String(r)) => lossy(r.as_bytes()),
        _ => return shape("requestId is not a string"),
    };
    let uid = match get(m, "uid") {
        Some(Value::String(u)) => lossy(u.as_bytes()),
        _ => return shape("uid is not a string"),
    };
    let packet =
        get(m, "packet").ok_or_else(|| CodecError::Shape("request has no packet".into()))?;
    let broadcast = broadcast_from(uid, packet, get(m, "opts"))?;
    Ok(Request::Broadcast {
        request_id,
        broadcast,
    })
}

/// One client's acknowledgement of a BROADCAST request.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastAck {
    pub request_id: String,
    /// JSON text (with placeholders) of the **first** argument the client acknowledged
    /// with; `None` when it acknowledged with no argument (Node omits `packet` then).
    pub arg: Option<String>,
    pub attachments: Vec<Bytes>,
}

/// `{type: 9, requestId, packet}`, byte for byte as redis-adapter publishes it.
pub fn encode_broadcast_ack(ack: &BroadcastAck) -> Result<Vec<u8>, CodecError> {
    let mut m = vec![
        (s("type"), Value::from(RESPONSE_BROADCAST_ACK)),
        (s("requestId"), s(&ack.request_id)),
    ];
    if let Some(arg) = &ack.arg {
        m.push((s("packet"), json_to_value(arg, &ack.attachments)?));
    }
    encode_value(&Value::Map(m))
}

/// Decodes a MessagePack BROADCAST_ACK response; any other type is an error.
pub fn decode_broadcast_ack(bytes: &[u8]) -> Result<BroadcastAck, CodecError> {
    let v = decode_value(bytes)?;
    let Value::Map(m) = &v else {
        return shape("response is not a map");
    };
    match get(m, "type").and_then(as_uint) {
        Some(RESPONSE_BROADCAST_ACK) => {}
        other => return shape(format!("response type {other:?} is not BROADCAST_ACK")),
    }
    let request_id = match get(m, "requestId") {
        Some(Value::String(r)) => lossy(r.as_bytes()),
        _ => return shape("requestId is not a string"),
    };
    let (arg, attachments) = match get(m, "packet") {
        None => (None, Vec::new()),
        Some(p) => match value_to_json(p)? {
            Some((j, b)) => (Some(j), b),
            None => (None, Vec::new()),
        },
    };
    Ok(BroadcastAck {
        request_id,
        arg,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    //! Fixtures: hex produced by the real Node code (socket.io 4.8.1, socket.io-adapter
    //! 2.5.9, @socket.io/redis-adapter 8.3.0, @socket.io/redis-emitter 5.1.0, notepack.io
    //! 3.0.1), with fake Redis clients capturing `publish` and a fixed `uid2`:
    //! * `ADAPTER_*` / `EMITTER_*` / `ACK_*`: `/tmp/mp/gen.js` (and `gen2.js` for
    //!   `ADAPTER_NUMS`), run as `NODE_PATH=node_modules node gen.js`. The Node call is
    //!   noted on each constant.
    //! * `NP_*` / notepack decode vectors: `/tmp/mp/vec.js`, i.e.
    //!   `notepack.encode(JSON.parse(text)).toString("hex")` and
    //!   `JSON.stringify(notepack.decode(Buffer.from(hex, "hex")))`.
    use super::*;

    fn hex(h: &str) -> Vec<u8> {
        assert_eq!(h.len() % 2, 0);
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    fn bc(
        uid: &str,
        nsp: &str,
        args: &str,
        atts: &[&[u8]],
        rooms: &[&str],
        except: &[&str],
        flags: Flags,
    ) -> Broadcast {
        Broadcast {
            uid: uid.into(),
            nsp: nsp.into(),
            packet_type: EVENT,
            args: args.into(),
            attachments: atts.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
            id: None,
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            except: except.iter().map(|r| r.to_string()).collect(),
            flags,
        }
    }

    /// adapter uid "ad0001": `io.to("r").emit("ev", {foo: "bar"})`
    const ADAPTER_PLAIN: &str = "93a661643030303183a47479706502a46461746192a2657681a3666f6fa3626172a36e7370a12f83a5726f6f6d7391a172a665786365707490a5666c61677380";
    /// `io.to("r").emit("bin", Buffer.from([1,2,3]), {x: Buffer.from("hi"), y: [Buffer.alloc(0)]})`
    const ADAPTER_BINARY: &str = "93a661643030303183a47479706502a46461746193a362696ec40301020382a178c4026869a17991c400a36e7370a12f83a5726f6f6d7391a172a665786365707490a5666c61677380";
    /// `io.to("r").volatile.emit("v", 1)`
    const ADAPTER_VOLATILE: &str = "93a661643030303183a47479706502a46461746192a17601a36e7370a12f83a5726f6f6d7391a172a665786365707490a5666c61677381a8766f6c6174696c65c3";
    /// `io.except("x").emit("nums", 1.5, -3, 300, 70000, 5e9, -5e9, -0, 2**53, -(2**40), 0.1, null, true, false, "h\u00e9llo \u{1F600}", "x".repeat(40))`
    const ADAPTER_NUMS: &str = "93a661643030303183a47479706502a464617461dc0010a46e756d73cb3ff8000000000000fdcd012cce00011170cf000000012a05f200d3fffffffed5fa0e0000cf0020000000000000d3ffffff0000000000cb3fb999999999999ac0c3c2ab68c3a96c6c6f20f09f9880d92878787878787878787878787878787878787878787878787878787878787878787878787878787878a36e7370a12f83a5726f6f6d7390a665786365707491a178a5666c61677380";
    /// `io.to(["a","b"]).except(["c","d"]).compress(false).volatile.emit("multi", [])`
    const ADAPTER_MULTI: &str = "93a661643030303183a47479706502a46461746192a56d756c746990a36e7370a12f83a5726f6f6d7392a161a162a665786365707492a163a164a5666c61677382a8636f6d7072657373c2a8766f6c6174696c65c3";
    /// adapter of "/admin" (uid "rq0001"): `io.of("/admin").to("r").emit("adm", {b: 1, a: [1, {c: null}]})`
    const ADAPTER_ADMIN: &str = "93a672713030303183a47479706502a46461746192a361646d82a16201a161920181a163c0a36e7370a62f61646d696e83a5726f6f6d7391a172a665786365707490a5666c61677380";
    /// requestId "rq0002": `io.to("r").timeout(1000).emit("ask", 42, () => {})`
    const ADAPTER_REQUEST: &str = "85a3756964a6616430303031a9726571756573744964a6727130303032a47479706507a67061636b657483a47479706502a46461746192a361736b2aa36e7370a12fa46f70747383a5726f6f6d7391a172a665786365707490a5666c61677381a774696d656f7574cd03e8";
    /// requestId "rq0003": `io.to("r").timeout(500).emit("askbin", Buffer.from([9]), () => {})`
    const ADAPTER_REQUEST_BIN: &str = "85a3756964a6616430303031a9726571756573744964a6727130303033a47479706507a67061636b657483a47479706502a46461746192a661736b62696ec40109a36e7370a12fa46f70747383a5726f6f6d7391a172a665786365707490a5666c61677381a774696d656f7574cd01f4";
    /// `emitter.to("r").emit("ev", {foo: "bar"})`
    const EMITTER_PLAIN: &str = "93a7656d697474657283a47479706502a46461746192a2657681a3666f6fa3626172a36e7370a12f83a5726f6f6d7391a172a5666c61677380a665786365707490";
    /// `emitter.to("r").except("x").volatile.emit("bin", Buffer.from([1,2,3]), {k: Buffer.from([255])})`
    const EMITTER_BIN: &str = "93a7656d697474657283a47479706502a46461746193a362696ec40301020381a16bc401ffa36e7370a12f83a5726f6f6d7391a172a5666c61677381a8766f6c6174696c65c3a665786365707491a178";
    /// `emitter.of("admin").emit("hello")`
    const EMITTER_NSP: &str = "93a7656d697474657283a47479706502a46461746191a568656c6c6fa36e7370a62f61646d696e83a5726f6f6d7390a5666c61677380a665786365707490";
    /// `emitter.compress(true).emit("c", "x")`
    const EMITTER_COMPRESS: &str = "93a7656d697474657283a47479706502a46461746192a163a178a36e7370a12f83a5726f6f6d7390a5666c61677381a8636f6d7072657373c3a665786365707490";
    /// A remote BROADCAST request "zz0001" reaches the adapter; the local socket acks `("ok", "ignored-second-arg")`.
    const ACK_STRING: &str = "83a47479706509a9726571756573744964a67a7a30303031a67061636b6574a26f6b";
    /// … acks `({a: 1, b: Buffer.from([7, 8])})`
    const ACK_BIN: &str =
        "83a47479706509a9726571756573744964a67a7a30303032a67061636b657482a16101a162c4020708";
    /// … acks `()`
    const ACK_NONE: &str = "82a47479706509a9726571756573744964a67a7a30303033";
    /// … acks `(null)`
    const ACK_NULL: &str = "83a47479706509a9726571756573744964a67a7a30303034a67061636b6574c0";

    fn adapter_fixtures() -> Vec<(&'static str, Broadcast)> {
        let r = &["r"][..];
        vec![
            (ADAPTER_PLAIN, bc("ad0001", "/", r#"["ev",{"foo":"bar"}]"#, &[], r, &[], Flags::default())),
            (
                ADAPTER_BINARY,
                bc(
                    "ad0001",
                    "/",
                    r#"["bin",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1},"y":[{"_placeholder":true,"num":2}]}]"#,
                    &[&[1, 2, 3], b"hi", b""],
                    r,
                    &[],
                    Flags::default(),
                ),
            ),
            (ADAPTER_VOLATILE, bc("ad0001", "/", r#"["v",1]"#, &[], r, &[], Flags { volatile: true, ..Flags::default() })),
            (
                ADAPTER_NUMS,
                bc(
                    "ad0001",
                    "/",
                    "[\"nums\",1.5,-3,300,70000,5000000000,-5000000000,0,9007199254740992,-1099511627776,0.1,null,true,false,\"h\u{e9}llo \u{1F600}\",\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]",
                    &[],
                    &[],
                    &["x"],
                    Flags::default(),
                ),
            ),
            (
                ADAPTER_MULTI,
                bc("ad0001", "/", r#"["multi",[]]"#, &[], &["a", "b"], &["c", "d"], Flags { volatile: true, compress: Some(false), ..Flags::default() }),
            ),
            (ADAPTER_ADMIN, bc("rq0001", "/admin", r#"["adm",{"b":1,"a":[1,{"c":null}]}]"#, &[], r, &[], Flags::default())),
        ]
    }

    #[test]
    fn broadcasts_are_byte_exact_with_node_adapter() {
        for (fx, b) in adapter_fixtures() {
            assert_eq!(
                encode_broadcast(&b).unwrap(),
                hex(fx),
                "encoding {}",
                b.args
            );
            assert_eq!(decode_broadcast(&hex(fx)).unwrap(), b, "decoding {fx}");
            // The uid is read without decoding the rest, as Node's adapter writes it.
            assert_eq!(
                broadcast_uid(&hex(fx)),
                Some(b.uid.as_bytes()),
                "uid of {fx}"
            );
        }
        assert_eq!(broadcast_uid(&[0x93, 0xc0]), None);
        assert_eq!(broadcast_uid(&[0x93, 0xa3, b'a']), None);
        assert_eq!(broadcast_uid(&[0x80]), None);
        assert_eq!(broadcast_uid(&[]), None);
    }

    #[test]
    fn number_spellings_that_js_reads_as_integers_encode_as_integers() {
        // JSON spellings differ from the Node call, the JS values (hence bytes) do not
        let b = bc(
            "ad0001",
            "/",
            "[\"nums\",1.5e0,-3.0,3e2,70000.0,5e9,-5e9,-0.0,9.007199254740992e15,-1099511627776,1e-1,null,true,false,\"h\\u00e9llo \\ud83d\\ude00\",\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]",
            &[],
            &[],
            &["x"],
            Flags::default(),
        );
        assert_eq!(encode_broadcast(&b).unwrap(), hex(ADAPTER_NUMS));
    }

    #[test]
    fn broadcast_requests_are_byte_exact_with_node_adapter() {
        let timeout = |t| Flags {
            timeout: Some(t),
            ..Flags::default()
        };
        let b = bc(
            "ad0001",
            "/",
            r#"["ask",42]"#,
            &[],
            &["r"],
            &[],
            timeout(1000),
        );
        assert_eq!(
            encode_broadcast_request("rq0002", &b).unwrap(),
            hex(ADAPTER_REQUEST)
        );
        assert_eq!(
            decode_request(&hex(ADAPTER_REQUEST)).unwrap(),
            Request::Broadcast {
                request_id: "rq0002".into(),
                broadcast: b
            }
        );

        let b = bc(
            "ad0001",
            "/",
            r#"["askbin",{"_placeholder":true,"num":0}]"#,
            &[&[9]],
            &["r"],
            &[],
            timeout(500),
        );
        assert_eq!(
            encode_broadcast_request("rq0003", &b).unwrap(),
            hex(ADAPTER_REQUEST_BIN)
        );
        assert_eq!(
            decode_request(&hex(ADAPTER_REQUEST_BIN)).unwrap(),
            Request::Broadcast {
                request_id: "rq0003".into(),
                broadcast: b
            }
        );
    }

    #[test]
    fn broadcast_acks_are_byte_exact_with_node_adapter() {
        let cases = [
            (
                ACK_STRING,
                BroadcastAck {
                    request_id: "zz0001".into(),
                    arg: Some(r#""ok""#.into()),
                    attachments: vec![],
                },
            ),
            (
                ACK_BIN,
                BroadcastAck {
                    request_id: "zz0002".into(),
                    arg: Some(r#"{"a":1,"b":{"_placeholder":true,"num":0}}"#.into()),
                    attachments: vec![Bytes::from_static(&[7, 8])],
                },
            ),
            (
                ACK_NONE,
                BroadcastAck {
                    request_id: "zz0003".into(),
                    arg: None,
                    attachments: vec![],
                },
            ),
            (
                ACK_NULL,
                BroadcastAck {
                    request_id: "zz0004".into(),
                    arg: Some("null".into()),
                    attachments: vec![],
                },
            ),
        ];
        for (fx, ack) in cases {
            assert_eq!(encode_broadcast_ack(&ack).unwrap(), hex(fx), "{ack:?}");
            assert_eq!(decode_broadcast_ack(&hex(fx)).unwrap(), ack);
        }
        // a broadcast is not an ack
        assert!(decode_broadcast_ack(&hex(ADAPTER_REQUEST)).is_err());
    }

    #[test]
    fn emitter_messages_decode() {
        let b = decode_broadcast(&hex(EMITTER_PLAIN)).unwrap();
        assert_eq!(
            b,
            bc(
                "emitter",
                "/",
                r#"["ev",{"foo":"bar"}]"#,
                &[],
                &["r"],
                &[],
                Flags::default()
            )
        );

        let b = decode_broadcast(&hex(EMITTER_BIN)).unwrap();
        let want = bc(
            "emitter",
            "/",
            r#"["bin",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]"#,
            &[&[1, 2, 3], &[255]],
            &["r"],
            &["x"],
            Flags {
                volatile: true,
                ..Flags::default()
            },
        );
        assert_eq!(b, want);
        assert_eq!(b.socketio_type(), BINARY_EVENT);

        let b = decode_broadcast(&hex(EMITTER_NSP)).unwrap();
        assert_eq!(
            b,
            bc(
                "emitter",
                "/admin",
                r#"["hello"]"#,
                &[],
                &[],
                &[],
                Flags::default()
            )
        );
        assert_eq!(b.socketio_type(), EVENT);

        let b = decode_broadcast(&hex(EMITTER_COMPRESS)).unwrap();
        assert_eq!(
            b.flags,
            Flags {
                compress: Some(true),
                ..Flags::default()
            }
        );
        assert_eq!(b.args, r#"["c","x"]"#);

        // Sockeye's emitter writes the emitter's own bytes.
        for fixture in [EMITTER_PLAIN, EMITTER_BIN, EMITTER_NSP] {
            let b = decode_broadcast(&hex(fixture)).unwrap();
            assert_eq!(encode_emitter_broadcast(&b).unwrap(), hex(fixture));
        }

        // re-encoded in the adapter's key order, the bytes are those the adapter would publish
        let mut b = decode_broadcast(&hex(EMITTER_PLAIN)).unwrap();
        b.uid = "ad0001".into();
        assert_eq!(encode_broadcast(&b).unwrap(), hex(ADAPTER_PLAIN));
    }

    #[test]
    fn lenient_decoding_of_optional_parts() {
        // [uid, {type: 5, data: ["e", bin]}] — no nsp, no opts
        let v = Value::Array(vec![
            s("u"),
            Value::Map(vec![
                (s("type"), Value::from(5)),
                (
                    s("data"),
                    Value::Array(vec![s("e"), Value::Binary(vec![1])]),
                ),
            ]),
        ]);
        let b = decode_broadcast(&encode_value(&v).unwrap()).unwrap();
        assert_eq!(b.nsp, "/");
        assert_eq!(b.packet_type, EVENT);
        assert_eq!(b.socketio_type(), BINARY_EVENT);
        assert_eq!(b.args, r#"["e",{"_placeholder":true,"num":0}]"#);
        assert!(b.rooms.is_empty() && b.except.is_empty() && b.flags == Flags::default());

        // flags {} / missing / unknown keys kept; numeric rooms; id
        let v = Value::Array(vec![
            s("u"),
            Value::Map(vec![
                (s("type"), Value::from(2)),
                (s("data"), Value::Array(vec![s("e")])),
                (s("nsp"), s("/x")),
                (s("id"), Value::from(7)),
            ]),
            Value::Map(vec![
                (s("rooms"), Value::Array(vec![s("a"), Value::from(12)])),
                (
                    s("flags"),
                    Value::Map(vec![
                        (s("timeout"), Value::F64(250.0)),
                        (s("broadcast"), Value::Boolean(true)),
                        (s("volatile"), Value::Nil),
                    ]),
                ),
            ]),
        ]);
        let b = decode_broadcast(&encode_value(&v).unwrap()).unwrap();
        assert_eq!(b.rooms, vec!["a", "12"]);
        assert_eq!(b.id, Some(7));
        assert_eq!(b.flags.timeout, Some(250));
        assert!(!b.flags.volatile);
        assert_eq!(
            b.flags.extra,
            vec![("broadcast".to_string(), Value::Boolean(true))]
        );
        // round trip keeps id and the extra flag
        let again = decode_broadcast(&encode_broadcast(&b).unwrap()).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn notepack_encode_vectors() {
        let cases = [
            // JS object key order: array indices first, a repeated key keeps its first place
            (
                r#"["a",{"b":1,"2":2,"1":3,"b":4,"10":5,"01":6,"-1":7,"4294967294":8,"4294967295":9}]"#,
                "92a16188a13103a13202a2313005aa3432393439363732393408a16204a2303106a22d3107aa3432393439363732393509",
            ),
            (r#"[{"__proto__":1,"x":[]}]"#, "9182a95f5f70726f746f5f5f01a17890"),
            (r#"["\u0000\n\"\\/\u2028",true,false,null,{}]"#, "95a8000a225c2fe280a8c3c2c080"),
        ];
        for (json, want) in cases {
            assert_eq!(
                encode_value(&args_to_value(json, &[]).unwrap()).unwrap(),
                hex(want),
                "{json}"
            );
        }
        // the numbers vector without 1e300 (which notepack corrupts, see below)
        let nums = "[1.0,1e3,-0.0,1.5,-1.5e-7,4294967295,4294967296,-2147483648,-2147483649,9007199254740991,-9007199254740991,127,128,255,256,65535,65536,-32,-33,-128,-129,-32768,-32769,18446744073709549568,-9223372036854775808]";
        // Node's bytes for the same list with 1e300 after -9007199254740991, that element's 9 bytes removed
        let node = "dc001a01cd03e800cb3ff8000000000000cbbe8421f5f40d8376ceffffffffcf0000000100000000d280000000d3ffffffff7fffffffcf001fffffffffffffd3ffe0000000000001cf00000000000000007fcc80ccffcd0100cdffffce00010000e0d0dfd080d1ff7fd18000d2ffff7fffcffffffffffffff800d38000000000000000";
        let mut want = hex(node);
        let cut = want
            .windows(9)
            .position(|w| w == hex("cf0000000000000000").as_slice())
            .unwrap();
        want.drain(cut..cut + 9);
        want[2] = 0x19; // 26 → 25 elements
        assert_eq!(
            encode_value(&args_to_value(nums, &[]).unwrap()).unwrap(),
            want
        );

        // containers at their size boundaries
        let json = r#"[[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14],[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14},{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15}]"#;
        let want = "949f000102030405060708090a0b0c0d0edc0010000102030405060708090a0b0c0d0e0f8fa26b3000a26b3101a26b3202a26b3303a26b3404a26b3505a26b3606a26b3707a26b3808a26b3909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ede0010a26b3000a26b3101a26b3202a26b3303a26b3404a26b3505a26b3606a26b3707a26b3808a26b3909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ea36b31350f";
        assert_eq!(
            encode_value(&args_to_value(json, &[]).unwrap()).unwrap(),
            hex(want)
        );

        // string headers: notepack.encode(["a"*31, "b"*32, "é"*128, "c"*256, "d"*65536])
        let strs = [
            "a".repeat(31),
            "b".repeat(32),
            "\u{e9}".repeat(128),
            "c".repeat(256),
            "d".repeat(65536),
        ];
        let json = serde_json::to_string(&strs).unwrap();
        let mut want = vec![0x95, 0xbf];
        want.extend(strs[0].as_bytes());
        want.extend([0xd9, 0x20]);
        want.extend(strs[1].as_bytes());
        want.extend([0xda, 0x01, 0x00]);
        want.extend(strs[2].as_bytes());
        want.extend([0xda, 0x01, 0x00]);
        want.extend(strs[3].as_bytes());
        want.extend([0xdb, 0x00, 0x01, 0x00, 0x00]);
        want.extend(strs[4].as_bytes());
        assert_eq!(
            encode_value(&args_to_value(&json, &[]).unwrap()).unwrap(),
            want
        );

        // bin headers (notepack: bin8 / bin16 / bin32)
        for (n, head) in [
            (0usize, vec![0xc4, 0]),
            (255, vec![0xc4, 0xff]),
            (256, vec![0xc5, 1, 0]),
            (65536, vec![0xc6, 0, 1, 0, 0]),
        ] {
            let enc = encode_value(&Value::Binary(vec![7; n])).unwrap();
            assert_eq!(&enc[..head.len()], &head[..]);
            assert_eq!(enc.len(), head.len() + n);
        }
    }

    #[test]
    fn documented_deviation_for_integral_numbers_beyond_64_bits() {
        // Node: notepack.encode(1e21) = cf35c9adc5dea00000 (wrapped), 1e300 = cf0000000000000000.
        assert_eq!(
            encode_value(&args_to_value("[1e21]", &[]).unwrap()).unwrap(),
            hex("91cb444b1ae4d6e2ef50")
        );
        assert_eq!(
            encode_value(&Value::F64(1e300)).unwrap(),
            hex("cb7e37e43c8800759c")
        );
        // beyond 2^53 an integer literal stays exact (Node would have rounded it first)
        assert_eq!(
            encode_value(&args_to_value("[9007199254740993]", &[]).unwrap()).unwrap(),
            hex("91cf0020000000000001")
        );
        assert_eq!(
            value_to_args(&Value::Array(vec![Value::from(u64::MAX)]))
                .unwrap()
                .0,
            "[18446744073709551615]"
        );
    }

    #[test]
    fn notepack_decode_vectors() {
        // (msgpack hex, JSON.stringify(notepack.decode(hex)))
        let cases = [
            ("93d40000c001", "[null,null,1]"),
            ("83a161d40000a16201a16102", r#"{"a":2,"b":1}"#),
            (
                "8601a161c0a162c3a1639201920203a164c4026869a165cb3ff8000000000000a166",
                r#"{"1":"a","null":"b","true":"c","1,2,3":"d","hi":"e","1.5":"f"}"#,
            ),
            ("81a95f5f70726f746f5f5f01", "{}"),
            (
                "9acb7ff8000000000000cb7ff0000000000000cbfff0000000000000cb444b1ae4d6e2ef50cb3e7ad7f29abcaf48cb405edd2f1a9fbe77cb4000000000000000cb8000000000000000ca3dcccccdcb0000000000000001",
                "[null,null,null,1e+21,1e-7,123.456,2,0,0.10000000149011612,5e-324]",
            ),
            ("92cb7fefffffffffffffcb3eb0c6f7a0b5ed8d", "[1.7976931348623157e+308,0.000001]"),
            ("81cb3ff800000000000001", r#"{"1.5":1}"#),
            ("82a27a7a01a13502", r#"{"5":2,"zz":1}"#),
            ("91a3e282ac", "[\"\u{20ac}\"]"),
            ("91a2c328", "[\"\u{fffd}(\"]"),
        ];
        for (h, want) in cases {
            let v = decode_value(&hex(h)).unwrap();
            let (json, bins) = value_to_json(&v).unwrap().unwrap();
            assert_eq!(json, want, "{h}");
            assert!(bins.is_empty());
        }
        // ext8 type 0 is notepack's legacy ArrayBuffer: a binary
        let (json, bins) = value_to_args(&decode_value(&hex("91c702000102")).unwrap()).unwrap();
        assert_eq!(json, r#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(bins, vec![Bytes::from_static(&[1, 2])]);
        // a top-level undefined is no value
        assert_eq!(
            value_to_json(&decode_value(&hex("d40000")).unwrap()).unwrap(),
            None
        );
    }

    #[test]
    fn js_number_formatting() {
        for (f, s) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-1.25e-10, "-1.25e-10"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(js_number_string(f), s);
        }
    }

    #[test]
    fn round_trips() {
        let args = [
            r#"["ev"]"#,
            r#"["ev",{"a":[1,2,{"b":null}],"c":"d\n\u0001\"","e":-1.5,"f":true}]"#,
            r#"["ev",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}],"x"]"#,
            r#"["ev",{"1":1,"a":2},[],{}]"#,
            r#"["ev",18446744073709551615,-9223372036854775808,1.0000000000000002]"#,
        ];
        let atts = [Bytes::from_static(b"zero"), Bytes::from_static(&[0, 255])];
        for a in args {
            let v = args_to_value(a, &atts).unwrap();
            let bytes = encode_value(&v).unwrap();
            let back = decode_value(&bytes).unwrap();
            assert_eq!(back, v);
            let (json, bins) = value_to_args(&back).unwrap();
            // placeholders are renumbered in traversal order
            let v2 = args_to_value(&json, &bins).unwrap();
            assert_eq!(v2, v, "{a} -> {json}");
        }
        let (json, bins) = value_to_args(&args_to_value(args[2], &atts).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"["ev",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}],"x"]"#
        );
        assert_eq!(bins, vec![atts[1].clone(), atts[0].clone()]);
    }

    #[test]
    fn placeholder_errors() {
        let atts = [Bytes::from_static(b"x")];
        for bad in [
            r#"[{"_placeholder":true,"num":1}]"#,
            r#"[{"_placeholder":true,"num":-1}]"#,
            r#"[{"_placeholder":true,"num":"0"}]"#,
            r#"[{"_placeholder":true}]"#,
            r#"[{"_placeholder":true,"num":0.5}]"#,
        ] {
            assert!(
                matches!(args_to_value(bad, &atts), Err(CodecError::Placeholder(_))),
                "{bad}"
            );
        }
        // not a placeholder unless `_placeholder` is `true`
        let v = args_to_value(r#"[{"_placeholder":1,"num":0}]"#, &atts).unwrap();
        assert!(matches!(&v, Value::Array(a) if matches!(a[0], Value::Map(_))));
        assert!(args_to_value(r#"[{"_placeholder":true,"num":0.0}]"#, &atts).is_ok());
    }

    #[test]
    fn bad_json_and_wrong_shapes() {
        for bad in [
            "",
            "[",
            "[1,]",
            "{\"a\":1}",
            "\"x\"",
            "[1] [2]",
            "[\"\\ud800\"]",
            "[NaN]",
        ] {
            assert!(args_to_value(bad, &[]).is_err(), "{bad:?}");
        }
        // deep JSON: error, no stack overflow
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(args_to_value(&deep, &[]), Err(CodecError::TooDeep));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(args_to_value(&ok, &[]).is_ok());
        // the deepest accepted arguments survive a broadcast and a request round trip
        let inner = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        let ok_event = format!("[\"e\",{inner}]");
        let mut b = bc("u", "/", &ok_event, &[], &[], &[], Flags::default());
        assert_eq!(decode_broadcast(&encode_broadcast(&b).unwrap()).unwrap(), b);
        b.flags.timeout = Some(5);
        let req = Request::Broadcast {
            request_id: "r".into(),
            broadcast: b.clone(),
        };
        assert_eq!(
            decode_request(&encode_broadcast_request("r", &b).unwrap()).unwrap(),
            req
        );
        let over = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(args_to_value(&over, &[]), Err(CodecError::TooDeep));
        let deep_obj = "{\"a\":".repeat(70) + "1" + &"}".repeat(70);
        assert_eq!(
            args_to_value(&format!("[{deep_obj}]"), &[]),
            Err(CodecError::TooDeep)
        );

        // msgpack shapes
        let enc = |v: Value| encode_value(&v).unwrap();
        let pkt = |ty: Value, data: Value| Value::Map(vec![(s("type"), ty), (s("data"), data)]);
        let good_data = Value::Array(vec![s("e")]);
        for bad in [
            enc(s("x")),
            enc(Value::Array(vec![])),
            enc(Value::Array(vec![
                Value::from(1),
                pkt(Value::from(2), good_data.clone()),
            ])),
            enc(Value::Array(vec![s("u"), s("packet")])),
            enc(Value::Array(vec![
                s("u"),
                pkt(Value::from(4), good_data.clone()),
            ])),
            enc(Value::Array(vec![s("u"), pkt(s("2"), good_data.clone())])),
            enc(Value::Array(vec![s("u"), pkt(Value::from(2), s("e"))])),
            enc(Value::Array(vec![
                s("u"),
                Value::Map(vec![(s("type"), Value::from(2))]),
            ])),
            enc(Value::Array(vec![
                s("u"),
                pkt(Value::from(2), good_data.clone()),
                s("opts"),
            ])),
            enc(Value::Array(vec![
                s("u"),
                pkt(Value::from(2), good_data.clone()),
                Value::Map(vec![(s("rooms"), s("abc"))]),
            ])),
            enc(Value::Array(vec![
                s("u"),
                pkt(Value::from(2), good_data.clone()),
                Value::Map(vec![(s("flags"), Value::from(1))]),
            ])),
            enc(Value::Array(vec![
                s("u"),
                pkt(Value::from(2), Value::Array(vec![Value::Ext(5, vec![1])])),
            ])),
            enc(Value::Array(vec![
                s("u"),
                pkt(
                    Value::from(2),
                    Value::Array(vec![Value::Ext(-1, vec![0, 0, 0, 1])]),
                ),
            ])),
        ] {
            assert!(decode_broadcast(&bad).is_err(), "{bad:02x?}");
        }
        // requests
        assert!(decode_request(&enc(Value::Array(vec![]))).is_err());
        assert!(decode_request(&enc(Value::Map(vec![(s("type"), s("7"))]))).is_err());
        assert!(decode_request(&enc(Value::Map(vec![
            (s("type"), Value::from(7)),
            (s("requestId"), Value::from(1))
        ])))
        .is_err());
        let other = Value::Map(vec![
            (s("type"), Value::from(3)),
            (s("rooms"), Value::Array(vec![])),
        ]);
        assert_eq!(
            decode_request(&enc(other.clone())).unwrap(),
            Request::Other {
                kind: 3,
                value: other
            }
        );
        // acks
        assert!(decode_broadcast_ack(&enc(Value::Map(vec![(s("type"), Value::from(9))]))).is_err());
        assert!(decode_broadcast_ack(&enc(Value::Map(vec![
            (s("type"), Value::from(8)),
            (s("requestId"), s("a"))
        ])))
        .is_err());
        // encoding an unbroadcastable type or bad args
        let mut b = bc("u", "/", r#"["e"]"#, &[], &[], &[], Flags::default());
        b.packet_type = 1;
        assert!(encode_broadcast(&b).is_err());
        b.packet_type = EVENT;
        b.args = r#"{"not":"array"}"#.into();
        assert!(encode_broadcast(&b).is_err());
    }

    #[test]
    fn hostile_msgpack_is_rejected_without_panic() {
        // deep nesting: 1 MiB of fixarray(1) headers, and nested fixmaps
        let deep = vec![0x91u8; 1 << 20];
        assert_eq!(decode_value(&deep), Err(CodecError::TooDeep));
        let mut deep_map = Vec::new();
        for _ in 0..1000 {
            deep_map.extend([0x81, 0xa1, b'k']);
        }
        deep_map.push(0xc0);
        assert_eq!(decode_value(&deep_map), Err(CodecError::TooDeep));
        // value_to_json bounds a Value built by hand, too
        let mut v = Value::Nil;
        for _ in 0..200 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(value_to_args(&v), Err(CodecError::TooDeep));
        assert_eq!(encode_value(&v), Err(CodecError::TooDeep));
        // huge declared lengths with short bodies
        for h in [
            "dbffffffff61",
            "c6ffffffff00",
            "c9ffffffff0000",
            "ddffffffff",
            "dfffffffff",
            "dcffff01",
            "deffff0101",
            "da0010",
            "c5ffff",
            "d9ff",
            "c4ff",
            "9f01",
            "8f01",
            "cf00",
            "cb",
            "d3",
            "d8",
            "d4",
            "a1",
        ] {
            assert!(
                matches!(decode_value(&hex(h)), Err(CodecError::Truncated)),
                "{h}"
            );
        }
        assert_eq!(
            decode_value(&hex("c1")),
            Err(CodecError::InvalidMarker(0xc1))
        );
        assert_eq!(
            decode_value(&hex("c0c0")),
            Err(CodecError::TrailingBytes(1))
        );
        assert_eq!(decode_value(&[]), Err(CodecError::Truncated));
        // too many values: a flat array32 of 5M nils
        let mut many = vec![0xdd];
        many.extend((5u32 << 20).to_be_bytes());
        many.extend(std::iter::repeat_n(0xc0u8, 5 << 20));
        assert_eq!(decode_value(&many), Err(CodecError::TooLarge));
        // every truncation of every fixture fails cleanly
        let all = [
            ADAPTER_PLAIN,
            ADAPTER_BINARY,
            ADAPTER_VOLATILE,
            ADAPTER_NUMS,
            ADAPTER_MULTI,
            ADAPTER_ADMIN,
            ADAPTER_REQUEST,
            ADAPTER_REQUEST_BIN,
            EMITTER_PLAIN,
            EMITTER_BIN,
            EMITTER_NSP,
            EMITTER_COMPRESS,
            ACK_STRING,
            ACK_BIN,
            ACK_NONE,
            ACK_NULL,
        ];
        for fx in all {
            let b = hex(fx);
            for n in 0..b.len() {
                assert!(decode_value(&b[..n]).is_err());
                assert!(decode_broadcast(&b[..n]).is_err());
                assert!(decode_request(&b[..n]).is_err());
                assert!(decode_broadcast_ack(&b[..n]).is_err());
            }
        }
    }

    #[test]
    fn mutated_fixtures_never_panic() {
        let all = [
            ADAPTER_BINARY,
            ADAPTER_NUMS,
            ADAPTER_MULTI,
            ADAPTER_REQUEST_BIN,
            EMITTER_BIN,
            ACK_BIN,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..20_000 {
            let mut b = hex(all[i % all.len()]);
            for _ in 0..1 + rnd() % 4 {
                let at = (rnd() as usize) % b.len();
                match rnd() % 3 {
                    0 => b[at] = rnd() as u8,
                    1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, rnd() as u8),
                }
                if b.is_empty() {
                    break;
                }
            }
            let _ = decode_broadcast(&b);
            let _ = decode_request(&b);
            let _ = decode_broadcast_ack(&b);
            if let Ok(v) = decode_value(&b) {
                let _ = value_to_json(&v);
                let _ = encode_value(&v);
            }
        }
    }
}

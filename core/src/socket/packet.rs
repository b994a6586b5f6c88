//! Socket.IO v5 packet codec.
//!
//! A packet is `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`, e.g.
//! `2["hello",1]`, `2/admin,12["project:delete",123]`, `51-["up",{"_placeholder":true,"num":0}]`.
//! The data stays raw JSON text ([`Str`]): decoding reads only the header and checks the data's
//! shape with the [`crate::json`] scanner (with feature `host-json`, the host's `JSON.parse`);
//! nothing builds a tree.

use crate::decimal;
use crate::json::{self, JsonError};
use crate::prelude::*;
use crate::Str;
use bytes::Bytes;

/// Event names the reference parser (`socket.io-parser`) refuses to decode, because they would
/// collide with the socket's own lifecycle events.
const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is an event name the reference parser refuses (one of the socket's own
/// lifecycle events).
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Packet type digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: connect to a namespace (client → server with optional auth object; server →
    /// client with `{"sid": ...}`).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event `["name", ...args]`.
    Event = 2,
    /// `3`: an acknowledgement `[...args]`.
    Ack = 3,
    /// `4`: the server refused a namespace connect (`{"message": ..., "data": ...}`).
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck = 6,
}

/// One Socket.IO packet, with its binary attachments once reassembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The type.
    pub ty: PacketType,
    /// The namespace, `"/"` by default.
    pub nsp: Str,
    /// The ack id, if the sender wants (or this is) an acknowledgement.
    pub id: Option<u64>,
    /// The raw JSON data, if any. For binary packets it holds
    /// `{"_placeholder":true,"num":n}` objects where the attachments go.
    pub data: Option<Str>,
    /// Binary attachments, in placeholder order. Only binary packet types carry any.
    pub attachments: Vec<Bytes>,
}

/// Why text could not be decoded as a Socket.IO packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Empty text.
    #[error("empty packet")]
    Empty,
    /// Unknown type digit.
    #[error("unknown packet type")]
    UnknownType,
    /// The attachment count of a binary packet is missing or malformed.
    #[error("illegal attachments")]
    IllegalAttachments,
    /// The ack id is not a valid integer.
    #[error("illegal ack id")]
    IllegalId,
    /// The data is not valid JSON.
    #[error("invalid JSON payload: {0}")]
    Json(#[from] JsonError),
    /// The data is valid JSON but not what this packet type carries (e.g. an event that is not
    /// a non-empty array starting with a string or number).
    #[error("invalid payload")]
    InvalidPayload,
}

impl PacketType {
    /// The type for a digit character, if any.
    pub fn from_char(c: char) -> Option<PacketType> {
        Some(match c {
            '0' => PacketType::Connect,
            '1' => PacketType::Disconnect,
            '2' => PacketType::Event,
            '3' => PacketType::Ack,
            '4' => PacketType::ConnectError,
            '5' => PacketType::BinaryEvent,
            '6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The digit character of this type.
    pub fn as_char(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// The digit of this type as a `&str` (what the encoders push: see [`crate::decimal::digit`]).
    pub fn as_str(self) -> &'static str {
        crate::decimal::digit(self as u8)
    }

    /// Whether this type carries binary attachments (`BinaryEvent`, `BinaryAck`).
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

impl Packet {
    /// `CONNECT` to `nsp`, with an optional auth/handshake object as raw JSON.
    pub fn connect(nsp: impl Into<Str>, data: Option<Str>) -> Packet {
        Packet {
            ty: PacketType::Connect,
            nsp: nsp.into(),
            id: None,
            data,
            attachments: Vec::new(),
        }
    }

    /// `DISCONNECT` from `nsp`.
    pub fn disconnect(nsp: impl Into<Str>) -> Packet {
        Packet {
            ty: PacketType::Disconnect,
            nsp: nsp.into(),
            id: None,
            data: None,
            attachments: Vec::new(),
        }
    }

    /// `CONNECT_ERROR` on `nsp` with raw JSON data (`{"message":...}`).
    pub fn connect_error(nsp: impl Into<Str>, data: Str) -> Packet {
        Packet {
            ty: PacketType::ConnectError,
            nsp: nsp.into(),
            id: None,
            data: Some(data),
            attachments: Vec::new(),
        }
    }

    /// An event: `data` is the raw JSON array `["name", ...args]`. With attachments the type
    /// becomes `BinaryEvent`.
    pub fn event(
        nsp: impl Into<Str>,
        data: Str,
        id: Option<u64>,
        attachments: Vec<Bytes>,
    ) -> Packet {
        let ty = if attachments.is_empty() {
            PacketType::Event
        } else {
            PacketType::BinaryEvent
        };
        Packet {
            ty,
            nsp: nsp.into(),
            id,
            data: Some(data),
            attachments,
        }
    }

    /// An acknowledgement of `id`: `data` is the raw JSON array of arguments. With attachments
    /// the type becomes `BinaryAck`.
    pub fn ack(nsp: impl Into<Str>, data: Str, id: u64, attachments: Vec<Bytes>) -> Packet {
        let ty = if attachments.is_empty() {
            PacketType::Ack
        } else {
            PacketType::BinaryAck
        };
        Packet {
            ty,
            nsp: nsp.into(),
            id: Some(id),
            data: Some(data),
            attachments,
        }
    }

    /// Encodes the text part (header and data). Binary packets announce
    /// `self.attachments.len()` attachments, which follow as separate binary messages.
    /// The namespace is omitted when it is `"/"`.
    pub fn encode(&self) -> Str {
        let mut out = String::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut out);
        Str::from(out)
    }

    /// The attachments that follow the text on the wire: only binary types announce any, and
    /// sending them for another type would break the peer's decoder.
    pub fn sent_attachments(&self) -> &[Bytes] {
        if self.ty.is_binary() {
            &self.attachments
        } else {
            &[]
        }
    }

    /// About the length of [`Packet::encode`]'s text (a capacity to reserve).
    pub fn encoded_len_hint(&self) -> usize {
        self.nsp.len() + self.data.as_deref().map_or(0, str::len) + 24
    }

    /// Appends [`Packet::encode`]'s text to `out`.
    pub fn encode_into(&self, out: &mut String) {
        let data = self.data.as_deref().unwrap_or("");
        out.push_str(self.ty.as_str());
        if self.ty.is_binary() {
            decimal::push(out, self.attachments.len() as u64);
            out.push_str("-");
        }
        if !self.nsp.is_empty() && self.nsp != "/" {
            out.push_str(&self.nsp);
            out.push_str(",");
        }
        if let Some(id) = self.id {
            decimal::push(out, id);
        }
        out.push_str(data);
    }

    /// Decodes the text part of a packet. Returns the packet (with no attachments yet) and the
    /// number of attachments that must follow (0 for non-binary types). Checks the data's shape
    /// for the type: CONNECT an object or nothing, DISCONNECT nothing, CONNECT_ERROR a string or
    /// object, (BINARY_)EVENT a non-empty array whose first element is a string or number,
    /// (BINARY_)ACK an array.
    pub fn decode(text: Str) -> Result<(Packet, usize), PacketError> {
        // Follows `Decoder.decodeString` of socket.io-parser 4.x, with stricter attachment
        // counts and ack ids, and data required where the packet type is useless without it.
        let s = text.as_str();
        let b = s.as_bytes();
        let ty = b
            .first()
            .ok_or(PacketError::Empty)
            .and_then(|&c| PacketType::from_char(char::from(c)).ok_or(PacketError::UnknownType))?;
        let mut i = 1;

        let mut attachments = 0;
        if ty.is_binary() {
            let end = digits_end(b, i);
            if end == i || b.get(end) != Some(&b'-') {
                return Err(PacketError::IllegalAttachments);
            }
            attachments = parse_digits(b, i, end)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(PacketError::IllegalAttachments)?;
            i = end + 1;
        }

        let mut nsp = Str::from_static("/");
        if b.get(i) == Some(&b'/') {
            // The namespace runs to the next comma, or to the end of the text. (Bytes, not
            // `str::find`: its searcher weighs ~700 bytes in the wasm client.)
            let end = b
                .get(i..)
                .and_then(|rest| rest.iter().position(|&c| c == b','))
                .map_or(b.len(), |k| i + k);
            nsp = text.slice(i..end).ok_or(PacketError::InvalidPayload)?;
            i = (end + 1).min(b.len());
        }

        let mut id = None;
        let end = digits_end(b, i);
        if end > i {
            id = Some(parse_digits(b, i, end).ok_or(PacketError::IllegalId)?);
            i = end;
        }

        let data = if i < b.len() {
            let data = text.slice(i..b.len()).ok_or(PacketError::InvalidPayload)?;
            #[cfg(not(feature = "host-json"))]
            json::validate(&data)?;
            Some(data)
        } else {
            None
        };
        if !payload_is_valid(ty, data.as_deref()) {
            return Err(PacketError::InvalidPayload);
        }

        let packet = Packet {
            ty,
            nsp,
            id,
            data,
            attachments: Vec::new(),
        };
        Ok((packet, attachments))
    }

    /// For events: the event name (the first array element, unescaped), if it is a string.
    pub fn event_name(&self) -> Option<String> {
        if !matches!(self.ty, PacketType::Event | PacketType::BinaryEvent) {
            return None;
        }
        let first = first_element(self.data.as_deref()?)?;
        json::parse_string(first).ok()
    }
}

/// The index of the first non-digit byte at or after `i`.
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// The decimal number `b[start..end]` (ASCII digits), if it fits in a `u64`.
fn parse_digits(b: &[u8], start: usize, end: usize) -> Option<u64> {
    crate::decimal::parse(b.get(start..end)?)
}

/// The raw text of the first element of the JSON array `data`, if `data` is a non-empty
/// array. Assumes `data` has been validated; returns `None` rather than failing otherwise.
fn first_element(data: &str) -> Option<&str> {
    let t = json::trim_start_ws(data);
    let inner = json::trim_start_ws(t.strip_prefix('[')?);
    if inner.starts_with(']') {
        return None;
    }
    let end = json::skip_value(inner, 0).ok()?;
    inner.get(..end)
}

/// Whether `data` is JSON of the shape packets of type `ty` carry, as the host's
/// `JSON.parse` reads it (feature `host-json`: the checks of socket.io-parser's
/// `isPayloadValid`, which `JSON.parse`s the data).
#[cfg(feature = "host-json")]
fn payload_is_valid(ty: PacketType, data: Option<&str>) -> bool {
    let Some(data) = data else {
        return matches!(ty, PacketType::Connect | PacketType::Disconnect);
    };
    let Some(shape) = json::host::shape(data) else {
        return false;
    };
    match ty {
        PacketType::Connect => shape == "o",
        PacketType::Disconnect => false,
        PacketType::ConnectError => shape == "o" || shape == "s",
        PacketType::Event | PacketType::BinaryEvent => {
            shape == "n"
                || shape
                    .strip_prefix("e")
                    .is_some_and(|n| !is_reserved_event(n))
        }
        PacketType::Ack | PacketType::BinaryAck => {
            shape == "n" || shape == "a" || shape.starts_with("e")
        }
    }
}

/// Whether (already validated) `data` has the shape packets of type `ty` carry.
#[cfg(not(feature = "host-json"))]
fn payload_is_valid(ty: PacketType, data: Option<&str>) -> bool {
    use json::Kind;
    let kind = data.and_then(json::kind);
    match ty {
        PacketType::Connect => data.is_none() || kind == Some(Kind::Object),
        PacketType::Disconnect => data.is_none(),
        PacketType::ConnectError => matches!(kind, Some(Kind::String | Kind::Object)),
        PacketType::Event | PacketType::BinaryEvent => {
            let Some(first) = data.and_then(first_element) else {
                return false;
            };
            match json::kind(first) {
                Some(Kind::Number) => true,
                // A name without escapes is its raw text: no unescaped copy to check it.
                Some(Kind::String) => match first.get(1..first.len().saturating_sub(1)) {
                    Some(raw) if !raw.contains('\\') => !is_reserved_event(raw),
                    _ => json::parse_string(first).is_ok_and(|name| !is_reserved_event(&name)),
                },
                _ => false,
            }
        }
        PacketType::Ack | PacketType::BinaryAck => kind == Some(Kind::Array),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn decode(s: &'static str) -> Result<(Packet, usize), PacketError> {
        Packet::decode(Str::from_static(s))
    }

    fn packet(
        ty: PacketType,
        nsp: &'static str,
        id: Option<u64>,
        data: Option<&'static str>,
    ) -> Packet {
        Packet {
            ty,
            nsp: Str::from_static(nsp),
            id,
            data: data.map(Str::from_static),
            attachments: Vec::new(),
        }
    }

    /// Decodes `wire`, checks it against `expected`, and checks that it encodes back.
    fn check(wire: &'static str, expected: Packet, attachments: usize) {
        let (p, n) = decode(wire).unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(p, expected, "{wire:?}");
        assert_eq!(n, attachments, "{wire:?}");
        let mut with_attachments = p.clone();
        with_attachments.attachments = vec![Bytes::new(); n];
        assert_eq!(with_attachments.encode(), wire);
    }

    #[test]
    fn type_digits() {
        for (i, c) in ('0'..='6').enumerate() {
            let ty = PacketType::from_char(c).unwrap();
            assert_eq!(ty as usize, i);
            assert_eq!(ty.as_char(), c);
            assert_eq!(ty.is_binary(), c == '5' || c == '6');
        }
        assert_eq!(PacketType::from_char('7'), None);
        assert_eq!(PacketType::from_char('x'), None);
    }

    #[test]
    fn spec_examples() {
        use PacketType::*;
        check("0", packet(Connect, "/", None, None), 0);
        check(
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
            packet(
                Connect,
                "/admin",
                None,
                Some(r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#),
            ),
            0,
        );
        check(
            r#"0{"token":"123"}"#,
            packet(Connect, "/", None, Some(r#"{"token":"123"}"#)),
            0,
        );
        check("1/admin,", packet(Disconnect, "/admin", None, None), 0);
        check("1", packet(Disconnect, "/", None, None), 0);
        check(
            r#"2["foo"]"#,
            packet(Event, "/", None, Some(r#"["foo"]"#)),
            0,
        );
        check(
            r#"2/admin,456["project:delete",123]"#,
            packet(
                Event,
                "/admin",
                Some(456),
                Some(r#"["project:delete",123]"#),
            ),
            0,
        );
        check(
            r#"212["hello",1]"#,
            packet(Event, "/", Some(12), Some(r#"["hello",1]"#)),
            0,
        );
        check(
            "3/admin,456[]",
            packet(Ack, "/admin", Some(456), Some("[]")),
            0,
        );
        check(
            r#"4/admin,{"message":"Not authorized"}"#,
            packet(
                ConnectError,
                "/admin",
                None,
                Some(r#"{"message":"Not authorized"}"#),
            ),
            0,
        );
        check(
            r#"4"Not authorized""#,
            packet(ConnectError, "/", None, Some(r#""Not authorized""#)),
            0,
        );
        check(
            r#"51-["hello",{"_placeholder":true,"num":0}]"#,
            packet(
                BinaryEvent,
                "/",
                None,
                Some(r#"["hello",{"_placeholder":true,"num":0}]"#),
            ),
            1,
        );
        check(
            r#"61-/admin,456[{"_placeholder":true,"num":0}]"#,
            packet(
                BinaryAck,
                "/admin",
                Some(456),
                Some(r#"[{"_placeholder":true,"num":0}]"#),
            ),
            1,
        );
        check(
            r#"2[1,"x"]"#,
            packet(Event, "/", None, Some(r#"[1,"x"]"#)),
            0,
        );
    }

    #[test]
    fn lenient_forms_the_reference_parser_accepts() {
        use PacketType::*;
        // Explicit default namespace, leading zeros in counts, whitespace around JSON.
        let (p, _) = decode(r#"2/,["a"]"#).unwrap();
        assert_eq!(p, packet(Event, "/", None, Some(r#"["a"]"#)));
        let (p, n) = decode(r#"502-["a"]"#).unwrap();
        assert_eq!((p.ty, n), (BinaryEvent, 2));
        let (p, _) = decode(r#"2 [ "a" ] "#).unwrap();
        assert_eq!(p.data.unwrap(), r#" [ "a" ] "#);
        let (p, _) = decode("3007[]").unwrap();
        assert_eq!(p.id, Some(7));
        // A namespace may contain anything but a comma.
        let (p, _) = decode(r#"2/a/b é?x=1,["a"]"#).unwrap();
        assert_eq!(p.nsp, "/a/b é?x=1");
        // A binary packet with no attachments.
        let (p, n) = decode(r#"50-["a"]"#).unwrap();
        assert_eq!((p.ty, n), (BinaryEvent, 0));
        // An ack id where it means nothing is ignored rather than refused.
        let (p, _) = decode("0/admin,1").unwrap();
        assert_eq!(p, packet(Connect, "/admin", Some(1), None));
        // Numbers as event names.
        assert!(decode("2[1]").is_ok());
        assert!(decode("2[-1.5e3]").is_ok());
    }

    #[test]
    fn malformed() {
        use PacketError::*;
        for (wire, err) in [
            ("", Empty),
            ("999", UnknownType),
            ("7", UnknownType),
            ("x", UnknownType),
            ("€", UnknownType),
            (" 2[\"a\"]", UnknownType),
            ("2[", Json(JsonError::Invalid(1))),
            ("2abc", Json(JsonError::Invalid(0))),
            ("2[\"a\",]", Json(JsonError::Invalid(5))),
            ("2[\"a\"] x", Json(JsonError::Invalid(6))),
            ("5-[\"x\"]", IllegalAttachments),
            ("5[\"x\"]", IllegalAttachments),
            ("5", IllegalAttachments),
            ("51", IllegalAttachments),
            ("5a-[\"x\"]", IllegalAttachments),
            ("6-/admin,1[]", IllegalAttachments),
            ("599999999999999999999999-[\"x\"]", IllegalAttachments),
            ("2/admin", InvalidPayload),
            ("2/admin,", InvalidPayload),
            ("2", InvalidPayload),
            ("21", InvalidPayload),
            ("2[]", InvalidPayload),
            ("2{}", InvalidPayload),
            ("2\"foo\"", InvalidPayload),
            ("2[null]", InvalidPayload),
            ("2[[\"a\"]]", InvalidPayload),
            ("2[{}]", InvalidPayload),
            ("2[true]", InvalidPayload),
            ("3", InvalidPayload),
            ("3/admin,456", InvalidPayload),
            ("3{}", InvalidPayload),
            ("3\"x\"", InvalidPayload),
            ("0[]", InvalidPayload),
            ("0\"x\"", InvalidPayload),
            ("1{}", InvalidPayload),
            ("1/admin,[]", InvalidPayload),
            ("4", InvalidPayload),
            ("4[]", InvalidPayload),
            ("41", InvalidPayload),
            ("51-{}", InvalidPayload),
            ("61-{}", InvalidPayload),
            ("2/admin,18446744073709551616[\"a\"]", IllegalId),
            ("399999999999999999999999[]", IllegalId),
        ] {
            assert_eq!(decode(wire).map(|_| ()), Err(err), "{wire:?}");
        }
    }

    #[test]
    fn max_id() {
        let (p, _) = decode("318446744073709551615[]").unwrap();
        assert_eq!(p.id, Some(u64::MAX));
        assert_eq!(p.encode(), "318446744073709551615[]");
    }

    #[test]
    fn reserved_event_names_are_refused() {
        for name in RESERVED_EVENTS {
            let wire = format!("2[\"{name}\",1]");
            assert_eq!(
                Packet::decode(Str::from(wire)).map(|_| ()),
                Err(PacketError::InvalidPayload),
                "{name}"
            );
        }
        // Also when escaped, as JSON.parse would unescape it.
        assert_eq!(
            decode(r#"2["\u0063onnect"]"#).map(|_| ()),
            Err(PacketError::InvalidPayload)
        );
        // But fine as arguments, or as other names.
        assert!(decode(r#"2["message","connect"]"#).is_ok());
        assert!(decode(r#"2["Connect"]"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_rejected_without_recursion() {
        let deep = format!("2[{}", "[".repeat(10 * json::MAX_DEPTH));
        assert_eq!(
            Packet::decode(Str::from(deep)).map(|_| ()),
            Err(PacketError::Json(JsonError::TooDeep))
        );
        let limit = format!(
            "3{}{}",
            "[".repeat(json::MAX_DEPTH),
            "]".repeat(json::MAX_DEPTH)
        );
        assert!(Packet::decode(Str::from(limit)).is_ok());
    }

    #[test]
    fn data_shares_the_buffer() {
        let text = Str::from(r#"2/chat,["msg","hi"]"#);
        let (p, _) = Packet::decode(text.clone()).unwrap();
        assert_eq!(p.nsp.as_ptr(), text[1..].as_ptr());
        assert_eq!(p.data.unwrap().as_ptr(), text[7..].as_ptr());
    }

    #[test]
    fn event_names() {
        let name = |wire: &'static str| decode(wire).unwrap().0.event_name();
        assert_eq!(name(r#"2["foo"]"#).as_deref(), Some("foo"));
        assert_eq!(
            name(r#"2/admin,456["project:delete",123]"#).as_deref(),
            Some("project:delete")
        );
        assert_eq!(name(r#"2[ "a\"b\u00e9" , 1]"#).as_deref(), Some("a\"bé"));
        assert_eq!(
            name(r#"51-["up",{"_placeholder":true,"num":0}]"#).as_deref(),
            Some("up")
        );
        assert_eq!(name("2[1]"), None);
        assert_eq!(name(r#"3["foo"]"#), None);
        assert_eq!(name(r#"0{"a":"b"}"#), None);
        // Constructed packets are not validated; no panic either way.
        let p = Packet::event("/", Str::from_static("[\"x"), None, vec![]);
        assert_eq!(p.event_name(), None);
        let p = Packet::event("/", Str::from_static("[]"), None, vec![]);
        assert_eq!(p.event_name(), None);
    }

    #[test]
    fn constructors_encode() {
        assert_eq!(Packet::connect("/", None).encode(), "0");
        assert_eq!(
            Packet::connect("/admin", Some(Str::from_static(r#"{"token":"x"}"#))).encode(),
            r#"0/admin,{"token":"x"}"#
        );
        assert_eq!(Packet::disconnect("/admin").encode(), "1/admin,");
        assert_eq!(
            Packet::connect_error("/", Str::from_static(r#"{"message":"no"}"#)).encode(),
            r#"4{"message":"no"}"#
        );
        assert_eq!(
            Packet::event("/", Str::from_static(r#"["foo"]"#), None, vec![]).encode(),
            r#"2["foo"]"#
        );
        assert_eq!(
            Packet::event("", Str::from_static(r#"["foo"]"#), Some(1), vec![]).encode(),
            r#"21["foo"]"#
        );
        let bin = Packet::event(
            "/",
            Str::from_static(r#"["hello",{"_placeholder":true,"num":0}]"#),
            None,
            vec![Bytes::from_static(b"\x01")],
        );
        assert_eq!(bin.ty, PacketType::BinaryEvent);
        assert_eq!(
            bin.encode(),
            r#"51-["hello",{"_placeholder":true,"num":0}]"#
        );
        let ack = Packet::ack(
            "/admin",
            Str::from_static(r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
            456,
            vec![Bytes::new(), Bytes::new()],
        );
        assert_eq!(ack.ty, PacketType::BinaryAck);
        assert_eq!(
            ack.encode(),
            r#"62-/admin,456[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(
            Packet::ack("/", Str::from_static("[]"), 3, vec![]).encode(),
            "33[]"
        );
    }
}

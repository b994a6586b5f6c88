//! Engine.IO v4 packet codec.
//!
//! Over WebSocket each frame is one packet: a text frame is the packet type digit followed by
//! its data (`"4hello"`), a binary frame is a binary `message` with no prefix at all.

// With feature `host-base64` (the wasm client's build), the host's `atob`/`btoa`.
#[cfg(not(feature = "host-base64"))]
use crate::base64;
#[cfg(feature = "host-base64")]
use crate::base64::host as base64;
use crate::engine::Handshake;
use crate::prelude::*;
use crate::Str;
use bytes::Bytes;

/// Packet type digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`, sent by the server at the start of a session.
    Open = 0,
    /// `1`, either side closes the session.
    Close = 1,
    /// `2`, heartbeat request (server → client), or `2probe` during upgrade.
    Ping = 2,
    /// `3`, heartbeat answer, or `3probe` during upgrade.
    Pong = 3,
    /// `4`, application data.
    Message = 4,
    /// `5`, completes an upgrade to WebSocket.
    Upgrade = 5,
    /// `6`, no-op; releases a pending poll during upgrade.
    Noop = 6,
}

/// Application data carried by a `message` packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

/// One Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet {
    /// The handshake, sent by the server first. Boxed: it is by far the largest variant, and
    /// every other packet (half a million of them in a hostile polling body) would carry its
    /// size.
    Open(Box<Handshake>),
    /// Close the session.
    Close,
    /// Heartbeat request; the payload is `"probe"` during an upgrade, otherwise empty.
    Ping(Str),
    /// Heartbeat answer, echoing the ping's payload.
    Pong(Str),
    /// Application data.
    Message(Message),
    /// Upgrade complete.
    Upgrade,
    /// No-op.
    Noop,
}

/// One WebSocket frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(Str),
    /// A binary frame.
    Binary(Bytes),
}

/// Why bytes could not be decoded as Engine.IO.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Empty packet (no type digit).
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type digit `0`..`6`.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A `b`-prefixed polling packet whose base64 is invalid.
    #[error("invalid base64 in binary packet")]
    Base64,
    /// The open packet's JSON is not a valid handshake.
    #[error("invalid handshake: {0}")]
    Handshake(&'static str),
    /// A polling body that is not valid UTF-8.
    #[error("payload is not valid UTF-8")]
    Utf8,
    /// A payload larger than the allowed maximum.
    #[error("payload of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        max: usize,
    },
}

impl PacketType {
    /// The type for a digit character, if any.
    pub fn from_char(c: char) -> Option<PacketType> {
        Some(match c {
            '0' => PacketType::Open,
            '1' => PacketType::Close,
            '2' => PacketType::Ping,
            '3' => PacketType::Pong,
            '4' => PacketType::Message,
            '5' => PacketType::Upgrade,
            '6' => PacketType::Noop,
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
}

impl Packet {
    /// This packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// Encodes for a WebSocket frame: binary messages become binary frames, everything else a
    /// text frame `"<digit><data>"`.
    pub fn encode_frame(&self) -> Frame {
        self.frame::<true>()
    }

    /// Appends the text form `"<digit><data>"` to `out` (used for polling payloads; binary
    /// messages are written as `"b<base64>"`).
    pub fn encode_text_into(&self, out: &mut String) {
        self.text_into::<true>(out);
    }

    /// [`Packet::encode_frame`] for the packets a client sends: all but `open` (the server's
    /// handshake, written as its type alone here). A client thus does not carry the
    /// handshake's encoder (in the wasm client: ~200 bytes gzipped).
    pub(crate) fn encode_client_frame(&self) -> Frame {
        self.frame::<false>()
    }

    /// [`Packet::encode_text_into`] for the packets a client sends (see
    /// [`Packet::encode_client_frame`]).
    pub(crate) fn encode_client_text_into(&self, out: &mut String) {
        self.text_into::<false>(out);
    }

    /// `HANDSHAKE`: whether `open` carries its handshake JSON (false only for a client).
    fn frame<const HANDSHAKE: bool>(&self) -> Frame {
        match self {
            Packet::Message(Message::Binary(b)) => Frame::Binary(b.clone()),
            _ => {
                let mut out = String::new();
                self.text_into::<HANDSHAKE>(&mut out);
                Frame::Text(Str::from(out))
            }
        }
    }

    fn text_into<const HANDSHAKE: bool>(&self, out: &mut String) {
        if let Packet::Message(Message::Binary(b)) = self {
            out.push_str("b");
            base64::encode_into(b, out);
            return;
        }
        out.push_str(self.packet_type().as_str());
        match self {
            Packet::Open(h) if HANDSHAKE => out.push_str(&h.to_json()),
            Packet::Ping(data) | Packet::Pong(data) | Packet::Message(Message::Text(data)) => {
                out.push_str(data)
            }
            Packet::Open(_)
            | Packet::Close
            | Packet::Upgrade
            | Packet::Noop
            | Packet::Message(_) => {}
        }
    }

    /// Decodes a WebSocket text frame (or one packet of a polling payload that is not
    /// `b`-prefixed). Takes a [`Str`] so message data can share its buffer.
    pub fn decode_text(text: Str) -> Result<Packet, DecodeError> {
        Packet::decode_part(&text, &text)
    }

    /// Decodes the packet `part`, a sub-slice of `buf` (a whole frame, or one packet of a
    /// polling body), whose data shares `buf`. O(length of `part`): a body's packets are
    /// decoded without a [`Str`] for each.
    #[inline]
    pub(crate) fn decode_part(buf: &Str, part: &str) -> Result<Packet, DecodeError> {
        // The type is one ASCII character in every valid packet: no UTF-8 decoding for it.
        let first = match part.as_bytes().first() {
            None => return Err(DecodeError::Empty),
            Some(&b) if b.is_ascii() => char::from(b),
            Some(_) => part.chars().next().unwrap_or_default(),
        };
        // Everything after the type character, as text and sharing the buffer.
        let rest = part.get(first.len_utf8()..).unwrap_or("");
        let data = || buf.slice_ref(rest).unwrap_or_default();
        if first == 'b' {
            // A binary message in its text form, as in polling payloads. Engine.IO v4 sends
            // binary over WebSocket as binary frames, but the reference parser accepts this
            // form in a text frame too.
            let bytes = base64::decode(rest).map_err(|_| DecodeError::Base64)?;
            return Ok(Packet::Message(Message::Binary(crate::binary_from_vec(
                bytes,
            ))));
        }
        let ty = PacketType::from_char(first).ok_or(DecodeError::UnknownType(first))?;
        Ok(match ty {
            PacketType::Open => Packet::Open(Box::new(
                Handshake::from_json(rest).map_err(DecodeError::Handshake)?,
            )),
            PacketType::Close => Packet::Close,
            PacketType::Ping => Packet::Ping(data()),
            PacketType::Pong => Packet::Pong(data()),
            PacketType::Message => Packet::Message(Message::Text(data())),
            PacketType::Upgrade => Packet::Upgrade,
            PacketType::Noop => Packet::Noop,
        })
    }

    /// Decodes a WebSocket binary frame: always a binary `message`.
    pub fn decode_binary(data: Bytes) -> Packet {
        Packet::Message(Message::Binary(data))
    }

    /// Decodes a WebSocket frame.
    pub fn decode_frame(frame: Frame) -> Result<Packet, DecodeError> {
        match frame {
            Frame::Text(t) => Packet::decode_text(t),
            Frame::Binary(b) => Ok(Packet::decode_binary(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn text(s: &'static str) -> Str {
        Str::from_static(s)
    }

    fn decode(s: &'static str) -> Result<Packet, DecodeError> {
        Packet::decode_text(text(s))
    }

    fn encode_text(p: &Packet) -> String {
        let mut out = String::new();
        p.encode_text_into(&mut out);
        out
    }

    #[test]
    fn type_digits() {
        for (i, c) in ('0'..='6').enumerate() {
            let ty = PacketType::from_char(c).unwrap();
            assert_eq!(ty as usize, i);
            assert_eq!(ty.as_char(), c);
        }
        for c in ['7', '9', 'b', 'a', ' ', '\u{0}', '٣'] {
            assert_eq!(PacketType::from_char(c), None);
        }
    }

    #[test]
    fn spec_examples_decode() {
        assert_eq!(
            decode("4hello"),
            Ok(Packet::Message(Message::Text(text("hello"))))
        );
        assert_eq!(decode("4€"), Ok(Packet::Message(Message::Text(text("€")))));
        assert_eq!(decode("4"), Ok(Packet::Message(Message::Text(text("")))));
        assert_eq!(decode("2probe"), Ok(Packet::Ping(text("probe"))));
        assert_eq!(decode("3probe"), Ok(Packet::Pong(text("probe"))));
        assert_eq!(decode("2"), Ok(Packet::Ping(text(""))));
        assert_eq!(decode("3"), Ok(Packet::Pong(text(""))));
        assert_eq!(decode("1"), Ok(Packet::Close));
        assert_eq!(decode("5"), Ok(Packet::Upgrade));
        assert_eq!(decode("6"), Ok(Packet::Noop));
    }

    #[test]
    fn trailing_data_is_ignored_where_meaningless() {
        assert_eq!(decode("1bye"), Ok(Packet::Close));
        assert_eq!(decode("5x"), Ok(Packet::Upgrade));
        assert_eq!(decode("6noop"), Ok(Packet::Noop));
    }

    #[test]
    fn open_packet() {
        let p = decode(
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        let Packet::Open(h) = &p else {
            panic!("not open: {p:?}")
        };
        assert_eq!(h.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(h.upgrades, ["websocket"]);
        assert_eq!(h.ping_interval, Duration::from_secs(25));
        assert_eq!(h.ping_timeout, Duration::from_secs(20));
        assert_eq!(h.max_payload, 1_000_000);
        assert_eq!(Packet::decode_text(Str::from(encode_text(&p))), Ok(p));
    }

    #[test]
    fn message_data_shares_the_buffer() {
        let frame = Str::from("4some message data");
        let Ok(Packet::Message(Message::Text(data))) = Packet::decode_text(frame.clone()) else {
            panic!()
        };
        assert_eq!(data, "some message data");
        assert_eq!(data.as_ptr(), frame[1..].as_ptr());
    }

    #[test]
    fn base64_text_form() {
        assert_eq!(
            decode("bAQIDBA=="),
            Ok(Packet::Message(Message::Binary(Bytes::from_static(&[
                1, 2, 3, 4
            ]))))
        );
        assert_eq!(
            decode("b"),
            Ok(Packet::Message(Message::Binary(Bytes::new())))
        );
        assert_eq!(decode("bA"), Err(DecodeError::Base64));
        assert_eq!(decode("b!!!!"), Err(DecodeError::Base64));
    }

    #[test]
    fn malformed() {
        assert_eq!(decode(""), Err(DecodeError::Empty));
        assert_eq!(decode("7"), Err(DecodeError::UnknownType('7')));
        assert_eq!(decode("999"), Err(DecodeError::UnknownType('9')));
        assert_eq!(decode("hello"), Err(DecodeError::UnknownType('h')));
        assert_eq!(decode("€4"), Err(DecodeError::UnknownType('€')));
        assert_eq!(decode(" 4x"), Err(DecodeError::UnknownType(' ')));
        assert_eq!(
            decode("0"),
            Err(DecodeError::Handshake("not a JSON object"))
        );
        assert_eq!(decode("0{}"), Err(DecodeError::Handshake("missing sid")));
        assert_eq!(
            decode("0{\"sid\":\"x\""),
            Err(DecodeError::Handshake("not a JSON object"))
        );
    }

    #[test]
    fn a_client_encodes_what_it_sends_as_the_server_does() {
        let bin = Bytes::from_static(&[0, 1, 255]);
        for p in [
            Packet::Message(Message::Text(text("héllo"))),
            Packet::Message(Message::Binary(bin)),
            Packet::Ping(text("probe")),
            Packet::Pong(text("")),
            Packet::Close,
            Packet::Upgrade,
            Packet::Noop,
        ] {
            assert_eq!(p.encode_client_frame(), p.encode_frame());
            let mut client = String::new();
            p.encode_client_text_into(&mut client);
            assert_eq!(client, encode_text(&p));
        }
        // `open` is the server's: a client writes its type alone.
        let open =
            decode(r#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#)
                .unwrap();
        assert_eq!(open.encode_client_frame(), Frame::Text(text("0")));
    }

    #[test]
    fn encodes_frames() {
        assert_eq!(
            Packet::Message(Message::Text(text("hello"))).encode_frame(),
            Frame::Text(text("4hello"))
        );
        assert_eq!(
            Packet::Ping(text("probe")).encode_frame(),
            Frame::Text(text("2probe"))
        );
        assert_eq!(
            Packet::Pong(text("")).encode_frame(),
            Frame::Text(text("3"))
        );
        assert_eq!(Packet::Close.encode_frame(), Frame::Text(text("1")));
        assert_eq!(Packet::Upgrade.encode_frame(), Frame::Text(text("5")));
        assert_eq!(Packet::Noop.encode_frame(), Frame::Text(text("6")));
        let bin = Bytes::from_static(&[1, 2, 3, 4]);
        assert_eq!(
            Packet::Message(Message::Binary(bin.clone())).encode_frame(),
            Frame::Binary(bin.clone())
        );
        assert_eq!(
            encode_text(&Packet::Message(Message::Binary(bin))),
            "bAQIDBA=="
        );
    }

    #[test]
    fn frames_round_trip() {
        let packets = [
            Packet::Close,
            Packet::Ping(text("probe")),
            Packet::Pong(text("probe")),
            Packet::Message(Message::Text(text("héllo\u{1e}"))),
            Packet::Message(Message::Binary(Bytes::from_static(b"\x00\xff"))),
            Packet::Upgrade,
            Packet::Noop,
        ];
        for p in packets {
            assert_eq!(Packet::decode_frame(p.encode_frame()), Ok(p.clone()));
            assert_eq!(
                p.packet_type().as_char() as u8 - b'0',
                p.packet_type() as u8
            );
        }
        assert_eq!(
            Packet::decode_frame(Frame::Binary(Bytes::new())),
            Ok(Packet::Message(Message::Binary(Bytes::new())))
        );
    }
}

//! Property tests for the codecs: round trips of random well-formed values, and random or
//! mutated malformed input that must be rejected with an error, never a panic.
//!
//! Uses `proptest` with failure persistence off so the same tests run natively and on
//! wasm32 (in Node, through `wasm-bindgen-test-runner`). A failing case is printed shrunk;
//! add it as a unit test in the codec's own module.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use core::time::Duration;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sockeye_core::engine::{self, payload, Handshake, Message};
use sockeye_core::socket::{self, parser, Decoder, PacketType};
use sockeye_core::{base64, json, Bytes, Str};

/// Runs `test` on `cases` values of `strategy`; panics with the shrunk input on failure.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Any Unicode string, biased towards short ones and special characters.
fn any_string(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// A string without the polling record separator.
fn string_without_separator(max: usize) -> impl Strategy<Value = String> {
    any_string(max).prop_map(|s| s.replace(payload::SEPARATOR, ""))
}

fn any_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn json_string_literal(s: &str) -> String {
    let mut out = String::new();
    json::write_string(&mut out, s);
    out
}

/// JSON insignificant whitespace, usually none.
fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => "[ \t\n\r]{1,3}",
    ]
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?",
    ]
}

fn json_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        json_number(),
        any_string(12).prop_map(|s| json_string_literal(&s)),
    ]
}

/// Joins `items` into `open ... close` with random whitespace.
fn container(open: char, close: char, items: Vec<(String, String, String)>) -> String {
    let mut out = String::new();
    out.push(open);
    for (i, (before, item, after)) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&before);
        out.push_str(&item);
        out.push_str(&after);
    }
    out.push(close);
    out
}

/// Any JSON value (raw text), nested a few levels, with random whitespace inside.
fn json_value() -> impl Strategy<Value = String> {
    json_scalar().prop_recursive(4, 48, 6, |inner| {
        let array_item = (ws(), inner.clone(), ws());
        let member =
            (ws(), any_string(8), ws(), ws(), inner, ws()).prop_map(|(a, k, b, c, v, d)| {
                (a, format!("{}{b}:{c}{v}", json_string_literal(&k)), d)
            });
        prop_oneof![
            vec(array_item, 0..6).prop_map(|items| container('[', ']', items)),
            vec(member, 0..6).prop_map(|items| container('{', '}', items)),
        ]
    })
}

fn json_array() -> impl Strategy<Value = String> {
    vec((ws(), json_value(), ws()), 0..5).prop_map(|items| container('[', ']', items))
}

fn json_object() -> impl Strategy<Value = String> {
    let member = (any_string(8), json_value()).prop_map(|(k, v)| {
        (
            String::new(),
            format!("{}:{v}", json_string_literal(&k)),
            String::new(),
        )
    });
    vec(member, 0..5).prop_map(|items| container('{', '}', items))
}

const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Event data: an array whose first element is a (non-reserved) string name or a number.
fn event_data() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => any_string(12)
            .prop_filter("reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()))
            .prop_map(|s| json_string_literal(&s)),
        1 => json_number(),
    ];
    (name, vec((ws(), json_value(), ws()), 0..4)).prop_map(|(name, rest)| {
        let mut items = vec![(String::new(), name, String::new())];
        items.extend(rest);
        container('[', ']', items)
    })
}

fn handshake() -> impl Strategy<Value = Handshake> {
    (
        any_string(24),
        vec(any_string(10), 0..3),
        any::<u64>(),
        any::<u64>(),
        any::<usize>(),
    )
        .prop_map(
            |(sid, upgrades, interval, timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval: Duration::from_millis(interval),
                ping_timeout: Duration::from_millis(timeout),
                max_payload,
            },
        )
}

/// Any Engine.IO packet; text data is drawn by `text`.
fn engine_packet<T>(text: impl Fn() -> T) -> impl Strategy<Value = engine::Packet>
where
    T: Strategy<Value = String> + 'static,
{
    use engine::Packet;
    prop_oneof![
        1 => handshake().prop_map(|h| Packet::Open(Box::new(h))),
        1 => Just(Packet::Close),
        1 => text().prop_map(|s| Packet::Ping(Str::from(s))),
        1 => text().prop_map(|s| Packet::Pong(Str::from(s))),
        4 => text().prop_map(|s| Packet::Message(Message::Text(Str::from(s)))),
        4 => any_bytes(64).prop_map(|b| Packet::Message(Message::Binary(Bytes::from(b)))),
        1 => Just(Packet::Upgrade),
        1 => Just(Packet::Noop),
    ]
}

/// A namespace that survives encoding: `/` or `/` followed by anything but a comma.
fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("/admin".to_string()),
        any_string(12).prop_map(|s| format!("/{}", s.replace(',', ""))),
    ]
}

/// Any well-formed Socket.IO packet with its attachments.
fn socket_packet() -> impl Strategy<Value = socket::Packet> {
    let ty = prop_oneof![
        Just(PacketType::Connect),
        Just(PacketType::Disconnect),
        Just(PacketType::Event),
        Just(PacketType::Ack),
        Just(PacketType::ConnectError),
        Just(PacketType::BinaryEvent),
        Just(PacketType::BinaryAck),
    ];
    let any_data = (
        proptest::option::of(json_object()),
        prop_oneof![
            json_object(),
            any_string(16).prop_map(|s| json_string_literal(&s))
        ],
        event_data(),
        json_array(),
    );
    (
        ty,
        namespace(),
        proptest::option::of(any::<u64>()),
        any_data,
        vec(any_bytes(32).prop_map(Bytes::from), 0..4),
    )
        .prop_map(|(ty, nsp, id, (connect, error, event, ack), attachments)| {
            let (id, data) = match ty {
                PacketType::Connect => (None, connect),
                PacketType::Disconnect => (None, None),
                PacketType::ConnectError => (None, Some(error)),
                PacketType::Event | PacketType::BinaryEvent => (id, Some(event)),
                PacketType::Ack | PacketType::BinaryAck => (id.or(Some(0)), Some(ack)),
            };
            socket::Packet {
                ty,
                nsp: Str::from(nsp),
                id,
                data: data.map(Str::from),
                attachments: if ty.is_binary() {
                    attachments
                } else {
                    Vec::new()
                },
            }
        })
}

/// One edit of a string: insert, delete or replace a character, or truncate.
#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Characters that matter to the codecs, plus anything.
    let ch = prop_oneof![
        3 => prop::sample::select(vec![
            '0', '1', '2', '5', '6', '9', '-', '/', ',', '[', ']', '{', '}', '"', '\\', ':', 'b',
            'u', 'e', '.', ' ', '\u{1e}', '\0', '=',
        ]),
        1 => any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(s: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for m in mutations {
        let n = chars.len();
        match *m {
            Mutation::Insert(i, c) => chars.insert(i % (n + 1), c),
            Mutation::Delete(i) if n > 0 => {
                chars.remove(i % n);
            }
            Mutation::Replace(i, c) if n > 0 => chars[i % n] = c,
            Mutation::Truncate(i) => chars.truncate(i % (n + 1)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------

#[test]
fn base64_round_trip() {
    check(512, any_bytes(200), |data| {
        let enc = base64::encode(&data);
        prop_assert_eq!(enc.len(), data.len().div_ceil(3) * 4);
        prop_assert_eq!(base64::decode(&enc), Ok(data.clone()));
        // Padding is optional.
        prop_assert_eq!(base64::decode(enc.trim_end_matches('=')), Ok(data));
        Ok(())
    });
}

#[test]
fn json_write_then_parse_string() {
    check(512, any_string(64), |s| {
        let lit = json_string_literal(&s);
        prop_assert_eq!(json::validate(&lit), Ok(()));
        prop_assert_eq!(json::kind(&lit), Some(json::Kind::String));
        prop_assert_eq!(json::parse_string(&lit), Ok(s));
        Ok(())
    });
}

#[test]
fn json_generated_values_are_valid() {
    check(256, (ws(), json_value(), ws()), |(a, v, b)| {
        let s = format!("{a}{v}{b}");
        prop_assert_eq!(json::validate(&s), Ok(()));
        prop_assert_eq!(json::skip_value(&s, 0), Ok(a.len() + v.len()));
        prop_assert!(json::kind(&s).is_some());
        Ok(())
    });
}

#[test]
fn json_array_elements_round_trip() {
    check(256, vec(json_value(), 0..6), |items| {
        let s = format!("[ {} ]", items.join(" ,\n"));
        let elements = json::array_elements(&s);
        prop_assert_eq!(
            elements,
            Ok(items.iter().map(String::as_str).collect::<Vec<_>>())
        );
        Ok(())
    });
}

#[test]
fn json_object_members_round_trip() {
    check(256, vec((any_string(8), json_value()), 0..6), |members| {
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{} : {v}", json_string_literal(k)))
            .collect();
        let s = format!("{{{}}}", body.join(","));
        let parsed = json::object_members(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.len(), members.len());
        for ((k, v), (pk, pv)) in members.iter().zip(parsed) {
            prop_assert_eq!(k, &pk);
            prop_assert_eq!(v.as_str(), pv);
        }
        Ok(())
    });
}

#[test]
fn json_u64_round_trip() {
    check(512, any::<u64>(), |n| {
        prop_assert_eq!(json::parse_u64(&n.to_string()), Some(n));
        let too_big = u128::from(n) + u128::from(u64::MAX) + 1;
        prop_assert_eq!(json::parse_u64(&too_big.to_string()), None);
        Ok(())
    });
}

#[test]
fn handshake_round_trip() {
    check(256, handshake(), |h| {
        prop_assert_eq!(Handshake::from_json(&h.to_json()), Ok(h));
        Ok(())
    });
}

#[test]
fn engine_packet_frame_round_trip() {
    check(512, engine_packet(|| any_string(48)), |p| {
        let frame = p.encode_frame();
        let is_binary = matches!(p, engine::Packet::Message(Message::Binary(_)));
        prop_assert_eq!(matches!(frame, engine::Frame::Binary(_)), is_binary);
        prop_assert_eq!(engine::Packet::decode_frame(frame), Ok(p));
        Ok(())
    });
}

#[test]
fn engine_packet_text_form_round_trip() {
    check(512, engine_packet(|| any_string(48)), |p| {
        let mut text = String::new();
        p.encode_text_into(&mut text);
        prop_assert_eq!(engine::Packet::decode_text(Str::from(text)), Ok(p));
        Ok(())
    });
}

#[test]
fn payload_round_trip() {
    let packets = vec(engine_packet(|| string_without_separator(32)), 1..8);
    check(512, packets, |packets| {
        let body = payload::encode(&packets);
        let len = body.len();
        prop_assert_eq!(payload::decode(Str::from(body.clone()), len), Ok(packets));
        prop_assert_eq!(
            payload::decode(Str::from(body), len - 1),
            Err(engine::DecodeError::TooLarge {
                size: len,
                max: len - 1
            })
        );
        Ok(())
    });
}

#[test]
fn socket_packet_round_trip_through_decoder() {
    check(512, socket_packet(), |p| {
        let messages = parser::encode(&p);
        prop_assert_eq!(messages.len(), 1 + p.attachments.len());
        let mut decoder = Decoder::new(parser::DEFAULT_MAX_ATTACHMENTS);
        let mut out = None;
        for (i, m) in messages.into_iter().enumerate() {
            prop_assert!(out.is_none(), "packet complete before message {}", i);
            out = decoder
                .decode(m)
                .map_err(|e| TestCaseError::fail(format!("{e} for {:?}", p.encode())))?;
        }
        prop_assert!(!decoder.is_awaiting_attachments());
        prop_assert_eq!(out.as_ref(), Some(&p));
        if matches!(p.ty, PacketType::Event | PacketType::BinaryEvent) {
            let first = json::array_elements(p.data.as_deref().unwrap_or(""))
                .map_err(|e| TestCaseError::fail(e.to_string()))?[0];
            prop_assert_eq!(p.event_name(), json::parse_string(first).ok());
        }
        Ok(())
    });
}

#[test]
fn socket_packets_in_sequence() {
    check(128, vec(socket_packet(), 1..6), |packets| {
        let mut decoder = Decoder::default();
        let mut decoded = Vec::new();
        for p in &packets {
            for m in parser::encode(p) {
                if let Some(p) = decoder
                    .decode(m)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                {
                    decoded.push(p);
                }
            }
        }
        prop_assert_eq!(decoded, packets);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Malformed input: errors, never panics
// ---------------------------------------------------------------------------------------

/// Feeds `text` to every text decoder, checking the invariants that hold whatever it is.
fn feed_everything(text: &str) -> Result<(), TestCaseError> {
    let s = Str::from(text);

    // JSON scanner.
    let valid = json::validate(text).is_ok();
    if valid {
        prop_assert!(json::kind(text).is_some());
        let end = json::skip_value(text, 0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(text[end..].bytes().all(|c| b" \t\n\r".contains(&c)));
    }
    for pos in [0, 1, text.len() / 2, text.len(), text.len() + 1] {
        if let Ok(end) = json::skip_value(text, pos) {
            prop_assert!(end > pos && end <= text.len());
        }
    }
    if json::array_elements(text).is_ok() || json::object_members(text).is_ok() {
        prop_assert!(valid);
    }
    if let Ok(decoded) = json::parse_string(text) {
        prop_assert!(valid);
        prop_assert_eq!(
            json::parse_string(&json_string_literal(&decoded)),
            Ok(decoded)
        );
    }
    if let Some(n) = json::parse_u64(text) {
        prop_assert_eq!(n.to_string(), text.trim_matches(|c| " \t\n\r".contains(c)));
    }
    let _ = Handshake::from_json(text);
    if let Ok(bytes) = base64::decode(text) {
        prop_assert_eq!(base64::decode(&base64::encode(&bytes)), Ok(bytes));
    }

    // Engine.IO: anything that decodes re-encodes to something that decodes the same.
    if let Ok(p) = engine::Packet::decode_text(s.clone()) {
        let mut again = String::new();
        p.encode_text_into(&mut again);
        prop_assert_eq!(engine::Packet::decode_text(Str::from(again)), Ok(p));
    }
    for max in [0, text.len() / 2, text.len(), usize::MAX] {
        match payload::decode(s.clone(), max) {
            Ok(packets) => {
                prop_assert!(text.len() <= max && !packets.is_empty());
                let again = payload::encode(&packets);
                prop_assert_eq!(payload::decode(Str::from(again), usize::MAX), Ok(packets));
            }
            Err(engine::DecodeError::TooLarge { size, max: m }) => {
                prop_assert!(size == text.len() && m == max && size > max);
            }
            Err(_) => prop_assert!(text.len() <= max),
        }
    }

    // Socket.IO: likewise, with the announced attachments.
    if let Ok((mut p, count)) = socket::Packet::decode(s.clone()) {
        prop_assert!(count == 0 || p.ty.is_binary());
        let _ = p.event_name();
        if count <= 64 {
            p.attachments = vec![Bytes::new(); count];
            let (mut again, again_count) = socket::Packet::decode(p.encode())
                .map_err(|e| TestCaseError::fail(format!("{e}: re-encoded {:?}", p.encode())))?;
            prop_assert_eq!(again_count, count);
            again.attachments = p.attachments.clone();
            prop_assert_eq!(again, p);
        }
    }
    let mut decoder = Decoder::new(3);
    let r = decoder.decode_text(s.clone());
    prop_assert_eq!(decoder.is_awaiting_attachments(), matches!(r, Ok(None)));
    for _ in 0..4 {
        let _ = decoder.decode_binary(Bytes::from_static(b"x"));
    }
    prop_assert!(!decoder.is_awaiting_attachments());
    Ok(())
}

#[test]
fn random_strings_never_panic() {
    check(1024, any_string(64), |s| feed_everything(&s));
}

#[test]
fn random_bytes_never_panic() {
    check(1024, any_bytes(64), |bytes| {
        let bytes = Bytes::from(bytes);
        let _ = engine::Packet::decode_binary(bytes.clone());
        let mut decoder = Decoder::default();
        prop_assert_eq!(
            decoder.decode_binary(bytes.clone()),
            Err(socket::ParseError::UnexpectedBinary)
        );
        if let Ok(s) = Str::from_utf8(bytes) {
            feed_everything(&s)?;
        }
        Ok(())
    });
}

#[test]
fn mutated_engine_packets_never_panic() {
    let input = (engine_packet(|| any_string(24)), vec(mutation(), 1..4));
    check(1024, input, |(p, mutations)| {
        let mut text = String::new();
        p.encode_text_into(&mut text);
        feed_everything(&mutate(&text, &mutations))
    });
}

#[test]
fn mutated_payloads_never_panic() {
    let input = (
        vec(engine_packet(|| string_without_separator(16)), 1..5),
        vec(mutation(), 1..4),
    );
    check(512, input, |(packets, mutations)| {
        feed_everything(&mutate(&payload::encode(&packets), &mutations))
    });
}

#[test]
fn mutated_socket_packets_never_panic() {
    check(
        1024,
        (socket_packet(), vec(mutation(), 1..4)),
        |(p, mutations)| feed_everything(&mutate(&p.encode(), &mutations)),
    );
}

#[test]
fn mutated_json_never_panics() {
    check(
        1024,
        (json_value(), vec(mutation(), 1..4)),
        |(v, mutations)| feed_everything(&mutate(&v, &mutations)),
    );
}

#[test]
fn random_message_streams_never_panic() {
    let message = prop_oneof![
        socket_packet().prop_map(|p| Message::Text(p.encode())),
        (socket_packet(), vec(mutation(), 1..3))
            .prop_map(|(p, m)| Message::Text(Str::from(mutate(&p.encode(), &m)))),
        any_bytes(8).prop_map(|b| Message::Binary(Bytes::from(b))),
    ];
    check(256, (0usize..4, vec(message, 0..12)), |(max, messages)| {
        let mut decoder = Decoder::new(max);
        for m in messages {
            let is_binary = matches!(m, Message::Binary(_));
            let awaiting = decoder.is_awaiting_attachments();
            match decoder.decode(m) {
                Ok(Some(p)) => prop_assert!(p.attachments.len() <= max),
                Ok(None) => prop_assert!(decoder.is_awaiting_attachments()),
                Err(socket::ParseError::UnexpectedBinary) => {
                    prop_assert!(is_binary && !awaiting)
                }
                Err(socket::ParseError::UnexpectedText(_)) => prop_assert!(!is_binary && awaiting),
                Err(_) => prop_assert!(!is_binary),
            }
        }
        Ok(())
    });
}

#[test]
fn deep_nesting_never_overflows() {
    let input = (
        prop::sample::select(vec!['[', '{']),
        0usize..2000,
        any_string(4),
    );
    check(64, input, |(open, depth, tail)| {
        let unit = if open == '[' { "[" } else { "{\"k\":" };
        let text = format!("{}{tail}", unit.repeat(depth));
        let r = json::validate(&text);
        if depth > json::MAX_DEPTH {
            prop_assert_eq!(r, Err(json::JsonError::TooDeep));
        }
        feed_everything(&format!("2{text}"))?;
        feed_everything(&text)
    });
}

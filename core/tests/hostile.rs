//! Hostile input: bodies of `max_payload` (1,000,000) bytes in the worst shapes we know of
//! (many tiny packets, many CONNECTs, deep or wide JSON, long strings full of escapes, many
//! attachments, many base64 packets) decode with the expected results, in time linear in their
//! size.
//!
//! Every shape is decoded by the tests below (natively and on wasm32, debug or release), which
//! check what comes out. Decoding time is checked only in release builds on native targets
//! (`cargo test --release -p sockeye-core --test hostile`), with a bound far above what linear
//! decoding needs and far below what quadratic decoding took (seconds per body): a debug build's
//! speed varies too much to time anything in it. `decode_times` (ignored) prints the figures:
//! `cargo test --release -p sockeye-core --test hostile -- --ignored --nocapture decode_times`.

use sockeye_core::engine::packet::{Message, Packet as EioPacket};
use sockeye_core::engine::payload;
use sockeye_core::engine::server::{self as engine, Machine};
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::json::{self, JsonError, MAX_DEPTH};
use sockeye_core::socket::packet::{Packet, PacketError};
use sockeye_core::socket::server::{self as sio, Connection, Event};
use sockeye_core::{Instant, Str};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The default `max_payload`: the largest polling body a session decodes.
const MAX: usize = 1_000_000;

fn t0() -> Instant {
    Instant::from_millis(0)
}

/// `unit` repeated, joined by the record separator, as many times as fits in `MAX` bytes
/// together with `head` and `tail`. Returns the body and the repeat count.
fn body(head: &str, unit: &str, tail: &str) -> (String, usize) {
    let room = MAX - head.len() - tail.len();
    let n = (room + 1) / (unit.len() + 1);
    let mut s = String::with_capacity(MAX);
    s.push_str(head);
    for i in 0..n {
        if i > 0 {
            s.push('\x1e');
        }
        s.push_str(unit);
    }
    s.push_str(tail);
    assert!(s.len() <= MAX);
    (s, n)
}

/// A polling connection past its handshake.
fn polling() -> Connection {
    let mut conn = Connection::new(
        "sid",
        Transport::Polling,
        engine::Config::default(),
        sio::Config::default(),
        t0(),
    );
    conn.handle_poll_get(t0()).unwrap();
    while conn.poll_transmit().is_some() {}
    conn
}

/// A polling connection whose client joined `/`.
fn joined() -> Connection {
    let mut conn = polling();
    conn.handle_poll_post(t0(), Str::from("40")).unwrap();
    assert!(matches!(conn.poll_event(), Some(Event::Connect { .. })));
    conn.accept("/", "s1", None).unwrap();
    conn
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Posts `body` and returns the events it produced.
fn post(conn: &mut Connection, body: String) -> Vec<Event> {
    let _ = conn.handle_poll_post(t0(), Str::from(body));
    events(conn)
}

/// A shape of hostile input: `prepare` builds the input (not timed) and returns the decoding
/// (timed), which checks its results.
struct Shape {
    name: &'static str,
    prepare: fn() -> Box<dyn FnOnce()>,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "1 MB of one-byte packets (payload::decode)",
        prepare: || {
            let (b, n) = body("", "6", "");
            assert_eq!(n, 500_000);
            Box::new(move || {
                let packets = payload::decode(Str::from(b), MAX).unwrap();
                assert_eq!(packets.len(), n);
                assert!(packets.iter().all(|p| *p == EioPacket::Noop));
            })
        },
    },
    Shape {
        name: "1 MB of one-byte packets (Connection)",
        prepare: || {
            let (b, _) = body("", "6", "");
            let conn = polling();
            Box::new(move || {
                let mut conn = conn;
                assert_eq!(post(&mut conn, b), []);
                assert!(!conn.session().is_closed());
            })
        },
    },
    Shape {
        name: "1 MB of two-byte text messages (payload::decode)",
        prepare: || {
            let (b, n) = body("", "4x", "");
            Box::new(move || {
                let packets = payload::decode(Str::from(b), MAX).unwrap();
                assert_eq!(packets.len(), n);
                assert!(packets
                    .iter()
                    .all(|p| *p == EioPacket::Message(Message::Text(Str::from_static("x")))));
            })
        },
    },
    Shape {
        name: "60,000 CONNECTs (Connection)",
        prepare: || {
            let b = (0..60_000)
                .map(|i| format!("40/n{i},"))
                .collect::<Vec<_>>()
                .join("\x1e");
            assert!(b.len() <= MAX);
            let conn = polling();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.len(), 60_000);
                for (i, e) in ev.iter().enumerate() {
                    let Event::Connect { nsp, auth: None } = e else {
                        panic!("{e:?}")
                    };
                    assert_eq!(*nsp, *format!("/n{i}"));
                }
                // Each can be answered.
                conn.reject("/n59999", "no", None);
                conn.accept("/n0", "s0", None).unwrap();
                assert!(conn.is_connected("/n0"));
            })
        },
    },
    Shape {
        name: "1 MB of CONNECTs to one namespace (Connection)",
        prepare: || {
            let (b, _) = body("", "40/a,", "");
            let conn = polling();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(
                    ev,
                    [Event::Connect {
                        nsp: Str::from("/a"),
                        auth: None
                    }]
                );
            })
        },
    },
    Shape {
        name: "1 MB of tiny events (Connection)",
        prepare: || {
            let (b, n) = body("", "42[1]", "");
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.len(), n);
                assert!(matches!(&ev[n - 1], Event::Event { name, .. } if name == "1"));
            })
        },
    },
    Shape {
        name: "1 MB of `[` (Connection, over the depth limit)",
        prepare: || {
            let b = format!("42{}", "[".repeat(MAX - 2));
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.last(), Some(&Event::Closed(CloseReason::ParseError)));
            })
        },
    },
    Shape {
        name: "1 MB of `[` (json::validate)",
        prepare: || {
            let s = "[".repeat(MAX);
            Box::new(move || assert_eq!(json::validate(&s), Err(JsonError::TooDeep)))
        },
    },
    Shape {
        name: "1 MB of nesting at the depth limit, many times (Connection)",
        prepare: || {
            let deep = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
            let (b, n) = body("42[\"e\",", &deep, "]");
            // One packet: the separators between the elements become commas.
            let b = b.replace('\x1e', ",");
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                let [Event::Event { name, args, .. }] = &ev[..] else {
                    panic!("{ev:?}")
                };
                assert_eq!(name, "e");
                assert_eq!(json::array_elements(args).unwrap().len(), n);
            })
        },
    },
    Shape {
        name: "1 MB wide array (Connection)",
        prepare: || {
            let (b, n) = body("42[\"e\",", "0", "]");
            let b = b.replace('\x1e', ",");
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                let [Event::Event { args, .. }] = &ev[..] else {
                    panic!("{ev:?}")
                };
                assert_eq!(args.len(), 2 * n + 1);
            })
        },
    },
    Shape {
        name: "1 MB wide object (Connection)",
        prepare: || {
            let (b, n) = body("42[\"e\",{", "\"\":0", "}]");
            let b = b.replace('\x1e', ",");
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                let [Event::Event { args, .. }] = &ev[..] else {
                    panic!("{ev:?}")
                };
                let obj = &json::array_elements(args).unwrap()[0];
                assert_eq!(json::object_members(obj).unwrap().len(), n);
            })
        },
    },
    Shape {
        name: "1 MB event name of escapes (Connection)",
        prepare: || {
            let n = (MAX - 8) / 2;
            let b = format!("42[\"{}\"]", "\\\"".repeat(n));
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                let [Event::Event { name, .. }] = &ev[..] else {
                    panic!("{ev:?}")
                };
                assert_eq!(name.len(), n);
                assert!(name.bytes().all(|c| c == b'"'));
            })
        },
    },
    Shape {
        name: "1 MB string argument of \\u escapes (Connection)",
        prepare: || {
            let n = (MAX - 12) / 6;
            let b = format!("42[\"e\",\"{}\"]", "\\u0041".repeat(n));
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                let [Event::Event { args, .. }] = &ev[..] else {
                    panic!("{ev:?}")
                };
                let arg = json::array_elements(args).unwrap()[0];
                assert_eq!(json::parse_string(arg).unwrap().len(), n);
            })
        },
    },
    Shape {
        name: "1 MB of ACKs, 20,000 of them awaited (Connection)",
        prepare: || {
            let mut conn = joined();
            for _ in 0..10 {
                for _ in 0..2_000 {
                    let data = Str::from_static("[\"e\"]");
                    conn.emit_with_ack(t0(), "/", data, vec![], None).unwrap();
                }
                conn.handle_poll_get(t0()).unwrap();
                while conn.poll_transmit().is_some() {}
            }
            // Each awaited id once, oldest first, then unknown ids.
            let mut b = (0..20_000)
                .map(|id| format!("43{id}[]"))
                .collect::<Vec<_>>()
                .join("\x1e");
            while b.len() + 14 <= MAX {
                b.push_str("\x1e4399999999[]");
            }
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.len(), 20_000);
                assert!(matches!(ev[19_999], Event::Ack { id: 19_999, .. }));
            })
        },
    },
    Shape {
        name: "1 MB of binary events with an attachment each (Connection)",
        prepare: || {
            let (b, n) = body(
                "",
                "451-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1ebAQ==",
                "",
            );
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.len(), n);
                let Event::Event { attachments, .. } = &ev[n - 1] else {
                    panic!("{:?}", ev[n - 1])
                };
                assert_eq!(attachments[..], [&[1u8][..]]);
            })
        },
    },
    Shape {
        name: "1 MB of binary events with the most attachments (Connection)",
        prepare: || {
            let max = sio::Config::default().max_attachments;
            let placeholders: Vec<String> = (0..max)
                .map(|i| format!("{{\"_placeholder\":true,\"num\":{i}}}"))
                .collect();
            let mut unit = format!("45{max}-[\"e\",{}]", placeholders.join(","));
            for _ in 0..max {
                unit.push_str("\x1eb");
            }
            let (b, n) = body("", &unit, "");
            let conn = joined();
            Box::new(move || {
                let mut conn = conn;
                let ev = post(&mut conn, b);
                assert_eq!(ev.len(), n);
                assert!(
                    matches!(&ev[0], Event::Event { attachments, .. } if attachments.len() == max)
                );
            })
        },
    },
    Shape {
        name: "1 MB of `b` base64 packets (payload::decode)",
        prepare: || {
            let (b, n) = body("", "bAA==", "");
            Box::new(move || {
                let packets = payload::decode(Str::from(b), MAX).unwrap();
                assert_eq!(packets.len(), n);
            })
        },
    },
    Shape {
        name: "one 1 MB `b` base64 packet (payload::decode)",
        prepare: || {
            let b = format!("b{}", "A".repeat((MAX - 1) / 4 * 4));
            Box::new(move || {
                let packets = payload::decode(Str::from(b), MAX).unwrap();
                let [EioPacket::Message(Message::Binary(bin))] = &packets[..] else {
                    panic!()
                };
                assert_eq!(bin.len(), (MAX - 1) / 4 * 3);
            })
        },
    },
    Shape {
        name: "one 1 MB namespace (socket Packet::decode)",
        prepare: || {
            let s = format!("0/{}", "n".repeat(MAX - 2));
            Box::new(move || {
                let (p, _) = Packet::decode(Str::from(s)).unwrap();
                assert_eq!(p.nsp.len(), MAX - 1);
            })
        },
    },
    Shape {
        name: "1 MB of digits as ack id (socket Packet::decode)",
        prepare: || {
            let s = format!("3{}[]", "1".repeat(MAX - 3));
            Box::new(move || {
                assert_eq!(Packet::decode(Str::from(s)), Err(PacketError::IllegalId));
            })
        },
    },
];

fn shape(name: &str) -> &'static Shape {
    SHAPES
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"))
}

fn run(name: &str) {
    (shape(name).prepare)()();
}

#[test]
fn tiny_packets() {
    run("1 MB of one-byte packets (payload::decode)");
    run("1 MB of one-byte packets (Connection)");
    run("1 MB of two-byte text messages (payload::decode)");
}

#[test]
fn many_connects() {
    run("60,000 CONNECTs (Connection)");
    run("1 MB of CONNECTs to one namespace (Connection)");
}

#[test]
fn many_events() {
    run("1 MB of tiny events (Connection)");
    run("1 MB of ACKs, 20,000 of them awaited (Connection)");
}

#[test]
fn deep_and_wide_json() {
    run("1 MB of `[` (Connection, over the depth limit)");
    run("1 MB of `[` (json::validate)");
    run("1 MB of nesting at the depth limit, many times (Connection)");
    run("1 MB wide array (Connection)");
    run("1 MB wide object (Connection)");
}

#[test]
fn long_strings_with_escapes() {
    run("1 MB event name of escapes (Connection)");
    run("1 MB string argument of \\u escapes (Connection)");
}

#[test]
fn many_attachments_and_base64() {
    run("1 MB of binary events with an attachment each (Connection)");
    run("1 MB of binary events with the most attachments (Connection)");
    run("1 MB of `b` base64 packets (payload::decode)");
    run("one 1 MB `b` base64 packet (payload::decode)");
}

#[test]
fn long_headers() {
    run("one 1 MB namespace (socket Packet::decode)");
    run("1 MB of digits as ack id (socket Packet::decode)");
}

/// How long the decoding of `shape` takes (the fastest of `runs`).
#[cfg(not(target_arch = "wasm32"))]
fn time(shape: &Shape, runs: usize) -> std::time::Duration {
    (0..runs)
        .map(|_| {
            let decode = (shape.prepare)();
            let start = std::time::Instant::now();
            decode();
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// Release builds only: every shape decodes within a bound that linear decoding meets many
/// times over (it takes a few milliseconds) and quadratic decoding misses by far (seconds).
#[cfg(all(not(debug_assertions), not(target_arch = "wasm32")))]
#[test]
fn every_shape_decodes_in_linear_time() {
    const BOUND: std::time::Duration = std::time::Duration::from_millis(250);
    for shape in SHAPES {
        let took = time(shape, 3);
        assert!(took < BOUND, "{}: {took:?} (bound {BOUND:?})", shape.name);
    }
}

/// Prints the decoding time of every shape: the fastest of `HOSTILE_RUNS` runs (default 5).
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "a benchmark: run with --release -- --ignored --nocapture"]
fn decode_times() {
    let runs = std::env::var("HOSTILE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    // `HOSTILE_SHAPE`: only the shapes whose name contains it.
    let only = std::env::var("HOSTILE_SHAPE").unwrap_or_default();
    for shape in SHAPES.iter().filter(|s| s.name.contains(&only)) {
        let took = time(shape, runs);
        println!("{:>10.3} ms  {}", took.as_secs_f64() * 1e3, shape.name);
    }
}

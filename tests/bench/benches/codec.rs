//! Codec micro-benchmarks: time and allocations per operation (divan's `AllocProfiler`),
//! Sockeye's core next to socketioxide's parser on the same packets.
//!
//!   cargo bench -p sockeye-bench --bench codec
//!
//! Run on a quiet machine; divan prints the median time, and allocations (count and bytes)
//! per iteration.

use bytes::Bytes;
use divan::{black_box, AllocProfiler, Bencher};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_parser_common::CommonParser;
use sockeye_core::engine::packet::Packet as EnginePacket;
use sockeye_core::engine::payload;
use sockeye_core::socket::parser::{self, Decoder};
use sockeye_core::socket::Packet;
use sockeye_core::Str;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// The demo's `chat` event as a client sends it.
const CHAT: &str =
    r#"2["chat",{"room":"room1","text":"hello, this is a chat message of some length"}]"#;
/// The same, as the server broadcasts it (arguments only).
const CHAT_ARGS: &str = r#"["chat",{"room":"room1","from":"0123456789abcdefghij","text":"hello, this is a chat message of some length"}]"#;
/// A binary event with one attachment, then the attachment.
const BINARY: &str = r#"51-["bin",{"_placeholder":true,"num":0}]"#;

mod sockeye {
    use super::*;

    /// A text frame to an event packet (with its attachments, if any): what a server does
    /// with each client event.
    #[divan::bench]
    fn decode_event(b: Bencher) {
        let text = Str::from(CHAT.to_owned());
        b.bench_local(|| {
            let mut d = Decoder::new(10);
            let p = d.decode_text(black_box(text.clone())).unwrap().unwrap();
            black_box(p.event_name())
        });
    }

    #[divan::bench]
    fn decode_binary_event(b: Bencher) {
        let text = Str::from(BINARY.to_owned());
        let att = Bytes::from(vec![7u8; 1024]);
        b.bench_local(|| {
            let mut d = Decoder::new(10);
            assert!(d.decode_text(black_box(text.clone())).unwrap().is_none());
            black_box(d.decode_binary(att.clone()).unwrap().unwrap())
        });
    }

    /// An event to the messages sent (once per broadcast, whatever the recipients): the
    /// argument serialised (serde_json, as `Payload::one` does), then the packet encoded.
    #[divan::bench]
    fn encode_event(b: Bencher) {
        let value: serde_json::Value = serde_json::from_str(CHAT_ARGS).unwrap();
        let data = value[1].clone();
        b.bench_local(|| {
            let args = serde_json::to_string(&("chat", black_box(&data))).unwrap();
            let p = Packet::event(Str::from_static("/"), Str::from(args), None, Vec::new());
            black_box(parser::encode(&p))
        });
    }

    /// A polling body of 256 one-byte packets (one slice of the server's loop).
    #[divan::bench]
    fn decode_polling_slice(b: Bencher) {
        let body = Str::from(vec!["6"; 256].join("\x1e"));
        b.bench_local(|| black_box(payload::decode(black_box(body.clone()), 1_000_000).unwrap()));
    }

    /// An Engine.IO text message frame.
    #[divan::bench]
    fn decode_engine_message(b: Bencher) {
        let text = Str::from(format!("4{CHAT}"));
        b.bench_local(|| black_box(EnginePacket::decode_text(black_box(text.clone())).unwrap()));
    }
}

mod socketioxide {
    use super::*;

    #[divan::bench]
    fn decode_event(b: Bencher) {
        let (cfg, parser) = (ParseConfig::default(), CommonParser);
        b.bench_local(|| {
            let state = ParserState::default();
            let text = socketioxide_core::Str::from(CHAT.to_owned());
            let p = parser.decode_str(&cfg, &state, black_box(text)).unwrap();
            // The event name, as socketioxide reads it to route the event (its decoder
            // does not look into the JSON; ours validates all of it).
            let socketioxide_core::packet::PacketData::Event(v, _) = &p.inner else {
                unreachable!()
            };
            black_box(parser.read_event(v).unwrap().len());
            black_box(p)
        });
    }

    #[divan::bench]
    fn decode_binary_event(b: Bencher) {
        let (cfg, parser) = (ParseConfig::default(), CommonParser);
        let att = Bytes::from(vec![7u8; 1024]);
        b.bench_local(|| {
            let state = ParserState::default();
            let text = socketioxide_core::Str::from(BINARY.to_owned());
            assert!(parser.decode_str(&cfg, &state, text).is_err());
            black_box(parser.decode_bin(&cfg, &state, att.clone()).unwrap())
        });
    }

    #[divan::bench]
    fn encode_event(b: Bencher) {
        let parser = CommonParser;
        let value: serde_json::Value = serde_json::from_str(CHAT_ARGS).unwrap();
        let data = value[1].clone();
        b.bench_local(|| {
            let v = parser.encode_value(black_box(&data), Some("chat")).unwrap();
            let p = socketioxide_core::packet::Packet::event("/", v);
            black_box(parser.encode(p))
        });
    }
}

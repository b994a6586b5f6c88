//! What [`Manager::drain`](crate::Manager::drain) returns: the core's transmits, the timer
//! and the core's events, as records in one byte buffer that `js/index.js` reads in order.
//! This is the binding's own format between the wasm and its JS half, not a protocol: every
//! Engine.IO/Socket.IO byte inside it (bodies, frames, JSON) comes from the core unchanged.
//!
//! A record is its tag (one byte), then its fields: `n` a number (f64, little-endian),
//! `s` a UTF-8 string and `r` raw bytes (each a u32 length, little-endian, then the bytes),
//! `b` binary attachments (a u32 count, then each as `r`).
//!
//! | tag | record | fields |
//! |---|---|---|
//! | 0 | polling `GET` (handshake if `sid` is empty) | `n` generation, `s` sid |
//! | 1 | polling `POST` | `n` generation, `s` sid, `s` body |
//! | 2 | open a WebSocket (handshake if `sid` is empty, else an upgrade probe) | `n` generation, `s` sid |
//! | 3 | send a text frame | `s` |
//! | 4 | send a binary frame | `r` |
//! | 5 | close the WebSocket | |
//! | 6 | re-arm the timer: fire in `n` ms (-1: stop it) | `n` delay |
//! | 7 | event: the connection opened | |
//! | 8 | event: the server pinged | |
//! | 9 | event: moved to WebSocket | |
//! | 10 | event: the connection closed | `s` reason |
//! | 11 | event: the connection could not open | `s` why: `timeout`, `parse error`, or empty (the transport's failure) |
//! | 12 | event: a namespace connected | `s` nsp, `s` sid, `n` recovered (0/1) |
//! | 13 | event: a namespace could not connect | `s` nsp, `n` 1 if the server refused (then `s` is its raw JSON) else 0 (then `s` is as in 11), `s` |
//! | 14 | event: a namespace disconnected | `s` nsp, `s` reason (socket.io-client's) |
//! | 15 | event: an event from the server | `s` nsp, `s` JSON array, `b` attachments, `n` ack id (-1: none) |
//! | 16 | event: an ack arrived | `s` nsp, `n` id, `s` JSON array, `b` attachments |
//! | 17 | event: an ack will not come | `s` nsp, `n` id, `n` 1: timed out, 0: disconnected |
//! | 18 | event: an emit buffered offline was sent | `s` nsp, `s` JSON array, `b` attachments |
//! | 19 | event: a reconnection attempt starts | `n` attempt |
//! | 20 | event: reconnected | `n` attempts |
//! | 21 | event: a reconnection attempt failed | |
//! | 22 | event: reconnection gave up | |
//! | 23 | event: `nsp` is about to send `CONNECT`: answer with `provideAuth` | `s` nsp |

use alloc::vec::Vec;
use sockeye_core::engine::client::Transmit;
use sockeye_core::engine::{CloseReason, Frame};
use sockeye_core::socket::client::{AckFailure, ConnectError, Event};
use sockeye_core::{Bytes, Str};

/// A buffer of records.
#[derive(Debug, Default)]
pub struct Records {
    buf: Vec<u8>,
}

impl Records {
    /// Takes the records written so far.
    pub fn take(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.buf)
    }

    fn tag(&mut self, tag: u8) -> &mut Self {
        self.buf.push(tag);
        self
    }

    fn n(&mut self, n: f64) -> &mut Self {
        self.buf.extend_from_slice(&n.to_le_bytes());
        self
    }

    fn s(&mut self, s: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(s);
        self
    }

    fn b(&mut self, list: &[Bytes]) -> &mut Self {
        self.buf
            .extend_from_slice(&(list.len() as u32).to_le_bytes());
        for b in list {
            self.s(b);
        }
        self
    }

    /// A transmit of session generation `generation`.
    pub fn transmit(&mut self, generation: u64, t: &Transmit) {
        let g = generation as f64;
        match t {
            Transmit::PollGet { sid } => self.tag(0).n(g).s(or_empty(sid)),
            Transmit::PollPost { sid, body } => {
                self.tag(1).n(g).s(sid.as_bytes()).s(body.as_bytes())
            }
            Transmit::WsOpen { sid } => self.tag(2).n(g).s(or_empty(sid)),
            Transmit::Ws(Frame::Text(t)) => self.tag(3).s(t.as_bytes()),
            Transmit::Ws(Frame::Binary(b)) => self.tag(4).s(b),
            Transmit::CloseWs => self.tag(5),
            _ => self,
        };
    }

    /// The timer's new delay (ms), if it is to run.
    pub fn timer(&mut self, delay: Option<u64>) {
        self.tag(6).n(delay.map_or(-1.0, |d| d as f64));
    }

    /// An event. By reference: the caller drops it whole (one `drop_in_place::<Event>`, not
    /// each arm dropping the fields it moved out).
    pub fn event(&mut self, e: &Event) {
        match e {
            Event::Open => self.tag(7),
            Event::Ping => self.tag(8),
            Event::Upgrade => self.tag(9),
            Event::Close(reason) => self.tag(10).s(reason.as_str().as_bytes()),
            Event::OpenFailed(error) => self.tag(11).s(open_error(error).as_bytes()),
            Event::Connect {
                nsp,
                sid,
                recovered,
            } => self
                .tag(12)
                .s(nsp.as_bytes())
                .s(sid.as_bytes())
                .n(f64::from(u8::from(*recovered))),
            Event::ConnectError { nsp, error } => {
                self.tag(13).s(nsp.as_bytes());
                match error {
                    ConnectError::Server(raw) => self.n(1.0).s(raw.as_bytes()),
                    _ => self.n(0.0).s(open_error(error).as_bytes()),
                }
            }
            Event::Disconnect { nsp, reason } => {
                self.tag(14).s(nsp.as_bytes()).s(reason.as_str().as_bytes())
            }
            Event::Event {
                nsp,
                data,
                attachments,
                id,
            } => self
                .tag(15)
                .s(nsp.as_bytes())
                .s(data.as_bytes())
                .b(attachments)
                .n(id.map_or(-1.0, |id| id as f64)),
            Event::Ack {
                nsp,
                id,
                data,
                attachments,
            } => self
                .tag(16)
                .s(nsp.as_bytes())
                .n(*id as f64)
                .s(data.as_bytes())
                .b(attachments),
            Event::AckFailed { nsp, id, reason } => self
                .tag(17)
                .s(nsp.as_bytes())
                .n(*id as f64)
                .n(f64::from(u8::from(*reason == AckFailure::Timeout))),
            Event::Sent {
                nsp,
                data,
                attachments,
            } => self
                .tag(18)
                .s(nsp.as_bytes())
                .s(data.as_bytes())
                .b(attachments),
            Event::ReconnectAttempt(n) => self.tag(19).n(f64::from(*n)),
            Event::Reconnect(n) => self.tag(20).n(f64::from(*n)),
            Event::ReconnectError => self.tag(21),
            Event::ReconnectFailed => self.tag(22),
            Event::AuthRequest { nsp } => self.tag(23).s(nsp.as_bytes()),
            _ => self,
        };
    }
}

fn or_empty(s: &Option<Str>) -> &[u8] {
    s.as_deref().unwrap_or("").as_bytes()
}

/// Why a connection could not open, when the core knows; empty when the transport failed
/// (the JS side, which did the I/O, says how).
fn open_error(error: &ConnectError) -> &'static str {
    match error {
        ConnectError::Timeout => "timeout",
        ConnectError::Transport(CloseReason::ParseError) => "parse error",
        _ => "",
    }
}

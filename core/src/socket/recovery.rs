//! Connection state recovery (Socket.IO v4.6 semantics), server side, for one namespace.
//!
//! With recovery on, each socket gets a private id (`pid`) in its CONNECT, every packet sent
//! to a room (a broadcast, or an emit to the socket's own room) carries an offset as its last
//! argument and is kept for `max_disconnection_duration`, and a socket that lost its
//! connection (not one that left on purpose) is remembered as long. A client reconnecting
//! with `{pid, offset}` in its auth gets its socket id and rooms back and receives the packets
//! it missed.
//!
//! The [`Store`] is sans-IO like the rest of the core: `now` is an argument of every call,
//! and the random part of the offsets comes from the caller.

use crate::json;
use crate::socket::server::DisconnectReason;
use crate::{Instant, Str};
use bytes::Bytes;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};

/// Which sockets a stored packet was for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// Sockets in any of these rooms; every socket if empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// Minus these sockets.
    pub except_sids: Vec<Str>,
}

impl Target {
    /// Whether the packet reached socket `sid`, a member of `rooms`.
    pub fn reaches(&self, sid: &str, rooms: &[String]) -> bool {
        let in_rooms = self.rooms.is_empty() || self.rooms.iter().any(|r| rooms.contains(r));
        let excluded = self.except.iter().any(|r| rooms.contains(r))
            || self.except_sids.iter().any(|s| s.as_str() == sid);
        in_rooms && !excluded
    }
}

/// A packet kept for replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPacket {
    /// Its offset (the last argument of `data`).
    pub offset: Str,
    /// Who it was for.
    pub target: Target,
    /// The event data `["name", ...args, offset]`.
    pub data: Str,
    /// Binary attachments.
    pub attachments: Vec<Bytes>,
    at: Instant,
}

/// A socket whose connection was lost.
#[derive(Debug)]
struct Saved {
    sid: Str,
    rooms: Vec<String>,
    at: Instant,
}

/// What a successful recovery gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The socket's id, as before.
    pub sid: Str,
    /// Its rooms, as before (its own included).
    pub rooms: Vec<String>,
    /// The packets it was to receive after its last offset, in order.
    pub missed: Vec<StoredPacket>,
}

/// Bounds of a [`Store`], on top of its `max_age`: past one, the oldest entries are dropped
/// first (a packet dropped early cannot be replayed: a client whose offset it was then
/// reconnects as a new socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most packets kept (default 100,000).
    pub max_packets: usize,
    /// Most bytes of packets kept: event data plus attachments (default 32 MiB).
    pub max_bytes: usize,
    /// Most lost sockets remembered (default 100,000).
    pub max_saved: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packets: 100_000,
            max_bytes: 32 << 20,
            max_saved: 100_000,
        }
    }
}

impl Limits {
    /// Limits with the given bounds.
    pub fn new(max_packets: usize, max_bytes: usize, max_saved: usize) -> Limits {
        Limits {
            max_packets,
            max_bytes,
            max_saved,
        }
    }
}

/// The recovery state of one namespace: lost sockets and recent packets, both expiring
/// after `max_age` and bounded by [`Limits`].
#[derive(Debug)]
pub struct Store {
    max_age: Duration,
    limits: Limits,
    prefix: Str,
    next: u64,
    sessions: HashMap<Str, Saved>,
    packets: VecDeque<StoredPacket>,
    /// Bytes of `packets`.
    bytes: usize,
    /// Entries dropped early to stay within `limits`.
    evicted: u64,
}

fn packet_size(p: &StoredPacket) -> usize {
    p.data.len() + p.attachments.iter().map(Bytes::len).sum::<usize>()
}

impl Store {
    /// A store keeping state for `max_age`; `prefix` (random, from the caller) starts every
    /// offset, so offsets of different stores or processes do not collide.
    pub fn new(max_age: Duration, prefix: impl Into<Str>) -> Store {
        Store::with_limits(max_age, prefix, Limits::default())
    }

    /// A store keeping state for `max_age` within `limits`.
    pub fn with_limits(max_age: Duration, prefix: impl Into<Str>, limits: Limits) -> Store {
        Store {
            max_age,
            limits,
            prefix: prefix.into(),
            next: 0,
            sessions: HashMap::new(),
            packets: VecDeque::new(),
            bytes: 0,
            evicted: 0,
        }
    }

    /// Bytes of the packets currently kept (event data plus attachments).
    pub fn stored_bytes(&self) -> usize {
        self.bytes
    }

    /// How many entries (packets or lost sockets) were dropped before their time to stay
    /// within the limits, since the store was made.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Drops what expired by `now`; `true` if nothing is left (no packets, no lost sockets).
    pub fn prune_idle(&mut self, now: Instant) -> bool {
        self.prune(now);
        self.packets.is_empty() && self.sessions.is_empty()
    }

    /// Whether a lost socket is still remembered (after dropping the expired ones).
    pub fn has_saved_sockets(&mut self, now: Instant) -> bool {
        self.prune(now);
        !self.sessions.is_empty()
    }

    /// How long state is kept.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Packets currently kept.
    pub fn stored_packets(&self) -> usize {
        self.packets.len()
    }

    /// Sockets currently remembered.
    pub fn saved_sockets(&self) -> usize {
        self.sessions.len()
    }

    fn expired(&self, at: Instant, now: Instant) -> bool {
        now.saturating_duration_since(at) > self.max_age
    }

    fn prune(&mut self, now: Instant) {
        while let Some(p) = self.packets.front() {
            if !self.expired(p.at, now) {
                break;
            }
            self.pop_packet();
        }
        let max_age = self.max_age;
        self.sessions
            .retain(|_, s| now.saturating_duration_since(s.at) <= max_age);
    }

    fn pop_packet(&mut self) {
        if let Some(p) = self.packets.pop_front() {
            self.bytes -= packet_size(&p);
        }
    }

    /// Appends a new offset to `data` (an event array `["name", ...]`), keeps the packet for
    /// `target`, and returns the data to send.
    pub fn record(
        &mut self,
        now: Instant,
        data: &str,
        attachments: &[Bytes],
        target: Target,
    ) -> Str {
        self.prune(now);
        self.next += 1;
        let mut offset = String::with_capacity(self.prefix.len() + 8);
        offset.push_str(&self.prefix);
        offset.push('-');
        crate::decimal::push(&mut offset, self.next);
        let data = with_offset(data, &offset);
        let packet = StoredPacket {
            offset: Str::from(offset),
            target,
            data: data.clone(),
            attachments: attachments.to_vec(),
            at: now,
        };
        self.bytes += packet_size(&packet);
        self.packets.push_back(packet);
        // Oldest first; a packet bigger than `max_bytes` is not kept at all.
        while !self.packets.is_empty()
            && (self.packets.len() > self.limits.max_packets || self.bytes > self.limits.max_bytes)
        {
            self.pop_packet();
            self.evicted += 1;
        }
        data
    }

    /// Remembers socket `sid` of private id `pid`, in `rooms`, that left for `reason` — if
    /// the reason allows recovery ([`DisconnectReason::is_recoverable`]).
    pub fn save(
        &mut self,
        now: Instant,
        pid: &str,
        sid: Str,
        rooms: Vec<String>,
        reason: DisconnectReason,
    ) {
        if !reason.is_recoverable() {
            return;
        }
        self.prune(now);
        let pid = Str::from(pid);
        if !self.sessions.contains_key(&pid) {
            while !self.sessions.is_empty() && self.sessions.len() >= self.limits.max_saved {
                // The oldest goes (a scan, only when full).
                let oldest = self
                    .sessions
                    .iter()
                    .min_by_key(|(_, s)| s.at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.sessions.remove(&k);
                    self.evicted += 1;
                }
            }
            if self.limits.max_saved == 0 {
                self.evicted += 1;
                return;
            }
        }
        self.sessions.insert(
            pid,
            Saved {
                sid,
                rooms,
                at: now,
            },
        );
    }

    /// Restores the socket of `pid`, with the packets after `offset` it was to receive.
    /// Fails (and forgets nothing) if the pid is unknown or expired, or the offset is no
    /// longer kept.
    pub fn restore(&mut self, now: Instant, pid: &str, offset: &str) -> Option<Recovered> {
        self.prune(now);
        let pos = self.packets.iter().position(|p| p.offset == offset)?;
        let saved = self.sessions.remove(pid)?;
        let missed = self
            .packets
            .iter()
            .skip(pos + 1)
            .filter(|p| p.target.reaches(&saved.sid, &saved.rooms))
            .cloned()
            .collect();
        Some(Recovered {
            sid: saved.sid,
            rooms: saved.rooms,
            missed,
        })
    }
}

/// `pid` and `offset` from a CONNECT's auth object, if both are strings.
pub fn parse_auth(auth: &str) -> Option<(String, String)> {
    let mut pid = None;
    let mut offset = None;
    for (k, v) in json::object_members(auth).ok()? {
        match k.as_str() {
            "pid" => pid = json::parse_string(v).ok(),
            "offset" => offset = json::parse_string(v).ok(),
            _ => {}
        }
    }
    Some((pid?, offset?))
}

/// `["ev",1]` + offset → `["ev",1,"offset"]`.
fn with_offset(data: &str, offset: &str) -> Str {
    let trimmed = data.trim_end();
    let body = trimmed.strip_suffix(']').unwrap_or(trimmed);
    let mut out = String::with_capacity(data.len() + offset.len() + 4);
    out.push_str(body);
    out.push(',');
    json::write_string(&mut out, offset);
    out.push(']');
    Str::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn room(r: &str) -> Target {
        Target {
            rooms: vec![r.into()],
            ..Target::default()
        }
    }

    /// The offset `record` appended to `data`.
    fn offset_of(data: &str) -> String {
        let (_, last) = data.rsplit_once(',').unwrap();
        json::parse_string(last.trim_end_matches(']')).unwrap()
    }

    #[test]
    fn offsets_are_appended_and_replayed_to_matching_sockets() {
        let mut store = Store::new(Duration::from_secs(60), "p");
        let first = store.record(t(0), r#"["a"]"#, &[], Target::default());
        assert_eq!(first, r#"["a","p-1"]"#);
        let off = offset_of(&first);
        store.record(t(1), r#"["b",1]"#, &[], room("r"));
        store.record(t(2), r#"["c"]"#, &[], room("other"));
        store.save(
            t(3),
            "pid1",
            Str::from("sid1"),
            vec!["r".into()],
            DisconnectReason::TransportClose,
        );
        let r = store.restore(t(4), "pid1", &off).unwrap();
        assert_eq!(r.sid, "sid1");
        assert_eq!(r.rooms, vec!["r".to_string()]);
        let missed: Vec<&str> = r.missed.iter().map(|p| p.data.as_str()).collect();
        assert_eq!(missed, vec![r#"["b",1,"p-2"]"#]);
        // Used up.
        assert!(store.restore(t(5), "pid1", &off).is_none());
    }

    #[test]
    fn deliberate_disconnects_are_not_saved_but_lost_connections_are() {
        let mut store = Store::new(Duration::from_secs(60), "p");
        let off = offset_of(&store.record(t(0), r#"["a"]"#, &[], Target::default()));
        store.save(
            t(1),
            "p",
            Str::from("s"),
            vec![],
            DisconnectReason::ClientNamespaceDisconnect,
        );
        store.save(
            t(1),
            "q",
            Str::from("s2"),
            vec![],
            DisconnectReason::ServerNamespaceDisconnect,
        );
        assert_eq!(store.saved_sockets(), 0);
        assert!(store.restore(t(2), "p", &off).is_none());
        store.save(
            t(2),
            "r",
            Str::from("s3"),
            vec![],
            DisconnectReason::PingTimeout,
        );
        assert_eq!(store.saved_sockets(), 1);
        // An unknown offset fails and forgets nothing.
        assert!(store.restore(t(3), "r", "unknown").is_none());
        assert_eq!(
            store.restore(t(3), "r", &off).map(|r| r.sid),
            Some(Str::from("s3"))
        );
    }

    #[test]
    fn state_expires_after_max_age() {
        let mut store = Store::new(Duration::from_millis(100), "p");
        let off = offset_of(&store.record(t(0), r#"["a"]"#, &[], Target::default()));
        store.save(
            t(0),
            "pid",
            Str::from("sid"),
            vec![],
            DisconnectReason::TransportClose,
        );
        assert!(store.restore(t(101), "pid", &off).is_none());
        assert_eq!(store.stored_packets(), 0);
        assert_eq!(store.saved_sockets(), 0);
    }

    #[test]
    fn excluded_rooms_and_sockets_are_not_replayed() {
        let mut store = Store::new(Duration::from_secs(60), "x");
        let off = offset_of(&store.record(t(0), r#"["a"]"#, &[], Target::default()));
        let except_room = Target {
            except: vec!["r".into()],
            ..Target::default()
        };
        let except_me = Target {
            except_sids: vec![Str::from("sid")],
            ..Target::default()
        };
        store.record(t(1), r#"["b"]"#, &[], except_room);
        store.record(t(1), r#"["c"]"#, &[], except_me);
        store.record(
            t(1),
            r#"["d"]"#,
            &[Bytes::from_static(b"\x01")],
            Target::default(),
        );
        store.save(
            t(2),
            "pid",
            Str::from("sid"),
            vec!["r".into()],
            DisconnectReason::TransportClose,
        );
        let r = store.restore(t(3), "pid", &off).unwrap();
        assert_eq!(r.missed.len(), 1);
        assert_eq!(r.missed[0].data, r#"["d","x-4"]"#);
        assert_eq!(r.missed[0].attachments, vec![Bytes::from_static(b"\x01")]);
    }

    #[test]
    fn packets_beyond_the_count_or_byte_cap_drop_oldest_first() {
        let mut store = Store::with_limits(Duration::from_secs(60), "p", Limits::new(3, 1_000, 10));
        let first = offset_of(&store.record(t(0), r#"["a"]"#, &[], Target::default()));
        for i in 1..5 {
            store.record(t(i), r#"["b"]"#, &[], Target::default());
        }
        assert_eq!(store.stored_packets(), 3);
        assert_eq!(store.evicted(), 2);
        // The first offset is gone: no recovery from it.
        store.save(
            t(5),
            "pid",
            Str::from("s"),
            vec![],
            DisconnectReason::TransportClose,
        );
        assert!(store.restore(t(6), "pid", &first).is_none());

        let mut store = Store::with_limits(Duration::from_secs(60), "p", Limits::new(100, 40, 10));
        store.record(
            t(0),
            r#"["a"]"#,
            &[Bytes::from(vec![0u8; 20])],
            Target::default(),
        );
        store.record(
            t(1),
            r#"["b"]"#,
            &[Bytes::from(vec![0u8; 20])],
            Target::default(),
        );
        assert_eq!(store.stored_packets(), 1);
        assert!(store.stored_bytes() <= 40);
        // Too big on its own: not kept.
        store.record(
            t(2),
            r#"["c"]"#,
            &[Bytes::from(vec![0u8; 50])],
            Target::default(),
        );
        assert_eq!((store.stored_packets(), store.stored_bytes()), (0, 0));
        assert_eq!(store.evicted(), 3);
    }

    #[test]
    fn lost_sockets_beyond_the_cap_drop_oldest_first() {
        let mut store = Store::with_limits(Duration::from_secs(60), "p", Limits::new(10, 1_000, 2));
        let off = offset_of(&store.record(t(0), r#"["a"]"#, &[], Target::default()));
        for (i, pid) in ["a", "b", "c"].into_iter().enumerate() {
            store.save(
                t(i as u64),
                pid,
                Str::from(pid),
                vec![],
                DisconnectReason::TransportClose,
            );
        }
        assert_eq!(store.saved_sockets(), 2);
        assert!(store.restore(t(4), "a", &off).is_none());
        assert!(store.restore(t(4), "c", &off).is_some());
        assert!(!store.prune_idle(t(4)));
        assert!(store.prune_idle(t(70_000)));
    }

    #[test]
    fn auth_carries_pid_and_offset() {
        assert_eq!(
            parse_auth(r#"{"pid":"a","offset":"b","x":1}"#),
            Some(("a".into(), "b".into()))
        );
        assert_eq!(parse_auth(r#"{"pid":"a"}"#), None);
        assert_eq!(parse_auth(r#"{"pid":1,"offset":"b"}"#), None);
        assert_eq!(parse_auth("[]"), None);
    }
}

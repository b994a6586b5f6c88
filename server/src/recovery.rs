//! Connection state recovery (Socket.IO v4.6 semantics): with it on, each socket gets a
//! private id (`pid`) in its CONNECT, every broadcast event carries an offset as its last
//! argument and is kept for `max_disconnection_duration`, and a socket that lost its
//! connection (not one that left on purpose) is remembered as long. A client reconnecting
//! with `{pid, offset}` in its auth gets its socket id and rooms back, skips the middlewares,
//! and receives the packets it missed.
//!
//! The store is per namespace and in memory (one server process).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sockeye_core::{json, Str};

use crate::adapter::BroadcastOptions;
use crate::socket::DisconnectReason;

/// A broadcast kept for replay.
#[derive(Clone)]
pub(crate) struct StoredPacket {
    pub offset: String,
    pub opts: BroadcastOptions,
    /// The event data with the offset appended.
    pub data: Str,
    pub attachments: Vec<Bytes>,
    at: Instant,
}

/// A socket whose connection was lost.
struct Saved {
    sid: Str,
    rooms: Vec<String>,
    at: Instant,
}

/// What a successful recovery gives back.
pub(crate) struct Recovered {
    pub sid: Str,
    pub rooms: Vec<String>,
    pub missed: Vec<StoredPacket>,
}

pub(crate) struct Store {
    max_age: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Saved>,
    packets: VecDeque<StoredPacket>,
    next: u64,
}

impl Store {
    pub fn new(max_age: Duration) -> Store {
        Store {
            max_age,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn prune(&self, inner: &mut Inner, now: Instant) {
        while inner
            .packets
            .front()
            .is_some_and(|p| now.duration_since(p.at) > self.max_age)
        {
            inner.packets.pop_front();
        }
        inner
            .sessions
            .retain(|_, s| now.duration_since(s.at) <= self.max_age);
    }

    /// Appends an offset to `data` (an event array), stores the packet and returns the new
    /// data.
    pub fn record(&self, data: &str, attachments: &[Bytes], opts: &BroadcastOptions) -> Str {
        let now = Instant::now();
        let mut inner = self.lock();
        self.prune(&mut inner, now);
        inner.next += 1;
        let offset = format!("{}-{}", crate::sid::generate(), inner.next);
        let data = with_offset(data, &offset);
        inner.packets.push_back(StoredPacket {
            offset,
            opts: opts.clone(),
            data: data.clone(),
            attachments: attachments.to_vec(),
            at: now,
        });
        data
    }

    /// Remembers a socket that lost its connection, if `reason` allows recovery.
    pub fn save(&self, pid: &str, sid: Str, rooms: Vec<String>, reason: DisconnectReason) {
        if matches!(
            reason,
            DisconnectReason::ClientNamespaceDisconnect
                | DisconnectReason::ServerNamespaceDisconnect
        ) {
            return;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        self.prune(&mut inner, now);
        inner.sessions.insert(
            pid.to_owned(),
            Saved {
                sid,
                rooms,
                at: now,
            },
        );
    }

    /// Restores the socket of `pid`, with the packets after `offset` it was to receive.
    /// Fails (and forgets nothing) if the pid is unknown or expired, or the offset is no
    /// longer stored.
    pub fn restore(&self, pid: &str, offset: &str) -> Option<Recovered> {
        let now = Instant::now();
        let mut inner = self.lock();
        self.prune(&mut inner, now);
        let pos = inner.packets.iter().position(|p| p.offset == offset)?;
        let saved = inner.sessions.remove(pid)?;
        let missed = inner
            .packets
            .iter()
            .skip(pos + 1)
            .filter(|p| targets(&p.opts, &saved.sid, &saved.rooms))
            .cloned()
            .collect();
        Some(Recovered {
            sid: saved.sid,
            rooms: saved.rooms,
            missed,
        })
    }
}

/// Whether a broadcast with `opts` reached socket `sid` in `rooms`.
fn targets(opts: &BroadcastOptions, sid: &Str, rooms: &[String]) -> bool {
    let in_rooms = opts.rooms.is_empty() || opts.rooms.iter().any(|r| rooms.contains(r));
    let excluded = opts.except.iter().any(|r| rooms.contains(r)) || opts.except_sids.contains(sid);
    in_rooms && !excluded
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

/// `pid` and `offset` from a CONNECT's auth object, if both are strings.
pub(crate) fn parse_auth(auth: &str) -> Option<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_appended_and_replayed_to_matching_sockets() {
        let store = Store::new(Duration::from_secs(60));
        let to_r = BroadcastOptions {
            rooms: vec!["r".into()],
            ..Default::default()
        };
        let first = store.record(r#"["a"]"#, &[], &BroadcastOptions::default());
        let (_, off) = first.as_str().split_once(',').unwrap();
        let off: String = serde_json::from_str(off.trim_end_matches(']')).unwrap();
        store.record(r#"["b",1]"#, &[], &to_r);
        store.record(
            r#"["c"]"#,
            &[],
            &BroadcastOptions {
                rooms: vec!["other".into()],
                ..Default::default()
            },
        );
        store.save(
            "pid1",
            Str::from("sid1"),
            vec!["r".into()],
            DisconnectReason::TransportClose,
        );
        let r = store.restore("pid1", &off).unwrap();
        assert_eq!(r.sid, "sid1");
        assert_eq!(r.missed.len(), 1);
        assert!(r.missed[0].data.starts_with(r#"["b",1,""#));
        // Used up.
        assert!(store.restore("pid1", &off).is_none());
    }

    #[test]
    fn deliberate_disconnects_and_unknown_offsets_are_not_recovered() {
        let store = Store::new(Duration::from_secs(60));
        store.save(
            "p",
            Str::from("s"),
            vec![],
            DisconnectReason::ClientNamespaceDisconnect,
        );
        assert!(store.restore("p", "x").is_none());
        store.save("q", Str::from("s"), vec![], DisconnectReason::PingTimeout);
        assert!(store.restore("q", "unknown").is_none());
        assert_eq!(
            parse_auth(r#"{"pid":"a","offset":"b","x":1}"#),
            Some(("a".into(), "b".into()))
        );
        assert_eq!(parse_auth(r#"{"pid":"a"}"#), None);
    }
}

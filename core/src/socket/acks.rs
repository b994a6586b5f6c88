//! Pending acknowledgements of one namespace socket: id allocation and timeouts, shared by
//! the client and the server side.

use crate::prelude::*;
use crate::Instant;
use core::time::Duration;

/// The acks a socket waits for, each with an optional deadline.
///
/// Every ack packet a peer sends looks its id up here, so [`Acks::resolve`] must not cost
/// the number of pending acks: ids are kept in order (they are allocated in order), found by
/// binary search, and a resolved entry is only marked, the list being compacted once half of
/// it is resolved entries (amortised O(log n) per ack, whatever the ids a peer sends).
#[derive(Debug, Default)]
pub(crate) struct Acks {
    next_id: u64,
    /// Ids with their deadlines, in id (= emission) order, and whether each is still
    /// awaited (`false`: resolved, kept until the next compaction).
    pending: Vec<(u64, Option<Instant>, bool)>,
    /// How many entries of `pending` are resolved.
    resolved: usize,
}

impl Acks {
    /// The id the next [`Acks::register`] will return.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Allocates the next id and waits for its ack, until `now + timeout` if given.
    pub(crate) fn register(&mut self, now: Instant, timeout: Option<Duration>) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pending.push((id, timeout.map(|t| now + t), true));
        id
    }

    /// Stops waiting for `id`; whether it was awaited (a late or unknown ack is not).
    pub(crate) fn resolve(&mut self, id: u64) -> bool {
        // Sorted by id: ids grow by one per register (a u64 does not wrap in practice).
        let Ok(k) = self.pending.binary_search_by_key(&id, |e| e.0) else {
            return false;
        };
        if !core::mem::replace(&mut self.pending[k].2, false) {
            return false;
        }
        self.resolved += 1;
        if self.resolved * 2 > self.pending.len() {
            self.pending.retain(|e| e.2);
            self.resolved = 0;
        }
        true
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // A loop rather than iterator adapters: less code in the wasm client.
        let mut next = None;
        for &(_, deadline, awaited) in &self.pending {
            if awaited {
                next = crate::time::earliest(next, deadline);
            }
        }
        next
    }

    /// Removes and returns the ids whose deadline is at or before `now`, in id order.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<u64> {
        let mut expired = Vec::new();
        self.pending.retain(|&(id, d, awaited)| {
            let due = awaited && d.is_some_and(|d| now >= d);
            if due {
                expired.push(id);
            }
            awaited && !due
        });
        self.resolved = 0;
        expired
    }

    /// Stops waiting for every ack; returns their ids in order.
    pub(crate) fn clear(&mut self) -> Vec<u64> {
        let ids = self.ids();
        self.pending.clear();
        self.resolved = 0;
        ids
    }

    /// Every id still awaited, in order. (A loop into a `Vec`, not an iterator adapter
    /// inlined at each use: less code in the wasm client.)
    pub(crate) fn ids(&self) -> Vec<u64> {
        let mut ids = Vec::new();
        for &(id, _, awaited) in &self.pending {
            if awaited {
                ids.push(id);
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn resolve_expire_and_clear() {
        let t = Instant::from_millis;
        let mut a = Acks::default();
        for k in 0..10 {
            let timeout = (k % 2 == 0).then(|| Duration::from_millis(100 + k));
            assert_eq!(a.register(t(0), timeout), k);
        }
        assert_eq!(a.next_id(), 10);
        // Unknown, then once only.
        assert!(!a.resolve(10));
        assert!(a.resolve(0));
        assert!(!a.resolve(0));
        assert!(a.resolve(3));
        assert_eq!(a.next_deadline(), Some(t(102)));
        // More than half resolved: compacted, nothing else changes.
        for id in [1, 5, 7, 9] {
            assert!(a.resolve(id));
        }
        assert!(!a.resolve(7));
        assert_eq!(a.ids(), [2, 4, 6, 8]);
        assert_eq!(a.expire(t(104)), [2, 4]);
        assert!(!a.resolve(2));
        assert_eq!(a.next_deadline(), Some(t(106)));
        assert!(a.resolve(6));
        assert_eq!(a.next_deadline(), Some(t(108)));
        assert_eq!(a.clear(), [8]);
        assert!(a.ids().is_empty());
        assert_eq!(a.next_deadline(), None);
        assert_eq!(a.register(t(0), None), 10);
    }
}

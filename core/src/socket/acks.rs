//! Pending acknowledgements of one namespace socket: id allocation and timeouts, shared by
//! the client and the server side.

use crate::Instant;
use core::time::Duration;

/// The acks a socket waits for, each with an optional deadline.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    next_id: u64,
    /// Awaited ids with their deadlines, in id (= emission) order.
    pending: Vec<(u64, Option<Instant>)>,
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
        self.pending.push((id, timeout.map(|t| now + t)));
        id
    }

    /// Stops waiting for `id`; whether it was awaited (a late or unknown ack is not).
    pub(crate) fn resolve(&mut self, id: u64) -> bool {
        match self.pending.iter().position(|(i, _)| *i == id) {
            Some(k) => {
                self.pending.remove(k);
                true
            }
            None => false,
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().filter_map(|(_, d)| *d).min()
    }

    /// Removes and returns the ids whose deadline is at or before `now`, in id order.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<u64> {
        let mut expired = Vec::new();
        self.pending.retain(|(id, d)| {
            let due = d.is_some_and(|d| now >= d);
            if due {
                expired.push(*id);
            }
            !due
        });
        expired
    }

    /// Stops waiting for every ack; returns their ids in order.
    pub(crate) fn clear(&mut self) -> Vec<u64> {
        self.pending.drain(..).map(|(id, _)| id).collect()
    }

    /// Every id still awaited, in order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.pending.iter().map(|(id, _)| *id)
    }
}

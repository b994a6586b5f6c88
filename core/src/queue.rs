//! A first-in, first-out queue made of two `Vec`s.
//!
//! The client state machines queue their transmits and events and hand them out one at a time.
//! `VecDeque` does that, but its ring buffer (growth that unwraps the ring, `Drain`, slice
//! ranges), monomorphised for each element type, weighed about 3 KB of the wasm client; two
//! stacks need only `Vec::push` and `Vec::pop`.

use crate::prelude::*;

/// A FIFO queue: pushed at the back, popped at the front, each in amortised O(1).
#[derive(Debug)]
pub(crate) struct Queue<T> {
    /// The oldest items, the next one to pop last.
    front: Vec<T>,
    /// The newest items, in the order they were pushed.
    back: Vec<T>,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            front: Vec::new(),
            back: Vec::new(),
        }
    }
}

impl<T> Queue<T> {
    /// Appends `item` at the back.
    pub(crate) fn push_back(&mut self, item: T) {
        self.back.push(item);
    }

    /// Removes the oldest item. When `front` runs out, `back` becomes it, reversed: every item
    /// is moved once, so popping is amortised O(1) however pushes and pops interleave.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.front.is_empty() {
            // By pops and pushes, not `swap` + `slice::reverse`, whose bounds-check panic path
            // comes along in the wasm client.
            while let Some(item) = self.back.pop() {
                self.front.push(item);
            }
        }
        self.front.pop()
    }

    /// The oldest item.
    pub(crate) fn front(&self) -> Option<&T> {
        self.front.last().or_else(|| self.back.first())
    }

    /// Whether the queue is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.front.is_empty() && self.back.is_empty()
    }

    /// Drops every item.
    pub(crate) fn clear(&mut self) {
        self.front.clear();
        self.back.clear();
    }

    /// Every item, oldest first, leaving the queue empty.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        // Popped one by one: no `slice::reverse` (see `pop_front`).
        let mut all = Vec::new();
        while let Some(item) = self.pop_front() {
            all.push(item);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_first_out_however_pushes_and_pops_interleave() {
        let mut q = Queue::default();
        let mut expected = alloc::collections::VecDeque::new();
        // A fixed pattern of pushes and pops, checked against VecDeque step by step.
        let mut next = 0u32;
        for step in 0..500u32 {
            if step % 3 == 2 || step % 7 == 0 {
                assert_eq!(q.pop_front(), expected.pop_front(), "step {step}");
            } else {
                q.push_back(next);
                expected.push_back(next);
                next += 1;
            }
            assert_eq!(q.front(), expected.front(), "step {step}");
            assert_eq!(q.is_empty(), expected.is_empty(), "step {step}");
        }
        let rest: Vec<u32> = expected.drain(..).collect();
        assert_eq!(q.take_all(), rest);
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
        assert_eq!(q.front(), None);
    }

    #[test]
    fn take_all_keeps_the_order_across_both_halves() {
        let mut q = Queue::default();
        for i in 0..4 {
            q.push_back(i);
        }
        assert_eq!(q.pop_front(), Some(0)); // 1, 2, 3 now in `front`
        q.push_back(4);
        q.push_back(5);
        assert_eq!(q.take_all(), [1, 2, 3, 4, 5]);
        q.push_back(6);
        q.pop_front();
        q.push_back(7);
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
    }
}

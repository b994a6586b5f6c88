//! Caller-supplied time.
//!
//! The core never reads a clock (`std::time::Instant::now()` panics on wasm32); the I/O layer
//! passes the current time in as an [`Instant`] measured from an epoch of its choosing.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time: milliseconds since an arbitrary, caller-chosen epoch.
///
/// Only differences between instants matter, so the epoch may be process start, page load
/// (`performance.now()`), or zero in a simulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// The earlier of two optional instants (`None`: no deadline).
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `d` in whole milliseconds, `u64::MAX` if more. As `u64::try_from(d.as_millis())`, without
/// its 128-bit arithmetic (a multiply call on wasm32).
fn millis(d: Duration) -> u64 {
    let secs = d.as_secs();
    if secs > u64::MAX / 1000 {
        return u64::MAX;
    }
    (secs * 1000).saturating_add(u64::from(d.subsec_millis()))
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(millis(rhs)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn earliest_of_two_deadlines() {
        let (a, b) = (Some(Instant(1)), Some(Instant(2)));
        assert_eq!(earliest(a, b), a);
        assert_eq!(earliest(b, a), a);
        assert_eq!(earliest(None, b), b);
        assert_eq!(earliest(b, None), b);
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn adding_durations_saturates_as_u128_millis_would() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(999_999),
            Duration::from_millis(1_500),
            Duration::new(u64::MAX / 1000, 999_999_999),
            Duration::new(u64::MAX / 1000 + 1, 0),
            Duration::MAX,
        ] {
            let expected = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            assert_eq!(millis(d), expected, "{d:?}");
            assert_eq!(Instant(5) + d, Instant(5u64.saturating_add(expected)));
        }
    }
}

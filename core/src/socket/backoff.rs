//! Reconnection delays: exponential backoff with jitter, as pure functions of the attempt
//! number and a caller-supplied seed (the core draws no randomness of its own).

use core::time::Duration;

/// Backoff settings, with socket.io-client's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Delay before the first attempt (`reconnectionDelay`, default 1 s).
    pub min: Duration,
    /// Upper bound of any delay (`reconnectionDelayMax`, default 5 s).
    pub max: Duration,
    /// Growth per attempt (default 2).
    pub factor: u32,
    /// Relative jitter in `0.0..=1.0` (`randomizationFactor`, default 0.5).
    pub jitter: f64,
    /// Attempts before giving up (`reconnectionAttempts`, default unlimited).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(1000),
            max: Duration::from_millis(5000),
            factor: 2,
            jitter: 0.5,
            max_attempts: u32::MAX,
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0-based), given a uniform random value
    /// `random` in `[0, 1)`: `min * factor^attempt`, moved up or down by up to
    /// `jitter * delay`, capped at `max`. The same inputs always give the same delay.
    pub fn delay_with(&self, attempt: u32, random: f64) -> Duration {
        let min = millis_f64(self.min);
        let max = millis_f64(self.max);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let factor = f64::from(self.factor.max(1));
        let mut ms = min;
        for _ in 0..attempt.min(64) {
            ms *= factor;
        }
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if jitter > 0.0 {
            let deviation = floor(random * jitter * ms);
            // The same coin as socket.io-client: an even tenth goes down, an odd one up.
            if ((random * 10.0) as u64) & 1 == 0 {
                ms -= deviation;
            } else {
                ms += deviation;
            }
        }
        let ms = ms.min(max).max(0.0);
        Duration::from_millis(ms as u64)
    }

    /// The delay before attempt `attempt`, with the random value derived from `seed` and the
    /// attempt number (see [`unit_random`]).
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        self.delay_with(attempt, unit_random(seed, u64::from(attempt)))
    }

    /// Whether attempt `attempt` (0-based) is still allowed.
    pub fn allows(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// `d.as_millis() as f64` (the nearest `f64`, ties to even) without `as_millis`'s `u128`:
/// 128-bit arithmetic and its float conversion (`__multi3`, `__floatuntidf`) in the wasm
/// client. Both parts are exact in an `f64` (each under 2^42), so their sum is rounded once,
/// as the `u128` conversion is.
fn millis_f64(d: Duration) -> f64 {
    let secs = d.as_secs();
    let (hi, lo) = (secs >> 32, secs & 0xFFFF_FFFF);
    (hi * 1000) as f64 * 4_294_967_296.0 + (lo * 1000 + u64::from(d.subsec_millis())) as f64
}

/// `x.floor()` for `x >= 0` (or NaN, which gives 0: the caller's result is the same), without
/// std's float functions (the crate is `no_std` in the wasm client): from 2^52 on every `f64`
/// is an integer.
fn floor(x: f64) -> f64 {
    if x >= 4_503_599_627_370_496.0 {
        x
    } else {
        x as u64 as f64
    }
}

/// A uniform value in `[0, 1)` derived from `seed` and `index` by SplitMix64: a pure
/// function, so a seeded simulation replays exactly.
pub fn unit_random(seed: u64, index: u64) -> f64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 random bits → [0, 1).
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn millis_as_f64_without_u128() {
        for d in [
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_nanos(1_999_999),
            Duration::from_millis(5000),
            Duration::from_millis(u64::from(u32::MAX)),
            Duration::from_millis((1 << 53) + 1),
            Duration::from_millis(u64::MAX),
            Duration::new(u64::MAX / 1000, 999_999_999),
            Duration::new(1 << 32, 0),
            Duration::new((1 << 32) - 1, 999_000_000),
            Duration::new(0x1234_5678_9abc_def1, 123_456_789),
            Duration::MAX,
        ] {
            assert_eq!(millis_f64(d), d.as_millis() as f64, "{d:?}");
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = Duration::new(x >> (x % 64), (x % 1_000_000_000) as u32);
            assert_eq!(millis_f64(d), d.as_millis() as f64, "{d:?}");
        }
    }

    #[test]
    fn grows_exponentially_without_jitter_and_caps() {
        let b = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        let delays: Vec<u64> = (0..5)
            .map(|a| b.delay_with(a, 0.3).as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![1000, 2000, 4000, 5000, 5000]);
    }

    #[test]
    fn jitter_stays_within_bounds_and_goes_both_ways() {
        let b = Backoff {
            max: Duration::from_secs(3600),
            ..Backoff::default()
        };
        let mut below = false;
        let mut above = false;
        for seed in 0..200u64 {
            for attempt in 0..4 {
                let base = 1000u64 << attempt;
                let d = b.delay(attempt, seed).as_millis() as u64;
                assert!(d >= base / 2 && d <= base + base / 2, "{d} vs {base}");
                below |= d < base;
                above |= d > base;
            }
        }
        assert!(below && above);
    }

    #[test]
    fn same_seed_same_delay_and_seeds_differ() {
        let b = Backoff::default();
        assert_eq!(b.delay(2, 42), b.delay(2, 42));
        let distinct: std::collections::BTreeSet<u128> =
            (0..50).map(|s| b.delay(1, s).as_millis()).collect();
        assert!(distinct.len() > 10);
    }

    #[test]
    fn unit_random_is_in_range() {
        for i in 0..1000 {
            let r = unit_random(7, i);
            assert!((0.0..1.0).contains(&r));
        }
    }

    #[test]
    fn hostile_settings_do_not_panic() {
        let b = Backoff {
            min: Duration::from_secs(u64::MAX / 2),
            max: Duration::from_secs(u64::MAX / 2),
            factor: u32::MAX,
            jitter: f64::NAN,
            max_attempts: 0,
        };
        let _ = b.delay(u32::MAX, 1);
        let _ = b.delay_with(3, f64::INFINITY);
        assert!(!b.allows(0));
    }
}

//! Decimal numbers written without `core::fmt`, whose machinery costs the wasm client bytes.

use crate::prelude::*;
use core::num::NonZeroU64;
/// Appends `n` in decimal to `out`: the largest power of ten not above `n` first, then one
/// digit per power. No digit buffer to index and a `NonZeroU64` divisor: no bounds-check or
/// division-by-zero panic in the wasm client.
pub fn push(out: &mut String, n: u64) {
    const TEN: NonZeroU64 = NonZeroU64::MIN.saturating_add(9);
    let mut power = NonZeroU64::MIN;
    // Multiplied only while `power * 10 <= n`: never saturates.
    while n / power >= 10 {
        power = power.saturating_mul(TEN);
    }
    loop {
        out.push_str(digit((n / power % 10) as u8));
        match NonZeroU64::new(power.get() / 10) {
            Some(p) => power = p,
            None => break,
        }
    }
}

/// The decimal digit `d` (0-9; `""` for anything else) as a `&str`: pushed with
/// `String::push_str`, not as a `char` (whose `String::push` carries UTF-8 encoding for any
/// `char`: code in the wasm client).
pub fn digit(d: u8) -> &'static str {
    let d = usize::from(d);
    "0123456789".get(d..d + 1).unwrap_or("")
}

/// The value of the ASCII decimal digits `digits` (`Some(0)` if there are none); `None` if a
/// byte is not a digit or the value does not fit in a `u64`. Leading zeros are the caller's
/// business.
pub fn parse(digits: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        // A comparison, not `checked_mul`: on wasm32 that is a 128-bit multiply.
        if d > 9 || n > u64::MAX / 10 {
            return None;
        }
        n = (n * 10).checked_add(u64::from(d))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decimals_without_fmt() {
        for n in [
            0u64,
            7,
            9,
            10,
            99,
            100,
            12345,
            u64::from(u32::MAX),
            9_999_999_999_999_999_999,
            10_000_000_000_000_000_000,
            u64::MAX,
        ] {
            let mut s = String::from("x");
            super::push(&mut s, n);
            assert_eq!(s, format!("x{n}"));
            assert_eq!(super::parse(n.to_string().as_bytes()), Some(n));
        }
    }

    #[test]
    fn digits_as_str() {
        for d in 0..10u8 {
            assert_eq!(super::digit(d), char::from(b'0' + d).to_string());
        }
        assert_eq!(super::digit(10), "");
        assert_eq!(super::digit(u8::MAX), "");
    }

    #[test]
    fn parse_refuses_non_digits_and_overflow() {
        assert_eq!(super::parse(b""), Some(0));
        assert_eq!(super::parse(b"007"), Some(7));
        for bad in [
            "1a",
            "-1",
            "1.0",
            " 1",
            "/",
            ":",
            "18446744073709551616",
            "99999999999999999999",
        ] {
            assert_eq!(super::parse(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(super::parse(b"18446744073709551615"), Some(u64::MAX));
    }
}

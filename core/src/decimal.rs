//! Decimal numbers written without `core::fmt`, whose machinery costs the wasm client bytes.

use crate::prelude::*;
/// Appends `n` in decimal to `out`.
pub fn push(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
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
        for n in [0u64, 7, 10, 12345, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::from("x");
            super::push(&mut s, n);
            assert_eq!(s, format!("x{n}"));
            assert_eq!(super::parse(n.to_string().as_bytes()), Some(n));
        }
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

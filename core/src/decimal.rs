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
        }
    }
}

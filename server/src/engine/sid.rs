//! Random identifiers: Engine.IO session ids and Socket.IO socket ids.

use std::cell::RefCell;

use sockeye_core::Str;

/// Bytes of one draw from the OS CSPRNG: 273 ids. Node's `base64id` pools 8 KiB the same
/// way; one `getrandom` call per id was a fifth of a connect's cost in ids.
const POOL: usize = 15 * 273;

/// Random bytes not handed out yet, per thread (no lock): `pool[used..]`.
struct Pool {
    bytes: [u8; POOL],
    used: usize,
}

thread_local! {
    static RANDOM: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; POOL], used: POOL }) };
}

/// Fills `out` with bytes from the pool (refilled from the OS when short). Every byte is
/// handed out once: the part taken is zeroed.
fn random(out: &mut [u8; 15]) -> Result<(), getrandom::Error> {
    RANDOM.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + out.len() > POOL {
            getrandom::fill(&mut pool.bytes)?;
            pool.used = 0;
        }
        let start = pool.used;
        let taken = &mut pool.bytes[start..start + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        pool.used += out.len();
        Ok(())
    })
}

/// Draws a 20-character base64url id from 15 CSPRNG bytes, like Node's `base64id`.
///
/// Falls back to a time-and-counter id (logged) only if the OS CSPRNG fails, which on
/// Linux means the process cannot work anyway.
pub(crate) fn generate() -> Str {
    let mut buf = [0u8; 15];
    if let Err(e) = random(&mut buf) {
        tracing::error!("CSPRNG unavailable ({e}); ids are not secret");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        buf.copy_from_slice(&nanos.to_le_bytes()[..15]);
    }
    let mut id = sockeye_core::base64::encode(&buf).into_bytes();
    for b in &mut id {
        match *b {
            b'+' => *b = b'-',
            b'/' => *b = b'_',
            _ => {}
        }
    }
    Str::from(String::from_utf8(id).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_20_url_safe_chars_and_distinct() {
        let a = super::generate();
        let b = super::generate();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        // Across a refill of the pool, still distinct.
        let many: std::collections::HashSet<_> = (0..3 * super::POOL / 15)
            .map(|_| super::generate())
            .collect();
        assert_eq!(many.len(), 3 * super::POOL / 15);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}

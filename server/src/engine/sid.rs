//! Random identifiers: Engine.IO session ids and Socket.IO socket ids.

use sockeye_core::Str;

/// Draws a 20-character base64url id from 15 CSPRNG bytes, like Node's `base64id`.
///
/// Falls back to a time-and-counter id (logged) only if the OS CSPRNG fails, which on
/// Linux means the process cannot work anyway.
pub(crate) fn generate() -> Str {
    let mut buf = [0u8; 15];
    if let Err(e) = getrandom::fill(&mut buf) {
        tracing::error!("CSPRNG unavailable ({e}); ids are not secret");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        buf.copy_from_slice(&nanos.to_le_bytes()[..15]);
    }
    let id: String = sockeye_core::base64::encode(&buf)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    Str::from(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_20_url_safe_chars_and_distinct() {
        let a = super::generate();
        let b = super::generate();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}

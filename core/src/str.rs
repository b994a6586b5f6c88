//! A cheaply clonable UTF-8 string backed by [`Bytes`].

use bytes::Bytes;
use core::fmt;
use core::ops::Deref;

/// An immutable, reference-counted UTF-8 string.
///
/// Cloning is a reference-count increment, so one encoded frame can be shared by every
/// recipient of a broadcast, and handed to a WebSocket library that takes [`Bytes`] without
/// a copy ([`Str::into_bytes`]).
#[derive(Clone, Default)]
pub struct Str(Bytes);

impl Str {
    /// A string from a `'static` literal, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Str(Bytes::from_static(s.as_bytes()))
    }

    /// Validates `bytes` as UTF-8 and wraps them without copying.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, core::str::Utf8Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Str(bytes))
    }

    /// The string slice.
    pub fn as_str(&self) -> &str {
        // Invariant: the bytes were valid UTF-8 when this value was built, and Bytes is
        // immutable. Re-checking keeps `core` free of `unsafe`; it is a fast SIMD scan, and if
        // it ever failed we return "" rather than panic.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The underlying bytes (UTF-8), sharing the same buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// A sub-string sharing the same buffer. `range` must lie on character boundaries of
    /// `self`; otherwise `None`.
    pub fn slice(&self, range: core::ops::Range<usize>) -> Option<Str> {
        let s = self.as_str();
        if range.start > range.end || range.end > s.len() {
            return None;
        }
        if !s.is_char_boundary(range.start) || !s.is_char_boundary(range.end) {
            return None;
        }
        Some(Str(self.0.slice(range)))
    }

    /// A sub-string of `self` given as a `&str` that points into `self` (e.g. obtained
    /// from `self.as_str()` by slicing). `None` if `sub` is not inside `self`.
    pub fn slice_ref(&self, sub: &str) -> Option<Str> {
        let base = self.0.as_ptr() as usize;
        let start = (sub.as_ptr() as usize).checked_sub(base)?;
        self.slice(start..start.checked_add(sub.len())?)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// Equality, order and hash are those of the `str`, so `Str` keys can be looked up by `&str`
// (`Borrow<str>`) in maps and sets.
impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl core::hash::Hash for Str {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl core::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Bytes::from(s))
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Bytes {
        s.0
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

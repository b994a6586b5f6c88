//! A cheaply clonable UTF-8 string: a range of a reference-counted `String`.

use crate::prelude::*;
use alloc::sync::Arc;
use bytes::Bytes;
use core::fmt;
use core::ops::Deref;

/// An immutable, reference-counted UTF-8 string.
///
/// Cloning is a reference-count increment, so one encoded frame can be shared by every
/// recipient of a broadcast, and handed to a WebSocket library that takes [`Bytes`] without
/// a copy ([`Str::into_bytes`]). Sub-strings ([`Str::slice`], [`Str::slice_ref`]) share the
/// buffer too.
///
/// The text is kept as `str` (a `&'static str`, or a range of an `Arc<String>`), so getting
/// the `&str` ([`Str::as_str`], `Deref`) costs O(1): UTF-8 is validated once, when the value
/// is built from bytes ([`Str::from_utf8`]), and never again — without `unsafe`.
#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    /// A literal, or a sub-string of one.
    Static(&'static str),
    /// `buf[start..end]`; both ends lie on character boundaries of `buf`.
    Shared {
        buf: Arc<String>,
        start: usize,
        end: usize,
    },
}

impl Default for Str {
    fn default() -> Self {
        Str::from_static("")
    }
}

impl Str {
    /// A string from a `'static` literal, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Str(Repr::Static(s))
    }

    /// Validates `bytes` as UTF-8 (once: never again for this value or its sub-strings) and
    /// wraps them, without copying when `bytes` is the only handle to a buffer it owns (as a
    /// body or frame just received usually is); otherwise the bytes are copied once.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, core::str::Utf8Error> {
        String::from_utf8(Vec::from(bytes))
            .map(Str::from)
            .map_err(|e| e.utf8_error())
    }

    /// The string slice. O(1).
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            // Invariant: `start..end` lies on character boundaries of `buf`, which never
            // changes; `get` only checks that (O(1)), and "" is unreachable.
            Repr::Shared { buf, start, end } => buf.get(*start..*end).unwrap_or(""),
        }
    }

    /// The underlying bytes (UTF-8), sharing the same buffer: no copy of the text, whatever
    /// `self` is (a literal, a whole buffer or a sub-string of one).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Static(s) => Bytes::from_static(s.as_bytes()),
            Repr::Shared { buf, start, end } => {
                // The common case (a frame just encoded): the only handle to a whole buffer
                // hands the buffer over as it is.
                if start == 0 && end == buf.len() {
                    match Arc::try_unwrap(buf) {
                        Ok(s) => Bytes::from(s),
                        Err(buf) => Bytes::from_owner(Owner { buf, start, end }),
                    }
                } else {
                    Bytes::from_owner(Owner { buf, start, end })
                }
            }
        }
    }

    /// The text as a `String`, without a copy, when `self` is the only handle to a whole
    /// buffer (a frame just encoded usually is); otherwise `Err(self)`. For a WebSocket
    /// library that takes an owned `String` as text it need not validate again.
    pub fn try_into_string(self) -> Result<String, Str> {
        match self.0 {
            Repr::Shared { buf, start, end } if start == 0 && end == buf.len() => {
                Arc::try_unwrap(buf).map_err(|buf| Str(Repr::Shared { buf, start, end }))
            }
            repr => Err(Str(repr)),
        }
    }

    /// A sub-string sharing the same buffer. `range` must lie on character boundaries of
    /// `self`; otherwise `None`. O(1).
    pub fn slice(&self, range: core::ops::Range<usize>) -> Option<Str> {
        // `get` checks the order, the bounds and the character boundaries.
        Some(Str(match &self.0 {
            Repr::Static(s) => Repr::Static(s.get(range)?),
            Repr::Shared { buf, start, end } => {
                let whole = buf.get(*start..*end)?;
                whole.get(range.clone())?;
                Repr::Shared {
                    buf: buf.clone(),
                    start: start + range.start,
                    end: start + range.end,
                }
            }
        }))
    }

    /// A sub-string of `self` given as a `&str` that points into `self` (e.g. obtained
    /// from `self.as_str()` by slicing). `None` if `sub` is not inside `self`. O(1).
    pub fn slice_ref(&self, sub: &str) -> Option<Str> {
        let base = self.as_str().as_ptr() as usize;
        let start = (sub.as_ptr() as usize).checked_sub(base)?;
        self.slice(start..start.checked_add(sub.len())?)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Static(s) => s.len(),
            Repr::Shared { start, end, .. } => end - start,
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The owner of the bytes of a shared sub-string handed out as [`Bytes`].
struct Owner {
    buf: Arc<String>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for Owner {
    fn as_ref(&self) -> &[u8] {
        self.buf.as_bytes().get(self.start..self.end).unwrap_or(&[])
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
        self.as_str().as_bytes()
    }
}

impl From<String> for Str {
    /// Takes the `String` over without copying it.
    fn from(s: String) -> Self {
        if s.is_empty() {
            return Str::default();
        }
        Str(Repr::Shared {
            start: 0,
            end: s.len(),
            buf: Arc::new(s),
        })
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str::from(String::from(s))
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Bytes {
        s.into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn slices_share_the_buffer() {
        for s in [Str::from_static("a€bc"), Str::from("a€bc")] {
            let sub = s.slice(1..5).unwrap();
            assert_eq!(sub, "€b");
            assert_eq!(sub.as_ptr(), s[1..].as_ptr());
            assert_eq!(sub.len(), 4);
            // A slice of a slice is relative to it.
            let subsub = sub.slice(3..4).unwrap();
            assert_eq!(subsub, "b");
            assert_eq!(subsub.as_ptr(), s[4..].as_ptr());
            assert_eq!(sub.slice_ref(&sub[3..]).unwrap(), "b");
            // Not on character boundaries, out of bounds, reversed, not inside.
            assert_eq!(s.slice(2..5), None);
            assert_eq!(s.slice(1..2), None);
            assert_eq!(s.slice(0..7), None);
            assert_eq!(sub.slice(0..5), None);
            #[allow(clippy::reversed_empty_ranges)]
            let reversed = s.slice(3..1);
            assert_eq!(reversed, None);
            assert_eq!(sub.slice_ref(&s[..1]), None);
            // Inside both, and reaching past `sub`.
            assert_eq!(sub.slice_ref(&s[4..5]).unwrap(), "b");
            assert_eq!(sub.slice_ref(&s[4..]), None);
            assert_eq!(s.slice(6..6).unwrap(), "");
            assert!(s.slice(6..6).unwrap().is_empty());
        }
    }

    #[test]
    fn into_bytes_does_not_copy() {
        let s = Str::from(String::from("hello world"));
        let p = s.as_ptr();
        // The only handle to the whole buffer.
        assert_eq!(s.clone().into_bytes().as_ptr(), p);
        let b = s.clone().into_bytes();
        assert_eq!((b.as_ptr(), &b[..]), (p, &b"hello world"[..]));
        drop(b);
        assert_eq!(s.into_bytes().as_ptr(), p);
        // A sub-string, and a whole buffer with other handles.
        let s = Str::from("hello world");
        let sub = s.slice(6..11).unwrap();
        let b = sub.into_bytes();
        assert_eq!((b.as_ptr(), &b[..]), (s[6..].as_ptr(), &b"world"[..]));
        let b = Bytes::from(s.clone());
        assert_eq!((b.as_ptr(), &b[..]), (s.as_ptr(), &b"hello world"[..]));
        drop(s);
        assert_eq!(&b[..], b"hello world");
        let lit = Str::from_static("lit");
        assert_eq!(lit.clone().into_bytes().as_ptr(), lit.as_ptr());
    }

    #[test]
    fn from_utf8() {
        let bytes = Bytes::from(b"caf\xc3\xa9".to_vec());
        let p = bytes.as_ptr();
        let s = Str::from_utf8(bytes).unwrap();
        assert_eq!(s, "café");
        // A unique Vec-backed buffer is taken over.
        assert_eq!(s.as_ptr(), p);
        assert_eq!(
            Str::from_utf8(Bytes::from_static(b"caf\xc3\xa9")).unwrap(),
            s
        );
        assert_eq!(Str::from_utf8(Bytes::new()).unwrap(), "");
        let err = Str::from_utf8(Bytes::from_static(b"ab\xc3")).unwrap_err();
        assert_eq!(err.valid_up_to(), 2);
        assert!(Str::from_utf8(Bytes::from_static(b"\xff")).is_err());
    }

    #[test]
    fn equality_order_and_hash_are_the_str_ones() {
        use std::collections::{BTreeSet, HashSet};
        let a = Str::from("/a");
        let b = Str::from_static("x/a").slice(1..3).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, "/a");
        assert!(b < Str::from_static("/b"));
        assert_eq!(Str::default(), "");
        assert_eq!(Str::from(String::new()), Str::default());
        assert!(HashSet::from([a.clone()]).contains("/a"));
        assert!(BTreeSet::from([b]).contains("/a"));
        assert_eq!(format!("{a} {a:?}"), "/a \"/a\"");
        assert_eq!(AsRef::<[u8]>::as_ref(&a), b"/a");
    }
}

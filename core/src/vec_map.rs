//! A small insertion-ordered map over a `Vec`.
//!
//! The client keeps a handful of namespaces and pending acks; a linear scan over a few entries
//! is as fast as a tree and, unlike `BTreeMap`, adds almost no code to the wasm client.

use crate::prelude::*;
use core::borrow::Borrow;

/// An insertion-ordered map for a few entries.
#[derive(Clone, Debug)]
pub(crate) struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Eq, V> VecMap<K, V> {
    fn position<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries.iter().position(|(k, _)| k.borrow() == key)
    }

    /// The value for `key`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        // `find`, not `position` and an index: no bounds-check panic in the wasm client.
        self.entries
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// The value for `key`, mutably.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).is_some()
    }

    /// Inserts or replaces the value for `key`.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if let Some(v) = self.get_mut(&key) {
            *v = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    /// Whether the map is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in insertion order, values mutable.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in insertion order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in insertion order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Values in insertion order, mutably.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use crate::Str;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn behaves_like_a_map_in_insertion_order() {
        let mut m: VecMap<Str, u32> = VecMap::default();
        assert!(m.is_empty());
        m.insert(Str::from("/b"), 1);
        m.insert(Str::from("/a"), 2);
        m.insert(Str::from("/b"), 3);
        assert_eq!(m.get("/b"), Some(&3));
        assert!(m.contains_key("/a"));
        assert_eq!(
            m.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["/b", "/a"]
        );
        if let Some(v) = m.get_mut("/a") {
            *v += 10;
        }
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [3, 12]);
        assert_eq!(m.remove("/b"), Some(3));
        assert_eq!(m.remove("/b"), None);
        assert_eq!(m.iter_mut().count(), 1);
    }
}

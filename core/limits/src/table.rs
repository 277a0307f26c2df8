//! The shard's bounded key table: at most `max` records, found by `(LimitId, key bytes)`
//! without allocating, recycled by CLOCK (second chance) when full. The index maps a
//! 64-bit keyed hash (ahash, random per table, so keys chosen by clients cannot collide
//! on purpose) to the first record of a chain of records sharing that hash; records
//! compare their full key. Not for: what a record means (`entry`, `shard`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::entry::{Entry, NIL};
use crate::kind::LimitId;

/// The hash is already a keyed hash of the key: the index uses it as is.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) struct Table {
    index: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    pub(crate) entries: Vec<Entry>,
    /// Records emptied by expiry, reused before CLOCK evicts anything.
    free: Vec<u32>,
    live: usize,
    /// CLOCK's hand over `entries`.
    hand: usize,
    /// Most records; `entries.len() <= max`.
    max: usize,
    hasher: ahash::RandomState,
}

impl Table {
    /// A table of at most `max_keys` records (at least 1).
    pub(crate) fn new(max_keys: usize) -> Table {
        Table {
            index: HashMap::default(),
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
            hand: 0,
            max: max_keys.clamp(1, NIL as usize - 1),
            hasher: ahash::RandomState::new(),
        }
    }

    /// Records holding a key.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    #[inline]
    pub(crate) fn hash(&self, id: LimitId, key: &[u8]) -> u64 {
        self.hasher.hash_one((id.0, key))
    }

    /// The record of `(id, key)`, marked as recently used.
    #[inline]
    pub(crate) fn find(&mut self, hash: u64, id: LimitId, key: &[u8]) -> Option<u32> {
        let i = self.find_unmarked(hash, id, key)?;
        self.entries[i as usize].referenced = true;
        Some(i)
    }

    /// The record of `(id, key)`, its reference bit left as it is (the caller decides
    /// whether this counts as a use).
    #[inline]
    pub(crate) fn find_unmarked(&self, hash: u64, id: LimitId, key: &[u8]) -> Option<u32> {
        let mut i = *self.index.get(&hash)?;
        while let Some(e) = self.entries.get(i as usize) {
            if e.id == id && e.key == key {
                return Some(i);
            }
            i = e.next;
        }
        None
    }

    /// A record to hold a new key: an expired one, a new one while below `max`, or
    /// CLOCK's victim — the first record whose reference bit is clear, clearing bits on
    /// the way (at most two turns). A victim is still live: the caller retires its state
    /// and calls [`Table::unlink`] before reusing it.
    pub(crate) fn vacancy(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        if self.entries.len() < self.max {
            self.entries.push(Entry::default());
            return (self.entries.len() - 1) as u32;
        }
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.entries.len();
            let e = &mut self.entries[i];
            if !e.live || !e.referenced {
                return i as u32;
            }
            e.referenced = false;
        }
    }

    /// Enters record `i` (already initialised with its key) under `hash`.
    pub(crate) fn link(&mut self, i: u32, hash: u64) {
        let head = self.index.insert(hash, i).unwrap_or(NIL);
        if let Some(e) = self.entries.get_mut(i as usize) {
            e.hash = hash;
            e.next = head;
            e.live = true;
            self.live += 1;
        }
    }

    /// Takes record `i` out of the index (it keeps its buffers).
    pub(crate) fn unlink(&mut self, i: u32) {
        let Some(e) = self.entries.get(i as usize) else {
            return;
        };
        if !e.live {
            return;
        }
        let (hash, next) = (e.hash, e.next);
        match self.index.get(&hash).copied() {
            Some(head) if head == i => {
                if next == NIL {
                    self.index.remove(&hash);
                } else {
                    self.index.insert(hash, next);
                }
            }
            Some(mut p) => {
                while let Some(pe) = self.entries.get_mut(p as usize) {
                    if pe.next == i {
                        pe.next = next;
                        break;
                    }
                    p = pe.next;
                }
            }
            None => {}
        }
        let e = &mut self.entries[i as usize];
        e.live = false;
        e.next = NIL;
        self.live -= 1;
    }

    /// Unlinks record `i` and keeps it for the next new key.
    pub(crate) fn remove(&mut self, i: u32) {
        if self.entries.get(i as usize).is_some_and(|e| e.live) {
            self.unlink(i);
            self.free.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;

    const KIND: Kind = Kind::Rate {
        calls: 1,
        period_ms: 1000,
    };

    fn insert(t: &mut Table, hash: u64, key: &[u8]) -> u32 {
        let i = t.vacancy();
        if t.entries[i as usize].live {
            t.unlink(i);
        }
        t.entries[i as usize].init(LimitId(1), key, &KIND, 0, 0, false);
        t.link(i, hash);
        i
    }

    #[test]
    fn records_sharing_a_hash_chain_and_unlink_cleanly() {
        let mut t = Table::new(8);
        let a = insert(&mut t, 7, b"a");
        let b = insert(&mut t, 7, b"b");
        let c = insert(&mut t, 7, b"c");
        assert_eq!(t.find(7, LimitId(1), b"a"), Some(a));
        assert_eq!(t.find(7, LimitId(1), b"b"), Some(b));
        assert_eq!(t.find(7, LimitId(2), b"b"), None);
        t.unlink(b);
        assert_eq!(t.find(7, LimitId(1), b"b"), None);
        assert_eq!(t.find(7, LimitId(1), b"a"), Some(a));
        assert_eq!(t.find(7, LimitId(1), b"c"), Some(c));
        t.unlink(c);
        t.unlink(a);
        assert_eq!(t.len(), 0);
        assert!(t.index.is_empty());
    }

    #[test]
    fn clock_spares_referenced_records() {
        let mut t = Table::new(3);
        for (h, k) in [(1, b"x"), (2, b"y"), (3, b"z")] {
            insert(&mut t, h, k);
        }
        for e in &mut t.entries {
            e.referenced = false;
        }
        t.find(2, LimitId(1), b"y");
        let v = t.vacancy();
        assert_ne!(t.entries[v as usize].key, b"y");
        t.unlink(v);
        t.entries[v as usize].init(LimitId(1), b"w", &KIND, 0, 0, false);
        t.link(v, 4);
        assert_eq!(t.len(), 3);
        assert!(t.find(2, LimitId(1), b"y").is_some());
    }

    #[test]
    fn removed_records_are_reused_first() {
        let mut t = Table::new(2);
        let a = insert(&mut t, 1, b"a");
        insert(&mut t, 2, b"b");
        t.remove(a);
        t.remove(a);
        assert_eq!(t.len(), 1);
        assert_eq!(t.vacancy(), a);
    }
}

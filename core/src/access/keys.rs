//! The subscription key index: keys are kept only as SHA-256 digests, found in O(1) by
//! the digest's first eight bytes and confirmed by a constant-time compare of the whole
//! digest, so neither the lookup's timing nor a memory dump gives a key away.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A key's SHA-256 digest.
pub type Digest = [u8; 32];

/// The digest of a presented or configured key.
pub fn digest(key: &[u8]) -> Digest {
    let d = ring::digest::digest(&ring::digest::SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Which of a subscription's two keys matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Primary,
    Secondary,
}

/// Hashes a map key that already is (the prefix of) a cryptographic digest: its bytes are
/// uniformly distributed, so they are used as they are.
#[derive(Default)]
pub struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Digest prefix → (full digest, subscription index, which key).
#[derive(Debug, Default)]
pub struct KeyIndex {
    by_prefix: HashMap<u64, Vec<(Digest, u32, Which)>, BuildHasherDefault<PrefixHasher>>,
}

fn prefix(d: &Digest) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&d[..8]);
    u64::from_be_bytes(p)
}

impl KeyIndex {
    /// Adds a key; false if another subscription (or the other key) already has it.
    pub fn insert(&mut self, key: &[u8], subscription: u32, which: Which) -> bool {
        let d = digest(key);
        let bucket = self.by_prefix.entry(prefix(&d)).or_default();
        if bucket.iter().any(|(x, _, _)| *x == d) {
            return false;
        }
        bucket.push((d, subscription, which));
        true
    }

    /// Finds the subscription owning `key`. Allocates nothing.
    pub fn find(&self, key: &[u8]) -> Option<(u32, Which)> {
        let d = digest(key);
        let bucket = self.by_prefix.get(&prefix(&d))?;
        let mut found = None;
        // Every entry of the bucket is compared in full, in constant time.
        for (x, sub, which) in bucket {
            if constant_time_eq(x, &d) {
                found = Some((*sub, *which));
            }
        }
        found
    }

    pub fn len(&self) -> usize {
        self.by_prefix.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares two byte strings in time independent of where they differ (lengths are not
/// secret: unequal lengths answer at once).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_the_exact_key() {
        let mut idx = KeyIndex::default();
        assert!(idx.insert(b"alpha-key", 0, Which::Primary));
        assert!(idx.insert(b"beta-key", 1, Which::Secondary));
        assert!(
            !idx.insert(b"alpha-key", 2, Which::Primary),
            "duplicate refused"
        );
        assert_eq!(idx.find(b"alpha-key"), Some((0, Which::Primary)));
        assert_eq!(idx.find(b"beta-key"), Some((1, Which::Secondary)));
        assert_eq!(idx.find(b"alpha-ke"), None);
        assert_eq!(idx.find(b"alpha-keyy"), None);
        assert_eq!(idx.find(b""), None);
        assert_eq!(idx.len(), 2);
    }
}

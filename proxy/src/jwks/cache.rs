//! The per-shard memory of verified tokens: a token whose signature a policy verified is
//! not verified again by that policy until the keys change or the entry is evicted.
//!
//! Bounded: a fixed number of slots, evicted by the clock algorithm (an entry used since
//! the hand last passed gets a second chance). Found by a keyed hash of (policy, key
//! generation, token); a hit is confirmed by comparing the whole token in constant time,
//! so a hash collision can never stand in for a verification. Only a miss allocates (the
//! token's copy).

use std::cell::RefCell;
use std::collections::HashMap;

use tollgate_core::access::constant_time_eq;
use tollgate_policies::exchange::Verified;

/// Slots per shard.
pub const CAPACITY: usize = 4096;

struct Slot {
    hash: u64,
    policy: u64,
    generation: u64,
    token: Box<[u8]>,
    verified: Verified,
    used: bool,
}

pub struct TokenCache {
    inner: RefCell<Inner>,
    hasher: ahash::RandomState,
}

struct Inner {
    slots: Vec<Slot>,
    index: HashMap<u64, usize, ahash::RandomState>,
    hand: usize,
    capacity: usize,
    /// Signature verifications that went into the cache (a miss), for tests and metrics.
    stored: u64,
    hits: u64,
}

impl TokenCache {
    pub fn new(capacity: usize) -> TokenCache {
        TokenCache {
            inner: RefCell::new(Inner {
                slots: Vec::new(),
                index: HashMap::with_hasher(ahash::RandomState::new()),
                hand: 0,
                capacity: capacity.max(1),
                stored: 0,
                hits: 0,
            }),
            hasher: ahash::RandomState::new(),
        }
    }

    fn hash(&self, policy: u64, generation: u64, token: &str) -> u64 {
        self.hasher.hash_one((policy, generation, token.as_bytes()))
    }

    pub fn recall(&self, policy: u64, generation: u64, token: &str) -> Option<Verified> {
        let h = self.hash(policy, generation, token);
        let mut inner = self.inner.borrow_mut();
        let i = *inner.index.get(&h)?;
        let slot = &mut inner.slots[i];
        let same = slot.policy == policy
            && slot.generation == generation
            && constant_time_eq(&slot.token, token.as_bytes());
        if !same {
            return None;
        }
        slot.used = true;
        let v = slot.verified;
        inner.hits += 1;
        Some(v)
    }

    pub fn remember(&self, policy: u64, generation: u64, token: &str, verified: Verified) {
        let h = self.hash(policy, generation, token);
        let mut inner = self.inner.borrow_mut();
        inner.stored += 1;
        let slot = Slot {
            hash: h,
            policy,
            generation,
            token: token.as_bytes().into(),
            verified,
            used: false,
        };
        if let Some(&i) = inner.index.get(&h) {
            inner.slots[i] = slot;
            return;
        }
        if inner.slots.len() < inner.capacity {
            let i = inner.slots.len();
            inner.slots.push(slot);
            inner.index.insert(h, i);
            return;
        }
        // Clock: skip (and clear) recently used slots, replace the first unused one.
        let victim = loop {
            let hand = inner.hand;
            inner.hand = (hand + 1) % inner.capacity;
            if inner.slots[hand].used {
                inner.slots[hand].used = false;
            } else {
                break hand;
            }
        };
        let old = inner.slots[victim].hash;
        inner.index.remove(&old);
        inner.slots[victim] = slot;
        inner.index.insert(h, victim);
    }

    /// (verifications stored, hits) so far.
    pub fn counts(&self) -> (u64, u64) {
        let inner = self.inner.borrow();
        (inner.stored, inner.hits)
    }

    pub fn len(&self) -> usize {
        self.inner.borrow().slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Verified = Verified {
        exp: Some(10),
        nbf: None,
    };

    #[test]
    fn hits_only_the_same_policy_generation_and_token() {
        let c = TokenCache::new(8);
        c.remember(1, 0, "a.b.c", V);
        assert_eq!(c.recall(1, 0, "a.b.c"), Some(V));
        assert_eq!(c.recall(2, 0, "a.b.c"), None);
        assert_eq!(c.recall(1, 1, "a.b.c"), None);
        assert_eq!(c.recall(1, 0, "a.b.d"), None);
        assert_eq!(c.counts(), (1, 1));
    }

    #[test]
    fn stays_bounded_and_keeps_what_is_used() {
        let c = TokenCache::new(4);
        c.remember(1, 0, "hot", V);
        for i in 0..100 {
            assert!(c.recall(1, 0, "hot").is_some(), "round {i}");
            c.remember(1, 0, &format!("cold-{i}"), V);
            assert!(c.len() <= 4);
        }
        assert!(
            c.recall(1, 0, "cold-0").is_none(),
            "old cold entries were evicted"
        );
    }
}

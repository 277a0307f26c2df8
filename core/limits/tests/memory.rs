//! Bounded memory: a flood of distinct keys never grows a shard past `max_keys` records,
//! never panics, and does not push out a key in steady use.

mod common;

use tollgate_limits::{Decision, Kind, LimitId, Message, ShardLimiter};

const MAX_KEYS: usize = 10_000;

#[test]
fn a_million_distinct_keys_stay_within_max_keys_and_the_hot_key_survives() {
    let mut l = ShardLimiter::new(0, 1, MAX_KEYS);
    let kind = Kind::Rate {
        calls: 1_000_000,
        period_ms: 300_000,
    };
    let hot = b"hot-subscription";
    let mut out = Vec::new();
    let mut key = Vec::with_capacity(32);
    let mut hot_checks = 0u64;
    for i in 0..1_000_000u64 {
        key.clear();
        key.extend_from_slice(b"flood-");
        key.extend_from_slice(&i.to_le_bytes());
        let now = i / 10; // 100 s in all: inside one window
        l.check(LimitId(1), &kind, &key, 1, now, &mut out);
        assert!(l.len() <= MAX_KEYS, "{} keys after {i}", l.len());
        if i % 10 == 0 {
            hot_checks += 1;
            let d = l.check(LimitId(1), &kind, hot, 1, now, &mut out);
            // Its count never restarted: it was never evicted.
            assert_eq!(
                d,
                Decision::Allowed {
                    remaining: 1_000_000 - hot_checks,
                    total: 1_000_000
                },
                "after {i} flood keys"
            );
        }
        if i % 1000 == 0 {
            l.tick(now, &mut out);
        }
    }
    assert_eq!(l.len(), MAX_KEYS);
    assert!(out.is_empty());
}

#[test]
fn a_flood_across_shards_stays_bounded_on_every_shard() {
    // 4 shards, small tables, every message delivered: owners and holders both bounded.
    let n = 4u16;
    let max = 500;
    let mut shards: Vec<ShardLimiter> = (0..n).map(|s| ShardLimiter::new(s, n, max)).collect();
    let kind = Kind::Quota {
        calls: Some(3),
        bytes: Some(1 << 20),
        period_ms: 0,
        first_period_start_ms: 0,
    };
    let mut out: Vec<Message> = Vec::new();
    let mut inbox: Vec<Message> = Vec::new();
    for i in 0..100_000u64 {
        let key = i.to_be_bytes();
        let s = (i % n as u64) as usize;
        shards[s].check(LimitId(i % 3), &kind, &key, 1, i, &mut out);
        shards[s].add(LimitId(i % 3), &kind, &key, 1, 5000, i, &mut out);
        if i % 7 == 0 {
            shards[s].tick(i, &mut out);
        }
        std::mem::swap(&mut inbox, &mut out);
        for m in inbox.drain(..) {
            let to = m.to() as usize;
            shards[to].receive(m, i, &mut out);
        }
        for sh in &shards {
            assert!(sh.len() <= max);
        }
    }
}

#[test]
fn idle_keys_expire_on_tick() {
    let mut l = ShardLimiter::new(0, 1, 1000);
    let kind = Kind::Rate {
        calls: 5,
        period_ms: 1000,
    };
    let mut out = Vec::new();
    for i in 0..1000u32 {
        l.check(LimitId(1), &kind, &i.to_le_bytes(), 1, 0, &mut out);
    }
    assert_eq!(l.len(), 1000);
    // Still counted within the window: kept.
    for t in 0..100 {
        l.tick(500 + t, &mut out);
    }
    assert_eq!(l.len(), 1000);
    // The window has passed: the sweep drops them, 64 per tick.
    for t in 0..20 {
        l.tick(1000 + t, &mut out);
    }
    assert_eq!(l.len(), 0);
}

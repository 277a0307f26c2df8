//! Bounded memory in bytes: the heap a shard's limiter holds is bounded by `max_keys`, not
//! by how many keys it has seen. Alone in its test binary, so no other test's allocations
//! are counted.

use tollgate_limits::{Kind, LimitId, ShardLimiter};

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

const MAX_KEYS: usize = 10_000;

/// A million distinct keys into a 10,000-key table: the heap settles at about 1.7 KB
/// per key of the table (a 1-minute rate limit keeps 60 slots) and stays there.
#[test]
fn a_million_distinct_keys_add_no_heap_once_the_table_is_full() {
    let kind = Kind::Rate {
        calls: 100,
        period_ms: 60_000,
    };
    let mut out = Vec::new();
    let mut key = Vec::with_capacity(48);
    let mut flood = |l: &mut ShardLimiter, from: u64, to: u64| {
        for i in from..to {
            key.clear();
            key.extend_from_slice(b"subscription-flood-key-");
            key.extend_from_slice(&i.to_le_bytes());
            l.check(LimitId(7), &kind, &key, 1, 1_000 + i / 100, &mut out);
            if i % 1000 == 0 {
                l.tick(1_000 + i / 100, &mut out);
            }
        }
    };
    let before = tollgate_alloc_count::live_bytes();
    let mut l = ShardLimiter::new(0, 1, MAX_KEYS);
    flood(&mut l, 0, 2 * MAX_KEYS as u64);
    let full = tollgate_alloc_count::live_bytes();
    flood(&mut l, 2 * MAX_KEYS as u64, 300_000);
    let mid = tollgate_alloc_count::live_bytes();
    flood(&mut l, 300_000, 1_000_000);
    let after = tollgate_alloc_count::live_bytes();
    let per_key = (full - before) / MAX_KEYS as u64;
    eprintln!(
        "limiter with {MAX_KEYS} keys: {} KiB ({per_key} B per key); after 1,000,000 keys: {} KiB",
        (full - before) / 1024,
        (after - before) / 1024
    );
    // Settled by 300,000 keys (the table's bookkeeping reached its size); the last
    // 700,000 add nothing.
    assert!(after <= mid, "grew from {mid} to {after} bytes");
    assert!(
        after - before <= (MAX_KEYS * 2048) as u64,
        "{} bytes",
        after - before
    );
    assert!(per_key < 2048, "{per_key} bytes per key");
    drop(l);
}

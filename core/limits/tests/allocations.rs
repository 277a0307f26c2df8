//! Heap allocations on the request path, counted with a counting global allocator: a
//! check of a key already held allocates nothing, admitted or refused.

use tollgate_limits::{Decision, Kind, LimitId, ShardLimiter};

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

/// Fewest allocations over three runs of `f` (the harness' own threads may allocate
/// now and then; an allocation per check shows in every run).
fn quietest(mut f: impl FnMut()) -> u64 {
    (0..3)
        .map(|_| {
            let before = tollgate_alloc_count::total();
            f();
            tollgate_alloc_count::total() - before
        })
        .min()
        .unwrap_or(u64::MAX)
}

// One test function: the counter is process-wide.
#[test]
fn warm_key_checks_allocate_nothing() {
    let mut l = ShardLimiter::new(0, 1, 1024);
    let mut out = Vec::with_capacity(16);
    let id = LimitId(1);
    let key = b"subscription-0123456789abcdef";
    let kind = Kind::Rate {
        calls: 1_000,
        period_ms: 1000,
    };
    // Warm the key (its record, ring and key bytes are allocated once).
    l.check(id, &kind, key, 1, 0, &mut out);
    let mut now = 0u64;
    let mut allowed = 0u64;
    let mut denied = 0u64;
    // 100,000 checks over 100 s: admitted while the window has room, refused after,
    // through slot changes and window renewals.
    let allocs = quietest(|| {
        for i in 0..100_000u64 {
            now += i % 2;
            match l.check(id, &kind, key, 1, now, &mut out) {
                Decision::Allowed { .. } => allowed += 1,
                Decision::Denied { .. } => denied += 1,
                Decision::Pending => unreachable!("one shard"),
            }
        }
    });
    eprintln!("heap allocations over 100,000 warm-key checks: {allocs} ({allowed} admitted, {denied} refused)");
    assert!(allowed > 0 && denied > 0);
    assert_eq!(allocs, 0);
    // peek and add, and a quota with bandwidth, allocate nothing either.
    let quota = Kind::Quota {
        calls: Some(1 << 40),
        bytes: Some(1 << 50),
        period_ms: 60_000,
        first_period_start_ms: 0,
    };
    l.check(id, &quota, key, 1, now, &mut out);
    let allocs = quietest(|| {
        for _ in 0..10_000 {
            now += 1;
            l.peek(id, &kind, key, now, &mut out);
            l.add(id, &kind, key, 1, 0, now, &mut out);
            l.check(id, &quota, key, 1, now, &mut out);
            l.add(id, &quota, key, 0, 1500, now, &mut out);
            l.tick(now, &mut out);
        }
    });
    assert_eq!(allocs, 0);
    assert!(out.is_empty());
}

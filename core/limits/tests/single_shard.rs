//! One shard (everything local, never `Pending`): the window arithmetic of rate limits and
//! quotas, as a caller sees it through `check`, `peek` and `add`.

use tollgate_limits::{Decision, Exhausted, Kind, LimitId, ShardLimiter};

const ID: LimitId = LimitId(1);
const KEY: &[u8] = b"sub-1";

fn rate(calls: u64, period_ms: u64) -> Kind {
    Kind::Rate { calls, period_ms }
}

fn quota(calls: Option<u64>, bytes: Option<u64>, period_ms: u64, first: u64) -> Kind {
    Kind::Quota {
        calls,
        bytes,
        period_ms,
        first_period_start_ms: first,
    }
}

fn check(l: &mut ShardLimiter, kind: &Kind, count: u64, now: u64) -> Decision {
    let mut out = Vec::new();
    let d = l.check(ID, kind, KEY, count, now, &mut out);
    assert!(out.is_empty(), "one shard sends nothing");
    d
}

fn allowed(d: Decision) -> bool {
    matches!(d, Decision::Allowed { .. })
}

fn denied_for(d: Decision) -> u64 {
    match d {
        Decision::Denied { retry_after_ms, .. } => retry_after_ms,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn exactly_the_limit_under_overload_with_remaining_counts() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(5, 1000);
    for i in 0..5 {
        assert_eq!(
            check(&mut l, &kind, 1, 10 + i),
            Decision::Allowed {
                remaining: 4 - i,
                total: 5
            }
        );
    }
    let admitted = (0..1000)
        .filter(|&t| allowed(check(&mut l, &kind, 1, 15 + t % 900)))
        .count();
    assert_eq!(admitted, 0);
    // Every following window of the overload admits exactly 5 again.
    for w in 1..10u64 {
        let admitted = (0..1000)
            .filter(|&t| allowed(check(&mut l, &kind, 1, w * 1000 + t)))
            .count();
        assert_eq!(admitted, 5, "window {w}");
    }
}

#[test]
fn retry_after_is_when_the_oldest_calls_leave_the_window() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(5, 1000); // ten slots of 100 ms
    for _ in 0..3 {
        assert!(allowed(check(&mut l, &kind, 1, 250))); // slot [200, 300): frees at 1200
    }
    for _ in 0..2 {
        assert!(allowed(check(&mut l, &kind, 1, 720))); // slot [700, 800): frees at 1700
    }
    assert_eq!(denied_for(check(&mut l, &kind, 1, 800)), 400);
    assert_eq!(
        denied_for(check(&mut l, &kind, 4, 800)),
        900,
        "needs the second slot too"
    );
    assert_eq!(
        check(&mut l, &kind, 1, 1199),
        Decision::Denied {
            retry_after_ms: 1,
            exhausted: Exhausted::Calls
        }
    );
    // The window slides: at 1200 the three from slot [200, 300) are gone.
    for i in 0..3 {
        assert_eq!(
            check(&mut l, &kind, 1, 1200),
            Decision::Allowed {
                remaining: 2 - i,
                total: 5
            }
        );
    }
    assert_eq!(denied_for(check(&mut l, &kind, 1, 1300)), 400);
    assert!(allowed(check(&mut l, &kind, 2, 1700)));
}

#[test]
fn sliding_not_fixed_window() {
    // A fixed window would admit 5 more at 1000; the sliding window admits only what left.
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(5, 1000);
    for _ in 0..2 {
        assert!(allowed(check(&mut l, &kind, 1, 0)));
    }
    for _ in 0..3 {
        assert!(allowed(check(&mut l, &kind, 1, 990)));
    }
    let at_1000 = (0..10)
        .filter(|_| allowed(check(&mut l, &kind, 1, 1000)))
        .count();
    assert_eq!(at_1000, 2);
    assert_eq!(denied_for(check(&mut l, &kind, 1, 1050)), 850);
    let at_1900 = (0..10)
        .filter(|_| allowed(check(&mut l, &kind, 1, 1900)))
        .count();
    assert_eq!(at_1900, 3);
}

#[test]
fn increment_count_spends_several_calls() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(10, 60_000);
    for i in 0..3 {
        assert_eq!(
            check(&mut l, &kind, 3, 0),
            Decision::Allowed {
                remaining: 7 - 3 * i,
                total: 10
            }
        );
    }
    assert!(!allowed(check(&mut l, &kind, 3, 1)), "1 left, 3 asked");
    assert!(allowed(check(&mut l, &kind, 1, 1)));
    assert_eq!(
        check(&mut l, &kind, 11, 70_000),
        Decision::Denied {
            retry_after_ms: u64::MAX,
            exhausted: Exhausted::Calls
        },
        "more than the limit: never"
    );
}

#[test]
fn peek_counts_nothing_and_add_counts_after_the_fact() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(10, 1000);
    let mut out = Vec::new();
    for _ in 0..100 {
        assert_eq!(
            l.peek(ID, &kind, KEY, 5, &mut out),
            Decision::Allowed {
                remaining: 10,
                total: 10
            }
        );
    }
    l.add(ID, &kind, KEY, 4, 0, 6, &mut out);
    assert_eq!(
        l.peek(ID, &kind, KEY, 7, &mut out),
        Decision::Allowed {
            remaining: 6,
            total: 10
        }
    );
    // Counts after the fact go past the limit; the refusal lasts until they leave.
    l.add(ID, &kind, KEY, 20, 0, 8, &mut out);
    assert_eq!(denied_for(l.peek(ID, &kind, KEY, 9, &mut out)), 991);
    assert!(allowed(l.peek(ID, &kind, KEY, 1000, &mut out)));
    assert!(out.is_empty());
}

#[test]
fn quota_windows_start_at_first_period_start() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = quota(Some(3), None, 10_000, 1_000_250);
    // 250 ms after a renewal (the periods repeat every 10 s back from the first start).
    for _ in 0..3 {
        assert!(allowed(check(&mut l, &kind, 1, 500)));
    }
    assert_eq!(
        check(&mut l, &kind, 1, 9_000),
        Decision::Denied {
            retry_after_ms: 1_250,
            exhausted: Exhausted::Calls
        }
    );
    assert!(!allowed(check(&mut l, &kind, 1, 10_249)));
    for _ in 0..3 {
        assert!(allowed(check(&mut l, &kind, 1, 10_250)));
    }
    assert_eq!(denied_for(check(&mut l, &kind, 1, 20_000)), 250);
    // Fixed, not sliding: all of it again right after the renewal.
    assert_eq!(
        check(&mut l, &kind, 1, 20_250),
        Decision::Allowed {
            remaining: 2,
            total: 3
        }
    );
}

#[test]
fn lifetime_quota_never_renews() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = quota(Some(2), None, 0, 0);
    assert!(allowed(check(&mut l, &kind, 1, 5)));
    assert!(allowed(check(&mut l, &kind, 1, 50_000_000)));
    for now in [50_000_001, 1 << 40, u64::MAX] {
        assert_eq!(denied_for(check(&mut l, &kind, 1, now)), u64::MAX);
    }
}

#[test]
fn bandwidth_quota_counts_bytes_after_the_response() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = quota(None, Some(1000), 60_000, 0);
    let mut out = Vec::new();
    assert_eq!(
        check(&mut l, &kind, 1, 0),
        Decision::Allowed {
            remaining: 1000,
            total: 1000
        }
    );
    l.add(ID, &kind, KEY, 1, 600, 1, &mut out);
    assert_eq!(
        check(&mut l, &kind, 1, 2),
        Decision::Allowed {
            remaining: 400,
            total: 1000
        }
    );
    l.add(ID, &kind, KEY, 1, 600, 3, &mut out);
    assert_eq!(
        check(&mut l, &kind, 1, 4),
        Decision::Denied {
            retry_after_ms: 59_996,
            exhausted: Exhausted::Bytes
        }
    );
    assert!(allowed(check(&mut l, &kind, 1, 60_000)));
}

#[test]
fn calls_and_bandwidth_together() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = quota(Some(3), Some(100), 1000, 0);
    let mut out = Vec::new();
    assert!(allowed(check(&mut l, &kind, 1, 0)));
    l.add(ID, &kind, KEY, 0, 100, 0, &mut out);
    assert_eq!(
        check(&mut l, &kind, 1, 1),
        Decision::Denied {
            retry_after_ms: 999,
            exhausted: Exhausted::Bytes
        }
    );
    assert!(allowed(check(&mut l, &kind, 1, 1000)));
    assert!(allowed(check(&mut l, &kind, 2, 1000)));
    assert_eq!(
        check(&mut l, &kind, 1, 1001),
        Decision::Denied {
            retry_after_ms: 999,
            exhausted: Exhausted::Calls
        }
    );
}

#[test]
fn keys_and_limit_ids_count_separately() {
    let mut l = ShardLimiter::new(0, 1, 100);
    let kind = rate(1, 1000);
    let mut out = Vec::new();
    assert!(allowed(l.check(LimitId(1), &kind, b"a", 1, 0, &mut out)));
    assert!(!allowed(l.check(LimitId(1), &kind, b"a", 1, 0, &mut out)));
    assert!(allowed(l.check(LimitId(1), &kind, b"b", 1, 0, &mut out)));
    assert!(allowed(l.check(LimitId(2), &kind, b"a", 1, 0, &mut out)));
    assert!(allowed(l.check(LimitId(1), &kind, b"", 1, 0, &mut out)));
    assert_eq!(l.len(), 4);
}

#[test]
fn a_reload_that_changes_only_calls_keeps_the_count() {
    let mut l = ShardLimiter::new(0, 1, 100);
    for _ in 0..4 {
        assert!(allowed(check(&mut l, &rate(5, 1000), 1, 0)));
    }
    assert_eq!(
        check(&mut l, &rate(6, 1000), 1, 1),
        Decision::Allowed {
            remaining: 1,
            total: 6
        }
    );
    assert!(!allowed(check(&mut l, &rate(5, 1000), 1, 2)));
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let mut out = Vec::new();
    for (shard, shards, max) in [(0, 0, 0), (9, 3, 1), (u16::MAX, u16::MAX, usize::MAX)] {
        let mut l = ShardLimiter::new(shard, shards, max);
        for kind in [
            rate(0, 0),
            rate(u64::MAX, u64::MAX),
            quota(None, None, 0, u64::MAX),
            quota(Some(0), Some(0), u64::MAX, u64::MAX),
            quota(Some(u64::MAX), Some(u64::MAX), 1, 0),
        ] {
            for now in [0, 1, u64::MAX - 1, u64::MAX] {
                for count in [0, 1, u64::MAX] {
                    l.check(ID, &kind, KEY, count, now, &mut out);
                    l.peek(ID, &kind, KEY, now, &mut out);
                    l.add(ID, &kind, KEY, count, u64::MAX, now, &mut out);
                    l.tick(now, &mut out);
                }
            }
        }
        assert!(l.len() <= max.max(1));
    }
    // Quota with nothing limited admits everything.
    let mut l = ShardLimiter::new(0, 1, 10);
    assert!(allowed(check(
        &mut l,
        &quota(None, None, 1000, 0),
        1_000_000,
        5
    )));
}

//! Budget moving between shards: a lease goes back when its key goes idle or its record
//! is evicted and another shard spends it in the same window; refused shards are woken;
//! counts after the fact on any shard reach the owner; and under arbitrary message delays
//! and reordering no span the engine bounds is ever over the limit.

mod common;

use common::{Rng, Sim};
use tollgate_limits::{Decision, Kind, LimitId, Message, ShardLimiter, Tuning};

fn rate(calls: u64, period_ms: u64) -> Kind {
    Kind::Rate { calls, period_ms }
}

/// Delivers every message (and the answers they cause) at `now`.
fn pump(shards: &mut [ShardLimiter], mut msgs: Vec<Message>, now: u64) {
    let mut out = Vec::new();
    while !msgs.is_empty() {
        for m in msgs.drain(..) {
            let to = m.to() as usize;
            shards[to].receive(m, now, &mut out);
        }
        std::mem::swap(&mut msgs, &mut out);
    }
}

/// A shard's request, retried after delivering messages while it is `Pending`.
fn request(
    shards: &mut [ShardLimiter],
    s: u16,
    id: LimitId,
    kind: &Kind,
    key: &[u8],
    now: u64,
) -> Decision {
    for _ in 0..8 {
        let mut out = Vec::new();
        let d = shards[s as usize].check(id, kind, key, 1, now, &mut out);
        pump(shards, out, now);
        if d != Decision::Pending {
            return d;
        }
    }
    Decision::Pending
}

#[test]
fn an_idle_shards_lease_goes_back_and_a_refused_shard_is_woken() {
    // 60 s window of 1 s slots: a lease would otherwise stay parked until its slot ends.
    let limit = 300;
    let mut sim = Sim::new(3, rate(limit, 60_000), 1);
    let a = sim.non_owner();
    let b = (a + 1) % 3;
    assert_ne!(b, sim.owner());
    sim.run(5, |sim| {
        for _ in 0..30 {
            sim.request(a, 1);
        }
    });
    let by_a = sim.admitted_in(0, 5);
    assert!(by_a < limit, "A alone admitted {by_a}");
    sim.run(8, |sim| {
        for _ in 0..100 {
            sim.request(b, 1);
        }
    });
    assert!(sim.denied > 0, "B ran out while A still held budget");
    let denied = sim.denied;
    // A is idle now: its lease goes back, B is woken and spends it within the slot.
    sim.run(900, |sim| {
        for _ in 0..5 {
            sim.request(b, 1);
        }
    });
    assert_eq!(sim.admitted_in(0, 900), limit);
    assert!(sim.denied > denied);
}

#[test]
fn an_evicted_lease_goes_back() {
    let limit = 1000;
    let kind = rate(limit, 60_000);
    let id = LimitId(3);
    // The owner has room; shard 1 holds one key at most.
    let mut shards = vec![ShardLimiter::new(0, 2, 10), ShardLimiter::new(1, 2, 1)];
    // Two keys owned by shard 0.
    let keys: Vec<Vec<u8>> = (0u32..)
        .map(|i| format!("k{i}").into_bytes())
        .filter(|k| shards[0].owner_of(id, k) == 0)
        .take(2)
        .collect();
    for t in 0..10 {
        for _ in 0..50 {
            assert!(matches!(
                request(&mut shards, 1, id, &kind, &keys[0], t),
                Decision::Allowed { .. }
            ));
        }
    }
    // Shard 1 holds one key at most: the second evicts the first and returns its lease.
    request(&mut shards, 1, id, &kind, &keys[1], 10);
    assert_eq!(shards[1].len(), 1);
    let mut out = Vec::new();
    let mut admitted = 500;
    while let Decision::Allowed { .. } = shards[0].check(id, &kind, &keys[0], 1, 11, &mut out) {
        admitted += 1;
    }
    assert_eq!(
        admitted, limit,
        "every token shard 1 did not spend came back"
    );
}

#[test]
fn counts_after_the_fact_reach_the_owner() {
    let kind = rate(100, 60_000);
    let id = LimitId(9);
    let mut shards: Vec<ShardLimiter> = (0..4).map(|s| ShardLimiter::new(s, 4, 100)).collect();
    let key = b"counter-key-value";
    let owner = shards[0].owner_of(id, key);
    let other = (owner + 1) % 4;
    // increment-condition: peek before, add after.
    let mut out = Vec::new();
    assert_eq!(
        shards[other as usize].peek(id, &kind, key, 0, &mut out),
        Decision::Pending
    );
    pump(&mut shards, std::mem::take(&mut out), 0);
    assert!(matches!(
        shards[other as usize].peek(id, &kind, key, 1, &mut out),
        Decision::Allowed { .. }
    ));
    shards[other as usize].add(id, &kind, key, 30, 0, 2, &mut out);
    shards[(other as usize + 1) % 4].add(id, &kind, key, 30, 0, 2, &mut out);
    shards[owner as usize].add(id, &kind, key, 30, 0, 2, &mut out);
    pump(&mut shards, std::mem::take(&mut out), 2);
    for s in &mut shards {
        s.tick(10, &mut out);
    }
    pump(&mut shards, std::mem::take(&mut out), 10);
    let mut left = 0;
    while let Decision::Allowed { .. } =
        shards[owner as usize].check(id, &kind, key, 1, 11, &mut out)
    {
        left += 1;
    }
    assert_eq!(left, 10);
    // A shard refused by the owner says so without asking again, with the owner's time.
    match request(&mut shards, other, id, &kind, key, 12) {
        Decision::Denied { retry_after_ms, .. } => assert_eq!(retry_after_ms, 59_988),
        d => panic!("{d:?}"),
    }
    let mut out = Vec::new();
    assert!(matches!(
        shards[other as usize].check(id, &kind, key, 1, 13, &mut out),
        Decision::Denied {
            retry_after_ms: 59_987,
            ..
        }
    ));
    assert!(out.is_empty(), "refused locally, no message");
}

#[test]
fn increment_count_across_shards() {
    let limit = 100;
    let mut sim = Sim::new(4, rate(limit, 1000), 1);
    let s = sim.non_owner();
    sim.run(3000, |sim| {
        for _ in 0..3 {
            sim.request(s, 7);
        }
    });
    for w in 0..3 {
        let a = sim.admitted_in(w * 1000, (w + 1) * 1000);
        assert!(a <= limit && a > limit - 7, "window {w}: {a}");
    }
}

#[test]
fn never_over_the_limit_whatever_the_delays_and_order() {
    // Messages delayed 0–20 ms each at random (so reordered), clocks jumping, several
    // keys and limits on 5 shards: the engine may under-admit but never over-admit (as
    // long as every shard has room for every live key: see the memory tests).
    let n = 5u16;
    let kinds = [
        rate(10, 1000),
        rate(250, 3000),
        Kind::Quota {
            calls: Some(40),
            bytes: None,
            period_ms: 2000,
            first_period_start_ms: 333,
        },
    ];
    let keys: [&[u8]; 3] = [b"a", b"bb", b"ccc"];
    let mut shards: Vec<ShardLimiter> = (0..n).map(|s| ShardLimiter::new(s, n, 9)).collect();
    let mut rng = Rng(42);
    let mut queue: Vec<(u64, Message)> = Vec::new();
    let mut admitted: Vec<Vec<u64>> = vec![Vec::new(); kinds.len() * keys.len()];
    let mut out = Vec::new();
    let mut now = 0u64;
    while now < 30_000 {
        now += rng.below(3);
        let (due, later): (Vec<_>, Vec<_>) = queue.drain(..).partition(|(at, _)| *at <= now);
        queue = later;
        for (_, m) in due {
            let to = m.to() as usize;
            shards[to].receive(m, now, &mut out);
        }
        for _ in 0..rng.below(12) {
            let (k, key) = (rng.below(3) as usize, rng.below(3) as usize);
            let s = rng.below(n as u64) as usize;
            let id = LimitId(k as u64);
            if let Decision::Allowed { .. } =
                shards[s].check(id, &kinds[k], keys[key], 1, now, &mut out)
            {
                admitted[k * 3 + key].push(now);
            }
        }
        if rng.below(4) == 0 {
            for s in &mut shards {
                s.tick(now, &mut out);
            }
        }
        for m in out.drain(..) {
            queue.push((now + rng.below(21), m));
        }
        for s in &shards {
            assert!(s.len() <= 9);
        }
    }
    for (i, times) in admitted.iter().enumerate() {
        let (limit, span, step) = match i / 3 {
            0 => (10, 1000, 100),
            1 => (250, 3000, 300),
            _ => (40, 2000, 2000),
        };
        let offset = if i / 3 == 2 { 333 } else { 0 };
        let mut start = offset;
        let mut most = 0;
        while start < 30_000 {
            let c = times
                .iter()
                .filter(|&&t| t >= start && t < start + span)
                .count();
            most = most.max(c);
            start += step;
        }
        assert!(most <= limit, "limit {i}: {most} in one window");
        assert!(most > 0, "limit {i} admitted nothing");
    }
}

#[test]
fn degenerate_inputs_across_shards_do_not_panic() {
    let kinds = [
        rate(0, 0),
        rate(u64::MAX, u64::MAX),
        rate(3, 1),
        Kind::Quota {
            calls: Some(0),
            bytes: Some(u64::MAX),
            period_ms: u64::MAX,
            first_period_start_ms: u64::MAX,
        },
        Kind::Quota {
            calls: None,
            bytes: Some(1),
            period_ms: 0,
            first_period_start_ms: 0,
        },
    ];
    let times = [0, 1, 2, 1 << 40, u64::MAX - 1, u64::MAX];
    for tuning in [
        Tuning::default(),
        Tuning {
            lease_horizon_ms: u64::MAX,
            idle_ms: u64::MAX,
            ask_timeout_ms: u64::MAX,
            expire_per_tick: usize::MAX,
        },
        Tuning {
            lease_horizon_ms: 0,
            idle_ms: 0,
            ask_timeout_ms: 0,
            expire_per_tick: 0,
        },
    ] {
        let n = 3u16;
        let mut shards: Vec<ShardLimiter> = (0..n)
            .map(|s| ShardLimiter::new(s, n, 2).with_tuning(tuning))
            .collect();
        let mut rng = Rng(1);
        let mut out = Vec::new();
        let mut inbox = Vec::new();
        for _ in 0..5000 {
            let s = rng.below(3) as usize;
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            let now = times[rng.below(times.len() as u64) as usize];
            let key = [rng.below(4) as u8];
            let count = [0, 1, 7, u64::MAX][rng.below(4) as usize];
            match rng.below(4) {
                0 => drop(shards[s].check(LimitId(1), &kind, &key, count, now, &mut out)),
                1 => drop(shards[s].peek(LimitId(1), &kind, &key, now, &mut out)),
                2 => shards[s].add(LimitId(1), &kind, &key, count, count, now, &mut out),
                _ => shards[s].tick(now, &mut out),
            }
            // Delivered at a random time: clocks out of step, even going back.
            std::mem::swap(&mut inbox, &mut out);
            for m in inbox.drain(..) {
                let to = m.to() as usize;
                let now = times[rng.below(times.len() as u64) as usize];
                shards[to].receive(m, now, &mut out);
            }
            assert!(shards.iter().all(|l| l.len() <= 2));
        }
    }
}

/// One client, one request at a time, each on whichever shard its new connection lands
/// on (messages delivered at once): no refusal while the window still has budget, and
/// exactly the limit admitted. A refused request's `Retry-After` must be true.
#[test]
fn sequential_requests_on_random_shards_are_refused_only_when_the_limit_is_spent() {
    for shards_n in [2u16, 3, 4] {
        for seed in 1..40u64 {
            let mut rng = Rng(seed);
            let mut shards: Vec<ShardLimiter> = (0..shards_n)
                .map(|s| ShardLimiter::new(s, shards_n, 1000))
                .collect();
            let kind = rate(8, 60_000);
            let mut now = 1_000_000;
            let mut admitted = 0;
            for i in 0..16 {
                let s = (rng.next() % u64::from(shards_n)) as u16;
                match request(&mut shards, s, LimitId(1), &kind, b"alice", now) {
                    Decision::Allowed { .. } => {
                        assert!(
                            admitted < 8,
                            "over the limit: shards {shards_n} seed {seed} request {i}"
                        );
                        admitted += 1;
                    }
                    Decision::Denied { .. } => assert_eq!(
                        admitted, 8,
                        "refused with budget left: shards {shards_n} seed {seed} request {i} on shard {s}"
                    ),
                    Decision::Pending => panic!("still pending with messages delivered"),
                }
                now += 40;
                let mut out = Vec::new();
                for sh in shards.iter_mut() {
                    sh.tick(now, &mut out);
                }
                pump(&mut shards, out, now);
            }
            assert_eq!(admitted, 8);
        }
    }
}

/// What the proxy's policy engine does: look (peek; after a `Pending` and the messages,
/// look again), then count.
fn look_then_count(
    shards: &mut [ShardLimiter],
    s: u16,
    kind: &Kind,
    key: &[u8],
    now: u64,
) -> Decision {
    let mut out = Vec::new();
    let mut d = shards[s as usize].peek(LimitId(1), kind, key, now, &mut out);
    for _ in 0..8 {
        pump(shards, std::mem::take(&mut out), now);
        if d != Decision::Pending {
            break;
        }
        d = shards[s as usize].peek_again(LimitId(1), kind, key, now, &mut out);
    }
    match d {
        Decision::Allowed { .. } => {
            let d = shards[s as usize].check(LimitId(1), kind, key, 1, now, &mut out);
            pump(shards, out, now);
            d
        }
        d => d,
    }
}

/// A lease parked on a shard that has gone quiet does not make the owner refuse: the
/// owner calls it back and admits, so a refusal means the window really is spent.
#[test]
fn budget_parked_in_a_lease_is_called_back_before_anyone_is_refused() {
    for (shards_n, limit) in [(2u16, 8u64), (3, 8), (4, 100)] {
        let mut shards: Vec<ShardLimiter> = (0..shards_n)
            .map(|s| ShardLimiter::new(s, shards_n, 1000))
            .collect();
        let kind = rate(limit, 60_000);
        let key = b"alice";
        let owner = (0..shards_n)
            .find(|&s| {
                let mut out = Vec::new();
                let d = shards[s as usize].peek(LimitId(1), &kind, key, 1_000, &mut out);
                d != Decision::Pending
            })
            .unwrap();
        let other = (owner + 1) % shards_n;
        let third = (owner + 2) % shards_n;
        let now = 1_000;
        // A burst on `other`: several requests ask before the first grant arrives, so
        // the lease it gets is bigger than what it will spend.
        let mut msgs = Vec::new();
        for _ in 0..4 {
            let d = shards[other as usize].check(LimitId(1), &kind, key, 1, now, &mut msgs);
            assert_eq!(d, Decision::Pending);
        }
        pump(&mut shards, msgs, now);
        let mut admitted = 0;
        for _ in 0..2 {
            assert!(matches!(
                request(&mut shards, other, LimitId(1), &kind, key, now),
                Decision::Allowed { .. }
            ));
            admitted += 1;
        }
        // Everything else lands on the owner (and, with 3+ shards, a third shard), at
        // once: all of the window's budget is admitted, then refused.
        let mut t = now + 1;
        let mut turn = 0;
        loop {
            let s = if shards_n > 2 && turn % 2 == 1 {
                third
            } else {
                owner
            };
            turn += 1;
            match look_then_count(&mut shards, s, &kind, key, t) {
                Decision::Allowed { .. } => admitted += 1,
                Decision::Denied { .. } => break,
                Decision::Pending => panic!("pending with messages delivered"),
            }
            t += 1;
            assert!(admitted <= limit, "over the limit");
        }
        assert_eq!(
            admitted, limit,
            "{shards_n} shards: refused with budget parked on shard {other}"
        );
    }
}

/// A count (not a look) on the owner is never told to wait, even while leases are
/// called back: a caller that counts after looking lets a `Pending` through.
#[test]
fn a_count_on_the_owner_is_refused_not_deferred_while_leases_are_called_back() {
    let n = 2u16;
    let mut shards: Vec<ShardLimiter> = (0..n).map(|s| ShardLimiter::new(s, n, 100)).collect();
    let kind = rate(5, 60_000);
    let key = b"bob";
    let mut probe = Vec::new();
    let owner = (0..n)
        .find(|&s| {
            shards[s as usize].peek(LimitId(1), &kind, key, 1, &mut probe) != Decision::Pending
        })
        .unwrap();
    let other = (owner + 1) % n;
    let mut msgs = Vec::new();
    for _ in 0..4 {
        shards[other as usize].check(LimitId(1), &kind, key, 1, 10, &mut msgs);
    }
    pump(&mut shards, msgs, 10);
    let mut out = Vec::new();
    let d = shards[owner as usize].check(LimitId(1), &kind, key, 5, 11, &mut out);
    assert!(matches!(d, Decision::Denied { .. }), "{d:?}");
}

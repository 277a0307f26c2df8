//! Several processes sharing one limit through a store, simulated deterministically
//! (`common::procs`: shards, store links syncing every 50 ms, a shared `MemoryStore`):
//! under sustained overload every renewal period admits 0.95–1.05 of the limit whichever
//! process and shard the traffic lands on; light traffic is never refused; with the store
//! down, `open` counts per process and `closed` refuses, and counting through the store
//! resumes when it returns. Also the store's operations themselves.

mod common;

use common::procs::Cluster2;
use common::Rng;
use tollgate_limits::{Cluster, Kind, LimitId, MemoryStore, OnFailure, Op, Request};

const SYNC: u64 = 50;

fn rate(calls: u64, period_ms: u64) -> Kind {
    Kind::Rate { calls, period_ms }
}

fn quota(calls: u64, period_ms: u64) -> Kind {
    Kind::Quota {
        calls: Some(calls),
        bytes: None,
        period_ms,
        first_period_start_ms: 0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// Every request on a random process and shard.
    Uniform,
    /// Everything on process 0.
    OneProcess,
    /// Everything on one process, moving to the next every 2.5 periods.
    Moving,
    /// Held back and released in bursts on a random process.
    Bursty,
}

const PATTERNS: [Pattern; 4] = [
    Pattern::Uniform,
    Pattern::OneProcess,
    Pattern::Moving,
    Pattern::Bursty,
];

/// Offers `tenths`/10 of the limit per period, from `from` until `until` ms.
fn drive(
    c: &mut Cluster2,
    pattern: Pattern,
    limit: u64,
    period: u64,
    tenths: u64,
    until: u64,
    seed: u64,
) {
    let mut rng = Rng(seed);
    let procs = c.procs.len() as u64;
    let shards = c.procs[0].shards.len() as u64;
    let mut acc = 0u64;
    c.run(until, |c| {
        acc += tenths * limit;
        if pattern == Pattern::Bursty && rng.below(4) != 0 {
            return;
        }
        let arrivals = acc / (10 * period);
        acc -= arrivals * 10 * period;
        let burst = rng.below(procs) as usize;
        for _ in 0..arrivals {
            let p = match pattern {
                Pattern::Uniform => rng.below(procs) as usize,
                Pattern::OneProcess => 0,
                Pattern::Moving => ((c.now * 2 / (5 * period)) % procs) as usize,
                Pattern::Bursty => burst,
            };
            let s = rng.below(shards) as usize;
            c.request(p, s);
        }
    });
}

/// Every aligned period in `[from, to)` admits 0.95–1.05·L, and no span of `period − slot`
/// ms more than 1.05·L.
fn assert_within(
    c: &Cluster2,
    limit: u64,
    period: u64,
    slot: u64,
    from: u64,
    to: u64,
    label: &str,
) {
    let per: Vec<u64> = (from / period..to / period)
        .map(|k| c.admitted_in(k * period, (k + 1) * period))
        .collect();
    eprintln!(
        "{label}: per period {:?}..{:?} of {limit}; store ops {} (asked, granted, charged, returned, moved {:?}), pending {}, let through {}",
        per.iter().min(),
        per.iter().max(),
        c.store_ops,
        c.op_tokens,
        c.pendings,
        c.let_through
    );
    for (k, &a) in per.iter().enumerate() {
        assert!(
            a * 100 >= limit * 95 && a * 100 <= limit * 105,
            "{label}: period {k} admitted {a} of {limit}: {per:?}"
        );
    }
    if slot < period {
        let span = c.max_in_spans(period - slot, 1, from, to);
        assert!(
            span * 100 <= limit * 105,
            "{label}: {span} in a span of {} ms",
            period - slot
        );
    }
}

#[test]
fn two_processes_share_a_rate_limit_under_overload() {
    for (limit, period) in [
        (60u64, 10_000u64),
        (100, 2000),
        (1000, 2000),
        (10_000, 10_000),
    ] {
        let slot = if period <= 10_000 { period / 10 } else { 1000 };
        for pattern in PATTERNS {
            for procs in [2u16, 3] {
                let mut c = Cluster2::new(
                    procs,
                    2,
                    rate(limit, period),
                    Cluster::new(SYNC, OnFailure::Open),
                );
                let windows = if period >= 10_000 { 4 } else { 10 };
                drive(
                    &mut c,
                    pattern,
                    limit,
                    period,
                    30,
                    windows * period,
                    limit + procs as u64,
                );
                let label = format!("{pattern:?} P={procs} L={limit}/{period}ms");
                assert_within(&c, limit, period, slot, 0, windows * period, &label);
                assert_eq!(c.let_through, 0, "{label}");
            }
        }
    }
}

#[test]
fn store_delays_and_more_shards() {
    for rtt in [0u64, 5, 20] {
        for pattern in PATTERNS {
            let (limit, period) = (500u64, 2000u64);
            let mut c = Cluster2::new(
                2,
                4,
                rate(limit, period),
                Cluster::new(SYNC, OnFailure::Open),
            );
            c.rtt_ms = rtt;
            drive(&mut c, pattern, limit, period, 30, 8 * period, rtt + 11);
            assert_within(
                &c,
                limit,
                period,
                200,
                0,
                8 * period,
                &format!("{pattern:?} rtt={rtt}ms N=4"),
            );
        }
    }
}

#[test]
fn barely_overloaded_cluster() {
    for pattern in PATTERNS {
        let (limit, period) = (1000u64, 10_000u64);
        let mut c = Cluster2::new(
            2,
            2,
            rate(limit, period),
            Cluster::new(SYNC, OnFailure::Open),
        );
        drive(&mut c, pattern, limit, period, 12, 5 * period, 5);
        assert_within(
            &c,
            limit,
            period,
            1000,
            0,
            5 * period,
            &format!("1.2x {pattern:?}"),
        );
    }
}

#[test]
fn quotas_across_processes() {
    for (limit, period) in [(100u64, 1000u64), (1000, 1000), (10_000, 2000)] {
        for pattern in PATTERNS {
            let mut c = Cluster2::new(
                2,
                2,
                quota(limit, period),
                Cluster::new(SYNC, OnFailure::Open),
            );
            drive(&mut c, pattern, limit, period, 30, 10 * period, limit);
            let label = format!("quota {pattern:?} L={limit}/{period}ms");
            assert_within(&c, limit, period, period, 0, 10 * period, &label);
        }
    }
}

#[test]
fn traffic_under_the_limit_is_never_refused() {
    // A request every 300 ms (20 in 6 s, limit 60 per 10 s): nothing refused. Half the
    // limit: a key whose traffic starts on a process (or moves to it) at that rate spends
    // its credit until the first answers fit the pool to the demand, and a few calls
    // beyond it are refused in those first syncs; none otherwise.
    let mut c = Cluster2::new(2, 2, rate(60, 10_000), Cluster::new(SYNC, OnFailure::Open));
    let mut rng = Rng(1);
    c.run(6000, |c| {
        if c.now % 300 == 7 {
            let p = rng.below(2) as usize;
            let s = rng.below(2) as usize;
            c.request(p, s);
        }
    });
    assert_eq!((c.admitted_in(0, 6000), c.denied), (20, 0));
    for pattern in PATTERNS {
        let mut c = Cluster2::new(2, 2, rate(1000, 2000), Cluster::new(SYNC, OnFailure::Open));
        drive(&mut c, pattern, 1000, 2000, 5, 6000, 9);
        eprintln!(
            "{pattern:?}: {} refused, the last at {} ms",
            c.denied, c.last_denied_at
        );
        assert!(c.denied * 50 <= 1500, "{pattern:?}: {} refused", c.denied);
        // Bursty holds a few back at the end.
        let offered = c.admitted_in(0, 6000) + c.denied;
        assert!((1490..=1500).contains(&offered), "{pattern:?}: {offered}");
    }
}

#[test]
fn store_down_open_counts_per_process_then_resumes() {
    let (limit, period) = (200u64, 2000u64);
    let mut c = Cluster2::new(
        2,
        2,
        rate(limit, period),
        Cluster::new(SYNC, OnFailure::Open),
    );
    drive(&mut c, Pattern::Uniform, limit, period, 30, 4 * period, 1);
    assert_within(&c, limit, period, 200, 0, 4 * period, "before");
    c.store_up = false;
    drive(&mut c, Pattern::Uniform, limit, period, 30, 8 * period, 2);
    // Each process alone: up to its own L per window.
    for k in 5..8 {
        for p in 0..2 {
            let a = c.admitted_by_in(p, k * period, (k + 1) * period);
            assert!(
                a <= limit && a * 100 >= limit * 95,
                "process {p} period {k}: {a}"
            );
        }
    }
    assert_eq!(c.let_through, 0);
    c.store_up = true;
    drive(&mut c, Pattern::Uniform, limit, period, 30, 14 * period, 3);
    // Once the local windows of the outage have passed, the store counts again.
    assert_within(&c, limit, period, 200, 10 * period, 14 * period, "after");
}

#[test]
fn store_down_closed_refuses_then_resumes() {
    let (limit, period) = (200u64, 2000u64);
    let mut c = Cluster2::new(
        2,
        2,
        rate(limit, period),
        Cluster::new(SYNC, OnFailure::Closed),
    );
    drive(&mut c, Pattern::Uniform, limit, period, 30, 3 * period, 1);
    c.store_up = false;
    let before = c.admitted_in(0, 3 * period);
    drive(&mut c, Pattern::Uniform, limit, period, 30, 6 * period, 2);
    // A sync later, nothing is admitted (holder leases already granted may still be spent).
    let during = c.admitted_in(3 * period + 2 * SYNC, 6 * period);
    assert_eq!(during, 0, "admitted while the store was down");
    assert!(
        (1..=1000).contains(&c.last_retry_ms),
        "Retry-After: the sync interval rounded up to 1 s, not {}",
        c.last_retry_ms
    );
    assert!(before > 0);
    c.store_up = true;
    drive(&mut c, Pattern::Uniform, limit, period, 30, 10 * period, 3);
    assert_within(&c, limit, period, 200, 7 * period, 10 * period, "after");
}

#[test]
fn a_store_that_forgot_everything_is_counted_from_anew() {
    let (limit, period) = (200u64, 2000u64);
    let mut c = Cluster2::new(
        2,
        2,
        rate(limit, period),
        Cluster::new(SYNC, OnFailure::Open),
    );
    drive(
        &mut c,
        Pattern::Uniform,
        limit,
        period,
        30,
        3 * period + 500,
        1,
    );
    c.store.clear();
    drive(&mut c, Pattern::Uniform, limit, period, 30, 8 * period, 2);
    assert_within(&c, limit, period, 200, 5 * period, 8 * period, "after");
}

fn request(op: Op, limit: u64, slots: u32) -> Request<'static> {
    Request {
        id: LimitId(1),
        key: b"k",
        op,
        limits: [Some(limit), None],
        slots,
        slot_ms: 100,
        origin: 0,
        ttl_ms: 0,
    }
}

#[test]
fn store_operations() {
    let mut s = MemoryStore::new();
    let ask = |slot, want| Op::Ask {
        slot,
        want: [want, 0],
    };
    // Grants what the window has left, charged to the slot asked for.
    let a = s.apply(&request(ask(5, 6), 10, 10)).unwrap();
    assert_eq!((a.granted[0], a.remaining[0]), (6, 4));
    let a = s.apply(&request(ask(7, 6), 10, 10)).unwrap();
    assert_eq!((a.granted[0], a.remaining[0], a.free_slot[0]), (4, 0, 5));
    assert_eq!(a.remaining[1], u64::MAX, "bytes not limited");
    // A return refunds at most what the slot holds.
    s.apply(&request(
        Op::Return {
            slot: 5,
            tokens: [9, 0],
        },
        10,
        10,
    ));
    assert_eq!(s.window(&request(ask(7, 0), 10, 10), 7), [4, 0]);
    // A move keeps the window's sum and shifts the charge.
    s.apply(&request(
        Op::Move {
            from: 7,
            to: 8,
            tokens: [3, 0],
        },
        10,
        10,
    ));
    let r = request(ask(8, 0), 10, 10);
    assert_eq!(s.window(&r, 8), [4, 0]);
    assert_eq!(s.window(&r, 7), [1, 0]);
    // Charges count whatever the limit; the window slides.
    s.apply(&request(
        Op::Charge {
            slot: 8,
            tokens: [20, 0],
        },
        10,
        10,
    ));
    assert_eq!(s.apply(&r).unwrap().granted[0], 0);
    let a = s.apply(&request(ask(18, 10), 10, 10)).unwrap();
    assert_eq!(
        a.granted[0], 10,
        "slots 7 and 8 left the window ending at 18"
    );
    // A later slot already charged (a clock ahead) counts for the windows it is in.
    let mut s = MemoryStore::new();
    s.apply(&request(ask(11, 8), 10, 10));
    let a = s.apply(&request(ask(10, 8), 10, 10)).unwrap();
    assert_eq!(a.granted[0], 2);
}

#[test]
fn one_second_periods_lose_what_is_parked_at_slot_ends() {
    // 100 ms slots and a 50 ms sync: a pool granted late in a slot is partly spent in the
    // next one, so windows ending there admit less (docs/throttling.md). Never more.
    for pattern in PATTERNS {
        let (limit, period) = (200u64, 1000u64);
        let mut c = Cluster2::new(
            2,
            2,
            rate(limit, period),
            Cluster::new(SYNC, OnFailure::Open),
        );
        drive(&mut c, pattern, limit, period, 30, 10 * period, 3);
        let per: Vec<u64> = (0..10)
            .map(|k| c.admitted_in(k * period, (k + 1) * period))
            .collect();
        eprintln!("1 s {pattern:?}: {per:?}");
        assert!(
            per.iter()
                .all(|&a| a * 100 >= limit * 75 && a * 100 <= limit * 105),
            "{pattern:?}: {per:?}"
        );
    }
}

//! N shards under sustained overload, simulated deterministically: the number admitted
//! per renewal period stays within 0.98–1.02 of the limit however the traffic lands on
//! the shards, and no span the engine claims to bound ever holds more than the limit.

mod common;

use common::{Rng, Sim};
use tollgate_limits::{Kind, Tuning};

const PERIOD: u64 = 1000;
/// A 1 s rate window has 10 slots of 100 ms.
const SLOT: u64 = 100;
const WINDOWS: u64 = 20;
/// Offered load, in tenths of the limit.
const OVERLOAD_TENTHS: u64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// Everything on one shard that does not own the key.
    OneNonOwner,
    /// Every request on a random shard.
    Uniform,
    /// Everything on one shard, moving to the next every 2.5 periods (mid-window).
    Moving,
    /// Arrivals held back and released in bursts on random shards.
    Bursty,
}

const PATTERNS: [Pattern; 4] = [
    Pattern::OneNonOwner,
    Pattern::Uniform,
    Pattern::Moving,
    Pattern::Bursty,
];

fn rate(limit: u64, period_ms: u64) -> Kind {
    Kind::Rate {
        calls: limit,
        period_ms,
    }
}

/// Runs `pattern` at 3× the limit for `WINDOWS` periods.
fn drive(sim: &mut Sim, pattern: Pattern, limit: u64, seed: u64) {
    drive_at(sim, pattern, limit, OVERLOAD_TENTHS, seed)
}

/// Runs `pattern` at `tenths`/10 of the limit for `WINDOWS` periods.
fn drive_at(sim: &mut Sim, pattern: Pattern, limit: u64, tenths: u64, seed: u64) {
    let mut rng = Rng(seed);
    let n = sim.n() as u64;
    let start = sim.non_owner() as u64;
    let mut acc = 0u64;
    sim.run(WINDOWS * PERIOD, |sim| {
        acc += tenths * limit;
        let release = match pattern {
            Pattern::Bursty => rng.below(4) == 0,
            _ => true,
        };
        if !release {
            return;
        }
        let arrivals = acc / (10 * PERIOD);
        acc -= arrivals * 10 * PERIOD;
        let burst_shard = rng.below(n) as u16;
        for _ in 0..arrivals {
            let shard = match pattern {
                Pattern::OneNonOwner => start as u16,
                Pattern::Uniform => rng.below(n) as u16,
                Pattern::Moving => ((start + sim.now * 2 / (5 * PERIOD)) % n) as u16,
                Pattern::Bursty => burst_shard,
            };
            sim.request(shard, 1);
        }
    });
}

/// Per-period counts within 0.98–1.02·L; no `K` consecutive slots and no span of
/// `period − slot` ms above L.
fn assert_exact(sim: &Sim, limit: u64, label: &str) {
    let per_window: Vec<u64> = (0..WINDOWS)
        .map(|k| sim.admitted_in(k * PERIOD, (k + 1) * PERIOD))
        .collect();
    let (min, max) = (
        per_window.iter().min().copied().unwrap_or(0),
        per_window.iter().max().copied().unwrap_or(0),
    );
    eprintln!(
        "{label}: per period min {min} max {max} of {limit}; messages {}, pending {}, abandoned {}",
        sim.messages, sim.pendings, sim.abandoned
    );
    for (k, &a) in per_window.iter().enumerate() {
        assert!(
            a * 100 >= limit * 98 && a * 100 <= limit * 102,
            "{label}: period {k} admitted {a} of {limit}: {per_window:?}"
        );
    }
    let slots = sim.max_in_spans(PERIOD, SLOT);
    assert!(slots <= limit, "{label}: {slots} in 10 consecutive slots");
    let span = sim.max_in_spans(PERIOD - SLOT, 1);
    assert!(span <= limit, "{label}: {span} in a span of 900 ms");
}

fn matrix(pattern: Pattern) {
    for n in [2u16, 4, 8] {
        for limit in [10u64, 100, 1000, 10_000] {
            let mut sim = Sim::new(n, rate(limit, PERIOD), 1);
            drive(&mut sim, pattern, limit, 0x5eed + limit + n as u64);
            assert_exact(&sim, limit, &format!("{pattern:?} N={n} L={limit}"));
        }
    }
}

#[test]
fn all_traffic_on_one_non_owner_shard() {
    matrix(Pattern::OneNonOwner);
}

#[test]
fn traffic_spread_uniformly() {
    matrix(Pattern::Uniform);
}

#[test]
fn traffic_moving_between_shards() {
    matrix(Pattern::Moving);
}

#[test]
fn bursty_traffic() {
    matrix(Pattern::Bursty);
}

#[test]
fn one_shard_is_exact_and_never_pending() {
    for limit in [10u64, 100, 1000, 10_000] {
        for pattern in PATTERNS {
            let mut sim = Sim::new(1, rate(limit, PERIOD), 1);
            drive(&mut sim, pattern, limit, limit);
            assert_eq!(sim.pendings, 0);
            assert_eq!(sim.messages, 0);
            for k in 0..WINDOWS {
                assert_eq!(sim.admitted_in(k * PERIOD, (k + 1) * PERIOD), limit);
            }
        }
    }
}

#[test]
fn slower_and_instant_delivery() {
    for delay in [0u64, 3] {
        for pattern in PATTERNS {
            for limit in [100u64, 10_000] {
                let mut sim = Sim::new(4, rate(limit, PERIOD), delay);
                drive(&mut sim, pattern, limit, 99 + delay);
                assert_exact(
                    &sim,
                    limit,
                    &format!("{pattern:?} N=4 L={limit} delay={delay}ms"),
                );
            }
        }
    }
}

#[test]
fn quota_windows_are_exact_across_shards() {
    for n in [2u16, 8] {
        for limit in [10u64, 1000, 10_000] {
            for pattern in PATTERNS {
                let kind = Kind::Quota {
                    calls: Some(limit),
                    bytes: None,
                    period_ms: PERIOD,
                    first_period_start_ms: 0,
                };
                let mut sim = Sim::new(n, kind, 1);
                drive(&mut sim, pattern, limit, 7);
                let label = format!("quota {pattern:?} N={n} L={limit}");
                let min = (0..WINDOWS)
                    .map(|k| sim.admitted_in(k * PERIOD, (k + 1) * PERIOD))
                    .min();
                eprintln!("{label}: per period min {min:?} of {limit}");
                for k in 0..WINDOWS {
                    let a = sim.admitted_in(k * PERIOD, (k + 1) * PERIOD);
                    assert!(
                        a * 100 >= limit * 98 && a <= limit,
                        "{label}: window {k} admitted {a}"
                    );
                }
            }
        }
    }
}

#[test]
fn barely_overloaded() {
    // At 1.2× the window fills late, admissions spread over every slot, and budget frees
    // (and is leased) right up to each period's end: the case where leases parked at a
    // boundary would show.
    for pattern in PATTERNS {
        for limit in [100u64, 1000, 10_000] {
            let mut sim = Sim::new(8, rate(limit, PERIOD), 1);
            drive_at(&mut sim, pattern, limit, 12, 5);
            assert_exact(&sim, limit, &format!("1.2x {pattern:?} N=8 L={limit}"));
        }
    }
}

#[test]
fn heavier_overload_with_a_longer_horizon() {
    // Ten times the limit and 5 ms leases: more budget parked in leases, still in bounds.
    let tuning = Tuning {
        lease_horizon_ms: 5,
        idle_ms: 10,
        ..Tuning::default()
    };
    for pattern in PATTERNS {
        let mut sim = Sim::with_tuning(8, rate(10_000, PERIOD), 1, tuning);
        let mut rng = Rng(3);
        let start = sim.non_owner() as u64;
        sim.run(WINDOWS * PERIOD, |sim| {
            for _ in 0..100 {
                let shard = match pattern {
                    Pattern::OneNonOwner => start,
                    Pattern::Moving => (start + sim.now * 2 / (5 * PERIOD)) % 8,
                    _ => rng.below(8),
                };
                sim.request(shard as u16, 1);
            }
        });
        assert_exact(&sim, 10_000, &format!("10x {pattern:?} N=8"));
    }
}

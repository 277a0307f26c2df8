//! A deterministic in-process model of N shards for the integration tests: one
//! [`ShardLimiter`] per shard, a message queue with a fixed delivery delay, a clock the
//! test advances one millisecond at a time, and requests that wait (bounded) when told
//! `Pending` and are checked again whenever their shard receives messages — what the
//! proxy does.

#![allow(dead_code)]

pub mod procs;

use std::collections::VecDeque;

use tollgate_limits::{Decision, Kind, LimitId, Message, ShardLimiter, Tuning};

/// splitmix64: deterministic traffic without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Waiting {
    since: u64,
    count: u64,
}

/// N shards exchanging messages with a delay, all requests for one limit and key.
pub struct Sim {
    pub shards: Vec<ShardLimiter>,
    pub id: LimitId,
    pub kind: Kind,
    pub key: Vec<u8>,
    pub now: u64,
    pub delay_ms: u64,
    /// How long a request told `Pending` waits before giving up.
    pub wait_ms: u64,
    queue: VecDeque<(u64, Message)>,
    waiting: Vec<VecDeque<Waiting>>,
    out: Vec<Message>,
    /// Calls admitted in each millisecond.
    pub admitted: Vec<u64>,
    pub denied: u64,
    pub abandoned: u64,
    pub pendings: u64,
    pub messages: u64,
}

impl Sim {
    pub fn new(n: u16, kind: Kind, delay_ms: u64) -> Sim {
        Sim::with_tuning(n, kind, delay_ms, Tuning::default())
    }

    pub fn with_tuning(n: u16, kind: Kind, delay_ms: u64, tuning: Tuning) -> Sim {
        Sim {
            shards: (0..n)
                .map(|s| ShardLimiter::new(s, n, 1000).with_tuning(tuning))
                .collect(),
            id: LimitId(7),
            kind,
            key: b"subscription-1234".to_vec(),
            now: 0,
            delay_ms,
            wait_ms: 2 * delay_ms + 4,
            queue: VecDeque::new(),
            waiting: (0..n).map(|_| VecDeque::new()).collect(),
            out: Vec::new(),
            admitted: Vec::new(),
            denied: 0,
            abandoned: 0,
            pendings: 0,
            messages: 0,
        }
    }

    pub fn n(&self) -> u16 {
        self.shards.len() as u16
    }

    /// The key's owner shard.
    pub fn owner(&self) -> u16 {
        self.shards[0].owner_of(self.id, &self.key)
    }

    /// A shard that does not own the key (the owner itself when N = 1).
    pub fn non_owner(&self) -> u16 {
        (self.owner() + 1) % self.n()
    }

    fn send(&mut self) {
        for m in self.out.drain(..) {
            self.messages += 1;
            self.queue.push_back((self.now + self.delay_ms, m));
        }
    }

    fn admit(&mut self, count: u64) {
        let t = self.now as usize;
        if self.admitted.len() <= t {
            self.admitted.resize(t + 1, 0);
        }
        self.admitted[t] += count;
    }

    /// One request of `count` calls on `shard` now.
    pub fn request(&mut self, shard: u16, count: u64) {
        let s = shard as usize;
        let d = self.shards[s].check(
            self.id,
            &self.kind,
            &self.key,
            count,
            self.now,
            &mut self.out,
        );
        self.send();
        match d {
            Decision::Allowed { .. } => self.admit(count),
            Decision::Denied { .. } => self.denied += 1,
            Decision::Pending => {
                self.pendings += 1;
                self.waiting[s].push_back(Waiting {
                    since: self.now,
                    count,
                })
            }
        }
    }

    fn recheck(&mut self, s: usize) {
        for _ in 0..self.waiting[s].len() {
            let Some(w) = self.waiting[s].pop_front() else {
                break;
            };
            let d = self.shards[s].check(
                self.id,
                &self.kind,
                &self.key,
                w.count,
                self.now,
                &mut self.out,
            );
            self.send();
            match d {
                Decision::Allowed { .. } => self.admit(w.count),
                Decision::Denied { .. } => self.denied += 1,
                Decision::Pending => self.waiting[s].push_back(w),
            }
        }
    }

    /// Delivers what is due (with no delay, until quiet), re-checking the waiting
    /// requests of every shard that received something.
    pub fn deliver(&mut self) {
        for _round in 0..64 {
            let mut touched = vec![false; self.shards.len()];
            let mut any = false;
            while self.queue.front().is_some_and(|(at, _)| *at <= self.now) {
                let Some((_, m)) = self.queue.pop_front() else {
                    break;
                };
                let to = m.to() as usize;
                touched[to] = true;
                any = true;
                self.shards[to].receive(m, self.now, &mut self.out);
                self.send();
            }
            for (s, t) in touched.iter().enumerate() {
                if *t {
                    self.recheck(s);
                }
            }
            if !any {
                break;
            }
        }
    }

    /// Ends the current millisecond: gives up on requests that waited too long, ticks
    /// every shard, moves the clock.
    pub fn end_ms(&mut self) {
        for s in 0..self.shards.len() {
            while self.waiting[s]
                .front()
                .is_some_and(|w| self.now >= w.since + self.wait_ms)
            {
                self.waiting[s].pop_front();
                self.abandoned += 1;
            }
            self.shards[s].tick(self.now, &mut self.out);
            self.send();
        }
        self.now += 1;
    }

    /// Runs until `until_ms`, calling `traffic(sim)` once per millisecond after delivery.
    pub fn run(&mut self, until_ms: u64, mut traffic: impl FnMut(&mut Sim)) {
        while self.now < until_ms {
            self.deliver();
            traffic(self);
            self.end_ms();
        }
        if self.admitted.len() < until_ms as usize {
            self.admitted.resize(until_ms as usize, 0);
        }
    }

    /// Calls admitted in `[from, to)`.
    pub fn admitted_in(&self, from: u64, to: u64) -> u64 {
        let to = (to as usize).min(self.admitted.len());
        let from = (from as usize).min(to);
        self.admitted[from..to].iter().sum()
    }

    /// Most calls admitted in any span of `len` ms starting at a multiple of `step` ms
    /// (spans ending past the run are skipped).
    pub fn max_in_spans(&self, len: u64, step: u64) -> u64 {
        let mut prefix = vec![0u64; self.admitted.len() + 1];
        for (i, a) in self.admitted.iter().enumerate() {
            prefix[i + 1] = prefix[i] + a;
        }
        let mut max = 0;
        let mut start = 0usize;
        while start + len as usize <= self.admitted.len() {
            max = max.max(prefix[start + len as usize] - prefix[start]);
            start += step as usize;
        }
        max
    }
}

//! A deterministic model of several gateway processes sharing limits through a store:
//! each process has N shards ([`ShardLimiter`]s with an upstream), messages between its
//! shards delivered after `local_delay_ms`, and a store link that every `sync_ms` (each
//! process at its own phase) takes the operations its shards queued, applies them in
//! order to one shared [`MemoryStore`], and delivers the answers `rtt_ms` later — what
//! the proxy's Redis thread does. The store can be taken down, brought back, or emptied.
//! Requests told `Pending` wait (bounded) and are then let through, as the proxy's policy
//! engine does.

use std::collections::VecDeque;

use tollgate_limits::{
    Cluster, Decision, Kind, LimitId, MemoryStore, Message, ShardLimiter, Status, UPSTREAM,
};

struct Waiting {
    since: u64,
    count: u64,
}

pub struct Process {
    pub shards: Vec<ShardLimiter>,
    /// Messages between this process's shards, due at the time given.
    local: VecDeque<(u64, Message)>,
    /// Operations for the store, taken at the next sync.
    upstream: Vec<Message>,
    /// Answers from the store, due at the time given.
    answers: VecDeque<(u64, Message)>,
    waiting: Vec<VecDeque<Waiting>>,
    phase: u64,
    /// What the link last told the shards.
    up: bool,
    epoch: u32,
    told: bool,
}

pub struct Cluster2 {
    pub procs: Vec<Process>,
    pub store: MemoryStore,
    pub store_up: bool,
    pub id: LimitId,
    pub kind: Kind,
    pub key: Vec<u8>,
    pub now: u64,
    pub sync_ms: u64,
    pub rtt_ms: u64,
    pub local_delay_ms: u64,
    pub wait_ms: u64,
    out: Vec<Message>,
    /// Calls admitted per millisecond, all processes together, and per process.
    pub admitted: Vec<u64>,
    pub admitted_by: Vec<Vec<u64>>,
    pub denied: u64,
    pub pendings: u64,
    /// Requests that waited too long and were let through.
    pub let_through: u64,
    /// Longest a request waited, ms.
    pub longest_wait: u64,
    pub store_ops: u64,
    /// Tokens per kind of store operation: asked, granted, charged, returned, moved.
    pub op_tokens: [u64; 5],
    /// `retry_after_ms` of the last refusal, and when it was.
    pub last_retry_ms: u64,
    pub last_denied_at: u64,
    /// Prints a line at the end of every `trace_ms` (0: never): for diagnosis.
    pub trace_ms: u64,
    /// Messages and decisions of process 0 in this span are printed.
    pub trace_span: std::ops::Range<u64>,
}

impl Cluster2 {
    pub fn new(procs: u16, shards: u16, kind: Kind, cluster: Cluster) -> Cluster2 {
        Cluster2 {
            procs: (0..procs)
                .map(|p| Process {
                    shards: (0..shards)
                        .map(|s| ShardLimiter::new(s, shards, 1000).with_upstream(cluster))
                        .collect(),
                    local: VecDeque::new(),
                    upstream: Vec::new(),
                    answers: VecDeque::new(),
                    waiting: (0..shards).map(|_| VecDeque::new()).collect(),
                    phase: (u64::from(p) * 17) % cluster.sync_ms.max(1),
                    up: true,
                    epoch: 0,
                    told: false,
                })
                .collect(),
            store: MemoryStore::new(),
            store_up: true,
            id: LimitId(7),
            kind,
            key: b"client-1".to_vec(),
            now: 0,
            sync_ms: cluster.sync_ms,
            rtt_ms: 1,
            local_delay_ms: 1,
            wait_ms: 20,
            out: Vec::new(),
            admitted: Vec::new(),
            admitted_by: (0..procs).map(|_| Vec::new()).collect(),
            denied: 0,
            pendings: 0,
            let_through: 0,
            longest_wait: 0,
            store_ops: 0,
            op_tokens: [0; 5],
            last_retry_ms: 0,
            last_denied_at: 0,
            trace_ms: 0,
            trace_span: 0..0,
        }
    }

    fn send(&mut self, p: usize) {
        for m in self.out.drain(..) {
            if m.to() == UPSTREAM {
                self.procs[p].upstream.push(m);
            } else {
                self.procs[p]
                    .local
                    .push_back((self.now + self.local_delay_ms, m));
            }
        }
    }

    fn admit(&mut self, p: usize, count: u64) {
        let t = self.now as usize;
        for v in [&mut self.admitted, &mut self.admitted_by[p]] {
            if v.len() <= t {
                v.resize(t + 1, 0);
            }
            v[t] += count;
        }
    }

    /// One request of one call on shard `s` of process `p`, now.
    pub fn request(&mut self, p: usize, s: usize) {
        let d = self.procs[p].shards[s].check(
            self.id,
            &self.kind,
            &self.key,
            1,
            self.now,
            &mut self.out,
        );
        self.send(p);
        self.decided(p, s, d, self.now, 1);
    }

    fn decided(&mut self, p: usize, s: usize, d: Decision, since: u64, count: u64) {
        if self.trace_ms > 0 && p == 0 && self.trace_span.contains(&self.now) {
            eprintln!("t={} p{p}/{s}: {d:?}", self.now);
        }
        match d {
            Decision::Allowed { .. } => {
                self.longest_wait = self.longest_wait.max(self.now - since);
                self.admit(p, count)
            }
            Decision::Denied { retry_after_ms, .. } => {
                self.last_retry_ms = retry_after_ms;
                self.last_denied_at = self.now;
                self.denied += 1
            }
            Decision::Pending => {
                self.pendings += 1;
                self.procs[p].waiting[s].push_back(Waiting { since, count });
            }
        }
    }

    fn recheck(&mut self, p: usize, s: usize) {
        for _ in 0..self.procs[p].waiting[s].len() {
            let Some(w) = self.procs[p].waiting[s].pop_front() else {
                break;
            };
            let d = self.procs[p].shards[s].check(
                self.id,
                &self.kind,
                &self.key,
                w.count,
                self.now,
                &mut self.out,
            );
            self.send(p);
            if d == Decision::Pending {
                self.procs[p].waiting[s].push_back(w);
            } else {
                self.decided(p, s, d, w.since, w.count);
            }
        }
    }

    /// The store link of process `p` at its sync: status changes, then the batch.
    fn sync(&mut self, p: usize) {
        let batch = std::mem::take(&mut self.procs[p].upstream);
        let up = self.store_up;
        let n = self.procs.len() as u32;
        let proc_ = &mut self.procs[p];
        if up != proc_.up || !proc_.told {
            if up != proc_.up {
                proc_.epoch += 1;
            }
            proc_.up = up;
            proc_.told = true;
            let status = Status {
                up,
                processes: n,
                epoch: proc_.epoch,
            };
            for s in 0..proc_.shards.len() {
                proc_
                    .answers
                    .push_back((self.now, Message::status(s as u16, status)));
            }
        }
        if !up {
            return;
        }
        for m in batch {
            let Some(req) = m.upstream() else { continue };
            self.store_ops += 1;
            match req.op {
                tollgate_limits::Op::Ask { want, .. } => self.op_tokens[0] += want[0],
                tollgate_limits::Op::Charge { tokens, .. } => self.op_tokens[2] += tokens[0],
                tollgate_limits::Op::Return { tokens, .. } => self.op_tokens[3] += tokens[0],
                tollgate_limits::Op::Move { tokens, .. } => self.op_tokens[4] += tokens[0],
            }
            if let Some(answer) = self.store.apply(&req) {
                self.op_tokens[1] += answer.granted[0];
                if let Some(reply) = m.answer(answer) {
                    self.procs[p]
                        .answers
                        .push_back((self.now + self.rtt_ms, reply));
                }
            }
        }
    }

    /// Delivers what is due in every process, re-checking waiting requests.
    pub fn deliver(&mut self) {
        for p in 0..self.procs.len() {
            for _round in 0..64 {
                let mut touched = vec![false; self.procs[p].shards.len()];
                let mut any = false;
                loop {
                    let now = self.now;
                    let proc_ = &mut self.procs[p];
                    let next = if proc_.answers.front().is_some_and(|(at, _)| *at <= now) {
                        proc_.answers.pop_front()
                    } else if proc_.local.front().is_some_and(|(at, _)| *at <= now) {
                        proc_.local.pop_front()
                    } else {
                        None
                    };
                    let Some((_, m)) = next else { break };
                    let to = m.to() as usize;
                    if self.trace_ms > 0 && p == 0 && self.trace_span.contains(&self.now) {
                        eprintln!("t={} p{p}: {m:?}", self.now);
                    }
                    touched[to] = true;
                    any = true;
                    self.procs[p].shards[to].receive(m, self.now, &mut self.out);
                    self.send(p);
                }
                for (s, t) in touched.iter().enumerate() {
                    if *t {
                        self.recheck(p, s);
                    }
                }
                if !any {
                    break;
                }
            }
        }
    }

    /// Ends the millisecond: lets through requests that waited too long, ticks the shards,
    /// runs the store links whose sync is due, moves the clock.
    pub fn end_ms(&mut self) {
        for p in 0..self.procs.len() {
            for s in 0..self.procs[p].shards.len() {
                while self.procs[p].waiting[s]
                    .front()
                    .is_some_and(|w| self.now >= w.since + self.wait_ms)
                {
                    if let Some(w) = self.procs[p].waiting[s].pop_front() {
                        if self.trace_ms > 0 {
                            eprintln!("t={}: let through on {p}/{s} (since {})", self.now, w.since);
                        }
                        self.let_through += 1;
                        self.admit(p, w.count);
                    }
                }
                self.procs[p].shards[s].tick(self.now, &mut self.out);
                self.send(p);
            }
            if self.now % self.sync_ms == self.procs[p].phase {
                self.sync(p);
            }
        }
        if self.trace_ms > 0 && self.now % self.trace_ms == self.trace_ms - 1 {
            self.trace();
        }
        self.now += 1;
    }

    fn trace(&mut self) {
        let from = self.now + 1 - self.trace_ms;
        let mut held = Vec::new();
        for p in &mut self.procs {
            for s in &mut p.shards {
                held.push(s.held(self.id, &self.key)[0]);
            }
        }
        let by: Vec<u64> = (0..self.procs.len())
            .map(|p| sum(&self.admitted_by[p], from, self.now + 1))
            .collect();
        eprintln!(
            "t={from}: admitted {by:?} held {held:?} store ops {:?} denied {}",
            self.op_tokens, self.denied
        );
    }

    /// Runs until `until_ms`, calling `traffic(sim)` once per millisecond after delivery.
    pub fn run(&mut self, until_ms: u64, mut traffic: impl FnMut(&mut Cluster2)) {
        while self.now < until_ms {
            self.deliver();
            traffic(self);
            self.end_ms();
        }
        for v in std::iter::once(&mut self.admitted).chain(self.admitted_by.iter_mut()) {
            if v.len() < until_ms as usize {
                v.resize(until_ms as usize, 0);
            }
        }
    }

    /// Calls admitted in `[from, to)`, all processes.
    pub fn admitted_in(&self, from: u64, to: u64) -> u64 {
        sum(&self.admitted, from, to)
    }

    /// Calls admitted in `[from, to)` by process `p`.
    pub fn admitted_by_in(&self, p: usize, from: u64, to: u64) -> u64 {
        sum(&self.admitted_by[p], from, to)
    }

    /// Most calls admitted in any `len` ms starting at a multiple of `step` within
    /// `[from, to)`.
    pub fn max_in_spans(&self, len: u64, step: u64, from: u64, to: u64) -> u64 {
        let mut max = 0;
        let mut start = from;
        while start + len <= to {
            max = max.max(self.admitted_in(start, start + len));
            start += step;
        }
        max
    }
}

fn sum(v: &[u64], from: u64, to: u64) -> u64 {
    let to = (to as usize).min(v.len());
    let from = (from as usize).min(to);
    v[from..to].iter().sum()
}

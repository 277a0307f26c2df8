//! The policy engine's [`Throttler`] and [`ConcurrencyLimiter`] over a shard's limiter:
//! translates counters and concurrency keys, forwards the messages the limiter emits (to
//! other shards, or to the Redis thread), and takes in those other shards and the Redis
//! thread send.

use std::cell::RefCell;

use tollgate_limits::{Decision, Exhausted, Kind, LimitId, Message, ShardLimiter, Slot};
use tollgate_policies::exchange::{Acquire, ConcurrencyLimiter, CounterSpec, Throttler, Verdict};

use super::ShardLink;

pub struct ShardThrottle {
    limiter: RefCell<ShardLimiter>,
    /// Messages the limiter emitted, sent after each call (kept to reuse its buffer).
    out: RefCell<Vec<Message>>,
    link: Option<ShardLink>,
    /// Messages taken in so far (a request waiting for budget watches it).
    received: std::cell::Cell<u64>,
    /// `limit-concurrency`'s lines on this shard.
    pub queues: super::queue::SlotQueues,
}

/// Per-shard share of `rate-limits.max-keys`.
pub fn keys_per_shard(max_keys: u64, shards: usize) -> usize {
    (max_keys / shards.max(1) as u64).max(1) as usize
}

impl ShardThrottle {
    pub fn new(shard: u16, shards: u16, max_keys: usize, link: Option<ShardLink>) -> ShardThrottle {
        let mut limiter = ShardLimiter::new(shard, shards.max(1), max_keys);
        if let Some(cluster) = link.as_ref().and_then(|l| l.cluster) {
            limiter = limiter.with_upstream(cluster);
        }
        ShardThrottle {
            limiter: RefCell::new(limiter),
            out: RefCell::new(Vec::with_capacity(16)),
            link,
            received: std::cell::Cell::new(0),
            queues: super::queue::SlotQueues::default(),
        }
    }

    pub fn link(&self) -> Option<&ShardLink> {
        self.link.as_ref()
    }

    fn flush(&self, out: &mut Vec<Message>) {
        match &self.link {
            Some(link) => out.drain(..).for_each(|m| link.send(m)),
            None => out.clear(),
        }
    }

    /// Takes in what other shards sent.
    pub fn receive_all(&self, now_ms: u64) {
        let Some(link) = &self.link else {
            return;
        };
        let mut limiter = self.limiter.borrow_mut();
        let mut out = self.out.borrow_mut();
        let before = self.received.get();
        while let Ok(m) = link.inbox.try_recv() {
            limiter.receive(m, now_ms, &mut out);
            self.received.set(self.received.get() + 1);
        }
        self.flush(&mut out);
        if self.received.get() != before {
            // Perhaps a release elsewhere: whoever waits in line tries again.
            self.queues.wake_heads();
        }
    }

    /// Periodic upkeep: unspent leases go back, idle keys expire. True while leases are
    /// held (the next tick should come soon: an idle lease is budget other shards lack).
    pub fn tick(&self, now_ms: u64) -> bool {
        let mut out = self.out.borrow_mut();
        let mut limiter = self.limiter.borrow_mut();
        limiter.tick(now_ms, &mut out);
        self.flush(&mut out);
        limiter.holds_leases()
    }

    /// Waits until a message from another shard arrives, or `limit` passes.
    pub async fn wait_for_budget(&self, limit: std::time::Duration) {
        let start = self.received.get();
        let deadline = monoio::time::Instant::now() + limit;
        while self.received.get() == start && monoio::time::Instant::now() < deadline {
            monoio::time::sleep(std::time::Duration::from_micros(500)).await;
            self.receive_all(super::now_ms());
        }
    }

    pub fn keys(&self) -> usize {
        self.limiter.borrow().len()
    }
}

fn verdict(decision: Decision) -> Verdict {
    match decision {
        Decision::Allowed { remaining, total } => Verdict::Allowed { remaining, total },
        Decision::Denied {
            retry_after_ms,
            exhausted,
        } => Verdict::Denied {
            retry_after_ms,
            bandwidth: exhausted == Exhausted::Bytes,
        },
        Decision::Pending => Verdict::Pending,
    }
}

fn kind(c: &CounterSpec) -> Kind {
    if c.rate {
        Kind::Rate {
            calls: c.calls.unwrap_or(u64::MAX),
            period_ms: c.period_ms,
        }
    } else {
        Kind::Quota {
            calls: c.calls,
            bytes: c.bytes,
            period_ms: c.period_ms,
            first_period_start_ms: c.first_period_start_ms.max(0) as u64,
        }
    }
}

impl Throttler for ShardThrottle {
    fn check(&self, c: &CounterSpec, key: &str, count: u64, now_ms: i64) -> Verdict {
        let kind = kind(c);
        let now = now_ms.max(0) as u64;
        let mut out = self.out.borrow_mut();
        let decision = {
            let mut l = self.limiter.borrow_mut();
            if count == 0 {
                l.peek(LimitId(c.id), &kind, key.as_bytes(), now, &mut out)
            } else {
                l.check(LimitId(c.id), &kind, key.as_bytes(), count, now, &mut out)
            }
        };
        self.flush(&mut out);
        verdict(decision)
    }

    fn peek_again(&self, c: &CounterSpec, key: &str, now_ms: i64) -> Verdict {
        let kind = kind(c);
        let mut out = self.out.borrow_mut();
        let decision = self.limiter.borrow_mut().peek_again(
            LimitId(c.id),
            &kind,
            key.as_bytes(),
            now_ms.max(0) as u64,
            &mut out,
        );
        self.flush(&mut out);
        verdict(decision)
    }

    fn add(&self, c: &CounterSpec, key: &str, count: u64, bytes: u64, now_ms: i64) {
        let kind = kind(c);
        let mut out = self.out.borrow_mut();
        self.limiter.borrow_mut().add(
            LimitId(c.id),
            &kind,
            key.as_bytes(),
            count,
            bytes,
            now_ms.max(0) as u64,
            &mut out,
        );
        self.flush(&mut out);
    }
}

impl ConcurrencyLimiter for ShardThrottle {
    fn try_acquire(&self, key: &str, max: u32) -> Acquire {
        let mut out = self.out.borrow_mut();
        let got = self.limiter.borrow_mut().acquire(
            key.as_bytes(),
            u64::from(max),
            super::now_ms(),
            &mut out,
        );
        self.flush(&mut out);
        match got {
            Slot::Taken => Acquire::Taken,
            Slot::Full => Acquire::Full,
            Slot::Pending => Acquire::Pending,
        }
    }

    fn release(&self, key: &str) {
        let mut out = self.out.borrow_mut();
        self.limiter
            .borrow_mut()
            .release(key.as_bytes(), super::now_ms(), &mut out);
        self.flush(&mut out);
        self.queues.wake_head(key);
    }

    fn queued_ahead(&self, key: &str, ticket: Option<u64>) -> bool {
        self.queues.ahead(key, ticket)
    }
}

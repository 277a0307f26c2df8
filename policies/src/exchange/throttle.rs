//! What throttling policies need from the gateway: the shard's counters. The proxy
//! implements [`Throttler`] over its shard limiter (budgets exchanged between shards);
//! the conformance tests use a single-shard one.

/// One counter as a policy asks about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterSpec {
    pub id: u64,
    /// Rate (sliding window) or quota (fixed windows from `first_period_start_ms`).
    pub rate: bool,
    pub calls: Option<u64>,
    /// Quota bandwidth, in bytes.
    pub bytes: Option<u64>,
    /// Renewal period; 0 for a quota that never renews.
    pub period_ms: u64,
    pub first_period_start_ms: i64,
}

/// The answer about one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted (and counted, unless only looked at): calls left and the limit.
    Allowed { remaining: u64, total: u64 },
    /// Over the limit: when enough frees up (rate) or the window renews (quota);
    /// `bandwidth`: a quota's kilobytes ran out, not its calls.
    Denied {
        retry_after_ms: u64,
        bandwidth: bool,
    },
    /// The budget is with another shard: ask again after a short wait.
    Pending,
}

pub trait Throttler {
    /// Admits `count` calls for `key` (0: only looks).
    fn check(&self, counter: &CounterSpec, key: &str, count: u64, now_ms: i64) -> Verdict;
    /// Counts after the fact (an increment-condition that read the response; a quota's
    /// bandwidth), whatever the limit says.
    fn add(&self, counter: &CounterSpec, key: &str, count: u64, bytes: u64, now_ms: i64);
    /// Looks again for a request that was told `Pending` and waited: the same answer as
    /// `check(.., 0, ..)`, not counted as new demand.
    fn peek_again(&self, counter: &CounterSpec, key: &str, now_ms: i64) -> Verdict {
        self.check(counter, key, 0, now_ms)
    }
}

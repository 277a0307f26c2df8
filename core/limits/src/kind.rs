//! The vocabulary callers speak: which limit ([`LimitId`]), what it allows ([`Kind`]) and
//! the answer to a request ([`Decision`]). Plain data, no behaviour beyond reading a
//! [`Kind`]'s limits; the window arithmetic lives in `geometry`.

/// One policy instance (or, for APIM's shared `counter-key` counters, one shared counter
/// family): the same key under two different ids is counted separately. The caller picks
/// the numbers; the engine only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LimitId(pub u64);

/// What a limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `rate-limit` / `rate-limit-by-key`: at most `calls` in any sliding window of
    /// `period_ms` (see the crate docs for how "sliding" is measured). `period_ms` 0 is
    /// read as 1.
    Rate { calls: u64, period_ms: u64 },
    /// `quota` / `quota-by-key`: at most `calls` calls and/or `bytes` bytes (APIM's
    /// `bandwidth` is in KB: the caller multiplies by 1024) per fixed window of `period_ms`
    /// starting at `first_period_start_ms` (ms since the epoch of the caller's clock).
    /// `period_ms` 0 is one window for the whole lifetime, never renewed. `None` for a
    /// dimension means not limited in it.
    Quota {
        calls: Option<u64>,
        bytes: Option<u64>,
        period_ms: u64,
        first_period_start_ms: u64,
    },
}

/// Which dimension of a limit ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhausted {
    /// Calls (every rate limit; a quota's `calls`): APIM's "Rate limit is exceeded" /
    /// "Out of call volume quota".
    Calls,
    /// A quota's bandwidth: "Out of bandwidth quota".
    Bytes,
}

/// The answer to [`check`](crate::ShardLimiter::check) or
/// [`peek`](crate::ShardLimiter::peek).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Admitted. `remaining` is what is left of `total` in the current window: exact on
    /// the key's owner shard, on other shards the local lease plus the owner's last word
    /// (approximate). For a quota limited only in bytes both are in bytes.
    Allowed { remaining: u64, total: u64 },
    /// Refused. `retry_after_ms`: time until enough capacity frees up (for a quota, until
    /// the window renews); `u64::MAX` when it never will (the request needs more than the
    /// limit, or a lifetime quota is spent).
    Denied {
        retry_after_ms: u64,
        exhausted: Exhausted,
    },
    /// This shard holds no budget for the key and has asked the key's owner shard; wait
    /// for messages (a few ms at most) and ask again, or give up (fail open or closed: the
    /// caller decides). Never returned with one shard.
    Pending,
}

/// Index of the calls dimension in per-unit arrays.
pub(crate) const CALLS: usize = 0;
/// Index of the bytes dimension in per-unit arrays.
pub(crate) const BYTES: usize = 1;

impl Kind {
    /// Limits per unit (`[calls, bytes]`), `None` where not limited.
    pub(crate) fn limits(&self) -> [Option<u64>; 2] {
        match *self {
            Kind::Rate { calls, .. } => [Some(calls), None],
            Kind::Quota { calls, bytes, .. } => [calls, bytes],
        }
    }
}

impl Exhausted {
    pub(crate) fn of_unit(unit: usize) -> Exhausted {
        if unit == BYTES {
            Exhausted::Bytes
        } else {
            Exhausted::Calls
        }
    }
}

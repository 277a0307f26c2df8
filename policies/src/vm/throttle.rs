//! Running `rate-limit`, `rate-limit-by-key`, `quota` and `quota-by-key` against the
//! host's [`Throttler`].
//!
//! All counters of a policy are first looked at (nothing counted): if any budget is with
//! another shard the request waits once, if any is exhausted the request is refused
//! (429 for rates, 403 for quotas, with APIM's messages and `Retry-After`), and only then
//! are they counted. Counts whose increment-condition reads the response, and quota
//! bandwidth, are made after the response ([`after_response`]).

use bumpalo::collections::String as BString;
use std::fmt::Write as _;

use crate::exchange::{CounterSpec, Verdict};
use crate::expr::{ExprScratch, Field, Value};
use crate::host::PolicyHost;
use crate::program::{Counter, InsnIdx, Program, Throttle, ThrottleKind};

use super::{eval, text, Failure, Step};

pub const RATE_LIMIT_EXCEEDED: &str = "RateLimitExceeded";
pub const QUOTA_EXCEEDED: &str = "QuotaExceeded";

/// Counters one policy may hold (its own and its `<api>`/`<operation>` children); the
/// compiler refuses more.
pub const MAX_COUNTERS: usize = 8;

/// What [`after_response`] does for a deferred entry.
pub const COUNT_IF: u8 = 1;
pub const BANDWIDTH: u8 = 2;

pub(super) fn run<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    at: InsnIdx,
    t: &'a Throttle,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<Step, Failure> {
    let Some(throttler) = host.throttler() else {
        return Ok(Step::Next);
    };
    let key: &'a str = match &t.counter_key {
        Some(k) => text(prog, k, host, scratch)?,
        // rate-limit and quota count per subscription, and only with one (APIM).
        None => match host.field(Field::SubscriptionId) {
            Value::Str(id) => id,
            _ => return Ok(Step::Next),
        },
    };
    let now = now_ms(host);
    let mut count = match &t.increment_count {
        Some(op) => positive(text(prog, op, host, scratch)?, "increment-count")?,
        None => 1,
    };
    if let Some(cond) = t.increment_condition {
        if t.count_after_response {
            host.defer_count(at.0, key, COUNT_IF);
            count = 0;
        } else if !matches!(eval(prog, cond, host, scratch)?, Value::Bool(true)) {
            count = 0;
        }
    }
    // Look first: nothing is counted unless every counter admits the call.
    let mut specs: [Option<CounterSpec>; MAX_COUNTERS] = [None; MAX_COUNTERS];
    let mut n = 0;
    let mut least: Option<(u64, u64)> = None;
    for c in t.counters.iter() {
        if n == specs.len() {
            break;
        }
        if !applies(c, host) {
            continue;
        }
        let spec = spec(prog, t, c, host, scratch)?;
        let look = if host.budget_retry() {
            throttler.peek_again(&spec, key, now)
        } else {
            throttler.check(&spec, key, 0, now)
        };
        match look {
            Verdict::Pending if host.await_budget() => return Ok(Step::Budget),
            // Still with another shard after the wait: let the call through (fail open)
            // rather than refuse what may well be within the limit.
            Verdict::Pending => {}
            Verdict::Denied {
                retry_after_ms,
                bandwidth,
            } => return Err(denied(t, host, retry_after_ms, bandwidth)),
            Verdict::Allowed { remaining, total } => {
                if least.is_none_or(|(r, _)| remaining < r) {
                    least = Some((remaining, total));
                }
            }
        }
        specs[n] = Some(spec);
        n += 1;
    }
    if count > 0 {
        for spec in specs.iter().flatten() {
            match throttler.check(spec, key, count, now) {
                Verdict::Allowed { remaining, total } => {
                    if least.is_none_or(|(r, _)| remaining <= r) {
                        least = Some((remaining, total));
                    }
                }
                // `increment-count` more than what is left.
                Verdict::Denied {
                    retry_after_ms,
                    bandwidth,
                } => return Err(denied(t, host, retry_after_ms, bandwidth)),
                // The budget is still with another shard after the wait and the call goes
                // through (fail open): it is counted all the same, after the fact, so the
                // owner's count stays true and the next calls see it.
                Verdict::Pending => throttler.add(spec, key, count, 0, now),
            }
        }
    }
    if t.kind == ThrottleKind::Quota && specs.iter().flatten().any(|s| s.bytes.is_some()) {
        host.defer_count(at.0, key, BANDWIDTH);
    }
    if let Some((remaining, total)) = least {
        let arena = host.arena();
        let num = |n: u64| -> &'a str {
            let mut s = BString::new_in(arena);
            let _ = write!(s, "{n}");
            s.into_bump_str()
        };
        if let Some(h) = &t.remaining_header {
            let name: &'a str = arena.alloc_str(h);
            host.add_final_response_header(name, num(remaining));
        }
        if let Some(h) = &t.total_header {
            let name: &'a str = arena.alloc_str(h);
            host.add_final_response_header(name, num(total));
        }
        if let Some(v) = &t.remaining_variable {
            let name: &'a str = arena.alloc_str(v);
            host.set_variable(name, Value::Int(remaining.min(i32::MAX as u64) as i32));
        }
    }
    Ok(Step::Next)
}

/// The exchange's clock (`DateTime.UtcNow`, injected in tests) in Unix milliseconds.
fn now_ms<'a, H: PolicyHost<'a>>(host: &H) -> i64 {
    let now = host.utc_now();
    now.unix_seconds()
        .saturating_mul(1000)
        .saturating_add(now.ticks.rem_euclid(10_000_000) / 10_000)
}

/// Whether a counter applies to this call (its `<api>` / `<operation>` child matches).
fn applies<'a, H: PolicyHost<'a>>(c: &Counter, host: &H) -> bool {
    let matches = |want: &Option<(Box<str>, bool)>, id: Field, name: Field| match want {
        None => true,
        Some((w, true)) => matches!(host.field(id), Value::Str(s) if s == &**w),
        Some((w, false)) => matches!(host.field(name), Value::Str(s) if s == &**w),
    };
    matches(&c.api, Field::ApiId, Field::ApiName)
        && matches(&c.operation, Field::OperationId, Field::OperationName)
}

fn positive(s: &str, what: &str) -> Result<u64, Failure> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| super::expression_failure(format!("{what} `{s}` is not a positive number")))
}

fn spec<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    t: &Throttle,
    c: &'a Counter,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<CounterSpec, Failure> {
    let calls = match &c.calls {
        Some(op) => Some(positive(text(prog, op, host, scratch)?, "calls")?),
        None => None,
    };
    let period: u64 = text(prog, &c.period, host, scratch)?
        .trim()
        .parse()
        .map_err(|_| super::expression_failure("renewal-period is not a number".into()))?;
    // A subscription's quota windows start when the subscription does (APIM).
    let first_period_start_ms = match (t.kind, &t.counter_key) {
        (ThrottleKind::Quota, None) => match host.field(Field::SubscriptionStartDate) {
            Value::DateTime(d) => d.unix_seconds().saturating_mul(1000),
            _ => 0,
        },
        _ => t.first_period_start_ms,
    };
    Ok(CounterSpec {
        id: c.id,
        rate: t.kind == ThrottleKind::Rate,
        calls,
        bytes: c.kilobytes.map(|k| k.saturating_mul(1024)),
        period_ms: period.saturating_mul(1000),
        first_period_start_ms,
    })
}

/// APIM's 429 / 403, with `Retry-After` (or its configured name) on the response.
fn denied<'a, H: PolicyHost<'a>>(
    t: &'a Throttle,
    host: &mut H,
    retry_after_ms: u64,
    bandwidth: bool,
) -> Failure {
    let secs = retry_after_ms.div_ceil(1000).max(1);
    let arena = host.arena();
    let mut v = BString::new_in(arena);
    let _ = write!(v, "{secs}");
    let value: &'a str = v.into_bump_str();
    let name: &'a str = arena.alloc_str(&t.retry_after_header);
    host.add_final_response_header(name, value);
    if let Some(var) = &t.retry_after_variable {
        let var: &'a str = arena.alloc_str(var);
        host.set_variable(var, Value::Int(secs.min(i32::MAX as u64) as i32));
    }
    let (status, reason, message) = match t.kind {
        ThrottleKind::Rate => (
            429,
            RATE_LIMIT_EXCEEDED,
            format!("Rate limit is exceeded. Try again in {secs} seconds."),
        ),
        ThrottleKind::Quota => {
            let what = if bandwidth {
                "bandwidth"
            } else {
                "call volume"
            };
            (
                403,
                QUOTA_EXCEEDED,
                format!(
                    "Out of {what} quota. Quota will be replenished in {}.",
                    timespan(secs)
                ),
            )
        }
    };
    Failure {
        status,
        message,
        source: t.policy,
        reason,
        at: InsnIdx(0),
    }
}

/// .NET TimeSpan text: `[d.]hh:mm:ss`.
pub fn timespan(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// After the response: counts whose increment-condition reads it, and quota bandwidth
/// (`bytes`: request and response bodies the gateway relayed).
pub fn after_response<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    deferred: &[(u32, &'a str, u8)],
    bytes: u64,
    host: &mut H,
    scratch: &mut ExprScratch,
) {
    let Some(throttler) = host.throttler() else {
        return;
    };
    let now = now_ms(host);
    for &(at, key, what) in deferred {
        let Some(crate::program::Insn::Throttle(t)) = prog.insns.get(at as usize) else {
            continue;
        };
        let count = if what == COUNT_IF {
            let holds = t
                .increment_condition
                .is_some_and(|c| matches!(eval(prog, c, host, scratch), Ok(Value::Bool(true))));
            if !holds {
                continue;
            }
            match &t.increment_count {
                Some(op) => text(prog, op, host, scratch)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(1),
                None => 1,
            }
        } else {
            0
        };
        let bytes = if what == BANDWIDTH { bytes } else { 0 };
        for c in t.counters.iter().filter(|c| applies(c, host)) {
            if let Ok(spec) = spec(prog, t, c, host, scratch) {
                if what == BANDWIDTH && spec.bytes.is_none() {
                    continue;
                }
                throttler.add(&spec, key, count, bytes, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timespans_as_dotnet_writes_them() {
        assert_eq!(super::timespan(25_280), "07:01:20");
        assert_eq!(super::timespan(59), "00:00:59");
        assert_eq!(super::timespan(90_061), "1.01:01:01");
    }
}

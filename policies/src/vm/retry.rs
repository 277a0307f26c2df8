//! `retry` delays by APIM's rules.

/// The wait before retry number `attempt` (1-based), by APIM's rules: fixed `interval`;
/// with `delta`, linear (`interval + (attempt-1)·delta`); with `delta` and
/// `max-interval`, exponential (`interval + (2^attempt - 1)·random(0.8·delta, 1.2·delta)`)
/// capped at `max-interval`; `first-fast-retry` makes the first retry immediate.
pub fn retry_delay(
    r: &crate::program::RetrySpec,
    attempt: u32,
    random: u64,
) -> std::time::Duration {
    use std::time::Duration;
    if r.first_fast_retry && attempt == 1 {
        return Duration::ZERO;
    }
    let delay = match (r.delta, r.max_interval) {
        (Some(delta), Some(max)) => {
            // random in [0.8, 1.2) from the injected source.
            let factor = 0.8 + 0.4 * ((random >> 11) as f64 / (1u64 << 53) as f64);
            let growth = (2f64.powi(attempt.min(30) as i32) - 1.0) * delta.as_secs_f64() * factor;
            let secs = (r.interval.as_secs_f64() + growth).min(max.as_secs_f64());
            Duration::from_secs_f64(secs.max(0.0))
        }
        (Some(delta), None) => r.interval + delta * attempt.saturating_sub(1),
        (None, _) => r.interval,
    };
    match r.max_interval {
        Some(max) => delay.min(max),
        None => delay,
    }
}

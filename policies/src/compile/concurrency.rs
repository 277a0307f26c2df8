//! `limit-concurrency`: at most `max-count` executions of the children at once per key.
//! Tollgate adds a queue: `queue-timeout` (seconds, decimals allowed, at most 300) lets a
//! request wait for a slot instead of failing at once, behind at most `queue-length`
//! others (default 100) per key and shard.

use crate::program::Insn;

use super::{Compiler, Ctx};

/// Requests that may wait for a key's slots on one shard, unless `queue-length` says.
pub const DEFAULT_QUEUE_LENGTH: u32 = 100;

pub(super) fn limit_concurrency(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(key) = c.required_operand(ctx, "key") else {
        return;
    };
    let Some(max) = c.literal(ctx, "max-count", None, "a positive number", |v| {
        v.parse::<u32>().ok().filter(|n| *n > 0)
    }) else {
        return;
    };
    let queue_ms = c
        .literal(
            ctx,
            "queue-timeout",
            Some(0.0),
            "seconds to wait for a slot, from 0 (no queue, APIM) to 300; e.g. 2.5",
            |v| v.parse::<f64>().ok().filter(|s| (0.0..=300.0).contains(s)),
        )
        .map_or(0, |s| (s * 1000.0).round() as u32);
    let queue_len = c
        .literal(
            ctx,
            "queue-length",
            Some(DEFAULT_QUEUE_LENGTH),
            "a positive number of waiting requests",
            |v| v.parse::<u32>().ok().filter(|n| *n > 0),
        )
        .unwrap_or(DEFAULT_QUEUE_LENGTH);
    c.emit(
        ctx,
        Insn::ConcurrencyEnter {
            key,
            max,
            queue_ms,
            queue_len,
        },
    );
    c.body(ctx);
    c.emit(ctx, Insn::ConcurrencyExit);
}

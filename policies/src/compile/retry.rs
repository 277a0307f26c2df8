//! `retry`: run the children, then while the condition holds (and attempts remain),
//! wait and run them again.

use std::time::Duration;

use crate::exchange::MAX_RETRIES;
use crate::program::{Insn, RetrySpec};

use super::attrs::parse_bool;
use super::{Compiler, Ctx};

fn seconds(v: &str) -> Option<Duration> {
    v.parse::<u64>().ok().map(Duration::from_secs)
}

pub(super) fn retry(c: &mut Compiler, ctx: &Ctx<'_>) {
    let id = c.prog.retries;
    if usize::from(id) >= MAX_RETRIES {
        c.error(
            ctx.el,
            format!("more than {MAX_RETRIES} retry policies in one pipeline"),
            None,
        );
        return;
    }
    c.prog.retries += 1;
    let count = c.literal(
        ctx,
        "count",
        None,
        "a number of retries from 1 to 50",
        |v| v.parse::<u32>().ok().filter(|n| (1..=50).contains(n)),
    );
    let interval = c.literal(ctx, "interval", None, "seconds, e.g. 1", seconds);
    let max_interval = c
        .literal(ctx, "max-interval", Some(None), "seconds", |v| {
            seconds(v).map(Some)
        })
        .flatten();
    let delta = c
        .literal(ctx, "delta", Some(None), "seconds", |v| {
            seconds(v).map(Some)
        })
        .flatten();
    let first_fast_retry = c
        .literal(
            ctx,
            "first-fast-retry",
            Some(false),
            "true or false",
            parse_bool,
        )
        .unwrap_or(false);
    if let (Some(max), Some(i)) = (max_interval, interval) {
        if max < i {
            c.error(
                ctx.el,
                "max-interval must not be below interval".into(),
                None,
            );
            return;
        }
    }
    c.emit(ctx, Insn::RetryStart { id });
    let body = c.here();
    c.body(ctx);
    // Compiled after the body: a forward-request in it makes context.Response readable.
    let condition = c.condition(ctx, ctx.el, "condition");
    if let (Some(condition), Some(count), Some(interval)) = (condition, count, interval) {
        let spec = RetrySpec {
            id,
            condition,
            count,
            interval,
            max_interval,
            delta,
            first_fast_retry,
            body,
        };
        c.emit(ctx, Insn::RetryCheck(Box::new(spec)));
    }
}

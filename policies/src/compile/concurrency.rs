//! `limit-concurrency`: at most `max-count` executions of the children at once per key.

use crate::program::Insn;

use super::{Compiler, Ctx};

pub(super) fn limit_concurrency(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(key) = c.required_operand(ctx, "key") else {
        return;
    };
    let Some(max) = c.literal(ctx, "max-count", None, "a positive number", |v| {
        v.parse::<u32>().ok().filter(|n| *n > 0)
    }) else {
        return;
    };
    c.emit(ctx, Insn::ConcurrencyEnter { key, max });
    c.body(ctx);
    c.emit(ctx, Insn::ConcurrencyExit);
}

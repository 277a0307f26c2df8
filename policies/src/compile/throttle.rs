//! `rate-limit`, `rate-limit-by-key`, `quota` and `quota-by-key`.
//!
//! Each becomes one instruction holding its counters: the policy's own and one per
//! `<api>` / `<operation>` child. Counter ids name the policy and the document it is
//! written in (`product/ID`, `api/ID`, …, and the child's api/operation), so the same
//! policy merged into several programs counts once and a reload (or an edit that moves
//! lines) keeps the counts; by-key counters are shared by every policy using the same
//! key value (APIM's rule), so their id is the kind alone.

use crate::program::{Counter, Insn, Operand, Section, Throttle, ThrottleKind};
use crate::xml::MergedElement;

use super::attrs::Ctx;
use super::Compiler;

/// APIM's longest rate-limit renewal period, in seconds.
pub const MAX_RATE_PERIOD: u64 = 300;

/// Shared ids of by-key counters (one counter per key value and kind).
const RATE_BY_KEY_ID: u64 = 0x7261_7465_6b65_7931;
const QUOTA_BY_KEY_ID: u64 = 0x7175_6f74_616b_6579;

pub(super) fn rate_limit(c: &mut Compiler, ctx: &Ctx<'_>, by_key: bool) {
    let base = super::owner_hash(ctx.el, &[]);
    let counter = if by_key {
        let calls = c.required_operand(ctx, "calls");
        let period = c.required_operand(ctx, "renewal-period");
        check_literal(c, ctx, "calls", &calls, u64::MAX);
        check_literal(c, ctx, "renewal-period", &period, MAX_RATE_PERIOD);
        Counter {
            id: RATE_BY_KEY_ID,
            calls,
            kilobytes: None,
            period: period.unwrap_or(Operand::Text("1".into())),
            api: None,
            operation: None,
        }
    } else {
        let Some((calls, period)) = literal_limits(c, ctx.el, true) else {
            return;
        };
        Counter {
            id: base,
            calls: Some(Operand::Text(calls.to_string().into())),
            kilobytes: None,
            period: Operand::Text(period.to_string().into()),
            api: None,
            operation: None,
        }
    };
    let mut counters = vec![counter];
    if !by_key {
        children(c, ctx.el, ThrottleKind::Rate, &mut counters);
    }
    let t = throttle(c, ctx, ThrottleKind::Rate, by_key, counters);
    c.emit(ctx, Insn::Throttle(Box::new(t)));
}

pub(super) fn quota(c: &mut Compiler, ctx: &Ctx<'_>, by_key: bool) {
    let base = super::owner_hash(ctx.el, &[]);
    let calls = positive(c, ctx.el, "calls");
    let kilobytes = positive(c, ctx.el, "bandwidth");
    let Some(period) = c.literal(
        ctx,
        "renewal-period",
        None,
        "seconds; 0 never renews",
        |v| v.parse::<u64>().ok(),
    ) else {
        return;
    };
    if calls.is_none() && kilobytes.is_none() {
        // The catalog already said so; nothing to count.
        return;
    }
    let mut counters = vec![Counter {
        id: if by_key { QUOTA_BY_KEY_ID } else { base },
        calls: calls.map(|n| Operand::Text(n.to_string().into())),
        kilobytes,
        period: Operand::Text(period.to_string().into()),
        api: None,
        operation: None,
    }];
    if !by_key {
        children(c, ctx.el, ThrottleKind::Quota, &mut counters);
    }
    let mut t = throttle(c, ctx, ThrottleKind::Quota, by_key, counters);
    if by_key {
        if let Some(start) = ctx.el.attr_value("first-period-start") {
            match tollgate_core::access::parse_utc(start.trim()) {
                Some(secs) => t.first_period_start_ms = secs.saturating_mul(1000),
                None => c.error(
                    ctx.el,
                    format!("first-period-start `{start}` is not a UTC date"),
                    Some("e.g. 2026-01-01T00:00:00Z"),
                ),
            }
        }
    }
    c.emit(ctx, Insn::Throttle(Box::new(t)));
}

fn throttle(
    c: &mut Compiler,
    ctx: &Ctx<'_>,
    kind: ThrottleKind,
    by_key: bool,
    counters: Vec<Counter>,
) -> Throttle {
    let max = crate::vm::throttle::MAX_COUNTERS;
    if counters.len() > max {
        c.error(
            ctx.el,
            format!(
                "{} counters (the policy's and its <api>/<operation> children); at most {max}",
                counters.len()
            ),
            Some("split the limits over several policies or scopes"),
        );
    }
    let policy = match (kind, by_key) {
        (ThrottleKind::Rate, false) => "rate-limit",
        (ThrottleKind::Rate, true) => "rate-limit-by-key",
        (ThrottleKind::Quota, false) => "quota",
        (ThrottleKind::Quota, true) => "quota-by-key",
    };
    let counter_key = if by_key {
        c.required_operand(ctx, "counter-key")
    } else {
        None
    };
    // An increment-condition that reads the response is evaluated once the response is
    // there (APIM counts such calls after the backend answered).
    let (increment_condition, count_after_response) = match ctx.el.attr_value("increment-condition")
    {
        Some(text) => {
            let after = text.contains("context.Response");
            let sub = Ctx {
                el: ctx.el,
                section: if after {
                    Section::Outbound
                } else {
                    ctx.section
                },
                path: ctx.path,
                builds_response: false,
            };
            (c.condition(&sub, ctx.el, "increment-condition"), after)
        }
        None => (None, false),
    };
    let increment_count = c.operand_attr(ctx, "increment-count");
    check_literal(c, ctx, "increment-count", &increment_count, u64::MAX);
    let name = |n: &str| ctx.el.attr_value(n).map(|v| v.trim().into());
    Throttle {
        kind,
        policy,
        counter_key,
        increment_condition,
        count_after_response,
        increment_count,
        first_period_start_ms: 0,
        counters: counters.into(),
        retry_after_header: name("retry-after-header-name").unwrap_or_else(|| "Retry-After".into()),
        retry_after_variable: name("retry-after-variable-name"),
        remaining_header: name("remaining-calls-header-name"),
        remaining_variable: name("remaining-calls-variable-name"),
        total_header: name("total-calls-header-name"),
    }
}

/// `<api name|id …><operation name|id …/></api>` children: counters of their own.
fn children(c: &mut Compiler, el: &MergedElement, kind: ThrottleKind, out: &mut Vec<Counter>) {
    let id = |parts: &[&str]| super::owner_hash(el, parts);
    for api in el.elements().filter(|e| e.name == "api") {
        let Some(api_ref) = target(c, api) else {
            continue;
        };
        let api_part = child_part(&api_ref);
        if let Some(counter) = child_counter(c, api, kind, id(&[&api_part])) {
            out.push(Counter {
                api: Some(api_ref.clone()),
                ..counter
            });
        }
        for op in api.elements().filter(|e| e.name == "operation") {
            let Some(op_ref) = target(c, op) else {
                continue;
            };
            let id = id(&[&api_part, &child_part(&op_ref)]);
            if let Some(counter) = child_counter(c, op, kind, id) {
                out.push(Counter {
                    api: Some(api_ref.clone()),
                    operation: Some(op_ref),
                    ..counter
                });
            }
        }
    }
}

fn child_counter(
    c: &mut Compiler,
    el: &MergedElement,
    kind: ThrottleKind,
    id: u64,
) -> Option<Counter> {
    match kind {
        ThrottleKind::Rate => {
            let (calls, period) = literal_limits(c, el, true)?;
            Some(Counter {
                id,
                calls: Some(Operand::Text(calls.to_string().into())),
                kilobytes: None,
                period: Operand::Text(period.to_string().into()),
                api: None,
                operation: None,
            })
        }
        ThrottleKind::Quota => {
            let calls = positive(c, el, "calls");
            let kilobytes = positive(c, el, "bandwidth");
            let period = el.attr_value("renewal-period")?.trim().parse::<u64>().ok();
            let Some(period) = period else {
                c.error(
                    el,
                    "renewal-period must be a number of seconds".into(),
                    None,
                );
                return None;
            };
            if calls.is_none() && kilobytes.is_none() {
                c.error(el, "give calls and/or bandwidth".into(), None);
                return None;
            }
            Some(Counter {
                id,
                calls: calls.map(|n| Operand::Text(n.to_string().into())),
                kilobytes,
                period: Operand::Text(period.to_string().into()),
                api: None,
                operation: None,
            })
        }
    }
}

/// A child's part of its counter's name: `id=orders` or `name=Orders API`.
fn child_part((value, by_id): &(Box<str>, bool)) -> String {
    format!("{}={value}", if *by_id { "id" } else { "name" })
}

/// `name` or `id` of an `<api>` / `<operation>` child (id wins, as in APIM).
fn target(c: &mut Compiler, el: &MergedElement) -> Option<(Box<str>, bool)> {
    match (el.attr_value("id"), el.attr_value("name")) {
        (Some(id), _) => Some((id.trim().into(), true)),
        (None, Some(name)) => Some((name.trim().into(), false)),
        (None, None) => {
            c.error(el, format!("<{}> needs a name or an id", el.name), None);
            None
        }
    }
}

/// Literal `calls` and `renewal-period` (1..=300 s for a rate) of `el`.
fn literal_limits(c: &mut Compiler, el: &MergedElement, rate: bool) -> Option<(u64, u64)> {
    let calls = el
        .attr_value("calls")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0);
    let period = el
        .attr_value("renewal-period")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|p| *p > 0 && (!rate || *p <= MAX_RATE_PERIOD));
    if calls.is_none() {
        c.error(el, "calls must be a positive number".into(), None);
    }
    if period.is_none() {
        c.error(
            el,
            format!("renewal-period must be 1 to {MAX_RATE_PERIOD} seconds"),
            Some("APIM's rate limits renew within 5 minutes; use quota for longer periods"),
        );
    }
    Some((calls?, period?))
}

fn positive(c: &mut Compiler, el: &MergedElement, name: &str) -> Option<u64> {
    let v = el.attr_value(name)?;
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            c.error(el, format!("{name} must be a positive number"), None);
            None
        }
    }
}

/// A literal operand must be a number in 1..=max (expressions are checked per request).
fn check_literal(c: &mut Compiler, ctx: &Ctx<'_>, name: &str, op: &Option<Operand>, max: u64) {
    if let Some(Operand::Text(t)) = op {
        if !t.trim().parse::<u64>().is_ok_and(|n| n > 0 && n <= max) {
            c.error(
                ctx.el,
                format!("{name}=\"{t}\" must be a number from 1 to {max}"),
                None,
            );
        }
    }
}

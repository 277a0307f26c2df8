//! `check-header` and `ip-filter`.

use std::net::IpAddr;

use crate::program::{AddressRange, Insn, Operand};

use super::attrs::{element_text, parse_bool};
use super::{Compiler, Ctx};

pub(super) fn check_header(c: &mut Compiler, ctx: &Ctx<'_>) {
    let name = c.literal(ctx, "name", None, "the header to check", |v| {
        Some(v.to_string())
    });
    let code = c.literal(
        ctx,
        "failed-check-httpcode",
        None,
        "an HTTP status code, e.g. 401",
        |v| v.parse::<u16>().ok().filter(|c| (100..=599).contains(c)),
    );
    let message = c.literal(
        ctx,
        "failed-check-error-message",
        None,
        "the error message",
        |v| Some(v.to_string()),
    );
    let ignore_case = c.literal(ctx, "ignore-case", None, "true or false", parse_bool);
    let values: Vec<Box<str>> = ctx
        .el
        .elements()
        .filter(|e| e.name == "value")
        .map(|v| element_text(v).trim().into())
        .collect();
    if let (Some(name), Some(failed_code), Some(message), Some(ignore_case)) =
        (name, code, message, ignore_case)
    {
        c.emit(
            ctx,
            Insn::CheckHeader {
                name: name.into(),
                failed_code,
                failed_message: message.into(),
                ignore_case,
                values: values.into(),
            },
        );
    }
}

pub(super) fn ip_filter(c: &mut Compiler, ctx: &Ctx<'_>) {
    // APIM allows an expression for `action`; it must then give allow or forbid.
    let action = match ctx.el.attr_value("action") {
        Some(v) if crate::expr::is_expression(v.trim()) => c.operand_attr(ctx, "action"),
        _ => c.literal(ctx, "action", None, "allow or forbid", |v| {
            matches!(v, "allow" | "forbid").then(|| Operand::Text(v.into()))
        }),
    };
    let mut ranges = Vec::new();
    let mut listed = 0;
    for child in ctx.el.elements() {
        listed += 1;
        match child.name.as_str() {
            "address" => match element_text(child).trim().parse::<IpAddr>() {
                Ok(ip) => ranges.push(AddressRange { from: ip, to: ip }),
                Err(_) => c.error(
                    child,
                    format!("`{}` is not an IP address", element_text(child).trim()),
                    None,
                ),
            },
            "address-range" => {
                let from = child
                    .attr_value("from")
                    .and_then(|v| v.trim().parse::<IpAddr>().ok());
                let to = child
                    .attr_value("to")
                    .and_then(|v| v.trim().parse::<IpAddr>().ok());
                match (from, to) {
                    (Some(from), Some(to)) if from.is_ipv4() == to.is_ipv4() && from <= to => {
                        ranges.push(AddressRange { from, to })
                    }
                    _ => c.error(
                        child,
                        "address-range needs `from` ≤ `to`, both IP addresses of one family".into(),
                        None,
                    ),
                }
            }
            _ => {}
        }
    }
    if listed == 0 {
        c.error(
            ctx.el,
            "ip-filter needs at least one <address> or <address-range>".into(),
            Some("APIM requires one; list the addresses to allow or forbid"),
        );
        return;
    }
    if let Some(action) = action {
        c.emit(
            ctx,
            Insn::IpFilter {
                action,
                ranges: ranges.into(),
            },
        );
    }
}

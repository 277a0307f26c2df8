//! `send-request` and `send-one-way-request`: a side call the proxy performs.

use std::time::Duration;

use crate::program::{ExistsAction, Insn, Operand, SendHeader, SendSpec};

use super::attrs::parse_bool;
use super::headers::value_operands;
use super::{Compiler, Ctx};

pub(super) fn send(c: &mut Compiler, ctx: &Ctx<'_>, one_way: bool) {
    let copy = c
        .literal(ctx, "mode", Some(false), "new or copy", |v| match v {
            "new" => Some(false),
            "copy" => Some(true),
            _ => None,
        })
        .unwrap_or(false);
    let response_variable = if one_way {
        None
    } else {
        c.literal(
            ctx,
            "response-variable-name",
            None,
            "the variable that receives the response",
            |v| (!v.is_empty()).then(|| v.to_string()),
        )
    };
    let default_timeout = 60;
    let timeout = c
        .literal(
            ctx,
            "timeout",
            Some(Duration::from_secs(default_timeout)),
            "seconds, e.g. 20",
            |v| v.parse::<u64>().ok().map(Duration::from_secs),
        )
        .unwrap_or(Duration::from_secs(default_timeout));
    let ignore_error = c
        .literal(
            ctx,
            "ignore-error",
            Some(false),
            "true or false",
            parse_bool,
        )
        .unwrap_or(false);
    // Side responses are always read whole (bounded), so buffer-response only needs to
    // be a valid boolean.
    c.literal(
        ctx,
        "buffer-response",
        Some(true),
        "true or false",
        parse_bool,
    );
    let fail_on_error_status_code = c
        .literal(
            ctx,
            "fail-on-error-status-code",
            Some(false),
            "true or false",
            parse_bool,
        )
        .unwrap_or(false);
    let mut url = None;
    let mut method = None;
    let mut headers = Vec::new();
    let mut body = None;
    for child in ctx.el.elements() {
        match child.name.as_str() {
            "set-url" => url = Some(c.operand_text(ctx, child)),
            "set-method" => method = Some(trimmed(c.operand_text(ctx, child))),
            "set-body" if child.attr_value("template").is_some() => c.error(
                child,
                "liquid: set-body template=\"liquid\" in send-request is not supported yet".into(),
                Some("build the side request's body with a policy expression @{...}"),
            ),
            "set-body" => body = Some(c.operand_text(ctx, child)),
            "set-header" => {
                let Some(name) = child.attr_value("name") else {
                    continue;
                };
                let action = match child.attr_value("exists-action").unwrap_or("override") {
                    "skip" => ExistsAction::Skip,
                    "append" => ExistsAction::Append,
                    "delete" => ExistsAction::Delete,
                    _ => ExistsAction::Override,
                };
                let values = value_operands(c, ctx, child).into();
                headers.push(SendHeader {
                    name: name.into(),
                    action,
                    values,
                });
            }
            other => c.error(
                child,
                format!("`{other}` inside {} is not supported yet", ctx.el.name),
                Some("use set-url, set-method, set-header and set-body"),
            ),
        }
    }
    if url.is_none() && !copy {
        c.error(
            ctx.el,
            format!("{} needs <set-url> (or mode=\"copy\")", ctx.el.name),
            None,
        );
        return;
    }
    let spec = SendSpec {
        copy,
        one_way,
        response_variable: response_variable.map(Into::into),
        timeout,
        ignore_error,
        fail_on_error_status_code,
        url,
        method,
        headers: headers.into(),
        body,
    };
    c.emit(ctx, Insn::SendRequest(Box::new(spec)));
}

fn trimmed(o: Operand) -> Operand {
    match o {
        Operand::Text(t) => Operand::Text(t.trim().into()),
        e => e,
    }
}

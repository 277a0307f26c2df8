//! `set-header` and `set-query-parameter`.

use crate::program::{ExistsAction, Insn, Operand};
use crate::xml::MergedElement;

use super::{Compiler, Ctx};

fn exists_action(c: &mut Compiler, ctx: &Ctx<'_>) -> ExistsAction {
    c.literal(
        ctx,
        "exists-action",
        Some(ExistsAction::Override),
        "one of override, skip, append, delete",
        |v| match v {
            "override" => Some(ExistsAction::Override),
            "skip" => Some(ExistsAction::Skip),
            "append" => Some(ExistsAction::Append),
            "delete" => Some(ExistsAction::Delete),
            _ => None,
        },
    )
    .unwrap_or(ExistsAction::Override)
}

/// The `<value>` children of `el`, in order, as operands.
pub(super) fn value_operands(c: &mut Compiler, ctx: &Ctx<'_>, el: &MergedElement) -> Vec<Operand> {
    el.elements()
        .filter(|e| e.name == "value")
        .map(|v| c.operand_text(ctx, v))
        .collect()
}

/// `exists-action` and the `<value>`s of set-header and set-query-parameter; `None` (with
/// the `missing` error) when there is no value and the action is not `delete`.
fn action_and_values(
    c: &mut Compiler,
    ctx: &Ctx<'_>,
    missing: impl FnOnce() -> String,
) -> Option<(ExistsAction, Vec<Operand>)> {
    let action = exists_action(c, ctx);
    let values = value_operands(c, ctx, ctx.el);
    if values.is_empty() && action != ExistsAction::Delete {
        c.error(ctx.el, missing(), None);
        return None;
    }
    Some((action, values))
}

/// Headers APIM does not let a policy change.
const IMMUTABLE: [&str; 4] = [
    "connection",
    "content-length",
    "keep-alive",
    "transfer-encoding",
];

pub(super) fn set_header(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(name) = ctx.el.attr_value("name") else {
        c.error(ctx.el, "attribute `name` is required".into(), None);
        return;
    };
    if !name.is_empty()
        && !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        c.error(
            ctx.el,
            format!("`{name}` is not a valid header name"),
            Some("header names are RFC 9110 tokens: letters, digits and !#$%&'*+-.^_`|~"),
        );
        return;
    }
    if crate::expr::is_expression(name.trim()) {
        c.error(
            ctx.el,
            "`name` does not accept policy expressions".into(),
            None,
        );
        return;
    }
    if IMMUTABLE.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        c.error(ctx.el, format!("header `{name}` cannot be changed by a policy"), Some("APIM treats Connection, Content-Length, Keep-Alive and Transfer-Encoding as immutable"));
        return;
    }
    let Some((action, values)) = action_and_values(c, ctx, || {
        format!("set-header `{name}` needs at least one <value> unless exists-action=\"delete\"")
    }) else {
        return;
    };
    let target = ctx.target();
    c.emit(
        ctx,
        Insn::SetHeader {
            target,
            name: name.into(),
            action,
            values: values.into(),
        },
    );
}

pub(super) fn set_query_parameter(c: &mut Compiler, ctx: &Ctx<'_>) {
    // APIM allows an expression for the name (not for set-header's).
    let Some(name_op) = c.required_operand(ctx, "name") else {
        return;
    };
    let name = ctx.el.attr_value("name").unwrap_or_default();
    let Some((action, values)) = action_and_values(c, ctx, || {
        format!("set-query-parameter `{name}` needs at least one <value>")
    }) else {
        return;
    };
    c.emit(
        ctx,
        Insn::SetQueryParameter {
            name: name_op,
            action,
            values: values.into(),
        },
    );
}

//! `set-variable`, `choose`, `trace`, `forward-request`.

use std::time::Duration;

use crate::program::{ForwardSettings, Insn, InsnIdx, Operand};

use super::attrs::element_text;
use super::{Compiler, Ctx, PathCounter};

pub(super) fn set_variable(c: &mut Compiler, ctx: &Ctx<'_>) {
    let name = c.literal(ctx, "name", None, "the variable name", |v| {
        Some(v.to_string())
    });
    let value = c.required_operand(ctx, "value");
    if let (Some(name), Some(value)) = (name, value) {
        c.emit(
            ctx,
            Insn::SetVariable {
                name: name.into(),
                value,
            },
        );
    }
}

/// `choose`: each `when` is `JumpUnless(cond → next branch)`, its body, `Jump(→ end)`;
/// `otherwise` is the last body. Jump targets are patched once the end is known.
pub(super) fn choose(c: &mut Compiler, ctx: &Ctx<'_>) {
    let mut to_end: Vec<InsnIdx> = Vec::new();
    let mut branches = PathCounter::default();
    for branch in ctx.el.elements() {
        let branch_path = branches.next(&branch.name, ctx.path);
        let bctx = ctx.child(branch, &branch_path);
        match branch.name.as_str() {
            "when" => {
                let Some(cond) = c.condition(ctx, branch, "condition") else {
                    continue;
                };
                let test = c.emit(
                    &bctx,
                    Insn::JumpUnless {
                        cond,
                        to: InsnIdx(0),
                    },
                );
                c.body(&bctx);
                to_end.push(c.emit(&bctx, Insn::Jump { to: InsnIdx(0) }));
                let next = c.here();
                if let Insn::JumpUnless { to, .. } = &mut c.prog.insns[test.0 as usize] {
                    *to = next;
                }
            }
            "otherwise" => c.body(&bctx),
            other => c.error(
                branch,
                format!("`{other}` is not allowed in choose"),
                Some("use <when condition=\"@(...)\"> and <otherwise>"),
            ),
        }
    }
    let end = c.here();
    for j in to_end {
        if let Insn::Jump { to } = &mut c.prog.insns[j.0 as usize] {
            *to = end;
        }
    }
}

pub(super) fn trace(c: &mut Compiler, ctx: &Ctx<'_>) {
    let source = c.literal(ctx, "source", None, "a source name", |v| {
        Some(v.to_string())
    });
    let severity = c.literal(
        ctx,
        "severity",
        Some("verbose".to_string()),
        "verbose, information or error",
        |v| matches!(v, "verbose" | "information" | "error").then(|| v.to_string()),
    );
    let message = match ctx.el.elements().find(|e| e.name == "message") {
        Some(m) => c.operand_text(ctx, m),
        None => Operand::Text(element_text(ctx.el).trim().into()),
    };
    if let (Some(source), Some(severity)) = (source, severity) {
        c.emit(
            ctx,
            Insn::Trace {
                source: source.into(),
                severity: severity.into(),
                message,
            },
        );
    }
}

pub(super) fn forward_request(c: &mut Compiler, ctx: &Ctx<'_>) {
    let d = ForwardSettings::default();
    let seconds = c.literal(
        ctx,
        "timeout",
        Some(d.timeout.as_secs()),
        "seconds, e.g. 30",
        |v| v.parse::<u64>().ok(),
    );
    let millis = c.literal(
        ctx,
        "timeout-ms",
        Some(u64::MAX),
        "milliseconds, e.g. 1500",
        |v| v.parse::<u64>().ok(),
    );
    let timeout = match millis {
        Some(ms) if ms != u64::MAX => Duration::from_millis(ms),
        _ => Duration::from_secs(seconds.unwrap_or(300)),
    };
    let settings = ForwardSettings {
        timeout,
        follow_redirects: c.bool_attr(ctx, "follow-redirects", d.follow_redirects),
        buffer_request_body: c.bool_attr(ctx, "buffer-request-body", d.buffer_request_body),
        buffer_response: c.bool_attr(ctx, "buffer-response", d.buffer_response),
        fail_on_error_status_code: c.bool_attr(
            ctx,
            "fail-on-error-status-code",
            d.fail_on_error_status_code,
        ),
    };
    if settings.buffer_request_body {
        c.prog.reads_request_body = true;
    }
    c.emit(ctx, Insn::Forward(settings));
    c.after_forward = true;
}

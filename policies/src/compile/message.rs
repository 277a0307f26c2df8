//! Policies that change the request or build the response: `rewrite-uri`, `set-method`,
//! `set-status`, `set-body`, `set-backend-service`, `return-response`, `mock-response`.

use crate::program::{Insn, Operand, Target};

use super::attrs::element_text;
use super::{Compiler, Ctx};

pub(super) fn rewrite_uri(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(template) = c.required_operand(ctx, "template") else {
        return;
    };
    if let Operand::Text(t) = &template {
        if !t.starts_with('/') {
            c.error(ctx.el, format!("template `{t}` must start with `/`"), None);
            return;
        }
    }
    let copy = c.bool_attr(ctx, "copy-unmatched-params", true);
    c.emit(
        ctx,
        Insn::RewriteUri {
            template,
            copy_unmatched_params: copy,
        },
    );
}

pub(super) fn set_method(c: &mut Compiler, ctx: &Ctx<'_>) {
    let method = c.operand_text(ctx, ctx.el);
    if let Operand::Text(t) = &method {
        if t.trim().is_empty()
            || !t
                .trim()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            c.error(
                ctx.el,
                format!("`{}` is not an HTTP method", t.trim()),
                None,
            );
            return;
        }
    }
    let method = match method {
        Operand::Text(t) => Operand::Text(t.trim().into()),
        e => e,
    };
    c.emit(ctx, Insn::SetMethod { method });
}

pub(super) fn set_status(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(code) = c.required_operand(ctx, "code") else {
        return;
    };
    if let Operand::Text(t) = &code {
        if t.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .is_none()
        {
            c.error(
                ctx.el,
                format!("code `{t}` is not a status code between 100 and 599"),
                None,
            );
            return;
        }
    }
    let reason = c.operand_attr(ctx, "reason");
    c.emit(ctx, Insn::SetStatus { code, reason });
}

pub(super) fn set_body(c: &mut Compiler, ctx: &Ctx<'_>) {
    if let Some(t) = ctx.el.attr_value("template") {
        c.error(
            ctx.el,
            format!("set-body template=\"{t}\" is not supported yet"),
            Some("use a policy expression @{...} to build the body"),
        );
        return;
    }
    let body = c.operand_text(ctx, ctx.el);
    let target = ctx.target();
    c.emit(ctx, Insn::SetBody { target, body });
}

pub(super) fn set_backend_service(c: &mut Compiler, ctx: &Ctx<'_>) {
    // Service Fabric and Dapr routing would be silently ignored: refuse them.
    if let Some(a) = ctx
        .el
        .attrs
        .iter()
        .find(|a| a.name.starts_with("sf-") || a.name.starts_with("dapr-"))
    {
        c.error(
            ctx.el,
            format!("set-backend-service `{}` is not supported yet", a.name),
            Some("Service Fabric and Dapr backends are not supported; use base-url or backend-id"),
        );
        return;
    }
    let base_url = c.operand_attr(ctx, "base-url");
    let backend_id = c.operand_attr(ctx, "backend-id");
    if base_url.is_some() == backend_id.is_some() {
        c.error(
            ctx.el,
            "set exactly one of `base-url` and `backend-id`".into(),
            None,
        );
        return;
    }
    c.emit(
        ctx,
        Insn::SetBackendService {
            base_url,
            backend_id,
        },
    );
}

/// `return-response`: a fresh response, its children applied to it, then the pipeline ends.
pub(super) fn return_response(c: &mut Compiler, ctx: &Ctx<'_>) {
    match ctx.el.attr_value("response-variable-name") {
        // Start from a stored response (send-request's); the children change it.
        Some(var) => c.emit(
            ctx,
            Insn::ReturnStored {
                variable: var.into(),
            },
        ),
        None => c.emit(ctx, Insn::BeginResponse),
    };
    let mut paths = super::PathCounter::default();
    for child in ctx.el.elements() {
        let p = paths.next(&child.name, ctx.path);
        let cctx = Ctx {
            builds_response: true,
            ..ctx.child(child, &p)
        };
        match child.name.as_str() {
            "set-status" => set_status(c, &cctx),
            "set-header" => super::headers::set_header(c, &cctx),
            "set-body" => set_body(c, &cctx),
            other => c.error(
                child,
                format!("`{other}` is not allowed in return-response"),
                Some("use set-status, set-header or set-body"),
            ),
        }
    }
    c.emit(ctx, Insn::Respond);
}

/// `mock-response`: status (default 200) and content type; with no API examples stored
/// in this gateway the body is empty (APIM's behaviour without examples or schemas).
pub(super) fn mock_response(c: &mut Compiler, ctx: &Ctx<'_>) {
    let code = c.literal(
        ctx,
        "status-code",
        Some(200u16),
        "an HTTP status code",
        |v| v.parse::<u16>().ok().filter(|c| (100..=599).contains(c)),
    );
    let content_type = ctx.el.attr_value("content-type").map(str::to_string);
    let _ = element_text(ctx.el);
    c.emit(ctx, Insn::BeginResponse);
    c.emit(
        ctx,
        Insn::SetStatus {
            code: Operand::Text(code.unwrap_or(200).to_string().into()),
            reason: None,
        },
    );
    if let Some(ct) = content_type {
        c.emit(
            ctx,
            Insn::SetHeader {
                target: Target::Response,
                name: "Content-Type".into(),
                action: crate::program::ExistsAction::Override,
                values: vec![Operand::Text(ct.into())].into(),
            },
        );
    }
    c.emit(ctx, Insn::Respond);
}

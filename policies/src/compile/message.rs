//! Policies that change the request or build the response: `rewrite-uri`, `set-method`,
//! `set-status`, `set-body`, `set-backend-service`, `return-response`, `mock-response`.

use crate::program::{Insn, Operand, Target};

use super::attrs::element_text;
use super::{Compiler, Ctx};
use crate::xml::{MergedElement, MergedNode};

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
        if t.trim() != "liquid" {
            c.error(
                ctx.el,
                format!("set-body template=\"{t}\" is not a template kind"),
                Some("the only template kind is `liquid`"),
            );
            return;
        }
        let (text, line, col) = liquid_source(ctx.el);
        let template = match crate::liquid::Template::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                let (l, cl) = super::attrs::offset_to_line_col(&text, e.offset, line, col);
                c.errors.push(crate::xml::PolicyError {
                    file: ctx.el.file.to_string(),
                    line: l,
                    col: cl,
                    policy: Some(ctx.el.name.clone()),
                    message: e.message,
                    hint: Some(
                        "see docs/policies.md for the Liquid subset Tollgate supports".into(),
                    ),
                });
                return;
            }
        };
        if ctx.builds_response {
            // APIM: Liquid does not work inside return-response; the body is empty there.
            let target = ctx.target();
            c.emit(
                ctx,
                Insn::SetBody {
                    target,
                    body: Operand::Text("".into()),
                },
            );
            return;
        }
        if template.reads_body() {
            c.note_body_read(ctx.section);
        }
        c.secret |= ctx
            .el
            .children
            .iter()
            .any(|n| matches!(n, MergedNode::Text(t) if t.secret));
        let target = ctx.target();
        c.emit(
            ctx,
            Insn::SetBodyLiquid {
                target,
                template: Box::new(template),
            },
        );
        return;
    }
    let body = c.operand_text(ctx, ctx.el);
    let target = ctx.target();
    c.emit(ctx, Insn::SetBody { target, body });
}

/// A Liquid template's text and where it starts: text as written (entities resolved),
/// child elements (XML output markup) printed back as markup.
fn liquid_source(el: &MergedElement) -> (String, u32, u32) {
    let loc = el
        .children
        .first()
        .map(|n| match n {
            MergedNode::Text(t) if t.is_cdata => (t.loc.line, t.loc.col + 9),
            MergedNode::Text(t) => (t.loc.line, t.loc.col),
            MergedNode::Element(e) => (e.loc.line, e.loc.col),
        })
        .unwrap_or((el.loc.line, el.loc.col));
    let mut out = String::new();
    for n in &el.children {
        markup(n, false, &mut out);
    }
    (out, loc.0, loc.1)
}

fn markup(n: &MergedNode, nested: bool, out: &mut String) {
    match n {
        MergedNode::Text(t) if nested && !t.is_cdata => escape_text(&t.text, out),
        MergedNode::Text(t) => out.push_str(&t.text),
        MergedNode::Element(e) => {
            out.push('<');
            out.push_str(&e.name);
            for a in &e.attrs {
                out.push(' ');
                out.push_str(&a.name);
                out.push_str("=\"");
                for ch in a.value.chars() {
                    match ch {
                        '"' => out.push_str("&quot;"),
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            if e.children.is_empty() {
                out.push_str(" />");
                return;
            }
            out.push('>');
            for c in &e.children {
                markup(c, true, out);
            }
            out.push_str("</");
            out.push_str(&e.name);
            out.push('>');
        }
    }
}

/// Text inside output markup: `&` and `<` escaped again so the rendered XML stays
/// well-formed, except inside Liquid `{{ }}` / `{% %}` markup, which stays as written.
fn escape_text(s: &str, out: &mut String) {
    let mut close: Option<&str> = None;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(c) = close {
            if rest.starts_with(c) {
                out.push_str(c);
                i += 2;
                close = None;
                continue;
            }
        } else if rest.starts_with("{{") || rest.starts_with("{%") {
            close = Some(if rest.starts_with("{{") { "}}" } else { "%}" });
            out.push_str(&rest[..2]);
            i += 2;
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        match ch {
            '&' if close.is_none() => out.push_str("&amp;"),
            '<' if close.is_none() => out.push_str("&lt;"),
            c => out.push(c),
        }
        i += ch.len_utf8();
    }
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

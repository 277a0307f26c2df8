//! Body transform policies: `find-and-replace`, `json-to-xml`, `xml-to-json`,
//! `redirect-content-urls` (run by `crate::transform`).
//!
//! Each changes the body of its section's message, so it marks that body as read: the
//! proxy then buffers the request body before inbound (inbound/backend) or the backend's
//! response body before outbound (outbound/on-error). Enum and boolean attributes are
//! checked here when literal; expressions (which APIM allows on all of them but
//! `parse-date`) are checked when they run.

use crate::program::{Insn, Operand, Target};
use crate::transform::{
    JsonToXmlSpec, TransformOp, TransformSpec, XmlToJsonSpec, APPLY_JSON, APPLY_XML, BOOL, KINDS,
};

use super::{Compiler, Ctx};

pub(super) fn find_and_replace(c: &mut Compiler, ctx: &Ctx<'_>) {
    let from = c.required_operand(ctx, "from");
    let to = c.required_operand(ctx, "to");
    let (Some(from), Some(to)) = (from, to) else {
        return;
    };
    if matches!(&from, Operand::Text(t) if t.is_empty()) {
        // APIM would fail every request (String.Replace refuses an empty search string).
        c.error(
            ctx.el,
            "`from` is empty: there is nothing to find".into(),
            Some("give the text to replace, e.g. from=\"notebook\" to=\"laptop\""),
        );
        return;
    }
    emit(c, ctx, TransformOp::FindAndReplace { from, to });
}

pub(super) fn json_to_xml(c: &mut Compiler, ctx: &Ctx<'_>) {
    let apply = choice(c, ctx, "apply", APPLY_JSON, None);
    let accept = choice(c, ctx, "consider-accept-header", BOOL, Some("true"));
    let parse_date = c.bool_attr(ctx, "parse-date", true);
    let separator = match c.operand_attr(ctx, "namespace-separator") {
        None => Some(Operand::Text("_".into())),
        Some(Operand::Text(t)) if t.chars().count() != 1 => {
            c.error(
                ctx.el,
                format!("`namespace-separator=\"{t}\"` must be one character"),
                Some("e.g. namespace-separator=\":\""),
            );
            None
        }
        Some(op) => Some(op),
    };
    let namespace_prefix = c.operand_attr(ctx, "namespace-prefix");
    let attribute_block_name = c.operand_attr(ctx, "attribute-block-name");
    let (Some(apply), Some(accept), Some(separator)) = (apply, accept, separator) else {
        return;
    };
    emit(
        c,
        ctx,
        TransformOp::JsonToXml(Box::new(JsonToXmlSpec {
            apply,
            consider_accept_header: accept,
            parse_date,
            namespace_separator: separator,
            namespace_prefix,
            attribute_block_name,
        })),
    );
}

pub(super) fn xml_to_json(c: &mut Compiler, ctx: &Ctx<'_>) {
    let kind = choice(c, ctx, "kind", KINDS, None);
    let apply = choice(c, ctx, "apply", APPLY_XML, None);
    let accept = choice(c, ctx, "consider-accept-header", BOOL, Some("true"));
    let always = choice(c, ctx, "always-array-child-elements", BOOL, Some("false"));
    let (Some(kind), Some(apply), Some(accept), Some(always)) = (kind, apply, accept, always)
    else {
        return;
    };
    emit(
        c,
        ctx,
        TransformOp::XmlToJson(Box::new(XmlToJsonSpec {
            kind,
            apply,
            consider_accept_header: accept,
            always_array_child_elements: always,
        })),
    );
}

/// `redirect-content-urls` (inbound, outbound; once per section, checked by the catalog).
pub(super) fn redirect_content_urls(c: &mut Compiler, ctx: &Ctx<'_>) {
    emit(c, ctx, TransformOp::RedirectContentUrls);
}

fn emit(c: &mut Compiler, ctx: &Ctx<'_>, op: TransformOp) {
    let target = ctx.target();
    match target {
        Target::Request => c.prog.reads_request_body = true,
        Target::Response => c.prog.reads_response_body = true,
    }
    c.emit(ctx, Insn::Transform(Box::new(TransformSpec { target, op })));
}

/// An attribute whose value is one of `allowed` (any ASCII case), or an expression.
/// A literal is checked now and stored in its canonical spelling; `default` stands in
/// for an absent attribute (`None`: required).
fn choice(
    c: &mut Compiler,
    ctx: &Ctx<'_>,
    name: &str,
    allowed: &[&str],
    default: Option<&str>,
) -> Option<Operand> {
    match c.operand_attr(ctx, name) {
        None => match default {
            Some(d) => Some(Operand::Text(d.into())),
            None => {
                c.error(ctx.el, format!("attribute `{name}` is required"), None);
                None
            }
        },
        Some(Operand::Text(t)) => match allowed.iter().find(|a| a.eq_ignore_ascii_case(t.trim())) {
            Some(a) => Some(Operand::Text((*a).into())),
            None => {
                c.error(
                    ctx.el,
                    format!("`{name}=\"{t}\"` is invalid"),
                    Some(&format!("use one of: {}", allowed.join(", "))),
                );
                None
            }
        },
        Some(e) => Some(e),
    }
}

//! Body transforms: `find-and-replace`, `json-to-xml`, `xml-to-json`,
//! `redirect-content-urls`.
//!
//! One instruction ([`crate::program::Insn::Transform`]) runs any of them against the
//! message of its section: the request in inbound/backend, the response in
//! outbound/on-error. The compiler marks that body as read, so the proxy buffers it
//! before the pipeline; a body that is absent or empty is left alone (nothing to
//! convert). Everything a transform produces lives in the request arena.
//!
//! Runtime failures (a body that is not the JSON/XML the policy expects) end the request
//! with 500: APIM reports a policy exception as an internal error, whichever section it
//! happened in, so a client's malformed JSON under an inbound json-to-xml is a 500 too,
//! not a 400 (UNVERIFIED against a live APIM: no documented status; the public body is
//! APIM's "Internal server error", the details go to `context.LastError.Message`).

mod find_replace;
mod json_to_xml;
mod redirect;
pub(crate) mod xml_to_json;

use std::fmt;

use crate::expr::{ExprScratch, Msg};
use crate::host::PolicyHost;
use crate::program::{ExistsAction, InsnIdx, Operand, Program, Target};
use crate::vm::Failure;

/// LastError.Reason of a body the policy could not convert (UNVERIFIED: APIM documents
/// no reason for these; the public message is "Internal server error").
pub const CONVERSION_FAILURE: &str = "BodyConversionFailure";

/// A compiled body transform and the message it changes.
#[derive(Clone, Debug)]
pub struct TransformSpec {
    pub target: Target,
    pub op: TransformOp,
}

#[derive(Clone, Debug)]
pub enum TransformOp {
    /// Every occurrence of `from` in the body becomes `to` (ordinal, case-sensitive).
    FindAndReplace {
        from: Operand,
        to: Operand,
    },
    JsonToXml(Box<JsonToXmlSpec>),
    XmlToJson(Box<XmlToJsonSpec>),
    /// Backend base URL ↔ gateway base URL (direction from `target`).
    RedirectContentUrls,
}

/// `json-to-xml`. Literal enum/bool attributes were checked at load; an expression's
/// value is checked when it runs.
#[derive(Clone, Debug)]
pub struct JsonToXmlSpec {
    /// `always` | `content-type-json`.
    pub apply: Operand,
    /// `true` | `false` (default true).
    pub consider_accept_header: Operand,
    pub parse_date: bool,
    /// One character (default `_`).
    pub namespace_separator: Operand,
    pub namespace_prefix: Option<Operand>,
    pub attribute_block_name: Option<Operand>,
}

/// `xml-to-json`.
#[derive(Clone, Debug)]
pub struct XmlToJsonSpec {
    /// `javascript-friendly` | `direct`.
    pub kind: Operand,
    /// `always` | `content-type-xml`.
    pub apply: Operand,
    pub consider_accept_header: Operand,
    pub always_array_child_elements: Operand,
}

impl TransformOp {
    /// The policy's element name (LastError.Source).
    pub fn policy(&self) -> &'static str {
        match self {
            TransformOp::FindAndReplace { .. } => "find-and-replace",
            TransformOp::JsonToXml(_) => "json-to-xml",
            TransformOp::XmlToJson(_) => "xml-to-json",
            TransformOp::RedirectContentUrls => "redirect-content-urls",
        }
    }
}

impl TransformSpec {
    /// The same transform with every literal operand replaced by `***` (listings of
    /// instructions that hold a secret named value).
    pub fn masked(&self) -> TransformSpec {
        let m = |o: &Operand| match o {
            Operand::Text(_) => Operand::Text("***".into()),
            e => e.clone(),
        };
        let op = match &self.op {
            TransformOp::FindAndReplace { from, to } => TransformOp::FindAndReplace {
                from: m(from),
                to: m(to),
            },
            TransformOp::JsonToXml(j) => TransformOp::JsonToXml(Box::new(JsonToXmlSpec {
                apply: m(&j.apply),
                consider_accept_header: m(&j.consider_accept_header),
                parse_date: j.parse_date,
                namespace_separator: m(&j.namespace_separator),
                namespace_prefix: j.namespace_prefix.as_ref().map(m),
                attribute_block_name: j.attribute_block_name.as_ref().map(m),
            })),
            TransformOp::XmlToJson(x) => TransformOp::XmlToJson(Box::new(XmlToJsonSpec {
                kind: m(&x.kind),
                apply: m(&x.apply),
                consider_accept_header: m(&x.consider_accept_header),
                always_array_child_elements: m(&x.always_array_child_elements),
            })),
            TransformOp::RedirectContentUrls => TransformOp::RedirectContentUrls,
        };
        TransformSpec {
            target: self.target,
            op,
        }
    }
}

/// The listing form (`tollgate policy explain`).
impl fmt::Display for TransformSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn op(o: &Operand) -> String {
            match o {
                Operand::Text(t) => format!("{t:?}"),
                Operand::Expr(e) => format!("expr#{}", e.0),
            }
        }
        let target = self.target;
        match &self.op {
            TransformOp::FindAndReplace { from, to } => {
                write!(f, "find-and-replace {target:?} {} -> {}", op(from), op(to))
            }
            TransformOp::JsonToXml(j) => {
                write!(
                    f,
                    "json-to-xml {target:?} apply={} accept={} parse-date={} ns-sep={}",
                    op(&j.apply),
                    op(&j.consider_accept_header),
                    j.parse_date,
                    op(&j.namespace_separator)
                )?;
                if let Some(p) = &j.namespace_prefix {
                    write!(f, " ns-prefix={}", op(p))?;
                }
                if let Some(a) = &j.attribute_block_name {
                    write!(f, " attr-block={}", op(a))?;
                }
                Ok(())
            }
            TransformOp::XmlToJson(x) => write!(
                f,
                "xml-to-json {target:?} kind={} apply={} accept={} always-array={}",
                op(&x.kind),
                op(&x.apply),
                op(&x.consider_accept_header),
                op(&x.always_array_child_elements)
            ),
            TransformOp::RedirectContentUrls => write!(f, "redirect-content-urls {target:?}"),
        }
    }
}

/// Runs one transform against the host.
pub(crate) fn step<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    spec: &'a TransformSpec,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<(), Failure> {
    let policy = spec.op.policy();
    let target = spec.target;
    match &spec.op {
        TransformOp::FindAndReplace { from, to } => {
            let from = crate::vm::text(prog, from, host, scratch)?;
            let to = crate::vm::text(prog, to, host, scratch)?;
            if from.is_empty() {
                // C# String.Replace("", …) throws.
                return Err(value_failure(
                    policy,
                    "find-and-replace: `from` is empty (String cannot be of zero length.)".into(),
                ));
            }
            let Some(body) = body(host, target) else {
                return Ok(());
            };
            if let Some(out) = find_replace::replace_all(host.arena(), body, from, to) {
                host.set_body(target, out);
            }
            Ok(())
        }
        TransformOp::RedirectContentUrls => {
            let Some(body) = body(host, target) else {
                return Ok(());
            };
            if let Some(out) = redirect::rewrite(host, target, body) {
                host.set_body(target, out);
            }
            Ok(())
        }
        TransformOp::JsonToXml(j) => {
            let apply = setting(prog, &j.apply, "apply", APPLY_JSON, policy, host, scratch)?;
            let accept = setting(
                prog,
                &j.consider_accept_header,
                "consider-accept-header",
                BOOL,
                policy,
                host,
                scratch,
            )? == 1;
            if apply == 1 && !content_type_is(host, msg(target), "json") {
                return Ok(());
            }
            if accept && !accept_allows(host, "xml") {
                return Ok(());
            }
            let separator = crate::vm::text(prog, &j.namespace_separator, host, scratch)?;
            if separator.chars().count() != 1 {
                return Err(value_failure(
                    policy,
                    format!("json-to-xml: namespace-separator `{separator}` is not one character"),
                ));
            }
            let namespace_prefix = optional(prog, j.namespace_prefix.as_ref(), host, scratch)?;
            let attribute_block = optional(prog, j.attribute_block_name.as_ref(), host, scratch)?;
            let Some(body) = body(host, target) else {
                return Ok(());
            };
            let options = json_to_xml::Options {
                parse_date: j.parse_date,
                separator,
                namespace_prefix,
                attribute_block,
            };
            let xml = json_to_xml::convert(host.arena(), body, &options)
                .map_err(|e| conversion_failure(policy, target, "JSON to XML", &e))?;
            replace_body(host, target, xml.as_bytes(), "application/xml");
            Ok(())
        }
        TransformOp::XmlToJson(x) => {
            let kind = setting(prog, &x.kind, "kind", KINDS, policy, host, scratch)?;
            let apply = setting(prog, &x.apply, "apply", APPLY_XML, policy, host, scratch)?;
            let accept = setting(
                prog,
                &x.consider_accept_header,
                "consider-accept-header",
                BOOL,
                policy,
                host,
                scratch,
            )? == 1;
            let always_array = setting(
                prog,
                &x.always_array_child_elements,
                "always-array-child-elements",
                BOOL,
                policy,
                host,
                scratch,
            )? == 1;
            if apply == 1 && !content_type_is(host, msg(target), "xml") {
                return Ok(());
            }
            if accept && !accept_allows(host, "json") {
                return Ok(());
            }
            let Some(body) = body(host, target) else {
                return Ok(());
            };
            let options = xml_to_json::Options {
                direct: kind == 1,
                always_array,
            };
            let json = xml_to_json::convert(host.arena(), body, &options)
                .map_err(|e| conversion_failure(policy, target, "XML to JSON", &e))?;
            replace_body(host, target, json.as_bytes(), "application/json");
            Ok(())
        }
    }
}

/// json-to-xml `apply` values (index 1: convert only JSON content).
pub const APPLY_JSON: &[&str] = &["always", "content-type-json"];
/// xml-to-json `apply` values (index 1: convert only XML content).
pub const APPLY_XML: &[&str] = &["always", "content-type-xml"];
/// xml-to-json `kind` values (index 1: direct).
pub const KINDS: &[&str] = &["javascript-friendly", "direct"];
/// Boolean attributes (index 1: true); C# `bool.Parse` is case-insensitive.
pub const BOOL: &[&str] = &["false", "true"];

fn msg(target: Target) -> Msg {
    match target {
        Target::Request => Msg::Request,
        Target::Response => Msg::Response,
    }
}

/// The message's buffered body; `None` when there is none (or it is empty, or an
/// expression consumed it): nothing to transform.
fn body<'a, H: PolicyHost<'a>>(host: &H, target: Target) -> Option<&'a [u8]> {
    host.body(msg(target), true).ok().filter(|b| !b.is_empty())
}

/// Sets the converted body and its Content-Type.
fn replace_body<'a, H: PolicyHost<'a>>(
    host: &mut H,
    target: Target,
    body: &'a [u8],
    content_type: &'static str,
) {
    host.set_body(target, body);
    host.set_header(
        target,
        "Content-Type",
        &[content_type],
        ExistsAction::Override,
    );
}

/// The index in `allowed` of an enum/bool attribute's value (ASCII case-insensitive,
/// trimmed). Literals were checked at load; an expression's value is checked here.
fn setting<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    o: &Operand,
    attr: &str,
    allowed: &[&str],
    policy: &'static str,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<usize, Failure> {
    let v = crate::vm::text(prog, o, host, scratch)?.trim();
    allowed
        .iter()
        .position(|a| a.eq_ignore_ascii_case(v))
        .ok_or_else(|| {
            value_failure(
                policy,
                format!(
                    "{policy}: {attr} `{v}` is not one of {}",
                    allowed.join(", ")
                ),
            )
        })
}

fn optional<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    o: Option<&Operand>,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<Option<&'a str>, Failure> {
    match o {
        None => Ok(None),
        Some(o) => {
            let v = crate::vm::text(prog, o, host, scratch)?;
            Ok(Some(v).filter(|v| !v.is_empty()))
        }
    }
}

/// The media type of a Content-Type / Accept item: before `;`, trimmed.
fn media_type(v: &str) -> &str {
    v.split(';').next().unwrap_or("").trim()
}

/// `application/{sub}`, `text/{sub}` or a `+{sub}` suffix (`application/soap+xml`).
fn is_media(media: &str, sub: &str) -> bool {
    let m = media.to_ascii_lowercase();
    let Some((ty, subtype)) = m.split_once('/') else {
        return false;
    };
    ((ty == "application" || ty == "text") && subtype == sub)
        || subtype.strip_suffix(sub).is_some_and(|s| s.ends_with('+'))
}

/// Whether the message's Content-Type says JSON / XML (`apply="content-type-…"`).
fn content_type_is<'a, H: PolicyHost<'a>>(host: &H, m: Msg, sub: &str) -> bool {
    host.header_values(m, "Content-Type")
        .and_then(|v| v.first())
        .is_some_and(|v| is_media(media_type(v), sub))
}

/// `consider-accept-header="true"`: the request's Accept allows `application/{sub}`.
/// No Accept (or an empty one) allows anything; otherwise some media range with q > 0
/// must match: `*/*`, `application/*`, `text/*`, or a JSON/XML type as in [`is_media`].
/// So `Accept: application/json` skips json-to-xml and `Accept: application/xml` skips
/// xml-to-json (the documented intent: convert when the client asks for the other
/// format). UNVERIFIED detail: APIM may require an explicit match; a missing Accept
/// converting is the friendlier reading.
fn accept_allows<'a, H: PolicyHost<'a>>(host: &H, sub: &str) -> bool {
    let Some(values) = host.header_values(Msg::Request, "Accept") else {
        return true;
    };
    let mut any = false;
    for item in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim();
        if media.is_empty() {
            continue;
        }
        any = true;
        let q = parts
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, v)| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let m = media.to_ascii_lowercase();
        if m == "*/*" || m == "application/*" || m == "text/*" || is_media(&m, sub) {
            return true;
        }
    }
    !any
}

/// A value (from an expression) the policy cannot use: APIM's expression-value failure.
fn value_failure(policy: &'static str, message: String) -> Failure {
    Failure {
        status: 500,
        message,
        source: policy,
        reason: "ExpressionValueEvaluationFailure",
        at: InsnIdx(0),
    }
}

fn conversion_failure(policy: &'static str, target: Target, what: &str, detail: &str) -> Failure {
    let which = match target {
        Target::Request => "request",
        Target::Response => "response",
    };
    Failure {
        status: 500,
        message: format!("Unable to convert the {which} body from {what}: {detail}"),
        source: policy,
        reason: CONVERSION_FAILURE,
        at: InsnIdx(0),
    }
}

#[cfg(test)]
mod tests {
    use super::is_media;
    use std::collections::BTreeMap;

    use tollgate_core::config::NamedValue;

    use crate::build::{build_program, load_document};
    use crate::xml::{Origin, Scopes};

    /// `tollgate policy explain`: each transform is one instruction; a secret `from`
    /// is masked; the bodies they edit are marked for buffering.
    #[test]
    fn listing_and_buffering() {
        let mut named = BTreeMap::new();
        named.insert(
            "pw".to_string(),
            NamedValue {
                value: "hunter2".into(),
                secret: true,
            },
        );
        let xml = r#"<policies>
            <inbound><base/><json-to-xml apply="always" namespace-prefix="xmlns"/></inbound>
            <outbound><base/><find-and-replace from="{{pw}}" to="x"/><xml-to-json kind="direct" apply="content-type-xml"/><redirect-content-urls/></outbound>
        </policies>"#;
        let doc = load_document(xml, &Origin::file("p.xml"), &named).unwrap();
        let fragments = BTreeMap::new();
        let scopes = Scopes {
            global: None,
            product: None,
            api: Some(&doc),
            operation: None,
            fragments: &fragments,
        };
        let (prog, _) = build_program(&scopes).unwrap();
        let listing = prog.to_string();
        assert!(listing.contains(
            r#"json-to-xml Request apply="always" accept="true" parse-date=true ns-sep="_" ns-prefix="xmlns""#
        ), "{listing}");
        assert!(
            listing.contains(r#"find-and-replace Response "***" -> "***""#),
            "{listing}"
        );
        assert!(!listing.contains("hunter2"), "{listing}");
        assert!(listing.contains(r#"xml-to-json Response kind="direct" apply="content-type-xml" accept="true" always-array="false""#), "{listing}");
        assert!(
            listing.contains("redirect-content-urls Response"),
            "{listing}"
        );
        assert!(prog.reads_request_body && prog.reads_response_body);
        assert!(!prog.is_passthrough());
    }

    #[test]
    fn media_types() {
        assert!(is_media("application/json", "json"));
        assert!(is_media("text/JSON", "json"));
        assert!(is_media("application/problem+json", "json"));
        assert!(is_media("application/soap+xml", "xml"));
        assert!(!is_media("application/jsonx", "json"));
        assert!(!is_media("application/xml", "json"));
        assert!(!is_media("image/svg", "xml"));
        assert!(!is_media("json", "json"));
    }
}

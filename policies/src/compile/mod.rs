//! The compiler: an effective (merged) policy → a [`Program`].
//!
//! Each section's policies become instructions in document order; `choose` becomes
//! conditional jumps; every attribute that is an expression is compiled once here
//! (type errors are load errors with file:line:col). A policy that the catalog knows
//! but this gateway does not run yet is a load error saying so — never skipped.

mod access;
mod attrs;
mod client_cert;
mod concurrency;
mod control;
mod cors;
mod headers;
mod jwt;
mod message;
mod metrics;
mod retry;
mod send;
mod throttle;
mod transform;
mod validate;

use crate::program::{Insn, InsnIdx, Origin, Program, Section};
use crate::xml::{Effective, MergedElement, PolicyError, SectionKind};

pub(crate) use attrs::Ctx;

/// Upper bound on a program's instructions (with the expression depth and size limits
/// in `expr`, this bounds the work one request can make the VM do per pass).
pub const MAX_INSTRUCTIONS: usize = 65_536;

fn kind_of(s: Section) -> SectionKind {
    match s {
        Section::Inbound => SectionKind::Inbound,
        Section::Backend => SectionKind::Backend,
        Section::Outbound => SectionKind::Outbound,
        Section::OnError => SectionKind::OnError,
    }
}

/// Compiles every section of `eff`. All errors are collected.
pub fn compile(eff: &Effective) -> Result<Program, Vec<PolicyError>> {
    compile_with(eff, &crate::build::CompileOptions::default())
}

/// [`compile`] with what the configuration provides (certificates).
pub fn compile_with(
    eff: &Effective,
    options: &crate::build::CompileOptions,
) -> Result<Program, Vec<PolicyError>> {
    let mut c = Compiler {
        prog: Program::default(),
        errors: Vec::new(),
        secret: false,
        after_forward: false,
        certificates: options.certificates.clone(),
        certificate_thumbprints: options.certificate_thumbprints.clone(),
    };
    for (section, kind) in [
        (Section::Inbound, SectionKind::Inbound),
        (Section::Backend, SectionKind::Backend),
        (Section::Outbound, SectionKind::Outbound),
        (Section::OnError, SectionKind::OnError),
    ] {
        let start = c.prog.insns.len() as u32;
        c.after_forward = false;
        let mut path = PathCounter::default();
        for el in eff.section(kind) {
            c.policy(el, section, &path.next(&el.name, ""));
        }
        c.prog.sections[section as usize] = start..c.prog.insns.len() as u32;
    }
    if c.prog.insns.len() > MAX_INSTRUCTIONS {
        let first = Section::ALL
            .iter()
            .find_map(|s| eff.section(kind_of(*s)).first());
        if let Some(el) = first {
            c.error(
                el,
                format!(
                    "the effective policy compiles to {} instructions (limit {MAX_INSTRUCTIONS})",
                    c.prog.insns.len()
                ),
                Some("split the work across operations or simplify the policy"),
            );
        }
    }
    if c.errors.is_empty() {
        Ok(c.prog)
    } else {
        Err(c.errors)
    }
}

pub(crate) struct Compiler {
    pub prog: Program,
    pub errors: Vec<PolicyError>,
    /// An operand read since the last `emit` came from a secret named value.
    pub secret: bool,
    /// A forward-request came earlier in this section (in document order): expressions
    /// after it may read `context.Response`.
    pub after_forward: bool,
    /// `certificates:` of the configuration, by id.
    pub certificates: std::collections::BTreeMap<String, tollgate_jwt::Key>,
    /// `certificates:` thumbprints by id (issuer-certificate-id).
    pub certificate_thumbprints: std::collections::BTreeMap<String, String>,
}

impl Compiler {
    /// Compiles one policy element of `section`; `path` is its LastError.Path.
    pub fn policy(&mut self, el: &MergedElement, section: Section, path: &str) {
        let ctx = Ctx {
            el,
            section,
            path,
            builds_response: false,
        };
        match el.name.as_str() {
            "set-header" => headers::set_header(self, &ctx),
            "set-query-parameter" => headers::set_query_parameter(self, &ctx),
            "check-header" => access::check_header(self, &ctx),
            "cors" => cors::cors(self, &ctx),
            "retry" => retry::retry(self, &ctx),
            "validate-content" => validate::validate_content(self, &ctx),
            "emit-metric" => metrics::emit_metric(self, &ctx),
            "wait" => self.wait(&ctx),
            "limit-concurrency" => concurrency::limit_concurrency(self, &ctx),
            "send-request" => send::send(self, &ctx, false),
            "send-one-way-request" => send::send(self, &ctx, true),
            "ip-filter" => access::ip_filter(self, &ctx),
            "validate-jwt" => jwt::validate_jwt(self, &ctx),
            "validate-azure-ad-token" => jwt::validate_azure_ad_token(self, &ctx),
            "authentication-basic" => jwt::authentication_basic(self, &ctx),
            "validate-client-certificate" => client_cert::validate_client_certificate(self, &ctx),
            "rate-limit" => throttle::rate_limit(self, &ctx, false),
            "rate-limit-by-key" => throttle::rate_limit(self, &ctx, true),
            "quota" => throttle::quota(self, &ctx, false),
            "quota-by-key" => throttle::quota(self, &ctx, true),
            "set-variable" => control::set_variable(self, &ctx),
            "choose" => control::choose(self, &ctx),
            "trace" => control::trace(self, &ctx),
            "forward-request" => control::forward_request(self, &ctx),
            "rewrite-uri" => message::rewrite_uri(self, &ctx),
            "set-method" => message::set_method(self, &ctx),
            "set-status" => message::set_status(self, &ctx),
            "set-body" => message::set_body(self, &ctx),
            "set-backend-service" => message::set_backend_service(self, &ctx),
            "return-response" => message::return_response(self, &ctx),
            "mock-response" => message::mock_response(self, &ctx),
            "find-and-replace" => transform::find_and_replace(self, &ctx),
            "json-to-xml" => transform::json_to_xml(self, &ctx),
            "xml-to-json" => transform::xml_to_json(self, &ctx),
            "redirect-content-urls" => transform::redirect_content_urls(self, &ctx),
            other => {
                let hint = match other {
                    "authentication-certificate" => {
                        "client certificates towards backends are set per backend: backends.<name>.tls.client-cert"
                    }
                    n if n.starts_with("cache-") => "caching lands with a later issue",
                    _ => "remove it, or wait for the policy engine issue (3) to finish",
                };
                self.error(
                    el,
                    format!("`{other}` is not supported yet by this gateway"),
                    Some(hint),
                );
            }
        }
    }

    /// Appends an instruction with the origin of `el`.
    pub fn emit(&mut self, ctx: &Ctx<'_>, insn: Insn) -> InsnIdx {
        let el = ctx.el;
        self.prog.insns.push(insn);
        self.prog.origins.push(Origin {
            policy: policy_name(&el.name),
            scope: scope_name(&el.host),
            policy_id: el.attr_value("id").map(Into::into),
            path: ctx.path.into(),
            file: el.file.as_ref().into(),
            line: el.loc.line,
            col: el.loc.col,
            secret: std::mem::take(&mut self.secret),
        });
        InsnIdx(self.prog.insns.len() as u32 - 1)
    }

    /// The child elements of `ctx.el` as policies of its section, each with its
    /// LastError.Path below `ctx.path` (choose branches, retry, limit-concurrency).
    pub fn body(&mut self, ctx: &Ctx<'_>) {
        let mut paths = PathCounter::default();
        for child in ctx.el.elements() {
            let p = paths.next(&child.name, ctx.path);
            self.policy(child, ctx.section, &p);
        }
    }

    /// `wait for="all"`: its children (send-request, choose) run one after another,
    /// which gives the same results as running them in parallel, later. `for="any"`
    /// (continue after the first) is refused until side requests run concurrently.
    fn wait(&mut self, ctx: &Ctx<'_>) {
        match ctx.el.attr_value("for").unwrap_or("all") {
            "all" => self.body(ctx),
            "any" => self.error(
                ctx.el,
                "wait for=\"any\" is not supported yet".into(),
                Some("use for=\"all\""),
            ),
            other => self.error(ctx.el, format!("for=\"{other}\" must be all or any"), None),
        }
    }

    pub fn here(&self) -> InsnIdx {
        InsnIdx(self.prog.insns.len() as u32)
    }

    pub fn error(&mut self, el: &MergedElement, message: String, hint: Option<&str>) {
        self.errors.push(PolicyError {
            file: el.file.to_string(),
            line: el.loc.line,
            col: el.loc.col,
            policy: Some(el.name.clone()),
            message,
            hint: hint.map(Into::into),
        });
    }
}

/// FNV-1a over `parts`, each ended by 0xff (so `["ab", "c"]` and `["a", "bc"]` differ).
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Where a policy element is written and everything it says (attributes, children,
/// named values already resolved), hashed: the identity of state that must not outlive
/// an edit of the policy, such as validate-jwt's verified tokens (a reload that changes
/// an audience must not accept a token verified under the old one). The same in every
/// program the element is merged into.
pub(crate) fn content_hash(el: &MergedElement) -> u64 {
    fnv(&[format!("{el:?}").as_bytes()])
}

/// A per-subscription counter's identity: the policy's name and the named document
/// (`product/ID`, `api/ID`, `operation/API/OP`, `fragment/ID`) it is written in, which
/// holds at most one of each (APIM), and `parts` (an `<api>`/`<operation>` child). It
/// does not move when lines do, so a reload that keeps the policy keeps its counts.
pub(crate) fn owner_hash(el: &MergedElement, parts: &[&str]) -> u64 {
    let mut all: Vec<&[u8]> = vec![el.name.as_bytes(), el.owner.as_bytes()];
    all.extend(parts.iter().map(|p| p.as_bytes()));
    fnv(&all)
}

/// Counts siblings for LastError.Path (`choose[1]/when[2]`).
#[derive(Default)]
pub(crate) struct PathCounter {
    seen: Vec<(String, u32)>,
}

impl PathCounter {
    pub fn next(&mut self, name: &str, parent: &str) -> String {
        let n = match self.seen.iter_mut().find(|(k, _)| k == name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.seen.push((name.to_string(), 1));
                1
            }
        };
        if parent.is_empty() {
            format!("{name}[{n}]")
        } else {
            format!("{parent}/{name}[{n}]")
        }
    }
}

fn scope_name(s: &crate::xml::Scope) -> &'static str {
    match s {
        crate::xml::Scope::Global => "global",
        crate::xml::Scope::Product => "product",
        crate::xml::Scope::Api => "api",
        crate::xml::Scope::Operation => "operation",
        crate::xml::Scope::Fragment(_) => "fragment",
    }
}

/// The static name of a compiled policy (origins keep `&'static str`).
fn policy_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "set-header",
        "set-query-parameter",
        "check-header",
        "ip-filter",
        "set-variable",
        "choose",
        "when",
        "otherwise",
        "trace",
        "forward-request",
        "rewrite-uri",
        "set-method",
        "set-status",
        "set-body",
        "set-backend-service",
        "return-response",
        "mock-response",
        "cors",
        "retry",
        "validate-content",
        "emit-metric",
        "wait",
        "limit-concurrency",
        "send-request",
        "send-one-way-request",
        "find-and-replace",
        "json-to-xml",
        "xml-to-json",
        "redirect-content-urls",
        "validate-jwt",
        "validate-azure-ad-token",
        "authentication-basic",
        "rate-limit",
        "rate-limit-by-key",
        "quota",
        "quota-by-key",
    ];
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("policy")
}

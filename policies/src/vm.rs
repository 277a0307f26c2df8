//! The interpreter: runs a section of a [`Program`] against a [`PolicyHost`].
//!
//! A loop over instruction indices (jumps for `choose`), no recursion, no heap
//! allocation: operand text is produced in the request arena. A section ends at its
//! last instruction, at `Respond` (return-response: the response is sent as built and
//! nothing else runs), at `Forward` (the proxy calls the backend and resumes the
//! section after it), or at the first failure, which the caller turns into the APIM
//! error response or the on-error section.

use std::net::IpAddr;

use crate::expr::{EvalError, ExprScratch, Value};
use crate::host::PolicyHost;
use crate::program::{
    Cors, ExistsAction, ForwardSettings, Insn, InsnIdx, Operand, Program, Section, Target,
};

/// How a section run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Ran to the end of the section.
    Done,
    /// `return-response` / `mock-response`: send the built response now.
    Respond,
    /// `send-request`: perform the host's pending side request, then resume.
    Send { resume: InsnIdx },
    /// `retry`: wait `delay`, then resume at `resume` (the retry's body).
    Wait {
        delay: std::time::Duration,
        resume: InsnIdx,
    },
    /// `forward-request`: call the backend, then resume at `resume`.
    Forward {
        settings: ForwardSettings,
        resume: InsnIdx,
    },
    /// A policy failed; the request ends with this error (or runs on-error).
    Failed(Failure),
}

/// A policy failure, carrying what `context.LastError` reports.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    /// APIM LastError.Message. The error response's body may say something else (see
    /// `pipeline`): check-header answers with its failed-check-error-message, and an
    /// expression failure with "Internal server error".
    pub message: String,
    /// APIM LastError.Source: the policy name (`check-header`). Expression failures are
    /// raised as [`EXPRESSION`] and renamed to the policy they happened in by [`run_from`].
    pub source: &'static str,
    /// APIM LastError.Reason (`HeaderNotFound`, `ExpressionValueEvaluationFailure`, …).
    pub reason: &'static str,
    pub at: InsnIdx,
}

impl Failure {
    /// set-backend-service named a base URL or backend the gateway cannot call (found
    /// when the policy runs, or by the proxy when it resolves the backend).
    pub fn backend_service_invalid(message: String, at: InsnIdx) -> Failure {
        Failure {
            status: 500,
            message,
            source: "set-backend-service",
            reason: "BackendServiceInvalid",
            at,
        }
    }
}

/// Runs `section` from its start.
pub fn run<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    section: Section,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Outcome {
    let range = prog.section(section);
    run_from(prog, InsnIdx(range.start), range.end, host, scratch)
}

/// Runs instructions from `start` up to (not including) `end`.
pub fn run_from<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    start: InsnIdx,
    end: u32,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Outcome {
    let mut pc = start.0;
    while pc < end {
        let at = InsnIdx(pc);
        pc += 1;
        let step = step(prog, &prog.insns[at.0 as usize], host, scratch);
        match step {
            Ok(Step::Next) => {}
            Ok(Step::Jump(to)) => pc = to.0,
            Ok(Step::Respond) => return Outcome::Respond,
            Ok(Step::Send) => {
                return Outcome::Send {
                    resume: InsnIdx(pc),
                }
            }
            Ok(Step::Wait(delay, body)) => {
                return Outcome::Wait {
                    delay,
                    resume: body,
                }
            }
            Ok(Step::Forward(settings)) => {
                return Outcome::Forward {
                    settings,
                    resume: InsnIdx(pc),
                }
            }
            Err(mut f) => {
                f.at = at;
                if f.source == EXPRESSION {
                    // APIM names the element where the error occurred; a failing `when`
                    // condition is the choose policy's.
                    f.source = match prog.origins.get(at.0 as usize).map(|o| o.policy) {
                        Some("when" | "otherwise") => "choose",
                        Some(p) => p,
                        None => f.source,
                    };
                }
                return Outcome::Failed(f);
            }
        }
    }
    Outcome::Done
}

enum Step {
    Next,
    /// A side request is pending in the host.
    Send,
    Wait(std::time::Duration, InsnIdx),
    Jump(InsnIdx),
    Respond,
    Forward(ForwardSettings),
}

fn step<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    insn: &'a Insn,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<Step, Failure> {
    match insn {
        Insn::SetHeader {
            target,
            name,
            action,
            values,
        } => {
            let arena = host.arena();
            let name: &'a str = arena.alloc_str(name);
            let texts = eval_all(prog, values, host, scratch)?;
            for t in texts {
                check_field_value(t)?;
            }
            host.set_header(*target, name, texts, *action);
        }
        Insn::SetQueryParameter {
            name,
            action,
            values,
        } => {
            let name = text(prog, name, host, scratch)?;
            let texts = eval_all(prog, values, host, scratch)?;
            host.set_query_parameter(name, texts, *action);
        }
        Insn::SetVariable { name, value } => {
            let v = match value {
                Operand::Text(t) => Value::Str(host.arena().alloc_str(t)),
                Operand::Expr(e) => eval(prog, *e, host, scratch)?,
            };
            let name: &'a str = host.arena().alloc_str(name);
            host.set_variable(name, v);
        }
        Insn::JumpUnless { cond, to } => {
            // `(bool)` of the condition's value: null and other types throw, as in C#.
            let holds = match eval(prog, *cond, host, scratch)? {
                Value::Bool(b) => b,
                Value::Null => {
                    return Err(eval_failure(EvalError::new(
                        "Object reference not set to an instance of an object.",
                    )))
                }
                other => {
                    return Err(eval_failure(EvalError::new(format!(
                        "Unable to cast object of type '{}' to type 'System.Boolean'.",
                        other.type_name()
                    ))))
                }
            };
            if !holds {
                return Ok(Step::Jump(*to));
            }
        }
        Insn::Jump { to } => return Ok(Step::Jump(*to)),
        Insn::RewriteUri {
            template,
            copy_unmatched_params,
        } => {
            let t = text(prog, template, host, scratch)?;
            let uri = substitute_template(t, host);
            if !uri.starts_with('/') || uri.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#') {
                return Err(expression_failure(format!(
                    "rewrite-uri produced an invalid URI `{}`",
                    uri.escape_debug()
                )));
            }
            host.rewrite_uri(uri, *copy_unmatched_params);
        }
        Insn::SetMethod { method } => {
            let m = text(prog, method, host, scratch)?.trim();
            if m.is_empty() || !m.bytes().all(is_tchar) {
                return Err(expression_failure(format!(
                    "set-method: `{}` is not an HTTP method",
                    m.escape_debug()
                )));
            }
            host.set_method(m);
        }
        Insn::SetStatus { code, reason } => {
            let c = text(prog, code, host, scratch)?;
            let code: u16 = c
                .trim()
                .parse()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| {
                    expression_failure(format!(
                        "set-status: `{c}` is not a status code between 100 and 599"
                    ))
                })?;
            let reason = match reason {
                Some(r) => text(prog, r, host, scratch)?,
                None => "",
            };
            check_field_value(reason)?;
            host.set_status(code, reason);
        }
        Insn::SetBody { target, body } => {
            let b = text(prog, body, host, scratch)?;
            host.set_body(*target, b.as_bytes());
        }
        Insn::SetBodyLiquid { target, template } => {
            let msg = match target {
                Target::Request => crate::expr::Msg::Request,
                Target::Response => crate::expr::Msg::Response,
            };
            let b = crate::liquid::render(template, host, msg).map_err(expression_failure)?;
            host.set_body(*target, b.as_bytes());
        }
        Insn::SetBackendService {
            base_url,
            backend_id,
        } => {
            let url = base_url
                .as_ref()
                .map(|o| text(prog, o, host, scratch))
                .transpose()?;
            let id = backend_id
                .as_ref()
                .map(|o| text(prog, o, host, scratch))
                .transpose()?;
            host.set_backend_service(url, id)
                .map_err(|message| Failure::backend_service_invalid(message, InsnIdx(0)))?;
        }
        Insn::BeginResponse => host.begin_response(),
        Insn::Respond => return Ok(Step::Respond),
        Insn::CheckHeader {
            name,
            failed_code,
            ignore_case,
            values,
            ..
        } => {
            check_header(host, name, *failed_code, *ignore_case, values)?;
        }
        Insn::IpFilter { action, ranges } => {
            let allow = match action {
                Operand::Text(t) => &**t == "allow",
                Operand::Expr(e) => match eval(prog, *e, host, scratch)?.to_display(host.arena()) {
                    "allow" => true,
                    "forbid" => false,
                    other => {
                        return Err(expression_failure(format!(
                            "ip-filter: action `{other}` is neither allow nor forbid"
                        )))
                    }
                },
            };
            let ip = host.ip_address();
            let parsed: Option<IpAddr> = ip.parse().ok();
            // APIM's predefined ip-filter errors (reasons and messages).
            let Some(addr) = parsed else {
                return Err(Failure {
                    status: 403,
                    message: "Failed to establish IP address for the caller. Access denied.".into(),
                    source: "ip-filter",
                    reason: "FailedToParseCallerIP",
                    at: InsnIdx(0),
                });
            };
            let listed = ranges.iter().any(|r| in_range(addr, r.from, r.to));
            if listed != allow {
                let (message, reason) = if allow {
                    (
                        format!("Caller IP address {ip} is not allowed. Access denied."),
                        "CallerIpNotAllowed",
                    )
                } else {
                    (
                        "Caller IP address is blocked. Access denied.".to_string(),
                        "CallerIpBlocked",
                    )
                };
                return Err(Failure {
                    status: 403,
                    message,
                    source: "ip-filter",
                    reason,
                    at: InsnIdx(0),
                });
            }
        }
        Insn::Forward(settings) => return Ok(Step::Forward(*settings)),
        Insn::SendRequest(spec) => {
            send_step(prog, spec, host, scratch)?;
            return Ok(Step::Send);
        }
        Insn::ConcurrencyEnter { key, max } => {
            let key = text(prog, key, host, scratch)?;
            if !host.concurrency_acquire(key, *max) {
                return Err(Failure {
                    status: 429,
                    message: "Too many concurrent requests.".into(),
                    source: "limit-concurrency",
                    reason: "ConcurrencyLimitExceeded",
                    at: InsnIdx(0),
                });
            }
        }
        Insn::ValidateContent(v) => validate_content(v, host)?,
        Insn::EmitMetric(m) => {
            let value: f64 = text(prog, &m.value, host, scratch)?
                .trim()
                .parse()
                .unwrap_or(1.0);
            let arena = host.arena();
            let mut dims = bumpalo::collections::Vec::with_capacity_in(m.dimensions.len(), arena);
            for (name, v) in m.dimensions.iter() {
                let v = match v {
                    Some(o) => text(prog, o, host, scratch)?,
                    None => default_dimension(host, name),
                };
                dims.push((&*arena.alloc_str(name), v));
            }
            host.emit_metric(&m.namespace, &m.name, value, &dims);
        }
        Insn::ReturnStored { variable } => {
            if !host.respond_with_stored(variable) {
                return Err(expression_failure(format!(
                    "return-response: variable `{variable}` does not hold a response"
                )));
            }
        }
        Insn::Transform(t) => crate::transform::step(prog, t, host, scratch)?,
        Insn::ConcurrencyExit => host.concurrency_release(),
        Insn::RetryStart { id } => host.set_retry_attempt(*id, 0),
        Insn::RetryCheck(r) => {
            let again = match eval(prog, r.condition, host, scratch)? {
                Value::Bool(b) => b,
                v if v.is_null() => false,
                _ => return Err(expression_failure("retry condition is not a bool".into())),
            };
            let done = host.retry_attempt(r.id);
            if again && done < r.count {
                let attempt = done + 1;
                host.set_retry_attempt(r.id, attempt);
                let delay = retry_delay(r, attempt, host.random_u64());
                return Ok(if delay.is_zero() {
                    Step::Jump(r.body)
                } else {
                    Step::Wait(delay, r.body)
                });
            }
        }
        Insn::Cors(cors) => return Ok(cors_step(cors, host)),
        Insn::Trace {
            source,
            severity,
            message,
        } => {
            let m = text(prog, message, host, scratch)?;
            host.trace(source, severity, m);
        }
    }
    Ok(Step::Next)
}

/// check-header. A failure carries APIM's predefined LastError message; the response body
/// gets `failed-check-error-message` (taken from the instruction by `pipeline`).
fn check_header<'a, H: PolicyHost<'a>>(
    host: &mut H,
    name: &str,
    code: u16,
    ignore_case: bool,
    allowed: &[Box<str>],
) -> Result<(), Failure> {
    let fail = |reason: &'static str, message: String| Failure {
        status: code,
        message,
        source: "check-header",
        reason,
        at: InsnIdx(0),
    };
    let Some(values) = host.header_values(crate::expr::Msg::Request, name) else {
        return Err(fail(
            "HeaderNotFound",
            format!("Header {name} was not found in the request. Access denied."),
        ));
    };
    if allowed.is_empty() {
        return Ok(());
    }
    let ok = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|v| {
            allowed.iter().any(|a| {
                if ignore_case {
                    a.eq_ignore_ascii_case(v)
                } else {
                    &**a == v
                }
            })
        });
    if ok {
        Ok(())
    } else {
        Err(fail(
            "HeaderValueNotAllowed",
            format!(
                "Header {name} value of {} is not allowed. Access denied.",
                values.join(",")
            ),
        ))
    }
}

fn in_range(ip: IpAddr, from: IpAddr, to: IpAddr) -> bool {
    match (ip, from, to) {
        (IpAddr::V4(i), IpAddr::V4(f), IpAddr::V4(t)) => f <= i && i <= t,
        (IpAddr::V6(i), IpAddr::V6(f), IpAddr::V6(t)) => f <= i && i <= t,
        (IpAddr::V6(i), IpAddr::V4(_), IpAddr::V4(_)) => i
            .to_ipv4_mapped()
            .is_some_and(|v4| in_range(IpAddr::V4(v4), from, to)),
        _ => false,
    }
}

/// Replaces `{param}` in a rewrite-uri template with matched template parameters.
fn substitute_template<'a, H: PolicyHost<'a>>(t: &'a str, host: &H) -> &'a str {
    if !t.contains('{') {
        return t;
    }
    let mut out = bumpalo::collections::String::with_capacity_in(t.len() + 16, host.arena());
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if let Some(v) = host.matched_parameter(name) {
                    out.push_str(v);
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.into_bump_str()
}

fn eval<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    e: crate::program::ExprIdx,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<Value<'a>, Failure> {
    prog.exprs[e.0 as usize]
        .eval(host, scratch)
        .map_err(eval_failure)
}

/// An operand as text (C# `ToString()` of an expression's value).
pub(crate) fn text<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    o: &Operand,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<&'a str, Failure> {
    match o {
        Operand::Text(t) => Ok(host.arena().alloc_str(t)),
        Operand::Expr(e) => Ok(eval(prog, *e, host, scratch)?.to_display(host.arena())),
    }
}

fn eval_all<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    ops: &[Operand],
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<&'a [&'a str], Failure> {
    let arena = host.arena();
    let mut out = bumpalo::collections::Vec::with_capacity_in(ops.len(), arena);
    for o in ops {
        out.push(text(prog, o, host, scratch)?);
    }
    Ok(out.into_bump_slice())
}

/// The provisional LastError.Source of an expression failure (see [`Failure::source`]).
pub const EXPRESSION: &str = "expression";

/// A runtime exception of an expression; APIM's LastError.Message for it is
/// "Expression evaluation failed. " followed by the exception's message.
fn eval_failure(e: EvalError) -> Failure {
    expression_failure(format!("Expression evaluation failed. {e}"))
}

fn expression_failure(message: String) -> Failure {
    Failure {
        status: 500,
        message,
        source: EXPRESSION,
        reason: "ExpressionValueEvaluationFailure",
        at: InsnIdx(0),
    }
}

/// What a host does with a header or query parameter for an `exists-action`, given
/// whether it exists already.
pub fn exists_outcome(exists: bool, action: ExistsAction) -> ExistsOutcome {
    match (action, exists) {
        (ExistsAction::Delete, _) => ExistsOutcome::Remove,
        (ExistsAction::Skip, true) => ExistsOutcome::Keep,
        (ExistsAction::Skip, false)
        | (ExistsAction::Override, _)
        | (ExistsAction::Append, false) => ExistsOutcome::Replace,
        (ExistsAction::Append, true) => ExistsOutcome::AppendValues,
    }
}

/// See [`exists_outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistsOutcome {
    Keep,
    Replace,
    AppendValues,
    Remove,
}

/// `cors`: a preflight is answered here (the pipeline ends); an actual cross-origin
/// request gets its CORS response headers queued; unmatched requests end with an empty
/// 200 when `terminate-unmatched-request` says so (preflights, and GET/HEAD).
fn cors_step<'a, H: PolicyHost<'a>>(cors: &Cors, host: &mut H) -> Step {
    use crate::expr::Msg;
    let first = |host: &H, name: &str| {
        host.header_values(Msg::Request, name)
            .and_then(|v| v.first().copied())
    };
    let Some(origin) = first(host, "Origin") else {
        return Step::Next;
    };
    let any = |list: &[Box<str>]| list.iter().any(|x| &**x == "*");
    let origin_ok = any(&cors.origins) || cors.origins.iter().any(|o| same_origin(o, origin));
    let method = host.method();
    let preflight_method = first(host, "Access-Control-Request-Method");
    let arena = host.arena();
    let allow_origin: &'a str = if any(&cors.origins) && !cors.allow_credentials {
        "*"
    } else {
        origin
    };
    if method == "OPTIONS" {
        if let Some(wanted) = preflight_method {
            let method_ok =
                any(&cors.methods) || cors.methods.iter().any(|m| m.eq_ignore_ascii_case(wanted));
            let requested = first(host, "Access-Control-Request-Headers").unwrap_or("");
            let headers_ok = any(&cors.headers)
                || requested
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .all(|h| cors.headers.iter().any(|a| a.eq_ignore_ascii_case(h)));
            if origin_ok && method_ok && headers_ok {
                host.begin_response();
                let set = |host: &mut H, n: &'a str, v: &'a str| {
                    host.set_header(Target::Response, n, &[v], ExistsAction::Override)
                };
                set(host, "Access-Control-Allow-Origin", allow_origin);
                if cors.allow_credentials {
                    set(host, "Access-Control-Allow-Credentials", "true");
                }
                let methods: &'a str = if any(&cors.methods) {
                    wanted
                } else {
                    join(arena, &cors.methods)
                };
                set(host, "Access-Control-Allow-Methods", methods);
                let headers: &'a str = if any(&cors.headers) {
                    requested
                } else {
                    join(arena, &cors.headers)
                };
                if !headers.is_empty() {
                    set(host, "Access-Control-Allow-Headers", headers);
                }
                if cors.max_age > 0 {
                    let mut age = bumpalo::collections::String::new_in(arena);
                    let _ = std::fmt::Write::write_fmt(&mut age, format_args!("{}", cors.max_age));
                    set(host, "Access-Control-Max-Age", age.into_bump_str());
                }
                if !any(&cors.origins) || cors.allow_credentials {
                    set(host, "Vary", "Origin");
                }
                return Step::Respond;
            }
            if cors.terminate_unmatched {
                host.begin_response();
                return Step::Respond;
            }
            return Step::Next;
        }
    }
    if origin_ok {
        host.add_final_response_header("Access-Control-Allow-Origin", allow_origin);
        if cors.allow_credentials {
            host.add_final_response_header("Access-Control-Allow-Credentials", "true");
        }
        if !cors.expose.is_empty() {
            host.add_final_response_header(
                "Access-Control-Expose-Headers",
                arena.alloc_str(&cors.expose),
            );
        }
        Step::Next
    } else if cors.terminate_unmatched && (method == "GET" || method == "HEAD") {
        host.begin_response();
        Step::Respond
    } else {
        Step::Next
    }
}

/// Origins compare by scheme, host and port, case-insensitively, default ports implied.
fn same_origin(allowed: &str, origin: &str) -> bool {
    fn norm(o: &str) -> (&str, &str, &str) {
        let (scheme, rest) = o.split_once("://").unwrap_or(("", o));
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
            _ => (
                rest,
                if scheme.eq_ignore_ascii_case("https") {
                    "443"
                } else {
                    "80"
                },
            ),
        };
        (scheme, host, port)
    }
    let (a, b) = (norm(allowed), norm(origin));
    a.0.eq_ignore_ascii_case(b.0) && a.1.eq_ignore_ascii_case(b.1) && a.2 == b.2
}

fn join<'a>(arena: &'a bumpalo::Bump, items: &[Box<str>]) -> &'a str {
    let mut s = bumpalo::collections::String::new_in(arena);
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(x);
    }
    s.into_bump_str()
}

/// The wait before retry number `attempt` (1-based), by APIM's rules: fixed `interval`;
/// with `delta`, linear (`interval + (attempt-1)·delta`); with `delta` and
/// `max-interval`, exponential (`interval + (2^attempt - 1)·random(0.8·delta, 1.2·delta)`)
/// capped at `max-interval`; `first-fast-retry` makes the first retry immediate.
pub fn retry_delay(
    r: &crate::program::RetrySpec,
    attempt: u32,
    random: u64,
) -> std::time::Duration {
    use std::time::Duration;
    if r.first_fast_retry && attempt == 1 {
        return Duration::ZERO;
    }
    let delay = match (r.delta, r.max_interval) {
        (Some(delta), Some(max)) => {
            // random in [0.8, 1.2) from the injected source.
            let factor = 0.8 + 0.4 * ((random >> 11) as f64 / (1u64 << 53) as f64);
            let growth = (2f64.powi(attempt.min(30) as i32) - 1.0) * delta.as_secs_f64() * factor;
            let secs = (r.interval.as_secs_f64() + growth).min(max.as_secs_f64());
            Duration::from_secs_f64(secs.max(0.0))
        }
        (Some(delta), None) => r.interval + delta * attempt.saturating_sub(1),
        (None, _) => r.interval,
    };
    match r.max_interval {
        Some(max) => delay.min(max),
        None => delay,
    }
}

/// Evaluates a side request into the host (`send-request`).
fn send_step<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    spec: &'a crate::program::SendSpec,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<(), Failure> {
    use crate::exchange::{HeaderList, PendingSend};
    let arena = host.arena();
    let mut headers = HeaderList::new(arena);
    let (mut method, mut body): (&'a str, Option<&'a [u8]>) = ("GET", None);
    if spec.copy {
        method = host.method();
        for name in host.header_names(crate::expr::Msg::Request) {
            for v in host
                .header_values(crate::expr::Msg::Request, name)
                .unwrap_or(&[])
            {
                headers.push(name, v);
            }
        }
        body = host.body(crate::expr::Msg::Request, true).ok();
    }
    let url = match &spec.url {
        Some(u) => text(prog, u, host, scratch)?.trim(),
        None => "",
    };
    if let Some(m) = &spec.method {
        method = text(prog, m, host, scratch)?;
    }
    if !method.bytes().all(is_tchar) || method.is_empty() {
        return Err(expression_failure(format!(
            "send-request: `{}` is not an HTTP method",
            method.escape_debug()
        )));
    }
    for h in spec.headers.iter() {
        let values = eval_all(prog, &h.values, host, scratch)?;
        for v in values {
            check_field_value(v)?;
        }
        let name: &'a str = arena.alloc_str(&h.name);
        match exists_outcome(headers.contains(name), h.action) {
            ExistsOutcome::Keep => {}
            ExistsOutcome::Remove => headers.remove(name),
            ExistsOutcome::Replace => headers.set(name, values),
            ExistsOutcome::AppendValues => headers.append(name, values),
        }
    }
    if let Some(b) = &spec.body {
        body = Some(text(prog, b, host, scratch)?.as_bytes());
    }
    let variable = spec
        .response_variable
        .as_deref()
        .map(|v| &*arena.alloc_str(v));
    host.begin_send(PendingSend {
        method,
        url,
        headers,
        body,
        timeout: spec.timeout,
        one_way: spec.one_way,
        copy: spec.copy,
        variable,
        ignore_error: spec.ignore_error,
        fail_on_error_status_code: spec.fail_on_error_status_code,
    });
    Ok(())
}

/// A header value must not break the message: no CR, LF or NUL (what .NET refuses).
fn check_field_value(v: &str) -> Result<(), Failure> {
    if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(expression_failure(format!(
            "header value `{}` contains a line break",
            v.escape_debug()
        )));
    }
    Ok(())
}

/// RFC 9110 token characters (methods, header names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The value APIM fills in for a dimension given without one.
fn default_dimension<'a, H: PolicyHost<'a>>(host: &H, name: &str) -> &'a str {
    use crate::expr::Field;
    let field = match name.to_ascii_lowercase().as_str() {
        "api id" | "api-id" => Field::ApiId,
        "operation id" | "operation-id" => Field::OperationId,
        "product id" | "product-id" => Field::ProductId,
        "subscription id" | "subscription-id" => Field::SubscriptionId,
        "gateway id" | "gateway-id" => Field::DeploymentGatewayId,
        "location" => Field::DeploymentRegion,
        _ => return "",
    };
    host.field(field).as_str().unwrap_or("")
}

/// `validate-content`: size, content type and well-formedness of the request or response.
fn validate_content<'a, H: PolicyHost<'a>>(
    v: &crate::program::ValidateContent,
    host: &mut H,
) -> Result<(), Failure> {
    use crate::expr::Msg;
    use crate::program::ValidateAction;
    let msg = if v.request {
        Msg::Request
    } else {
        Msg::Response
    };
    let arena = host.arena();
    let which = if v.request { "Request" } else { "Response" };
    let mut detected = bumpalo::collections::Vec::new_in(arena);
    let mut prevent: Option<String> = None;
    let mut apply =
        |action: ValidateAction,
         message: String,
         detected: &mut bumpalo::collections::Vec<'a, Value<'a>>| match action {
            ValidateAction::Ignore => {}
            ValidateAction::Detect => detected.push(Value::Str(arena.alloc_str(&message))),
            ValidateAction::Prevent => {
                detected.push(Value::Str(arena.alloc_str(&message)));
                prevent.get_or_insert(message);
            }
        };
    let body: &[u8] = host.body(msg, true).unwrap_or(b"");
    if body.len() as u64 > v.max_size {
        apply(
            v.size_action,
            format!(
                "{which}'s body is {} bytes long and it exceeds the limit of {} bytes.",
                body.len(),
                v.max_size
            ),
            &mut detected,
        );
    }
    let content_type = host
        .header_values(msg, "Content-Type")
        .and_then(|vals| vals.first().copied())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let rule = content_type
        .as_deref()
        .and_then(|ct| v.rules.iter().find(|r| &*r.content_type == ct));
    match (rule, content_type.as_deref()) {
        (Some(rule), _) if !body.is_empty() => {
            let ok = if rule.json {
                well_formed_json(body, arena)
            } else {
                well_formed_xml(body)
            };
            if !ok {
                let kind = if rule.json { "JSON" } else { "XML" };
                apply(
                    rule.action,
                    format!("{which}'s body is not valid {kind}."),
                    &mut detected,
                );
            }
        }
        (Some(_), _) => {}
        (None, ct) if !body.is_empty() || ct.is_some() => {
            apply(
                v.unspecified,
                format!(
                    "Unspecified content type {} is not allowed.",
                    ct.unwrap_or("(none)")
                ),
                &mut detected,
            );
        }
        (None, _) => {}
    }
    if let Some(var) = &v.errors_variable {
        if !detected.is_empty() {
            let name: &'a str = arena.alloc_str(var);
            host.set_variable(name, Value::List(detected.into_bump_slice()));
        }
    }
    match prevent {
        Some(message) if v.request => Err(Failure { status: 400, message, source: "validate-content", reason: "ValidationFailed", at: InsnIdx(0) }),
        Some(_) => Err(Failure {
            status: 502,
            message: "The request could not be processed due to an internal error. Contact the API owner.".into(),
            source: "validate-content",
            reason: "ValidationFailed",
            at: InsnIdx(0),
        }),
        None => Ok(()),
    }
}

fn well_formed_json(body: &[u8], arena: &bumpalo::Bump) -> bool {
    match std::str::from_utf8(body) {
        Ok(text) => crate::expr::builtins::json::parse(arena, arena.alloc_str(text)).is_ok(),
        Err(_) => false,
    }
}

fn well_formed_xml(body: &[u8]) -> bool {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut depth = 0i64;
    let mut roots = 0;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => return depth == 0 && roots == 1,
            Ok(_) => {}
            Err(_) => return false,
        }
        buf.clear();
    }
}

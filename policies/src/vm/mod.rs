//! The interpreter: runs a section of a [`Program`] against a [`PolicyHost`].
//!
//! A loop over instruction indices (jumps for `choose`), no recursion, no heap
//! allocation: operand text is produced in the request arena. A section ends at its
//! last instruction, at `Respond` (return-response: the response is sent as built and
//! nothing else runs), at `Forward` (the proxy calls the backend and resumes the
//! section after it), or at the first failure, which the caller turns into the APIM
//! error response or the on-error section.

mod client_cert;
mod cors;
pub mod jwt;
mod retry;
mod send;
pub mod throttle;
mod validate;

use cors::cors_step;
pub use retry::retry_delay;
use send::send_step;
use validate::validate_content;

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
    /// `validate-jwt` needs keys the proxy is fetching: wait for them (bounded), then
    /// resume at `resume` (the same policy, which then does not wait again).
    Keys { resume: InsnIdx },
    /// A throttling policy's budget is with another shard: wait briefly, then resume at
    /// `resume` (the same policy).
    Budget { resume: InsnIdx },
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
        let step = step(prog, at, &prog.insns[at.0 as usize], host, scratch);
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
            Ok(Step::Keys) => return Outcome::Keys { resume: at },
            Ok(Step::Budget) => return Outcome::Budget { resume: at },
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
    /// Wait for key sets, then run this instruction again.
    Keys,
    /// Wait for budget from another shard, then run this instruction again.
    Budget,
}

fn step<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    at: InsnIdx,
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
        Insn::ValidateJwt(p) => return jwt::validate(prog, p, host, scratch),
        Insn::ValidateClientCertificate(p) => client_cert::validate(p, host)?,
        Insn::Throttle(t) => return throttle::run(prog, at, t, host, scratch),
        Insn::AuthenticationBasic { username, password } => {
            return jwt::authentication_basic(prog, username, password, host, scratch)
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
        Insn::ConcurrencyEnter {
            key,
            max,
            queue_ms,
            queue_len,
        } => {
            let key = text(prog, key, host, scratch)?;
            let got = host.concurrency_acquire(key, *max);
            match got {
                // The slots are with another shard: wait for its answer, run this again.
                crate::exchange::Acquire::Pending if host.await_slot() => {
                    return Ok(Step::Budget);
                }
                // Every slot taken (or still with another shard after the wait): wait
                // in line (Tollgate's queue), run this again.
                crate::exchange::Acquire::Full | crate::exchange::Acquire::Pending
                    if *queue_ms > 0 && host.queue_for_slot(key, *queue_ms, *queue_len) =>
                {
                    return Ok(Step::Budget);
                }
                _ => {}
            }
            // Still pending after the wait: refuse (a concurrency limit fails closed).
            if got != crate::exchange::Acquire::Taken {
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

pub(crate) fn expression_failure(message: String) -> Failure {
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

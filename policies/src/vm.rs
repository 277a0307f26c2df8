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
use crate::program::{ExistsAction, ForwardSettings, Insn, InsnIdx, Operand, Program, Section};

/// How a section run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Ran to the end of the section.
    Done,
    /// `return-response` / `mock-response`: send the built response now.
    Respond,
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
    pub message: String,
    /// APIM LastError.Source: the policy name (`check-header`) or `expression`.
    pub source: &'static str,
    /// APIM LastError.Reason (`HeaderNotFound`, `ExpressionValueEvaluationFailure`, …).
    pub reason: &'static str,
    pub at: InsnIdx,
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
            Ok(Step::Forward(settings)) => {
                return Outcome::Forward {
                    settings,
                    resume: InsnIdx(pc),
                }
            }
            Err(mut f) => {
                f.at = at;
                return Outcome::Failed(f);
            }
        }
    }
    Outcome::Done
}

enum Step {
    Next,
    Jump(InsnIdx),
    Respond,
    Forward(ForwardSettings),
}

fn step<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    insn: &Insn,
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
            host.set_header(*target, name, texts, *action);
        }
        Insn::SetQueryParameter {
            name,
            action,
            values,
        } => {
            let name: &'a str = host.arena().alloc_str(name);
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
            if !eval(prog, *cond, host, scratch)?.truthy() {
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
            host.rewrite_uri(uri, *copy_unmatched_params);
        }
        Insn::SetMethod { method } => {
            let m = text(prog, method, host, scratch)?;
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
            host.set_status(code, reason);
        }
        Insn::SetBody { target, body } => {
            let b = text(prog, body, host, scratch)?;
            host.set_body(*target, b.as_bytes());
        }
        Insn::SetBackendService {
            base_url,
            backend_id,
        } => {
            let url = match base_url {
                Some(o) => Some(text(prog, o, host, scratch)?),
                None => None,
            };
            let id = match backend_id {
                Some(o) => Some(text(prog, o, host, scratch)?),
                None => None,
            };
            host.set_backend_service(url, id)
                .map_err(|message| Failure {
                    status: 500,
                    message,
                    source: "set-backend-service",
                    reason: "BackendServiceInvalid",
                    at: InsnIdx(0),
                })?;
        }
        Insn::BeginResponse => host.begin_response(),
        Insn::Respond => return Ok(Step::Respond),
        Insn::CheckHeader {
            name,
            failed_code,
            failed_message,
            ignore_case,
            values,
        } => {
            check_header(
                host,
                name,
                *failed_code,
                failed_message,
                *ignore_case,
                values,
            )?;
        }
        Insn::IpFilter { allow, ranges } => {
            let ip = host.ip_address();
            let parsed: Option<IpAddr> = ip.parse().ok();
            let Some(addr) = parsed else {
                return Err(Failure {
                    status: 403,
                    message: "Failed to establish IP address for the caller. Access denied.".into(),
                    source: "ip-filter",
                    reason: "CallerIpNotAllowed",
                    at: InsnIdx(0),
                });
            };
            let listed = ranges.iter().any(|r| in_range(addr, r.from, r.to));
            if listed != *allow {
                let message = if *allow {
                    format!("Caller IP address {ip} is not allowed. Access denied.")
                } else {
                    "Caller IP address is blocked. Access denied.".to_string()
                };
                return Err(Failure {
                    status: 403,
                    message,
                    source: "ip-filter",
                    reason: "CallerIpNotAllowed",
                    at: InsnIdx(0),
                });
            }
        }
        Insn::Forward(settings) => return Ok(Step::Forward(*settings)),
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

fn check_header<'a, H: PolicyHost<'a>>(
    host: &mut H,
    name: &str,
    code: u16,
    message: &str,
    ignore_case: bool,
    allowed: &[Box<str>],
) -> Result<(), Failure> {
    let fail = |reason: &'static str| Failure {
        status: code,
        message: message.to_string(),
        source: "check-header",
        reason,
        at: InsnIdx(0),
    };
    let Some(values) = host.header_values(crate::expr::Msg::Request, name) else {
        return Err(fail("HeaderNotFound"));
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
        Err(fail("HeaderValueNotAllowed"))
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
fn text<'a, H: PolicyHost<'a>>(
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

fn eval_failure(e: EvalError) -> Failure {
    expression_failure(e.to_string())
}

fn expression_failure(message: String) -> Failure {
    Failure {
        status: 500,
        message,
        source: "expression",
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

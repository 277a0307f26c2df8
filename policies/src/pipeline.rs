//! Running a program's sections in APIM order against an [`Exchange`].
//!
//! inbound → backend (until `forward-request`, which the caller performs) → the rest of
//! backend → outbound. `return-response` ends everything at once. A failure anywhere
//! sets `context.LastError`, prepares APIM's error response
//! (`{"statusCode":N,"message":"…"}`) and runs `on-error`, which may change it.

use crate::exchange::{Exchange, LastError};
use crate::expr::ExprScratch;
use crate::host::PolicyHost;
use std::time::Duration;

use crate::program::{ForwardSettings, Insn, InsnIdx, Program, Section};
use crate::vm::{self, Failure, Outcome};

const SUBSCRIPTION_KEY_NOT_FOUND: &str = "Access denied due to missing subscription key. \
     Make sure to include subscription key when making requests to an API.";

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Call the backend with the request in the exchange, then call [`after_forward`].
    Forward {
        settings: ForwardSettings,
        resume: InsnIdx,
    },
    /// Perform `exchange.pending_send`, then call [`after_send`].
    Send { resume: InsnIdx },
    /// Wait (`retry` interval), then call [`resume`].
    Wait { delay: Duration, resume: InsnIdx },
    /// Wait (bounded) for the key set `exchange.awaiting_keys` names, set
    /// `exchange.waited_for_keys`, then call [`resume`].
    Keys { resume: InsnIdx },
    /// Wait briefly for rate-limit budget from another shard, then call [`resume`].
    Budget { resume: InsnIdx },
    /// Send `exchange.response` (its body `None` means: relay the backend's body, or an
    /// empty body when there was no backend call).
    Respond,
}

/// Runs inbound and the backend section up to `forward-request`.
pub fn start<'a>(prog: &'a Program, ex: &mut Exchange<'a>, scratch: &mut ExprScratch) -> Next {
    let next = run_sections(
        prog,
        Section::Inbound,
        InsnIdx(prog.section(Section::Inbound).start),
        ex,
        scratch,
    );
    finish(next, ex)
}

/// Continues at `at` (after a [`Next::Wait`]): the rest of its section, then the
/// sections after it.
pub fn resume<'a>(
    prog: &'a Program,
    at: InsnIdx,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let section = section_of(prog, at);
    let next = if section == Section::OnError {
        run_on_error_from(prog, at, ex, scratch)
    } else {
        run_sections(prog, section, at, ex, scratch)
    };
    finish(next, ex)
}

/// Runs `section` from `at`, then the following sections in APIM order.
fn run_sections<'a>(
    prog: &'a Program,
    section: Section,
    at: InsnIdx,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let mut section = section;
    let mut at = at;
    loop {
        let end = prog.section(section).end;
        match vm::run_from(prog, at, end, ex, scratch) {
            Outcome::Done => {}
            Outcome::Respond => return Next::Respond,
            Outcome::Wait { delay, resume } => return Next::Wait { delay, resume },
            Outcome::Send { resume } => return Next::Send { resume },
            Outcome::Keys { resume } => return Next::Keys { resume },
            Outcome::Budget { resume } => return Next::Budget { resume },
            // The catalog allows forward-request only in backend. A second one after the
            // backend was called (`<base/>` plus an API-level one) is not called twice.
            Outcome::Forward { settings, resume } => {
                let this = resume.0 - 1;
                if section == Section::Backend && ex.forwarded_at.is_none_or(|f| f == this) {
                    return Next::Forward { settings, resume };
                }
                at = resume;
                continue;
            }
            Outcome::Failed(f) => return on_error(prog, section, f, ex, scratch),
        }
        section = match section {
            Section::Inbound => Section::Backend,
            Section::Backend => {
                // No forward-request: no backend call; outbound runs on an empty 200.
                ex.response_mut();
                Section::Outbound
            }
            Section::Outbound | Section::OnError => return Next::Respond,
        };
        at = InsnIdx(prog.section(section).start);
    }
}

/// After the backend answered (its status and headers are in `ex.response`): the rest of
/// the backend section, then outbound.
pub fn after_forward<'a>(
    prog: &'a Program,
    resume: InsnIdx,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    ex.forwarded_at = Some(resume.0.saturating_sub(1));
    let next = after_forward_sections(prog, resume, ex, scratch);
    finish(next, ex)
}

fn after_forward_sections<'a>(
    prog: &'a Program,
    resume: InsnIdx,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    // forward-request fail-on-error-status-code: a 400–599 answer goes to on-error
    // (outbound does not run); the backend's response stays what on-error works on.
    let forward = resume
        .0
        .checked_sub(1)
        .and_then(|i| prog.insns.get(i as usize));
    if let Some(Insn::Forward(settings)) = forward {
        let status = ex.response.as_ref().map_or(0, |r| r.status);
        if settings.fail_on_error_status_code && (400..=599).contains(&status) {
            let f = Failure {
                status,
                message: format!("The backend responded with status code {status}."),
                source: "forward-request",
                reason: "",
                at: InsnIdx(resume.0 - 1),
            };
            set_last_error(prog, Section::Backend, &f, ex);
            return run_on_error(prog, ex, scratch);
        }
    }
    run_sections(prog, Section::Backend, resume, ex, scratch)
}

/// How a side request ended: the response (status, headers, buffered body), or why it
/// failed (APIM's LastError reason: `Timeout`, `BackendConnectionFailure`, …).
pub enum SendResult<'a> {
    Response(crate::exchange::ResponseState<'a>),
    Failed {
        reason: &'static str,
        message: String,
    },
}

/// After the proxy performed `exchange.pending_send`: stores the response in its
/// variable (`null` for an ignored error) and resumes; an error not ignored runs on-error.
pub fn after_send<'a>(
    prog: &'a Program,
    resume: InsnIdx,
    result: SendResult<'a>,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let Some(pending) = ex.pending_send.take() else {
        // `self::resume`: the function, not the `resume` parameter.
        return self::resume(prog, resume, ex, scratch);
    };
    let result = match result {
        SendResult::Response(r)
            if pending.fail_on_error_status_code && (400..=599).contains(&r.status) =>
        {
            SendResult::Failed {
                reason: "",
                message: format!("The backend responded with status code {}.", r.status),
            }
        }
        other => other,
    };
    let value = match result {
        SendResult::Response(r) => {
            ex.stored.push(r);
            let id = (ex.stored.len() - 1) as u32;
            crate::expr::Value::Handle(crate::expr::Handle::Msg(crate::expr::Msg::Stored(id)))
        }
        SendResult::Failed { .. } if pending.ignore_error || pending.one_way => {
            crate::expr::Value::Null
        }
        SendResult::Failed { reason, message } => {
            let section = section_of(prog, resume);
            let f = Failure {
                status: 500,
                message,
                source: "send-request",
                reason,
                at: InsnIdx(resume.0.saturating_sub(1)),
            };
            let next = on_error(prog, section, f, ex, scratch);
            return finish(next, ex);
        }
    };
    if let Some(var) = pending.variable {
        ex.set_variable(var, value);
    }
    self::resume(prog, resume, ex, scratch)
}

fn section_of(prog: &Program, at: InsnIdx) -> Section {
    Section::ALL
        .into_iter()
        .find(|s| prog.section(*s).contains(&at.0) || prog.section(*s).end == at.0)
        .unwrap_or(Section::Outbound)
}

/// A failure the caller saw outside the program (backend unreachable, timeout): runs
/// on-error with it, as APIM does for forward-request errors.
pub fn fail<'a>(
    prog: &'a Program,
    failure: Failure,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let next = on_error(prog, Section::Backend, failure, ex, scratch);
    finish(next, ex)
}

/// A request the gateway refused before inbound ran (a subscription key that does not
/// pass): `context.LastError` says so (no policy path, scope global) and on-error runs.
pub fn refuse<'a>(
    prog: &'a Program,
    failure: Failure,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let f = Failure {
        at: InsnIdx(u32::MAX),
        ..failure
    };
    let next = on_error(prog, Section::Inbound, f, ex, scratch);
    finish(next, ex)
}

fn on_error<'a>(
    prog: &'a Program,
    section: Section,
    f: Failure,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    let arena = ex.arena;
    set_last_error(prog, section, &f, ex);
    // APIM's error response, which on-error may change.
    ex.begin_response();
    let mut body = bumpalo::collections::String::new_in(arena);
    body.push_str("{\"statusCode\":");
    body.push_str(arena.alloc_str(&f.status.to_string()));
    body.push_str(",\"message\":\"");
    json_escape(&mut body, public_message(prog, &f));
    body.push_str("\"}");
    let status_reason = reason_phrase(f.status);
    ex.set_status(f.status, status_reason);
    ex.set_header(
        crate::program::Target::Response,
        "Content-Type",
        &["application/json"],
        crate::program::ExistsAction::Override,
    );
    ex.set_body(
        crate::program::Target::Response,
        body.into_bump_str().as_bytes(),
    );
    if section == Section::OnError {
        return Next::Respond;
    }
    run_on_error(prog, ex, scratch)
}

fn run_on_error<'a>(prog: &'a Program, ex: &mut Exchange<'a>, scratch: &mut ExprScratch) -> Next {
    run_on_error_from(
        prog,
        InsnIdx(prog.section(Section::OnError).start),
        ex,
        scratch,
    )
}

fn run_on_error_from<'a>(
    prog: &'a Program,
    at: InsnIdx,
    ex: &mut Exchange<'a>,
    scratch: &mut ExprScratch,
) -> Next {
    match vm::run_from(prog, at, prog.section(Section::OnError).end, ex, scratch) {
        Outcome::Failed(f2) => {
            // An error inside on-error: answer it plainly, no second on-error.
            on_error(prog, Section::OnError, f2, ex, scratch)
        }
        Outcome::Wait { delay, resume } => Next::Wait { delay, resume },
        Outcome::Send { resume } => Next::Send { resume },
        Outcome::Done
        | Outcome::Respond
        | Outcome::Forward { .. }
        | Outcome::Keys { .. }
        | Outcome::Budget { .. } => Next::Respond,
    }
}

/// The message of the error response's body: check-header's failed-check-error-message;
/// "Internal server error" for an expression failure (APIM does not show its details);
/// otherwise LastError.Message.
fn public_message<'p>(prog: &'p Program, f: &'p Failure) -> &'p str {
    match prog.insns.get(f.at.0 as usize) {
        Some(Insn::CheckHeader { failed_message, .. }) if f.source == "check-header" => {
            failed_message
        }
        Some(Insn::ValidateJwt(p)) if f.source == p.policy => crate::vm::jwt::public_message(p, f),
        _ if f.reason == "ExpressionValueEvaluationFailure" => "Internal server error",
        // APIM's LastError says "this API", the caller reads "an API".
        _ if f.reason == "SubscriptionKeyNotFound" => SUBSCRIPTION_KEY_NOT_FOUND,
        // A body json-to-xml / xml-to-json could not convert: APIM's unhandled error.
        _ if f.reason == crate::transform::CONVERSION_FAILURE => "Internal server error",
        _ => &f.message,
    }
}

/// Sets `context.LastError` from `f`, which happened in `section`.
fn set_last_error<'a>(prog: &'a Program, section: Section, f: &Failure, ex: &mut Exchange<'a>) {
    let arena = ex.arena;
    let (scope, path, policy_id) = match prog.origins.get(f.at.0 as usize) {
        Some(o) if !prog.insns.is_empty() => (
            o.scope,
            arena.alloc_str(&o.path) as &str,
            o.policy_id.as_deref().map(|p| arena.alloc_str(p) as &str),
        ),
        // Refused before any policy ran (see `refuse`).
        _ if f.at.0 == u32::MAX => ("global", "", None),
        _ => ("", "", None),
    };
    let message: &'a str = arena.alloc_str(&f.message);
    ex.last_error = Some(LastError {
        source: f.source,
        reason: f.reason,
        message,
        scope,
        section: section.name(),
        path,
        policy_id: policy_id.unwrap_or(""),
    });
}

fn json_escape(out: &mut bumpalo::collections::String<'_>, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Where a run stops: drops the bodies the program has consumed and, when the response
/// is final, adds the headers policies queued for it (CORS).
fn finish(next: Next, ex: &mut Exchange<'_>) -> Next {
    ex.drop_consumed_bodies();
    if next == Next::Respond && !ex.final_headers.is_empty() {
        let queued = std::mem::replace(
            &mut ex.final_headers,
            bumpalo::collections::Vec::new_in(ex.arena),
        );
        let response = ex.response_mut();
        for (name, value) in queued.iter() {
            response.headers.set(name, &[value]);
        }
    }
    next
}

/// After the response went out (`bytes`: the request and response bodies relayed): the
/// throttling counts that waited for it.
pub fn after_response<'a>(
    prog: &'a Program,
    ex: &mut Exchange<'a>,
    bytes: u64,
    scratch: &mut ExprScratch,
) {
    if ex.deferred_counts.is_empty() {
        return;
    }
    let deferred = std::mem::replace(
        &mut ex.deferred_counts,
        bumpalo::collections::Vec::new_in(ex.arena),
    );
    crate::vm::throttle::after_response(prog, &deferred, bytes, ex, scratch);
}

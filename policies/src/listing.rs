//! A readable listing of a compiled [`Program`] (`tollgate policy explain`).

use std::fmt;

use crate::program::{Insn, Operand, Program, Section};

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for section in Section::ALL {
            let range = self.section(section);
            writeln!(
                f,
                "{}: {} instruction{}",
                section.name(),
                range.len(),
                if range.len() == 1 { "" } else { "s" }
            )?;
            for i in range {
                let o = &self.origins[i as usize];
                writeln!(
                    f,
                    "  {i:04}  {:<60} ; {} {} {}:{}:{}",
                    if o.secret {
                        mask(&self.insns[i as usize])
                    } else {
                        insn(&self.insns[i as usize])
                    },
                    o.scope,
                    o.path,
                    o.file,
                    o.line,
                    o.col
                )?;
            }
        }
        writeln!(
            f,
            "{} compiled expression{}",
            self.exprs.len(),
            if self.exprs.len() == 1 { "" } else { "s" }
        )
    }
}

fn op(o: &Operand) -> String {
    match o {
        Operand::Text(t) => format!("{t:?}"),
        Operand::Expr(e) => format!("expr#{}", e.0),
    }
}

fn ops(v: &[Operand]) -> String {
    v.iter().map(op).collect::<Vec<_>>().join(", ")
}

fn insn(i: &Insn) -> String {
    match i {
        Insn::SetHeader {
            target,
            name,
            action,
            values,
        } => format!("set-header {target:?} {name} {action:?} [{}]", ops(values)),
        Insn::SetQueryParameter {
            name,
            action,
            values,
        } => format!("set-query {} {action:?} [{}]", op(name), ops(values)),
        Insn::SetVariable { name, value } => format!("set-variable {name} = {}", op(value)),
        Insn::JumpUnless { cond, to } => format!("jump-unless expr#{} -> {:04}", cond.0, to.0),
        Insn::Jump { to } => format!("jump -> {:04}", to.0),
        Insn::RewriteUri {
            template,
            copy_unmatched_params,
        } => {
            format!(
                "rewrite-uri {} copy-unmatched={copy_unmatched_params}",
                op(template)
            )
        }
        Insn::SetMethod { method } => format!("set-method {}", op(method)),
        Insn::SetStatus { code, reason } => format!(
            "set-status {} {}",
            op(code),
            reason.as_ref().map(op).unwrap_or_default()
        ),
        Insn::SetBody { target, body } => format!("set-body {target:?} {}", op(body)),
        Insn::SetBodyLiquid { target, .. } => format!("set-body {target:?} liquid"),
        Insn::SetBackendService {
            base_url,
            backend_id,
        } => format!(
            "set-backend {}{}",
            base_url
                .as_ref()
                .map(|u| format!("base-url={}", op(u)))
                .unwrap_or_default(),
            backend_id
                .as_ref()
                .map(|b| format!("backend-id={}", op(b)))
                .unwrap_or_default()
        ),
        Insn::BeginResponse => "begin-response".into(),
        Insn::Respond => "respond".into(),
        Insn::CheckHeader {
            name,
            failed_code,
            values,
            ..
        } => format!("check-header {name} {failed_code} {values:?}"),
        Insn::IpFilter { action, ranges } => {
            format!("ip-filter {} {} range(s)", op(action), ranges.len())
        }
        Insn::ValidateClientCertificate(p) => format!(
            "validate-client-certificate revocation={} trust={} not-before={} not-after={} ignore-error={} identities={}",
            p.revocation,
            p.trust,
            p.not_before,
            p.not_after,
            p.ignore_error,
            p.identities.len()
        ),
        Insn::ValidateJwt(p) => format!(
            "{} {} key(s) openid={:?} aud={:?} iss={:?} claims={} fail={}",
            p.policy,
            p.keys.keys.len(),
            p.openid_urls,
            p.audiences,
            p.issuers,
            p.required_claims.len(),
            p.failed_code
        ),
        Insn::Throttle(t) => format!(
            "{} counters={} key={}",
            t.policy,
            t.counters.len(),
            t.counter_key
                .as_ref()
                .map(op)
                .unwrap_or_else(|| "subscription".into())
        ),
        Insn::AuthenticationBasic { username, .. } => {
            format!("authentication-basic user={} password=***", op(username))
        }
        Insn::Forward(s) => format!("forward timeout={:?}", s.timeout),
        Insn::SendRequest(r) => format!(
            "send-request{} {} -> {}",
            if r.one_way { "-one-way" } else { "" },
            r.url.as_ref().map(op).unwrap_or_else(|| "(copy)".into()),
            r.response_variable.as_deref().unwrap_or("-")
        ),
        Insn::ConcurrencyEnter {
            key,
            max,
            queue_ms,
            queue_len,
        } => {
            let queue = if *queue_ms > 0 {
                format!(" queue={queue_ms}ms×{queue_len}")
            } else {
                String::new()
            };
            format!("concurrency-enter {} max={max}{queue}", op(key))
        }
        Insn::ValidateContent(v) => format!(
            "validate-content max-size={} rules={}",
            v.max_size,
            v.rules.len()
        ),
        Insn::EmitMetric(m) => format!("emit-metric {} {}", m.name, op(&m.value)),
        Insn::ReturnStored { variable } => format!("return-stored {variable}"),
        Insn::Transform(t) => t.to_string(),
        Insn::ConcurrencyExit => "concurrency-exit".into(),
        Insn::RetryStart { id } => format!("retry-start #{id}"),
        Insn::RetryCheck(r) => format!(
            "retry-check #{} expr#{} count={} interval={:?} -> {:04}",
            r.id, r.condition.0, r.count, r.interval, r.body.0
        ),
        Insn::Cors(c) => format!(
            "cors origins={:?} methods={:?} headers={:?}",
            c.origins, c.methods, c.headers
        ),
        Insn::Trace {
            source,
            severity,
            message,
        } => format!("trace {source} {severity} {}", op(message)),
    }
}

/// The instruction with every literal operand replaced by `***`.
fn mask(i: &Insn) -> String {
    let masked = |o: &Operand| match o {
        Operand::Text(_) => Operand::Text("***".into()),
        e => e.clone(),
    };
    let m = match i {
        Insn::SetHeader {
            target,
            name,
            action,
            values,
        } => Insn::SetHeader {
            target: *target,
            name: name.clone(),
            action: *action,
            values: values.iter().map(masked).collect(),
        },
        Insn::SetQueryParameter {
            name,
            action,
            values,
        } => Insn::SetQueryParameter {
            name: name.clone(),
            action: *action,
            values: values.iter().map(masked).collect(),
        },
        Insn::SetVariable { name, value } => Insn::SetVariable {
            name: name.clone(),
            value: masked(value),
        },
        Insn::RewriteUri {
            template,
            copy_unmatched_params,
        } => Insn::RewriteUri {
            template: masked(template),
            copy_unmatched_params: *copy_unmatched_params,
        },
        Insn::SetBody { target, body } => Insn::SetBody {
            target: *target,
            body: masked(body),
        },
        Insn::SetBackendService {
            base_url,
            backend_id,
        } => Insn::SetBackendService {
            base_url: base_url.as_ref().map(masked),
            backend_id: backend_id.as_ref().map(masked),
        },
        Insn::SetMethod { method } => Insn::SetMethod {
            method: masked(method),
        },
        Insn::Trace {
            source,
            severity,
            message,
        } => Insn::Trace {
            source: source.clone(),
            severity: severity.clone(),
            message: masked(message),
        },
        Insn::CheckHeader {
            name, failed_code, ..
        } => return format!("check-header {name} {failed_code} ***"),
        Insn::Transform(t) => Insn::Transform(Box::new(t.masked())),
        other => other.clone(),
    };
    insn(&m)
}

//! Evaluating a `send-request` into the host.

use super::*;

/// Evaluates a side request into the host (`send-request`).
pub(super) fn send_step<'a, H: PolicyHost<'a>>(
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

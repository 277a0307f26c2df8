//! `validate-content` checks.

use super::*;

/// `validate-content`: size, content type and well-formedness of the request or response.
pub(super) fn validate_content<'a, H: PolicyHost<'a>>(
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

//! `validate-content`: body size, content type and well-formedness checks.
//!
//! Schema validation (`schema-id`, `schema-ref`) and `content-type-map` are refused at
//! load as not supported yet; everything else runs.

use crate::program::{ContentRule, Insn, ValidateAction, ValidateContent};

use super::{Compiler, Ctx};

fn action(v: &str) -> Option<ValidateAction> {
    match v {
        "ignore" => Some(ValidateAction::Ignore),
        "prevent" => Some(ValidateAction::Prevent),
        "detect" => Some(ValidateAction::Detect),
        _ => None,
    }
}

pub(super) fn validate_content(c: &mut Compiler, ctx: &Ctx<'_>) {
    const ACTIONS: &str = "ignore, prevent or detect";
    let unspecified = c.literal(
        ctx,
        "unspecified-content-type-action",
        None,
        ACTIONS,
        action,
    );
    let max_size = c.literal(ctx, "max-size", None, "a size in bytes up to 102400", |v| {
        v.parse::<u64>().ok().filter(|n| *n <= 102_400)
    });
    let size_action = c.literal(ctx, "size-exceeded-action", None, ACTIONS, action);
    let errors_variable = ctx.el.attr_value("errors-variable-name").map(Into::into);
    let mut rules = Vec::new();
    for child in ctx.el.elements() {
        match child.name.as_str() {
            "content-type-map" => {
                c.error(child, "content-type-map is not supported yet".into(), None);
            }
            "content" => {
                if child.attr_value("schema-id").is_some()
                    || child.attr_value("schema-ref").is_some()
                {
                    c.error(
                        child,
                        "schema validation (schema-id, schema-ref) is not supported yet".into(),
                        Some("validate-as checks well-formedness only for now"),
                    );
                    continue;
                }
                let validate_as = match child.attr_value("validate-as") {
                    Some("json") => true,
                    Some("xml") => false,
                    other => {
                        c.error(
                            child,
                            format!("validate-as={other:?} is not supported; use json or xml"),
                            None,
                        );
                        continue;
                    }
                };
                let Some(act) = child.attr_value("action").and_then(action) else {
                    c.error(child, format!("action must be {ACTIONS}"), None);
                    continue;
                };
                let content_type = child.attr_value("type").unwrap_or(if validate_as {
                    "application/json"
                } else {
                    "application/xml"
                });
                rules.push(ContentRule {
                    content_type: content_type.to_ascii_lowercase().into(),
                    json: validate_as,
                    action: act,
                });
            }
            _ => {}
        }
    }
    let (Some(unspecified), Some(max_size), Some(size_action)) =
        (unspecified, max_size, size_action)
    else {
        return;
    };
    c.note_body_read(ctx.section);
    let request = matches!(
        ctx.section,
        crate::program::Section::Inbound | crate::program::Section::Backend
    );
    let spec = ValidateContent {
        request,
        unspecified,
        max_size,
        size_action,
        errors_variable,
        rules: rules.into(),
    };
    c.emit(ctx, Insn::ValidateContent(Box::new(spec)));
}

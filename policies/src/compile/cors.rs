//! `cors`: preflight answers and CORS response headers, by APIM's rules.

use crate::program::{Cors, Insn};

use super::attrs::{element_text, parse_bool};
use super::{Compiler, Ctx};

pub(super) fn cors(c: &mut Compiler, ctx: &Ctx<'_>) {
    let allow_credentials = c
        .literal(
            ctx,
            "allow-credentials",
            Some(false),
            "true or false",
            parse_bool,
        )
        .unwrap_or(false);
    let terminate_unmatched = c
        .literal(
            ctx,
            "terminate-unmatched-request",
            Some(true),
            "true or false",
            parse_bool,
        )
        .unwrap_or(true);
    let list = |name: &str, item: &str| -> Option<Vec<Box<str>>> {
        let group = ctx.el.elements().find(|e| e.name == name)?;
        Some(
            group
                .elements()
                .filter(|e| e.name == item)
                .map(|e| element_text(e).trim().into())
                .collect(),
        )
    };
    let origins = list("allowed-origins", "origin").unwrap_or_default();
    let methods = list("allowed-methods", "method");
    let headers = list("allowed-headers", "header").unwrap_or_default();
    let expose = list("expose-headers", "header").unwrap_or_default();
    let max_age = ctx
        .el
        .elements()
        .find(|e| e.name == "allowed-methods")
        .and_then(|m| m.attr_value("preflight-result-max-age"))
        .map(|v| v.trim().parse::<u32>());
    let max_age = match max_age {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            c.error(
                ctx.el,
                "preflight-result-max-age must be a number of seconds".into(),
                None,
            );
            return;
        }
    };
    if allow_credentials && origins.iter().any(|o| &**o == "*") {
        c.error(
            ctx.el,
            "allow-credentials=\"true\" cannot be combined with the origin `*`".into(),
            Some("list the allowed origins explicitly (browsers reject `*` with credentials)"),
        );
        return;
    }
    for o in &origins {
        if &**o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
            c.error(
                ctx.el,
                format!("origin `{o}` must be `*` or scheme://host[:port]"),
                None,
            );
            return;
        }
    }
    let cors = Cors {
        allow_credentials,
        terminate_unmatched,
        origins: origins.into(),
        // Without <allowed-methods>, only GET and POST are allowed.
        methods: methods
            .unwrap_or_else(|| vec!["GET".into(), "POST".into()])
            .into(),
        headers: headers.into(),
        expose: expose.join(", ").into(),
        max_age,
    };
    c.emit(ctx, Insn::Cors(Box::new(cors)));
}

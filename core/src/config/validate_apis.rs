//! The rules for `apis:` (paths, service URLs, operations), `products:` and
//! `subscriptions:`: ids unique, references resolve, formats hold.

use std::collections::HashMap;
use std::path::Path;

use super::diagnostics::suggest;
use super::model::{Api, Config, Operation, SecretSource};
use super::node::{join_index, join_key};
use super::validate::Checker;

pub(crate) fn check(c: &mut Checker<'_>, config: &Config) {
    let mut ids = HashMap::new();
    let mut paths: HashMap<(String, Option<String>, Option<String>), String> = HashMap::new();
    for (i, api) in config.apis.iter().enumerate() {
        let at = join_index("apis", i);
        if api.id.trim().is_empty() {
            c.error(&join_key(&at, "id"), "an API id cannot be empty", None);
        }
        c.unique(&mut ids, &api.id, &join_key(&at, "id"), "API id");
        api_path(c, &join_key(&at, "path"), &api.path);
        if api.is_current != Some(false) {
            let key = (
                api.path.clone(),
                api.api_version_set_id.clone(),
                api.api_version.clone(),
            );
            match paths.get(&key) {
                Some(other) => {
                    let hint = "give each API its own path (or a version in an api-version-set)"
                        .to_owned();
                    c.error(
                        &join_key(&at, "path"),
                        format!("path `{}` is already used by API `{other}`", api.path),
                        Some(hint),
                    );
                }
                None => {
                    paths.insert(key, api.id.clone());
                }
            }
        }
        if let Some(url) = &api.service_url {
            c.backend_url(&join_key(&at, "service-url"), url);
        }
        if let Some(set) = &api.api_version_set_id {
            if !config.api_version_sets.iter().any(|s| &s.id == set) {
                let hint = suggest(
                    set,
                    config.api_version_sets.iter().map(|s| s.id.as_str()),
                    "version sets",
                );
                c.error(
                    &join_key(&at, "api-version-set-id"),
                    format!("unknown api-version-set `{set}`"),
                    hint,
                );
            }
        }
        if api.protocols.is_empty() {
            c.error(
                &join_key(&at, "protocols"),
                "an API needs at least one protocol",
                Some("e.g. [http, https]".into()),
            );
        }
        for (key, name) in [
            ("header", &api.subscription_key.header),
            ("query", &api.subscription_key.query),
        ] {
            if name.trim().is_empty() {
                c.error(
                    &join_key(&join_key(&at, "subscription-key"), key),
                    "cannot be empty",
                    None,
                );
            }
        }
        if let Some(policy) = &api.policy {
            c.policy(&join_key(&at, "policy"), policy);
        }
        operations(c, &at, api);
    }
    products(c, config);
    subscriptions(c, config);
}

/// `orders`, `v1/orders` or empty: no leading or trailing `/`, no `?`, `#` or whitespace.
fn api_path(c: &mut Checker<'_>, at: &str, path: &str) {
    let mut problems = Vec::new();
    if path.starts_with('/') || path.ends_with('/') {
        problems.push("start or end with `/`");
    }
    if path.contains(['?', '#']) {
        problems.push("contain `?` or `#`");
    }
    if path.chars().any(char::is_whitespace) {
        problems.push("contain whitespace");
    }
    if problems.is_empty() {
        return;
    }
    let cut = path.split(['?', '#']).next().unwrap_or_default();
    let fixed: String = cut.chars().filter(|ch| !ch.is_whitespace()).collect();
    let fixed = fixed.trim_matches('/');
    let hint = if fixed.is_empty() {
        "write `path: \"\"`".to_owned()
    } else {
        format!("write `path: {fixed}`")
    };
    c.error(
        at,
        format!("an API path must not {}", problems.join(" or ")),
        Some(hint),
    );
}

fn operations(c: &mut Checker<'_>, api_at: &str, api: &Api) {
    let mut ids = HashMap::new();
    let mut routes: HashMap<(String, String), String> = HashMap::new();
    for (i, op) in api.operations.iter().enumerate() {
        let at = join_index(&join_key(api_at, "operations"), i);
        if op.id.trim().is_empty() {
            c.error(
                &join_key(&at, "id"),
                "an operation id cannot be empty",
                None,
            );
        }
        c.unique(&mut ids, &op.id, &join_key(&at, "id"), "operation id");
        let method_ok = method(c, &join_key(&at, "method"), op);
        let template_at = join_key(&at, "url-template");
        if !op.url_template.starts_with('/') {
            let hint = format!("write `url-template: \"/{}\"`", op.url_template.trim());
            c.error(
                &template_at,
                "a URL template must start with `/`",
                Some(hint),
            );
        } else if method_ok {
            let route = (
                op.method.to_ascii_uppercase(),
                normalize_template(&op.url_template),
            );
            match routes.get(&route) {
                Some(other) => {
                    let message = format!(
                        "operations `{other}` and `{}` both match {} {}",
                        op.id, route.0, op.url_template
                    );
                    c.error(&template_at, message, None);
                }
                None => {
                    routes.insert(route, op.id.clone());
                }
            }
        }
        if let Some(policy) = &op.policy {
            c.policy(&join_key(&at, "policy"), policy);
        }
    }
}

/// An HTTP method is a token (RFC 9110 §5.6.2); `*` ("any method") is not allowed.
fn method(c: &mut Checker<'_>, at: &str, op: &Operation) -> bool {
    let m = op.method.as_str();
    let tchar = |ch: char| ch.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(ch);
    if m == "*" {
        c.error(
            at,
            "`*` is not allowed as a method",
            Some("list one operation per method".into()),
        );
        false
    } else if m.is_empty() || !m.chars().all(tchar) {
        c.error(
            at,
            format!("`{m}` is not an HTTP method"),
            Some("e.g. GET, POST, PUT, DELETE".into()),
        );
        false
    } else {
        true
    }
}

/// `/orders/{id}` and `/orders/{orderId}` match the same requests.
fn normalize_template(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_param = false;
    for ch in template.chars() {
        match ch {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(ch),
        }
    }
    out
}

fn products(c: &mut Checker<'_>, config: &Config) {
    let mut ids = HashMap::new();
    for (i, product) in config.products.iter().enumerate() {
        let at = join_index("products", i);
        c.unique(&mut ids, &product.id, &join_key(&at, "id"), "product id");
        for (j, api) in product.apis.iter().enumerate() {
            if !config.apis.iter().any(|a| &a.id == api) {
                let hint = suggest(api, config.apis.iter().map(|a| a.id.as_str()), "API ids");
                c.error(
                    &join_index(&join_key(&at, "apis"), j),
                    format!("unknown API `{api}`"),
                    hint,
                );
            }
        }
        if let Some(policy) = &product.policy {
            c.policy(&join_key(&at, "policy"), policy);
        }
    }
    // APIM: an API belongs to at most one open product (it gives key-less calls their
    // product context).
    let mut open: HashMap<&str, &str> = HashMap::new();
    for (i, product) in config.products.iter().enumerate() {
        if product.subscription_required {
            continue;
        }
        for (j, api) in product.apis.iter().enumerate() {
            if let Some(first) = open.insert(api, &product.id) {
                c.error(
                    &join_index(&join_key(&join_index("products", i), "apis"), j),
                    format!("API `{api}` is already in open product `{first}`"),
                    Some(
                        "an API can be in only one product with `subscription-required: false`"
                            .into(),
                    ),
                );
            }
        }
    }
}

fn subscriptions(c: &mut Checker<'_>, config: &Config) {
    let mut ids = HashMap::new();
    let mut keys: HashMap<String, String> = HashMap::new();
    for (i, sub) in config.subscriptions.iter().enumerate() {
        let at = join_index("subscriptions", i);
        c.unique(&mut ids, &sub.id, &join_key(&at, "id"), "subscription id");
        scope(c, config, &join_key(&at, "scope"), &sub.scope);
        for (key, source) in [
            ("primary-key", &sub.primary_key),
            ("secondary-key", &sub.secondary_key),
        ] {
            if let Some(source) = source {
                secret(c, &join_key(&at, key), source);
                if let Ok(value) = source.resolve(Path::new("")) {
                    if let Some(other) = keys.insert(value, join_key(&at, key)) {
                        c.error(
                            &join_key(&at, key),
                            format!("the same key as `{other}`"),
                            Some("every subscription key must be unique".into()),
                        );
                    }
                }
            }
        }
        if sub.primary_key.is_none() && sub.secondary_key.is_none() {
            c.warn(
                &at,
                format!(
                    "subscription `{}` has no key: no request can use it",
                    sub.id
                ),
                Some("add primary-key and/or secondary-key".into()),
            );
        }
        for (key, date) in [("start-date", &sub.start_date), ("end-date", &sub.end_date)] {
            if let Some(d) = date {
                if crate::access::parse_utc(d).is_none() {
                    c.error(
                        &join_key(&at, key),
                        format!("`{d}` is not a UTC date"),
                        Some("write 2026-01-31 or 2026-01-31T08:00:00Z".into()),
                    );
                }
            }
        }
    }
}

fn scope(c: &mut Checker<'_>, config: &Config, at: &str, scope: &str) {
    let trimmed = scope.trim_start_matches('/');
    let (kind, id) = match trimmed.split_once('/') {
        _ if scope == "all-apis" => return,
        Some((kind @ ("product" | "api"), id)) if !id.is_empty() && scope == trimmed => (kind, id),
        Some((kind @ ("product" | "products" | "api" | "apis"), id)) => {
            let fixed = format!("{}/{id}", kind.trim_end_matches('s'));
            c.error(
                at,
                format!("invalid scope `{scope}`"),
                Some(format!("write `scope: {fixed}`")),
            );
            return;
        }
        _ => {
            c.error(
                at,
                format!("invalid scope `{scope}`"),
                Some("write product/ID, api/ID or all-apis".into()),
            );
            return;
        }
    };
    let (exists, known): (bool, Vec<&str>) = if kind == "product" {
        (
            config.products.iter().any(|p| p.id == id),
            config.products.iter().map(|p| p.id.as_str()).collect(),
        )
    } else {
        (
            config.apis.iter().any(|a| a.id == id),
            config.apis.iter().map(|a| a.id.as_str()).collect(),
        )
    };
    if !exists {
        let what = if kind == "product" {
            "product ids"
        } else {
            "API ids"
        };
        c.error(
            at,
            format!("unknown {kind} `{id}`"),
            suggest(id, known, what),
        );
    }
}

/// Subscription keys must be readable and at least one character.
fn secret(c: &mut Checker<'_>, at: &str, source: &SecretSource) {
    let key = match source {
        SecretSource::Value(_) => "value",
        SecretSource::Env(_) => "env",
        SecretSource::File(_) => "file",
    };
    match source.resolve(Path::new("")) {
        Ok(value) if value.is_empty() => c.error(
            &join_key(at, key),
            "a subscription key cannot be empty",
            None,
        ),
        Ok(_) => {}
        Err(e) => c.error(&join_key(at, key), e, None),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_template;

    #[test]
    fn templates_normalize_parameter_names() {
        assert_eq!(
            normalize_template("/orders/{id}/lines/{n}"),
            "/orders/{}/lines/{}"
        );
        assert_eq!(
            normalize_template("/orders/{id}"),
            normalize_template("/orders/{orderId}")
        );
    }
}

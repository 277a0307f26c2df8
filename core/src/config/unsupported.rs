//! Keys the config accepts (so their names are settled) but the gateway does not act on
//! yet. Each is an error that names the issue where it lands — silently ignoring a policy
//! or a TLS setting would be worse than refusing to start.

use super::model::Config;
use super::node::{join_index, join_key};
use super::validate::Checker;

const LATER: &str = "a later issue";

fn refuse(c: &mut Checker<'_>, path: &str, what: &str) {
    let key = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .trim_end_matches(']');
    let lands = if what == LATER {
        format!("it lands with {LATER}")
    } else {
        what.to_owned()
    };
    c.key_error(
        path,
        format!("`{key}` is not supported yet: {lands}"),
        Some("remove it for now".into()),
    );
}

pub(crate) fn check(c: &mut Checker<'_>, config: &Config) {
    let g = &config.gateway;
    if g.admin.is_some() {
        refuse(c, "gateway.admin", LATER);
    }
    for (name, b) in &config.backends {
        let at = join_key("backends", name);
        let features = [
            ("credentials", b.credentials.is_some(), LATER),
            ("circuit-breaker", b.circuit_breaker.is_some(), LATER),
            ("health-check", b.health_check.is_some(), LATER),
            ("pool", b.pool.is_some(), LATER),
        ];
        for (key, present, what) in features {
            if present {
                refuse(c, &join_key(&at, key), what);
            }
        }
    }
    for (i, api) in config.apis.iter().enumerate() {
        let at = join_index("apis", i);
        let features = [
            ("openapi", api.openapi.is_some(), LATER),
            ("api-version", api.api_version.is_some(), LATER),
            (
                "api-version-set-id",
                api.api_version_set_id.is_some(),
                LATER,
            ),
            ("api-revision", api.api_revision.is_some(), LATER),
            ("is-current", api.is_current.is_some(), LATER),
        ];
        for (key, present, what) in features {
            if present {
                refuse(c, &join_key(&at, key), what);
            }
        }
    }
    if !config.api_version_sets.is_empty() {
        refuse(c, "api-version-sets", LATER);
    }
    if config.cache.is_some() {
        refuse(c, "cache", LATER);
    }
    if config.telemetry.is_some() {
        refuse(c, "telemetry", LATER);
    }
    if config.logging.as_ref().is_some_and(|l| l.access.is_some()) {
        refuse(c, "logging.access", LATER);
    }
}

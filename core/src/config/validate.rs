//! Checks across the typed config that serde cannot express: references between entries,
//! value formats, uniqueness, and features not built yet. Every problem is collected and
//! located; nothing stops at the first one.
//!
//! This file holds the checker and the gateway, named-value, backend and policy rules;
//! `validate_apis.rs` holds APIs, operations, products and subscriptions;
//! `unsupported.rs` the "not supported yet" errors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::diagnostics::{suggest, Diagnostic};
use super::load::locate_nearest;
use super::model::{BackendProtocol, Config};
use super::named_values::{self, NamedValue};
use super::node::{join_index, join_key, Node};
use super::urls::parse_backend_url;
use super::{unsupported, validate_apis};

/// What validation found, and the named values it read on the way.
pub(crate) struct Report {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub named_values: BTreeMap<String, NamedValue>,
}

pub(crate) fn check(config: &Config, tree: &Node, origin: &Path) -> Report {
    let mut c = Checker {
        tree,
        origin,
        errors: Vec::new(),
        warnings: Vec::new(),
        names: config.named_values.keys().cloned().collect(),
        values: BTreeMap::new(),
    };
    c.named_values(config);
    c.gateway(config);
    c.backends(config);
    c.policies(config);
    validate_apis::check(&mut c, config);
    super::validate_tls::check(&mut c, config);
    unsupported::check(&mut c, config);
    Report {
        errors: c.errors,
        warnings: c.warnings,
        named_values: c.values,
    }
}

/// Collects located diagnostics while walking the config.
pub(crate) struct Checker<'a> {
    tree: &'a Node,
    origin: &'a Path,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// Every defined named value, readable or not.
    names: Vec<String>,
    /// The named values read successfully.
    pub values: BTreeMap<String, NamedValue>,
}

impl Checker<'_> {
    fn diagnostic(
        &self,
        path: &str,
        at_value: bool,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        let loc = locate_nearest(self.tree, path, at_value);
        Diagnostic::new(self.origin.to_owned(), loc, path, message).with_hint(hint)
    }

    /// An error about the value at `path`.
    pub fn error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let d = self.diagnostic(path, true, message.into(), hint);
        self.errors.push(d);
    }

    /// An error about the key at `path` (its presence, not its value).
    pub fn key_error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let d = self.diagnostic(path, false, message.into(), hint);
        self.errors.push(d);
    }

    pub fn warn(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        let d = self.diagnostic(path, false, message.into(), hint);
        self.warnings.push(d);
    }

    /// The line `path` is written on, for "first defined at line N".
    pub fn line_of(&self, path: &str) -> usize {
        locate_nearest(self.tree, path, false).line
    }

    /// Reports a duplicate when `id` was seen before; remembers it otherwise.
    pub fn unique(&mut self, seen: &mut HashMap<String, String>, id: &str, path: &str, what: &str) {
        match seen.get(id) {
            Some(first) => {
                let hint = format!("first defined at line {}", self.line_of(first));
                self.error(path, format!("duplicate {what} `{id}`"), Some(hint));
            }
            None => {
                seen.insert(id.to_owned(), path.to_owned());
            }
        }
    }

    /// Checks that every `{{name}}` in `text` is a defined named value.
    pub fn references(&mut self, path: &str, text: &str) -> bool {
        let mut ok = true;
        for name in named_values::references(text) {
            if !self.names.iter().any(|n| n == name) {
                let hint = suggest(
                    name,
                    self.names.iter().map(String::as_str),
                    "defined named values",
                )
                .or_else(|| Some("define it under `named-values:`".into()));
                self.error(
                    path,
                    format!("`{{{{{name}}}}}` is not a defined named value"),
                    hint,
                );
                ok = false;
            }
        }
        ok
    }

    /// Checks a backend URL (`service-url`, `backends.*.url`), named values substituted.
    pub fn backend_url(&mut self, path: &str, url: &str) {
        if !self.references(path, url) {
            return;
        }
        // A named value that could not be read is reported where it is defined.
        let Some(resolved) = named_values::substitute(url, &self.values) else {
            return;
        };
        let uses_secret = named_values::references(url)
            .iter()
            .any(|name| self.values.get(*name).is_some_and(|v| v.secret));
        match parse_backend_url(&resolved) {
            Ok(_) => {}
            Err(e) => {
                // Never echo a secret named value's content.
                let message = match () {
                    _ if uses_secret => {
                        format!("invalid URL `{url}` once named values are filled in")
                    }
                    _ if resolved != url => format!("invalid URL `{resolved}` (from `{url}`): {e}"),
                    _ => format!("invalid URL `{url}`: {e}"),
                };
                let hint = Some("write http://host[:port][/path]".into());
                self.error(path, message, hint);
            }
        }
    }

    fn named_values(&mut self, config: &Config) {
        for (name, source) in &config.named_values {
            let path = join_key("named-values", name);
            if !named_values::is_valid_name(name) {
                let hint = "named value names may contain letters, digits, `-`, `_` and `.`";
                self.key_error(
                    &path,
                    format!("invalid named value name `{name}`"),
                    Some(hint.into()),
                );
            }
            // Paths were made relative to the config's folder at load.
            match source.resolve(Path::new("")) {
                Ok(value) => {
                    self.values.insert(name.clone(), value);
                }
                Err(e) => {
                    let key = match source {
                        super::model::NamedValueSource::Value { .. } => "value",
                        super::model::NamedValueSource::Env { .. } => "env",
                        super::model::NamedValueSource::File { .. } => "file",
                    };
                    self.error(&join_key(&path, key), e, None);
                }
            }
        }
    }

    fn gateway(&mut self, config: &Config) {
        let g = &config.gateway;
        if g.name.trim().is_empty() {
            self.error("gateway.name", "the gateway name cannot be empty", None);
        }
        if g.listen.http.is_none() && g.listen.https.is_none() {
            self.error(
                "gateway.listen",
                "no listener: set `http` (e.g. 0.0.0.0:8080) or `https`",
                None,
            );
        }
        let limits = [
            ("max-header-bytes", g.limits.max_header_bytes as u64),
            ("max-headers", g.limits.max_headers as u64),
            ("max-uri-bytes", g.limits.max_uri_bytes as u64),
        ];
        for (key, value) in limits {
            if value == 0 {
                self.error(&join_key("gateway.limits", key), "must be at least 1", None);
            }
        }
        let h = &g.http2;
        if h.max_concurrent_streams == 0 {
            self.error(
                "gateway.http2.max-concurrent-streams",
                "must be at least 1",
                None,
            );
        }
        if !(1..=(u32::MAX >> 1) as u64).contains(&h.initial_window_size.0) {
            self.error(
                "gateway.http2.initial-window-size",
                "must be 1 byte to 2 GiB - 1 (HTTP/2's limit)",
                Some("e.g. 256KiB".into()),
            );
        }
        if h.max_send_buffer.0 == 0 || h.max_send_buffer.0 > u32::MAX as u64 {
            self.error(
                "gateway.http2.max-send-buffer",
                "must be 1 byte to 4 GiB",
                None,
            );
        }
        let t = &g.timeouts;
        let timeouts = [
            ("client-header", t.client_header),
            ("keepalive-idle", t.keepalive_idle),
            ("backend-connect", t.backend_connect),
            ("backend-response", t.backend_response),
        ];
        for (key, value) in timeouts {
            if value.is_zero() {
                self.error(
                    &join_key("gateway.timeouts", key),
                    "a timeout must be longer than 0",
                    None,
                );
            }
        }
        if config.rate_limits.as_ref().is_some_and(|r| r.max_keys == 0) {
            self.error("rate-limits.max-keys", "must be at least 1", None);
        }
        if let Some(r) = config.rate_limits.as_ref().and_then(|r| r.redis.as_ref()) {
            if let Err(e) = super::redis_url::parse_redis_url(&r.url) {
                self.error(
                    "rate-limits.redis.url",
                    format!("`{}` is not a Redis URL: {e}", r.url),
                    Some("e.g. redis://127.0.0.1:6379 or redis://:password@redis:6379/0".into()),
                );
            }
            if r.sync_interval.is_zero() {
                self.error(
                    "rate-limits.redis.sync-interval",
                    "must be longer than 0",
                    Some("e.g. 50ms".into()),
                );
            }
        }
        let o = &g.openid;
        for (key, value) in [
            ("wait", o.wait),
            ("timeout", o.timeout),
            ("refresh", o.refresh),
        ] {
            if value.is_zero() {
                self.error(
                    &join_key("gateway.openid", key),
                    "must be longer than 0",
                    None,
                );
            }
        }
        let authority = o.azure_ad_authority.trim_end_matches('/');
        if !(authority.starts_with("http://") || authority.starts_with("https://"))
            || authority.len() <= "https://".len()
        {
            self.error(
                "gateway.openid.azure-ad-authority",
                format!("`{}` is not an http(s) URL", o.azure_ad_authority),
                Some("e.g. https://login.microsoftonline.us".into()),
            );
        }
    }

    fn backends(&mut self, config: &Config) {
        for (name, backend) in &config.backends {
            let path = join_key("backends", name);
            match (&backend.url, &backend.pool) {
                (Some(url), None) => self.backend_url(&join_key(&path, "url"), url),
                (None, Some(members)) => self.pool(config, &path, members),
                (Some(_), Some(_)) => self.key_error(
                    &join_key(&path, "pool"),
                    "a backend has `url` or `pool`, not both",
                    None,
                ),
                (None, None) => self.error(
                    &path,
                    "a backend needs `url`",
                    Some("e.g. url: http://127.0.0.1:9001".into()),
                ),
            }
            if let (Some(url), true) = (&backend.url, backend.protocol != BackendProtocol::Http1) {
                let https = url
                    .get(..8)
                    .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
                if https != (backend.protocol == BackendProtocol::H2) {
                    self.error(
                        &join_key(&path, "protocol"),
                        "`h2` needs an https:// URL and `h2c` an http:// one",
                        Some(
                            "h2 is HTTP/2 over TLS; h2c is cleartext HTTP/2 with prior knowledge"
                                .into(),
                        ),
                    );
                }
            }
            if let Some(credentials) = &backend.credentials {
                for (kind, map) in [
                    ("header", &credentials.header),
                    ("query", &credentials.query),
                ] {
                    for (key, values) in map {
                        for (i, value) in values.iter().enumerate() {
                            let at = join_index(
                                &join_key(&join_key(&join_key(&path, "credentials"), kind), key),
                                i,
                            );
                            self.references(&at, value);
                        }
                    }
                }
            }
        }
    }

    fn pool(&mut self, config: &Config, path: &str, members: &[super::model::PoolMember]) {
        if members.is_empty() {
            self.error(
                &join_key(path, "pool"),
                "a pool needs at least one backend",
                None,
            );
        }
        for (i, member) in members.iter().enumerate() {
            let at = join_key(&join_index(&join_key(path, "pool"), i), "backend");
            match config.backends.get(&member.backend) {
                None => {
                    let hint = suggest(
                        &member.backend,
                        config.backends.keys().map(String::as_str),
                        "backends",
                    );
                    self.error(&at, format!("unknown backend `{}`", member.backend), hint);
                }
                Some(b) if b.pool.is_some() => {
                    self.error(
                        &at,
                        format!("`{}` is itself a pool; pools cannot nest", member.backend),
                        None,
                    );
                }
                Some(_) => {}
            }
        }
    }

    /// A policy is inline XML (starting with `<`) or a file path; inline ones are checked
    /// for `{{name}}`, files for existence.
    pub fn policy(&mut self, path: &str, policy: &str) {
        if policy.trim_start().starts_with('<') {
            self.references(path, policy);
        } else if !Path::new(policy).is_file() {
            self.error(
                path,
                format!("policy file `{policy}` not found"),
                Some("paths are relative to the config file".into()),
            );
        }
    }

    fn policies(&mut self, config: &Config) {
        if let Some(global) = &config.policies.global {
            self.policy("policies.global", global);
        }
        for (name, fragment) in &config.policies.fragments {
            self.policy(&join_key("policies.fragments", name), fragment);
        }
    }
}

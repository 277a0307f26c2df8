//! The rules for `gateway.listen.https`, `gateway.tls` and `backends.<name>.tls`: what
//! can be checked without reading the files (names, modes, combinations). The files
//! themselves (PEM, key match, expiry) are read when the gateway builds its TLS
//! settings, and errors there are located at the same keys.

use std::collections::HashMap;

use super::model::{ClientCertMode, Config};
use super::node::{join_index, join_key};
use super::validate::Checker;

pub(crate) fn check(c: &mut Checker<'_>, config: &Config) {
    backends(c, config);
    let g = &config.gateway;
    let Some(tls) = &g.tls else {
        if g.listen.https.is_some() {
            c.error(
                "gateway.listen.https",
                "the https listener needs a certificate",
                Some(
                    "add gateway.tls.certificates: [{ hostnames: [...], cert: ..., key: ... }]"
                        .into(),
                ),
            );
        }
        return;
    };
    if g.listen.https.is_none() {
        c.warn(
            "gateway.tls",
            "TLS settings without an https listener are not used",
            Some("set gateway.listen.https, e.g. 0.0.0.0:8081".into()),
        );
    }
    if tls.certificates.is_empty() && g.listen.https.is_some() {
        c.error(
            "gateway.tls.certificates",
            "the https listener needs at least one certificate",
            None,
        );
    }
    let mut names: HashMap<String, String> = HashMap::new();
    let mut defaults = 0;
    for (i, cert) in tls.certificates.iter().enumerate() {
        let at = join_index("gateway.tls.certificates", i);
        defaults += usize::from(cert.default);
        for (j, name) in cert.hostnames.iter().enumerate() {
            let path = join_index(&join_key(&at, "hostnames"), j);
            if let Err(why) = check_hostname(name) {
                c.error(&path, format!("`{name}` is not a host name: {why}"), Some(
                    "write an exact name (api.contoso.com) or a wildcard for one label (*.contoso.com)".into(),
                ));
                continue;
            }
            let lower = name.to_ascii_lowercase();
            if let Some(first) = names.get(&lower) {
                c.error(
                    &path,
                    format!("host name `{name}` is already served by {first}"),
                    Some("each host name picks exactly one certificate".into()),
                );
            } else {
                names.insert(lower, at.clone());
            }
        }
    }
    if defaults > 1 {
        c.error(
            "gateway.tls.certificates",
            "more than one certificate is marked `default: true`",
            None,
        );
    }
    if let Some(cc) = &tls.client_certificates {
        let at = "gateway.tls.client-certificates";
        if cc.mode == ClientCertMode::Required && cc.ca.is_none() {
            c.error(
                &join_key(at, "mode"),
                "`required` client certificates need a CA bundle to verify them against",
                Some("set gateway.tls.client-certificates.ca".into()),
            );
        }
        if cc.crl.is_some() && cc.ca.is_none() {
            c.error(&join_key(at, "crl"), "a CRL needs `ca` too", None);
        }
    }
}

/// `backends.<name>.tls`: a client certificate comes with its key; settings on an
/// http:// backend do nothing.
fn backends(c: &mut Checker<'_>, config: &Config) {
    for (name, b) in &config.backends {
        let Some(tls) = &b.tls else { continue };
        let at = join_key(&join_key("backends", name), "tls");
        if tls.client_cert.is_some() != tls.client_key.is_some() {
            c.error(
                &at,
                "`client-cert` and `client-key` go together",
                Some("set both, or neither".into()),
            );
        }
        let https = b.url.as_deref().is_some_and(|u| {
            u.get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        });
        if b.url.is_some() && !https {
            c.warn(
                &at,
                "TLS settings on an http:// backend are not used",
                Some("use an https:// URL".into()),
            );
        }
    }
}

/// `api.contoso.com` or `*.contoso.com` (the wildcard is a whole first label).
fn check_hostname(name: &str) -> Result<(), &'static str> {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    if rest.is_empty() {
        return Err("it is empty");
    }
    if rest.contains('*') {
        return Err("`*` may only be the whole first label");
    }
    for label in rest.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("every label needs 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("only letters, digits, `-` and `_` are allowed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_hostname;

    #[test]
    fn host_names() {
        assert!(check_hostname("api.contoso.com").is_ok());
        assert!(check_hostname("*.contoso.com").is_ok());
        assert!(check_hostname("localhost").is_ok());
        assert!(check_hostname("*").is_err());
        assert!(check_hostname("a.*.com").is_err());
        assert!(check_hostname("a..com").is_err());
        assert!(check_hostname("a b.com").is_err());
    }
}

//! The URLs a config may name for backends (`service-url`, `backends.*.url`): `http://` or
//! `https://`, a host, an optional port and path; no credentials, query or fragment.

/// The scheme of a backend URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A backend URL split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendUrl<'a> {
    pub scheme: Scheme,
    /// A name, an IPv4 address or a bracketed IPv6 address (`[::1]`).
    pub host: &'a str,
    pub port: Option<u16>,
    /// Empty or starting with `/`.
    pub path: &'a str,
}

/// Parses `http://host[:port][/path]` or `https://…`; `Err` says what is wrong.
pub fn parse_backend_url(url: &str) -> Result<BackendUrl<'_>, String> {
    if url.chars().any(char::is_whitespace) {
        return Err("a URL cannot contain whitespace".into());
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        Some((s, _)) => return Err(format!("unsupported scheme `{s}`: use http:// or https://")),
        None => return Err("missing scheme: the URL must start with http:// or https://".into()),
    };
    if url.contains(['?', '#']) {
        return Err("a backend URL cannot have a query (`?`) or fragment (`#`)".into());
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.contains('@') {
        return Err("credentials in the URL are not allowed: use backend `credentials`".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or("unclosed `[` in IPv6 host")?;
        let after = &v6[end + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("unexpected text after `]`")?),
        };
        (&authority[..end + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host_ok = |h: &str| {
        h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if !host.starts_with('[') && !host_ok(host) {
        return Err(format!("`{host}` is not a valid host name"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(format!("`{p}` is not a valid port (1-65535)")),
        },
    };
    Ok(BackendUrl {
        scheme,
        host,
        port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_backend_urls() {
        let u = parse_backend_url("http://127.0.0.1:9001/v1").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path),
            (Scheme::Http, "127.0.0.1", Some(9001), "/v1")
        );
        let u = parse_backend_url("HTTPS://[::1]:8443").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path),
            (Scheme::Https, "[::1]", Some(8443), "")
        );
        assert_eq!(
            parse_backend_url("http://orders.internal").unwrap().port,
            None
        );
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "127.0.0.1:9001",
            "ftp://x",
            "http://",
            "http:///path",
            "http://h:0",
            "http://h:99999",
            "http://h:+80",
            "http://u:p@h",
            "http://h/a?b=1",
            "http://h/a#f",
            "http://h x",
            "http://[::1",
            "http://ex ample.com",
            "http://bad!host",
        ] {
            assert!(parse_backend_url(bad).is_err(), "{bad}");
        }
    }
}

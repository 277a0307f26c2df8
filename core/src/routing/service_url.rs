//! A parsed backend base URL (`service-url` of an API, `url` of a backend).

/// `scheme://host[:port][/base-path]`, parsed once at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceUrl {
    pub scheme: Scheme,
    /// Host as written (a name or an IP literal, IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The value for the `Host` header toward the backend (`host` or `host:port`).
    pub authority: String,
    /// Base path without a trailing slash; empty for the root.
    pub base_path: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A parsed base URL borrowing from its text (no allocation: used per request when a
/// policy sets the backend URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlRef<'a> {
    pub scheme: Scheme,
    pub host: &'a str,
    pub port: u16,
    pub authority: &'a str,
    pub base_path: &'a str,
}

impl ServiceUrl {
    /// Parses an absolute http(s) URL. Queries and fragments are not allowed in a base URL.
    pub fn parse(url: &str) -> Result<ServiceUrl, String> {
        let r = ServiceUrl::parse_ref(url)?;
        Ok(ServiceUrl {
            scheme: r.scheme,
            host: r.host.to_string(),
            port: r.port,
            authority: r.authority.to_string(),
            base_path: r.base_path.to_string(),
        })
    }

    /// This URL as a [`UrlRef`].
    pub fn as_ref(&self) -> UrlRef<'_> {
        UrlRef {
            scheme: self.scheme,
            host: &self.host,
            port: self.port,
            authority: &self.authority,
            base_path: &self.base_path,
        }
    }

    /// Like [`ServiceUrl::parse`], borrowing from `url`. Errors allocate; success does not.
    pub fn parse_ref(url: &str) -> Result<UrlRef<'_>, String> {
        let prefix = |p: &str| {
            url.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        };
        let (scheme, rest) = if prefix("http://") {
            (Scheme::Http, &url[7..])
        } else if prefix("https://") {
            (Scheme::Https, &url[8..])
        } else {
            return Err(format!("`{url}` is not an http:// or https:// URL"));
        };
        if rest.contains(['?', '#']) {
            return Err(format!(
                "`{url}` has a query or fragment; a service URL is a base URL"
            ));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        if authority.contains('@') {
            return Err(format!(
                "`{url}` has user info; put credentials in backend credentials"
            ));
        }
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let (host, port) = split_host_port(authority, default_port)
            .ok_or_else(|| format!("`{url}` has an invalid host or port"))?;
        if host.is_empty() || host.contains(|c: char| c.is_whitespace()) {
            return Err(format!("`{url}` has an invalid host"));
        }
        Ok(UrlRef {
            scheme,
            host,
            port,
            authority,
            base_path: path.trim_end_matches('/'),
        })
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(&str, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        if after.is_empty() {
            return Some((host, default_port));
        }
        let port = after.strip_prefix(':')?.parse().ok()?;
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h, p.parse().ok()?)),
        None => Some((authority, default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_path() {
        let u = ServiceUrl::parse("http://127.0.0.1:9001/v1/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.base_path.as_str()),
            ("127.0.0.1", 9001, "/v1")
        );
        assert_eq!(u.authority, "127.0.0.1:9001");
        let u = ServiceUrl::parse("https://api.example.com").unwrap();
        assert_eq!(
            (u.port, u.base_path.as_str(), u.scheme),
            (443, "", Scheme::Https)
        );
        let u = ServiceUrl::parse("HTTP://Example.com/x").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Http, "Example.com", 80)
        );
        let u = ServiceUrl::parse("http://[::1]:8080/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8080));
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "ftp://x",
            "http://",
            "http://h:99999",
            "http://h/x?y=1",
            "http://u@h/",
            "h:80",
        ] {
            assert!(ServiceUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

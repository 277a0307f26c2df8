//! `rate-limits.redis.url`: `redis://[[user]:password@]host[:port][/db]` (no TLS, no query).
//! Parsed here so that validation and the gateway's Redis link read it alike.

/// A Redis URL split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// A name, an IPv4 address or a bracketed IPv6 address (`[::1]`), as written.
    pub host: String,
    pub port: u16,
    pub db: u32,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl RedisUrl {
    /// `host:port/db`, credentials left out (for logs).
    pub fn display(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.db)
    }
}

/// Redis's default port.
pub const DEFAULT_REDIS_PORT: u16 = 6379;

/// Parses `redis://…`; `Err` says what is wrong.
pub fn parse_redis_url(url: &str) -> Result<RedisUrl, String> {
    if url.chars().any(char::is_whitespace) {
        return Err("a URL cannot contain whitespace".into());
    }
    let rest = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("redis") => rest,
        Some((s, _)) if s.eq_ignore_ascii_case("rediss") => {
            return Err("`rediss://` (Redis over TLS) is not supported yet: use redis://".into())
        }
        Some((s, _)) => return Err(format!("unsupported scheme `{s}`: use redis://")),
        None => return Err("no scheme: write redis://host:port".into()),
    };
    if rest.contains(['?', '#']) {
        return Err("a Redis URL takes no query or fragment".into());
    }
    let (authority, db) = match rest.split_once('/') {
        Some((a, "")) => (a, 0),
        Some((a, db)) => (
            a,
            db.parse::<u32>()
                .map_err(|_| format!("`{db}` is not a database number"))?,
        ),
        None => (rest, 0),
    };
    let (user, password, hostport) = match authority.rsplit_once('@') {
        Some((creds, hp)) => {
            let (u, p) = match creds.split_once(':') {
                Some((u, p)) => (u, Some(p.to_owned())),
                None => ("", Some(creds.to_owned())),
            };
            ((!u.is_empty()).then(|| u.to_owned()), p, hp)
        }
        None => (None, None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or_else(|| "an IPv6 host needs its closing `]`".to_owned())?;
        (format!("[{inner}]"), after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("no host".into());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`{p}` is not a port"))?,
        None => DEFAULT_REDIS_PORT,
    };
    Ok(RedisUrl {
        host,
        port,
        db,
        user,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        let u = parse_redis_url("redis://127.0.0.1:6380/2").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.db), ("127.0.0.1", 6380, 2));
        let u = parse_redis_url("redis://cache").unwrap();
        assert_eq!((u.port, u.db, u.password), (6379, 0, None));
        let u = parse_redis_url("redis://:s3cret@[::1]:7000/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.password.as_deref()),
            ("[::1]", 7000, Some("s3cret"))
        );
        assert_eq!(u.display(), "[::1]:7000/0");
        let u = parse_redis_url("redis://app:pw@r:1").unwrap();
        assert_eq!(u.user.as_deref(), Some("app"));
        for bad in [
            "http://r",
            "rediss://r",
            "redis://",
            "redis://r:x",
            "redis://r/x",
            "r:6379",
            "redis://r?a=1",
        ] {
            assert!(parse_redis_url(bad).is_err(), "{bad}");
        }
    }
}

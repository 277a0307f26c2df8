//! One blocking HTTP(S) GET of a JSON document (OpenID configuration, JWKS), on the
//! control thread: bounded in time and size, HTTP/1.0 so the answer is never chunked.
//! Returns the body and how long the server says it may be cached (`max-age`). https
//! goes through rustls with the Mozilla roots (webpki-roots) plus `gateway.openid.ca`,
//! verifying the server's name.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Largest document accepted.
pub const MAX_DOCUMENT: usize = 1 << 20;

#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// `Cache-Control: max-age` (or `s-maxage`), if the server gave one.
    pub max_age: Option<Duration>,
}

/// The TLS client settings of the fetcher, built once.
#[derive(Clone, Debug)]
pub struct Tls(Arc<rustls::ClientConfig>);

impl Tls {
    /// Mozilla's roots, plus the PEM certificates of `ca` (a private identity provider).
    pub fn new(ca: Option<&std::path::Path>) -> Result<Tls, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca {
            let mut n = 0;
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
            {
                let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                n += 1;
            }
            if n == 0 {
                return Err(format!("{}: no PEM certificate in it", path.display()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls(Arc::new(config)))
    }
}

/// `http(s)://host[:port]/path?query` → (https?, host, port, path-and-query).
pub fn split_url(url: &str) -> Result<(bool, String, u16, String), String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(format!("`{url}` is not an http(s) URL"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
            Ok(port) => (h, port),
            Err(_) => return Err(format!("bad port in `{url}`")),
        },
        _ => (authority, if https { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in `{url}`"));
    }
    Ok((https, host.to_string(), port, path))
}

/// GETs `url` within `timeout`.
pub fn get(url: &str, timeout: Duration, tls: &Tls) -> Result<Fetched, String> {
    let (https, host, port, path) = split_url(url)?;
    let deadline = Instant::now() + timeout;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let tcp =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    tcp.set_write_timeout(Some(left())).ok();
    tcp.set_read_timeout(Some(left())).ok();
    let default_port = if https { 443 } else { 80 };
    let host_header = if port == default_port {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host_header}\r\nAccept: application/json\r\nUser-Agent: tollgate\r\n\r\n"
    );
    let mut stream: Box<dyn ReadWrite> = if https {
        let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
        let conn =
            rustls::ClientConnection::new(tls.0.clone(), name).map_err(|e| format!("TLS: {e}"))?;
        Box::new(rustls::StreamOwned::new(conn, tcp))
    } else {
        Box::new(tcp)
    };
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        if Instant::now() >= deadline {
            return Err(format!("no complete answer within {timeout:?}"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > MAX_DOCUMENT + 16 * 1024 {
                    return Err(format!("document larger than {MAX_DOCUMENT} bytes"));
                }
            }
            // A server that closes without close_notify: what arrived is the answer (its
            // length is checked against Content-Length).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    parse_response(&buf)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn parse_response(buf: &[u8]) -> Result<Fetched, String> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no complete head")?;
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "the answer's head is not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    if status != 200 {
        return Err(format!("status {status}"));
    }
    let mut max_age = None;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("cache-control") {
            for directive in value.split(',') {
                let d = directive.trim();
                let secs = d
                    .strip_prefix("max-age=")
                    .or_else(|| d.strip_prefix("s-maxage="))
                    .and_then(|v| v.trim_matches('"').parse::<u64>().ok());
                if let Some(secs) = secs {
                    max_age = Some(Duration::from_secs(secs));
                }
                if d.eq_ignore_ascii_case("no-cache") || d.eq_ignore_ascii_case("no-store") {
                    max_age = Some(Duration::ZERO);
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked answer to an HTTP/1.0 request".into());
        }
    }
    let mut body = buf[end + 4..].to_vec();
    if let Some(n) = length {
        if body.len() < n {
            return Err(format!("body cut short ({} of {n} bytes)", body.len()));
        }
        body.truncate(n);
    }
    if body.len() > MAX_DOCUMENT {
        return Err(format!("document larger than {MAX_DOCUMENT} bytes"));
    }
    Ok(Fetched { body, max_age })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = |s: &str| split_url(s).unwrap();
        assert_eq!(
            u("http://127.0.0.1:8080/t/.well-known/openid-configuration"),
            (
                false,
                "127.0.0.1".into(),
                8080,
                "/t/.well-known/openid-configuration".into()
            )
        );
        assert_eq!(
            u("http://idp.test"),
            (false, "idp.test".into(), 80, "/".into())
        );
        assert_eq!(u("http://idp.test?x=1").3, "/?x=1");
        assert_eq!(
            u("http://[::1]:81/k"),
            (false, "::1".into(), 81, "/k".into())
        );
        assert_eq!(
            u("https://login.example/x"),
            (true, "login.example".into(), 443, "/x".into())
        );
        assert!(split_url("ftp://x").is_err());
    }

    #[test]
    fn answers() {
        let ok = parse_response(b"HTTP/1.1 200 OK\r\nCache-Control: public, max-age=300\r\nContent-Length: 2\r\n\r\n{}xx").unwrap();
        assert_eq!(ok.body, b"{}");
        assert_eq!(ok.max_age, Some(Duration::from_secs(300)));
        assert!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n")
            .unwrap_err()
            .contains("404"));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").is_err());
    }
}

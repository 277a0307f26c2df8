//! A local identity provider for validate-jwt tests: serves an OpenID configuration and a
//! JWKS the test can change at any time (key rotation), over real HTTP — or HTTPS with
//! rustls and the test CA in tests/fixtures/tls — on std sockets, counting the fetches.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Idp {
    pub addr: SocketAddr,
    scheme: &'static str,
    jwks: Arc<Mutex<String>>,
    max_age: Arc<Mutex<Option<u64>>>,
    jwks_fetches: Arc<AtomicUsize>,
}

impl Idp {
    /// Serves `/{prefix}/.well-known/openid-configuration` (any prefix) and `/keys`.
    pub fn start(jwks: &str) -> Idp {
        Idp::start_on("127.0.0.1:0", jwks)
    }

    /// On a given address (a provider that comes up late).
    pub fn start_on(addr: &str, jwks: &str) -> Idp {
        Idp::serve(addr, jwks, None)
    }

    /// Over HTTPS, with the server certificate of tests/fixtures/tls (CA: ca.pem).
    pub fn start_tls(jwks: &str) -> Idp {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(format!("{dir}/server.pem"))
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        Idp::serve("127.0.0.1:0", jwks, Some(Arc::new(config)))
    }

    fn serve(addr: &str, jwks: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Idp {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind(addr).expect("bind idp");
        let addr = listener.local_addr().unwrap();
        let jwks = Arc::new(Mutex::new(jwks.to_string()));
        let max_age = Arc::new(Mutex::new(None));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let (j, m, f) = (jwks.clone(), max_age.clone(), jwks_fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
                let mut s: Box<dyn ReadWrite> = match &tls {
                    Some(cfg) => {
                        let conn = rustls::ServerConnection::new(cfg.clone()).unwrap();
                        Box::new(rustls::StreamOwned::new(conn, tcp))
                    }
                    None => Box::new(tcp),
                };
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got);
                let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                let (status, body, cache) = if path.ends_with("/.well-known/openid-configuration") {
                    let issuer = format!(
                        "{scheme}://{addr}{}",
                        path.trim_end_matches("/.well-known/openid-configuration")
                    );
                    (
                        200,
                        format!(r#"{{"issuer":"{issuer}","jwks_uri":"{scheme}://{addr}/keys"}}"#),
                        None,
                    )
                } else if path == "/keys" {
                    f.fetch_add(1, Ordering::SeqCst);
                    (200, j.lock().unwrap().clone(), *m.lock().unwrap())
                } else {
                    (404, "{}".to_string(), None)
                };
                let cache = cache
                    .map(|a| format!("Cache-Control: max-age={a}\r\n"))
                    .unwrap_or_default();
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{cache}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.flush();
            }
        });
        Idp {
            addr,
            scheme,
            jwks,
            max_age,
            jwks_fetches,
        }
    }

    pub fn openid_url(&self) -> String {
        format!(
            "{}://{}/.well-known/openid-configuration",
            self.scheme, self.addr
        )
    }

    pub fn set_jwks(&self, jwks: &str) {
        *self.jwks.lock().unwrap() = jwks.to_string();
    }

    pub fn set_max_age(&self, secs: Option<u64>) {
        *self.max_age.lock().unwrap() = secs;
    }

    pub fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

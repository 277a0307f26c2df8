//! A real HTTPS/1.1 backend on std sockets and rustls (one thread per connection) that
//! answers every request with its head as the body, optionally requiring a client
//! certificate, and counts connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

use super::tls::fixture;

#[derive(Clone)]
pub struct TlsBackend {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub heads: Arc<Mutex<Vec<String>>>,
    /// Whether each connection presented a client certificate.
    pub client_certs: Arc<Mutex<Vec<bool>>>,
}

impl TlsBackend {
    /// Serves with fixture `cert` (base name); `client_ca`: require client certificates
    /// signed by that fixture CA.
    pub fn start(cert: &str, client_ca: Option<&str>) -> TlsBackend {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots
                    .add(CertificateDer::from_pem_file(fixture(&format!("{ca}.pem"))).unwrap())
                    .unwrap();
                let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .unwrap();
                builder.with_client_cert_verifier(v)
            }
            None => builder.with_no_client_auth(),
        };
        let chain = vec![CertificateDer::from_pem_file(fixture(&format!("{cert}.pem"))).unwrap()];
        let key = PrivateKeyDer::from_pem_file(fixture(&format!("{cert}.key"))).unwrap();
        let config = Arc::new(builder.with_single_cert(chain, key).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TlsBackend {
            addr: listener.local_addr().unwrap(),
            connections: Arc::new(AtomicUsize::new(0)),
            heads: Arc::new(Mutex::new(Vec::new())),
            client_certs: Arc::new(Mutex::new(Vec::new())),
        };
        let b2 = b.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                b2.connections.fetch_add(1, Ordering::SeqCst);
                let (b3, config) = (b2.clone(), config.clone());
                std::thread::spawn(move || {
                    let conn = ServerConnection::new(config).unwrap();
                    let mut tls = StreamOwned::new(conn, stream);
                    let mut noted = false;
                    loop {
                        let mut head = Vec::new();
                        let mut byte = [0u8; 1];
                        while !head.ends_with(b"\r\n\r\n") {
                            match tls.read(&mut byte) {
                                Ok(1) => head.push(byte[0]),
                                _ => return,
                            }
                        }
                        if !noted {
                            let has = tls.conn.peer_certificates().is_some_and(|c| !c.is_empty());
                            b3.client_certs.lock().unwrap().push(has);
                            noted = true;
                        }
                        let head = String::from_utf8_lossy(&head).into_owned();
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{head}",
                            head.len()
                        );
                        b3.heads.lock().unwrap().push(head);
                        if tls.write_all(reply.as_bytes()).is_err() || tls.flush().is_err() {
                            return;
                        }
                    }
                });
            }
        });
        b
    }
}

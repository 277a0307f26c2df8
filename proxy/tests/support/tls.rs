//! A blocking rustls client for tests: pick versions, ALPN, SNI and a client
//! certificate; look at what the server presented and whether the session resumed.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::client::{read_response, Response};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/tests/fixtures/tls/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

pub static TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
pub static TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// What a test client offers.
#[derive(Clone)]
pub struct Options {
    pub versions: &'static [&'static rustls::SupportedProtocolVersion],
    pub alpn: Vec<Vec<u8>>,
    /// Base name of a fixture pair (`client` → client.pem + client.key).
    pub client_cert: Option<&'static str>,
    /// Fixture certificates sent after the client's own (a claimed chain).
    pub chain: &'static [&'static str],
}

impl Default for Options {
    fn default() -> Self {
        Options {
            versions: rustls::ALL_VERSIONS,
            alpn: vec![b"http/1.1".to_vec()],
            client_cert: None,
            chain: &[],
        }
    }
}

/// A client config trusting the gateway's test CA; reuse it to resume sessions.
pub fn config(opts: &Options) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("gw-ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(opts.versions)
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match opts.client_cert {
        Some(base) => {
            let mut chain =
                vec![CertificateDer::from_pem_file(fixture(&format!("{base}.pem"))).unwrap()];
            for extra in opts.chain {
                chain
                    .push(CertificateDer::from_pem_file(fixture(&format!("{extra}.pem"))).unwrap());
            }
            let key = PrivateKeyDer::from_pem_file(fixture(&format!("{base}.key"))).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = opts.alpn.clone();
    Arc::new(config)
}

pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// `config(opts)` without session resumption: every connection is a full handshake
/// (and sees the certificate served now).
pub fn no_resume(opts: &Options) -> Arc<ClientConfig> {
    let mut c = (*config(opts)).clone();
    c.resumption = rustls::client::Resumption::disabled();
    Arc::new(c)
}

/// Connects and completes the handshake (`Err`: the handshake failed).
pub fn connect(addr: SocketAddr, sni: &str, config: &Arc<ClientConfig>) -> std::io::Result<Tls> {
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let conn = ClientConnection::new(config.clone(), name).unwrap();
    let sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// The common name of the certificate the server presented: the string after the
/// last commonName OID (06 03 55 04 03) of the DER, which is the subject's (the
/// issuer's comes first).
pub fn server_cn(tls: &Tls) -> String {
    let der = tls.conn.peer_certificates().unwrap()[0].as_ref().to_vec();
    let oid = [0x06, 0x03, 0x55, 0x04, 0x03];
    let at = der.windows(5).rposition(|w| w == oid).unwrap() + 5;
    let len = der[at + 1] as usize;
    String::from_utf8(der[at + 2..at + 2 + len].to_vec()).unwrap()
}

/// One keep-alive GET over the TLS connection.
pub fn get(tls: &mut Tls, path: &str, host: &str) -> Option<Response> {
    write!(tls, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").ok()?;
    tls.flush().ok()?;
    read_response(tls, false)
}

/// Connects without verifying the server (to look at a certificate that does not
/// name the host asked for).
pub fn connect_unverified(addr: SocketAddr, sni: &str) -> Tls {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(tollgate::upstream::tls::NoVerification(
            provider,
        )))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    connect(addr, sni, &Arc::new(config)).unwrap()
}

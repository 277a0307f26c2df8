//! TLS towards backends: one client profile per https backend (verification roots, SNI
//! name, client certificate), built at load and shared by every shard.
//!
//! Verification is on by default against Mozilla's roots, or only against `tls.ca`
//! when it is given (a private PKI); the certificate must name the SNI host (or the
//! IP address). Sessions are resumed from rustls' in-memory cache of each profile.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tollgate_core::config::BackendTls;

use crate::tls::certs::read_chain;

/// Where a connection goes: an address, and the TLS profile when the backend is https.
/// Connections are pooled per destination.
#[derive(Clone, Debug)]
pub struct Dest {
    pub addr: SocketAddr,
    pub tls: Option<Arc<TlsProfile>>,
    /// HTTP/2 (`protocol: h2` with TLS, `h2c` without): one multiplexed session.
    pub h2: bool,
}

/// Connections are pooled (HTTP/1.1) or shared (HTTP/2) per destination.
pub type PoolKey = (SocketAddr, u32, bool);

impl Dest {
    pub fn plain(addr: SocketAddr) -> Dest {
        Dest {
            addr,
            tls: None,
            h2: false,
        }
    }

    /// The pool key: the address, the profile's id (0: plain) and the protocol.
    pub fn key(&self) -> PoolKey {
        (self.addr, self.tls.as_ref().map_or(0, |t| t.id), self.h2)
    }
}

#[derive(Debug)]
pub struct TlsProfile {
    /// Unique per profile in the process ([`next_id`]); `DYNAMIC` for one-off profiles,
    /// never pooled.
    pub id: u32,
    pub config: Arc<ClientConfig>,
    /// SNI and the name the certificate must carry.
    pub server_name: ServerName<'static>,
}

/// The id of a profile made on the request path (not pooled).
pub const DYNAMIC: u32 = u32::MAX;

/// A profile id never used before in this process: pooled connections are keyed by it,
/// and a reload's profiles (other CA, client certificate, verify) must not pick up
/// connections made under the old ones.
pub fn next_id() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Builds the profile of an https backend named `host` with `settings` (`None`: the
/// defaults). Errors name the file or setting.
pub fn profile(
    id: u32,
    host: &str,
    settings: Option<&BackendTls>,
    h2: bool,
) -> Result<TlsProfile, (&'static str, String)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| ("tls", e.to_string()))?;
    let verify = settings.is_none_or(|s| s.verify);
    let builder = if verify {
        let mut roots = RootCertStore::empty();
        match settings.and_then(|s| s.ca.as_ref()) {
            Some(ca) => {
                for cert in read_chain(ca).map_err(|m| ("ca", m))? {
                    roots
                        .add(cert)
                        .map_err(|e| ("ca", format!("{}: {e}", ca.display())))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    };
    let client_cert = settings.and_then(|s| s.client_cert.as_ref().zip(s.client_key.as_ref()));
    let mut config = match client_cert {
        Some((cert, key)) => {
            let chain = read_chain(cert).map_err(|m| ("client-cert", m))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                (
                    "client-key",
                    format!("cannot read a private key from {}: {e}", key.display()),
                )
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ("client-key", e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![if h2 {
        b"h2".to_vec()
    } else {
        b"http/1.1".to_vec()
    }];
    let name = settings.and_then(|s| s.sni.as_deref()).unwrap_or(host);
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|_| ("sni", format!("`{name}` is not a host name or IP address")))?;
    Ok(TlsProfile {
        id,
        config: Arc::new(config),
        server_name,
    })
}

/// A one-off profile for an https URL met on the request path (set-backend-service
/// base-url with an IP address, send-request to a host no backend names): the default
/// settings, built once per process; connections with it are not pooled.
pub fn dynamic(host: &str) -> Option<Arc<TlsProfile>> {
    static DEFAULT: std::sync::OnceLock<Option<Arc<ClientConfig>>> = std::sync::OnceLock::new();
    let config = DEFAULT
        .get_or_init(|| {
            profile(DYNAMIC, "localhost", None, false)
                .ok()
                .map(|p| p.config)
        })
        .clone()?;
    let server_name = ServerName::try_from(host.to_string()).ok()?;
    Some(Arc::new(TlsProfile {
        id: DYNAMIC,
        config,
        server_name,
    }))
}

/// Accepts any certificate (`tls.verify: false`); the handshake signature is still
/// checked, so the peer holds the key of the certificate it sent.
#[derive(Debug)]
pub struct NoVerification(pub Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

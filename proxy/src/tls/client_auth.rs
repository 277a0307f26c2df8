//! Client certificates (`gateway.tls.client-certificates`).
//!
//! `required`: the handshake fails unless the client proves a certificate that chains
//! to `ca` (and is not revoked by `crl`). `optional`: the gateway asks for one and takes
//! any certificate whose key the client proves it holds; whether it is trusted is judged
//! after the handshake and kept with the connection, so policies decide
//! (`validate-client-certificate`, `context.Request.Certificate.Verify()`), as APIM's
//! "negotiate client certificate" does.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore};
use tollgate_core::config::{ClientCertMode, ClientCertificates};

use super::certs::{read_chain, CertError};
use super::x509::CertInfo;

/// The client's certificate as the gateway judged it after the handshake.
#[derive(Debug, Clone)]
pub struct PeerCert {
    pub info: CertInfo,
    /// The end-entity certificate (DER).
    pub der: Vec<u8>,
    /// Chains to `ca` (validity dates included).
    pub trusted: bool,
    /// Listed in `crl`.
    pub revoked: bool,
    /// Thumbprint of the CA (in `ca`) that issued it, when it is trusted and issued
    /// directly by one.
    pub issuer_thumbprint: Option<String>,
}

#[derive(Debug)]
pub struct ClientAuth {
    mode: ClientCertMode,
    /// Verifies against `ca` (+ `crl`); `None` without a CA.
    trust: Option<Arc<dyn ClientCertVerifier>>,
    /// The same without the CRL, to tell "revoked" from "untrusted".
    chain_only: Option<Arc<dyn ClientCertVerifier>>,
    /// Subject and thumbprint of every certificate in `ca`.
    authorities: Vec<(String, String)>,
    provider: Arc<CryptoProvider>,
}

impl ClientAuth {
    pub fn build(
        cc: &ClientCertificates,
        provider: Arc<CryptoProvider>,
    ) -> Result<ClientAuth, CertError> {
        let at = "gateway.tls.client-certificates";
        let fail = |key: &str, message: String| CertError {
            key_path: format!("{at}.{key}"),
            message,
        };
        let (mut trust, mut chain_only) = (None, None);
        let mut authorities = Vec::new();
        if let Some(ca) = &cc.ca {
            let mut roots = RootCertStore::empty();
            for cert in read_chain(ca).map_err(|m| fail("ca", m))? {
                if let Ok(info) = CertInfo::parse(&cert) {
                    authorities.push((info.subject, info.thumbprint));
                }
                roots
                    .add(cert)
                    .map_err(|e| fail("ca", format!("{}: {e}", ca.display())))?;
            }
            let roots = Arc::new(roots);
            let crls = match &cc.crl {
                Some(path) => vec![read_crl(path).map_err(|m| fail("crl", m))?],
                None => Vec::new(),
            };
            let build = |crls: Vec<CertificateRevocationListDer<'static>>| {
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .with_crls(crls)
                    .only_check_end_entity_revocation()
                    .allow_unknown_revocation_status()
                    .build()
            };
            trust = Some(build(crls).map_err(|e| fail("crl", format!("{e}")))?);
            chain_only = Some(build(Vec::new()).map_err(|e| fail("ca", format!("{e}")))?);
        }
        Ok(ClientAuth {
            mode: cc.mode,
            trust,
            chain_only,
            authorities,
            provider,
        })
    }

    pub fn enabled(&self) -> bool {
        self.mode != ClientCertMode::Off
    }

    /// Judges the certificate a client presented (`chain[0]` is its own).
    pub fn judge(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Option<PeerCert> {
        let (leaf, intermediates) = chain.split_first()?;
        let info = CertInfo::parse(leaf).ok()?;
        let verdict = |v: &Option<Arc<dyn ClientCertVerifier>>| {
            v.as_ref()
                .map(|v| v.verify_client_cert(leaf, intermediates, now))
        };
        let (trusted, revoked) = match (verdict(&self.trust), verdict(&self.chain_only)) {
            (Some(Ok(_)), _) => (true, false),
            (Some(Err(Error::InvalidCertificate(CertificateError::Revoked))), Some(Ok(_))) => {
                (true, true)
            }
            _ => (false, false),
        };
        // Only a chain verified against `ca` says who issued it: a certificate the
        // client lists next to its own proves nothing by itself. So the issuer is
        // known only for a trusted certificate issued directly by a CA of the bundle.
        let issuer_thumbprint = self
            .authorities
            .iter()
            .find(|(subject, _)| trusted && *subject == info.issuer)
            .map(|(_, t)| t.clone());
        Some(PeerCert {
            info,
            der: leaf.to_vec(),
            trusted,
            revoked,
            issuer_thumbprint,
        })
    }
}

fn read_crl(path: &std::path::Path) -> Result<CertificateRevocationListDer<'static>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.first() == Some(&0x30) {
        return Ok(CertificateRevocationListDer::from(bytes));
    }
    CertificateRevocationListDer::from_pem_slice(&bytes)
        .map_err(|e| format!("{} is not a CRL (PEM or DER): {e}", path.display()))
}

impl ClientCertVerifier for ClientAuth {
    fn offer_client_auth(&self) -> bool {
        self.enabled()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == ClientCertMode::Required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        match &self.trust {
            Some(v) => v.root_hint_subjects(),
            None => &[],
        }
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match (&self.trust, self.mode) {
            (Some(v), ClientCertMode::Required) => {
                v.verify_client_cert(end_entity, intermediates, now)
            }
            (None, ClientCertMode::Required) => Err(Error::General("no client CA".into())),
            // Optional: trust is judged after the handshake (see `judge`).
            _ => Ok(ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

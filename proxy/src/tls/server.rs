//! The HTTPS listener's rustls settings, built once at load and shared (`Arc`) by every
//! shard: versions, cipher suites, ALPN, certificates by SNI, session resumption and
//! client certificates.
//!
//! Resumption works whichever shard a client lands on: ticket keys (ring's `Ticketer`,
//! rotated every 6 hours) and the TLS 1.2 session-id cache belong to this one shared
//! config. Both are touched only during handshakes.

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};
use rustls::ServerConfig;
use tollgate_core::config::{Tls, TlsCertificate, TlsVersion};

use super::certs::{CertError, SniResolver, SniTable};
use super::client_auth::ClientAuth;

/// ALPN protocols offered to clients, most preferred first (`h2` when HTTP/2 is on).
const ALPN_H2: &[&[u8]] = &[b"h2", b"http/1.1"];
const ALPN_H1: &[&[u8]] = &[b"http/1.1"];

#[derive(Debug)]
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub resolver: Arc<SniResolver>,
    pub client_auth: Arc<ClientAuth>,
    /// `gateway.tls.certificates`, for reloads.
    pub certificates: Vec<TlsCertificate>,
    pub watch_interval: Duration,
}

/// Builds the listener's settings; every problem is reported, located at its key.
pub fn build(tls: &Tls, h2: bool, now: i64) -> Result<ServerTls, Vec<CertError>> {
    let mut errors = Vec::new();
    let provider = match provider(tls) {
        Ok(p) => Arc::new(p),
        Err(e) => return Err(vec![e]),
    };
    let table = SniTable::load(&tls.certificates, now).unwrap_or_else(|e| {
        errors.extend(e);
        SniTable::default()
    });
    let off = tollgate_core::config::ClientCertificates {
        mode: tollgate_core::config::ClientCertMode::Off,
        ca: None,
        crl: None,
    };
    let client_auth = ClientAuth::build(
        tls.client_certificates.as_ref().unwrap_or(&off),
        provider.clone(),
    )
    .map(Arc::new)
    .map_err(|e| errors.push(e))
    .ok();
    if !errors.is_empty() {
        return Err(errors);
    }
    let client_auth = client_auth.expect("no errors: built");
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version {
        TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let resolver = Arc::new(SniResolver::new(table));
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| {
            vec![CertError {
                key_path: "gateway.tls.cipher-suites".into(),
                message: format!("no cipher suite left for the allowed versions: {e}"),
            }]
        })?;
    let builder = if client_auth.enabled() {
        builder.with_client_cert_verifier(client_auth.clone())
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_cert_resolver(resolver.clone());
    let alpn = if h2 { ALPN_H2 } else { ALPN_H1 };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.session_storage = if tls.session_cache == 0 {
        Arc::new(NoServerSessionStorage {})
    } else {
        ServerSessionMemoryCache::new(tls.session_cache)
    };
    if tls.session_tickets {
        config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| {
            vec![CertError {
                key_path: "gateway.tls.session-tickets".into(),
                message: format!("cannot make session ticket keys: {e}"),
            }]
        })?;
    }
    Ok(ServerTls {
        config: Arc::new(config),
        resolver,
        client_auth,
        certificates: tls.certificates.clone(),
        watch_interval: tls.watch_interval,
    })
}

/// ring's provider with only the configured cipher suites (all of them by default).
fn provider(tls: &Tls) -> Result<CryptoProvider, CertError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if tls.cipher_suites.is_empty() {
        return Ok(provider);
    }
    let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
    let mut chosen = Vec::new();
    for (i, name) in tls.cipher_suites.iter().enumerate() {
        match all.iter().find(|s| {
            s.suite()
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        }) {
            Some(s) => chosen.push(*s),
            None => {
                let known: Vec<&str> = all.iter().filter_map(|s| s.suite().as_str()).collect();
                return Err(CertError {
                    key_path: format!("gateway.tls.cipher-suites[{i}]"),
                    message: format!("unknown cipher suite `{name}`; known: {}", known.join(", ")),
                });
            }
        }
    }
    provider.cipher_suites = chosen;
    Ok(provider)
}

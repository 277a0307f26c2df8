//! Server certificates: read from PEM files (certificate chain; PKCS#8, PKCS#1 or SEC1
//! key), checked (key matches, within its validity), and chosen per handshake by SNI:
//! an exact name, else a `*.` wildcard for the first label, else the default.
//!
//! The table sits behind a lock that only handshakes and reloads take; a reload swaps
//! the whole table, so a handshake sees the old set or the new one, never a mix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tollgate_core::config::TlsCertificate;

use super::x509::CertInfo;

/// A certificate that failed to load: the config key to blame and why.
#[derive(Debug, Clone)]
pub struct CertError {
    pub key_path: String,
    pub message: String,
}

/// Reads one certificate entry. `now` is Unix seconds (injected for tests).
pub fn load(entry: &TlsCertificate, at: &str, now: i64) -> Result<Arc<CertifiedKey>, CertError> {
    let fail = |key: &str, message: String| CertError {
        key_path: format!("{at}.{key}"),
        message,
    };
    let chain = read_chain(&entry.cert).map_err(|m| fail("cert", m))?;
    let key = PrivateKeyDer::from_pem_file(&entry.key).map_err(|e| {
        fail(
            "key",
            format!(
                "cannot read a private key from {}: {e}",
                entry.key.display()
            ),
        )
    })?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| {
        fail(
            "key",
            format!("unsupported private key in {}: {e}", entry.key.display()),
        )
    })?;
    let mut certified = CertifiedKey::new(chain, signer);
    match certified.keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(fail(
                "key",
                format!(
                    "the private key in {} does not belong to the certificate in {}",
                    entry.key.display(),
                    entry.cert.display()
                ),
            ))
        }
        Err(e) => {
            return Err(fail(
                "cert",
                format!(
                    "cannot use the certificate in {}: {e}",
                    entry.cert.display()
                ),
            ))
        }
    }
    let leaf = CertInfo::parse(&certified.cert[0])
        .map_err(|e| fail("cert", format!("{}: {e}", entry.cert.display())))?;
    if leaf.not_after < now {
        return Err(fail(
            "cert",
            format!(
                "the certificate in {} expired on {}",
                entry.cert.display(),
                tollgate_core::access::format_utc(leaf.not_after)
            ),
        ));
    }
    if leaf.not_before > now {
        return Err(fail(
            "cert",
            format!(
                "the certificate in {} is not valid before {}",
                entry.cert.display(),
                tollgate_core::access::format_utc(leaf.not_before)
            ),
        ));
    }
    if let Some(ocsp) = &entry.ocsp {
        let bytes = std::fs::read(ocsp)
            .map_err(|e| fail("ocsp", format!("cannot read {}: {e}", ocsp.display())))?;
        if bytes.first() != Some(&0x30) {
            return Err(fail(
                "ocsp",
                format!("{} is not a DER OCSP response", ocsp.display()),
            ));
        }
        certified.ocsp = Some(bytes);
    }
    Ok(Arc::new(certified))
}

/// Every certificate of a PEM file, in order (leaf first).
pub fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let chain = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(chain)
}

/// Which certificate serves which name.
#[derive(Debug, Default)]
pub struct SniTable {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.contoso.com` is held under `contoso.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl SniTable {
    /// Loads every entry of `gateway.tls.certificates`; all errors, not just the first.
    pub fn load(entries: &[TlsCertificate], now: i64) -> Result<SniTable, Vec<CertError>> {
        let mut table = SniTable::default();
        let mut errors = Vec::new();
        let default_at = entries.iter().position(|e| e.default).unwrap_or(0);
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("gateway.tls.certificates[{i}]");
            let key = match load(entry, &at, now) {
                Ok(k) => k,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            for name in &entry.hostnames {
                let name = name.to_ascii_lowercase();
                match name.strip_prefix("*.") {
                    Some(suffix) => table.wildcard.insert(suffix.to_owned(), key.clone()),
                    None => table.exact.insert(name, key.clone()),
                };
            }
            if i == default_at {
                table.default = Some(key);
            }
        }
        if errors.is_empty() {
            Ok(table)
        } else {
            Err(errors)
        }
    }

    pub fn pick(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = sni {
            // rustls hands SNI over lower-cased and without a trailing dot.
            if let Some(k) = self.exact.get(name) {
                return Some(k.clone());
            }
            if let Some((_, parent)) = name.split_once('.') {
                if let Some(k) = self.wildcard.get(parent) {
                    return Some(k.clone());
                }
            }
        }
        self.default.clone()
    }
}

/// rustls' certificate callback over a table that reloads swap.
#[derive(Debug)]
pub struct SniResolver {
    table: RwLock<Arc<SniTable>>,
}

impl SniResolver {
    pub fn new(table: SniTable) -> SniResolver {
        SniResolver {
            table: RwLock::new(Arc::new(table)),
        }
    }

    pub fn replace(&self, table: SniTable) {
        let table = Arc::new(table);
        match self.table.write() {
            Ok(mut t) => *t = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
    }

    fn current(&self) -> Arc<SniTable> {
        match self.table.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current().pick(hello.server_name())
    }
}

/// The files a certificate table was read from, for the reload watcher.
pub fn files(entries: &[TlsCertificate]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in entries {
        out.push(e.cert.clone());
        out.push(e.key.clone());
        out.extend(e.ocsp.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(format!(
            "{}/tests/fixtures/tls/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
    }

    fn entry(names: &[&str], base: &str) -> TlsCertificate {
        TlsCertificate {
            hostnames: names.iter().map(|s| s.to_string()).collect(),
            cert: fixture(&format!("{base}.pem")),
            key: fixture(&format!("{base}.key")),
            ocsp: None,
            default: false,
        }
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn sni_picks_exact_then_wildcard_then_default() {
        let table = SniTable::load(
            &[
                entry(&["localhost"], "default"),
                entry(&["api.test"], "api"),
                entry(&["*.wild.test"], "wild"),
            ],
            NOW,
        )
        .unwrap();
        let same = |a: Option<Arc<CertifiedKey>>, b: &str| {
            let want = read_chain(&fixture(&format!("{b}.pem"))).unwrap();
            assert_eq!(a.unwrap().cert[0], want[0], "expected {b}");
        };
        same(table.pick(Some("api.test")), "api");
        same(table.pick(Some("x.wild.test")), "wild");
        same(table.pick(Some("a.b.wild.test")), "default");
        same(table.pick(Some("wild.test")), "default");
        same(table.pick(None), "default");
    }

    #[test]
    fn key_formats_pkcs8_pkcs1_sec1_load() {
        for base in ["api", "rsa", "sec1"] {
            load(&entry(&[], base), "c", NOW).unwrap_or_else(|e| panic!("{base}: {e:?}"));
        }
    }

    #[test]
    fn mismatched_key_expired_and_missing_files_name_the_file() {
        let mut e = entry(&[], "api");
        e.key = fixture("wild.key");
        let err = load(&e, "c", NOW).unwrap_err();
        assert_eq!(err.key_path, "c.key");
        assert!(err.message.contains("does not belong"), "{}", err.message);
        assert!(err.message.contains("wild.key"), "{}", err.message);

        let err = load(&entry(&[], "expired"), "c", NOW).unwrap_err();
        assert_eq!(err.key_path, "c.cert");
        assert!(
            err.message.contains("expired on 2021-01-01"),
            "{}",
            err.message
        );

        let mut e = entry(&[], "api");
        e.cert = fixture("nope.pem");
        let err = load(&e, "c", NOW).unwrap_err();
        assert!(err.message.contains("nope.pem"), "{}", err.message);

        let mut e = entry(&[], "api");
        e.cert = fixture("README");
        let err = load(&e, "c", NOW).unwrap_err();
        assert!(err.message.contains("no certificate"), "{}", err.message);
    }
}

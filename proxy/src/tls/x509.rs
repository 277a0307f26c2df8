//! The fields of an X.509 certificate the gateway shows and checks: subject, issuer,
//! serial number, validity, DNS names and the SHA-1 thumbprint, formatted as .NET's
//! `X509Certificate2` does (what APIM policy expressions see).

use x509_cert::der::{self, Decode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// OID of the subjectAltName extension.
const SUBJECT_ALT_NAME: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.17");
/// OID of the commonName attribute.
const COMMON_NAME: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// `CN=client-one, O=Contoso, C=US` (last RDN first, as .NET shows it).
    pub subject: String,
    pub issuer: String,
    /// The subject's common name, if any.
    pub common_name: Option<String>,
    /// Upper-case hex, as .NET's `SerialNumber`.
    pub serial: String,
    /// SHA-1 of the DER, upper-case hex, as .NET's `Thumbprint`.
    pub thumbprint: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
}

impl CertInfo {
    pub fn parse(der_bytes: &[u8]) -> Result<CertInfo, String> {
        let cert = Certificate::from_der(der_bytes).map_err(|e| format!("not X.509: {e}"))?;
        let tbs = &cert.tbs_certificate;
        let unix = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
        let mut dns_names = Vec::new();
        for ext in tbs.extensions.iter().flatten() {
            if ext.extn_id == SUBJECT_ALT_NAME {
                if let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) {
                    for name in san.0 {
                        if let GeneralName::DnsName(d) = name {
                            dns_names.push(d.as_str().to_owned());
                        }
                    }
                }
            }
        }
        Ok(CertInfo {
            subject: dotnet_name(&tbs.subject),
            issuer: dotnet_name(&tbs.issuer),
            common_name: common_name(&tbs.subject),
            serial: hex_upper(tbs.serial_number.as_bytes()),
            thumbprint: hex_upper(
                ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der_bytes).as_ref(),
            ),
            not_before: unix(&tbs.validity.not_before),
            not_after: unix(&tbs.validity.not_after),
            dns_names,
        })
    }
}

/// `CN=a, O=b, C=c`: RDNs last first, joined by `, ` (.NET's `X500DistinguishedName.Name`).
fn dotnet_name(name: &Name) -> String {
    let mut out = String::new();
    for rdn in name.0.iter().rev() {
        for atv in rdn.0.iter() {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&atv.to_string());
        }
    }
    out
}

fn common_name(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == COMMON_NAME)
        .find_map(|atv| attribute_text(&atv.value))
}

fn attribute_text(value: &der::Any) -> Option<String> {
    use der::asn1::{PrintableStringRef, Utf8StringRef};
    if let Ok(s) = value.decode_as::<Utf8StringRef<'_>>() {
        return Some(s.as_str().to_owned());
    }
    value
        .decode_as::<PrintableStringRef<'_>>()
        .ok()
        .map(|s| s.as_str().to_owned())
}

pub fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"));
        CertificateDer::from_pem_file(path).unwrap().to_vec()
    }

    #[test]
    fn client_certificate_fields_read_as_dotnet_shows_them() {
        let info = CertInfo::parse(&fixture("client.pem")).unwrap();
        assert_eq!(info.subject, "C=US, O=Contoso, CN=client-one");
        assert_eq!(info.issuer, "O=Contoso, CN=Tollgate Test Client CA");
        assert_eq!(info.common_name.as_deref(), Some("client-one"));
        assert_eq!(info.dns_names, ["client-one.contoso.test"]);
        assert_eq!(info.thumbprint.len(), 40);
        assert!(info.not_after - info.not_before > 50 * 365 * 86_400);
    }

    #[test]
    fn expired_certificate_dates() {
        let info = CertInfo::parse(&fixture("expired.pem")).unwrap();
        assert_eq!(info.not_before, 1_577_836_800);
        assert_eq!(info.not_after, 1_609_459_200);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertInfo::parse(b"\x30\x03\x02\x01").is_err());
        assert!(CertInfo::parse(&[]).is_err());
    }
}

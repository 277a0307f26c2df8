//! validate-client-certificate: checks the certificate the client presented in its TLS
//! handshake (judged by the gateway: trusted against the client CA, revoked by the CRL)
//! against the policy's rules and identities, at the request's time.

use crate::exchange::ClientCertInfo;
use crate::host::PolicyHost;
use crate::program::{ClientCertPolicy, ClientIdentity};

use super::{Failure, InsnIdx};

pub const SOURCE: &str = "validate-client-certificate";

pub(super) fn validate<'a, H: PolicyHost<'a>>(
    p: &ClientCertPolicy,
    host: &mut H,
) -> Result<(), Failure> {
    let now = host.timestamp().unix_seconds();
    match check(p, host.client_certificate(), now) {
        Ok(()) => Ok(()),
        Err(_) if p.ignore_error => Ok(()),
        Err((reason, message)) => Err(Failure {
            status: 401,
            message: message.into(),
            source: SOURCE,
            reason,
            at: InsnIdx(0),
        }),
    }
}

/// `Err((LastError.Reason, LastError.Message))`.
fn check(
    p: &ClientCertPolicy,
    cert: Option<&ClientCertInfo<'_>>,
    now: i64,
) -> Result<(), (&'static str, &'static str)> {
    let Some(c) = cert else {
        return Err((
            "ClientCertificateNotPresent",
            "Client certificate is missing.",
        ));
    };
    if p.trust && !c.trusted {
        return Err((
            "ClientCertificateNotTrusted",
            "Client certificate is not trusted.",
        ));
    }
    if p.revocation && c.revoked {
        return Err((
            "ClientCertificateRevoked",
            "Client certificate has been revoked.",
        ));
    }
    if p.not_before && now < c.not_before {
        return Err((
            "ClientCertificateNotYetValid",
            "Client certificate is not valid yet.",
        ));
    }
    if p.not_after && now > c.not_after {
        return Err((
            "ClientCertificateExpired",
            "Client certificate has expired.",
        ));
    }
    if !p.identities.is_empty() && !p.identities.iter().any(|id| matches(id, c)) {
        return Err((
            "ClientCertificateIdentityMismatch",
            "Client certificate does not match any allowed identity.",
        ));
    }
    Ok(())
}

/// Every attribute the identity gives must match; thumbprints and serial numbers are
/// hex compared without case, names as .NET compares them (ordinal, ignoring case).
fn matches(id: &ClientIdentity, c: &ClientCertInfo<'_>) -> bool {
    let eq = |want: &Option<Box<str>>, have: &str| {
        want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    eq(&id.thumbprint, c.thumbprint)
        && eq(&id.serial_number, c.serial_number)
        && eq(&id.common_name, c.common_name)
        && eq(&id.subject, c.subject)
        && eq(&id.issuer_subject, c.issuer)
        && eq(&id.issuer_thumbprint, c.issuer_thumbprint)
        && id
            .dns_name
            .as_deref()
            .is_none_or(|d| c.dns_names.iter().any(|n| n.eq_ignore_ascii_case(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(identities: Vec<ClientIdentity>) -> ClientCertPolicy {
        ClientCertPolicy {
            revocation: true,
            trust: true,
            not_before: true,
            not_after: true,
            ignore_error: false,
            identities: identities.into(),
        }
    }

    const NAMES: &[&str] = &["client-one.contoso.test"];

    fn cert() -> ClientCertInfo<'static> {
        ClientCertInfo {
            subject: "C=US, O=Contoso, CN=client-one",
            issuer: "O=Contoso, CN=Test CA",
            common_name: "client-one",
            thumbprint: "AB12",
            serial_number: "0F",
            dns_names: NAMES,
            not_before: 100,
            not_after: 200,
            trusted: true,
            revoked: false,
            issuer_thumbprint: "CD34",
        }
    }

    #[test]
    fn each_rule_has_its_reason() {
        let p = policy(vec![]);
        assert_eq!(check(&p, Some(&cert()), 150), Ok(()));
        assert_eq!(
            check(&p, None, 150).unwrap_err().0,
            "ClientCertificateNotPresent"
        );
        let untrusted = ClientCertInfo {
            trusted: false,
            ..cert()
        };
        assert_eq!(
            check(&p, Some(&untrusted), 150).unwrap_err().0,
            "ClientCertificateNotTrusted"
        );
        let revoked = ClientCertInfo {
            revoked: true,
            ..cert()
        };
        assert_eq!(
            check(&p, Some(&revoked), 150).unwrap_err().0,
            "ClientCertificateRevoked"
        );
        assert_eq!(
            check(&p, Some(&cert()), 50).unwrap_err().0,
            "ClientCertificateNotYetValid"
        );
        assert_eq!(
            check(&p, Some(&cert()), 250).unwrap_err().0,
            "ClientCertificateExpired"
        );
        // Each check can be turned off.
        let lax = ClientCertPolicy {
            trust: false,
            revocation: false,
            not_before: false,
            not_after: false,
            ..policy(vec![])
        };
        let bad = ClientCertInfo {
            trusted: false,
            revoked: true,
            ..cert()
        };
        assert_eq!(check(&lax, Some(&bad), 999), Ok(()));
    }

    #[test]
    fn identities_match_on_every_given_attribute() {
        let id = |f: fn(&mut ClientIdentity)| {
            let mut i = ClientIdentity::default();
            f(&mut i);
            i
        };
        let ok = [
            id(|i| i.thumbprint = Some("ab12".into())),
            id(|i| i.serial_number = Some("0f".into())),
            id(|i| i.common_name = Some("client-one".into())),
            id(|i| i.subject = Some("C=US, O=Contoso, CN=client-one".into())),
            id(|i| i.dns_name = Some("CLIENT-ONE.contoso.test".into())),
            id(|i| i.issuer_subject = Some("O=Contoso, CN=Test CA".into())),
            id(|i| i.issuer_thumbprint = Some("CD34".into())),
        ];
        for i in ok {
            assert_eq!(
                check(&policy(vec![i.clone()]), Some(&cert()), 150),
                Ok(()),
                "{i:?}"
            );
        }
        let both = id(|i| {
            i.common_name = Some("client-one".into());
            i.thumbprint = Some("FFFF".into());
        });
        assert_eq!(
            check(&policy(vec![both]), Some(&cert()), 150)
                .unwrap_err()
                .0,
            "ClientCertificateIdentityMismatch"
        );
        let other = id(|i| i.common_name = Some("someone".into()));
        let any = id(|i| i.dns_name = Some("client-one.contoso.test".into()));
        assert_eq!(check(&policy(vec![other, any]), Some(&cert()), 150), Ok(()));
    }
}

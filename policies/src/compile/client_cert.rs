//! `validate-client-certificate`: which checks run on the client's TLS certificate and
//! which identities are allowed. Every attribute APIM has; `issuer-certificate-id` is
//! resolved at load to the thumbprint of the named `certificates:` entry.

use crate::program::{ClientCertPolicy, ClientIdentity, Insn};

use super::attrs::parse_bool;
use super::{Compiler, Ctx};

pub(super) fn validate_client_certificate(c: &mut Compiler, ctx: &Ctx<'_>) {
    let flag = |c: &mut Compiler, name: &str, default: bool| {
        c.literal(ctx, name, Some(default), "true or false", parse_bool)
    };
    let revocation = flag(c, "validate-revocation", true);
    let trust = flag(c, "validate-trust", true);
    let not_before = flag(c, "validate-not-before", true);
    let not_after = flag(c, "validate-not-after", true);
    let ignore_error = flag(c, "ignore-error", false);
    let mut identities = Vec::new();
    for list in ctx.el.elements().filter(|e| e.name == "identities") {
        for el in list.elements().filter(|e| e.name == "identity") {
            let get = |n: &str| el.attr_value(n).map(|v| v.trim().into());
            let mut id = ClientIdentity {
                thumbprint: get("thumbprint"),
                serial_number: get("serial-number"),
                common_name: get("common-name"),
                subject: get("subject"),
                dns_name: get("dns-name"),
                issuer_subject: get("issuer-subject"),
                issuer_thumbprint: get("issuer-thumbprint"),
            };
            if let Some(cert_id) = el.attr_value("issuer-certificate-id") {
                match c.certificate_thumbprints.get(cert_id.trim()) {
                    Some(t) => id.issuer_thumbprint = Some(t.as_str().into()),
                    None => {
                        c.error(
                            el,
                            format!("issuer-certificate-id `{cert_id}` is not a certificate in `certificates:`"),
                            Some("add it under certificates: with a PEM certificate file"),
                        );
                        continue;
                    }
                }
            }
            if id.is_empty() {
                c.error(
                    el,
                    "an <identity> needs at least one attribute to match".into(),
                    Some("e.g. thumbprint=\"…\" or common-name=\"…\""),
                );
                continue;
            }
            identities.push(id);
        }
    }
    if let (Some(revocation), Some(trust), Some(not_before), Some(not_after), Some(ignore_error)) =
        (revocation, trust, not_before, not_after, ignore_error)
    {
        c.emit(
            ctx,
            Insn::ValidateClientCertificate(Box::new(ClientCertPolicy {
                revocation,
                trust,
                not_before,
                not_after,
                ignore_error,
                identities: identities.into(),
            })),
        );
    }
}

//! `validate-jwt`, `validate-azure-ad-token` and `authentication-basic`.
//!
//! Everything about a token check is decided here, once: where the token comes from,
//! which keys (written in the policy, or fetched from `openid-config` URLs by the proxy),
//! which audiences, issuers and claims. Keys that cannot be read are load errors with
//! their position; so are the features this gateway refuses (encrypted tokens, unsigned
//! tokens, APIM-managed certificates).

use base64::Engine as _;
use tollgate_jwt::{Key, KeySet};

use crate::program::{ClaimRule, Insn, JwtPolicy, Operand, TokenSource};
use crate::xml::MergedElement;

use super::attrs::element_text;
use super::{Compiler, Ctx};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

pub(super) fn validate_jwt(c: &mut Compiler, ctx: &Ctx<'_>) {
    let Some(mut p) = common(c, ctx, "validate-jwt") else {
        return;
    };
    p.require_expiration_time = c.bool_attr(ctx, "require-expiration-time", true);
    p.require_scheme = ctx.el.attr_value("require-scheme").map(|s| s.trim().into());
    if !c.bool_attr(ctx, "require-signed-tokens", true) {
        c.error(
            ctx.el,
            "require-signed-tokens=\"false\" is not supported: this gateway refuses unsigned tokens (alg none)".into(),
            Some("remove the attribute; sign the tokens"),
        );
    }
    p.clock_skew_secs = c
        .literal(ctx, "clock-skew", Some(0), "seconds, e.g. 60", |v| {
            v.parse::<i64>().ok().filter(|s| (0..=86_400).contains(s))
        })
        .unwrap_or(0);
    let mut keys = Vec::new();
    let mut urls = Vec::new();
    for child in ctx.el.elements() {
        match child.name.as_str() {
            "openid-config" => match child.attr_value("url").map(str::trim) {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                    urls.push(u.into())
                }
                Some(u) => c.error(
                    child,
                    format!("openid-config url `{u}` is not an http(s) URL"),
                    None,
                ),
                None => {}
            },
            "issuer-signing-keys" => {
                for key in child.elements() {
                    if let Some(k) = signing_key(c, key) {
                        keys.push(k);
                    }
                }
            }
            "decryption-keys" => c.error(
                child,
                "encrypted tokens (decryption-keys) are not supported by this gateway".into(),
                Some("send signed (JWS) tokens and remove decryption-keys"),
            ),
            "audiences" => p.audiences = texts(child),
            "issuers" => p.issuers = texts(child),
            "required-claims" => p.required_claims = claims(c, child),
            _ => {}
        }
    }
    if keys.is_empty() && urls.is_empty() {
        c.error(
            ctx.el,
            "validate-jwt needs keys: issuer-signing-keys or openid-config".into(),
            Some("add <openid-config url=\"…/.well-known/openid-configuration\"/>"),
        );
        return;
    }
    p.keys = KeySet::new(keys);
    p.openid_urls = urls.into();
    c.emit(ctx, Insn::ValidateJwt(Box::new(p)));
}

/// `validate-azure-ad-token`: a validate-jwt against the tenant's Entra ID OpenID
/// configuration, with the application ids as audiences / required `appid`/`azp`.
/// (The proxy may fetch the configuration from another authority for testing:
/// `gateway.azure-ad-authority`.)
pub(super) fn validate_azure_ad_token(c: &mut Compiler, ctx: &Ctx<'_>) {
    let authority = tollgate_core::config::DEFAULT_AZURE_AD_AUTHORITY;
    let Some(mut p) = common(c, ctx, "validate-azure-ad-token") else {
        return;
    };
    let Some(tenant) = ctx.el.attr_value("tenant-id").map(str::trim) else {
        return;
    };
    if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
        c.error(
            ctx.el,
            format!("tenant-id `{tenant}` is not a tenant id or domain"),
            None,
        );
        return;
    }
    p.openid_urls =
        vec![format!("{authority}/{tenant}/v2.0/.well-known/openid-configuration").into()].into();
    // Entra issues v1 and v2 tokens; both issuers belong to the tenant.
    p.issuers = vec![
        format!("https://sts.windows.net/{tenant}/").into(),
        format!("{authority}/{tenant}/v2.0").into(),
    ]
    .into();
    let mut rules = Vec::new();
    for child in ctx.el.elements() {
        match child.name.as_str() {
            "client-application-ids" => rules.push(ClaimRule {
                // v2 tokens name the client in `azp`, v1 in `appid`: checked by the VM.
                name: "azp|appid".into(),
                any: true,
                separator: None,
                values: texts(child),
            }),
            "backend-application-ids" => {
                let mut aud: Vec<Box<str>> = p.audiences.to_vec();
                for id in texts(child).iter() {
                    aud.push(id.clone());
                    aud.push(format!("api://{id}").into());
                }
                p.audiences = aud.into();
            }
            "audiences" => {
                let mut aud: Vec<Box<str>> = p.audiences.to_vec();
                aud.extend(texts(child).iter().cloned());
                p.audiences = aud.into();
            }
            "required-claims" => rules.extend(claims(c, child).into_vec()),
            "decryption-keys" => c.error(
                child,
                "encrypted tokens (decryption-keys) are not supported by this gateway".into(),
                Some("remove decryption-keys"),
            ),
            _ => {}
        }
    }
    p.required_claims = rules.into();
    c.emit(ctx, Insn::ValidateJwt(Box::new(p)));
}

/// The attributes both policies share.
fn common(c: &mut Compiler, ctx: &Ctx<'_>, policy: &'static str) -> Option<JwtPolicy> {
    let el = ctx.el;
    let source = if let Some(h) = el.attr_value("header-name") {
        TokenSource::Header(h.trim().into())
    } else if let Some(q) = el.attr_value("query-parameter-name") {
        TokenSource::Query(q.trim().into())
    } else if el.attr_value("token-value").is_some() {
        TokenSource::Value(c.operand_attr(ctx, "token-value")?)
    } else {
        // validate-azure-ad-token defaults to the Authorization header; validate-jwt's
        // catalog requires one of the three.
        TokenSource::Header("Authorization".into())
    };
    let failed_code = c.literal(
        ctx,
        "failed-validation-httpcode",
        Some(401),
        "an HTTP status code, e.g. 401",
        |v| v.parse::<u16>().ok().filter(|c| (100..=599).contains(c)),
    )?;
    let failed_message = el
        .attr_value("failed-validation-error-message")
        .map(|m| m.into());
    let output_variable = el
        .attr_value("output-token-variable-name")
        .map(|v| v.trim().into());
    Some(JwtPolicy {
        policy,
        source,
        failed_code,
        failed_message,
        require_expiration_time: true,
        require_scheme: None,
        clock_skew_secs: 0,
        output_variable,
        keys: KeySet::default(),
        openid_urls: Box::new([]),
        audiences: Box::new([]),
        issuers: Box::new([]),
        required_claims: Box::new([]),
        cache_id: super::content_hash(el),
        max_token_len: MAX_TOKEN_LEN,
    })
}

/// A `<key>` of `<issuer-signing-keys>`: base64 text (a symmetric key), or `n`/`e`
/// (an RSA public key). `id` becomes its kid.
fn signing_key(c: &mut Compiler, key: &MergedElement) -> Option<Key> {
    if let Some(id) = key.attr_value("certificate-id").map(str::trim) {
        return match c.certificates.get(id) {
            // Without an `id`, the certificate's key is tried for any kid.
            Some(k) => Some(match key.attr_value("id") {
                Some(kid) => k.clone().with_kid(kid.trim()),
                None => k.clone(),
            }),
            None => {
                let known: Vec<&str> = c.certificates.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "add it under `certificates:` in gateway.yaml".to_string()
                } else {
                    format!("certificates: {}", known.join(", "))
                };
                c.error(key, format!("no certificate `{id}`"), Some(&hint));
                None
            }
        };
    }
    let made = match (key.attr_value("n"), key.attr_value("e")) {
        (Some(n), Some(e)) => Key::rsa_components(n.trim(), e.trim()),
        (None, None) => {
            let text = element_text(key);
            let text: String = text.split_whitespace().collect();
            match base64::engine::general_purpose::STANDARD.decode(&text) {
                Ok(bytes) => Key::symmetric(&bytes),
                Err(_) => {
                    c.error(
                        key,
                        "the key is not base64 (a symmetric signing key is written base64-encoded)".into(),
                        Some("e.g. <key>{{jwt-signing-key}}</key> with the named value holding base64"),
                    );
                    return None;
                }
            }
        }
        _ => {
            c.error(key, "an RSA key needs both n and e".into(), None);
            return None;
        }
    };
    match made {
        Ok(k) => Some(match key.attr_value("id") {
            Some(id) => k.with_kid(id.trim()),
            None => k,
        }),
        Err(e) => {
            c.error(key, format!("unusable signing key: {e}"), None);
            None
        }
    }
}

fn texts(el: &MergedElement) -> Box<[Box<str>]> {
    el.elements()
        .map(|e| element_text(e).trim().to_string())
        .filter(|s| !s.is_empty())
        .map(String::into_boxed_str)
        .collect()
}

fn claims(c: &mut Compiler, el: &MergedElement) -> Box<[ClaimRule]> {
    let mut out = Vec::new();
    for claim in el.elements() {
        let Some(name) = claim.attr_value("name") else {
            continue;
        };
        let any = match claim.attr_value("match").map(str::trim) {
            None | Some("all") => false,
            Some("any") => true,
            Some(other) => {
                c.error(claim, format!("match=\"{other}\" must be all or any"), None);
                false
            }
        };
        out.push(ClaimRule {
            name: name.trim().into(),
            any,
            separator: claim
                .attr_value("separator")
                .filter(|s| !s.is_empty())
                .map(Into::into),
            values: texts(claim),
        });
    }
    out.into()
}

/// `authentication-basic username password`: both may be expressions or named values.
pub(super) fn authentication_basic(c: &mut Compiler, ctx: &Ctx<'_>) {
    let username = c.required_operand(ctx, "username");
    let password = c.required_operand(ctx, "password");
    if let (Some(username), Some(password)) = (username, password) {
        if let Operand::Text(u) = &username {
            if u.contains(':') {
                c.error(
                    ctx.el,
                    "username cannot contain `:` (Basic credentials are user:password)".into(),
                    None,
                );
                return;
            }
        }
        c.emit(ctx, Insn::AuthenticationBasic { username, password });
    }
}

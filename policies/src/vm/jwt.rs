//! Running `validate-jwt` (and `validate-azure-ad-token`) and `authentication-basic`.
//!
//! A token is found, split and its header read without allocating; a token this policy
//! verified before (per shard, until its `exp`) skips the signature. Otherwise the
//! signature is checked against the policy's own keys, then the `openid-config` key
//! sets the proxy holds — when those are not there yet, or lack the token's `kid`, the
//! request waits once (bounded, in the proxy) for a fetch and then fails closed. Claims
//! are read from the token decoded into the request arena; time checks (`exp`, `nbf`)
//! run on every request, cached or not.

use bumpalo::collections::String as BString;
use tollgate_jwt::{Header, HeaderBuf, Token, TokenError, VerifyError};

use crate::exchange::{Keys, Verified};
use crate::expr::builtins::jwt::{decode, Jwt};
use crate::expr::{ExprScratch, Msg, UrlKind, Value};
use crate::host::PolicyHost;
use crate::program::{ExistsAction, JwtPolicy, Operand, Program, Target, TokenSource};

use super::{text, Failure, Step};

/// APIM's LastError reasons of validate-jwt.
pub const NOT_PRESENT: &str = "TokenNotPresent";
pub const INVALID: &str = "JwtInvalid";
pub const EXPIRED: &str = "TokenExpired";
pub const SIGNATURE_INVALID: &str = "TokenSignatureInvalid";
pub const KEY_NOT_FOUND: &str = "TokenSignatureKeyNotFound";
pub const AUDIENCE: &str = "TokenAudienceNotAllowed";
pub const ISSUER: &str = "TokenIssuerNotAllowed";
pub const CLAIM_NOT_FOUND: &str = "TokenClaimNotFound";
pub const CLAIM_VALUE: &str = "TokenClaimValueNotAllowed";

fn fail(p: &JwtPolicy, reason: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status: p.failed_code,
        message: message.into(),
        source: p.policy,
        reason,
        at: crate::program::InsnIdx(0),
    }
}

/// The body the caller gets: the policy's message, else APIM's per reason.
pub fn public_message<'p>(p: &'p JwtPolicy, f: &'p Failure) -> &'p str {
    match (&p.failed_message, f.reason) {
        (Some(m), _) => m,
        (None, NOT_PRESENT) => "JWT not present.",
        (None, CLAIM_NOT_FOUND) => &f.message,
        (None, _) => "Invalid JWT.",
    }
}

pub(super) fn validate<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    p: &'a JwtPolicy,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<Step, Failure> {
    let Some(raw) = token_text(prog, p, host, scratch)? else {
        return Err(fail(p, NOT_PRESENT, "JWT not present."));
    };
    let token = Token::split(raw, p.max_token_len).map_err(|e| token_failure(p, e))?;
    let mut header_buf: HeaderBuf = [0; tollgate_jwt::MAX_HEADER_LEN];
    let header = Header::parse(&token, &mut header_buf).map_err(|e| token_failure(p, e))?;
    let now = host.utc_now().unix_seconds();
    let service = host.jwt_service();

    // Which key sets apply, and their combined generation (the cache forgets tokens
    // verified with keys that changed since).
    let mut generation: u64 = 0;
    for url in p.openid_urls.iter() {
        if let Some(Keys::Ready(_, g)) = service.map(|s| s.keys(url)) {
            generation = generation.wrapping_mul(31).wrapping_add(g);
        }
    }
    let cached = service.and_then(|s| s.recall(p.cache_id, generation, raw));
    let arena = host.arena();
    // Decoded into the arena only when needed: claims of a token not seen before, or
    // the output variable.
    let jwt = if cached.is_none() || p.output_variable.is_some() {
        decode(raw, arena)
    } else {
        None
    };
    let verified = match cached {
        Some(v) => v,
        None => {
            if let Some(step) = check_signature(p, &header, &token, host)? {
                return Ok(step);
            }
            let jwt = jwt.ok_or_else(|| {
                fail(
                    p,
                    INVALID,
                    "JWT is malformed: the payload is not a JSON object.",
                )
            })?;
            check_claims(p, jwt)?;
            let v = Verified {
                exp: number_claim(jwt, "exp"),
                nbf: number_claim(jwt, "nbf"),
            };
            if let Some(s) = service {
                s.remember(p.cache_id, generation, raw, v);
            }
            v
        }
    };
    check_lifetime(p, verified, now)?;
    if let (Some(var), Some(jwt)) = (&p.output_variable, jwt) {
        let name: &'a str = arena.alloc_str(var);
        host.set_variable(name, Value::Jwt(jwt));
    }
    Ok(Step::Next)
}

/// The token as the policy is told to find it; `None` when absent or empty.
fn token_text<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    p: &'a JwtPolicy,
    host: &H,
    scratch: &mut ExprScratch,
) -> Result<Option<&'a str>, Failure> {
    let value = match &p.source {
        TokenSource::Header(name) => {
            let Some(v) = host
                .header_values(Msg::Request, name)
                .and_then(|v| v.first().copied())
            else {
                return Ok(None);
            };
            let v = v.trim();
            match v.split_once(' ') {
                Some((scheme, rest)) => {
                    let wanted = p.require_scheme.as_deref().unwrap_or("Bearer");
                    if !scheme.eq_ignore_ascii_case(wanted) {
                        return Err(fail(
                            p,
                            INVALID,
                            format!("Authorization scheme `{scheme}` is not allowed: {wanted} is required."),
                        ));
                    }
                    rest.trim()
                }
                None if p.require_scheme.is_some() => {
                    return Err(fail(p, INVALID, "The token has no authorization scheme."))
                }
                None => v,
            }
        }
        TokenSource::Query(name) => {
            let Some(url) = host.url(UrlKind::Request) else {
                return Ok(None);
            };
            match crate::exchange::query_pairs(url.query).find(|(k, _)| *k == &**name) {
                Some((_, Some(v))) => v,
                _ => return Ok(None),
            }
        }
        TokenSource::Value(op) => match op {
            Operand::Text(t) => host.arena().alloc_str(t.trim()),
            Operand::Expr(_) => text(prog, op, host, scratch)?.trim(),
        },
    };
    Ok((!value.is_empty()).then_some(value))
}

fn token_failure(p: &JwtPolicy, e: TokenError) -> Failure {
    fail(p, INVALID, format!("JWT is not valid: {e}."))
}

/// Checks the signature with the policy's keys, then the fetched ones. `Ok(Some(step))`:
/// wait for keys first.
fn check_signature<'a, H: PolicyHost<'a>>(
    p: &'a JwtPolicy,
    header: &Header<'_>,
    token: &Token<'_>,
    host: &mut H,
) -> Result<Option<Step>, Failure> {
    let mut error = match p.keys.verify(header, token) {
        Ok(_) => return Ok(None),
        Err(e) => e,
    };
    let service = host.jwt_service();
    for url in p.openid_urls.iter() {
        let keys = service.map_or(Keys::Pending, |s| s.keys(url));
        match keys {
            Keys::Ready(set, _) => match set.verify(header, token) {
                Ok(_) => return Ok(None),
                Err(VerifyError::NoKey) => {
                    // A kid the set lacks: the keys may have rotated.
                    if let (Some(kid), Some(s)) = (header.kid, service) {
                        if !set.has_kid(kid) && s.want_keys(url, true) && host.await_keys(url) {
                            return Ok(Some(Step::Keys));
                        }
                    }
                }
                Err(e) => {
                    if error == VerifyError::NoKey || e == VerifyError::BadSignature {
                        error = e;
                    }
                }
            },
            Keys::Pending => {
                if service.is_some_and(|s| s.want_keys(url, false)) && host.await_keys(url) {
                    return Ok(Some(Step::Keys));
                }
            }
        }
    }
    Err(match error {
        VerifyError::NoKey => fail(
            p,
            KEY_NOT_FOUND,
            match header.kid {
                Some(kid) => {
                    format!("Signature validation failed. Unable to match key: kid '{kid}'.")
                }
                None => "Signature validation failed. No key matches the token.".to_string(),
            },
        ),
        VerifyError::BadSignature => fail(p, SIGNATURE_INVALID, "Signature validation failed."),
        other => fail(
            p,
            SIGNATURE_INVALID,
            format!("Signature validation failed: {other}."),
        ),
    })
}

/// A numeric claim (`exp`, `nbf`), in seconds.
fn number_claim(jwt: &Jwt<'_>, name: &str) -> Option<i64> {
    let values = claim(jwt, name)?;
    let v = values.first()?;
    v.parse::<i64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
    })
}

fn claim<'a>(jwt: &Jwt<'a>, name: &str) -> Option<&'a [&'a str]> {
    jwt.claims.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn check_lifetime(p: &JwtPolicy, v: Verified, now: i64) -> Result<(), Failure> {
    match v.exp {
        None if p.require_expiration_time => {
            return Err(fail(
                p,
                INVALID,
                "Lifetime validation failed. The token is missing an expiration time.",
            ))
        }
        Some(exp) if now > exp.saturating_add(p.clock_skew_secs) => {
            return Err(fail(
                p,
                EXPIRED,
                "Lifetime validation failed. The token is expired.",
            ))
        }
        _ => {}
    }
    if let Some(nbf) = v.nbf {
        if now.saturating_add(p.clock_skew_secs) < nbf {
            return Err(fail(
                p,
                INVALID,
                "Lifetime validation failed. The token is not yet valid.",
            ));
        }
    }
    Ok(())
}

/// Audiences, issuers and required claims: fixed for a token, so checked only when its
/// signature is (a cached token passed them).
fn check_claims(p: &JwtPolicy, jwt: &Jwt<'_>) -> Result<(), Failure> {
    if !p.audiences.is_empty() {
        let aud = claim(jwt, "aud").unwrap_or(&[]);
        if !aud.iter().any(|a| p.audiences.iter().any(|x| &**x == *a)) {
            return Err(fail(p, AUDIENCE, "Audience validation failed."));
        }
    }
    if !p.issuers.is_empty() {
        let iss = claim(jwt, "iss").unwrap_or(&[]);
        if !iss.iter().any(|a| p.issuers.iter().any(|x| &**x == *a)) {
            return Err(fail(p, ISSUER, "Issuer validation failed."));
        }
    }
    let mut missing: Vec<&str> = Vec::new();
    for rule in p.required_claims.iter() {
        // `a|b`: the first of these claims the token has (validate-azure-ad-token's
        // client id is `azp` in v2 tokens, `appid` in v1).
        let Some(values) = rule.name.split('|').find_map(|n| claim(jwt, n)) else {
            missing.push(&rule.name);
            continue;
        };
        if rule.values.is_empty() {
            continue;
        }
        let has = |wanted: &str| {
            values.iter().any(|v| match &rule.separator {
                Some(sep) => v.split(&**sep).any(|part| part.trim() == wanted),
                None => *v == wanted,
            })
        };
        let ok = if rule.any {
            rule.values.iter().any(|w| has(w))
        } else {
            rule.values.iter().all(|w| has(w))
        };
        if !ok {
            return Err(fail(
                p,
                CLAIM_VALUE,
                format!(
                    "JWT token claim `{}` has a value that is not allowed. Access denied.",
                    rule.name
                ),
            ));
        }
    }
    if !missing.is_empty() {
        return Err(fail(
            p,
            CLAIM_NOT_FOUND,
            format!(
                "JWT token is missing the following claims: {}. Access denied.",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `authentication-basic`: sets `Authorization: Basic base64(username:password)`.
pub(super) fn authentication_basic<'a, H: PolicyHost<'a>>(
    prog: &'a Program,
    username: &'a Operand,
    password: &'a Operand,
    host: &mut H,
    scratch: &mut ExprScratch,
) -> Result<Step, Failure> {
    let user = text(prog, username, host, scratch)?;
    let pass = text(prog, password, host, scratch)?;
    let arena = host.arena();
    let mut plain = BString::with_capacity_in(user.len() + pass.len() + 1, arena);
    plain.push_str(user);
    plain.push(':');
    plain.push_str(pass);
    let mut value = BString::with_capacity_in(6 + plain.len() * 4 / 3 + 4, arena);
    value.push_str("Basic ");
    crate::expr::builtins::convert::base64_encode(plain.as_bytes(), false, &mut value);
    let value: &'a str = value.into_bump_str();
    host.set_header(
        Target::Request,
        "Authorization",
        &[value],
        ExistsAction::Override,
    );
    Ok(Step::Next)
}

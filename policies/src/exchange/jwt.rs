//! What `validate-jwt` needs from the gateway around it: the signing keys of OpenID
//! configurations (fetched off the request path by the proxy) and the per-shard memory
//! of tokens whose signature was verified before.

use std::rc::Rc;

use tollgate_jwt::KeySet;

/// The keys of one `openid-config` URL as the shard holds them now.
#[derive(Clone)]
pub enum Keys {
    /// The last good key set and its generation (it changes with every new set).
    Ready(Rc<KeySet>, u64),
    /// Nothing fetched yet (or every fetch failed so far).
    Pending,
}

/// A token verified before: when it stops or starts being valid (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
}

/// Implemented per shard by the proxy; the conformance tests use a plain one.
pub trait JwtService {
    /// The keys of `url` (an `openid-config` URL).
    fn keys(&self, url: &str) -> Keys;
    /// The keys of `url` are missing (none yet, or `unknown_kid`: they lack the token's
    /// kid): asks for a fetch when one is allowed, and says whether waiting for it is
    /// worthwhile (false: decide now — the fetch is rate-limited, or an earlier wait for
    /// these keys came back empty).
    fn want_keys(&self, url: &str, unknown_kid: bool) -> bool;
    /// Whether `token` was verified before by the policy `policy` with keys of
    /// generation `generation` (0 for keys written in the policy).
    fn recall(&self, policy: u64, generation: u64, token: &str) -> Option<Verified>;
    /// Remembers a verified token until its `exp` (bounded; old entries make room).
    fn remember(&self, policy: u64, generation: u64, token: &str, verified: Verified);
}

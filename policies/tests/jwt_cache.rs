//! validate-jwt's verified-token cache, seen from the policy engine: a token is verified
//! once, later requests only re-check its lifetime (with the injected clock), and keys
//! that change invalidate what was verified with them.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

mod support;

use bumpalo::Bump;
use tollgate_jwt::sign::{sign, SigningKey};
use tollgate_jwt::{Alg, KeySet};
use tollgate_policies::exchange::{CallInfo, Exchange, HeaderList, JwtService, Keys, Verified};
use tollgate_policies::expr::ExprScratch;
use tollgate_policies::pipeline::{self, Next};
use tollgate_policies::program::Program;

/// A key service that counts what the policy asks of it.
#[derive(Default)]
struct Counting {
    keys: RefCell<Option<(Rc<KeySet>, u64)>>,
    cache: RefCell<HashMap<(u64, u64, String), Verified>>,
    remembered: Cell<u32>,
    recalled: Cell<u32>,
}

impl JwtService for Counting {
    fn keys(&self, _url: &str) -> Keys {
        match &*self.keys.borrow() {
            Some((k, g)) => Keys::Ready(k.clone(), *g),
            None => Keys::Pending,
        }
    }
    fn want_keys(&self, _url: &str, _unknown_kid: bool) -> bool {
        false
    }
    fn recall(&self, policy: u64, generation: u64, token: &str) -> Option<Verified> {
        let v = self
            .cache
            .borrow()
            .get(&(policy, generation, token.to_string()))
            .copied();
        if v.is_some() {
            self.recalled.set(self.recalled.get() + 1);
        }
        v
    }
    fn remember(&self, policy: u64, generation: u64, token: &str, verified: Verified) {
        self.remembered.set(self.remembered.get() + 1);
        self.cache
            .borrow_mut()
            .insert((policy, generation, token.to_string()), verified);
    }
}

fn program(xml: &str) -> Program {
    support::compile(xml, support::At::Api).unwrap()
}

/// Runs the program for a request with `token` at `unix` seconds; the status.
fn run(prog: &Program, svc: &Counting, token: &str, unix: i64) -> u16 {
    let arena = Bump::new();
    let mut headers = HeaderList::new(&arena);
    let auth: &str = arena.alloc_str(&format!("Bearer {token}"));
    headers.push("Authorization", auth);
    let request = support::get(headers);
    let mut ex = Exchange::new(&arena, request, CallInfo::default(), unix * 1_000_000, 1);
    ex.jwt = Some(svc);
    let mut scratch = ExprScratch::new();
    match pipeline::start(prog, &mut ex, &mut scratch) {
        Next::Forward { .. } => 200,
        Next::Respond => ex.response.as_ref().map_or(200, |r| r.status),
        other => panic!("unexpected {other:?}"),
    }
}

const NOW: i64 = 1_800_000_000;

#[test]
fn a_token_is_verified_once_and_its_lifetime_every_time() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let mut jwk = key.public_jwk();
    jwk["kid"] = "k".into();
    let set =
        KeySet::from_jwks(serde_json::json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
    let svc = Counting::default();
    *svc.keys.borrow_mut() = Some((Rc::new(set.clone()), 1));
    let prog = program(
        r#"<policies><inbound><validate-jwt header-name="Authorization" clock-skew="10">
             <openid-config url="http://idp.test/.well-known/openid-configuration"/>
             <audiences><audience>api://a</audience></audiences>
           </validate-jwt></inbound><backend><forward-request/></backend></policies>"#,
    );
    let token = sign(
        Alg::ES256,
        &key,
        r#"{"kid":"k"}"#,
        &format!(r#"{{"aud":"api://a","exp":{}}}"#, NOW + 60),
    )
    .unwrap();

    assert_eq!(run(&prog, &svc, &token, NOW), 200);
    assert_eq!(
        (svc.remembered.get(), svc.recalled.get()),
        (1, 0),
        "verified once"
    );
    for _ in 0..5 {
        assert_eq!(run(&prog, &svc, &token, NOW + 30), 200);
    }
    assert_eq!(
        (svc.remembered.get(), svc.recalled.get()),
        (1, 5),
        "then recalled"
    );
    // The lifetime is checked on every request, cached or not (clock-skew 10 s).
    assert_eq!(run(&prog, &svc, &token, NOW + 69), 200);
    assert_eq!(run(&prog, &svc, &token, NOW + 71), 401);
    assert_eq!(svc.remembered.get(), 1, "expiry needs no new verification");
    // New keys (generation 2): what was verified with the old ones is verified again.
    *svc.keys.borrow_mut() = Some((Rc::new(set), 2));
    assert_eq!(run(&prog, &svc, &token, NOW), 200);
    assert_eq!(svc.remembered.get(), 2);
    // A token that fails is never remembered.
    let wrong = sign(
        Alg::ES256,
        &key,
        r#"{"kid":"k"}"#,
        &format!(r#"{{"aud":"api://b","exp":{}}}"#, NOW + 60),
    )
    .unwrap();
    assert_eq!(run(&prog, &svc, &wrong, NOW), 401);
    assert_eq!(run(&prog, &svc, &wrong, NOW), 401);
    assert_eq!(svc.remembered.get(), 2);
}

//! Verification cost per algorithm, uncached (every iteration verifies the signature
//! again, as the gateway does for a token it has not seen), with the same ~300-byte
//! payload; and the parse-only part of the request path (`Token::split` +
//! `Header::parse`). Heap allocations per iteration are counted and printed.
//!
//!   cargo bench -p tollgate-jwt --bench verify

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tollgate_jwt::sign::{fixture, sign, SigningKey};
use tollgate_jwt::{verify, Alg, Header, HeaderBuf, Key, Token, MAX_HEADER_LEN};

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

const MAX_TOKEN: usize = 16 * 1024;

/// Claims of a typical Entra ID access token, ~300 bytes.
const PAYLOAD: &str = r#"{"aud":"api://orders","iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","iat":1735689600,"nbf":1735689600,"exp":1735693200,"azp":"5e1f7c1e-3b1d-4c55-9a5a-2f1c0e7d9b21","scp":"orders.read orders.write","sub":"AAAAAAAAAAAAAAAAAAAAAGVpMWhJZ2RhbzN","tid":"72f988bf","ver":"2.0"}"#;

fn signing_key(alg: Alg) -> SigningKey {
    let name = match alg {
        Alg::HS256 | Alg::HS384 | Alg::HS512 => {
            return SigningKey::hmac(
                b"a 64-byte HMAC secret for benches, long enough for HS512 too!!!",
            )
        }
        Alg::ES256 => "ec-p256.pem",
        Alg::ES384 => "ec-p384.pem",
        Alg::ES512 => "ec-p521.pem",
        Alg::EdDSA => "ed25519.pem",
        _ => "rsa2048-a.pem",
    };
    SigningKey::from_pkcs8_pem(fixture(name)).unwrap()
}

/// Average heap allocations of `f` over `n` runs.
fn allocations(n: u64, f: impl FnMut()) -> f64 {
    tollgate_alloc_count::per_call(n, f)
}

fn parse(text: &str) -> Alg {
    let token = Token::split(text, MAX_TOKEN).unwrap();
    let mut buf: HeaderBuf = [0; MAX_HEADER_LEN];
    Header::parse(&token, &mut buf).unwrap().alg
}

fn bench(c: &mut Criterion) {
    let cases: Vec<(Alg, String, Key)> = Alg::ALL
        .into_iter()
        .map(|alg| {
            let sk = signing_key(alg);
            let token = sign(alg, &sk, r#"{"kid":"k1","typ":"JWT"}"#, PAYLOAD).unwrap();
            (alg, token, sk.public_key().unwrap())
        })
        .collect();
    eprintln!("token length (RS256): {} bytes", cases[3].1.len());

    let mut g = c.benchmark_group("verify-uncached");
    for (alg, text, key) in &cases {
        let token = Token::split(text, MAX_TOKEN).unwrap();
        verify(*alg, key, &token).unwrap();
        let per_iter = allocations(200, || {
            black_box(verify(*alg, key, black_box(&token))).unwrap()
        });
        eprintln!("heap allocations per verify, {alg}: {per_iter:.1}");
        g.bench_function(alg.name(), |b| {
            b.iter(|| verify(*alg, key, black_box(&token)))
        });
    }
    g.finish();

    let text = &cases[3].1;
    let per_iter = allocations(1000, || {
        black_box(parse(black_box(text)));
    });
    eprintln!("heap allocations per split + header parse: {per_iter:.1}");
    let bad_json = "eyJhbGciOiJSUzI1NiIsImtpZCI6fQ.e30.c2ln"; // {"alg":"RS256","kid":}
    let per_iter = allocations(1000, || {
        let token = Token::split(black_box(bad_json), MAX_TOKEN).unwrap();
        let mut buf: HeaderBuf = [0; MAX_HEADER_LEN];
        assert!(Header::parse(&token, &mut buf).is_err());
    });
    eprintln!("heap allocations per refused (bad JSON) header: {per_iter:.1}");
    c.bench_function("split+header-parse", |b| b.iter(|| parse(black_box(text))));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);

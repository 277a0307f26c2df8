//! The checked-in test keys of `tests/keys/`, generated once with the openssl CLI:
//! PKCS#8 private keys (`*.pem`), their SubjectPublicKeyInfo (`*.pub.pem`) and
//! self-signed certificates (`*.crt`). Test material only: these keys are public.

/// Every fixture, by file name.
pub const FIXTURES: &[(&str, &str)] = &[
    (
        "rsa2048-a.pem",
        include_str!("../../tests/keys/rsa2048-a.pem"),
    ),
    (
        "rsa2048-a.pub.pem",
        include_str!("../../tests/keys/rsa2048-a.pub.pem"),
    ),
    (
        "rsa2048-a.crt",
        include_str!("../../tests/keys/rsa2048-a.crt"),
    ),
    (
        "rsa2048-b.pem",
        include_str!("../../tests/keys/rsa2048-b.pem"),
    ),
    ("rsa4096.pem", include_str!("../../tests/keys/rsa4096.pem")),
    ("rsa1024.pem", include_str!("../../tests/keys/rsa1024.pem")),
    (
        "rsa1024.pub.pem",
        include_str!("../../tests/keys/rsa1024.pub.pem"),
    ),
    ("ec-p256.pem", include_str!("../../tests/keys/ec-p256.pem")),
    (
        "ec-p256.pub.pem",
        include_str!("../../tests/keys/ec-p256.pub.pem"),
    ),
    ("ec-p256.crt", include_str!("../../tests/keys/ec-p256.crt")),
    ("ec-p384.pem", include_str!("../../tests/keys/ec-p384.pem")),
    (
        "ec-p384.pub.pem",
        include_str!("../../tests/keys/ec-p384.pub.pem"),
    ),
    ("ec-p521.pem", include_str!("../../tests/keys/ec-p521.pem")),
    (
        "ec-p521.pub.pem",
        include_str!("../../tests/keys/ec-p521.pub.pem"),
    ),
    ("ed25519.pem", include_str!("../../tests/keys/ed25519.pem")),
    (
        "ed25519.pub.pem",
        include_str!("../../tests/keys/ed25519.pub.pem"),
    ),
];

/// The text of a fixture, e.g. `fixture("rsa2048-a.pem")`.
///
/// # Panics
///
/// On a name not in [`FIXTURES`] — a typo in a test, listed in the message.
pub fn fixture(name: &str) -> &'static str {
    match FIXTURES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => text,
        None => panic!(
            "no JWT key fixture {name:?}; there are: {:?}",
            FIXTURES.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        ),
    }
}

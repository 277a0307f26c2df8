//! TLS handshakes in memory (no sockets): the gateway's shared server settings
//! (`tls::server::build`, ECDSA P-256 certificate) against a rustls client, full and
//! resumed (TLS 1.3 ticket), beside a naive server that reads its certificate and key
//! files and builds its settings for every connection. Heap allocations per handshake
//! are counted (client and server together). Time is client + server CPU.
//!
//!   cargo bench -p tollgate --bench tls_handshake

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tollgate_core::config::{Tls, TlsCertificate, TlsVersion};

use tollgate_alloc_count::per_call as allocs_per;

#[global_allocator]
static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/tests/fixtures/tls/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn settings() -> Tls {
    Tls {
        certificates: vec![TlsCertificate {
            hostnames: vec!["localhost".into()],
            cert: fixture("default.pem"),
            key: fixture("default.key"),
            ocsp: None,
            default: false,
        }],
        client_certificates: None,
        min_version: TlsVersion::Tls12,
        cipher_suites: Vec::new(),
        session_tickets: true,
        session_cache: 4096,
        watch_interval: std::time::Duration::ZERO,
    }
}

fn client(resume: bool) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("gw-ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !resume {
        c.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(c)
}

/// Moves TLS records between the two ends until both finish the handshake.
fn handshake(server: &Arc<ServerConfig>, client: &Arc<ClientConfig>) -> bool {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = ClientConnection::new(client.clone(), name).unwrap();
    let mut s = ServerConnection::new(server.clone()).unwrap();
    let mut wire = Vec::with_capacity(8 * 1024);
    for _ in 0..10 {
        wire.clear();
        while c.wants_write() {
            c.write_tls(&mut wire).unwrap();
        }
        let mut rd = &wire[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
            s.process_new_packets().unwrap();
        }
        wire.clear();
        while s.wants_write() {
            s.write_tls(&mut wire).unwrap();
        }
        let mut rd = &wire[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).unwrap();
            c.process_new_packets().unwrap();
        }
        if !c.is_handshaking() && !s.is_handshaking() {
            return matches!(c.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
        }
    }
    panic!("handshake did not finish");
}

/// The naive server: settings (files read, key parsed) built per connection.
fn naive() -> Arc<ServerConfig> {
    tollgate::tls::server::build(&settings(), false, 1_800_000_000)
        .unwrap()
        .config
}

fn bench(c: &mut Criterion) {
    let shared = tollgate::tls::server::build(&settings(), false, 1_800_000_000)
        .unwrap()
        .config;
    let (full, resuming) = (client(false), client(true));
    assert!(!handshake(&shared, &full));
    handshake(&shared, &resuming);
    assert!(
        handshake(&shared, &resuming),
        "the second handshake resumes"
    );
    eprintln!(
        "heap allocations per handshake (client + server): full {:.0}, resumed {:.0}, naive {:.0}",
        allocs_per(200, || {
            black_box(handshake(&shared, &full));
        }),
        allocs_per(200, || {
            black_box(handshake(&shared, &resuming));
        }),
        allocs_per(50, || {
            black_box(handshake(&naive(), &full));
        }),
    );
    let mut g = c.benchmark_group("tls-handshake-ecdsa-p256");
    g.bench_function("full-shared-settings", |b| {
        b.iter(|| black_box(handshake(&shared, &full)))
    });
    g.bench_function("resumed-ticket", |b| {
        b.iter(|| black_box(handshake(&shared, &resuming)))
    });
    g.bench_function("naive-settings-per-connection", |b| {
        b.iter(|| black_box(handshake(&naive(), &full)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

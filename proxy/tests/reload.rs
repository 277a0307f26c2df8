//! Configuration hot reload through the real gateway: SIGHUP and file changes apply a
//! new configuration to every shard without dropping a connection or a request; rate
//! limits and quotas keep their counts (counters are keyed by name, not by where the
//! policy sits in its file); a configuration that does not compile is refused whole and
//! the running one stays; process-level settings wait for a restart, and say so.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::client::{read_response, status_of};
use support::{raw, Backend, Gateway, Reply};

/// A config whose `orders` API carries `policy`, under a product `gold` with a quota;
/// `padding` blank lines before the APIs move every policy's line; `extra` more YAML
/// under `apis:`.
fn config(be: &Backend, policy: &str, padding: usize, extra: &str, gateway: &str) -> String {
    format!(
        r#"gateway:
  reload: {{ watch-interval: 0s }}
{gateway}
{pad}
apis:
  - id: orders
    path: orders
    service-url: http://{addr}/v1
    policy: |
      <policies><inbound><base/>
        {policy}
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations: [ {{ id: get, method: GET, url-template: "/*" }} ]
{extra}
products:
  - id: gold
    apis: [orders]
    policy: |
      <policies><inbound><base/><quota calls="16" renewal-period="3600"/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
subscriptions:
  - {{ id: alice, scope: product/gold, primary-key: {{ value: alice-key }} }}
"#,
        addr = be.addr,
        pad = "\n".repeat(padding),
    )
}

const RATE: &str =
    r#"<rate-limit calls="8" renewal-period="60" remaining-calls-header-name="X-Remaining"/>"#;

/// `n` requests with alice's key, each on a new connection (spread over the shards).
fn statuses(gw: &Gateway, path: &str, n: usize) -> Vec<u16> {
    (0..n)
        .map(|_| {
            status_of(&raw(
                gw.addr,
                format!(
                    "GET {path} HTTP/1.1\r\nHost: gw\r\nOcp-Apim-Subscription-Key: alice-key\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            ))
        })
        .collect()
}

/// Whether the backend's last request head carries `line` (names compared lowercased).
fn sent(be: &Backend, line: &str) -> bool {
    be.last_head().to_ascii_lowercase().contains(line)
}

fn count(v: &[u16], status: u16) -> usize {
    v.iter().filter(|s| **s == status).count()
}

#[test]
fn rate_limit_and_quota_counts_survive_a_reload_that_moves_and_changes_policies() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(&be, RATE, 0, "", ""), &[], 2);
    assert_eq!(count(&statuses(&gw, "/orders/a", 5), 200), 5);

    // Lines move (padding), an API is added, a header policy joins the rate limit.
    let shifted = format!(
        r#"{RATE}<set-header name="X-Generation" exists-action="override"><value>2</value></set-header>"#
    );
    let added = format!(
        "  - id: items\n    path: items\n    subscription-required: false\n    service-url: http://{}/v1\n    operations: [ {{ id: get, method: GET, url-template: \"/*\" }} ]\n",
        be.addr
    );
    assert!(
        gw.reload(&config(&be, &shifted, 7, &added, "")),
        "{}",
        gw.log_text()
    );
    // The new configuration serves: the new API answers, the new policy runs.
    let r = support::get(gw.addr, "/items/x");
    assert_eq!(r.status, 200, "{}", r.text());
    let before = be.request_count();
    let got = statuses(&gw, "/orders/a", 6);
    assert_eq!(
        count(&got, 200),
        3,
        "8 calls per 60 s, 5 used before the reload: {got:?}"
    );
    assert_eq!(count(&got, 429), 3, "{got:?}");
    assert_eq!(be.request_count() - before, 3);
    assert!(sent(&be, "x-generation: 2\r\n"), "{}", be.last_head());

    // A new limit over the same window keeps the count: 8 used of 10.
    let ten = RATE.replace("calls=\"8\"", "calls=\"10\"");
    assert!(gw.reload(&config(&be, &ten, 3, "", "")));
    let got = statuses(&gw, "/orders/a", 4);
    assert_eq!(count(&got, 200), 2, "{got:?}");

    assert_eq!(count(&got, 429), 2, "{got:?}");

    // Without the rate limit only the product's quota (16 per hour) is left. It runs
    // first (the product's policy is the API's <base/>), so it counted the 429s too:
    // 15 used.
    assert!(gw.reload(&config(&be, "", 1, "", "")));
    let got = statuses(&gw, "/orders/a", 5);
    assert_eq!(count(&got, 200), 1, "{got:?}");
    assert_eq!(count(&got, 403), 4, "{got:?}");
}

#[test]
fn a_configuration_that_does_not_compile_is_refused_whole_and_the_running_one_stays() {
    let be = Backend::start(Reply::Normal);
    let gw = Gateway::start_with(&config(&be, RATE, 0, "", ""), &[], 2);
    assert_eq!(count(&statuses(&gw, "/orders/a", 2), 200), 2);
    let broken = r#"<set-header name="X-A" exists-action="sideways"><value>1</value></set-header>"#;
    let added = format!(
        "  - id: items\n    path: items\n    subscription-required: false\n    service-url: http://{}/v1\n    operations: [ {{ id: get, method: GET, url-template: \"/*\" }} ]\n",
        be.addr
    );
    assert!(!gw.reload(&config(&be, broken, 0, &added, "")));
    let log = gw.log_text();
    assert!(
        log.contains("was not applied (the running one stays)"),
        "{log}"
    );
    assert!(log.contains("gateway.yaml:"), "located: {log}");
    assert!(log.contains("sideways"), "{log}");
    // Nothing of it applied: no new API, the rate limit still counts.
    assert_eq!(support::get(gw.addr, "/items/x").status, 404);
    assert_eq!(count(&statuses(&gw, "/orders/a", 8), 200), 6);
    // Fixed, it applies.
    assert!(gw.reload(&config(&be, RATE, 0, &added, "")));
    assert_eq!(support::get(gw.addr, "/items/x").status, 200);
}

#[test]
fn reloads_under_load_drop_no_connection_and_no_request() {
    let be = Backend::start(Reply::Normal);
    let header = |v: usize| {
        format!(
            r#"<set-header name="X-Generation" exists-action="override"><value>{v}</value></set-header>"#
        )
    };
    let config = |policy: &str, padding: usize| {
        config(&be, policy, padding, "", "")
            .replace("quota calls=\"16\"", "quota calls=\"1000000\"")
    };
    let gw = Gateway::start_with(&config(&header(0), 0), &[], 2);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, served, addr) = (stop.clone(), served.clone(), gw.addr);
            std::thread::spawn(move || -> Result<(), String> {
                // One keep-alive connection each, for the whole test.
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let end = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                    s.write_all(b"GET /orders/a HTTP/1.1\r\nHost: gw\r\nOcp-Apim-Subscription-Key: alice-key\r\n\r\n")
                        .map_err(|e| format!("write: {e}"))?;
                    let r = read_response(&mut s, false).ok_or("connection lost")?;
                    if r.status != 200 {
                        return Err(format!("status {}: {}", r.status, r.text()));
                    }
                    served.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for generation in 1..=6 {
        std::thread::sleep(Duration::from_millis(100));
        assert!(gw.reload(&config(&header(generation), generation)));
    }
    // Requests that start after the last reload see it.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(statuses(&gw, "/orders/a", 1), [200]);
    assert!(sent(&be, "x-generation: 6\r\n"), "{}", be.last_head());
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join()
            .unwrap()
            .expect("every request answered 200 on its connection");
    }
    assert!(served.load(Ordering::Relaxed) > 50, "load ran");
}

#[test]
fn a_changed_file_is_picked_up_and_process_settings_wait_for_a_restart() {
    let be = Backend::start(Reply::Normal);
    let watched = |policy: &str, gateway: &str| {
        config(&be, policy, 0, "", gateway).replace("watch-interval: 0s", "watch-interval: 100ms")
    };
    let gw = Gateway::start_with(&watched("", ""), &[], 1);
    let tmp = gw.dir.join("next.yaml");
    let next = watched(
        r#"<set-header name="X-Watched" exists-action="override"><value>yes</value></set-header>"#,
        "  pool: { max-idle-per-backend: 3 }",
    );
    std::fs::write(&tmp, next).unwrap();
    std::fs::rename(&tmp, gw.config_path()).unwrap();
    assert!(
        gw.log_shows("a configuration file changed: configuration reloaded"),
        "{}",
        gw.log_text()
    );
    assert!(
        gw.log_shows("gateway.pool changed: it takes effect at the next restart"),
        "{}",
        gw.log_text()
    );
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(statuses(&gw, "/orders/a", 1), [200]);
    assert!(sent(&be, "x-watched: yes\r\n"));
}

/// Verified tokens are cached per policy: a reload that changes the policy (here its
/// audience, at the same place in the file) must not accept a token verified before.
#[test]
fn a_reload_that_changes_validate_jwt_does_not_accept_tokens_verified_before() {
    use tollgate_jwt::sign::{sign, SigningKey};
    let be = Backend::start(Reply::Normal);
    let secret = b"reload-test-secret-reload-test-secret";
    let b64 = "cmVsb2FkLXRlc3Qtc2VjcmV0LXJlbG9hZC10ZXN0LXNlY3JldA==";
    let policy = |aud: &str| {
        format!(
            r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{b64}</key></issuer-signing-keys><audiences><audience>{aud}</audience></audiences></validate-jwt>"#
        )
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let token = sign(
        tollgate_jwt::Alg::HS256,
        &SigningKey::hmac(secret),
        "{}",
        &format!(r#"{{"aud":"api://a","exp":{exp}}}"#),
    )
    .unwrap();
    let call = |gw: &Gateway| {
        status_of(&raw(
            gw.addr,
            format!(
                "GET /orders/a HTTP/1.1\r\nHost: gw\r\nOcp-Apim-Subscription-Key: alice-key\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        ))
    };
    let gw = Gateway::start_with(&config(&be, &policy("api://a"), 0, "", ""), &[], 1);
    assert_eq!(call(&gw), 200);
    assert_eq!(call(&gw), 200, "verified, then cached");
    assert!(gw.reload(&config(&be, &policy("api://b"), 0, "", "")));
    assert_eq!(call(&gw), 401, "the new audience refuses it");
}

//! gRPC through the gateway with a real gRPC server and client (grpcio, Debian's
//! python3-grpcio): unary, server streaming, client streaming, a gRPC error and
//! trailing metadata, over h2c and TLS to the gateway and h2c to the backend; and the
//! gateway's own errors arriving as gRPC statuses.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use support::tls::fixture;
use support::Gateway;

const PYTHON: &str = "/usr/bin/python3";

fn script(name: &str) -> String {
    format!("{}/tests/fixtures/grpc/{name}", env!("CARGO_MANIFEST_DIR"))
}

struct Server(Child, u16);

impl Server {
    fn start() -> Server {
        Self::launch(&[])
    }

    /// With TLS (the test CA's `localhost` certificate).
    fn start_tls() -> Server {
        Self::launch(&[fixture("default.pem"), fixture("default.key")])
    }

    /// Plain, on `port` (a restarted backend).
    fn start_on(port: u16) -> Server {
        Self::launch_with(&[], Some(port))
    }

    fn launch(args: &[std::path::PathBuf]) -> Server {
        Self::launch_with(args, None)
    }

    fn launch_with(args: &[std::path::PathBuf], port: Option<u16>) -> Server {
        let mut cmd = Command::new(PYTHON);
        if let Some(p) = port {
            cmd.env("GRPC_PORT", p.to_string());
        }
        let mut child = cmd
            .arg(script("server.py"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with grpcio (scripts/test.sh installs python3-grpcio)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("gRPC server did not start: {line:?}"));
        Server(child, port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the client against `target`; one JSON value per call, by call name.
fn client(target: &str, tls: bool) -> serde_json::Map<String, serde_json::Value> {
    let mut cmd = Command::new(PYTHON);
    cmd.arg(script("client.py")).arg(target);
    if tls {
        cmd.arg(fixture("gw-ca.pem"));
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut calls = serde_json::Map::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        calls.insert(v["call"].as_str().unwrap().to_string(), v);
    }
    assert_eq!(
        calls.len(),
        5,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    calls
}

fn yaml(backend_port: u16, policy: &str) -> String {
    let f = |n: &str| fixture(n).display().to_string();
    let policy = if policy.is_empty() {
        String::new()
    } else {
        format!("    policy: |\n      <policies><inbound><base/>{policy}</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>\n")
    };
    format!(
        "gateway:\n  http2: {{ h2c: true }}\n  tls:\n    certificates:\n      - {{ hostnames: [localhost], cert: {}, key: {} }}\n\
         backends:\n  echo: {{ url: \"http://127.0.0.1:{backend_port}\", protocol: h2c }}\n\
         apis:\n  - id: echo\n    path: echo.Echo\n    service-url: http://127.0.0.1:{backend_port}/echo.Echo\n    subscription-required: false\n{policy}    operations: [ {{ id: call, method: POST, url-template: \"/*\" }} ]\n",
        f("default.pem"),
        f("default.key")
    )
}

#[test]
fn grpc_calls_pass_through_over_h2c_and_tls() {
    let server = Server::start();
    let gw = Gateway::start_tls(&yaml(server.1, ""), 2);
    for (target, tls) in [
        (gw.addr.to_string(), false),
        (format!("localhost:{}", gw.tls_addr.unwrap().port()), true),
    ] {
        let calls = client(&target, tls);
        assert_eq!(calls["Say"]["code"], "OK", "{target}");
        assert_eq!(calls["Say"]["result"]["body"], "hello");
        // Trailing metadata made it back; the backend saw the gateway's X-Forwarded-For.
        assert_eq!(
            calls["Say"]["result"]["trailers"]["x-echo-seen"],
            "127.0.0.1"
        );
        assert_eq!(
            calls["Stream"]["result"],
            serde_json::json!(["m0", "m1", "m2"])
        );
        assert_eq!(calls["Collect"]["result"], "abc");
        assert_eq!(calls["Fail"]["code"], "NOT_FOUND");
        assert_eq!(calls["Fail"]["details"], "no such thing");
        assert_eq!(calls["Say2"]["code"], "OK");
    }
}

#[test]
fn gateway_errors_reach_grpc_clients_as_grpc_statuses() {
    // A rate limit of 1 call per minute: the second call is refused by the gateway.
    let server = Server::start();
    let gw = Gateway::start_tls(
        &yaml(
            server.1,
            "<rate-limit-by-key calls=\"1\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\"/>",
        ),
        1,
    );
    let calls = client(&gw.addr.to_string(), false);
    assert_eq!(calls["Say"]["code"], "OK");
    assert_eq!(calls["Stream"]["code"], "RESOURCE_EXHAUSTED");
    let details = calls["Stream"]["details"].as_str().unwrap();
    assert!(
        details.starts_with("Rate limit is exceeded. Try again in "),
        "{details}"
    );
    drop(gw);
    // The backend is gone: UNAVAILABLE with APIM's message.
    let port = server.1;
    drop(server);
    let gw = Gateway::start_tls(&yaml(port, ""), 1);
    let calls = client(&gw.addr.to_string(), false);
    assert_eq!(calls["Say"]["code"], "UNAVAILABLE");
    assert_eq!(calls["Say"]["details"], "Backend service is unreachable");
}

#[test]
fn grpc_to_a_tls_backend_over_h2() {
    let server = Server::start_tls();
    let ca = fixture("gw-ca.pem").display().to_string();
    let yaml = yaml(server.1, "")
        .replace(
            &format!(
                "  echo: {{ url: \"http://127.0.0.1:{}\", protocol: h2c }}",
                server.1
            ),
            &format!(
                "  echo: {{ url: \"https://localhost:{}\", protocol: h2, tls: {{ ca: {ca} }} }}",
                server.1
            ),
        )
        .replace(
            &format!("service-url: http://127.0.0.1:{}/echo.Echo", server.1),
            &format!("service-url: https://localhost:{}/echo.Echo", server.1),
        );
    let gw = Gateway::start_tls(&yaml, 1);
    let calls = client(&gw.addr.to_string(), false);
    assert_eq!(calls["Say"]["code"], "OK", "{calls:?}");
    assert_eq!(
        calls["Stream"]["result"],
        serde_json::json!(["m0", "m1", "m2"])
    );
    assert_eq!(calls["Fail"]["code"], "NOT_FOUND");
}

#[test]
fn a_restarted_backend_gets_a_new_session() {
    let server = Server::start();
    let port = server.1;
    let gw = Gateway::start_tls(&yaml(port, ""), 1);
    assert_eq!(client(&gw.addr.to_string(), false)["Say"]["code"], "OK");
    drop(server);
    let _server = Server::start_on(port);
    // The old session ended with the old process; the next calls open a new one.
    let mut calls = client(&gw.addr.to_string(), false);
    if calls["Say"]["code"] != "OK" {
        calls = client(&gw.addr.to_string(), false);
    }
    assert_eq!(calls["Say"]["code"], "OK", "{calls:?}");
    assert_eq!(calls["Say2"]["code"], "OK", "{calls:?}");
}

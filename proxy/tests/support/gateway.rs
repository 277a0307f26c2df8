//! Starts the real `tollgate` binary with a YAML config on an ephemeral port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Gateway {
    pub addr: SocketAddr,
    /// The HTTPS listener (started with `start_tls`).
    pub tls_addr: Option<SocketAddr>,
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
    pub dir: PathBuf,
}

/// A fresh temp directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("tollgate-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_tollgate")
}

impl Gateway {
    /// Starts the gateway with `yaml` (listen address overridden to 127.0.0.1:0).
    pub fn start(yaml: &str) -> Gateway {
        Self::start_with(yaml, &[], 2)
    }

    /// Starts the gateway with an HTTPS listener too (`--listen-https 127.0.0.1:0`);
    /// `yaml` must hold `gateway.tls.certificates`.
    pub fn start_tls(yaml: &str, shards: usize) -> Gateway {
        Self::launch(yaml, &[], shards, true)
    }

    pub fn start_with(yaml: &str, env: &[(&str, &str)], shards: usize) -> Gateway {
        Self::launch(yaml, env, shards, false)
    }

    fn launch(yaml: &str, env: &[(&str, &str)], shards: usize, tls: bool) -> Gateway {
        let dir = temp_dir("gw");
        let cfg = dir.join("gateway.yaml");
        std::fs::write(&cfg, yaml).unwrap();
        let mut cmd = Command::new(binary());
        cmd.args([
            "run",
            "--listen",
            "127.0.0.1:0",
            "--shards",
            &shards.to_string(),
            "--config",
        ])
        .arg(&cfg);
        if tls {
            cmd.args(["--listen-https", "127.0.0.1:0"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn tollgate");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                for scheme in ["http", "https"] {
                    let marker = format!("listening on {scheme}://");
                    if let Some(rest) = line.split(marker.as_str()).nth(1) {
                        let addr = rest.split_whitespace().next().unwrap().to_string();
                        let _ = tx.send((scheme, addr));
                    }
                }
                log2.lock().unwrap().push(line);
            }
        });
        let mut addr = None;
        let mut tls_addr = None;
        while addr.is_none() || (tls && tls_addr.is_none()) {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(("http", a)) => addr = Some(a.parse().unwrap()),
                Ok((_, a)) => tls_addr = Some(a.parse().unwrap()),
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "gateway did not start; log:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
        }
        Gateway {
            addr: addr.unwrap(),
            tls_addr,
            child,
            log,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits up to 5 s for a log line containing `needle` (stderr is read by a thread).
    pub fn log_shows(&self, needle: &str) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if self.log_text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The config file the gateway was started with.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("gateway.yaml")
    }

    /// Writes a new config (atomically: a temp file renamed over it), sends SIGHUP and
    /// waits until the gateway logged the outcome. True: applied.
    pub fn reload(&self, yaml: &str) -> bool {
        let before = self.log_text().matches("SIGHUP: ").count();
        let tmp = self.dir.join("gateway.yaml.new");
        std::fs::write(&tmp, yaml).unwrap();
        std::fs::rename(&tmp, self.config_path()).unwrap();
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGHUP);
        }
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let log = self.log_text();
            if log.matches("SIGHUP: ").count() > before {
                // Shards take a new snapshot in within 50 ms.
                std::thread::sleep(Duration::from_millis(150));
                return log
                    .lines()
                    .rfind(|l| l.contains("SIGHUP: "))
                    .is_some_and(|l| l.contains("configuration reloaded"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no reload logged after SIGHUP:\n{}", self.log_text());
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }

    /// Waits for the process to exit within `limit`; returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Resident set size of the gateway process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minimal config with one API `path` routed to `backend` with the given operations.
pub fn config(backend: SocketAddr, extra_gateway: &str) -> String {
    format!(
        r#"gateway:
  shards: 2
{extra_gateway}
apis:
  - id: orders
    path: orders
    service-url: http://{backend}/v1
    subscription-required: false
    operations:
      - {{ id: get-order, method: GET, url-template: "/orders/{{id}}" }}
      - {{ id: list, method: GET, url-template: "/orders" }}
      - {{ id: create, method: POST, url-template: "/orders" }}
      - {{ id: put, method: PUT, url-template: "/orders/{{id}}" }}
      - {{ id: head, method: HEAD, url-template: "/orders/{{id}}" }}
      - {{ id: files, method: GET, url-template: "/files/{{*path}}" }}
      - {{ id: upload, method: POST, url-template: "/upload" }}
      - {{ id: download, method: GET, url-template: "/download/{{size}}" }}
      - {{ id: until-close, method: GET, url-template: "/until-close/{{*rest}}" }}
      - {{ id: ws, method: GET, url-template: "/ws" }}
      - {{ id: slow, method: GET, url-template: "/slow" }}
      - {{ id: chunked, method: GET, url-template: "/chunked" }}
      - {{ id: early-hints, method: GET, url-template: "/early-hints" }}
      - {{ id: no-content, method: GET, url-template: "/no-content" }}
"#
    )
}

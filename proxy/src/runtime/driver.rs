//! Choosing and building the monoio driver: io_uring by default, epoll as the fallback.
//!
//! `TOLLGATE_DRIVER=uring|epoll` forces one. Without it, io_uring is probed; if the
//! kernel refuses it (seccomp, `kernel.io_uring_disabled`, an old kernel, memlock) the
//! shard falls back to epoll and the gateway says so once in the log.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};

/// The driver a shard runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    IoUring,
    Epoll,
}

/// What the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverChoice {
    Auto,
    Force(Driver),
}

static FALLBACK_LOGGED: AtomicBool = AtomicBool::new(false);

impl DriverChoice {
    /// Reads `TOLLGATE_DRIVER`; an unknown value is an error, not a silent default.
    pub fn from_env() -> Result<DriverChoice, String> {
        match std::env::var("TOLLGATE_DRIVER") {
            Err(_) => Ok(DriverChoice::Auto),
            Ok(v) => match v.to_ascii_lowercase().as_str() {
                "" | "auto" => Ok(DriverChoice::Auto),
                "uring" | "io_uring" | "io-uring" => Ok(DriverChoice::Force(Driver::IoUring)),
                "epoll" | "legacy" => Ok(DriverChoice::Force(Driver::Epoll)),
                other => Err(format!(
                    "TOLLGATE_DRIVER={other}: expected `uring`, `epoll` or `auto`"
                )),
            },
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Driver::IoUring => "io_uring",
            Driver::Epoll => "epoll",
        })
    }
}

/// Builds a runtime for `choice` on the current thread and runs `make()` to completion.
/// Returns the driver actually used.
pub fn block_on<F, Fut>(
    choice: DriverChoice,
    entries: u32,
    make: F,
) -> io::Result<(Driver, Fut::Output)>
where
    F: FnOnce(Driver) -> Fut,
    Fut: Future,
{
    let want = match choice {
        DriverChoice::Force(d) => d,
        DriverChoice::Auto if monoio::utils::detect_uring() => Driver::IoUring,
        DriverChoice::Auto => {
            log_fallback("io_uring is not available on this kernel or is blocked (seccomp, kernel.io_uring_disabled)");
            Driver::Epoll
        }
    };
    if want == Driver::IoUring {
        let built = RuntimeBuilder::<IoUringDriver>::new()
            .with_entries(entries)
            .uring_builder(uring_setup())
            .enable_timer()
            .build()
            // Kernels before 6.1 refuse the setup flags: retry with the defaults.
            .or_else(|_| {
                RuntimeBuilder::<IoUringDriver>::new()
                    .with_entries(entries)
                    .enable_timer()
                    .build()
            });
        match built {
            Ok(mut rt) => return Ok((Driver::IoUring, rt.block_on(make(Driver::IoUring)))),
            Err(e) if choice == DriverChoice::Auto => {
                log_fallback(&format!("io_uring setup failed: {e}"));
            }
            Err(e) => return Err(e),
        }
    }
    let mut rt = RuntimeBuilder::<LegacyDriver>::new()
        .enable_timer()
        .build()?;
    Ok((Driver::Epoll, rt.block_on(make(Driver::Epoll))))
}

/// io_uring setup flags for a thread-per-core shard. A shard is the ring's only
/// submitter, so completion work is deferred to the shard's own `io_uring_enter`
/// (`SINGLE_ISSUER | DEFER_TASKRUN`, kernel 6.1+) instead of interrupting it from
/// whichever CPU the packet arrived on — on this project's 2-core VM that removed about
/// a fifth of the CPU per proxied request (docs/architecture.md, "io_uring setup").
/// `TOLLGATE_URING_SETUP=coop|none` selects the older modes for comparison.
fn uring_setup() -> io_uring::Builder {
    let mut b = io_uring::IoUring::builder();
    match std::env::var("TOLLGATE_URING_SETUP").as_deref() {
        Ok("none") => {}
        Ok("coop") => {
            b.setup_coop_taskrun().setup_taskrun_flag();
        }
        _ => {
            b.setup_coop_taskrun()
                .setup_single_issuer()
                .setup_defer_taskrun();
        }
    }
    b
}

fn log_fallback(why: &str) {
    if !FALLBACK_LOGGED.swap(true, Ordering::Relaxed) {
        crate::warn!("{why}; falling back to the epoll driver");
    }
}

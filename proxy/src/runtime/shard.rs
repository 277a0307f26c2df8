//! Starting the shards and the handle that stops them.

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::driver::{self, Driver, DriverChoice};
use super::listeners::bind_reuseport;
use crate::server::{serve_shard, Shard};
use crate::snapshot::Snapshot;

/// io_uring submission queue size per shard.
const URING_ENTRIES: u32 = 1024;

/// A running gateway: its address, and the means to stop it.
pub struct Gateway {
    /// The plain-HTTP listener's address (`None` when it is off).
    pub http_addr: Option<SocketAddr>,
    /// The HTTPS listener's address, when there is one.
    pub https_addr: Option<SocketAddr>,
    pub shards: usize,
    shutdown: Arc<AtomicBool>,
    /// Asks the certificate watcher to reload now.
    tls_reload: Option<crate::tls::watch::Reload>,
    /// Where new configuration snapshots go, one channel per shard.
    installer: Installer,
    /// Duplicates of the shards' listening sockets, kept so `shutdown` can wake the
    /// accepts without racing the shards closing their own descriptors.
    listener_fds: Vec<OwnedFd>,
    threads: Vec<JoinHandle<Option<Driver>>>,
}

#[derive(Debug)]
pub enum StartError {
    Bind(SocketAddr, std::io::Error),
    Thread(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::Thread(e) => write!(f, "cannot start a shard thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// CPUs this process may run on (respects taskset and cgroup cpusets).
pub fn available_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, and
    // sched_getaffinity writes at most size_of::<cpu_set_t>() bytes into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Where the gateway listens: plain HTTP and/or HTTPS (which needs `snapshot.tls`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Listen {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
}

/// Binds a plain-HTTP listener and starts `shards` shard threads (0 = one per CPU).
pub fn start(
    snapshot: Arc<Snapshot>,
    http: SocketAddr,
    shards: usize,
    choice: DriverChoice,
) -> Result<Gateway, StartError> {
    let listen = Listen {
        http: Some(http),
        https: None,
    };
    start_listening(snapshot, listen, shards, choice)
}

/// `count` listeners on `addr` (one per shard), and the address they got.
fn bind(
    addr: Option<SocketAddr>,
    count: usize,
) -> Result<(Vec<Option<std::net::TcpListener>>, Option<SocketAddr>), StartError> {
    let Some(addr) = addr else {
        return Ok(((0..count).map(|_| None).collect(), None));
    };
    let listeners = bind_reuseport(addr, count).map_err(|e| StartError::Bind(addr, e))?;
    let bound = listeners[0]
        .local_addr()
        .map_err(|e| StartError::Bind(addr, e))?;
    Ok((listeners.into_iter().map(Some).collect(), Some(bound)))
}

/// Binds the listeners and starts `shards` shard threads (0 = one per available CPU).
pub fn start_listening(
    snapshot: Arc<Snapshot>,
    listen: Listen,
    shards: usize,
    choice: DriverChoice,
) -> Result<Gateway, StartError> {
    let cpus = available_cpus();
    let shards = if shards == 0 {
        cpus.len().max(1)
    } else {
        shards
    };
    let (http_listeners, http_addr) = bind(listen.http, shards)?;
    let https = listen.https.filter(|_| snapshot.tls.is_some());
    let (https_listeners, https_addr) = bind(https, shards)?;
    let tls_reload = snapshot.tls.as_deref().and_then(crate::tls::watch::start);
    let shutdown = Arc::new(AtomicBool::new(false));
    let mut links = crate::jwks::start(
        snapshot.jwt_fetch_urls.clone(),
        snapshot.openid_tls.as_ref(),
        &snapshot.openid,
        shards,
    );
    let cluster = snapshot
        .rate_limit_redis
        .as_ref()
        .map(crate::limits::redis::cluster);
    let (mut meshes, store) =
        crate::limits::Mesh::build(shards, cluster).map_err(StartError::Thread)?;
    if let (Some(redis), Some(end)) = (snapshot.rate_limit_redis.as_ref(), store) {
        crate::limits::redis::start(redis, end);
    }
    let mut listener_fds = Vec::with_capacity(shards);
    let mut threads = Vec::with_capacity(shards);
    let mut installer = Installer {
        shards: Vec::with_capacity(shards),
    };
    let pairs = http_listeners.into_iter().zip(https_listeners);
    for (id, std_listener) in pairs.enumerate() {
        for l in [&std_listener.0, &std_listener.1].into_iter().flatten() {
            listener_fds.push(l.as_fd().try_clone_to_owned().map_err(StartError::Thread)?);
        }
        let cpu = cpus.get(id % cpus.len().max(1)).copied();
        let snapshot = snapshot.clone();
        let shutdown = shutdown.clone();
        let link = links.get_mut(id).and_then(Option::take);
        let mesh = meshes.get_mut(id).and_then(Option::take);
        let (config_tx, config_rx) = crossbeam_channel::unbounded();
        installer.shards.push(config_tx);
        let peers = ShardPeers {
            keys: link,
            limits: mesh,
            config: Some(config_rx),
            shards,
        };
        let handle = std::thread::Builder::new()
            .name(format!("tollgate-shard-{id}"))
            .spawn(move || shard_main(id, cpu, std_listener, snapshot, peers, shutdown, choice))
            .map_err(StartError::Thread)?;
        threads.push(handle);
    }
    Ok(Gateway {
        http_addr,
        https_addr,
        shards,
        tls_reload,
        installer,
        shutdown,
        listener_fds,
        threads,
    })
}

/// What a shard gets to reach the rest of the process: the key fetcher, the other
/// shards' limiters.
pub struct ShardPeers {
    pub keys: Option<crate::jwks::Link>,
    pub limits: Option<crate::limits::ShardLink>,
    /// New configuration snapshots (a reload).
    pub config: Option<crossbeam_channel::Receiver<Arc<Snapshot>>>,
    pub shards: usize,
}

type StdListeners = (Option<std::net::TcpListener>, Option<std::net::TcpListener>);

fn shard_main(
    id: usize,
    cpu: Option<usize>,
    listener: StdListeners,
    snapshot: Arc<Snapshot>,
    peers: ShardPeers,
    shutdown: Arc<AtomicBool>,
    choice: DriverChoice,
) -> Option<Driver> {
    if let Some(cpu) = cpu {
        if let Err(e) = monoio::utils::bind_to_cpu_set([cpu]) {
            crate::warn!("shard {id}: cannot pin to CPU {cpu}: {e}");
        }
    }
    let mut peers = Some(peers);
    let run = driver::block_on(choice, URING_ENTRIES, |driver| {
        let shutdown = shutdown.clone();
        let peers = peers.take();
        async move {
            let register = |l: Option<std::net::TcpListener>| match l {
                None => Ok(None),
                Some(l) => monoio::net::TcpListener::from_std(l).map(Some),
            };
            let (http, https) = match (register(listener.0), register(listener.1)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    crate::error!("shard {id}: cannot register a listener with {driver}: {e}");
                    return;
                }
            };
            crate::info!(
                "shard {id} started on CPU {} with the {driver} driver",
                cpu.map_or("any".to_string(), |c| c.to_string())
            );
            let Some(peers) = peers else {
                return;
            };
            let shard = Rc::new(Shard::new(id, snapshot, peers));
            serve_shard(shard, http, https, &shutdown).await;
        }
    });
    match run {
        Ok((driver, ())) => Some(driver),
        Err(e) => {
            crate::error!("shard {id}: cannot start its runtime: {e}");
            None
        }
    }
}

/// Hands a new configuration snapshot to every shard (each takes it in within
/// [`crate::server::CONFIG_POLL`] and serves new requests with it).
#[derive(Clone)]
pub struct Installer {
    shards: Vec<crossbeam_channel::Sender<Arc<Snapshot>>>,
}

impl Installer {
    pub fn install(&self, snapshot: &Arc<Snapshot>) {
        for tx in &self.shards {
            // A shard that stopped has dropped its receiver: nothing to do for it.
            let _ = tx.send(snapshot.clone());
        }
    }
}

impl Gateway {
    /// What a reload uses to reach the shards.
    pub fn installer(&self) -> Installer {
        self.installer.clone()
    }

    /// Loads the TLS certificate files again (SIGHUP); open connections keep theirs.
    pub fn reload_tls(&self) {
        if let Some(r) = &self.tls_reload {
            let _ = r.try_send(());
        }
    }

    /// Stops accepting on every shard and lets them drain. Returns at once.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
        for fd in &self.listener_fds {
            // SAFETY: `fd` is an open descriptor we own (a dup of the listening socket);
            // shutdown(2) changes socket state only, waking every pending accept.
            unsafe {
                libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR);
            }
        }
    }

    /// Waits for every shard to finish draining. Returns the drivers the shards ran on
    /// (`None` for a shard whose runtime failed to start).
    pub fn join(self) -> Vec<Option<Driver>> {
        self.threads
            .into_iter()
            .map(|t| t.join().ok().flatten())
            .collect()
    }
}

//! A shard's accept loop and its graceful drain.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use monoio::net::TcpListener;

use super::{connection, Shard};

/// Serves the shard's listeners (plain HTTP and/or HTTPS) until `shutdown` is set (the
/// gateway handle then shuts the listening sockets down, which wakes the pending
/// accepts), then drains: idle connections close now, busy ones after their response,
/// all within `shutdown-grace`.
pub async fn serve_shard(
    shard: Rc<Shard>,
    http: Option<TcpListener>,
    https: Option<TcpListener>,
    shutdown: &AtomicBool,
) {
    if shard.jwt.has_sources() {
        monoio::spawn(poll_keys(shard.clone()));
    }
    monoio::spawn(limits_upkeep(shard.clone()));
    if shard.config_inbox.is_some() {
        monoio::spawn(take_config(shard.clone()));
    }
    if let Some(wake) = shard.throttle.link().and_then(|l| l.wake.take()) {
        match monoio::net::UnixStream::from_std(wake) {
            Ok(wake) => {
                monoio::spawn(limits_inbox(shard.clone(), wake));
            }
            Err(e) => crate::error!(
                "shard {}: cannot listen for rate-limit budget from other shards: {e}",
                shard.id
            ),
        }
    }
    let tls = shard.snapshot().tls.clone();
    monoio::join!(
        accept_loop(&shard, http, shutdown, None),
        accept_loop(&shard, https, shutdown, tls),
    );
    shard.drain.begin_drain();
    let deadline = monoio::time::Instant::now() + shard.snapshot().timeouts.shutdown_grace;
    while shard.drain.active() > 0 && monoio::time::Instant::now() < deadline {
        monoio::time::sleep(Duration::from_millis(20)).await;
    }
    if shard.drain.active() > 0 {
        crate::warn!(
            "shard {}: shutdown grace elapsed with {} connections still open",
            shard.id,
            shard.drain.active()
        );
    }
    shard.pool.clear();
}

/// Accepts until shutdown; `tls` set: connections start with a TLS handshake.
async fn accept_loop(
    shard: &Rc<Shard>,
    listener: Option<TcpListener>,
    shutdown: &AtomicBool,
    tls: Option<std::sync::Arc<crate::tls::ServerTls>>,
) {
    let Some(listener) = listener else {
        return;
    };
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if shutdown.load(Ordering::Relaxed) {
                    break;
                }
                match &tls {
                    None => monoio::spawn(connection::serve(shard.clone(), stream, peer)),
                    Some(t) => monoio::spawn(connection::serve_tls(
                        shard.clone(),
                        stream,
                        peer,
                        t.clone(),
                    )),
                };
            }
            Err(e) => {
                if shutdown.load(Ordering::Relaxed) {
                    break;
                }
                // EMFILE/ENFILE and friends: back off briefly instead of spinning.
                crate::warn!("shard {}: accept failed: {e}", shard.id);
                monoio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Takes in new validate-jwt key sets from the control thread, until the shard drains.
async fn poll_keys(shard: Rc<Shard>) {
    while !shard.drain.draining() {
        shard.jwt.poll();
        monoio::time::sleep(crate::jwks::shard::POLL).await;
    }
}

/// Takes in reloaded configurations: the newest one serves requests that start from
/// now on.
async fn take_config(shard: Rc<Shard>) {
    let Some(inbox) = &shard.config_inbox else {
        return;
    };
    while !shard.drain.draining() {
        if let Some(snapshot) = inbox.try_iter().last() {
            shard.install(snapshot);
        }
        monoio::time::sleep(super::CONFIG_POLL).await;
    }
}

/// Rate-limit upkeep: unspent leases go back to their owners, idle keys expire. Every
/// 2 ms while this shard holds leases (a lease idle for `idle_ms`, 4 ms, goes back),
/// every 20 ms otherwise.
async fn limits_upkeep(shard: Rc<Shard>) {
    while !shard.drain.draining() {
        let holding = shard.throttle.tick(crate::limits::now_ms());
        let pause = if holding { 2 } else { 20 };
        monoio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Takes in rate-limit messages from other shards as soon as one wakes this shard.
async fn limits_inbox(shard: Rc<Shard>, mut wake: monoio::net::UnixStream) {
    use monoio::io::AsyncReadRent;
    let mut buf = vec![0u8; 256];
    loop {
        let (r, b) = wake.read(buf).await;
        buf = b;
        match r {
            Ok(0) | Err(_) => return,
            Ok(_) => shard.throttle.receive_all(crate::limits::now_ms()),
        }
        if shard.drain.draining() {
            return;
        }
    }
}

//! Signing keys for validate-jwt: which `openid-config` URLs the policies name, the
//! control thread that fetches them (`control`, `fetch`), and each shard's copy and
//! verified-token cache (`shard`, `cache`).

mod cache;
pub mod control;
pub mod fetch;
pub mod shard;

use tollgate_core::config::OpenId;
use tollgate_policies::program::{Insn, Program};

pub use shard::{Link, ShardJwt};

/// The `openid-config` URLs of all programs, each once, in first-seen order.
pub fn sources<'p>(programs: impl Iterator<Item = &'p Program>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in programs {
        for insn in &p.insns {
            if let Insn::ValidateJwt(j) = insn {
                for u in j.openid_urls.iter() {
                    if !out.iter().any(|x| **x == **u) {
                        out.push(u.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Where a source is fetched from: validate-azure-ad-token's Entra URLs go to the
/// configured authority.
pub fn fetch_url(url: &str, openid: &OpenId) -> String {
    let entra = tollgate_core::config::DEFAULT_AZURE_AD_AUTHORITY;
    match url.strip_prefix(entra) {
        Some(rest) if openid.azure_ad_authority != entra => {
            format!("{}{rest}", openid.azure_ad_authority.trim_end_matches('/'))
        }
        _ => url.to_string(),
    }
}

/// Starts the control thread for `urls` (already rewritten by [`fetch_url`]) and returns
/// one link per shard. No sources (or no TLS settings): no thread, no links.
pub fn start(
    urls: Vec<String>,
    tls: Option<&fetch::Tls>,
    openid: &OpenId,
    shards: usize,
) -> Vec<Option<Link>> {
    let Some(tls) = tls.filter(|_| !urls.is_empty()).cloned() else {
        return (0..shards).map(|_| None).collect();
    };
    let (refresh_tx, refresh_rx) = crossbeam_channel::bounded(256);
    let forced: control::Forced =
        std::sync::Arc::new(urls.iter().map(|_| std::sync::Mutex::new(None)).collect());
    let mut senders = Vec::with_capacity(shards);
    let mut links = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (tx, rx) = crossbeam_channel::unbounded();
        senders.push(tx);
        links.push(Some(Link {
            updates: rx,
            refresh: refresh_tx.clone(),
            forced: forced.clone(),
        }));
    }
    drop(refresh_tx);
    let schedule = control::Schedule {
        tls,
        refresh: openid.refresh,
        min_refresh: openid.min_refresh,
        timeout: openid.timeout,
    };
    let spawned = std::thread::Builder::new()
        .name("tollgate-keys".into())
        .spawn(move || control::run(urls, schedule, senders, refresh_rx, forced));
    if let Err(e) = spawned {
        crate::error!("cannot start the key fetcher thread: {e}; openid-config keys will not load");
    }
    links
}

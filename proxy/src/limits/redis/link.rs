//! The Redis thread's loop: every `sync-interval` it takes what the shards queued for the
//! store, runs it as one script call (in chunks for a big batch), and sends each ask's
//! answer to the shard that asked; between batches it keeps this gateway's heartbeat. On
//! a failure it tells every shard the store is down (once: warn), reconnects with a
//! doubling backoff, and tells them it is back (info) — the shards never wait for any of
//! this.

use std::io;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use tollgate_core::config::RedisUrl;
use tollgate_limits::{Answer, Message, Op, Status};

use super::conn::{self, Conn};
use super::resp::Reply;
use super::FAILURES;
use crate::limits::mesh::StoreEnd;

/// Operations per script call.
const CHUNK: usize = 256;
/// A gateway whose heartbeat is older than this is no longer counted.
const HEARTBEAT_LIFE_MS: u64 = 3000;
/// An idle link still beats this often.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What the link was configured with.
pub struct Settings {
    pub url: RedisUrl,
    pub prefix: Vec<u8>,
    pub sync: Duration,
    /// Connect, read and write timeout.
    pub timeout: Duration,
    /// This gateway's name in the heartbeat set.
    pub id: String,
}

/// What the shards were last told.
struct Told {
    up: Option<bool>,
    epoch: u32,
    processes: u32,
    down_since: Option<Instant>,
    failures_at_loss: u64,
}

pub fn run(settings: Settings, end: StoreEnd) {
    let mut conn: Option<Conn> = None;
    let mut retry_at = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut told = Told {
        up: None,
        epoch: 0,
        processes: 1,
        down_since: None,
        failures_at_loss: 0,
    };
    let mut batch: Vec<Message> = Vec::new();
    let mut next = Instant::now() + settings.sync;
    let mut last_beat = Instant::now() - HEARTBEAT_EVERY;
    let mut scratch = Scratch::default();
    loop {
        loop {
            match end.inbox.recv_deadline(next) {
                Ok(m) => batch.push(m),
                Err(RecvTimeoutError::Timeout) => break,
                // Every shard has gone: the gateway is stopping.
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let now = Instant::now();
        next = (next + settings.sync).max(now + settings.sync / 4);
        if conn.is_none() && now >= retry_at {
            match Conn::open(&settings.url, settings.timeout) {
                Ok(c) => {
                    conn = Some(c);
                    backoff = FIRST_BACKOFF;
                }
                Err(e) => {
                    fail(&settings, &end, &mut told, &e);
                    retry_at = now + backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            // Down: what the shards queued is dropped (they count alone, or refuse).
            batch.clear();
            continue;
        };
        if batch.is_empty() && now.duration_since(last_beat) < HEARTBEAT_EVERY {
            continue;
        }
        match sync(c, &settings, &end, &batch, &mut scratch) {
            Ok(processes) => {
                last_beat = now;
                recovered(&settings, &end, &mut told, processes);
            }
            Err(e) => {
                conn = None;
                fail(&settings, &end, &mut told, &e);
                retry_at = now + backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        batch.clear();
    }
}

/// Reused buffers of one sync.
#[derive(Default)]
struct Scratch {
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
    asks: Vec<usize>,
}

/// Runs `batch` (and the heartbeat); answers the asks. Returns the live gateways.
fn sync(
    c: &mut Conn,
    s: &Settings,
    end: &StoreEnd,
    batch: &[Message],
    scratch: &mut Scratch,
) -> io::Result<u32> {
    let mut processes = 1;
    let mut chunks = batch.chunks(CHUNK).peekable();
    if chunks.peek().is_none() {
        // A heartbeat alone.
        return call(c, s, end, &[], scratch);
    }
    for chunk in chunks {
        processes = call(c, s, end, chunk, scratch)?;
    }
    Ok(processes)
}

fn call(
    c: &mut Conn,
    s: &Settings,
    end: &StoreEnd,
    ops: &[Message],
    scratch: &mut Scratch,
) -> io::Result<u32> {
    let Scratch { keys, args, asks } = scratch;
    keys.clear();
    args.clear();
    asks.clear();
    let mut procs = s.prefix.clone();
    procs.extend_from_slice(b"gateways");
    keys.push(procs);
    args.push(s.id.as_bytes().to_vec());
    args.push(crate::limits::now_ms().to_string().into_bytes());
    args.push(HEARTBEAT_LIFE_MS.to_string().into_bytes());
    args.push(Vec::new());
    let mut n = 0;
    for (i, m) in ops.iter().enumerate() {
        let Some(r) = m.upstream() else { continue };
        let mut key = Vec::new();
        r.store_key(&s.prefix, &mut key);
        keys.push(key);
        let (code, s1, s2, tokens) = match r.op {
            Op::Ask { slot, want } => {
                asks.push(i);
                ("A", slot, slot, want)
            }
            Op::Charge { slot, tokens } => ("C", slot, slot, tokens),
            Op::Return { slot, tokens } => ("R", slot, slot, tokens),
            Op::Move { from, to, tokens } => ("M", from, to, tokens),
        };
        let limit = |l: Option<u64>| l.map_or(-1, |v| v.min(MAX_EXACT) as i64);
        let fields: [i64; 9] = [
            0,
            i64::from(r.slots),
            r.ttl_ms.min(MAX_EXACT) as i64,
            limit(r.limits[0]),
            limit(r.limits[1]),
            s1.min(MAX_EXACT) as i64,
            s2.min(MAX_EXACT) as i64,
            tokens[0].min(MAX_EXACT) as i64,
            tokens[1].min(MAX_EXACT) as i64,
        ];
        args.push(code.as_bytes().to_vec());
        for f in &fields[1..] {
            args.push(f.to_string().into_bytes());
        }
        n += 1;
    }
    args[3] = n.to_string().into_bytes();
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let reply = c.eval(&key_refs, &arg_refs)?;
    let Reply::Array(Some(items)) = reply else {
        return Err(conn::error(format!("the script answered {reply:?}")));
    };
    let ints: Vec<i64> = items
        .iter()
        .map(|r| match r {
            Reply::Int(v) => Ok(*v),
            other => Err(conn::error(format!("the script answered {other:?}"))),
        })
        .collect::<io::Result<_>>()?;
    if ints.len() != 1 + 6 * asks.len() {
        return Err(conn::error("the script's answer does not fit the batch"));
    }
    let count = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    for (j, &i) in asks.iter().enumerate() {
        let a = &ints[1 + 6 * j..7 + 6 * j];
        let answer = Answer {
            granted: [a[0].max(0) as u64, a[1].max(0) as u64],
            remaining: [count(a[2]), count(a[3])],
            free_slot: [a[4].max(0) as u64, a[5].max(0) as u64],
        };
        if let Some(reply) = ops[i].answer(answer) {
            end.outbox.send(reply);
        }
    }
    Ok(ints[0].clamp(1, i64::from(u32::MAX)) as u32)
}

/// Integers the script handles exactly (Lua numbers are doubles).
const MAX_EXACT: u64 = 1 << 53;

fn fail(s: &Settings, end: &StoreEnd, told: &mut Told, e: &io::Error) {
    let failures = FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if told.up == Some(false) {
        crate::debug!(
            "rate-limits.redis: {} still unreachable: {e}",
            s.url.display()
        );
        return;
    }
    crate::warn!(
        "rate-limits.redis: lost Redis at {}: {e}; until it is back, limits count in this gateway alone or refuse (on-failure)",
        s.url.display()
    );
    told.epoch = told.epoch.wrapping_add(1);
    told.up = Some(false);
    told.down_since = Some(Instant::now());
    told.failures_at_loss = failures;
    broadcast(end, told);
}

fn recovered(s: &Settings, end: &StoreEnd, told: &mut Told, processes: u32) {
    match told.up {
        Some(true) if told.processes == processes => return,
        Some(true) => {}
        Some(false) => {
            let failed = FAILURES
                .load(std::sync::atomic::Ordering::Relaxed)
                .saturating_sub(told.failures_at_loss)
                + 1;
            crate::info!(
                "rate-limits.redis: Redis at {} is back after {:.1}s ({failed} failed attempts); limits count through it again",
                s.url.display(),
                told.down_since.map_or(0.0, |t| t.elapsed().as_secs_f64())
            );
            told.epoch = told.epoch.wrapping_add(1);
        }
        None => crate::info!(
            "rate-limits.redis: sharing limits through Redis at {} ({processes} gateways)",
            s.url.display()
        ),
    }
    told.up = Some(true);
    told.processes = processes;
    broadcast(end, told);
}

fn broadcast(end: &StoreEnd, told: &Told) {
    let status = Status {
        up: told.up.unwrap_or(true),
        processes: told.processes,
        epoch: told.epoch,
    };
    for shard in 0..end.outbox.shards() {
        end.outbox.send(Message::status(shard, status));
    }
}

//! How shards reach each other's limiters: one crossbeam channel per shard for the
//! messages, and one socket pair per shard to wake it (a byte written by the sender; the
//! shard awaits its end of the pair in its own runtime, so a message is taken in at once
//! without polling). With `rate-limits.redis`, one more channel carries the messages for
//! the store to the Redis thread, which answers through the shards' channels and wakes
//! them the same way ([`Outbox`]).

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use tollgate_limits::{Cluster, Message, UPSTREAM};

/// What one shard holds to talk to all of them (and to the store).
pub struct ShardLink {
    pub shard: u16,
    pub inbox: Receiver<Message>,
    /// This shard's end to await (taken by its runtime when it starts).
    pub wake: std::cell::Cell<Option<UnixStream>>,
    peers: Vec<Peer>,
    /// Messages for the store, to the Redis thread.
    upstream: Option<Sender<Message>>,
    /// How this process shares its limits, when it does.
    pub cluster: Option<Cluster>,
}

#[derive(Clone)]
struct Peer {
    tx: Sender<Message>,
    wake: Arc<UnixStream>,
}

/// The Redis thread's way to every shard.
pub struct Outbox {
    peers: Vec<Peer>,
}

impl Outbox {
    /// Sends `msg` to its shard and wakes it.
    pub fn send(&self, msg: Message) {
        deliver(&self.peers, msg);
    }

    /// Shards there are.
    pub fn shards(&self) -> u16 {
        self.peers.len() as u16
    }
}

/// The Redis thread's end: what the shards send to the store, and the way back.
pub struct StoreEnd {
    pub inbox: Receiver<Message>,
    pub outbox: Outbox,
}

/// Links for every shard.
pub struct Mesh;

impl Mesh {
    /// One link per shard; `None` for a single shard that shares nothing (nothing to
    /// exchange). With `cluster`, every shard gets a link and the store's end is returned.
    pub fn build(
        shards: usize,
        cluster: Option<Cluster>,
    ) -> std::io::Result<(Vec<Option<ShardLink>>, Option<StoreEnd>)> {
        if shards <= 1 && cluster.is_none() {
            return Ok(((0..shards.max(1)).map(|_| None).collect(), None));
        }
        let shards = shards.max(1);
        let mut inboxes = Vec::with_capacity(shards);
        let mut peers = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (tx, rx) = crossbeam_channel::unbounded();
            let (ours, theirs) = UnixStream::pair()?;
            theirs.set_nonblocking(true)?;
            ours.set_nonblocking(true)?;
            inboxes.push((rx, ours));
            peers.push(Peer {
                tx,
                wake: Arc::new(theirs),
            });
        }
        let (upstream, store) = match cluster {
            Some(_) => {
                let (tx, rx) = crossbeam_channel::unbounded();
                let end = StoreEnd {
                    inbox: rx,
                    outbox: Outbox {
                        peers: peers.clone(),
                    },
                };
                (Some(tx), Some(end))
            }
            None => (None, None),
        };
        let links = inboxes
            .into_iter()
            .enumerate()
            .map(|(i, (rx, wake))| {
                Some(ShardLink {
                    shard: i as u16,
                    inbox: rx,
                    wake: std::cell::Cell::new(Some(wake)),
                    peers: peers.clone(),
                    upstream: upstream.clone(),
                    cluster,
                })
            })
            .collect();
        Ok((links, store))
    }
}

impl ShardLink {
    /// Sends `msg` to its shard and wakes it, or hands it to the Redis thread.
    pub fn send(&self, msg: Message) {
        if msg.to() == UPSTREAM {
            if let Some(up) = &self.upstream {
                // The Redis thread takes what is queued at its next sync; no wake needed.
                let _ = up.send(msg);
            }
            return;
        }
        deliver(&self.peers, msg);
    }
}

fn deliver(peers: &[Peer], msg: Message) {
    let Some(peer) = peers.get(msg.to() as usize) else {
        return;
    };
    if peer.tx.send(msg).is_ok() {
        // Non-blocking: a full socket means a wake-up is pending anyway.
        let _ = (&*peer.wake).write(&[1]);
    }
}

//! How shards reach each other's limiters: one crossbeam channel per shard for the
//! messages, and one socket pair per shard to wake it (a byte written by the sender; the
//! shard awaits its end of the pair in its own runtime, so a message is taken in at once
//! without polling).

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use tollgate_limits::Message;

/// What one shard holds to talk to all of them.
pub struct ShardLink {
    pub shard: u16,
    pub inbox: Receiver<Message>,
    /// This shard's end to await (taken by its runtime when it starts).
    pub wake: std::cell::Cell<Option<UnixStream>>,
    peers: Vec<Peer>,
}

struct Peer {
    tx: Sender<Message>,
    wake: Arc<UnixStream>,
}

/// Links for every shard.
pub struct Mesh;

impl Mesh {
    /// One link per shard; `None` for a single shard (nothing to exchange).
    pub fn build(shards: usize) -> std::io::Result<Vec<Option<ShardLink>>> {
        if shards <= 1 {
            return Ok((0..shards.max(1)).map(|_| None).collect());
        }
        let mut inboxes = Vec::with_capacity(shards);
        let mut peers = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (tx, rx) = crossbeam_channel::unbounded();
            let (ours, theirs) = UnixStream::pair()?;
            theirs.set_nonblocking(true)?;
            ours.set_nonblocking(true)?;
            inboxes.push((rx, ours));
            peers.push((tx, Arc::new(theirs)));
        }
        Ok(inboxes
            .into_iter()
            .enumerate()
            .map(|(i, (rx, wake))| {
                Some(ShardLink {
                    shard: i as u16,
                    inbox: rx,
                    wake: std::cell::Cell::new(Some(wake)),
                    peers: peers
                        .iter()
                        .map(|(tx, w)| Peer {
                            tx: tx.clone(),
                            wake: w.clone(),
                        })
                        .collect(),
                })
            })
            .collect())
    }
}

impl ShardLink {
    /// Sends `msg` to its shard and wakes it.
    pub fn send(&self, msg: Message) {
        let Some(peer) = self.peers.get(msg.to() as usize) else {
            return;
        };
        if peer.tx.send(msg).is_ok() {
            // Non-blocking: a full socket means a wake-up is pending anyway.
            let _ = (&*peer.wake).write(&[1]);
        }
    }
}

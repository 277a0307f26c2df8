//! `limit-concurrency`'s line (Tollgate's `queue-timeout`): per key, on one shard, first
//! come first served. A request in line sleeps until it is at the head and a slot may
//! have freed — a release on this shard, a message from another shard (whose releases
//! reach this one that way), the one ahead leaving — then tries again. It leaves when it
//! got a slot, when its time is up, or when its connection goes (the [`Place`] guard).
//! New requests for a key with a line do not take a slot before it (see
//! [`SlotQueues::ahead`]). Nothing here runs unless a policy has a queue: a shard without
//! lines checks one empty map per acquire.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct SlotQueues {
    lines: RefCell<HashMap<Box<str>, VecDeque<Waiter>>>,
    next: Cell<u64>,
}

struct Waiter {
    ticket: u64,
    waker: Option<Waker>,
    /// Told to try again (it is at the head and a slot may be free).
    woken: bool,
}

impl SlotQueues {
    /// A place at the end of `key`'s line, unless `len` requests wait in it already.
    pub fn join<'q>(&'q self, key: &str, len: u32) -> Option<Place<'q>> {
        let mut lines = self.lines.borrow_mut();
        if lines.get(key).is_some_and(|l| l.len() >= len as usize) {
            return None;
        }
        let ticket = self.next.get();
        self.next.set(ticket + 1);
        lines.entry(key.into()).or_default().push_back(Waiter {
            ticket,
            waker: None,
            woken: false,
        });
        Some(Place {
            queues: self,
            key: key.into(),
            ticket,
        })
    }

    /// Whether requests wait in `key`'s line ahead of `ticket` (`None`: not in line).
    #[inline]
    pub fn ahead(&self, key: &str, ticket: Option<u64>) -> bool {
        let lines = self.lines.borrow();
        if lines.is_empty() {
            return false;
        }
        match (lines.get(key).and_then(VecDeque::front), ticket) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(head), Some(t)) => head.ticket != t,
        }
    }

    /// A slot of `key` was given back on this shard: its head tries again.
    pub fn wake_head(&self, key: &str) {
        let mut lines = self.lines.borrow_mut();
        if let Some(line) = lines.get_mut(key) {
            wake(line.front_mut());
        }
    }

    /// Another shard said something (perhaps a release): every head tries again.
    pub fn wake_heads(&self) {
        let mut lines = self.lines.borrow_mut();
        for line in lines.values_mut() {
            wake(line.front_mut());
        }
    }

    /// Requests waiting, over all keys.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lines.borrow().values().map(VecDeque::len).sum()
    }

    fn leave(&self, key: &str, ticket: u64) {
        let mut lines = self.lines.borrow_mut();
        let Some(line) = lines.get_mut(key) else {
            return;
        };
        let was_head = line.front().is_some_and(|w| w.ticket == ticket);
        line.retain(|w| w.ticket != ticket);
        if line.is_empty() {
            lines.remove(key);
        } else if was_head {
            wake(line.front_mut());
        }
    }
}

fn wake(w: Option<&mut Waiter>) {
    if let Some(w) = w {
        w.woken = true;
        if let Some(waker) = w.waker.take() {
            waker.wake();
        }
    }
}

/// A request's place in a line; leaves it when dropped.
pub struct Place<'q> {
    queues: &'q SlotQueues,
    key: Box<str>,
    pub ticket: u64,
}

impl Place<'_> {
    /// Until this place is told to try again (the caller bounds it with a timeout).
    pub async fn turn(&self) {
        std::future::poll_fn(|cx| {
            let mut lines = self.queues.lines.borrow_mut();
            let place = lines
                .get_mut(&*self.key)
                .and_then(|l| l.iter_mut().find(|w| w.ticket == self.ticket));
            match place {
                None => Poll::Ready(()),
                Some(w) if w.woken => {
                    w.woken = false;
                    Poll::Ready(())
                }
                Some(w) => {
                    w.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.queues.leave(&self.key, self.ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_come_first_served_and_bounded() {
        let q = SlotQueues::default();
        assert!(!q.ahead("k", None));
        let a = q.join("k", 2).unwrap();
        let b = q.join("k", 2).unwrap();
        assert!(q.join("k", 2).is_none(), "the line is full");
        assert!(q.ahead("k", None), "a newcomer waits behind the line");
        assert!(!q.ahead("k", Some(a.ticket)), "the head may take a slot");
        assert!(q.ahead("k", Some(b.ticket)));
        assert!(!q.ahead("other", None));
        drop(a);
        assert!(!q.ahead("k", Some(b.ticket)), "b is the head now");
        drop(b);
        assert_eq!(q.waiting(), 0);
        assert!(!q.ahead("k", None));
    }
}

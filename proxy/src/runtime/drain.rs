//! Shard-local connection tracking for graceful shutdown.
//!
//! Busy connections check `draining()` after each response and close. Idle keep-alive
//! connections are parked in a slab of raw fds while they wait for the next request;
//! `begin_drain` shuts their read side down so the pending read returns EOF at once.
//! Register/unregister are O(1) and allocation-free once the slab has grown.

use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;

#[derive(Default)]
pub struct Drain {
    draining: Cell<bool>,
    active: Cell<usize>,
    idle: RefCell<Slab>,
}

#[derive(Default)]
struct Slab {
    slots: Vec<Option<RawFd>>,
    free: Vec<usize>,
}

/// Key of a parked idle connection.
#[derive(Clone, Copy, Debug)]
pub struct IdleKey(usize);

impl Drain {
    pub fn draining(&self) -> bool {
        self.draining.get()
    }

    pub fn active(&self) -> usize {
        self.active.get()
    }

    pub fn conn_opened(&self) {
        self.active.set(self.active.get() + 1);
    }

    pub fn conn_closed(&self) {
        debug_assert!(self.active.get() > 0, "active connection count underflow");
        self.active.set(self.active.get().saturating_sub(1));
    }

    /// Parks an idle connection; returns `None` when already draining (close instead).
    pub fn park_idle(&self, fd: RawFd) -> Option<IdleKey> {
        if self.draining.get() {
            return None;
        }
        let mut slab = self.idle.borrow_mut();
        let key = match slab.free.pop() {
            Some(k) => {
                slab.slots[k] = Some(fd);
                k
            }
            None => {
                slab.slots.push(Some(fd));
                slab.slots.len() - 1
            }
        };
        Some(IdleKey(key))
    }

    pub fn unpark(&self, key: IdleKey) {
        let mut slab = self.idle.borrow_mut();
        if let Some(slot) = slab.slots.get_mut(key.0) {
            *slot = None;
            slab.free.push(key.0);
        }
    }

    /// Starts draining: busy connections close after their response; idle ones now.
    pub fn begin_drain(&self) {
        self.draining.set(true);
        let slab = self.idle.borrow();
        for fd in slab.slots.iter().flatten() {
            // SAFETY: the fd belongs to a live connection parked in this shard (it is
            // removed from the slab before that connection closes its socket), and
            // shutdown(2) only changes socket state; it does not close or reuse the fd.
            unsafe {
                libc::shutdown(*fd, libc::SHUT_RD);
            }
        }
    }
}

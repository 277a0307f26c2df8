//! Per-request working buffers, pooled per shard.
//!
//! An idle keep-alive connection holds only its small read buffer; the larger buffers
//! a request needs while it is in flight (upstream head, upstream read buffer, header
//! span tables) are checked out of the shard's pool and returned when the exchange ends,
//! so the steady state allocates nothing and idle connections stay cheap.

use std::cell::RefCell;

use tollgate_core::routing::ParamMatch;

use crate::http::v1::HeaderSpan;

/// Capacity of the outgoing-head buffer; grows only for unusually large heads.
const OUT_CAPACITY: usize = 8 * 1024;
/// Capacity of the buffer that reads from the backend.
pub const UPSTREAM_BUF: usize = 16 * 1024;
const MAX_PARAMS: usize = 16;

pub struct Scratch {
    /// The head being sent (upstream request, or response to the client).
    pub out: Vec<u8>,
    /// Bytes read from the backend.
    pub ubuf: Vec<u8>,
    pub req_headers: Vec<HeaderSpan>,
    pub resp_headers: Vec<HeaderSpan>,
    pub params: Vec<ParamMatch>,
}

impl Scratch {
    fn new(max_headers: usize) -> Scratch {
        Scratch {
            out: Vec::with_capacity(OUT_CAPACITY),
            ubuf: Vec::with_capacity(UPSTREAM_BUF),
            req_headers: Vec::with_capacity(max_headers + 1),
            resp_headers: Vec::with_capacity(max_headers + 1),
            params: Vec::with_capacity(MAX_PARAMS),
        }
    }

    fn reset(&mut self) {
        self.out.clear();
        self.ubuf.clear();
        self.req_headers.clear();
        self.resp_headers.clear();
        self.params.clear();
    }
}

pub struct ScratchPool {
    free: RefCell<Vec<Scratch>>,
    max_headers: usize,
}

impl ScratchPool {
    pub fn new(max_headers: usize) -> ScratchPool {
        ScratchPool {
            free: RefCell::new(Vec::new()),
            max_headers,
        }
    }

    pub fn take(&self) -> Scratch {
        self.free
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| Scratch::new(self.max_headers))
    }

    pub fn put(&self, mut s: Scratch) {
        s.reset();
        // A buffer that grew far beyond its normal size is dropped rather than kept, and
        // so is one that a timed-out read left empty (its storage went with the read).
        let out_ok = (OUT_CAPACITY..=4 * OUT_CAPACITY).contains(&s.out.capacity());
        let ubuf_ok = (UPSTREAM_BUF..=4 * UPSTREAM_BUF).contains(&s.ubuf.capacity());
        if out_ok && ubuf_ok {
            self.free.borrow_mut().push(s);
        }
    }
}

/// Per-request arenas for the policy path, reused: resetting keeps the arena's memory,
/// so steady-state requests allocate nothing on the global heap.
#[derive(Default)]
pub struct ArenaPool {
    free: RefCell<Vec<bumpalo::Bump>>,
}

/// An arena that grew past this after a request is dropped instead of kept.
const MAX_KEPT_ARENA: usize = 1 << 20;

impl ArenaPool {
    pub fn take(&self) -> bumpalo::Bump {
        self.free
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| bumpalo::Bump::with_capacity(16 * 1024))
    }

    pub fn put(&self, mut arena: bumpalo::Bump) {
        if arena.allocated_bytes() <= MAX_KEPT_ARENA {
            arena.reset();
            self.free.borrow_mut().push(arena);
        }
    }
}

/// Client read buffers, lent to connections only while they read or hold a request: an
/// idle keep-alive connection waits for readability without one, so thousands of idle
/// connections do not each keep a buffer. Taking one back in steady state reuses a
/// returned buffer (no allocation).
pub struct BufPool {
    free: RefCell<Vec<Vec<u8>>>,
    size: usize,
}

/// Buffers kept for reuse; more than this many returned at once are freed.
const MAX_POOLED_BUFS: usize = 1024;

impl BufPool {
    pub fn new(size: usize) -> BufPool {
        BufPool {
            free: RefCell::new(Vec::new()),
            size,
        }
    }

    pub fn take(&self) -> Vec<u8> {
        self.free
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.size))
    }

    /// Gives a buffer back; one that grew past 4× its size (a big head) is freed.
    pub fn put(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut free = self.free.borrow_mut();
        if buf.capacity() >= self.size
            && buf.capacity() <= 4 * self.size
            && free.len() < MAX_POOLED_BUFS
        {
            free.push(buf);
        }
    }
}

//! A global allocator that counts heap allocations (`alloc` and `realloc`), for the
//! tests and benchmarks that check "0 allocations per request" and report allocations
//! per iteration. Dev-dependency only: a test or bench binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: tollgate_alloc_count::Counting = tollgate_alloc_count::Counting;
//! ```
//!
//! It also keeps the heap bytes in use ([`live_bytes`]), for tests that bound memory.
//!
//! Two counts: process-wide ([`total`], minus threads that called [`exclude_this_thread`],
//! e.g. a test's own client), and this thread's ([`this_thread`]), for measuring one
//! thread while harness threads allocate at will.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

static TOTAL: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static EXCLUDED: Cell<bool> = const { Cell::new(false) };
    static MINE: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator also runs while a thread's locals are torn down.
    let _ = MINE.try_with(|m| m.set(m.get() + 1));
    if !EXCLUDED.try_with(Cell::get).unwrap_or(false) {
        TOTAL.fetch_add(1, Ordering::Relaxed);
    }
}

/// The counting allocator (the system allocator underneath).
pub struct Counting;

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as u64, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }
}

/// Allocations so far in the process, not counting excluded threads.
pub fn total() -> u64 {
    TOTAL.load(Ordering::SeqCst)
}

/// Heap bytes allocated and not yet freed, process-wide.
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// Allocations so far on this thread.
pub fn this_thread() -> u64 {
    MINE.with(Cell::get)
}

/// This thread's allocations no longer count in [`total`] (a test's own client).
pub fn exclude_this_thread() {
    EXCLUDED.with(|e| e.set(true));
}

/// Process-wide allocations per call of `f`, over `n` calls.
pub fn per_call(n: u64, mut f: impl FnMut()) -> f64 {
    let before = total();
    for _ in 0..n {
        f();
    }
    (total() - before) as f64 / n as f64
}

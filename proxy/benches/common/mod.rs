//! What the proxy's benchmarks share: a global allocator that counts allocations, so
//! each benchmark can report heap allocations per iteration beside its time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Counting;
pub static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract, forwarded.
        unsafe { System.dealloc(p, l) }
    }
}

/// Heap allocations per call of `f`, over `n` calls.
pub fn allocs_per<F: FnMut()>(n: u64, mut f: F) -> f64 {
    let before = ALLOCS.load(Ordering::SeqCst);
    for _ in 0..n {
        f();
    }
    (ALLOCS.load(Ordering::SeqCst) - before) as f64 / n as f64
}

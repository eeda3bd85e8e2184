//! A counting global allocator for the allocation tests (`op_allocs.rs`,
//! `futures_io_allocs.rs`): the system allocator, counting the allocations each OS thread
//! makes, so a test measures its own loop's allocations between two points whatever the
//! test runner's other threads do. A test binary installs it with
//! `#[global_allocator] static ALLOC: Counting = Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting allocations (and reallocations) per OS thread.
#[derive(Debug)]
pub struct Counting;

thread_local! {
    /// Allocations (and reallocations) made by this OS thread.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation on this thread (never during thread-local teardown).
fn count() {
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call goes straight to `System`; the count is a thread-local cell with a
// `const` initializer, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made by this OS thread so far (0 unless [`Counting`] is the global
/// allocator).
pub fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

//! Live heap bytes: a counting global allocator, and `--heap-report`, the way a
//! benchmark or a test reads a running server's count from outside.
//!
//! [`Counting`] wraps [`System`] and adds one relaxed atomic add or subtract per
//! allocation, deallocation and reallocation: the bytes asked for and not yet given
//! back. It is not a global allocator until a binary says so (see [`Counting`]);
//! `echo_server` does, always (the cost is one uncontended atomic per allocation, and
//! an idle connection allocates nothing). The count is of bytes requested, not of the
//! allocator's own overhead (glibc adds 8–16 B of header and rounding per block), nor
//! of memory outside the heap (thread stacks, the kernel's socket buffers).
//!
//! The report: [`report_on_stdin`] answers each line read from stdin with one line
//! `heap_live_bytes N` on stdout, until stdin ends. A question and its answer make the
//! reading synchronous (no guessing which periodic line is fresh) and need no signal
//! handler (which could do no I/O, and which `std` cannot install). The answering
//! thread allocates only at its start, so a reading counts what the server holds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};

/// Bytes allocated through [`Counting`] and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The word that starts a report line: `heap_live_bytes N`.
pub const REPORT: &str = "heap_live_bytes";

/// The system allocator, counting live bytes (see the module docs).
///
/// # Examples
///
/// ```
/// use sock_examples::heap::{self, Counting};
///
/// #[global_allocator]
/// static ALLOC: Counting = Counting;
///
/// let before = heap::live_bytes();
/// let buf = vec![0u8; 4096];
/// assert_eq!(heap::live_bytes() - before, 4096);
/// drop(buf);
/// assert_eq!(heap::live_bytes(), before);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Counting;

/// The bytes allocated through [`Counting`] and not yet freed (0 unless [`Counting`] is
/// the global allocator).
///
/// # Examples
///
/// ```
/// // This doctest's allocator is the plain system one: nothing is counted.
/// assert_eq!(sock_examples::heap::live_bytes(), 0);
/// ```
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// SAFETY: every call goes to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the counter is bookkeeping beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (`layout` has a non-zero size).
        let p = unsafe { System.alloc(layout) };
        added(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        added(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (so `System`) gave out, with
        // the layout it was given out with.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract for a block `System` gave out.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // One add of the difference, wrapping when the block shrank.
            LIVE.fetch_add(new_size.wrapping_sub(layout.size()), Ordering::Relaxed);
        }
        p
    }
}

/// Counts `size` bytes if the allocation at `p` succeeded.
fn added(p: *mut u8, size: usize) {
    if !p.is_null() {
        LIVE.fetch_add(size, Ordering::Relaxed);
    }
}

/// Starts a thread that answers every line of stdin with `heap_live_bytes N` on
/// stdout ([`live_bytes`]); it ends when stdin ends or stdout fails.
///
/// # Panics
///
/// If the thread cannot be started.
pub fn report_on_stdin() -> JoinHandle<()> {
    thread::Builder::new()
        .name("heap-report".to_owned())
        .spawn(|| {
            let _ = answer(io::stdin().lock(), io::stdout());
        })
        .expect("starting the heap-report thread")
}

/// Writes a report line to `output` for every line of `input`, until `input` ends.
///
/// # Errors
///
/// Reading `input` or writing `output` failed.
///
/// # Examples
///
/// ```
/// let mut out = Vec::new();
/// sock_examples::heap::answer(&b"?\n?\n"[..], &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "heap_live_bytes 0\n".repeat(2));
/// ```
pub fn answer(mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut line = String::with_capacity(64);
    while input.read_line(&mut line)? > 0 {
        line.clear();
        writeln!(output, "{REPORT} {}", live_bytes())?;
        output.flush()?;
    }
    Ok(())
}

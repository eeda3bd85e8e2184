//! `--heap`: many scenarios in one process under a counting allocator, to see that the
//! live heap stays flat once warm (nothing accumulates per scenario).
//!
//! The allocator counts live bytes for the whole program (a relaxed atomic add per
//! allocation, negligible beside the I/O); only this mode reports them, after scenarios
//! 100, 500 and 1000 (and the last). Growth between the first report and the last of
//! more than a small slack is reported as a leak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use crate::child::{LIMIT, replay_command, run_scenario};
use crate::plan::{Plan, Skips};
use crate::report;
use crate::watchdog;

/// The system allocator, counting live bytes.
pub(crate) struct Counting;

/// Live heap bytes.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments, which upholds
// the `GlobalAlloc` contract; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on unchanged (non-zero size, as required).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: `ptr` came from `System` with `layout`; the caller guarantees `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes allowed to appear between the first report and the last (caches that settle
/// late: a slab's next doubling, the stdout buffer).
const SLACK: isize = 256 * 1024;

/// Runs `count` scenarios from `start` in this process; gives the exit code.
pub(crate) fn run(count: u64, start: u64, skips: &Skips) -> i32 {
    watchdog::watch_self(LIMIT);
    let mut bad = 0u64;
    let mut first = None;
    let mut last = 0isize;
    for i in 0..count {
        let seed = start + i;
        let plan = Plan::new(seed, skips);
        watchdog::watch(Some(seed));
        let violations = run_scenario(&plan);
        watchdog::watch(None);
        if !violations.is_empty() {
            bad += 1;
            println!("chaos: violation in {}", plan.headline());
            println!("  replay: {}", replay_command(seed, skips));
        }
        report::clear_ops();
        let n = i + 1;
        if [100, 500].contains(&n) || n % 1000 == 0 || n == count {
            last = LIVE.load(Ordering::Relaxed);
            first.get_or_insert(last);
            println!("heap: {last} live bytes after {n} scenarios");
        }
    }
    let grew = last - first.unwrap_or(last);
    match grew > SLACK {
        true => println!("heap: grew by {grew} bytes after the first report: NOT flat"),
        false => println!("heap: flat (grew by {grew} bytes after the first report)"),
    }
    println!("chaos: {count} scenarios, {bad} violations");
    i32::from(bad > 0 || grew > SLACK)
}

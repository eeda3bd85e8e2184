//! [`prefetch`]: a hint to start loading a cache line before it is needed.
//!
//! A million sleeping tasks are woken in deadline order, so in random memory order: each
//! wake, each timer slot and each task-list slot would wait for its own cache miss. The
//! loop knows the next few ahead of time (a batch of expired timers, the run queue), so it
//! asks for their lines early and the misses overlap instead of following one another.

/// Asks the CPU to load the cache line holding `at` (never dereferenced, so any address
/// will do; a no-op where the architecture has no stable prefetch instruction).
#[inline(always)]
pub(crate) fn prefetch<T>(at: *const T) {
    // SAFETY: SSE, the feature `_mm_prefetch` needs, is part of the x86_64 baseline; a
    // prefetch never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

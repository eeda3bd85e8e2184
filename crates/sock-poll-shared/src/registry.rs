//! The pollers alive in this process, by raw handle, so a handle handed to another
//! thread is adopted as the *same* poller (same posted-packet queue, same lifetime)
//! instead of a second owner that would close it twice.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::poller::Inner;

/// Every live poller: (raw handle as an integer, the poller).
static LIVE: Mutex<Vec<(usize, Weak<Inner>)>> = Mutex::new(Vec::new());

/// Records a new poller under its raw handle.
pub(crate) fn insert(raw: usize, inner: &Arc<Inner>) {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.retain(|(_, w)| w.strong_count() > 0);
    live.push((raw, Arc::downgrade(inner)));
}

/// The live poller with this raw handle, if any.
pub(crate) fn find(raw: usize) -> Option<Arc<Inner>> {
    let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.iter()
        .filter(|(r, _)| *r == raw)
        .find_map(|(_, w)| w.upgrade())
}

/// Forgets the poller with this raw handle (it is being dropped: its `Weak` no longer
/// upgrades). Called before the handle is closed, so a reused handle value never
/// finds a stale entry.
pub(crate) fn remove(raw: usize) {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.retain(|(r, w)| *r != raw || w.strong_count() > 0);
}

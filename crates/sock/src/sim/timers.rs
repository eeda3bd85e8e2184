//! The drive loop's queue of host loops' next deadlines, so that a round of the drive
//! loop costs work for the hosts that have some, not a look at every host.
//!
//! Each host loop's next deadline (a timer, or "now" for a ready task) is cached here
//! and refreshed whenever the drive loop polls that host, and for every host when a
//! park enters the drive loop (a task spawned from outside any loop arms no wake-up, so
//! the running loop's park re-reads them all once). Hosts woken from another loop are
//! named by their unparkers in a shared list. A round then asks for the earliest
//! deadline and for the hosts due now, both in `O(log n)`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::HostId;

/// Host loops' next deadlines, by host and by time.
#[derive(Debug, Default)]
pub(crate) struct HostTimers {
    /// Each host's cached next deadline.
    by_host: BTreeMap<HostId, Instant>,
    /// The same entries, ordered by (deadline, host).
    by_time: BTreeSet<(Instant, HostId)>,
    /// How many host deadlines the drive loop has read (a measure of its work).
    reads: u64,
}

/// Hosts whose unparker fired (a task woken from another loop), for the drive loop.
#[derive(Clone, Debug, Default)]
pub(crate) struct WokenHosts(Arc<Mutex<BTreeSet<HostId>>>);

impl HostTimers {
    /// Records `host`'s next deadline as read from its loop (`None`: no timer, no task).
    pub(crate) fn set(&mut self, host: HostId, next: Option<Instant>) {
        self.reads += 1;
        if let Some(old) = self.by_host.remove(&host) {
            self.by_time.remove(&(old, host));
        }
        if let Some(at) = next {
            self.by_host.insert(host, at);
            self.by_time.insert((at, host));
        }
    }

    /// The earliest cached deadline of any host.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Whether `host`'s cached deadline is at or before `now`.
    pub(crate) fn is_due(&self, host: HostId, now: Instant) -> bool {
        self.by_host.get(&host).is_some_and(|at| *at <= now)
    }

    /// The hosts whose cached deadline is at or before `now`.
    pub(crate) fn due(&self, now: Instant) -> impl Iterator<Item = HostId> + '_ {
        self.by_time
            .iter()
            .take_while(move |(at, _)| *at <= now)
            .map(|(_, h)| *h)
    }

    /// How many deadlines have been read so far.
    pub(crate) fn reads(&self) -> u64 {
        self.reads
    }
}

impl WokenHosts {
    /// Notes that `host` was woken (called from its unparker, on any thread).
    pub(crate) fn push(&self, host: HostId) {
        self.lock().insert(host);
    }

    /// Takes every host noted so far.
    pub(crate) fn take(&self) -> BTreeSet<HostId> {
        std::mem::take(&mut *self.lock())
    }

    /// Whether a host other than `me` is noted (the list is left as it is).
    pub(crate) fn any_but(&self, me: HostId) -> bool {
        self.lock().iter().any(|h| *h != me)
    }

    /// The list, locked (a panic while it was held leaves it usable).
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<HostId>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

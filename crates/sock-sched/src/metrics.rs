//! [`SchedMetrics`]: what a loop's scheduler counts — threads, timers, polls, time busy
//! and parked — and [`Counters`], the cells behind it.
//!
//! The counters are plain `Cell`s of the loop (it is one OS thread's): a poll adds one
//! to a number, a blocking wait adds its length to the time parked. Time is read where
//! the loop already reads it before a blocking wait (`park_until_work`), plus once after
//! that wait — never per operation; a wait with a zero timeout (the poll between two
//! batches of work) is counted but not timed. A loop looks for events with a zero
//! timeout before it waits, and when that look finds work, it is the turn's poll and
//! nothing is timed: a busy loop's turns read the clock only for its timers, if any. Busy time is derived at the snapshot (the
//! time since the loop was made, less the time parked), so the wait adds one
//! subtraction, and a loop that never has to wait still shows its work.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::executor::Executor;

/// A snapshot of one loop's scheduler: its threads, timers, waits and time (see
/// [`Executor::metrics`](crate::Executor::metrics)). The facade's `sock::task::Metrics`
/// adds the sockets' counters to it.
///
/// # Examples
///
/// ```
/// use sock::sched::Executor;
///
/// let ex = Executor::new();
/// ex.spawn(async {});
/// let m = ex.metrics();
/// assert_eq!((m.threads_alive, m.threads_runnable), (1, 1));
/// ex.start();
/// assert_eq!(ex.metrics().threads_alive, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedMetrics {
    /// Threads started and not finished (spawned ones count from their spawn; a
    /// `newthread` from its first resume).
    pub threads_alive: usize,
    /// Alive threads woken and queued to run in the loop's next batch (wakes from other
    /// OS threads count once the loop has taken them in).
    pub threads_runnable: usize,
    /// Alive threads that wait — for I/O, a timer, a join, a resume — neither queued
    /// nor running now.
    pub threads_suspended: usize,
    /// Timers armed: sleeps and deadlines that waited, and callbacks (`run_after`, …).
    pub timers_armed: usize,
    /// Waits on the park (the reactor's poller in the facade): one per loop turn that
    /// asked the OS for events, zero-timeout waits between two batches of work included.
    pub polls: u64,
    /// Time the loop did not spend blocked in its park since it was made: running
    /// threads and timers — and, for a loop not always inside `run`/`start` (a host
    /// driving it with `poll`, a loop made before it was first run), the time between
    /// those calls too.
    pub busy: Duration,
    /// Time the loop spent blocked in its park waiting for events or timers.
    pub parked: Duration,
}

impl SchedMetrics {
    /// The share of the time the loop ran, from 0.0 to 1.0 (0.0 before any time passed).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = sock::sched::Executor::new().metrics();
    /// assert!((0.0..=1.0).contains(&m.busy_ratio()));
    /// ```
    pub fn busy_ratio(&self) -> f64 {
        busy_ratio(self.busy, self.parked)
    }
}

impl Executor {
    /// A snapshot of the loop's scheduler counters (see [`SchedMetrics`]). Cheap: it
    /// reads the loop's cells and the clock once; the counters themselves cost the loop
    /// a few instructions per wait, nothing per operation.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// ex.run(sock::sched::sleep(Duration::from_millis(2)));
    /// let m = ex.metrics();
    /// assert!(m.polls >= 1);
    /// assert!(m.parked > Duration::ZERO);
    /// ```
    pub fn metrics(&self) -> SchedMetrics {
        let inner = &self.inner;
        let alive = inner.alive.get();
        let runnable = inner.runnable().min(alive);
        let running = usize::from(inner.current.get().is_some());
        let (busy, parked) = inner.counters.times(inner.now());
        SchedMetrics {
            threads_alive: alive,
            threads_runnable: runnable,
            threads_suspended: alive.saturating_sub(runnable + running),
            timers_armed: inner.timers.borrow().armed(),
            polls: inner.counters.polls(),
            busy,
            parked,
        }
    }
}

/// `busy / (busy + parked)`, 0.0 when both are zero.
pub(crate) fn busy_ratio(busy: Duration, parked: Duration) -> f64 {
    let total = (busy + parked).as_secs_f64();
    if total == 0.0 {
        0.0
    } else {
        busy.as_secs_f64() / total
    }
}

/// The loop's counters (see the module docs).
pub(crate) struct Counters {
    /// Waits on the park.
    polls: Cell<u64>,
    /// Time blocked.
    parked: Cell<Duration>,
    /// When the loop was made: the time since, less the time parked, was busy.
    origin: Instant,
}

impl Counters {
    /// Counters of a loop made at `now`.
    pub(crate) fn new(now: Instant) -> Counters {
        Counters {
            polls: Cell::new(0),
            parked: Cell::new(Duration::ZERO),
            origin: now,
        }
    }

    /// Counts a wait that is not timed (a zero timeout between two batches of work).
    #[inline]
    pub(crate) fn poll(&self) {
        self.polls.set(self.polls.get() + 1);
    }

    /// Counts a blocking wait from `start` to `end`.
    #[inline]
    pub(crate) fn waited(&self, start: Instant, end: Instant) {
        self.poll();
        let parked = self.parked.get() + end.saturating_duration_since(start);
        self.parked.set(parked);
    }

    /// Waits so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    /// Busy and parked time at `now`: busy is the time since the loop was made that
    /// it did not spend parked.
    pub(crate) fn times(&self, now: Instant) -> (Duration, Duration) {
        let parked = self.parked.get();
        let total = now.saturating_duration_since(self.origin);
        (total.saturating_sub(parked), parked)
    }
}

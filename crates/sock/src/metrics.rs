//! [`Metrics`]: a snapshot of a loop — its threads, sockets, timers, waits, time, and
//! what went wrong cheaply (timeouts, shed connections) — and the per-loop cells behind
//! the socket layer's share of it.
//!
//! Stable and cheap: every counter is a plain `Cell` of the loop that owns it, bumped
//! where the event happens, with no atomics, no syscalls and no allocation per
//! operation. The scheduler counts threads, timers, polls and time (`sock-sched`'s
//! [`SchedMetrics`]); the reactor counts registrations, events and parked operations
//! (`sock-poll`'s `ReactorMetrics`); the facade counts expired deadlines and shed
//! connections (here) and asks the resolver pool for its queue. A snapshot combines
//! them. The shared-poller mode keeps its own counters ([`SharedLoop::metrics`]), which
//! are atomics, as several OS threads bump them.
//!
//! [`SharedLoop::metrics`]: crate::shared::SharedLoop::metrics

use std::cell::Cell;
use std::fmt;
use std::ops::Add;
use std::time::Duration;

use sock_sched::{Executor, SchedMetrics};

use crate::runtime::Loop;

/// A snapshot of a loop's counters: [`Loop::metrics`], [`sock::metrics`](crate::metrics)
/// (the current loop), summed over loops by [`LoopThreads::metrics`] and
/// [`SharedLoop::metrics`]. A plain `Copy` value: take two and subtract to get rates.
///
/// Counters (`polls`, `events`, `ops_parked`, `deadlines_expired`, `accepts_shed`,
/// `busy`, `parked`) only grow over the loop's life; the others are levels at the time
/// of the snapshot.
///
/// [`LoopThreads::metrics`]: crate::loops::LoopThreads::metrics
/// [`SharedLoop::metrics`]: crate::shared::SharedLoop::metrics
///
/// # Examples
///
/// ```
/// use sock::{Expires, Family};
/// use std::time::Duration;
///
/// sock::run(async {
///     let udp = sock::udp(Family::INET)?;
///     udp.bind("127.0.0.1", 0)?;
///     let mut buf = [0u8; 8];
///     let _ = udp.recv(&mut buf).timeout(Duration::from_millis(5)).await; // parks, expires
///     let m = sock::metrics();
///     assert_eq!((m.ops_parked, m.deadlines_expired), (1, 1));
///     assert_eq!(m.sockets, 1);
///     println!("{m}"); // one line: alive=1 runnable=0 … shed=0 lookups=0
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Loops summed in this snapshot (1 for one loop; the worker threads of a shared
    /// loop count as one loop).
    pub loops: usize,
    /// Threads (tasks) started and not finished.
    pub threads_alive: usize,
    /// Alive threads woken and queued to run.
    pub threads_runnable: usize,
    /// Alive threads waiting — for I/O, a timer, a join, a resume — neither queued nor
    /// running.
    pub threads_suspended: usize,
    /// Sockets registered in the loop's poller (listeners, connections, datagram
    /// sockets not closed yet).
    pub sockets: usize,
    /// Timers armed: sleeps, deadlines whose operation waited, callbacks.
    pub timers_armed: usize,
    /// Waits on the kernel poller (`epoll_wait`, kqueue, IOCP): one per loop turn that
    /// asked for events, zero-timeout ones between two batches of work included.
    pub polls: u64,
    /// Readiness events the poller delivered to sockets (see
    /// [`events_per_poll`](Metrics::events_per_poll)).
    pub events: u64,
    /// Time the loop ran: from the end of one blocking wait to the start of the next
    /// (the time since the last wait included). See
    /// [`busy_ratio`](Metrics::busy_ratio).
    pub busy: Duration,
    /// Time the loop was blocked in the poller waiting for events or timers.
    pub parked: Duration,
    /// Operations that parked: a syscall said would-block and the operation stored its
    /// task as the socket's waiter. An operation that waits twice counts twice; one that
    /// completes without waiting counts nothing.
    pub ops_parked: u64,
    /// Operations (and `sock::timeout`/`deadline` scopes) that a deadline ended with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout).
    pub deadlines_expired: u64,
    /// Pending connections `accept` reset and dropped because the process was out of
    /// fds (`EMFILE`/`ENFILE`; see [`Tcp::accept`](crate::Tcp::accept)).
    pub accepts_shed: u64,
    /// Host-name lookups queued or running in the resolver pool. The pool serves the
    /// whole process: every loop reports the same number, and a sum counts it once.
    pub lookups_queued: usize,
}

impl Metrics {
    /// Events per poll: how much work each wait on the poller brought (0.0 before the
    /// first poll).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = sock::Loop::new()?.metrics();
    /// assert_eq!(m.events_per_poll(), 0.0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn events_per_poll(&self) -> f64 {
        if self.polls == 0 {
            0.0
        } else {
            self.events as f64 / self.polls as f64
        }
    }

    /// The share of time the loop ran rather than waited, from 0.0 to 1.0.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = sock::metrics();
    /// assert!((0.0..=1.0).contains(&m.busy_ratio()));
    /// ```
    pub fn busy_ratio(&self) -> f64 {
        let total = (self.busy + self.parked).as_secs_f64();
        if total == 0.0 {
            0.0
        } else {
            self.busy.as_secs_f64() / total
        }
    }

    /// A snapshot made of the scheduler's part; the socket counters are added after.
    pub(crate) fn from_sched(s: SchedMetrics) -> Metrics {
        Metrics {
            loops: 1,
            threads_alive: s.threads_alive,
            threads_runnable: s.threads_runnable,
            threads_suspended: s.threads_suspended,
            timers_armed: s.timers_armed,
            polls: s.polls,
            busy: s.busy,
            parked: s.parked,
            lookups_queued: sock_addr::resolver_stats().in_flight,
            ..Metrics::default()
        }
    }
}

/// The sum of two snapshots (of two loops): every field added, except
/// [`lookups_queued`](Metrics::lookups_queued), the one process-wide pool's, which is
/// kept once.
///
/// # Examples
///
/// ```
/// let a = sock::Loop::new()?.metrics();
/// let b = sock::Loop::new()?.metrics();
/// assert_eq!((a + b).loops, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
impl Add for Metrics {
    type Output = Metrics;

    fn add(self, o: Metrics) -> Metrics {
        Metrics {
            loops: self.loops + o.loops,
            threads_alive: self.threads_alive + o.threads_alive,
            threads_runnable: self.threads_runnable + o.threads_runnable,
            threads_suspended: self.threads_suspended + o.threads_suspended,
            sockets: self.sockets + o.sockets,
            timers_armed: self.timers_armed + o.timers_armed,
            polls: self.polls + o.polls,
            events: self.events + o.events,
            busy: self.busy + o.busy,
            parked: self.parked + o.parked,
            ops_parked: self.ops_parked + o.ops_parked,
            deadlines_expired: self.deadlines_expired + o.deadlines_expired,
            accepts_shed: self.accepts_shed + o.accepts_shed,
            lookups_queued: self.lookups_queued.max(o.lookups_queued),
        }
    }
}

/// One line, `key=value` pairs, for logs: `alive=3 runnable=0 suspended=3 sockets=4
/// timers=1 polls=120 events=240 events/poll=2.00 busy=12.5% parked_ops=118 expired=0
/// shed=0 lookups=0`.
///
/// # Examples
///
/// ```
/// let line = sock::Loop::new()?.metrics().to_string();
/// assert!(line.starts_with("alive=0 runnable=0"));
/// # Ok::<(), std::io::Error>(())
/// ```
impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "alive={} runnable={} suspended={} sockets={} timers={} polls={} events={} \
             events/poll={:.2} busy={:.1}% parked_ops={} expired={} shed={} lookups={}",
            self.threads_alive,
            self.threads_runnable,
            self.threads_suspended,
            self.sockets,
            self.timers_armed,
            self.polls,
            self.events,
            self.events_per_poll(),
            self.busy_ratio() * 100.0,
            self.ops_parked,
            self.deadlines_expired,
            self.accepts_shed,
            self.lookups_queued,
        )
    }
}

/// A snapshot of this thread's current loop ([`Loop::current`]); see [`Metrics`].
///
/// # Examples
///
/// ```
/// sock::run(async {
///     let m = sock::metrics();
///     assert_eq!(m.threads_alive, 1); // this very `run`
/// });
/// ```
pub fn metrics() -> Metrics {
    Loop::current().metrics()
}

/// The facade's counters of one loop (the socket layer's; the reactor keeps its own).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Operations and scopes a deadline ended.
    pub(crate) deadlines_expired: Cell<u64>,
    /// Connections shed under `EMFILE`.
    pub(crate) accepts_shed: Cell<u64>,
}

/// Which of the facade's counters an event bumps.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    /// A deadline ended an operation or a scope.
    DeadlineExpired,
    /// `accept` shed a connection under `EMFILE`.
    #[allow(dead_code)] // counted by sys/unix.rs; Windows has no fd limit to shed for
    AcceptShed,
}

impl Counters {
    /// Adds one to `which`.
    pub(crate) fn bump(&self, which: Counter) {
        let cell = match which {
            Counter::DeadlineExpired => &self.deadlines_expired,
            Counter::AcceptShed => &self.accepts_shed,
        };
        cell.set(cell.get() + 1);
    }
}

/// `accept` shed a connection: counted in the loop running now and traced. Cold and out
/// of line, so the accept path around it stays as the compiler had it.
#[cold]
#[inline(never)]
#[allow(dead_code)] // called by sys/unix.rs; Windows has no fd limit to shed for
pub(crate) fn accept_shed() {
    count(Counter::AcceptShed);
    crate::trace::accept_shed();
}

/// A deadline ended the operation `op` (or a scope): counted in the loop running now and
/// traced. Cold and out of line: it runs once per timeout.
#[cold]
#[inline(never)]
pub(crate) fn deadline_expired(op: &'static str) {
    count(Counter::DeadlineExpired);
    crate::trace::deadline_expired(op);
}

/// Counts `which` in the loop running now: this thread's entered sock loop, else the
/// shared loop this thread works for. Called only where a deadline ends or a connection
/// is shed (rare), so finding the loop costs a thread-local look-up there and nothing
/// on the hot path.
pub(crate) fn count(which: Counter) {
    if let Some(lp) = Executor::entered().and_then(|ex| Loop::parts_of(&ex)) {
        lp.counters.bump(which);
        return;
    }
    crate::multi::count_shared(which);
}

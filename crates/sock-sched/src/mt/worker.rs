//! A worker: one OS thread working for a [`Pool`](super::Pool) — its local run queue,
//! its timers, and the loop that runs tasks and waits on the shared poller.
//!
//! One turn: take a batch from the injector, fire the due timers, run up to a batch of
//! local tasks, then park on the shared poller — for zero time if work is left (so I/O
//! events are still collected), else until this worker's next timer. The park wakes the
//! tasks of the events it dequeued; being on this thread, they queue here. A host's
//! [`Pool::poll`](super::Pool::poll) is one such turn with the park in the middle,
//! draining, and a second run after it, by a worker that leaves when the step ends.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use async_task::Runnable;

use super::pool::{Pool, PoolInner, Sentinel};
use super::timer::Timers;

/// Local tasks run per turn before the worker looks at the poller again.
const RUN_BATCH: usize = 128;

thread_local! {
    /// The worker this thread is, if it works for a pool.
    static WORKER: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
}

/// One worker's state, reachable from its thread only.
pub(crate) struct Worker {
    /// The pool it works for.
    pub(crate) pool: Arc<PoolInner>,
    /// Its stop generation.
    epoch: u64,
    /// Tasks woken on this thread.
    local: RefCell<VecDeque<Runnable>>,
    /// Timers first polled on this thread.
    pub(crate) timers: RefCell<Timers>,
}

/// Whether this OS thread works for a pool now (inside [`Pool::start`](super::Pool::start)).
///
/// # Examples
///
/// ```
/// assert!(!sock::sched::mt::is_worker());
/// ```
pub fn is_worker() -> bool {
    current().is_some()
}

/// The time of the pool this thread works for ([`Pool::now`](super::Pool::now)); the
/// monotonic clock's on a thread that is not a worker.
///
/// # Examples
///
/// ```
/// let t = sock::sched::mt::now();
/// assert!(sock::sched::mt::now() >= t);
/// ```
pub fn now() -> std::time::Instant {
    match current() {
        Some(w) => w.pool.now(),
        None => std::time::Instant::now(),
    }
}

/// This thread's worker.
pub(crate) fn current() -> Option<Rc<Worker>> {
    WORKER.try_with(|w| w.borrow().clone()).ok().flatten()
}

/// The pool this thread works for.
pub(crate) fn current_pool() -> Option<Pool> {
    current().map(|w| Pool {
        inner: w.pool.clone(),
    })
}

/// Queues `runnable` on this thread's worker if it works for `pool`; otherwise hands
/// it back.
pub(crate) fn push_local(pool: &Arc<PoolInner>, runnable: Runnable) -> Option<Runnable> {
    match current() {
        Some(w) if Arc::ptr_eq(&w.pool, pool) => {
            w.local.borrow_mut().push_back(runnable);
            None
        }
        _ => Some(runnable),
    }
}

/// Works for `pool` on this thread until its generation is stopped.
pub(crate) fn work(pool: &Arc<PoolInner>) {
    work_after(pool, || {});
}

/// [`work`], running `first` once this thread is registered as a worker: anything
/// `first` starts (a task that stops the pool when it ends) counts this thread among
/// the workers its stop reaches.
pub(crate) fn work_after(pool: &Arc<PoolInner>, first: impl FnOnce()) {
    let worker = enter(pool);
    let _leave = Leave(worker.clone());
    first();
    while worker.turn() {}
}

/// One host-driven step of `pool` on this thread (see [`Pool::poll`](super::Pool::poll)):
/// whether any task ran or timer fired.
pub(crate) fn poll(pool: &Arc<PoolInner>, timeout: Option<Duration>) -> bool {
    let worker = enter(pool);
    let _leave = Leave(worker.clone());
    worker.host_turn(timeout)
}

/// Registers this thread as a worker of `pool`.
fn enter(pool: &Arc<PoolInner>) -> Rc<Worker> {
    let epoch = pool.join_generation();
    let mut timers = Timers::new();
    timers.adopt(
        pool.orphans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..),
    );
    let worker = Rc::new(Worker {
        pool: pool.clone(),
        epoch,
        local: RefCell::new(VecDeque::new()),
        timers: RefCell::new(timers),
    });
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        assert!(
            w.is_none(),
            "sock-sched: this thread already works for a pool; do not call Pool::start \
             or Pool::poll from a task"
        );
        *w = Some(worker.clone());
    });
    worker
}

/// Unregisters the worker when it leaves (also on panic): its tasks go back to the
/// injector, its timers to the pool's orphans (both dropped if the pool was closed),
/// its generation count down.
struct Leave(Rc<Worker>);

impl Drop for Leave {
    fn drop(&mut self) {
        let _ = WORKER.try_with(|w| w.borrow_mut().take());
        let worker = &self.0;
        let local = std::mem::take(&mut *worker.local.borrow_mut());
        worker.pool.give_back(local);
        let timers = worker.timers.borrow_mut().take_all();
        worker.pool.orphan(timers);
        worker.pool.leave_generation(worker.epoch);
    }
}

impl Worker {
    /// One turn; false when the worker must leave.
    fn turn(&self) -> bool {
        if self.pool.epoch() != self.epoch {
            return false;
        }
        self.step();
        let timeout = self.park_timeout();
        let mut stops = Stops::default();
        self.pool.park(timeout, &mut |s| stops.count(s, self));
        stops.finish(self)
    }

    /// A host's step: run what is ready, wait at most `timeout` (less if work or a
    /// timer is waiting) taking every queued event, run what the events woke. Whether
    /// any task ran or timer fired. A stop of this generation needs no leaving: the
    /// step ends anyway.
    fn host_turn(&self, timeout: Option<Duration>) -> bool {
        let before = self.step();
        let timeout = match (self.park_timeout(), timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut stops = Stops::default();
        self.pool
            .park_drained(timeout, &mut |s| stops.count(s, self));
        let after = self.step();
        stops.finish(self);
        before || after
    }

    /// Takes a batch from the injector, fires the due timers and runs a batch of local
    /// tasks; whether any timer fired or task ran.
    fn step(&self) -> bool {
        self.pool.take_injected(&mut self.local.borrow_mut());
        let fired = self.fire_timers(self.pool.now());
        let ran = self.run_batch();
        fired + ran > 0
    }

    /// Wakes the tasks of every due timer (they queue here); how many fired.
    fn fire_timers(&self, now: std::time::Instant) -> usize {
        let due = self.timers.borrow_mut().take_due(now);
        let fired = due.len();
        for entry in due {
            entry.fire();
        }
        fired
    }

    /// Runs up to a batch of local tasks; how many ran.
    fn run_batch(&self) -> usize {
        for ran in 0..RUN_BATCH {
            let next = self.local.borrow_mut().pop_front();
            match next {
                Some(runnable) => {
                    crate::coop::budgeted(|| runnable.run());
                }
                None => return ran,
            }
        }
        RUN_BATCH
    }

    /// Zero if work is waiting, else until this worker's next timer.
    fn park_timeout(&self) -> Option<Duration> {
        if !self.local.borrow().is_empty() || self.pool.has_injected() {
            return Some(Duration::ZERO);
        }
        let next = self.timers.borrow_mut().next_deadline()?;
        Some(next.saturating_duration_since(self.pool.now()))
    }
}

/// The stop sentinels one park dequeued.
#[derive(Default)]
struct Stops {
    /// Stops of this worker's generation.
    mine: usize,
    /// Stops of other generations that still have live workers: posted back.
    others: Vec<u64>,
}

impl Stops {
    fn count(&mut self, sentinel: Sentinel, worker: &Worker) {
        match sentinel {
            Sentinel::Wake => worker.pool.wake_taken(),
            Sentinel::Stop(epoch) if epoch == worker.epoch => self.mine += 1,
            Sentinel::Stop(epoch) => {
                if worker.pool.generation_live(epoch) {
                    self.others.push(epoch);
                }
            }
        }
    }

    /// Re-posts what is not this worker's; false if it must leave. A batch that took
    /// `k` stops of this generation keeps one and re-posts `k - 1`: they belong to
    /// other workers of the generation.
    fn finish(self, worker: &Worker) -> bool {
        for epoch in self.others {
            worker.pool.post(Sentinel::Stop(epoch));
        }
        for _ in 1..self.mine {
            worker.pool.post(Sentinel::Stop(worker.epoch));
        }
        self.mine == 0
    }
}

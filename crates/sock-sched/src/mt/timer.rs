//! Per-worker timers: [`sleep`], [`sleep_until`] and the timer list each worker fires.
//!
//! A [`Sleep`] registers in the timer list of the worker that first polls it and stays
//! there even if its task moves to another thread; the entry is shared (`Arc` + mutex)
//! so any thread may update its waker or cancel it. Cancelling only marks the entry; the
//! owning worker drops marked entries when they come due, or in a sweep whenever its
//! list has doubled since the last sweep (amortised O(1) per timer).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::worker;

/// The smallest list size that is swept for cancelled entries.
const MIN_SWEEP: usize = 64;

/// A timer shared between the worker that fires it and the task that awaits it.
pub(crate) struct TimerEntry {
    /// When it fires.
    deadline: Instant,
    /// Waker and flags, behind a lock: the firing worker and the awaiting task may be
    /// on different threads.
    state: Mutex<TimerState>,
}

/// The mutable part of a [`TimerEntry`].
#[derive(Default)]
struct TimerState {
    /// The task to wake.
    waker: Option<Waker>,
    /// Fired: the sleep is over.
    fired: bool,
    /// The sleep was dropped before it fired.
    cancelled: bool,
}

impl TimerEntry {
    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the entry fired and wakes its task.
    pub(crate) fn fire(&self) {
        let waker = {
            let mut state = self.lock();
            state.fired = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Drops the waker without waking it (the pool is closed: nothing fires any more).
    /// The waker may be its task's last handle, whose future holds this entry: kept,
    /// the two would keep each other alive. Dropped after the lock: dropping the task
    /// cancels its sleep, which takes the lock.
    pub(crate) fn forget(&self) {
        let waker = self.lock().waker.take();
        drop(waker);
    }

    fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// When it fires; `None` once cancelled (nobody waits for it).
    pub(crate) fn live_deadline(&self) -> Option<Instant> {
        (!self.is_cancelled()).then_some(self.deadline)
    }
}

/// One worker's timers, ordered by (deadline, creation).
pub(crate) struct Timers {
    /// Armed entries (some may be cancelled).
    map: BTreeMap<(Instant, u64), Arc<TimerEntry>>,
    /// The next creation number.
    next_id: u64,
    /// Sweep cancelled entries when the list reaches this size.
    sweep_at: usize,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            map: BTreeMap::new(),
            next_id: 0,
            sweep_at: MIN_SWEEP,
        }
    }

    /// Arms an entry firing at `deadline` that wakes `waker`.
    fn insert(&mut self, deadline: Instant, waker: Waker) -> Arc<TimerEntry> {
        let state = TimerState {
            waker: Some(waker),
            ..TimerState::default()
        };
        let entry = Arc::new(TimerEntry {
            deadline,
            state: Mutex::new(state),
        });
        self.push(entry.clone());
        if self.map.len() >= self.sweep_at {
            self.sweep();
        }
        entry
    }

    fn push(&mut self, entry: Arc<TimerEntry>) {
        let id = self.next_id;
        self.next_id += 1;
        self.map.insert((entry.deadline, id), entry);
    }

    /// Drops cancelled entries; the next sweep waits until the list has doubled.
    fn sweep(&mut self) {
        self.map.retain(|_, e| !e.is_cancelled());
        self.sweep_at = (self.map.len() * 2).max(MIN_SWEEP);
    }

    /// Removes and returns the entries due at `now` (cancelled ones are just dropped).
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Arc<TimerEntry>> {
        let mut due = Vec::new();
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let entry = entry.remove();
            if !entry.is_cancelled() {
                due.push(entry);
            }
        }
        due
    }

    /// The earliest live deadline (cancelled entries at the front are dropped).
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(entry) = self.map.first_entry() {
            if !entry.get().is_cancelled() {
                return Some(entry.key().0);
            }
            entry.remove();
        }
        None
    }

    /// Takes over the entries of a worker that left.
    pub(crate) fn adopt(&mut self, entries: impl IntoIterator<Item = Arc<TimerEntry>>) {
        for entry in entries {
            self.push(entry);
        }
    }

    /// Gives up every entry (the worker leaves).
    pub(crate) fn take_all(&mut self) -> Vec<Arc<TimerEntry>> {
        std::mem::take(&mut self.map).into_values().collect()
    }
}

/// Waits until `deadline` on a worker of a pool; never fires early.
///
/// # Panics
///
/// When first polled outside a worker of a [`Pool`](super::Pool) (there is no worker
/// whose timers could fire it).
///
/// # Examples
///
/// ```
/// # use std::collections::VecDeque;
/// # use std::sync::{Condvar, Mutex};
/// # use std::time::Duration;
/// # use sock::sched::mt::{self, Pool, Sentinel, SharedPark};
/// # #[derive(Default)]
/// # struct Queue(Mutex<VecDeque<Sentinel>>, Condvar);
/// # impl SharedPark for Queue {
/// #     fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
/// #         let q = self.0.lock().unwrap();
/// #         let wait = timeout.unwrap_or(Duration::from_secs(3600));
/// #         let (mut q, _) = self.1.wait_timeout_while(q, wait, |q| q.is_empty()).unwrap();
/// #         q.drain(..).for_each(sentinel);
/// #     }
/// #     fn post(&self, s: Sentinel) {
/// #         self.0.lock().unwrap().push_back(s);
/// #         self.1.notify_one();
/// #     }
/// # }
/// let pool = Pool::new(Queue::default());
/// let p = pool.clone();
/// pool.run(async move {
///     let deadline = p.now() + Duration::from_millis(2);
///     mt::sleep_until(deadline).await;
///     assert!(p.now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
    }
}

/// Waits for `duration` on a worker of a pool; see [`sleep_until`].
///
/// # Panics
///
/// As [`sleep_until`]; also outside a worker at the call, which reads the pool's clock.
///
/// # Examples
///
/// See [`Pool`](super::Pool).
pub fn sleep(duration: Duration) -> Sleep {
    let worker = worker::current().expect("sock-sched: mt::sleep outside a worker of a pool");
    sleep_until(worker.pool.now() + duration)
}

/// The future of [`sleep`] / [`sleep_until`].
///
/// # Examples
///
/// See [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// When it is over.
    deadline: Instant,
    /// The armed entry, once polled and not yet due.
    entry: Option<Arc<TimerEntry>>,
}

impl Sleep {
    /// When the sleep is over.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = std::time::Instant::now();
    /// assert_eq!(sock::sched::mt::sleep_until(t).deadline(), t);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Arms the entry on this thread's worker, unless the deadline has passed.
    fn arm(&mut self, cx: &Context<'_>) -> Poll<()> {
        let worker = worker::current().expect(
            "sock-sched: mt::Sleep polled outside a worker of a pool; \
             await it in a task of the pool",
        );
        if worker.pool.now() >= self.deadline {
            return Poll::Ready(());
        }
        let entry = worker
            .timers
            .borrow_mut()
            .insert(self.deadline, cx.waker().clone());
        self.entry = Some(entry);
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(entry) = &self.entry else {
            return self.arm(cx);
        };
        let mut state = entry.lock();
        if state.fired {
            return Poll::Ready(());
        }
        match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = &self.entry {
            let mut state = entry.lock();
            state.cancelled = !state.fired;
            state.waker = None;
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.entry.is_some())
            .finish()
    }
}

//! [`Pool`]: the shared state of a multi-threaded pool — injector, stop generations,
//! orphaned timers — and [`SharedPark`], how its workers wait.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use async_task::Runnable;

use super::join::JoinHandle;
use super::timer::TimerEntry;
use super::worker;
use crate::clock::{Clock, MonotonicClock};

/// Runnables a worker takes from the injector at once (more: it posts another wake so
/// another worker takes the next batch).
const INJECT_BATCH: usize = 64;

/// A packet posted to the shared poller for the pool's own use.
///
/// # Examples
///
/// See [`SharedPark`]: a park queues the sentinels posted to it and hands them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sentinel {
    /// The injector holds work: the worker that dequeues this drains it.
    Wake,
    /// Stop: the workers of this stop generation leave [`Pool::start`].
    Stop(u64),
}

/// How the workers of a [`Pool`] wait: on one kernel poller shared by all of them.
///
/// `sock` implements it on `sock-poll-shared`'s poller: `park` waits on the epoll fd /
/// IOCP, marks the sockets whose events it dequeued ready and wakes their tasks (on the
/// calling worker, so they run there), and reports the sentinels it dequeued.
///
/// # Examples
///
/// A park without I/O: sentinels in a queue, a condition variable to wait on.
///
/// ```
/// use std::collections::VecDeque;
/// use std::sync::{Condvar, Mutex};
/// use std::time::Duration;
/// use sock::sched::mt::{Pool, Sentinel, SharedPark};
///
/// #[derive(Default)]
/// struct Queue(Mutex<VecDeque<Sentinel>>, Condvar);
///
/// impl SharedPark for Queue {
///     fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
///         let q = self.0.lock().unwrap();
///         let wait = timeout.unwrap_or(Duration::from_secs(3600));
///         let (mut q, _) = self.1.wait_timeout_while(q, wait, |q| q.is_empty()).unwrap();
///         q.drain(..).for_each(sentinel); // a batch may hold several sentinels
///     }
///     fn post(&self, s: Sentinel) {
///         self.0.lock().unwrap().push_back(s);
///         self.1.notify_one();
///     }
/// }
///
/// let pool = Pool::new(Queue::default());
/// assert_eq!(pool.run(async { 6 * 7 }), 42);
/// ```
pub trait SharedPark: Send + Sync + 'static {
    /// Waits at most `timeout` (`None`: no limit; `Some(ZERO)`: never blocks) for
    /// events, wakes the tasks they concern, and passes every sentinel it dequeued to
    /// `sentinel`. Returning early is allowed.
    ///
    /// # Examples
    ///
    /// See [`SharedPark`].
    fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel));

    /// As [`park`](SharedPark::park), for [`Pool::poll`]: a host waits on the poller
    /// itself, maybe edge-triggered, so everything the kernel has queued must be taken
    /// before `poll` returns — an edge that already came does not come again. Workers of
    /// [`Pool::start`] use `park`, leaving a full queue to the other waiters. The default
    /// is `park`, for a park whose one wait takes everything.
    fn park_drained(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        self.park(timeout, sentinel);
    }

    /// Posts `sentinel` so that exactly one waiting worker (or the next to wait)
    /// dequeues it.
    ///
    /// # Examples
    ///
    /// See [`SharedPark`].
    fn post(&self, sentinel: Sentinel);
}

/// A pool of OS threads sharing one kernel poller and running `Send` tasks.
///
/// Cheap to clone; `Send + Sync`. Threads join by calling [`start`](Pool::start).
///
/// # Examples
///
/// ```
/// use std::collections::VecDeque;
/// use std::sync::{Condvar, Mutex};
/// use std::time::Duration;
/// use sock::sched::mt::{self, Pool, Sentinel, SharedPark};
///
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
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let pool = pool.clone();
///         std::thread::spawn(move || pool.start())
///     })
///     .collect();
/// while pool.workers() < 2 {
///     std::thread::yield_now(); // stop() stops the workers there are
/// }
/// let task = pool.spawn(async {
///     mt::sleep(Duration::from_millis(1)).await;
///     "slept"
/// });
/// assert_eq!(task.join(), "slept"); // blocks this (non-worker) thread
/// pool.stop();
/// for w in workers {
///     w.join().unwrap();
/// }
/// ```
#[derive(Clone)]
pub struct Pool {
    /// The state the workers share.
    pub(crate) inner: Arc<PoolInner>,
}

/// The state of one pool.
pub(crate) struct PoolInner {
    /// How workers wait.
    park: Box<dyn SharedPark>,
    /// Where the pool reads the time.
    clock: Box<dyn Clock + Send + Sync>,
    /// Runnables scheduled from outside the workers.
    injector: Mutex<VecDeque<Runnable>>,
    /// `injector.len()`, readable without the lock.
    injected: AtomicUsize,
    /// Whether a [`Sentinel::Wake`] is posted and not yet dequeued.
    wake_posted: AtomicBool,
    /// The current stop generation, mirrored from `generations` for a lock-free check.
    epoch: AtomicU64,
    /// Workers alive per stop generation.
    generations: Mutex<Generations>,
    /// Timers of workers that left, for the next worker to fire.
    pub(crate) orphans: Mutex<Vec<Arc<TimerEntry>>>,
    /// Spawned tasks whose future has not been dropped yet.
    alive: AtomicUsize,
    /// Set by [`Pool::close`] (under the injector's lock): runnables injected or handed
    /// back afterwards, and timers orphaned afterwards, are dropped, not kept.
    closed: AtomicBool,
}

/// Live workers by stop generation.
#[derive(Default)]
struct Generations {
    /// The current generation: workers that start now belong to it.
    current: u64,
    /// (generation, live workers of it), for generations with live workers.
    live: Vec<(u64, usize)>,
}

impl Pool {
    /// A pool whose workers wait through `park`, on the monotonic clock.
    ///
    /// # Examples
    ///
    /// See [`SharedPark`].
    pub fn new(park: impl SharedPark) -> Pool {
        Pool::with_clock(park, MonotonicClock)
    }

    /// A pool whose workers wait through `park` and read time from `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::collections::VecDeque;
    /// # use std::sync::{Condvar, Mutex};
    /// # use std::time::Duration;
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
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
    /// let pool = Pool::with_clock(Queue::default(), sock::sched::MonotonicClock);
    /// assert!(pool.now() <= std::time::Instant::now());
    /// ```
    pub fn with_clock(park: impl SharedPark, clock: impl Clock + Send + Sync + 'static) -> Pool {
        let inner = PoolInner {
            park: Box::new(park),
            clock: Box::new(clock),
            injector: Mutex::new(VecDeque::new()),
            injected: AtomicUsize::new(0),
            wake_posted: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            generations: Mutex::new(Generations::default()),
            orphans: Mutex::new(Vec::new()),
            alive: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        };
        Pool {
            inner: Arc::new(inner),
        }
    }

    /// Spawns a `Send` task. Spawned on a worker of this pool, it is queued on that
    /// worker; from any other thread, on the injector (and one worker is woken).
    ///
    /// # Examples
    ///
    /// See [`Pool`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let alive = Alive::new(&self.inner);
        let future = async move {
            let _alive = alive;
            future.await
        };
        let weak = Arc::downgrade(&self.inner);
        let schedule = move |runnable: Runnable| schedule(&weak, runnable);
        let (runnable, task) = async_task::Builder::new()
            .propagate_panic(true)
            .spawn(move |_: &()| future, schedule);
        runnable.schedule();
        JoinHandle::new(task)
    }

    /// Makes this OS thread a worker until [`stop`](Pool::stop) is called (by any
    /// thread). Any number of threads may work for one pool at once.
    ///
    /// A task's panic is kept in the task and re-raised where it is joined; it does not
    /// stop the worker.
    ///
    /// # Panics
    ///
    /// If this thread already works for a pool (`start` called inside a task).
    ///
    /// # Examples
    ///
    /// See [`Pool`].
    pub fn start(&self) {
        worker::work(&self.inner);
    }

    /// Spawns `future`, works for the pool on this thread until it finishes, then stops
    /// the pool (every worker returns from [`start`](Pool::start)) and returns its output.
    ///
    /// Unlike [`Executor::run`](crate::Executor::run), `future` must be `'static`: another
    /// worker may be polling it when `run` unwinds, and it cannot be dropped from here.
    ///
    /// # Panics
    ///
    /// With the future's panic, if it panicked; and if the pool was stopped by someone
    /// else before the future finished.
    ///
    /// # Examples
    ///
    /// See [`SharedPark`].
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let done = Arc::new(AtomicBool::new(false));
        let stopper = StopOnDrop(Arc::downgrade(&self.inner), done.clone());
        let mut handle = None;
        // Spawn only once this thread is a worker: a future that finishes at once on
        // another worker then stops this thread too (a `start` after the stop would be
        // in the next generation and never return).
        worker::work_after(&self.inner, || {
            handle = Some(self.spawn(async move {
                let _stopper = stopper;
                future.await
            }));
        });
        let handle = handle.expect("work_after runs its closure");
        assert!(
            done.load(Ordering::Acquire),
            "sock-sched: the pool was stopped before the future given to run() finished"
        );
        handle.join() // finished, or about to be on the worker that stopped the pool
    }

    /// Makes every worker return from [`start`](Pool::start) after its current step:
    /// posts one stop sentinel per worker. Tasks stay; a later `start` runs them on.
    /// A thread that calls `start` after this works for the next generation: it is not
    /// stopped by this call.
    ///
    /// # Examples
    ///
    /// See [`Pool`].
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Closes the pool for good: cancels every task waiting in the shared queue (their
    /// futures are dropped here, on this thread) and every task woken or spawned from
    /// outside a worker from now on (dropped where it is woken); the timers no worker
    /// holds drop their wakers unwoken, so a task asleep there with no other handle is
    /// cancelled too. What a worker still holds (its own queue and timers) goes the same
    /// way when it leaves. The [`JoinHandle`] of a cancelled task panics when joined.
    /// Idempotent.
    ///
    /// This is how a pool whose tasks hold handles of the pool itself is freed: a task
    /// holding a clone of its pool keeps the pool alive, and the pool keeps the task.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// let me = pool.clone();
    /// pool.spawn(async move {
    ///     let _keep = me; // the pool, held by its own task: a cycle
    /// })
    /// .detach();
    /// assert_eq!(pool.alive(), 1); // queued, never run
    /// pool.close();
    /// assert!(pool.is_closed());
    /// assert_eq!(pool.alive(), 0); // dropped, and the cycle with it
    /// pool.spawn(async {}).detach();
    /// assert_eq!(pool.alive(), 0); // a closed pool drops what it is given
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](Pool::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](Pool::close).
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// One step of the pool driven by a host loop, on this thread: runs a bounded batch
    /// of ready tasks and due timers, waits at most `timeout` for events (`None`: no
    /// limit; zero if work is left; never past this step's next timer), takes every
    /// event queued ([`SharedPark::park_drained`]) and runs what they woke. Returns
    /// whether any task ran or timer fired.
    ///
    /// The thread counts as a worker during the call only: tasks it leaves runnable go
    /// to the injector, its timers to the pool, for the next `poll` or any worker of
    /// [`start`](Pool::start). A host waits on the pool's poller for at most
    /// [`next_deadline`](Pool::next_deadline), then calls `poll(Some(Duration::ZERO))`.
    ///
    /// # Panics
    ///
    /// If this thread already works for a pool (`poll` called from a task).
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
    /// let task = pool.spawn(async {
    ///     mt::sleep(Duration::from_millis(2)).await;
    ///     "slept"
    /// });
    /// for _ in 0..1_000 {
    ///     if task.is_finished() {
    ///         break;
    ///     }
    ///     let wait = pool.next_deadline().map(|t| t.saturating_duration_since(pool.now()));
    ///     pool.poll(wait.or(Some(Duration::from_millis(10)))); // the host's wait, then sock's step
    /// }
    /// assert_eq!(task.join(), "slept");
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> bool {
        worker::poll(&self.inner, timeout)
    }

    /// When a host driving the pool with [`poll`](Pool::poll) must call it next: now if
    /// tasks are runnable, else the earliest timer no worker holds (a polling host's
    /// timers), else `None` — then only an event on the poller calls for a `poll`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// assert_eq!(pool.next_deadline(), None);
    /// pool.spawn(async {}).detach();
    /// assert!(pool.next_deadline().is_some_and(|t| t <= pool.now())); // runnable now
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.inner.has_injected() {
            return Some(self.inner.now());
        }
        let orphans = self.inner.orphans.lock();
        let orphans = orphans.unwrap_or_else(PoisonError::into_inner);
        orphans.iter().filter_map(|t| t.live_deadline()).min()
    }

    /// How many threads work for the pool now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// assert_eq!(pool.workers(), 0);
    /// ```
    pub fn workers(&self) -> usize {
        self.inner
            .lock_generations()
            .live
            .iter()
            .map(|(_, n)| n)
            .sum()
    }

    /// Spawned tasks that have not finished (or been cancelled) yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// pool.spawn(async {}).detach();
    /// assert_eq!(pool.alive(), 1); // nobody works for the pool yet
    /// ```
    pub fn alive(&self) -> usize {
        self.inner.alive.load(Ordering::Acquire)
    }

    /// Tasks woken or spawned from outside the workers and not yet taken by one (the
    /// shared queue; a worker's own queue is not counted).
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// pool.spawn(async {}).detach();
    /// assert_eq!(pool.queued(), 1); // spawned from outside: in the shared queue
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.injected.load(Ordering::Relaxed)
    }

    /// The pool's current time.
    ///
    /// # Examples
    ///
    /// See [`with_clock`](Pool::with_clock).
    pub fn now(&self) -> Instant {
        self.inner.now()
    }

    /// Whether `self` and `other` are the same pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sched::mt::{Pool, Sentinel, SharedPark};
    /// # struct Nothing;
    /// # impl SharedPark for Nothing {
    /// #     fn park(&self, _: Option<std::time::Duration>, _: &mut dyn FnMut(Sentinel)) {}
    /// #     fn post(&self, _: Sentinel) {}
    /// # }
    /// let pool = Pool::new(Nothing);
    /// assert!(pool.ptr_eq(&pool.clone()));
    /// ```
    pub fn ptr_eq(&self, other: &Pool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Spawns a `Send` task on the pool this worker works for, queued on this worker.
///
/// # Panics
///
/// Outside a worker (use [`Pool::spawn`] there).
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
/// let sum = pool.run(async {
///     let a = mt::spawn(async { 40 });
///     let b = mt::spawn(async { 2 });
///     a.await + b.await
/// });
/// assert_eq!(sum, 42);
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let pool = worker::current_pool()
        .expect("sock-sched: mt::spawn outside a worker of a pool; use Pool::spawn there");
    pool.spawn(future)
}

/// Queues a woken task: on this worker if it works for the task's pool, else on the
/// pool's injector. A task whose pool is gone is dropped (cancelled).
fn schedule(pool: &Weak<PoolInner>, runnable: Runnable) {
    let Some(pool) = pool.upgrade() else {
        return;
    };
    if let Some(runnable) = worker::push_local(&pool, runnable) {
        pool.inject(runnable);
    }
}

impl PoolInner {
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    pub(crate) fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        self.park.park(timeout, sentinel);
    }

    pub(crate) fn park_drained(
        &self,
        timeout: Option<Duration>,
        sentinel: &mut dyn FnMut(Sentinel),
    ) {
        self.park.park_drained(timeout, sentinel);
    }

    pub(crate) fn post(&self, sentinel: Sentinel) {
        self.park.post(sentinel);
    }

    /// Queues `runnable` for any worker and makes sure one will look; drops it (after
    /// the lock: dropping its future may wake others) once the pool is closed.
    fn inject(&self, runnable: Runnable) {
        let mut injector = self.lock_injector();
        if self.closed.load(Ordering::Relaxed) {
            drop(injector);
            drop(runnable);
            return;
        }
        injector.push_back(runnable);
        self.injected.store(injector.len(), Ordering::Release);
        drop(injector);
        self.post_wake();
    }

    /// Posts a wake unless one is already on its way.
    fn post_wake(&self) {
        if !self.wake_posted.swap(true, Ordering::AcqRel) {
            self.post(Sentinel::Wake);
        }
    }

    /// A worker dequeued the wake: the next injection posts a new one.
    pub(crate) fn wake_taken(&self) {
        self.wake_posted.store(false, Ordering::Release);
    }

    /// Whether the injector may hold work.
    pub(crate) fn has_injected(&self) -> bool {
        self.injected.load(Ordering::Acquire) > 0
    }

    /// Takes a batch from the injector; if more is left, wakes another worker for it.
    pub(crate) fn take_injected(&self, into: &mut VecDeque<Runnable>) {
        if !self.has_injected() {
            return;
        }
        let mut injector = self.lock_injector();
        let n = injector.len().min(INJECT_BATCH);
        into.extend(injector.drain(..n));
        self.injected.store(injector.len(), Ordering::Release);
        let more = !injector.is_empty();
        drop(injector);
        if more {
            self.post_wake();
        }
    }

    /// Takes everything from the injector (a worker leaving runs nothing more; these go
    /// back with its own queue).
    pub(crate) fn give_back(&self, runnables: impl IntoIterator<Item = Runnable>) {
        let mut injector = self.lock_injector();
        injector.extend(runnables);
        if self.closed.load(Ordering::Relaxed) {
            return drop_closed(injector);
        }
        self.injected.store(injector.len(), Ordering::Release);
        let any = !injector.is_empty();
        drop(injector);
        if any {
            self.post_wake();
        }
    }

    /// Keeps the timers of a worker that leaves for the next worker; once the pool is
    /// closed, drops their wakers instead.
    pub(crate) fn orphan(&self, timers: Vec<Arc<TimerEntry>>) {
        let mut orphans = self.lock_orphans();
        orphans.extend(timers);
        if self.closed.load(Ordering::Acquire) {
            forget_closed(orphans);
        }
    }

    /// See [`Pool::close`]: marks the pool closed (under the injector's lock, so no
    /// injection slips past), then, outside the locks (dropping a future may wake, and
    /// so schedule, others), drops its queued runnables and the wakers of its orphaned
    /// timers (a sleeping task's last waker: dropping it cancels the task).
    fn close(&self) {
        let queued = {
            let mut injector = self.lock_injector();
            self.closed.store(true, Ordering::Release);
            self.injected.store(0, Ordering::Release);
            std::mem::take(&mut *injector)
        };
        let timers = std::mem::take(&mut *self.lock_orphans());
        drop(queued);
        timers.iter().for_each(|t| t.forget());
    }

    fn lock_orphans(&self) -> MutexGuard<'_, Vec<Arc<TimerEntry>>> {
        self.orphans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_injector(&self) -> MutexGuard<'_, VecDeque<Runnable>> {
        self.injector.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_generations(&self) -> MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The current stop generation (changes when `stop` is called).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A worker starts: it belongs to the current generation, returned.
    pub(crate) fn join_generation(&self) -> u64 {
        let mut g = self.lock_generations();
        let current = g.current;
        match g.live.iter_mut().find(|(e, _)| *e == current) {
            Some((_, n)) => *n += 1,
            None => g.live.push((current, 1)),
        }
        current
    }

    /// A worker of generation `epoch` leaves.
    pub(crate) fn leave_generation(&self, epoch: u64) {
        let mut g = self.lock_generations();
        if let Some(i) = g.live.iter().position(|(e, _)| *e == epoch) {
            g.live[i].1 -= 1;
            if g.live[i].1 == 0 {
                g.live.swap_remove(i);
            }
        }
    }

    /// Whether workers of generation `epoch` are still working.
    pub(crate) fn generation_live(&self, epoch: u64) -> bool {
        self.lock_generations()
            .live
            .iter()
            .any(|(e, _)| *e == epoch)
    }

    /// Ends the current generation: one stop sentinel per worker of it.
    fn stop(&self) {
        let (epoch, workers) = {
            let mut g = self.lock_generations();
            let epoch = g.current;
            g.current += 1;
            self.epoch.store(g.current, Ordering::Release);
            let n = g
                .live
                .iter()
                .find(|(e, _)| *e == epoch)
                .map_or(0, |(_, n)| *n);
            (epoch, n)
        };
        for _ in 0..workers {
            self.post(Sentinel::Stop(epoch));
        }
    }
}

/// Empties the injector of a closed pool (a worker that left handed its queue back):
/// the runnables are dropped after the lock, as [`Pool::close`] drops them.
///
/// Out of line and cold, as [`forget_closed`]: the closed path kept inside the generic
/// `give_back` changed how rustc split `sock-sched` into codegen units and cost the
/// loop-mode timer paths up to 4.5 % more instructions (`cargo xtask icount`).
#[cold]
fn drop_closed(mut injector: MutexGuard<'_, VecDeque<Runnable>>) {
    let queued = std::mem::take(&mut *injector);
    drop(injector);
    drop(queued);
}

/// Takes the orphaned timers of a closed pool (a worker that left handed its timers
/// over) and drops their wakers after the lock, as [`Pool::close`] does.
#[cold]
fn forget_closed(mut orphans: MutexGuard<'_, Vec<Arc<TimerEntry>>>) {
    let timers = std::mem::take(&mut *orphans);
    drop(orphans);
    timers.iter().for_each(|t| t.forget());
}

/// Counts a spawned task alive until its future is dropped.
struct Alive(Weak<PoolInner>);

impl Alive {
    fn new(pool: &Arc<PoolInner>) -> Alive {
        pool.alive.fetch_add(1, Ordering::AcqRel);
        Alive(Arc::downgrade(pool))
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        if let Some(pool) = self.0.upgrade() {
            pool.alive.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Marks the future given to `run` done and stops the pool when dropped: the future
/// finished, panicked or was cancelled.
struct StopOnDrop(Weak<PoolInner>, Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.1.store(true, Ordering::Release);
        if let Some(pool) = self.0.upgrade() {
            pool.stop();
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .field("alive", &self.alive())
            .finish_non_exhaustive()
    }
}

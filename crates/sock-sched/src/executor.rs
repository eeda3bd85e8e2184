//! The loop: [`Executor`], its run queue, remote wake queue, timers and loop control.
//!
//! One iteration ("turn") of the loop: take the wakes other OS threads queued, fire the
//! timers that are due, run every task that was ready at that point, then park: for zero
//! time if anything ran (so a reactor still collects I/O events), otherwise until the next
//! timer or the caller's timeout; and finally do the same again for what the park woke.
//! A park that may block is preceded by a zero-timeout one, and when that finds work,
//! the turn reads the clock only for the timers, if any are armed (see `run_collected`).
//! Tasks woken while the ready tasks run are queued behind them, so a task that keeps
//! waking itself cannot starve the rest, and each turn ends.
//!
//! Panics: a panic inside a task is caught. If a [`Thread`] handle of the task is alive,
//! the panic is kept for [`Thread::join`]; otherwise (or once the last handle is dropped
//! without joining) the loop's [`PanicPolicy`] decides: re-raised from the
//! `run`/`poll`/`start` call that ran the task (the default), or counted and dropped. How
//! a thread ends — returned, panicked, cancelled — is in `finish.rs`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::clock::{Clock, MonotonicClock};
use crate::context;
use crate::env::Env;
use crate::finish::{PanicPolicy, reraise};
use crate::metrics::Counters;
use crate::park::{Park, ThreadPark, Unparker};
use crate::task::{
    CellPool, Core, Extras, Payload, RunQueue, TaskList, TaskPtr, TaskRef, Typed, WakeRef, flag,
};
use crate::thread::Thread;
use crate::time::timers::{Due, Timers};

/// The default timer resolution.
const DEFAULT_RESOLUTION: Duration = Duration::from_millis(1);

/// A single-threaded loop running `!Send` tasks ("threads") and timers.
///
/// Cloning is cheap and gives another handle to the same loop. It is `!Send`: a loop
/// belongs to the OS thread that created it (its wakers work from any thread).
///
/// # Examples
///
/// ```
/// use sock::sched::Executor;
///
/// let ex = Executor::new();
/// let t = ex.spawn(async { 20 });
/// assert_eq!(ex.run(async move { t.join().await.unwrap() + 22 }), 42);
/// ```
#[derive(Clone)]
pub struct Executor {
    /// The loop's state.
    pub(crate) inner: Rc<Inner>,
}

/// The part of a loop other OS threads can reach: the remote wake queue and the unparker.
pub(crate) struct Shared {
    /// Tasks woken from other OS threads (or from outside the loop); `None` once the loop
    /// is gone (a wake then drops its entry, so nothing keeps a task alive forever).
    injector: Mutex<Option<Vec<WakeRef>>>,
    /// Whether `injector` may hold something (checked without the lock).
    injected: AtomicBool,
    /// Wakes the parked loop; replaced with the park (see [`Executor::replace_park`]).
    unparker: RwLock<Unparker>,
    /// The memory of the loop's task cells (freed with the last task or waker).
    pub(crate) pool: CellPool,
}

impl Shared {
    /// Queues a wake from outside the loop and unparks it if the queue was empty.
    pub(crate) fn push_remote(&self, entry: WakeRef) {
        let mut guard = self.lock();
        let Some(queue) = guard.as_mut() else {
            return; // the loop is gone; `entry` drops after the lock
        };
        queue.push(entry);
        let was_empty = queue.len() == 1;
        drop(guard);
        self.injected.store(true, Ordering::Release);
        if was_empty {
            // Read after the push: a park replaced after this read is followed by a
            // drain of the queue before the loop parks again, which sees the push.
            self.unparker().unpark();
        }
    }

    /// The unparker of the loop's current park.
    fn unparker(&self) -> Unparker {
        self.unparker
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes everything queued remotely.
    fn drain(&self) -> Vec<WakeRef> {
        if !self.injected.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        self.take_queued()
    }

    /// Takes everything queued remotely, under the lock (after `injected` said so).
    fn take_queued(&self) -> Vec<WakeRef> {
        self.lock().as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Closes the queue (the loop is being dropped) and gives back what it held.
    fn close(&self) -> Vec<WakeRef> {
        self.lock().take().unwrap_or_default()
    }

    /// The remote queue (a poisoned lock still holds a valid queue).
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<WakeRef>>> {
        self.injector.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The state of one loop.
pub(crate) struct Inner {
    /// The remote wake queue.
    shared: Arc<Shared>,
    /// Every task not yet finished (including `newthread`s not yet started).
    tasks: RefCell<TaskList>,
    /// Tasks ready to be polled, in wake order.
    ready: RefCell<RunQueue>,
    /// How the loop waits.
    park: RefCell<Box<dyn Park>>,
    /// Where the loop reads the time.
    clock: Box<dyn Clock>,
    /// Armed timers.
    pub(crate) timers: RefCell<Timers>,
    /// The task being polled (innermost, for inline resumes).
    pub(crate) current: Cell<Option<TaskPtr>>,
    /// The next task id.
    next_id: Cell<u64>,
    /// Started, unfinished tasks.
    pub(crate) alive: Cell<usize>,
    /// Waits that go on without a [look](Inner::run_collected) first, since one found
    /// nothing: a loop woken for one event at a time (one connection, a quiet server)
    /// would otherwise make two `epoll_wait`s per wake.
    skip_looks: Cell<u8>,
    /// Set by `stop()`, consumed by `start()`.
    stop: Cell<bool>,
    /// A suspended task may have no handle left (see `cancel_orphans`).
    pub(crate) orphaned: Cell<bool>,
    /// Inside `run`/`poll`/`start` (they must not nest on one loop).
    in_turn: Cell<bool>,
    /// A panic to re-raise from the next `run`/`poll`/`start`.
    pub(crate) pending_panic: RefCell<Option<Payload>>,
    /// What happens to a thread's panic nobody can join.
    pub(crate) panic_policy: Cell<PanicPolicy>,
    /// Panics dropped under [`PanicPolicy::Isolate`].
    pub(crate) isolated_panics: Cell<u64>,
    /// The environment of code outside any thread; threads created there inherit it.
    pub(crate) root_env: RefCell<Env>,
    /// What the layer above keeps with the loop (see [`Executor::extension`]).
    extension: RefCell<Option<Rc<dyn Any>>>,
    /// Polls and time busy and parked (see [`Executor::metrics`]).
    pub(crate) counters: Counters,
}

/// The run queue was borrowed when a wake came (a bug in this crate): panics, with the
/// entry moved here so that the usual push holds nothing to drop on the way out (and
/// saves no registers for it).
#[cold]
#[inline(never)]
fn queue_busy(entry: WakeRef) -> ! {
    drop(entry);
    panic!("sock-sched: the run queue is already borrowed");
}

/// How long a turn may park.
enum Wait {
    /// Park with this timeout (`None`: until unparked).
    Park(Option<Duration>),
    /// Nothing can wake the loop: return instead of parking forever.
    Nothing,
}

impl Executor {
    /// A loop on a [`ThreadPark`] and the [`MonotonicClock`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// assert_eq!(ex.run(async { 1 }), 1);
    /// ```
    pub fn new() -> Self {
        Self::with_park(ThreadPark::new(), MonotonicClock)
    }

    /// A loop that waits through `park` and reads time from `clock` (the facade passes a
    /// reactor-backed park; tests pass a [`ManualPark`](crate::ManualPark)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, ManualClock, ManualPark};
    ///
    /// let clock = ManualClock::new();
    /// let ex = Executor::with_park(ManualPark::new(clock.clone()), clock);
    /// assert_eq!(ex.run(async { "done" }), "done");
    /// ```
    pub fn with_park(park: impl Park + 'static, clock: impl Clock + 'static) -> Self {
        let shared = Arc::new(Shared {
            injector: Mutex::new(Some(Vec::new())),
            injected: AtomicBool::new(false),
            unparker: RwLock::new(park.unparker()),
            pool: CellPool::new(),
        });
        let origin = clock.now();
        let inner = Inner {
            shared,
            tasks: RefCell::new(TaskList::default()),
            ready: RefCell::new(RunQueue::default()),
            park: RefCell::new(Box::new(park)),
            clock: Box::new(clock),
            timers: RefCell::new(Timers::new(origin, DEFAULT_RESOLUTION)),
            current: Cell::new(None),
            next_id: Cell::new(0),
            alive: Cell::new(0),
            skip_looks: Cell::new(0),
            stop: Cell::new(false),
            orphaned: Cell::new(false),
            in_turn: Cell::new(false),
            pending_panic: RefCell::new(None),
            panic_policy: Cell::new(PanicPolicy::default()),
            isolated_panics: Cell::new(0),
            root_env: RefCell::new(Env::default()),
            extension: RefCell::new(None),
            counters: Counters::new(origin),
        };
        Self {
            inner: Rc::new(inner),
        }
    }

    /// Makes this the thread's default loop (what the free functions use outside a loop).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// ex.make_current();
    /// assert!(Executor::current().ptr_eq(&ex));
    /// ```
    pub fn make_current(&self) {
        context::set_default(self.clone());
    }

    /// The loop running on this thread, else the thread's default loop, else a new loop
    /// that becomes the default.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let inside = ex.run(async { Executor::current() });
    /// assert!(inside.ptr_eq(&ex));
    /// ```
    pub fn current() -> Self {
        if let Some(inner) = context::entered() {
            return Self { inner };
        }
        context::default_executor().unwrap_or_else(|| {
            let ex = Self::new();
            ex.make_current();
            ex
        })
    }

    /// Closes the loop: every thread is cancelled (its future dropped, as the current
    /// thread, so its destructors can still call [`current`](crate::current)), every
    /// timer and callback is dropped, and so is the environment outside threads. What
    /// they held goes with them — sockets, handles to this very loop — so a loop that
    /// refers to itself through its tasks is freed once its owner lets go. The loop
    /// stays usable: new threads and timers may be added after. Closing twice is a no-op.
    ///
    /// # Panics
    ///
    /// If called from inside this loop's `run`, `poll` or `start` (call
    /// [`stop`](Executor::stop) there, and close after).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let me = ex.clone();
    /// let t = ex.spawn(async move {
    ///     let _keep = me; // the loop, held by its own task: a cycle
    ///     std::future::pending::<()>().await
    /// });
    /// ex.poll(Some(std::time::Duration::ZERO));
    /// ex.close();
    /// assert!(t.is_finished());
    /// ```
    pub fn close(&self) {
        assert!(
            !self.inner.in_turn.get(),
            "sock-sched: close called from inside the loop's run/poll/start; call stop() there \
             and close the loop after it returns"
        );
        self.inner.close();
    }

    /// The loop running on this thread now (inside its `run`, `poll` or `start`), if
    /// any: unlike [`current`](Executor::current), never the default loop and never a
    /// new one.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// assert!(Executor::entered().is_none());
    /// assert!(ex.run(async { Executor::entered() }).is_some_and(|e| e.ptr_eq(&ex)));
    /// ```
    pub fn entered() -> Option<Self> {
        context::entered().map(|inner| Self { inner })
    }

    /// A number naming this loop while it lives (cheap to keep and compare; a later
    /// loop may reuse it once this one is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// assert_eq!(ex.run(async { Executor::entered_id() }), Some(ex.id()));
    /// assert_eq!(Executor::entered_id(), None);
    /// ```
    pub fn id(&self) -> usize {
        Rc::as_ptr(&self.inner) as usize
    }

    /// The [`id`](Executor::id) of the loop running on this thread now, if any —
    /// [`entered`](Executor::entered) without making a handle.
    ///
    /// # Examples
    ///
    /// See [`id`](Executor::id).
    #[inline]
    pub fn entered_id() -> Option<usize> {
        context::entered_id()
    }

    /// Whether both handles name the same loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// assert!(ex.ptr_eq(&ex.clone()));
    /// assert!(!ex.ptr_eq(&Executor::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Spawns `future` as a new thread, queued to run on the loop; the handle joins it.
    ///
    /// Dropping the handle detaches the thread (it keeps running).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let t = ex.spawn(async { 7 });
    /// ex.start();
    /// assert_eq!(t.try_join().unwrap().unwrap(), 7);
    /// ```
    pub fn spawn<F: Future + 'static>(&self, future: F) -> Thread<F::Output> {
        self.spawn_with(future, None)
    }

    /// Spawns with the given extras (name), queued to run.
    pub(crate) fn spawn_with<F: Future + 'static>(
        &self,
        future: F,
        extras: Option<Box<Extras>>,
    ) -> Thread<F::Output> {
        // SAFETY: `F` and its output are `'static`: nothing they borrow can go away.
        unsafe { self.spawn_unchecked(future, extras) }
    }

    /// Spawns with the given extras (name), queued to run, whatever `F` borrows.
    ///
    /// # Safety
    ///
    /// As [`Inner::insert`]: the thread's future and output are dropped before anything
    /// they borrow goes away.
    pub(crate) unsafe fn spawn_unchecked<F: Future>(
        &self,
        future: F,
        extras: Option<Box<Extras>>,
    ) -> Thread<F::Output> {
        // SAFETY: passed on to the caller.
        let task = unsafe { self.inner.insert(future, self.inner.inherit(extras)) };
        self.inner.schedule_new(task.task());
        Thread::new(self.clone(), task)
    }

    /// Creates a thread with the given extras (name), not started.
    pub(crate) fn create<F: Future + 'static>(
        &self,
        future: F,
        extras: Option<Box<Extras>>,
    ) -> Thread<F::Output> {
        // SAFETY: `F` and its output are `'static`: nothing they borrow can go away.
        let task = unsafe { self.inner.insert(future, self.inner.inherit(extras)) };
        Thread::new(self.clone(), task)
    }

    /// Runs the loop until `future` finishes and returns its output.
    ///
    /// `future` runs as a thread of this loop (`current()`, `suspend`, the thread's
    /// environment work in it); other threads run meanwhile. It need not be `'static`: it
    /// may borrow the caller's locals, because it never outlives this call. If `run`
    /// unwinds before the future finished (another thread panicked with nobody to join
    /// it), the future is dropped first: its thread counts as finished (cancelled) and its
    /// `on_finish` callbacks run. A handle to the thread kept past `run` sees a finished
    /// thread.
    ///
    /// # Panics
    ///
    /// If `future` panics (the panic is re-raised), if another thread panics with nobody
    /// to join it, or if called from inside a thread of this loop (`.await` instead).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// assert_eq!(ex.run(async { vec![1, 2, 3] }), vec![1, 2, 3]);
    ///
    /// let words = vec!["borrowed", "locals"];
    /// let longest = ex.run(async { words.iter().map(|w| w.len()).max() });
    /// assert_eq!(longest, Some(8));
    /// ```
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.scoped(future, |thread| {
            // Entered once for every turn of the run, not once per turn.
            let _turn = TurnGuard::enter(&self.inner);
            loop {
                if let Some(result) = thread.try_join() {
                    return result.unwrap_or_else(|e| reraise(e));
                }
                self.inner.turn_entered(None);
            }
        })
    }

    /// Runs one iteration of the loop; parks up to `timeout` (`None`: no limit) if nothing
    /// is ready.
    ///
    /// `Some(Duration::ZERO)` never blocks and runs every thread that is ready. Returns
    /// `true` if it did some work (ran a thread or fired a timer), `false` if it returned
    /// without work: the timeout passed, or nothing is alive that could ever wake it (no
    /// started thread, no timer), in which case it does not park at all.
    ///
    /// # Panics
    ///
    /// If a thread panics with nobody to join it (the panic is re-raised), or if called
    /// from inside a thread of this loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// assert!(!ex.poll(Some(Duration::ZERO))); // nothing to do
    /// let t = ex.spawn(async {});
    /// assert!(ex.poll(Some(Duration::ZERO)));
    /// assert!(t.is_finished());
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> bool {
        self.inner.turn(timeout)
    }

    /// Runs the loop until nothing can run again, or until [`stop`](Self::stop) is
    /// called.
    ///
    /// "Nothing can run again" means: no thread is ready, no timer (sleep or callback) is
    /// armed, and no thread can be woken — none is parked on something that holds its
    /// waker (a socket, a join, a channel, a job on another OS thread). Threads left
    /// then are suspended (or wait on something that dropped their waker): those nobody
    /// holds a handle to can never run again and are cancelled first — their future is
    /// dropped and their `on_finish` callbacks are told [`Outcome::Cancelled`]; if that
    /// wakes another thread, the loop goes on. Threads whose handle is held stay, so the
    /// caller may resume them and start again (the seed's `start()` returns the same way).
    ///
    /// [`Outcome::Cancelled`]: crate::Outcome::Cancelled
    ///
    /// # Panics
    ///
    /// As [`poll`](Self::poll).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let a = ex.spawn(async { 1 });
    /// let b = ex.spawn(async { 2 });
    /// ex.start();
    /// assert!(a.is_finished() && b.is_finished());
    /// ```
    ///
    /// Suspended threads do not keep it running; one nobody can resume is cancelled:
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use sock::sched::{Executor, Outcome};
    ///
    /// let ex = Executor::new();
    /// let kept = ex.spawn(async { sock::sched::suspend().await });
    /// let ended = Rc::new(Cell::new(None));
    /// let seen = ended.clone();
    /// let lost = ex.spawn(async { sock::sched::suspend().await });
    /// lost.on_finish(move |outcome| seen.set(Some(outcome)));
    /// drop(lost); // nobody can resume it now
    /// ex.start(); // returns: nothing can run
    /// assert_eq!(ended.get(), Some(Outcome::Cancelled));
    /// assert!(!kept.is_finished()); // its handle may still resume it
    /// ```
    pub fn start(&self) {
        loop {
            if self.inner.stop.replace(false) {
                return;
            }
            if self.inner.is_idle() {
                return;
            }
            if self.inner.is_quiet() {
                if self.inner.cancel_orphans() > 0 {
                    continue; // their drops may have woken others
                }
                if self.inner.is_stuck() {
                    if self.inner.cancel_unreachable() == 0 {
                        return;
                    }
                    continue;
                }
            }
            self.inner.turn(None);
        }
    }

    /// Makes the running [`start`](Self::start) return after the current iteration (or
    /// the next `start` return after its first iteration if none is running).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let stopper = ex.clone();
    /// ex.spawn(async move { stopper.stop() });
    /// let forever = ex.spawn(std::future::pending::<()>());
    /// ex.start(); // returns although `forever` is alive
    /// assert!(!forever.is_finished());
    /// ```
    pub fn stop(&self) {
        self.inner.stop.set(true);
    }

    /// When the loop next has something to do: the current time if a thread is ready, the
    /// earliest timer (rounded up to the resolution) otherwise, `None` if neither.
    ///
    /// Never later than the earliest timer. For a timer more than 64 ticks away it may be
    /// earlier: the moment the timer wheel moves it closer (a `poll` then does no visible
    /// work, and the next deadline is nearer).
    ///
    /// A host loop waits until then (or for the backend's readiness) and calls
    /// `poll(Some(Duration::ZERO))`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::{Executor, ManualClock, ManualPark};
    ///
    /// let clock = ManualClock::new();
    /// let ex = Executor::with_park(ManualPark::new(clock.clone()), clock);
    /// assert_eq!(ex.next_deadline(), None);
    /// ex.spawn(sock::sleep(Duration::from_millis(5)));
    /// ex.poll(Some(Duration::ZERO)); // the thread starts and arms its timer
    /// assert_eq!(ex.next_deadline(), Some(ex.clock() + Duration::from_millis(5)));
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.inner.next_deadline()
    }

    /// The loop's current time.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// assert!(ex.clock() <= std::time::Instant::now());
    /// ```
    pub fn clock(&self) -> Instant {
        self.inner.now()
    }

    /// The timer resolution: deadlines are rounded up to a multiple of it (1 ms default).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert_eq!(sock::sched::Executor::new().resolution(), Duration::from_millis(1));
    /// ```
    pub fn resolution(&self) -> Duration {
        self.inner.timers.borrow().resolution()
    }

    /// Sets the timer resolution (at least 1 ns).
    ///
    /// # Panics
    ///
    /// If a timer is armed: set it right after creating the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ex = sock::sched::Executor::new();
    /// ex.set_resolution(Duration::from_micros(100));
    /// assert_eq!(ex.resolution(), Duration::from_micros(100));
    /// ```
    pub fn set_resolution(&self, resolution: Duration) {
        self.inner.timers.borrow_mut().set_resolution(resolution);
    }

    /// A handle that wakes this loop from any OS thread (the park's unparker).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let unparker = ex.unparker();
    /// std::thread::spawn(move || unparker.unpark()).join().unwrap();
    /// ```
    pub fn unparker(&self) -> Unparker {
        self.inner.shared.unparker()
    }

    /// Replaces how the loop waits: the layer above gives a loop made by the scheduler
    /// alone (by [`Builder`](crate::Builder), [`set_env`](crate::set_env), a free
    /// [`spawn`](crate::spawn), …) its reactor, so a thread has one loop whatever its
    /// first call was. Wakes from other threads go to the new park from then on; its
    /// tasks, timers and environment stay.
    ///
    /// # Panics
    ///
    /// If called while the loop is parked (from inside its park).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, ThreadPark};
    ///
    /// let ex = Executor::new();
    /// let t = ex.spawn(async { 5 });
    /// ex.replace_park(ThreadPark::new());
    /// assert_eq!(ex.run(t.join()).unwrap(), 5);
    /// ```
    pub fn replace_park(&self, park: impl Park + 'static) {
        let unparker = park.unparker();
        let mut current = self.inner.park.try_borrow_mut().expect(
            "sock-sched: replace_park called while the loop is parked; call it from a task",
        );
        *current = Box::new(park);
        *self
            .inner
            .shared
            .unparker
            .write()
            .unwrap_or_else(PoisonError::into_inner) = unparker;
    }

    /// What the layer above keeps with this loop, if it is a `T` (the facade keeps the
    /// loop's reactor here, so the scheduler's record of the current loop is the only
    /// one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let ex = sock::sched::Executor::new();
    /// assert!(ex.extension::<String>().is_none());
    /// ex.set_extension(Rc::new(String::from("reactor")));
    /// assert_eq!(ex.extension::<String>().as_deref().map(String::as_str), Some("reactor"));
    /// assert!(ex.extension::<u32>().is_none());
    /// ```
    pub fn extension<T: Any>(&self) -> Option<Rc<T>> {
        let slot = self.inner.extension.borrow();
        slot.clone().and_then(|value| value.downcast::<T>().ok())
    }

    /// Runs `f` on the [`extension`](Executor::extension) of the loop running on this
    /// thread, if one runs and its extension is a `T`: what the layer above reads on
    /// every socket it opens, without a handle to the loop or to the extension.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// ex.set_extension(Rc::new(String::from("reactor")));
    /// let len = |s: &String| s.len();
    /// assert_eq!(ex.run(async { Executor::with_entered_extension(len) }), Some(7));
    /// assert_eq!(Executor::with_entered_extension(len), None); // no loop runs
    /// ```
    #[inline]
    pub fn with_entered_extension<T: Any, R>(f: impl FnOnce(&T) -> R) -> Option<R> {
        context::with_entered(|inner| {
            let slot = inner.extension.borrow();
            slot.as_deref().and_then(<dyn Any>::downcast_ref).map(f)
        })
        .flatten()
    }

    /// Keeps `value` with this loop (replacing what was kept); see
    /// [`extension`](Executor::extension).
    ///
    /// # Examples
    ///
    /// See [`extension`](Executor::extension).
    pub fn set_extension<T: Any>(&self, value: Rc<T>) {
        let previous = self.inner.extension.replace(Some(value));
        drop(previous);
    }

    /// Started threads that have not finished yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// ex.spawn(async {});
    /// assert_eq!(ex.alive(), 1);
    /// ex.start();
    /// assert_eq!(ex.alive(), 0);
    /// ```
    pub fn alive(&self) -> usize {
        self.inner.alive.get()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("alive", &self.inner.alive.get())
            .field("ready", &self.inner.ready.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Whether `shared` is this loop's shared part.
    pub(crate) fn is_shared(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// Whether `header` belongs to this loop.
    pub(crate) fn owns(&self, entry: &WakeRef) -> bool {
        entry.shares(&self.shared)
    }

    /// Tasks queued to run.
    pub(crate) fn runnable(&self) -> usize {
        self.ready.borrow().len()
    }

    /// Queues a woken task.
    #[inline]
    pub(crate) fn push_ready(&self, header: WakeRef) {
        let Ok(mut ready) = self.ready.try_borrow_mut() else {
            queue_busy(header);
        };
        if let Err(header) = ready.try_push(header) {
            drop(ready);
            self.push_ready_grown(header);
        }
    }

    /// [`push_ready`](Inner::push_ready) when the run queue is full: grows it.
    #[cold]
    #[inline(never)]
    fn push_ready_grown(&self, header: WakeRef) {
        self.ready.borrow_mut().push(header);
    }

    /// The loop's current time.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Creates a task for `future` (not yet started).
    ///
    /// # Safety
    ///
    /// As [`TaskRef::allocate`]: the task's future and output are dropped (it finished
    /// and its output was taken or discarded, or it was cancelled) before anything they
    /// borrow goes away. Always true for `'static` types.
    pub(crate) unsafe fn insert<F: Future>(
        &self,
        future: F,
        extras: Option<Box<Extras>>,
    ) -> Typed<F::Output> {
        let mut tasks = self.tasks.borrow_mut();
        let id = self.next_id.replace(self.next_id.get() + 1);
        let core = Core::new(id, tasks.next_key(), extras);
        // SAFETY: passed on to the caller; `Inner` is `!Send`, so this is its own thread.
        let task = unsafe { TaskRef::allocate(future, core, self.shared.clone()) };
        tasks.insert(task.task().clone());
        task
    }

    /// Adds the creator's environment (the current thread's, or this loop's root) to a new
    /// thread's extras.
    fn inherit(&self, extras: Option<Box<Extras>>) -> Option<Box<Extras>> {
        let creator = context::entered().and_then(|inner| inner.current_task());
        let env = match creator {
            Some(task) => task.core().with_extras(|e| e.env.inherit()).flatten(),
            None => self.root_env.borrow().inherit(),
        };
        let Some(env) = env else { return extras };
        let mut extras = extras.unwrap_or_default();
        extras.env = env;
        Some(extras)
    }

    /// Counts a task alive and queues it for its first poll.
    pub(crate) fn schedule_new(&self, task: &TaskRef) {
        self.mark_started(task.core());
        if let Some(entry) = task.schedule() {
            self.push_ready(entry);
        }
    }

    /// Counts a task alive (once).
    #[inline]
    fn mark_started(&self, core: &Core) {
        if !core.is(flag::STARTED) {
            self.count_started(core);
        }
    }

    /// [`mark_started`](Inner::mark_started) for a task not counted yet: once per task.
    #[cold]
    fn count_started(&self, core: &Core) {
        core.set(flag::STARTED);
        self.count_alive();
    }

    /// Counts one more started, unfinished task (its `STARTED` flag is the caller's to
    /// set).
    #[cold]
    fn count_alive(&self) {
        self.alive.set(self.alive.get() + 1);
    }

    /// The task being polled right now, if any.
    pub(crate) fn current_task(&self) -> Option<TaskRef> {
        // SAFETY: the loop's own thread (`Inner` is `!Send`); `current` is set only
        // for the length of a poll (or a drop) whose caller holds a handle to the task.
        self.current.get().map(|task| unsafe { task.to_ref() })
    }

    /// Polls `task` once, as the current task; finishes it if it completed, cancels it if
    /// it was cancelled while running.
    ///
    /// # Panics
    ///
    /// Re-raises the task's panic if nobody holds a handle to it (under
    /// [`PanicPolicy::Abort`]).
    #[inline]
    pub(crate) fn poll_task(self: &Rc<Self>, task: &TaskRef) {
        let flags = task.core().bits();
        debug_assert!(
            flags & (flag::RUNNING | flag::DONE) == 0,
            "a running task was polled"
        );
        self.poll_flagged(task, flags);
    }

    /// [`poll_task`](Inner::poll_task) with the task's flags as the caller just read
    /// them: the flags are loaded and stored once before the poll and once after it,
    /// not once per test and change.
    #[inline]
    fn poll_flagged(self: &Rc<Self>, task: &TaskRef, mut flags: u8) {
        let core = task.core();
        if flags & flag::STARTED == 0 {
            self.count_alive();
            flags |= flag::STARTED;
        }
        let previous = self.current.replace(Some(task.as_task_ptr()));
        core.set_bits(flags | flag::RUNNING);
        let poll = {
            let _span = crate::trace::enter(task);
            crate::coop::budgeted(|| {
                task.with_waker(|waker| task.poll(&mut Context::from_waker(waker)))
            })
        };
        let flags = core.bits() & !flag::RUNNING;
        core.set_bits(flags);
        self.current.set(previous);
        // One test on the usual path (pending, not cancelled); the rest out of line.
        if poll.is_ready() || flags & flag::CANCEL != 0 {
            self.after_poll(task, poll);
        }
    }

    /// The rare ends of [`poll_task`](Inner::poll_task): finishes a task that completed,
    /// cancels one cancelled while it ran.
    #[cold]
    #[inline(never)]
    fn after_poll(self: &Rc<Self>, task: &TaskRef, poll: Poll<bool>) {
        match poll {
            Poll::Ready(panicked) => self.finish(task, panicked),
            Poll::Pending => self.cancel(task),
        }
    }

    /// Takes a task out of the task list (if it is still there).
    pub(crate) fn remove(&self, task: &TaskRef) -> Option<TaskRef> {
        self.tasks.borrow_mut().remove(task)
    }

    /// See [`Executor::close`].
    fn close(self: &Rc<Self>) {
        drop(self.shared.drain());
        drop(self.ready.borrow_mut().take_all());
        let tasks = self.tasks.borrow_mut().take_all();
        for task in &tasks {
            task.core().set(flag::DONE | flag::CANCELLED);
            self.drop_future(task);
        }
        self.alive.set(0);
        drop(tasks);
        let fresh = Timers::new(self.now(), self.timers.borrow().resolution());
        drop(self.timers.replace(fresh));
        drop(self.root_env.take());
        drop(self.pending_panic.take());
    }

    /// When [`is_quiet`](Self::is_quiet): whether no task can be woken, so nothing can
    /// run again unless code outside the loop acts. A task parked on a socket, a sleep, a
    /// join, a channel or a job on another OS thread is wakeable: its waker is stored
    /// there. Stops at the first wakeable task.
    fn is_stuck(&self) -> bool {
        self.tasks
            .borrow()
            .iter()
            .all(|task| task.core().is(flag::DONE) || task.is_unwakeable())
    }

    /// Whether the next turn would park with no timer to end it: nothing queued (locally
    /// or from another OS thread), no timer armed, no panic to re-raise.
    fn is_quiet(&self) -> bool {
        self.ready.borrow().is_empty()
            && !self.shared.injected.load(Ordering::Acquire)
            && self.timers.borrow().is_empty()
            && self.pending_panic.borrow().is_none()
    }

    /// If a suspended task may have lost its last handle (`orphaned`: set when a task
    /// suspends without handles, or loses its last handle while suspended), cancels the
    /// unreachable tasks; returns how many.
    fn cancel_orphans(self: &Rc<Self>) -> usize {
        if !self.orphaned.replace(false) {
            return 0;
        }
        self.cancel_unreachable()
    }

    /// Cancels every task `doomed` picks; returns how many.
    fn cancel_where(self: &Rc<Self>, doomed: impl Fn(&TaskRef) -> bool) -> usize {
        let doomed: Vec<TaskRef> = self
            .tasks
            .borrow()
            .iter()
            .filter(|task| doomed(task))
            .cloned()
            .collect();
        for task in &doomed {
            self.cancel(task);
        }
        doomed.len()
    }

    /// Cancels every task that nothing can wake and nobody holds a handle to (its future
    /// is dropped, its `on_finish` callbacks told [`Outcome::Cancelled`]): it could never
    /// run again. Returns how many. Dropping their futures may wake others.
    ///
    /// [`Outcome::Cancelled`]: crate::Outcome::Cancelled
    fn cancel_unreachable(self: &Rc<Self>) -> usize {
        self.cancel_where(|task| {
            let core = task.core();
            !core.is(flag::DONE | flag::RUNNING) && core.handles.get() == 0 && task.is_unwakeable()
        })
    }

    /// Whether `start()` has nothing left to wait for.
    fn is_idle(&self) -> bool {
        self.alive.get() == 0
            && self.timers.borrow().callbacks() == 0
            && self.ready.borrow().is_empty()
            && self.pending_panic.borrow().is_none()
    }

    /// One iteration of the loop (see the module docs).
    pub(crate) fn turn(self: &Rc<Self>, timeout: Option<Duration>) -> bool {
        let _turn = TurnGuard::enter(self);
        self.turn_entered(timeout)
    }

    /// [`turn`](Inner::turn) inside a [`TurnGuard`] the caller holds.
    fn turn_entered(self: &Rc<Self>, timeout: Option<Duration>) -> bool {
        if self.pending_panic.borrow().is_some() {
            self.reraise_pending();
        }
        let worked = self.may_have_work() && self.run_ready();
        if worked || !self.ready.borrow().is_empty() {
            self.counters.poll();
            self.park.borrow_mut().park(Some(Duration::ZERO));
            return self.run_ready() || worked;
        }
        self.park_until_work(timeout)
    }

    /// Re-raises the panic a thread left with nobody to join it (see `defer_panic`).
    #[cold]
    fn reraise_pending(&self) {
        if let Some(payload) = self.pending_panic.borrow_mut().take() {
            resume_unwind(payload);
        }
    }

    /// Parks until something runs or `timeout` passes. A wake-up for a timer that only
    /// moved timers closer (a wheel cascade) parks again.
    fn park_until_work(self: &Rc<Self>, timeout: Option<Duration>) -> bool {
        if self.may_look_first(timeout) && self.run_collected() {
            return true;
        }
        let deadline = timeout.map(|t| self.now().checked_add(t));
        loop {
            let start = self.now();
            let remaining =
                deadline.map(|d| d.map_or(Duration::MAX, |d| d.saturating_duration_since(start)));
            let timer = self.next_timer_wait(start);
            let Wait::Park(wait) = self.idle_wait(remaining, timer) else {
                return false;
            };
            self.park.borrow_mut().park(wait);
            // The one clock read after a wait: the time parked, the timers due, and
            // whether the wait was the timer's.
            let woke = self.now();
            self.counters.waited(start, woke);
            if self.run_ready_at(Some(woke)) {
                return true;
            }
            let for_timer = timer.is_some_and(|t| Some(t) == wait);
            let timer_reached = timer.is_some_and(|t| woke >= start + t);
            if !for_timer || !timer_reached || wait == Some(Duration::ZERO) {
                return false;
            }
        }
    }

    /// Before a wait that may block: collects the events (and wakes) already there
    /// with a zero-timeout park, fires the timers due, and runs the tasks that woke —
    /// a busy loop's usual turn, with one clock read when timers are armed (for the
    /// timers: nothing is timed) and none otherwise. Whether something ran (then no
    /// wait is needed, and the look counts as the turn's poll; one that found nothing
    /// is not counted apart from the wait that follows).
    fn run_collected(self: &Rc<Self>) -> bool {
        self.park.borrow_mut().park(Some(Duration::ZERO));
        let worked = self.run_batch(Some(None));
        if worked {
            self.counters.poll();
        } else {
            self.skip_looks.set(LOOKS_SKIPPED);
        }
        worked
    }

    /// Whether the wait for `timeout` (from the caller) begins with a
    /// [look](Inner::run_collected): only when it may block (a zero timeout is a look
    /// already; with nothing alive the loop does not wait at all). With timers armed
    /// too: a busy turn then reads the clock once, for the timers, instead of twice
    /// around a wait (with the time parked and the next timer's distance computed).
    /// After a look that found nothing, the next [`LOOKS_SKIPPED`] waits go without one:
    /// a look costs a syscall, a wait timed without one two clock reads.
    fn may_look_first(&self, timeout: Option<Duration>) -> bool {
        let may_block =
            timeout != Some(Duration::ZERO) && (timeout.is_some() || self.alive.get() > 0);
        if !may_block {
            return false;
        }
        let skip = self.skip_looks.get();
        if skip > 0 {
            self.skip_looks.set(skip - 1);
            return false;
        }
        true
    }

    /// How long to park when nothing is ready.
    fn idle_wait(&self, timeout: Option<Duration>, timer: Option<Duration>) -> Wait {
        match (timeout, timer) {
            (Some(t), Some(w)) => Wait::Park(Some(t.min(w))),
            (Some(t), None) => Wait::Park(Some(t)),
            (None, Some(w)) => Wait::Park(Some(w)),
            (None, None) if self.alive.get() > 0 => Wait::Park(None),
            (None, None) => Wait::Nothing,
        }
    }

    /// Time from `now` until the earliest timer is due.
    fn next_timer_wait(&self, now: Instant) -> Option<Duration> {
        let due = self.timers.borrow_mut().next_due_at()?;
        Some(due.saturating_duration_since(now))
    }

    /// See [`Executor::next_deadline`].
    fn next_deadline(&self) -> Option<Instant> {
        if !self.ready.borrow().is_empty() {
            return Some(self.now());
        }
        self.timers.borrow_mut().next_due_at()
    }

    /// Whether [`run_ready`](Inner::run_ready) may find something: a task queued, a
    /// remote wake, a timer armed. (A remote wake that comes after this look unparks the
    /// wait that follows.)
    fn may_have_work(&self) -> bool {
        !self.timers.borrow().is_empty()
            || !self.ready.borrow().is_empty()
            || self.shared.injected.load(Ordering::Acquire)
    }

    /// Takes remote wakes, fires due timers, and runs every task ready at that point.
    fn run_ready(self: &Rc<Self>) -> bool {
        self.run_ready_at(None)
    }

    /// [`run_ready`](Inner::run_ready), with the time now if the caller just read it.
    fn run_ready_at(self: &Rc<Self>, now: Option<Instant>) -> bool {
        self.run_batch(Some(now))
    }

    /// Takes remote wakes, fires the timers due at `timers` (`Some(None)`: read the
    /// clock; `None`: leave them), and runs every task ready at that point.
    fn run_batch(self: &Rc<Self>, timers: Option<Option<Instant>>) -> bool {
        // The usual turn has no remote wake: one atomic swap, no queue made or dropped.
        if self.shared.injected.swap(false, Ordering::AcqRel) {
            let remote = self.shared.take_queued();
            self.ready.borrow_mut().extend(remote);
        }
        let mut worked = timers.is_some_and(|now| self.fire_timers(now));
        let n = self.ready.borrow().len();
        let prefetch = n >= PREFETCH_MIN_BATCH;
        for _ in 0..n {
            let Some(header) = self.ready.borrow_mut().pop() else {
                break;
            };
            if prefetch {
                self.prefetch_ahead();
            }
            worked |= self.run_header(&header);
        }
        worked
    }

    /// Asks the CPU to load, ahead of time, what the run queue's next tasks will touch,
    /// in two stages: the header of the task [`PREFETCH_AHEAD`]` * 2` places ahead, and
    /// the task-list slot (a finishing task is removed from it) of the one
    /// [`PREFETCH_AHEAD`] places ahead, whose header was asked for earlier. A million
    /// sleepers are woken, and finish, in random memory order, often many thousands in
    /// one turn: too many for the lines the wakes loaded to still be cached. A batch
    /// under [`PREFETCH_MIN_BATCH`] skips it: the wakes that queued it touched the same
    /// lines moments ago, and they are still cached.
    fn prefetch_ahead(&self) {
        let ready = self.ready.borrow();
        if let Some(far) = ready.get(PREFETCH_AHEAD * 2) {
            far.prefetch();
        }
        if let Some(near) = ready.get(PREFETCH_AHEAD) {
            // SAFETY: the loop's own thread, the tasks' owner thread.
            let key = unsafe { near.key() };
            self.tasks.borrow().prefetch(key);
        }
    }

    /// Polls the task a queued header names, unless it is gone.
    fn run_header(self: &Rc<Self>, entry: &WakeRef) -> bool {
        entry.clear_scheduled();
        // SAFETY: the loop runs on its own thread, the tasks' owner thread.
        let Some(task) = (unsafe { entry.to_local() }) else {
            return false;
        };
        let flags = task.core().bits();
        if flags & (flag::RUNNING | flag::DONE) != 0 {
            return false;
        }
        self.poll_flagged(&task, flags);
        true
    }

    /// Fires every timer due at `now` (read here if `None`); callbacks run with no
    /// borrow held.
    fn fire_timers(&self, now: Option<Instant>) -> bool {
        let now = {
            let mut timers = self.timers.borrow_mut();
            if timers.is_empty() {
                return false;
            }
            let now = now.unwrap_or_else(|| self.now());
            if timers.is_quiet_at(now) {
                return false;
            }
            timers.nanos(now)
        };
        let mut batch = WakeBatch::default();
        let mut fired = false;
        loop {
            let due = self.timers.borrow_mut().pop_due(now);
            match due {
                None => break,
                Some(Due::Wake(waker)) => batch.push(waker),
                Some(Due::Once(f)) => {
                    batch.wake_all();
                    f();
                }
                Some(Due::Every(timer, mut f)) => {
                    batch.wake_all();
                    let go_on = f();
                    let done = self.timers.borrow_mut().rearm(timer, f, go_on);
                    drop(done);
                }
            }
            fired = true;
        }
        batch.wake_all();
        fired
    }
}

/// Wakers of expired sleeps, held briefly so that their tasks are prefetched while the
/// next expired timers are taken out, and woken together (callbacks still run in
/// deadline order: the batch is woken before each one).
#[derive(Default)]
struct WakeBatch {
    /// The wakers, in the order their timers expired.
    wakers: [Option<Waker>; WAKE_BATCH],
    /// How many are held.
    len: usize,
}

/// How far ahead in the run queue [`Inner::prefetch_ahead`] looks.
const PREFETCH_AHEAD: usize = 4;

/// How many waits go on without a look after one look found nothing (see
/// [`Inner::may_look_first`]): a loop woken one event at a time makes about one
/// `epoll_wait` per wake, a busy one still looks on almost every turn.
const LOOKS_SKIPPED: u8 = 16;

/// The smallest batch [`Inner::prefetch_ahead`] runs for: the three lines each of its
/// tasks touches (header and task-list slot) then outgrow a core's first-level cache
/// (256 × 3 lines of 64 B = 48 KiB).
const PREFETCH_MIN_BATCH: usize = 256;

/// How many expired sleeps [`WakeBatch`] holds before waking them.
const WAKE_BATCH: usize = 16;

impl WakeBatch {
    /// Adds a waker (prefetching its task), waking the batch when full.
    fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        crate::task::prefetch_waker(&waker);
        self.wakers[self.len] = Some(waker);
        self.len += 1;
        if self.len == WAKE_BATCH {
            self.wake_all();
        }
    }

    /// Wakes every held waker, in order.
    fn wake_all(&mut self) {
        let len = std::mem::take(&mut self.len);
        self.wakers[..len]
            .iter_mut()
            .filter_map(Option::take)
            .for_each(Waker::wake);
    }
}

impl Drop for WakeBatch {
    /// Only reached with wakers held when a waker or a callback panicked: the rest are
    /// still woken (their timers have left the queue), further panics swallowed.
    fn drop(&mut self) {
        for waker in self.wakers.iter_mut().filter_map(Option::take) {
            drop(std::panic::catch_unwind(AssertUnwindSafe(|| waker.wake())));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.shared.close());
        let tasks = self.tasks.borrow_mut().take_all();
        for task in &tasks {
            task.core().set(flag::DONE | flag::CANCELLED);
            task.cancel();
        }
    }
}

/// Marks the loop as turning (and entered on this thread) until dropped, also on unwind.
struct TurnGuard {
    /// The loop.
    inner: Rc<Inner>,
    /// Restores the previously entered loop.
    _enter: context::EnterGuard,
}

impl TurnGuard {
    /// Enters `inner`.
    ///
    /// # Panics
    ///
    /// If `inner` is already turning: `run`/`poll`/`start` were called from inside one of
    /// its threads.
    fn enter(inner: &Rc<Inner>) -> Self {
        assert!(
            !inner.in_turn.replace(true),
            "run/poll/start called from inside a thread of the same loop; `.await` the future \
             (or spawn it) instead"
        );
        Self {
            inner: inner.clone(),
            _enter: context::enter(inner),
        }
    }
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.inner.in_turn.set(false);
    }
}

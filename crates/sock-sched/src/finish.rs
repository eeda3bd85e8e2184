//! How a thread ends — it returns, panics, or is cancelled — and what its loop does then:
//! [`Outcome`], which `on_finish` callbacks are told; [`PanicPolicy`], what becomes of a
//! panic nobody can join; and the bookkeeping every ending shares.
//!
//! Every ending does the same steps: the thread is marked finished (with how), counted
//! out of the alive threads, forgotten by the loop, its joiner is woken, and its
//! `on_finish` callbacks run with the [`Outcome`]. A cancelled thread's future is dropped
//! in between, in place, as the current thread (so `current()` and the thread's
//! environment work in its destructors) — the same drop [`Executor::close`] does to
//! every thread. A thread cannot be dropped while it runs (its future is on the stack):
//! cancelling a running thread (itself, or one that resumed the current thread) marks
//! it, and the loop cancels it as soon as its current poll returns `Pending`; if that
//! poll finishes it instead, it has returned (or panicked), and its output stands.
//!
//! A panic is kept for whoever holds a [`Thread`](crate::Thread) handle; with no handle
//! left, the loop's [`PanicPolicy`] decides.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::task::Waker;

use crate::context;
use crate::executor::{Executor, Inner};
use crate::task::{Payload, TaskRef, flag};
use crate::thread::JoinError;

/// How a thread ended, as told to its [`on_finish`](crate::ThreadRef::on_finish)
/// callbacks.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use sock::sched::{Executor, Outcome};
///
/// let ex = Executor::new();
/// let seen = Rc::new(Cell::new(None));
/// let t = ex.spawn(std::future::pending::<()>());
/// let s = seen.clone();
/// t.on_finish(move |outcome| s.set(Some(outcome)));
/// t.cancel();
/// assert_eq!(seen.get(), Some(Outcome::Cancelled));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Its future returned: the output waits for a join.
    Returned,
    /// Its future panicked: the panic waits for a join, or went to the [`PanicPolicy`].
    Panicked,
    /// It was cancelled ([`ThreadRef::cancel`](crate::ThreadRef::cancel), a
    /// [`ThreadSet`](crate::ThreadSet) dropped, its loop closed or dropped): its future was
    /// dropped unfinished.
    Cancelled,
}

/// What a loop does with a thread's panic that no handle can join (the thread was
/// detached, or its last handle was dropped without joining).
///
/// [`Abort`](PanicPolicy::Abort) is the default: a panic is a bug, and a thread that
/// died halfway may have left state it shares with other threads (an `Rc<RefCell<_>>`,
/// a protocol half spoken) inconsistent, so by default the loop does not go on as if
/// nothing happened. A server whose threads share little — one per connection — opts
/// into [`Isolate`](PanicPolicy::Isolate) so one bad request cannot end the process.
///
/// Either way the panic hook has already reported the panic (on stderr, by default) when
/// it happened, and `on_finish` callbacks are told [`Outcome::Panicked`]. The policy
/// covers threads only: a panic in a timer callback or an `on_finish` callback still
/// surfaces from the loop call. A panic a handle can join always goes to the join.
///
/// # Examples
///
/// ```
/// use sock::sched::{Executor, PanicPolicy};
///
/// let ex = Executor::new();
/// ex.set_panic_policy(PanicPolicy::Isolate);
/// drop(ex.spawn(async { panic!("one bad connection") }));
/// let survivor = ex.spawn(async { 42 });
/// ex.start(); // does not panic
/// assert_eq!(ex.isolated_panics(), 1);
/// assert_eq!(survivor.try_join().unwrap().unwrap(), 42);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PanicPolicy {
    /// Re-raise the panic from the `run`/`poll`/`start` call that ran the thread (the
    /// seed raises a thread's error from `start`), ending it. The loop stays usable.
    #[default]
    Abort,
    /// Drop the panicked thread and go on; count it in
    /// [`Executor::isolated_panics`].
    Isolate,
}

impl Executor {
    /// Sets what the loop does with a thread's panic that no handle can join; see
    /// [`PanicPolicy`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, PanicPolicy};
    ///
    /// let ex = Executor::new();
    /// ex.set_panic_policy(PanicPolicy::Isolate);
    /// assert_eq!(ex.panic_policy(), PanicPolicy::Isolate);
    /// ```
    pub fn set_panic_policy(&self, policy: PanicPolicy) {
        self.inner.panic_policy.set(policy);
    }

    /// The loop's [`PanicPolicy`] ([`Abort`](PanicPolicy::Abort) unless set).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, PanicPolicy};
    ///
    /// assert_eq!(Executor::new().panic_policy(), PanicPolicy::Abort);
    /// ```
    pub fn panic_policy(&self) -> PanicPolicy {
        self.inner.panic_policy.get()
    }

    /// How many thread panics this loop has dropped under [`PanicPolicy::Isolate`].
    ///
    /// # Examples
    ///
    /// See [`PanicPolicy`].
    pub fn isolated_panics(&self) -> u64 {
        self.inner.isolated_panics.get()
    }
}

impl Inner {
    /// A task's future returned (or panicked, when `panicked`): the common bookkeeping,
    /// then its output or panic goes to its handles, or away if there are none.
    ///
    /// # Panics
    ///
    /// Re-raises the task's panic if nobody holds a handle to it, under
    /// [`PanicPolicy::Abort`]; re-raises the first panic of its `on_finish` callbacks.
    pub(crate) fn finish(&self, task: &TaskRef, panicked: bool) {
        let core = task.core();
        core.set(if panicked { flag::PANICKED } else { 0 });
        let (waker, callbacks) = self.end(task);
        wake(waker);
        let outcome = if panicked {
            Outcome::Panicked
        } else {
            Outcome::Returned
        };
        run_callbacks(callbacks, outcome);
        if core.handles.get() == 0 {
            if let Some(payload) = task.take_panic().and_then(|p| self.unjoinable(p)) {
                resume_unwind(payload);
            }
            task.discard_output();
        }
    }

    /// Cancels a thread that is not running: the common bookkeeping, with its future
    /// dropped in place before its joiner is woken. Panics of its `on_finish` callbacks
    /// are kept for the next `run`/`poll`/`start` (the callers cannot take them: a
    /// `ThreadSet` being dropped, `Executor::scoped` unwinding, the loop after a poll).
    /// A finished thread is left as it is.
    ///
    /// # Panics
    ///
    /// If the thread is running (its future is on the stack and cannot be dropped).
    pub(crate) fn cancel(self: &Rc<Self>, task: &TaskRef) {
        let core = task.core();
        assert!(
            !core.is(flag::RUNNING),
            "a running thread cannot be cancelled"
        );
        if core.is(flag::DONE) {
            return;
        }
        core.set(flag::CANCELLED);
        let (waker, callbacks) = self.end(task);
        self.drop_future(task);
        wake(waker);
        let ran = catch_unwind(AssertUnwindSafe(|| {
            run_callbacks(callbacks, Outcome::Cancelled);
        }));
        if let Err(payload) = ran {
            self.defer_panic(payload);
        }
    }

    /// Drops a thread that never started and can no longer be resumed (its last handle
    /// is gone, so nobody is told).
    pub(crate) fn cancel_unstarted(&self, task: &TaskRef) {
        let core = task.core();
        core.set(flag::DONE | flag::CANCELLED);
        let removed = self.remove(task);
        task.cancel();
        drop(removed);
    }

    /// Drops the future of a thread marked finished the way a completing future is
    /// dropped: on the entered loop, as the current thread (so `current()` and the
    /// thread's environment work in its destructors).
    pub(crate) fn drop_future(self: &Rc<Self>, task: &TaskRef) {
        let _enter = context::enter(self);
        let previous = self.current.replace(Some(task.as_task_ptr()));
        task.cancel();
        self.current.set(previous);
    }

    /// Keeps a panic to re-raise from the next `run`/`poll`/`start`.
    pub(crate) fn defer_panic(&self, payload: Payload) {
        let mut pending = self.pending_panic.borrow_mut();
        if pending.is_none() {
            *pending = Some(payload);
        }
    }

    /// A thread's panic no handle can join: given back to be re-raised under
    /// [`PanicPolicy::Abort`], counted and dropped under [`PanicPolicy::Isolate`].
    pub(crate) fn unjoinable(&self, payload: Payload) -> Option<Payload> {
        match self.panic_policy.get() {
            PanicPolicy::Abort => Some(payload),
            PanicPolicy::Isolate => {
                bump(&self.isolated_panics);
                drop(catch_unwind(AssertUnwindSafe(|| drop(payload))));
                None
            }
        }
    }

    /// The bookkeeping every ending shares: marks the task finished, counts it out of
    /// the alive tasks and forgets it; gives back its joiner's waker and its `on_finish`
    /// callbacks, for the caller to run once the task is in its final state.
    fn end(&self, task: &TaskRef) -> (Option<Waker>, Vec<OnFinish>) {
        let core = task.core();
        core.set(flag::DONE);
        core.clear(flag::SUSPENDED | flag::CANCEL);
        if core.is(flag::STARTED) {
            self.alive.set(self.alive.get() - 1);
        }
        drop(self.remove(task));
        core.with_extras(|e| (e.join_waker.take(), std::mem::take(&mut e.on_finish)))
            .unwrap_or_default()
    }
}

/// An `on_finish` callback.
pub(crate) type OnFinish = Box<dyn FnOnce(Outcome)>;

/// How a finished task ended, from its flags.
pub(crate) fn outcome_of(task: &TaskRef) -> Option<Outcome> {
    let core = task.core();
    if !core.is(flag::DONE) {
        None
    } else if core.is(flag::PANICKED) {
        Some(Outcome::Panicked)
    } else if core.is(flag::CANCELLED) {
        Some(Outcome::Cancelled)
    } else {
        Some(Outcome::Returned)
    }
}

/// Runs `on_finish` callbacks in order with `outcome`; if some panic, the rest still run
/// and the first panic is re-raised afterwards.
pub(crate) fn run_callbacks(callbacks: Vec<OnFinish>, outcome: Outcome) {
    let mut first_panic = None;
    for f in callbacks {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(outcome))) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
    }
}

/// Re-raises why the thread of [`Executor::run`]'s future gave no output.
///
/// # Panics
///
/// Always: with the future's panic, or saying it was cancelled.
pub(crate) fn reraise(err: JoinError) -> ! {
    if err.is_panic() {
        resume_unwind(err.into_panic());
    }
    panic!(
        "sock-sched: the future given to run() was cancelled (its thread's cancel() was \
         called) before it finished; cancel a spawned thread instead, or return from the future"
    )
}

/// Wakes the joiner, if there is one.
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Adds one to a counter.
fn bump(counter: &Cell<u64>) {
    counter.set(counter.get().saturating_add(1));
}

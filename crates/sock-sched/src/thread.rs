//! Thread handles: [`Thread<T>`] (joinable) and [`ThreadRef`] (untyped: identity, name,
//! coroutine control, environment), plus [`JoinError`].
//!
//! A thread is a task. Every handle counts: while one is alive a panic of the thread is
//! kept for [`Thread::join`]; when the last handle goes without joining a panicked thread,
//! the panic goes to the loop's [`PanicPolicy`](crate::PanicPolicy) (by default it is
//! re-raised from the loop's next `run`/`poll`/`start`). A thread created with
//! `newthread` and never started is dropped with its last handle. Any handle can
//! [`cancel`](ThreadRef::cancel) its thread.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::executor::Executor;
use crate::finish::{Outcome, outcome_of};
use crate::task::{Payload, TaskRef, Typed, flag};

/// An untyped handle to a thread: its identity, name, state, environment, and the
/// coroutine operations.
///
/// # Examples
///
/// ```
/// use sock::current;
///
/// let t = sock::spawn(async { current().id() });
/// let id = t.id();
/// sock::start();
/// assert_eq!(t.try_join().unwrap().unwrap(), id);
/// ```
pub struct ThreadRef {
    /// The loop the thread belongs to.
    pub(crate) exec: Executor,
    /// The task.
    pub(crate) task: TaskRef,
}

/// A joinable handle to a thread whose future outputs `T`.
///
/// Dereferences to [`ThreadRef`] for the untyped operations. Dropping it detaches the
/// thread.
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { "out" });
/// assert_eq!(sock::run(t.join()).unwrap(), "out");
/// ```
pub struct Thread<T> {
    /// The untyped handle.
    raw: ThreadRef,
    /// The output type: built from a [`Typed<T>`], so the task's future outputs `T`.
    _output: PhantomData<fn() -> T>,
}

/// Why [`Thread::join`] gave no output.
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { panic!("boom") });
/// let err = sock::run(t.join()).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    /// What happened.
    repr: Repr,
}

/// The cause inside a [`JoinError`].
enum Repr {
    /// The thread panicked with this payload.
    Panicked(Payload),
    /// The thread was cancelled before it finished (by [`ThreadRef::cancel`], or with its
    /// loop), or its output was already taken.
    Cancelled,
}

/// The future returned by [`Thread::join`].
///
/// # Examples
///
/// ```
/// let join = sock::spawn(async { 5 }).join();
/// assert_eq!(sock::run(join).unwrap(), 5);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Join<T> {
    /// The thread joined.
    thread: Thread<T>,
}

impl ThreadRef {
    /// A new handle (counted) to `task`.
    pub(crate) fn new(exec: Executor, task: TaskRef) -> Self {
        let core = task.core();
        core.handles.set(core.handles.get() + 1);
        Self { exec, task }
    }

    /// The thread's id, unique within its loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// assert_ne!(ex.spawn(async {}).id(), ex.spawn(async {}).id());
    /// ```
    pub fn id(&self) -> u64 {
        self.task.core().id
    }

    /// The name given through the [`Builder`](crate::Builder), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = sock::task::Builder::new().name("worker").spawn_on(&ex, async {});
    /// assert_eq!(t.name().as_deref(), Some("worker"));
    /// ```
    pub fn name(&self) -> Option<Arc<str>> {
        self.task.core().with_extras(|e| e.name.clone()).flatten()
    }

    /// Whether the thread has finished (returned, panicked, or was cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(async {});
    /// assert!(!t.is_finished());
    /// ex.start();
    /// assert!(t.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.core().is(flag::DONE)
    }

    /// Whether the thread has started (a `newthread` starts at its first resume).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// assert!(ex.spawn(async {}).is_started());
    /// ```
    pub fn is_started(&self) -> bool {
        self.task.core().is(flag::STARTED)
    }

    /// How the thread ended; `None` while it has not.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, Outcome};
    ///
    /// let ex = Executor::new();
    /// let t = ex.spawn(async {});
    /// assert_eq!(t.outcome(), None);
    /// ex.start();
    /// assert_eq!(t.outcome(), Some(Outcome::Returned));
    /// ```
    pub fn outcome(&self) -> Option<Outcome> {
        outcome_of(&self.task)
    }

    /// Cancels the thread: its future is dropped unfinished — and with it whatever
    /// operation it was waiting in (a socket's waiter, a timer, a semaphore's queue) —
    /// its [`on_finish`](ThreadRef::on_finish) callbacks are told
    /// [`Outcome::Cancelled`], and joining it gives a [`JoinError`] that
    /// [`is_cancelled`](JoinError::is_cancelled). A thread not started yet is cancelled
    /// too; a finished one is left as it is.
    ///
    /// It happens at once, unless the thread is running — it cancels itself, or it
    /// resumed the thread that cancels it: then at its next suspension point, as soon as
    /// its current poll returns (if that poll finishes it instead, it has finished
    /// normally). Panics of its `on_finish` callbacks surface from the loop's next
    /// `run`/`poll`/`start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let stuck = ex.spawn(std::future::pending::<u32>());
    /// ex.poll(Some(std::time::Duration::ZERO)); // it starts and waits forever
    /// stuck.cancel();
    /// assert!(stuck.is_finished());
    /// assert!(ex.run(stuck.join()).unwrap_err().is_cancelled());
    /// ```
    #[doc(alias = "abort")]
    pub fn cancel(&self) {
        let core = self.task.core();
        if core.is(flag::DONE) {
            return;
        }
        if core.is(flag::RUNNING) {
            core.set(flag::CANCEL);
            return;
        }
        self.exec.inner.cancel(&self.task);
    }

    /// Whether both handles name the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(async {});
    /// assert!(t.ptr_eq(&t.to_ref()));
    /// ```
    pub fn ptr_eq(&self, other: &ThreadRef) -> bool {
        self.task.ptr_eq(&other.task)
    }

    /// The loop the thread belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// assert!(ex.spawn(async {}).executor().ptr_eq(&ex));
    /// ```
    pub fn executor(&self) -> &Executor {
        &self.exec
    }
}

impl Clone for ThreadRef {
    fn clone(&self) -> Self {
        Self::new(self.exec.clone(), self.task.clone())
    }
}

impl Drop for ThreadRef {
    fn drop(&mut self) {
        let core = self.task.core();
        core.handles.set(core.handles.get() - 1);
        if core.handles.get() > 0 {
            return;
        }
        if core.is(flag::DONE) {
            let inner = &self.exec.inner;
            if let Some(payload) = self.task.take_panic().and_then(|p| inner.unjoinable(p)) {
                inner.defer_panic(payload);
            }
        } else if !core.is(flag::STARTED) {
            self.exec.inner.cancel_unstarted(&self.task);
        } else if core.is(flag::SUSPENDED) {
            self.exec.inner.orphaned.set(true); // nobody can resume it now
        }
    }
}

impl PartialEq for ThreadRef {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for ThreadRef {}

impl fmt::Debug for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadRef")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> Thread<T> {
    /// A handle to a task just created.
    pub(crate) fn new(exec: Executor, task: Typed<T>) -> Self {
        Self {
            raw: ThreadRef::new(exec, task.into_inner()),
            _output: PhantomData,
        }
    }

    /// Waits for the thread to finish and gives its output, or its panic.
    ///
    /// # Errors
    ///
    /// [`JoinError`] if the thread panicked or was cancelled.
    ///
    /// # Panics
    ///
    /// If a thread awaits its own join (it would never finish).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let t = ex.spawn(async { 1 + 1 });
    /// assert_eq!(ex.run(async move { t.join().await.unwrap() }), 2);
    /// ```
    pub fn join(self) -> Join<T> {
        Join { thread: self }
    }

    /// The output if the thread has finished; `None` while it runs.
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` if the thread panicked, was cancelled, or its output was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let t = ex.spawn(async { 3 });
    /// assert!(t.try_join().is_none());
    /// ex.start();
    /// assert_eq!(t.try_join().unwrap().unwrap(), 3);
    /// ```
    pub fn try_join(&self) -> Option<Result<T, JoinError>> {
        if !self.raw.is_finished() {
            return None;
        }
        // SAFETY: a `Thread<T>` is only built from a `Typed<T>`: its future outputs `T`.
        unsafe { self.raw.task.read_output::<T>() }
    }

    /// An untyped handle to the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(async {});
    /// assert_eq!(t.to_ref().id(), t.id());
    /// ```
    pub fn to_ref(&self) -> ThreadRef {
        self.raw.clone()
    }
}

impl<T> Deref for Thread<T> {
    type Target = ThreadRef;

    fn deref(&self) -> &ThreadRef {
        &self.raw
    }
}

impl<T> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Thread").field(&self.raw).finish()
    }
}

impl<T> Future for Join<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let thread = &self.thread;
        if let Some(result) = thread.try_join() {
            return Poll::Ready(result);
        }
        let me = thread.raw.exec.inner.current_task();
        assert!(
            !me.is_some_and(|t| t.ptr_eq(&thread.raw.task)),
            "a thread cannot join itself: it would wait forever; join it from another thread"
        );
        let old = thread.raw.task.core().extras(|e| match &e.join_waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => e.join_waker.replace(cx.waker().clone()),
        });
        drop(old);
        Poll::Pending
    }
}

impl<T> fmt::Debug for Join<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Join").field(&self.thread.raw).finish()
    }
}

impl JoinError {
    /// A thread that panicked with `payload`.
    pub(crate) fn panicked(payload: Payload) -> Self {
        Self {
            repr: Repr::Panicked(payload),
        }
    }

    /// A thread that was cancelled (or whose output was already taken).
    pub(crate) fn cancelled() -> Self {
        Self {
            repr: Repr::Cancelled,
        }
    }

    /// Whether the thread panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(async { panic!() });
    /// assert!(ex.run(t.join()).unwrap_err().is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// Whether the thread was cancelled (its future dropped before it finished: by
    /// [`ThreadRef::cancel`], or with its loop).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(std::future::pending::<()>());
    /// t.cancel();
    /// assert!(ex.run(t.join()).unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The panic payload.
    ///
    /// # Panics
    ///
    /// If the thread did not panic (check [`is_panic`](Self::is_panic) first).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.spawn(async { std::panic::panic_any(7u8) });
    /// let payload = ex.run(t.join()).unwrap_err().into_panic();
    /// assert_eq!(*payload.downcast::<u8>().unwrap(), 7);
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.repr {
            Repr::Panicked(payload) => payload,
            Repr::Cancelled => {
                panic!("JoinError::into_panic on a cancelled thread; check is_panic() first")
            }
        }
    }

    /// The panic message, if the payload is a string.
    fn message(&self) -> Option<&str> {
        let Repr::Panicked(payload) = &self.repr else {
            return None;
        };
        payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.message()) {
            (Repr::Cancelled, _) => f.write_str("thread was cancelled or its output already taken"),
            (Repr::Panicked(_), Some(msg)) => write!(f, "thread panicked: {msg}"),
            (Repr::Panicked(_), None) => f.write_str("thread panicked"),
        }
    }
}

impl std::error::Error for JoinError {}

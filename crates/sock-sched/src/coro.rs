//! Coroutine control between threads: [`ThreadRef::resume`], [`suspend`], [`yield_`],
//! [`transfer`], creating threads with [`newthread`] / [`thread`], `on_finish`.
//!
//! # Design
//!
//! A thread is a task; "running a thread" means polling its future. [`ThreadRef::resume`]
//! polls the target *inline*, on the caller's stack, until it returns `Pending` — the
//! seed's trick where the first suspending call of the resumed thread hands control back
//! to the resumer. The target is polled with its own waker, so whatever it waits on later
//! (I/O, a timer) wakes it through the loop as usual. Only the loop, `resume` and the
//! values delivered by `transfer` ever poll a task, and a task is never polled while it is
//! already on the stack, so there is no re-entrancy: misuse (resuming a running or
//! finished thread, or yourself) panics with a message that says what to do instead.
//!
//! Values go both ways as [`Value`]s, typed at run time: `resume(v)` stores `v` in the
//! target's inbox, where its pending `suspend()`/`yield_()`/`transfer()` picks it up;
//! `yield_(y)` stores `y` in the thread's outbox, which the resumer gets back from
//! `resume`. Small values (integers, `bool`, `()`) travel without allocation. A value
//! yielded while nobody is resuming the thread (it was woken by I/O) is dropped by the
//! next `resume`, like the seed's yields to the loop. For statically typed values both
//! ways, use a generator ([`cowrap`](crate::cowrap)).
//!
//! [`transfer`] is the symmetric hand-over: it delivers a value to the target, queues it
//! to run next, and suspends the caller — without nesting stacks, so two threads can pass
//! control back and forth forever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::builder::Builder;
use crate::context;
use crate::executor::{Executor, Inner};
use crate::finish::Outcome;
use crate::task::{TaskRef, flag};
use crate::thread::{Thread, ThreadRef};
use crate::value::Value;

/// The future of [`suspend`], [`yield_`] and [`transfer`]: completes with the value the
/// thread is resumed with.
///
/// # Examples
///
/// ```
/// use sock::task::suspend;
///
/// let t = sock::task::newthread(async { suspend().await.take::<u32>() * 2 });
/// t.resume(()); // starts it; it suspends
/// t.resume(21u32); // it finishes
/// assert_eq!(t.try_join().unwrap().unwrap(), 42);
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Suspend {
    /// Where the suspension is.
    step: Step,
}

/// The life of a [`Suspend`].
enum Step {
    /// Not polled yet: what to pass out (a yielded value, a transfer's target and value).
    Start(Option<Value>, Option<(ThreadRef, Value)>),
    /// Suspended: the thread waiting to be resumed.
    Parked(TaskRef),
    /// Resumed and completed.
    Done,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Start(..) => "Start",
            Step::Parked(_) => "Parked",
            Step::Done => "Done",
        })
    }
}

/// Suspends the current thread until another one resumes it (with
/// [`resume`](ThreadRef::resume) or [`transfer`]); gives the value it was resumed with.
///
/// If this thread was started or resumed by [`resume`](ThreadRef::resume), control goes
/// back to the resumer, which gets no value.
///
/// # Panics
///
/// If awaited outside a thread.
///
/// # Examples
///
/// ```
/// use sock::task::suspend;
///
/// let t = sock::thread(async { suspend().await.take::<&str>() }); // runs up to suspend()
/// assert!(!t.is_finished());
/// t.resume("wake up");
/// assert_eq!(t.try_join().unwrap().unwrap(), "wake up");
/// ```
pub fn suspend() -> Suspend {
    Suspend {
        step: Step::Start(None, None),
    }
}

/// Passes `value` out to whoever resumed the current thread and suspends until resumed
/// again; gives the next resume value (the seed's `sock.yield`).
///
/// It needs a resumer: a thread woken by I/O or started by the loop that awaits
/// `yield_` with nobody to [`resume`](ThreadRef::resume) it waits until someone does,
/// and forever if nobody will. To let the other threads run and carry on by itself (the
/// tokio habit), await [`yield_now`](crate::yield_now) instead.
///
/// # Panics
///
/// If awaited outside a thread.
///
/// # Examples
///
/// ```
/// use sock::task::yield_;
///
/// let counter = sock::task::newthread(async {
///     let mut n = 0u32;
///     loop {
///         n += yield_(n).await.take::<u32>();
///     }
/// });
/// assert_eq!(counter.resume(()).take::<u32>(), 0);
/// assert_eq!(counter.resume(5u32).take::<u32>(), 5);
/// assert_eq!(counter.resume(2u32).take::<u32>(), 7);
/// ```
#[doc(alias = "yield")]
pub fn yield_<Y: 'static>(value: Y) -> Suspend {
    Suspend {
        step: Step::Start(Some(Value::new(value)), None),
    }
}

/// Hands control and `value` to `target` (suspended, or not started) and suspends the
/// current thread until something resumes it; gives that resume value.
///
/// `target` runs next on the loop; the caller's stack does not grow, so two threads can
/// transfer to each other indefinitely.
///
/// # Panics
///
/// If awaited outside a thread; if `target` is the current thread, is running (it
/// resumed the current thread), has finished, or is waiting for something else (I/O, a
/// timer).
///
/// # Examples
///
/// ```
/// use sock::{current, task::{suspend, transfer}};
///
/// let total = sock::run(async {
///     let me = current();
///     let helper = sock::task::newthread(async move {
///         let n = suspend().await.take::<u64>();
///         transfer(&me, n + 1).await;
///     });
///     helper.resume(()); // start it: it suspends at once
///     transfer(&helper, 41u64).await.take::<u64>()
/// });
/// assert_eq!(total, 42);
/// ```
pub fn transfer<V: 'static>(target: &ThreadRef, value: V) -> Suspend {
    Suspend {
        step: Step::Start(None, Some((target.clone(), Value::new(value)))),
    }
}

impl Future for Suspend {
    type Output = Value;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Value> {
        match std::mem::replace(&mut self.step, Step::Done) {
            Step::Start(out, target) => {
                self.step = Step::Parked(park_current(out, target));
                Poll::Pending
            }
            Step::Parked(task) if task.core().is(flag::SUSPENDED) => {
                self.step = Step::Parked(task);
                Poll::Pending
            }
            Step::Parked(task) => Poll::Ready(task.core().extras(|e| std::mem::take(&mut e.inbox))),
            Step::Done => panic!("Suspend polled after it completed; create a new one"),
        }
    }
}

impl Drop for Suspend {
    fn drop(&mut self) {
        if let Step::Parked(task) = &self.step {
            task.core().clear(flag::SUSPENDED);
        }
    }
}

/// Marks the current thread suspended, after passing `out` to its resumer and `target`'s
/// value to `target`.
fn park_current(out: Option<Value>, target: Option<(ThreadRef, Value)>) -> TaskRef {
    let inner = context::entered()
        .expect("suspend/yield_/transfer awaited outside a thread; await it inside a thread");
    let task = inner
        .current_task()
        .expect("suspend/yield_/transfer awaited outside a thread; await it inside a thread");
    if let Some(value) = out {
        task.core().extras(|e| e.outbox = value);
    }
    if let Some((target, value)) = target {
        check_resumable(&inner, &target, "transfer");
        deliver(&target, value);
        target.task.wake();
    }
    task.core().set(flag::SUSPENDED);
    if task.core().handles.get() == 0 {
        inner.orphaned.set(true); // suspended with nobody to resume it
    }
    task
}

/// Panics unless `target` may be resumed now by the current code.
fn check_resumable(inner: &Inner, target: &ThreadRef, op: &str) {
    let core = target.task.core();
    let is_current = inner.current_task().is_some_and(|t| t.ptr_eq(&target.task));
    assert!(
        !is_current,
        "a thread cannot {op} itself; use yield_() or suspend() to pass control out"
    );
    assert!(
        !core.is(flag::DONE),
        "{op}: the thread has finished; check is_finished() first"
    );
    assert!(
        !core.is(flag::RUNNING),
        "{op}: the thread is running (it resumed the current thread); hand a value back with \
         yield_() instead"
    );
    assert!(
        !core.is(flag::STARTED) || core.is(flag::SUSPENDED),
        "{op}: the thread is waiting for something else (I/O, a timer, a join); only a thread \
         suspended in suspend()/yield_()/transfer(), or not started yet, can be resumed"
    );
}

/// Puts `value` in the target's inbox and marks it no longer suspended.
fn deliver(target: &ThreadRef, value: Value) {
    let core = target.task.core();
    if !core.is(flag::STARTED) {
        // The first resume only starts the thread; its value is dropped, and no
        // per-thread record is made for it (a started connection handler stays small).
        drop(value);
        core.clear(flag::SUSPENDED);
        return;
    }
    let old = core.extras(|e| {
        let old = std::mem::replace(&mut e.inbox, value);
        (old, std::mem::take(&mut e.outbox))
    });
    drop(old);
    core.clear(flag::SUSPENDED);
}

impl ThreadRef {
    /// Runs the thread now, on this stack, until it suspends again; gives what it passed
    /// out with [`yield_`] (no value if it suspended otherwise or finished).
    ///
    /// The first resume starts a thread made with [`newthread`] (its value is dropped).
    /// Works from inside another thread or from outside the loop (the seed's way to start
    /// threads before `start()`).
    ///
    /// # Panics
    ///
    /// If the thread is the current one, is running (it resumed the current thread), has
    /// finished, or is waiting for something else (I/O, a timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{sched::Executor, task::yield_};
    ///
    /// let ex = Executor::new();
    /// let t = ex.newthread(async {
    ///     yield_("first").await;
    ///     yield_("second").await;
    /// });
    /// assert_eq!(t.resume(()).take::<&str>(), "first");
    /// assert_eq!(t.resume(()).take::<&str>(), "second");
    /// assert!(t.resume(()).is_none()); // it finished
    /// assert!(t.is_finished());
    /// ```
    // Inline: a small generic step on the hot path of coroutine code, whose inlining
    // into the caller should not depend on which codegen unit the caller's crate puts
    // its instance in (icount's `resume` moved 2 % with unrelated code elsewhere).
    #[inline]
    pub fn resume<V: 'static>(&self, value: V) -> Value {
        let inner = &self.exec.inner;
        check_resumable(inner, self, "resume");
        deliver(self, Value::new(value));
        let _enter = context::enter(inner);
        inner.poll_task(&self.task);
        self.task
            .core()
            .with_extras(|e| std::mem::take(&mut e.outbox))
            .unwrap_or_default()
    }

    /// Whether the thread is suspended, waiting to be resumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{sched::Executor, task::suspend};
    ///
    /// let ex = Executor::new();
    /// let t = ex.thread(async { suspend().await; });
    /// assert!(t.is_suspended());
    /// ```
    pub fn is_suspended(&self) -> bool {
        self.task.core().is(flag::SUSPENDED)
    }

    /// Runs `f` once when the thread finishes — returns, panics, or is cancelled (by
    /// [`cancel`](ThreadRef::cancel), or by its loop unwinding from `run`) — telling it
    /// how; or at once if it already has. A loop that is closed or dropped drops the
    /// callbacks of its threads without running them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use sock::sched::{Executor, Outcome};
    ///
    /// let ex = Executor::new();
    /// let done = Rc::new(Cell::new(None));
    /// let t = ex.spawn(async {});
    /// let d = done.clone();
    /// t.on_finish(move |outcome| d.set(Some(outcome)));
    /// ex.start();
    /// assert_eq!(done.get(), Some(Outcome::Returned));
    /// ```
    #[doc(alias = "onthreadfinish")]
    pub fn on_finish(&self, f: impl FnOnce(Outcome) + 'static) {
        if let Some(outcome) = self.outcome() {
            f(outcome);
        } else {
            self.task.core().extras(|e| e.on_finish.push(Box::new(f)));
        }
    }
}

impl Executor {
    /// Creates a thread on this loop without starting it: the first
    /// [`resume`](ThreadRef::resume) (or [`transfer`]) starts it.
    ///
    /// A thread never started is dropped with its last handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = ex.newthread(async { 1 });
    /// assert!(!t.is_started());
    /// t.resume(());
    /// assert_eq!(t.try_join().unwrap().unwrap(), 1);
    /// ```
    pub fn newthread<F: Future + 'static>(&self, future: F) -> Thread<F::Output> {
        Builder::new().newthread_on(self, future)
    }

    /// Creates a thread on this loop and runs it at once until its first suspension
    /// (I/O, sleep, `suspend`…), then returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let ex = sock::sched::Executor::new();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// let t = ex.thread(async move { r.set(true) });
    /// assert!(ran.get() && t.is_finished());
    /// ```
    pub fn thread<F: Future + 'static>(&self, future: F) -> Thread<F::Output> {
        Builder::new().thread_on(self, future)
    }
}

/// Creates a thread on the current loop without starting it; see [`Executor::newthread`].
///
/// # Examples
///
/// ```
/// let t = sock::task::newthread(async { 5 });
/// t.resume(());
/// assert_eq!(t.try_join().unwrap().unwrap(), 5);
/// ```
pub fn newthread<F: Future + 'static>(future: F) -> Thread<F::Output> {
    Builder::new().newthread(future)
}

/// Creates a thread on the current loop and runs it until its first suspension; see
/// [`Executor::thread`].
///
/// # Examples
///
/// ```
/// let t = sock::thread(async { 6 });
/// assert_eq!(t.try_join().unwrap().unwrap(), 6);
/// ```
pub fn thread<F: Future + 'static>(future: F) -> Thread<F::Output> {
    Builder::new().thread(future)
}

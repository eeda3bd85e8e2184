//! Cooperative fairness: a task that could go on forever without waiting (an always-
//! ready socket, a sleep already due) yields to the loop after a budget of ready steps.
//!
//! A loop gives each task [`BUDGET`] units every time it polls it (both the loop of one
//! thread and the workers of [`mt`](crate::mt)); every step that completes without
//! waiting — a socket operation, an elapsed [`Sleep`](crate::Sleep) — spends one with
//! [`spend`]. When the budget is spent, `spend` wakes the task and says "yield": the
//! step returns `Pending` once, the task goes to the back of the run queue, and the
//! loop polls its reactor and runs the others. Outside a task poll (a future driven by
//! another executor) the budget is unlimited. Nothing here keeps a waker: the budget is
//! a number, reset by the loop.
//!
//! [`yield_now`] is the same move made by hand: a task that computes for a long time
//! without waiting lets the others run.
//!
//! # Examples
//!
//! See [`spend`]: a step that is always ready, made fair; [`yield_now`].

use std::cell::Cell;
use std::future::poll_fn;
use std::task::{Context, Poll};

/// Ready steps a task may take in one poll before it yields to the loop.
///
/// # Examples
///
/// See [`spend`].
pub const BUDGET: u32 = 128;

/// What [`LEFT`] holds outside a task poll: more units than any program spends, so the
/// budget is unlimited there with no separate "none" state to test on every step.
const UNLIMITED: u64 = u64::MAX;

thread_local! {
    /// Units left for the task being polled; [`UNLIMITED`] outside a loop's task poll.
    static LEFT: Cell<u64> = const { Cell::new(UNLIMITED) };
}

/// Spends one unit of the running task's budget. Returns `false` when the task must
/// yield now: it has then been woken, so it runs again after the others — return
/// `Poll::Pending` from the step. Once spent, the budget stays spent until the loop
/// polls the task again: every later step of the same poll yields too.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
///
/// let ex = sock::sched::Executor::new();
/// let steps = ex.run(async {
///     let mut steps = 0;
///     // A step that is always ready, made fair: it yields once per budget.
///     poll_fn(|cx| {
///         if !sock::sched::coop::spend(cx) {
///             return Poll::Pending;
///         }
///         steps += 1;
///         if steps == 1000 { Poll::Ready(steps) } else { cx.waker().wake_by_ref(); Poll::Pending }
///     })
///     .await
/// });
/// assert_eq!(steps, 1000);
/// ```
#[inline]
pub fn spend(cx: &Context<'_>) -> bool {
    LEFT.with(|left| match left.get() {
        0 => {
            cx.waker().wake_by_ref();
            false
        }
        n => {
            left.set(n - 1);
            true
        }
    })
}

/// Spends one unit of the running task's budget if one is left, and says whether it
/// did; unlike [`spend`] it never wakes the task, so it runs no waker code (a step
/// that holds something a waker might touch tries this first, and calls [`spend`]
/// once it let go, when this said no).
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use sock::sched::coop;
///
/// let ex = sock::sched::Executor::new();
/// ex.run(poll_fn(|cx| {
///     let mut spent = 0;
///     while coop::try_spend() {
///         spent += 1;
///     }
///     assert!(spent > 0 && coop::is_spent());
///     assert!(!coop::spend(cx)); // this one wakes the task: it yields
///     Poll::Ready(())
/// }));
/// ```
#[inline]
pub fn try_spend() -> bool {
    LEFT.with(|left| match left.get() {
        0 => false,
        n => {
            left.set(n - 1);
            true
        }
    })
}

/// Whether the running task has spent its budget in this poll: a step that returned
/// `Pending` now may have yielded for fairness rather than to wait (the task is already
/// woken). A deadline uses it to arm no timer for such a yield.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use sock::sched::coop;
///
/// let ex = sock::sched::Executor::new();
/// ex.run(poll_fn(|cx| {
///     assert!(!coop::is_spent());
///     while coop::spend(cx) {}
///     assert!(coop::is_spent());
///     Poll::Ready(())
/// }));
/// assert!(!coop::is_spent()); // outside a task poll: an unlimited budget
/// ```
#[inline]
pub fn is_spent() -> bool {
    LEFT.with(|left| left.get() == 0)
}

/// Lets every other thread that is ready run once, then continues: the current thread
/// goes to the back of its loop's run queue, and the loop looks for I/O and due timers
/// before it runs again. Nothing has to resume it (tokio's `task::yield_now`).
///
/// Not to be confused with [`yield_`](crate::yield_), the seed's coroutine yield: that
/// one passes a value out to the thread that resumed this one and *suspends* until some
/// thread resumes it again — awaited with no resumer, it waits forever. `yield_now`
/// only steps aside.
///
/// In a task of the multi-threaded pool ([`mt`](crate::mt)) it goes to the back of the
/// worker's queue; under another executor it is that executor's wake-and-return-`Pending`.
///
/// # Examples
///
/// Two threads take turns, each stepping aside after every step:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let log = Rc::new(RefCell::new(String::new()));
/// for name in ['a', 'b'] {
///     let log = log.clone();
///     sock::spawn(async move {
///         for _ in 0..3 {
///             log.borrow_mut().push(name);
///             sock::yield_now().await;
///         }
///     });
/// }
/// sock::start();
/// assert_eq!(*log.borrow(), "ababab");
/// ```
#[doc(alias = "yield")]
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Runs `poll` (one poll of a task) with a fresh budget, restoring the outer one after.
/// The thread-local is reached once for both the reset and the restore.
#[inline]
pub(crate) fn budgeted<R>(poll: impl FnOnce() -> R) -> R {
    /// Puts the outer budget back, also when `poll` unwinds.
    struct Restore<'a>(&'a Cell<u64>, u64);
    impl Drop for Restore<'_> {
        #[inline]
        fn drop(&mut self) {
            self.0.set(self.1);
        }
    }
    LEFT.with(|left| {
        let _restore = Restore(left, left.replace(u64::from(BUDGET)));
        poll()
    })
}

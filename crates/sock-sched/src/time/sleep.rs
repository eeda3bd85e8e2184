//! [`Sleep`]: a future that completes at a deadline, arming a timer only if it has to wait.
//!
//! Creating a `Sleep` touches nothing: no allocation, no loop, no clock. The first poll
//! reads the loop's clock; if the deadline has passed it completes at once, otherwise it
//! arms a timer in the loop it is polled on. Dropping or [`reset`](Sleep::reset)ting an
//! armed sleep disarms its timer, so a per-operation deadline that is never reached costs
//! one clock read.
//!
//! A `Sleep` is 40 bytes (its timer key is 8). One enum for the whole state would make it
//! 32; when task cells came from `malloc`, that moved the 1M-sleeps benchmark's cell into
//! glibc's fastbin size class and cost CPU (see `BENCHMARKS.md`). Task cells now come
//! from the loop's pool in 16-byte classes, where that cell (120 bytes) and today's (128)
//! share a class, so the smaller `Sleep` would save nothing there.

use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context;
use crate::executor::Inner;
use crate::time::timers::TimerKey;

/// A future that completes when the loop's clock reaches its deadline.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{sched::Executor, time::Sleep};
///
/// let ex = Executor::new();
/// let start = ex.clock();
/// ex.run(Sleep::until(start + Duration::from_millis(2)));
/// assert!(ex.clock() >= start + Duration::from_millis(2));
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// When it completes.
    deadline: When,
    /// The armed timer, once the sleep had to wait.
    timer: Option<Armed>,
}

/// A sleep's deadline: fixed, or a delay counted from the first poll (for a sleep created
/// outside any loop, whose clock is only known once a loop polls it).
#[derive(Debug, Clone, Copy)]
enum When {
    /// At this instant.
    At(Instant),
    /// This long after the first poll.
    After(Duration),
}

/// A timer armed for a [`Sleep`].
#[derive(Debug)]
struct Armed {
    /// The loop the timer is in (weak: a sleep does not keep its loop alive).
    exec: Weak<Inner>,
    /// The timer.
    key: TimerKey,
}

/// Sleeps for `duration` without blocking other threads.
///
/// # Panics
///
/// If awaited outside a loop (not inside `run`, `spawn`, …).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{sleep, sched::Executor};
///
/// let ex = Executor::new();
/// let start = ex.clock();
/// ex.run(sleep(Duration::from_millis(1)));
/// assert!(ex.clock() - start >= Duration::from_millis(1));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::after(duration)
}

/// Sleeps until the loop's clock reaches `deadline`.
///
/// # Panics
///
/// If awaited outside a loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{sched::Executor, time::sleep_until};
///
/// let ex = Executor::new();
/// let t = ex.clock() + Duration::from_millis(1);
/// ex.run(sleep_until(t));
/// assert!(ex.clock() >= t);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(deadline)
}

impl Sleep {
    /// A sleep that completes at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use sock::{sched::Executor, time::Sleep};
    ///
    /// let ex = Executor::new();
    /// ex.run(Sleep::until(Instant::now())); // already due: completes at once
    /// ```
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline: When::At(deadline),
            timer: None,
        }
    }

    /// A sleep that completes `duration` after the loop's current time: read now inside a
    /// loop, at the first poll otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::{sched::Executor, time::Sleep};
    ///
    /// let ex = Executor::new();
    /// ex.run(async { Sleep::after(Duration::from_millis(1)).await });
    /// ```
    pub fn after(duration: Duration) -> Self {
        let deadline = match context::with_entered(|inner| inner.now()) {
            Some(now) => When::At(add(now, duration)),
            None => When::After(duration),
        };
        Self {
            deadline,
            timer: None,
        }
    }

    /// The deadline; `None` for a [`Sleep::after`] created outside a loop and not yet
    /// polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let t = Instant::now();
    /// assert_eq!(sock::time::Sleep::until(t).deadline(), Some(t));
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        match self.deadline {
            When::At(t) => Some(t),
            When::After(_) => None,
        }
    }

    /// Whether the sleep has armed a timer (it was polled before its deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// assert!(!sock::time::Sleep::until(Instant::now()).is_armed());
    /// ```
    pub fn is_armed(&self) -> bool {
        self.timer.as_ref().is_some_and(Armed::is_live)
    }

    /// Moves the deadline (disarming the timer; the next poll arms a new one if needed).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sock::{sched::Executor, time::Sleep};
    ///
    /// let ex = Executor::new();
    /// let mut s = Sleep::until(Instant::now() + Duration::from_secs(3600));
    /// s.reset(ex.clock());
    /// ex.run(s); // completes at once
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = When::At(deadline);
    }

    /// Cancels the armed timer, if any.
    fn disarm(&mut self) {
        if let Some(armed) = self.timer.take() {
            armed.cancel();
        }
    }

    /// First poll: completes if due, else arms a timer in the loop polling it.
    fn arm(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = context::entered()
            .expect("Sleep polled outside a sock loop; await it inside run(), spawn() or a thread");
        let now = inner.now();
        let deadline = match self.deadline {
            When::At(t) => t,
            When::After(d) => add(now, d),
        };
        self.deadline = When::At(deadline);
        if now >= deadline {
            // Due already: a step that needs no wait, so it spends the task's budget (a
            // loop of zero sleeps yields to the loop like an always-ready socket).
            return match crate::coop::spend(cx) {
                true => Poll::Ready(()),
                false => Poll::Pending,
            };
        }
        let waker = cx.waker().clone();
        let key = inner.timers.borrow_mut().insert_wake(deadline, waker);
        self.timer = Some(Armed {
            exec: Rc::downgrade(&inner),
            key,
        });
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (Some(armed), When::At(deadline)) = (&self.timer, self.deadline) else {
            return self.arm(cx);
        };
        if armed.refresh(deadline, cx) || !crate::coop::spend(cx) {
            return Poll::Pending;
        }
        self.timer = None;
        Poll::Ready(())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl Armed {
    /// Whether the timer is still pending.
    fn is_live(&self) -> bool {
        self.exec
            .upgrade()
            .is_some_and(|inner| inner.timers.borrow().is_armed(self.key))
    }

    /// If still pending (it was armed for `deadline`), makes sure it wakes `cx`'s waker
    /// and returns true.
    fn refresh(&self, deadline: Instant, cx: &mut Context<'_>) -> bool {
        let Some(inner) = self.exec.upgrade() else {
            return false;
        };
        let mut timers = inner.timers.borrow_mut();
        if !timers.is_wake_pending(self.key, deadline) {
            return false;
        }
        timers.set_waker(self.key, cx.waker());
        true
    }

    /// Disarms the timer; its waker is dropped outside the borrow.
    fn cancel(self) {
        if let Some(inner) = self.exec.upgrade() {
            let action = inner.timers.borrow_mut().cancel(self.key);
            drop(action);
        }
    }
}

/// `now + d`, saturating far in the future.
fn add(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or_else(|| far_future(now))
}

/// An instant so far after `now` that it never comes (for overflowing durations).
pub(crate) fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_is_40_bytes() {
        // Every task awaiting a sleep carries one; the 1M-sleeps budget counts on it.
        assert_eq!(size_of::<Sleep>(), 40);
    }
}

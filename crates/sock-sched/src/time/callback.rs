//! Callback timers: [`run_at`], [`run_after`], [`run_every`] and the [`TimerHandle`] that
//! cancels them.
//!
//! A callback runs on the loop, between threads, with no borrow of the loop held: it may
//! spawn threads, arm or cancel timers (its own included), or stop the loop. To do I/O,
//! spawn a thread from it.

use std::fmt;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use crate::executor::{Executor, Inner};
use crate::time::timers::{MissedTick, TimerKey};

/// Cancels a timer armed by [`run_at`], [`run_after`] or [`run_every`]. Dropping it does
/// not cancel the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let timer = sock::time::run_after(Duration::from_secs(60), || unreachable!());
/// assert!(timer.cancel());
/// sock::start(); // returns at once: nothing left
/// ```
pub struct TimerHandle {
    /// The loop the timer is in.
    exec: Weak<Inner>,
    /// The timer.
    key: TimerKey,
}

impl TimerHandle {
    /// Disarms the timer; true if it was still pending (for a periodic timer: not stopped
    /// yet). Safe to call from inside the timer's own callback, or another's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = sock::time::run_after(Duration::from_millis(1), || {});
    /// assert!(timer.cancel());
    /// assert!(!timer.cancel());
    /// ```
    #[inline]
    pub fn cancel(&self) -> bool {
        let Some(inner) = self.exec.upgrade() else {
            return false;
        };
        let action = inner.timers.borrow_mut().cancel(self.key);
        let was_armed = action.is_some();
        drop(action);
        was_armed
    }

    /// Whether the timer will still fire.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = sock::time::run_after(Duration::ZERO, || {});
    /// assert!(timer.is_pending());
    /// sock::start();
    /// assert!(!timer.is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        self.exec
            .upgrade()
            .is_some_and(|inner| inner.timers.borrow().is_armed(self.key))
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("pending", &self.is_pending())
            .finish()
    }
}

impl Executor {
    /// Runs `f` on this loop once its clock reaches `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let fired = Rc::new(Cell::new(false));
    /// let f = fired.clone();
    /// ex.run_at(ex.clock(), move || f.set(true));
    /// ex.start();
    /// assert!(fired.get());
    /// ```
    #[doc(alias = "runat")]
    pub fn run_at(&self, deadline: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
        let key = self
            .inner
            .timers
            .borrow_mut()
            .insert_once(deadline, Box::new(f));
        self.handle(key)
    }

    /// Runs `f` on this loop after `delay`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let stopper = ex.clone();
    /// ex.run_after(Duration::from_millis(1), move || stopper.stop());
    /// ex.start();
    /// ```
    #[doc(alias = "runafter")]
    pub fn run_after(&self, delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
        self.run_at(self.deadline_after(delay), f)
    }

    /// Runs `f` every `period`, first after one period, for as long as it returns `true`;
    /// a missed tick is run late and the next one comes a full period later
    /// ([`MissedTick::Delay`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::Executor;
    ///
    /// let ex = Executor::new();
    /// let mut left = 3;
    /// ex.run_every(Duration::from_millis(1), move || {
    ///     left -= 1;
    ///     left > 0
    /// });
    /// ex.start(); // returns after the third run
    /// ```
    #[doc(alias = "runevery")]
    pub fn run_every(&self, period: Duration, f: impl FnMut() -> bool + 'static) -> TimerHandle {
        self.run_every_with(period, MissedTick::Delay, f)
    }

    /// [`run_every`](Self::run_every) with an explicit missed-tick policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::{sched::Executor, time::MissedTick};
    ///
    /// let ex = Executor::new();
    /// let mut runs = 0;
    /// ex.run_every_with(Duration::from_millis(1), MissedTick::Skip, move || {
    ///     runs += 1;
    ///     runs < 2
    /// });
    /// ex.start();
    /// ```
    pub fn run_every_with(
        &self,
        period: Duration,
        policy: MissedTick,
        f: impl FnMut() -> bool + 'static,
    ) -> TimerHandle {
        let first = self.deadline_after(period);
        let key = self
            .inner
            .timers
            .borrow_mut()
            .insert_every(first, period, policy, Box::new(f));
        self.handle(key)
    }

    /// `delay` after now, saturating far in the future.
    fn deadline_after(&self, delay: Duration) -> Instant {
        let now = self.clock();
        now.checked_add(delay)
            .unwrap_or_else(|| crate::time::sleep::far_future(now))
    }

    /// A handle for a timer of this loop.
    fn handle(&self, key: TimerKey) -> TimerHandle {
        TimerHandle {
            exec: Rc::downgrade(&self.inner),
            key,
        }
    }
}

/// Runs `f` on the current loop at `deadline`; see [`Executor::run_at`].
///
/// # Examples
///
/// ```
/// let timer = sock::time::run_at(sock::clock(), || println!("now"));
/// sock::start();
/// assert!(!timer.is_pending());
/// ```
#[doc(alias = "runat")]
pub fn run_at(deadline: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
    Executor::current().run_at(deadline, f)
}

/// Runs `f` on the current loop after `delay`; see [`Executor::run_after`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// sock::time::run_after(Duration::from_millis(1), || println!("later"));
/// sock::start();
/// ```
#[doc(alias = "runafter")]
#[inline]
pub fn run_after(delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
    Executor::current().run_after(delay, f)
}

/// Runs `f` on the current loop every `period` while it returns `true`; see
/// [`Executor::run_every`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut n = 0;
/// sock::time::run_every(Duration::from_millis(1), move || {
///     n += 1;
///     n < 3
/// });
/// sock::start();
/// ```
#[doc(alias = "runevery")]
pub fn run_every(period: Duration, f: impl FnMut() -> bool + 'static) -> TimerHandle {
    Executor::current().run_every(period, f)
}

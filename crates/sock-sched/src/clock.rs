//! Where a loop reads the time: the [`Clock`] trait, [`MonotonicClock`] (the default),
//! and the test pair [`ManualClock`] + [`ManualPark`].
//!
//! With a manual clock, time moves only when a test says so ([`ManualClock::advance`],
//! [`ManualClock::set`]) or when the loop parks on a [`ManualPark`], which jumps the clock
//! to the end of the requested timeout instead of sleeping. Timer tests are then exact and
//! instant, with no `thread::sleep`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::park::{Park, ThreadPark, Unparker};

/// A source of monotonic time.
///
/// # Examples
///
/// ```
/// use sock::sched::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock;
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
pub trait Clock {
    /// The current time; never goes backwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Clock, MonotonicClock};
    ///
    /// let t0 = MonotonicClock.now();
    /// assert!(MonotonicClock.now() >= t0);
    /// ```
    fn now(&self) -> Instant;
}

/// The real monotonic clock (`Instant::now()`).
///
/// # Examples
///
/// ```
/// use sock::sched::{Clock, MonotonicClock};
///
/// assert!(MonotonicClock.now() <= std::time::Instant::now());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MonotonicClock;

impl Clock for MonotonicClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::sched::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now() - start, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    /// The current time, shared by the clones.
    now: Arc<Mutex<Instant>>,
}

impl ManualClock {
    /// A manual clock starting at the current real time.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.now(), clock.now());
    /// ```
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// A manual clock starting at `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use sock::sched::{Clock, ManualClock};
    ///
    /// let t = Instant::now();
    /// assert_eq!(ManualClock::starting_at(t).now(), t);
    /// ```
    pub fn starting_at(start: Instant) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the time forward by `d`.
    ///
    /// # Panics
    ///
    /// If the time would overflow `Instant`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let t = clock.now();
    /// clock.advance(Duration::from_millis(10));
    /// assert_eq!(clock.now(), t + Duration::from_millis(10));
    /// ```
    pub fn advance(&self, d: Duration) {
        let mut now = self.lock();
        *now = now
            .checked_add(d)
            .expect("ManualClock::advance overflowed Instant; advance by a smaller duration");
    }

    /// Sets the time to `t`.
    ///
    /// # Panics
    ///
    /// If `t` is earlier than the current time: a monotonic clock never goes back; use a
    /// later instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let later = clock.now() + Duration::from_secs(1);
    /// clock.set(later);
    /// assert_eq!(clock.now(), later);
    /// ```
    pub fn set(&self, t: Instant) {
        let mut now = self.lock();
        assert!(
            t >= *now,
            "ManualClock::set cannot move time backwards; pass a later instant"
        );
        *now = t;
    }

    /// Locks the shared time (a poisoned lock still holds a valid `Instant`).
    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.lock()
    }
}

/// A park for tests: a timed park advances a [`ManualClock`] by the timeout instead of
/// sleeping; an untimed park blocks until unparked (a wake from another OS thread).
///
/// A pending unpark makes the next park return at once without moving the clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::sched::{Clock, Executor, ManualClock, ManualPark};
///
/// let clock = ManualClock::new();
/// let ex = Executor::with_park(ManualPark::new(clock.clone()), clock.clone());
/// let start = clock.now();
/// ex.run(sock::sleep(Duration::from_secs(3600)));
/// assert!(clock.now() - start >= Duration::from_secs(3600)); // and no real hour passed
/// ```
#[derive(Debug)]
pub struct ManualPark {
    /// The clock a timed park advances.
    clock: ManualClock,
    /// Remembers unparks and serves untimed parks.
    inner: ThreadPark,
}

impl ManualPark {
    /// A park that advances `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{ManualClock, ManualPark};
    ///
    /// let park = ManualPark::new(ManualClock::new());
    /// # drop(park);
    /// ```
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            inner: ThreadPark::new(),
        }
    }
}

impl Park for ManualPark {
    fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            None => self.inner.park(None),
            // Leaves a pending wake-up for the next wait (see `Park::park`).
            Some(Duration::ZERO) => {}
            Some(t) => {
                if !self.inner.take_notification() {
                    self.clock.advance(t);
                }
            }
        }
    }

    fn unparker(&self) -> Unparker {
        self.inner.unparker()
    }
}

//! [`SleepJob`]: an interruptible sleep. A thread sleeps on the job; another wakes it early
//! with a value.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::time::sleep::Sleep;

/// An interruptible sleep: [`sleep`](SleepJob::sleep) gives `Some(v)` if
/// [`wakeup(v)`](SleepJob::wakeup) came first, `None` on timeout. Clones share the job.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{run, spawn, time::SleepJob};
///
/// let got = run(async {
///     let job = SleepJob::new();
///     let waker = job.clone();
///     spawn(async move { assert!(waker.wakeup("early")) });
///     job.sleep(Duration::from_secs(3600)).await
/// });
/// assert_eq!(got, Some("early"));
/// ```
#[doc(alias = "sleep_job")]
pub struct SleepJob<V> {
    /// The state shared by the clones.
    state: Rc<RefCell<JobState<V>>>,
}

/// What a job's clones share.
struct JobState<V> {
    /// Whether a thread is sleeping on the job (and not yet woken).
    sleeping: bool,
    /// The value given by `wakeup`, until the sleeper takes it.
    value: Option<V>,
    /// The sleeper's waker.
    waker: Option<Waker>,
}

/// The future of [`SleepJob::sleep`] and [`SleepJob::sleep_until`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{run, time::SleepJob};
///
/// let job: SleepJob<()> = SleepJob::new();
/// assert_eq!(run(job.sleep(Duration::from_millis(1))), None); // timed out
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct JobSleep<V> {
    /// The job.
    job: SleepJob<V>,
    /// The timeout.
    sleep: Sleep,
    /// Whether this future registered as the job's sleeper.
    registered: bool,
}

impl<V> SleepJob<V> {
    /// A job nobody sleeps on.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = sock::time::SleepJob::<u8>::new();
    /// assert!(!job.is_sleeping());
    /// ```
    pub fn new() -> Self {
        let state = JobState {
            sleeping: false,
            value: None,
            waker: None,
        };
        Self {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Sleeps for `duration` or until woken; `Some(v)` if woken by `wakeup(v)`.
    ///
    /// # Panics
    ///
    /// When polled, if another thread is already sleeping on this job (give each sleeper
    /// its own job), or outside a loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let job = sock::time::SleepJob::<()>::new();
    /// assert_eq!(sock::run(job.sleep(Duration::ZERO)), None);
    /// ```
    pub fn sleep(&self, duration: Duration) -> JobSleep<V> {
        self.sleep_on(Sleep::after(duration))
    }

    /// Sleeps until `deadline` or until woken; `Some(v)` if woken by `wakeup(v)`.
    ///
    /// # Panics
    ///
    /// As [`sleep`](Self::sleep).
    ///
    /// # Examples
    ///
    /// ```
    /// let job = sock::time::SleepJob::<()>::new();
    /// assert_eq!(sock::run(job.sleep_until(sock::clock())), None);
    /// ```
    pub fn sleep_until(&self, deadline: Instant) -> JobSleep<V> {
        self.sleep_on(Sleep::until(deadline))
    }

    /// Wakes the sleeping thread with `value`; false (and `value` dropped) if nobody is
    /// sleeping on the job or the sleeper was already woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = sock::time::SleepJob::new();
    /// assert!(!job.wakeup(1)); // nobody sleeps
    /// ```
    pub fn wakeup(&self, value: V) -> bool {
        let waker = {
            let mut state = self.state.borrow_mut();
            if !state.sleeping || state.value.is_some() {
                return false;
            }
            state.value = Some(value);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Whether a thread is sleeping on the job and has not been woken yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = sock::time::SleepJob::<()>::new();
    /// assert!(!job.is_sleeping());
    /// ```
    pub fn is_sleeping(&self) -> bool {
        let state = self.state.borrow();
        state.sleeping && state.value.is_none()
    }

    /// A sleep future on this job with the given timeout.
    fn sleep_on(&self, sleep: Sleep) -> JobSleep<V> {
        JobSleep {
            job: self.clone(),
            sleep,
            registered: false,
        }
    }
}

impl<V> Clone for SleepJob<V> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
        }
    }
}

impl<V> Default for SleepJob<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> fmt::Debug for SleepJob<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SleepJob")
            .field("sleeping", &self.is_sleeping())
            .finish()
    }
}

impl<V> JobSleep<V> {
    /// Becomes the job's sleeper (first poll).
    fn register(&mut self) {
        let mut state = self.job.state.borrow_mut();
        assert!(
            !state.sleeping,
            "another thread is already sleeping on this SleepJob; give each sleeper its own job"
        );
        state.sleeping = true;
        state.value = None;
        self.registered = true;
    }

    /// Stops being the job's sleeper; gives the value `wakeup` left, if any.
    fn unregister(&mut self) -> Option<V> {
        if !std::mem::take(&mut self.registered) {
            return None;
        }
        let mut state = self.job.state.borrow_mut();
        state.sleeping = false;
        state.waker = None;
        state.value.take()
    }
}

impl<V> Future for JobSleep<V> {
    type Output = Option<V>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<V>> {
        if !self.registered {
            self.register();
        }
        if self.job.state.borrow().value.is_some() {
            return Poll::Ready(self.unregister());
        }
        if Pin::new(&mut self.sleep).poll(cx).is_ready() {
            return Poll::Ready(self.unregister());
        }
        let mut state = self.job.state.borrow_mut();
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl<V> Drop for JobSleep<V> {
    fn drop(&mut self) {
        drop(self.unregister());
    }
}

impl<V> fmt::Debug for JobSleep<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobSleep")
            .field("sleep", &self.sleep)
            .finish()
    }
}

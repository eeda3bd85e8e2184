//! How a loop waits: the [`Park`] trait, the cross-thread [`Unparker`], and [`ThreadPark`],
//! the default park built on a `Mutex` + `Condvar`.
//!
//! The scheduler never blocks by itself: when no task is ready it calls
//! [`Park::park`] with the time until its next timer (or `None`). A reactor-backed park
//! (the facade's) waits for I/O there; [`ThreadPark`] just sleeps until unparked. Any OS
//! thread may call [`Unparker::unpark`]; an unpark that arrives before the park is not
//! lost: the next `park` returns at once.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How a loop waits for something to happen.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::sched::{Park, ThreadPark};
///
/// let mut park = ThreadPark::new();
/// park.unparker().unpark();
/// park.park(None); // returns at once: the unpark above is remembered
/// park.park(Some(Duration::ZERO)); // never blocks
/// ```
pub trait Park {
    /// Waits until unparked or until `timeout` has passed (`None`: until unparked).
    ///
    /// `Some(Duration::ZERO)` must not block; it is how the loop collects events without
    /// waiting — before a wait that may block, too, so it must not swallow an unpark:
    /// the next wait that may block still returns at once. Returning early (a spurious
    /// wake-up) is allowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::{Park, ThreadPark};
    ///
    /// let mut park = ThreadPark::new();
    /// park.park(Some(Duration::ZERO)); // never blocks
    /// park.unparker().unpark();
    /// park.park(None); // returns at once: the unpark is pending
    /// ```
    fn park(&mut self, timeout: Option<Duration>);

    /// A handle that wakes this park from any OS thread.
    ///
    /// # Examples
    ///
    /// See [`park`](Park::park).
    fn unparker(&self) -> Unparker;
}

/// Something that can wake a parked loop: implement it to plug a reactor's waker into
/// an [`Unparker`].
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use sock::sched::{Unpark, Unparker};
///
/// struct Counter(AtomicUsize);
/// impl Unpark for Counter {
///     fn unpark(&self) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// let counter = Arc::new(Counter(AtomicUsize::new(0)));
/// Unparker::from_arc(counter.clone()).unpark();
/// assert_eq!(counter.0.load(Ordering::Relaxed), 1);
/// ```
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the park this belongs to (or makes its next park return at once).
    ///
    /// # Examples
    ///
    /// See [`Unpark`].
    fn unpark(&self);
}

/// A cloneable, thread-safe handle that wakes a parked loop.
///
/// # Examples
///
/// ```
/// use sock::sched::Unparker;
///
/// let unparker = Unparker::new(|| println!("woken"));
/// let other = unparker.clone();
/// std::thread::spawn(move || other.unpark()).join().unwrap();
/// ```
#[derive(Clone)]
pub struct Unparker {
    /// The park-specific way to wake.
    inner: Arc<dyn Unpark>,
}

impl Unparker {
    /// An unparker that calls `f` to wake.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use sock::sched::Unparker;
    ///
    /// let flag = Arc::new(AtomicBool::new(false));
    /// let f = flag.clone();
    /// Unparker::new(move || f.store(true, Ordering::Release)).unpark();
    /// assert!(flag.load(Ordering::Acquire));
    /// ```
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
        Self::from_arc(Arc::new(FnUnpark(f)))
    }

    /// An unparker from a shared [`Unpark`] implementation.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sock::sched::{Unpark, Unparker};
    ///
    /// struct Nothing;
    /// impl Unpark for Nothing {
    ///     fn unpark(&self) {}
    /// }
    /// Unparker::from_arc(Arc::new(Nothing)).unpark();
    /// ```
    pub fn from_arc(inner: Arc<dyn Unpark>) -> Self {
        Self { inner }
    }

    /// Wakes the loop (or makes its next park return at once).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Park, ThreadPark};
    ///
    /// let mut park = ThreadPark::new();
    /// let unparker = park.unparker();
    /// std::thread::spawn(move || unparker.unpark());
    /// park.park(None); // returns once the other thread unparked
    /// ```
    pub fn unpark(&self) {
        self.inner.unpark();
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unparker").finish_non_exhaustive()
    }
}

/// Adapts a closure to [`Unpark`].
struct FnUnpark<F>(F);

impl<F: Fn() + Send + Sync + 'static> Unpark for FnUnpark<F> {
    fn unpark(&self) {
        (self.0)();
    }
}

/// The default [`Park`]: blocks the OS thread on a condition variable until unparked or
/// until the timeout passes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::sched::{Park, ThreadPark};
///
/// let mut park = ThreadPark::new();
/// park.park(Some(Duration::from_millis(1))); // sleeps about 1 ms
/// ```
#[derive(Debug, Default)]
pub struct ThreadPark {
    /// The state shared with the unparkers.
    signal: Arc<Signal>,
}

/// A remembered wake-up: a flag plus the condition variable that waits for it.
#[derive(Debug, Default)]
struct Signal {
    /// Set by `unpark`, cleared by `park`; read without the lock on the fast paths.
    notified: AtomicBool,
    /// Taken by `park` while it checks `notified` and waits; `unpark` takes it before
    /// notifying so a wake cannot slip between the check and the wait.
    lock: Mutex<()>,
    /// Where `park` sleeps.
    cond: Condvar,
}

impl ThreadPark {
    /// A new park with no pending wake-up.
    ///
    /// # Examples
    ///
    /// ```
    /// let park = sock::sched::ThreadPark::new();
    /// # drop(park);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a pending wake-up, if there is one, without blocking.
    pub(crate) fn take_notification(&self) -> bool {
        self.signal.notified.swap(false, Ordering::AcqRel)
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        // A zero timeout leaves a pending wake-up for the next wait (see `Park::park`).
        if timeout == Some(Duration::ZERO) || self.take_notification() {
            return;
        }
        self.signal
            .wait(timeout.and_then(|t| Instant::now().checked_add(t)));
    }

    fn unparker(&self) -> Unparker {
        Unparker::from_arc(self.signal.clone())
    }
}

impl Signal {
    /// Sleeps until notified or until `deadline` (`None`: no deadline).
    fn wait(&self, deadline: Option<Instant>) {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !self.notified.swap(false, Ordering::AcqRel) {
            guard = match deadline {
                None => self
                    .cond
                    .wait(guard)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return;
                    };
                    let (guard, _) = self
                        .cond
                        .wait_timeout(guard, left)
                        .unwrap_or_else(PoisonError::into_inner);
                    guard
                }
            };
        }
    }
}

impl Unpark for Signal {
    fn unpark(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
            self.cond.notify_one();
        }
    }
}

//! [`Timer`]: hyper's `Timer` on sock's loop timers, with sleeps that are `Send + Sync`.
//!
//! A sock timer belongs to its loop thread (its handle is `!Send`), while hyper may
//! move, drop or reset a sleep anywhere. So a [`Sleep`] is only an `Arc`-shared state
//! (deadline, fired flag, waker) behind a mutex; the loop timer is armed on its first
//! poll, on the polling loop thread, and its callback holds the state and the arming's
//! id. The `TimerHandle` stays on that thread, in a thread-local map keyed by the id.
//!
//! Dropping or resetting a sleep disarms it in the state; on the arming thread it also
//! cancels the loop timer, anywhere else the timer fires later, sees that its id is no
//! longer the armed one, and does nothing. A reset wakes the waiting task so that its
//! next poll arms a timer at the new deadline. Polled on another loop thread than the
//! one that armed it, a sleep arms there too.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::time::TimerHandle;

/// hyper's `Timer` on the current loop: give it to hyper's builders (`.timer(Timer)`)
/// for header-read timeouts and keep-alive.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer as _;
///
/// sock::run(async {
///     let start = Instant::now();
///     sock::hyper::Timer.sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep::new(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep::until(deadline))
    }

    fn now(&self) -> Instant {
        now()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A sleep of [`Timer`]: `Send + Sync`, so it may be dropped or reset from any thread;
/// it must be polled on a loop thread.
///
/// # Panics
///
/// Polling it off a loop thread panics, as [`run_at`](crate::time::run_at) does.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// sock::run(async {
///     let start = Instant::now();
///     let mut sleep = sock::hyper::Sleep::new(Duration::from_secs(60));
///     sleep.reset(Instant::now() + Duration::from_millis(5));
///     sleep.await;
///     assert!(start.elapsed() < Duration::from_secs(60));
/// });
/// ```
#[derive(Debug)]
pub struct Sleep {
    /// The state shared with the loop timer's callback, if one is armed.
    shared: Arc<Mutex<State>>,
}

/// The state of a [`Sleep`].
#[derive(Debug)]
struct State {
    /// When the sleep ends.
    deadline: Instant,
    /// The deadline has passed (set by the timer or seen by a poll).
    fired: bool,
    /// The task to wake when it fires (or is reset).
    waker: Option<Waker>,
    /// The loop timer armed for the current deadline: its id and its thread.
    armed: Option<(u64, ThreadId)>,
}

thread_local! {
    /// This thread's armed loop timers by id, so a sleep can cancel its own.
    static ARMED: RefCell<HashMap<u64, TimerHandle, BuildHasherDefault<IdHasher>>> =
        RefCell::new(HashMap::default());
    /// This OS thread's id, read once (`thread::current()` clones a handle each time).
    static HERE: ThreadId = thread::current().id();
}

/// The id of this OS thread.
fn here() -> ThreadId {
    // During thread teardown the cached id may be gone: ask std then.
    HERE.try_with(|id| *id)
        .unwrap_or_else(|_| thread::current().id())
}

/// The hasher of [`ARMED`]'s keys: arming ids are distinct counter values, spread
/// enough as they are (std's default SipHash costs more than the rest of an arming).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread the counter's low bits over the word (the map uses the top bits too).
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The time hyper's deadlines are made in and sleeps compare with: the OS's monotonic
/// clock (hyper may poll or reset a sleep off any loop), except on a simulated host
/// (`sim` feature), whose loop clock is virtual and whose timers fire in it.
fn now() -> Instant {
    #[cfg(feature = "sim")]
    if crate::sim::socket::current_host().is_some() {
        return crate::clock();
    }
    Instant::now()
}

/// The id of the next arming.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Sleep {
    /// A sleep that ends `duration` from now (or practically never, past `Instant`'s range).
    ///
    /// # Examples
    ///
    /// See [`Sleep`].
    pub fn new(duration: Duration) -> Sleep {
        let now = now();
        let far = Duration::from_secs(86_400 * 365 * 30);
        Sleep::until(now.checked_add(duration).unwrap_or(now + far))
    }

    /// A sleep that ends at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(sock::hyper::Sleep::until(std::time::Instant::now()));
    /// ```
    pub fn until(deadline: Instant) -> Sleep {
        let state = State {
            deadline,
            fired: false,
            waker: None,
            armed: None,
        };
        Sleep {
            shared: Arc::new(Mutex::new(state)),
        }
    }

    /// Moves the deadline (earlier or later; a fired sleep sleeps again); from any thread.
    ///
    /// # Examples
    ///
    /// See [`Sleep`].
    pub fn reset(&mut self, deadline: Instant) {
        let mut state = lock(&self.shared);
        state.deadline = deadline;
        state.fired = false;
        let (armed, waker) = (state.armed.take(), state.waker.take());
        drop(state);
        cancel(armed);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// let at = std::time::Instant::now();
    /// assert_eq!(sock::hyper::Sleep::until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        lock(&self.shared).deadline
    }

    /// Arms a loop timer on this thread for `deadline`, recorded in `state`.
    fn arm(&self, state: &mut State) {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        state.armed = Some((id, here()));
        let shared = Arc::clone(&self.shared);
        let handle = crate::time::run_at(state.deadline, move || fire(&shared, id));
        ARMED.with(|armed| armed.borrow_mut().insert(id, handle));
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.shared);
        if state.fired || now() >= state.deadline {
            state.fired = true;
            return Poll::Ready(());
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        let here = here();
        if state.armed.is_none_or(|(_, on)| on != here) {
            self.arm(&mut state);
        }
        Poll::Pending
    }
}

impl ::hyper::rt::Sleep for Sleep {}

impl Drop for Sleep {
    fn drop(&mut self) {
        let armed = lock(&self.shared).armed.take();
        cancel(armed);
    }
}

/// The loop timer's callback: ends the sleep if `id` is still its armed timer.
fn fire(shared: &Mutex<State>, id: u64) {
    ARMED.with(|armed| armed.borrow_mut().remove(&id));
    let mut state = lock(shared);
    if state.armed.is_none_or(|(armed, _)| armed != id) {
        return;
    }
    state.fired = true;
    let waker = state.waker.take();
    drop(state);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Cancels the loop timer `armed` if it was armed on this thread; one armed elsewhere
/// fires later and finds itself disarmed.
fn cancel(armed: Option<(u64, ThreadId)>) {
    let Some((id, on)) = armed else { return };
    if on != here() {
        return;
    }
    // `try_with`: during thread teardown the map may be gone, and its timers with it.
    let handle = ARMED
        .try_with(|map| map.borrow_mut().remove(&id))
        .ok()
        .flatten();
    if let Some(handle) = handle {
        handle.cancel();
    }
}

/// Locks a sleep's state; a panic while it was held cannot leave it inconsistent (each
/// field is written whole), so a poisoned lock is used as is.
fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

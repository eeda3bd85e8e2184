//! Time and timers of this thread's loop: sleeps, interruptible sleep jobs, and the
//! seed's `runat`/`runafter`/`runevery` callbacks.
//!
//! `sock::sleep` and `sock::clock` are at the crate root too; the
//! deadlines of socket operations are [`Expires`](crate::Expires) and the scope
//! deadlines [`sock::timeout`](crate::timeout)/[`sock::deadline`](crate::deadline).
//!
//! # Examples
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! let ticks = Rc::new(Cell::new(0));
//! let t = ticks.clone();
//! sock::time::run_every(Duration::from_millis(1), move || {
//!     t.set(t.get() + 1);
//!     t.get() < 3 // keep going until the third tick
//! });
//! sock::run(sock::time::sleep(Duration::from_millis(20)));
//! assert_eq!(ticks.get(), 3);
//! ```

use std::time::{Duration, Instant};

#[doc(inline)]
pub use sock_sched::{JobSleep, MissedTick, Sleep, SleepJob, TimerHandle, sleep, sleep_until};

pub use crate::control::clock;

/// The earliest timer deadline of this thread's loop.
///
/// # Examples
///
/// ```
/// assert_eq!(sock::time::next_deadline(), None);
/// ```
pub fn next_deadline() -> Option<Instant> {
    sock_sched::next_deadline()
}

/// Runs `f` at the absolute time `deadline` on this thread's loop (the seed's
/// `sock.runat`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let h = sock::time::run_at(sock::clock() + Duration::from_millis(1), || println!("tick"));
/// assert!(h.cancel());
/// ```
#[doc(alias = "runat")]
pub fn run_at(deadline: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
    sock_sched::run_at(deadline, f)
}

/// Runs `f` once after `delay` (the seed's `sock.runafter`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// sock::time::run_after(Duration::from_millis(1), || sock::stop());
/// sock::start();
/// ```
#[doc(alias = "runafter")]
pub fn run_after(delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
    sock_sched::run_after(delay, f)
}

/// Runs `f` every `period` while it returns `true` (the seed's `sock.runevery`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut n = 0;
/// sock::time::run_every(Duration::from_millis(1), move || { n += 1; n < 3 });
/// sock::start(); // returns after the third tick
/// ```
#[doc(alias = "runevery")]
pub fn run_every(period: Duration, f: impl FnMut() -> bool + 'static) -> TimerHandle {
    sock_sched::run_every(period, f)
}

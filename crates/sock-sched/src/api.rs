//! Free functions acting on the current loop ([`Executor::current`]) and thread.
//!
//! The facade wraps the ones that may create a loop so the thread's default loop is the
//! reactor-backed one.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::executor::Executor;
use crate::thread::{Thread, ThreadRef};

/// Spawns `future` as a thread of the current loop, queued to run; see
/// [`Executor::spawn`].
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { 2 });
/// sock::start();
/// assert_eq!(t.try_join().unwrap().unwrap(), 2);
/// ```
pub fn spawn<F: Future + 'static>(future: F) -> Thread<F::Output> {
    Executor::current().spawn(future)
}

/// Runs the current loop until `future` finishes; see [`Executor::run`]. The future may
/// borrow the caller's locals.
///
/// # Panics
///
/// As [`Executor::run`].
///
/// # Examples
///
/// ```
/// assert_eq!(sock::run(async { "whole value".to_string() }), "whole value");
///
/// let mut log = Vec::new();
/// sock::run(async { log.push(sock::current().id()) });
/// assert_eq!(log.len(), 1);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    Executor::current().run(future)
}

/// Runs one iteration of the current loop; see [`Executor::poll`].
///
/// # Panics
///
/// As [`Executor::poll`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// sock::spawn(async {});
/// assert!(sock::poll(Some(Duration::ZERO)));
/// ```
pub fn poll(timeout: Option<Duration>) -> bool {
    Executor::current().poll(timeout)
}

/// Runs the current loop until nothing is alive or [`stop`] is called; see
/// [`Executor::start`].
///
/// # Panics
///
/// As [`Executor::poll`].
///
/// # Examples
///
/// ```
/// sock::spawn(async { sock::stop() });
/// sock::spawn(std::future::pending::<()>());
/// sock::start(); // returns: stopped
/// ```
pub fn start() {
    Executor::current().start();
}

/// Makes the current loop's `start()` return; see [`Executor::stop`].
///
/// # Examples
///
/// ```
/// sock::spawn(async { sock::stop() });
/// sock::start();
/// ```
pub fn stop() {
    Executor::current().stop();
}

/// The current loop's time; see [`Executor::clock`].
///
/// # Examples
///
/// ```
/// let a = sock::clock();
/// assert!(sock::clock() >= a);
/// ```
pub fn clock() -> Instant {
    crate::context::with_entered(|inner| inner.now()).unwrap_or_else(|| Executor::current().clock())
}

/// When the current loop next has something to do; see [`Executor::next_deadline`].
///
/// # Examples
///
/// ```
/// let ex = sock::sched::Executor::new();
/// ex.make_current();
/// assert_eq!(sock::sched::next_deadline(), None);
/// ```
pub fn next_deadline() -> Option<Instant> {
    Executor::current().next_deadline()
}

/// The thread running now.
///
/// # Panics
///
/// If called outside a thread (not inside a future run by a loop).
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { sock::current().id() });
/// let id = t.id();
/// sock::start();
/// assert_eq!(t.try_join().unwrap().unwrap(), id);
/// ```
#[doc(alias = "currentthread")]
pub fn current() -> ThreadRef {
    try_current().expect("current() called outside a thread; call it from inside a spawned future")
}

/// The thread running now, or `None` outside a thread.
///
/// # Examples
///
/// ```
/// assert!(sock::task::try_current().is_none());
/// assert!(sock::run(async { sock::task::try_current().is_some() }));
/// ```
pub fn try_current() -> Option<ThreadRef> {
    let inner = crate::context::entered()?;
    let task = inner.current_task()?;
    Some(ThreadRef::new(Executor { inner }, task))
}

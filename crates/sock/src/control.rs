//! Loop control and the scheduling API at the crate root, on this OS thread's loop.
//!
//! There is one current loop per thread, the scheduler's: scheduling and timer calls
//! go to it directly, and the loop gets its reactor when a socket (or `run`, `poll`,
//! `start`, which go through [`Loop::current`]) first needs one. The rest are
//! `sock-sched`'s own, re-exported.

use std::future::Future;
use std::time::{Duration, Instant};

#[doc(inline)]
pub use sock_sched::{Thread, current, sleep, yield_now};

use crate::runtime::Loop;

/// Runs this thread's loop until `fut` finishes and returns its whole output; the
/// seed's `sock.run(f)`. Other threads run meanwhile.
///
/// `fut` runs as a thread of the loop ([`current`] works in it). It may borrow the
/// caller's locals, like `block_on` in tokio or smol: it is dropped before `run` returns
/// or unwinds (see [`Executor::run`](crate::sched::Executor::run)).
///
/// # Panics
///
/// With `fut`'s panic; when a detached thread panicked (the panic surfaces here, as the
/// seed raises a thread's error from `start`/`run`), unless the loop's
/// [`PanicPolicy`](crate::task::PanicPolicy) is `Isolate`.
///
/// # Examples
///
/// ```
/// assert_eq!(sock::run(async { vec![1, 2, 3] }), vec![1, 2, 3]);
///
/// let data = vec![1, 2, 3];
/// let n = sock::run(async { data.len() });
/// assert_eq!(n, data.len());
/// ```
#[doc(alias = "sock.run")]
pub fn run<F: Future>(fut: F) -> F::Output {
    Loop::current().run(fut)
}

/// Runs every ready thread, then waits for I/O or timers at most `timeout`
/// (`None`: until something happens; `Some(ZERO)`: never blocks). Returns whether any
/// thread ran or timer fired. The seed's `sock.poll()`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// assert!(!sock::poll(Some(Duration::ZERO))); // nothing to do, returns at once
/// ```
#[doc(alias = "sock.poll")]
pub fn poll(timeout: Option<Duration>) -> bool {
    Loop::current().poll(timeout)
}

/// Runs this thread's loop until nothing can run again or [`stop`] is called; the
/// seed's `sock.start()`.
///
/// Nothing can run again when no thread is ready, no timer is armed, no socket
/// operation is parked and no thread waits on anything else that could wake it (a join,
/// a channel, a job on another OS thread, a [`Handle`](crate::loops::Handle)). Suspended
/// threads do not keep it running: those nobody holds a handle to are cancelled then
/// (their `on_finish` callbacks are told `Cancelled`); the others stay, to be resumed
/// before the next `start`. See [`Executor::start`](crate::sched::Executor::start).
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { 5 });
/// sock::start();
/// assert_eq!(t.try_join().unwrap().unwrap(), 5);
///
/// let s = sock::spawn(async { sock::task::suspend().await; 6 });
/// sock::start(); // returns: `s` is suspended and nothing else can run
/// assert!(!s.is_finished());
/// s.resume(()); // runs it on from its `suspend`, here to its end
/// assert_eq!(s.try_join().unwrap().unwrap(), 6);
/// ```
#[doc(alias = "sock.start")]
pub fn start() {
    Loop::current().start()
}

/// Makes [`start`] return after the current iteration.
///
/// # Examples
///
/// ```
/// sock::spawn(async { sock::stop(); std::future::pending::<()>().await });
/// sock::start(); // returns although a thread is still alive
/// ```
#[doc(alias = "sock.stop")]
pub fn stop() {
    Loop::current().stop()
}

/// The loop's clock: a monotonic `Instant`, the base of every deadline.
///
/// # Examples
///
/// ```
/// let t0 = sock::clock();
/// assert!(sock::clock() >= t0);
/// ```
#[doc(alias = "sock.clock")]
pub fn clock() -> Instant {
    sock_sched::clock()
}

/// Spawns `fut` as a thread of this OS thread's loop; it starts at the next iteration.
///
/// # Examples
///
/// ```
/// let t = sock::spawn(async { "done" });
/// assert_eq!(sock::run(t.join()).unwrap(), "done");
/// ```
pub fn spawn<F>(fut: F) -> Thread<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    sock_sched::spawn(fut)
}

/// Creates a thread and runs it at once until its first suspension, then returns to
/// the caller (the seed's `sock.thread(f)`).
///
/// # Examples
///
/// ```
/// let t = sock::thread(async { 1 });
/// assert!(t.is_finished()); // it never suspended
/// ```
#[doc(alias = "sock.thread")]
pub fn thread<F>(fut: F) -> Thread<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    sock_sched::thread(fut)
}

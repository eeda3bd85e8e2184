//! [`spawn_blocking`]: a blocking closure run on a small, opt-in pool of OS threads, its
//! result awaited on the loop — with a deadline, like any socket operation.
//!
//! How it works (the pool is built like the resolver's in `sock-addr`, the other place
//! sock starts threads, and only when asked):
//!
//! - **Pool.** One per process, shared by every loop. No thread exists until the first
//!   call; a thread is started when a closure is queued and no idle thread is waiting, up
//!   to [`BLOCKING_THREADS`]; further closures wait in a first-in, first-out queue. A
//!   thread that finds no work for `IDLE_TIMEOUT` (10 s) exits, so an idle process has
//!   none. Threads are named `sock-blocking`; [`blocking_stats`] shows the pool.
//! - **Result.** Each call gets a one-shot slot (`oneshot.rs`). The pool thread stores
//!   the closure's result (or its panic) there and wakes the awaiting thread's waker,
//!   which, called from another OS thread, goes through the loop's remote wake queue and
//!   unparks its reactor.
//! - **Giving up.** Dropping the [`Blocking`] future — its deadline passed, its thread
//!   was cancelled — before a pool thread picked the closure up means the closure never
//!   runs. A running closure cannot be interrupted: it runs to its end on its pool
//!   thread, and its result is dropped.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::oneshot::{self, Receiver, Sender};
use crate::op::Op;

/// The most pool threads that run closures at once; more calls wait in a queue.
pub const BLOCKING_THREADS: usize = 16;

/// How long an idle pool thread waits for work before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `f` on the blocking pool, off the loop, and gives a future of its result: for
/// work that would stall every thread of the loop — a blocking library call, a file
/// read, a password hash.
///
/// The future is an [`Op`], so [`Expires`](crate::Expires) gives it a deadline:
/// `spawn_blocking(f).timeout(d).await` fails with [`ErrorKind::Timeout`] if `f` has not
/// returned by then (`f` itself runs on to its end; see below).
///
/// # Threads
///
/// The pool is one of the two places sock starts threads of its own (the resolver is
/// the other), and only when asked: no thread exists before the first call; at most
/// [`BLOCKING_THREADS`] run closures at once and the rest wait, first in first out; a
/// thread idle for 10 s exits. Threads are named `sock-blocking`; [`blocking_stats`]
/// reports them. Dropping the future before a pool thread took `f` up means `f` never
/// runs; a running `f` cannot be interrupted, so once started it runs to its end and its
/// result is dropped.
///
/// # Errors
///
/// [`ErrorKind::Timeout`] from a deadline; [`ErrorKind::Other`] if the pool could not
/// start a thread and had none left to run `f`.
///
/// # Panics
///
/// Awaiting it re-raises `f`'s panic in the awaiting thread (where the loop's
/// [`PanicPolicy`](crate::task::PanicPolicy) applies, as for any panic of a thread).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{ErrorKind, Expires};
///
/// sock::run(async {
///     let sum = sock::task::spawn_blocking(|| (1..=100u64).sum::<u64>()).await?;
///     assert_eq!(sum, 5050);
///
///     let slow = sock::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(200)));
///     let err = slow.timeout(Duration::from_millis(10)).await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::Timeout);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (sender, result) = oneshot::channel();
    POOL.submit(Box::new(move |started| run_job(f, sender, started)));
    Blocking { result }
}

/// What became of a closure.
enum Done<T> {
    /// It returned this.
    Value(T),
    /// It panicked with this payload.
    Panicked(Box<dyn std::any::Any + Send>),
    /// No thread could be started to run it.
    Failed(io::Error),
}

/// The pool's side of one call: runs `f` (unless nobody waits any more) and sends what
/// became of it; or, if no thread could run it, sends that.
fn run_job<F, T>(f: F, sender: Sender<Done<T>>, started: Result<(), &io::Error>)
where
    F: FnOnce() -> T,
{
    let done = match started {
        Err(err) => Done::Failed(io::Error::new(err.kind(), err.to_string())),
        Ok(()) if sender.is_closed() => return,
        Ok(()) => {
            POOL.lock().ran += 1;
            match catch_unwind(AssertUnwindSafe(f)) {
                Ok(value) => Done::Value(value),
                Err(payload) => Done::Panicked(payload),
            }
        }
    };
    sender.send(done);
}

/// The future [`spawn_blocking`] returns: the closure's result, once a pool thread has
/// run it. An [`Op`], so it takes deadlines.
///
/// # Examples
///
/// See [`spawn_blocking`].
#[must_use = "futures do nothing unless awaited (and the closure is skipped if this is dropped first)"]
pub struct Blocking<T> {
    /// Where the pool thread puts the result.
    result: Receiver<Done<T>>,
}

impl<T> Future for Blocking<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let done = std::task::ready!(self.result.poll_recv(cx));
        Poll::Ready(match done {
            Some(Done::Value(value)) => Ok(value),
            Some(Done::Panicked(payload)) => resume_unwind(payload),
            Some(Done::Failed(err)) => Err(no_thread(Some(err))),
            None => Err(no_thread(None)),
        })
    }
}

impl<T> Op for Blocking<T> {
    type Timer = sock_sched::Sleep;
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking")
            .field("done", &self.result.is_ready())
            .finish()
    }
}

/// The error of a call the pool could not run.
fn no_thread(cause: Option<io::Error>) -> Error {
    let message = match cause {
        Some(err) => format!("spawn_blocking could not start a pool thread: {err}"),
        None => String::from("spawn_blocking's pool dropped the closure unrun"),
    };
    Error::new(ErrorKind::Other, message)
}

/// A snapshot of the blocking pool, for monitoring and tests.
///
/// # Examples
///
/// ```
/// let stats = sock::task::blocking_stats();
/// assert!(stats.threads <= sock::task::BLOCKING_THREADS);
/// assert!(stats.idle_threads <= stats.threads);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockingStats {
    /// Pool threads alive (at most [`BLOCKING_THREADS`]; 0 until the first call and
    /// again after 10 s without work).
    pub threads: usize,
    /// Pool threads waiting for work.
    pub idle_threads: usize,
    /// Closures waiting for a thread.
    pub queued: usize,
    /// Closures started since the process started (counted before they run; not
    /// counting the ones skipped because their future was dropped first).
    pub ran: u64,
}

/// The state of the blocking pool: threads, queue and the closures run so far.
///
/// # Examples
///
/// ```
/// sock::run(async {
///     sock::task::spawn_blocking(|| ()).await?;
///     assert!(sock::task::blocking_stats().ran >= 1);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
pub fn blocking_stats() -> BlockingStats {
    let state = POOL.lock();
    BlockingStats {
        threads: state.threads,
        idle_threads: state.idle,
        queued: state.queue.len(),
        ran: state.ran,
    }
}

/// A queued call: run with `Ok(())` by a pool thread, or with the error that kept the
/// pool from starting one.
type Job = Box<dyn FnOnce(Result<(), &io::Error>) + Send>;

/// The process-wide pool.
static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        threads: 0,
        idle: 0,
        ran: 0,
    }),
    work: Condvar::new(),
};

/// The pool: its state and the condition idle threads wait on.
struct Pool {
    /// Queue, counts.
    state: Mutex<PoolState>,
    /// Signalled when a closure is queued, for idle threads.
    work: Condvar,
}

/// What the pool's lock guards.
struct PoolState {
    /// Calls waiting for a thread, oldest first.
    queue: VecDeque<Job>,
    /// Threads alive, counted from before they are spawned until they exit.
    threads: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Closures started, for [`BlockingStats::ran`].
    ran: u64,
}

impl Pool {
    /// The state (a poisoned lock still holds a valid state).
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a call, starting a thread if no idle one will take it and the pool is
    /// below its bound.
    fn submit(&'static self, job: Job) {
        let mut state = self.lock();
        state.queue.push_back(job);
        let spawn = state.queue.len() > state.idle && state.threads < BLOCKING_THREADS;
        state.threads += usize::from(spawn);
        drop(state);
        self.work.notify_one();
        if spawn {
            self.spawn_worker();
        }
    }

    /// Starts a thread (already counted); if that fails and no thread is left to run
    /// the queue, fails every queued call with the error.
    fn spawn_worker(&'static self) {
        let builder = thread::Builder::new().name("sock-blocking".to_owned());
        let Err(err) = builder.spawn(move || self.work_loop()) else {
            return;
        };
        let mut state = self.lock();
        state.threads -= 1;
        if state.threads > 0 {
            return;
        }
        let failed: Vec<Job> = state.queue.drain(..).collect();
        drop(state);
        for job in failed {
            job(Err(&err));
        }
    }

    /// A pool thread: runs queued calls; exits after `IDLE_TIMEOUT` without work.
    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job(Ok(()));
                state = self.lock();
                continue;
            }
            state.idle += 1;
            let waited = self.work.wait_timeout(state, IDLE_TIMEOUT);
            let (guard, timeout) = waited.unwrap_or_else(PoisonError::into_inner);
            state = guard;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }
}

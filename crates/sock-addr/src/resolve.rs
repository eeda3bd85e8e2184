//! [`resolve`]: a lookup that does not block the caller's loop — a future any executor
//! can await.
//!
//! How it works, and one of the two places this workspace starts threads of its own (the
//! other is the facade's `spawn_blocking` pool, built the same way):
//!
//! - **Numeric fast path.** A numeric host (`127.0.0.1`, `::1`, `fe80::1%lo`, or `"*"`)
//!   with a numeric port cannot need a name server, so it is looked up at once, on the
//!   caller's thread, with `NUMERICHOST | NUMERICSERV` added so the OS is guaranteed not
//!   to consult DNS. The future is ready on its first poll; no thread is involved. A
//!   lookup that asks for `NUMERICHOST` itself takes the same path, so a name given
//!   with it fails on the first poll.
//! - **Pool.** Anything else is queued for a small pool of OS threads named
//!   `sock-addr-resolver`. No thread exists until the first such lookup; a thread is
//!   started when a lookup is queued and no idle thread is waiting, up to
//!   `MAX_THREADS` (4); a thread that finds no work for `IDLE_TIMEOUT` (3 s) exits,
//!   so an idle process has none. [`resolver_stats`] shows the pool's state.
//! - **Merging.** A lookup identical (host, port, hints) to one queued or running joins
//!   it: the OS is asked once and every caller gets the same [`AddrList`] (shared, not
//!   copied) or a clone of the error. Finished lookups are not cached.
//! - **Wake-up.** The plumbing is std only: each lookup is a `Job` whose mutex holds the
//!   result and one `Waker` per waiting future; the worker stores the result and wakes
//!   them all. Dropping every future of a job that has not started yet cancels it; a
//!   running `getaddrinfo` cannot be interrupted, so its result is then dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use crate::lookup::lookup_port;
use crate::{AddrList, Flags, Hints, LookupError, Port};

/// The most threads the pool runs at once.
pub(crate) const MAX_THREADS: usize = 4;
/// How long an idle pool thread waits for work before it exits.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(3);

/// Looks up `host` and `port` like [`lookup`](crate::lookup), without blocking the
/// caller: numeric hosts and ports are answered at once, names on a small, lazily
/// started thread pool. The returned future is `Send + 'static` and needs no
/// particular executor.
///
/// # Threads
///
/// This is one of the two places the workspace starts threads of its own (the other is
/// the facade's `spawn_blocking` pool), and only when asked:
///
/// - A numeric host (`127.0.0.1`, `::1`, `fe80::1%lo`, `"*"`) with a numeric port is
///   looked up at once on the calling thread, with `NUMERICHOST | NUMERICSERV` added so
///   no name server is consulted; the future is ready on its first poll. So is any
///   lookup whose hints ask for [`Flags::NUMERICHOST`] (with a numeric port, or
///   `NUMERICSERV`): a name then fails at once with `HostNotFound`, never queued.
/// - Anything else runs on a pool of threads named `sock-addr-resolver`: none exists
///   until the first such lookup, at most 4 run at once, and a thread idle for 3 s
///   exits. [`resolver_stats`] reports them.
/// - A lookup identical (host, port, hints) to one in flight joins it: the OS is asked
///   once and every caller gets the same list. Results are not cached.
/// - Dropping the future before a thread picked the lookup up cancels it; a running
///   `getaddrinfo` cannot be interrupted, its result is then dropped.
///
/// # Errors
///
/// The same as [`lookup`](crate::lookup); `System` also if the pool could not start a
/// thread.
///
/// # Examples
///
/// ```
/// use sock::{addr::resolve, addr::Hints};
/// # use std::{future::Future, pin::pin, sync::Arc, task::{Context, Poll, Wake, Waker}};
/// # struct Unpark(std::thread::Thread);
/// # impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// # fn block_on<F: Future>(fut: F) -> F::Output {
/// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
/// #     let mut fut = pin!(fut);
/// #     loop {
/// #         if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
/// #         std::thread::park();
/// #     }
/// # }
///
/// // Any executor works; `block_on` here is a ten-line one on std.
/// let list = block_on(resolve("localhost", 8080, &Hints::tcp()))?;
/// assert!(list.iter().all(|e| e.addr().port() == 8080));
///
/// let list = block_on(resolve("::1", "8080", &Hints::tcp()))?; // numeric: no thread
/// assert_eq!(list.first().unwrap().to_string(), "[::1]:8080");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "resolver")]
pub fn resolve(host: &str, port: impl Into<Port>, hints: &Hints) -> Resolve {
    let port = port.into();
    if let Some(numeric) = numeric_hints(host, &port, hints) {
        return Resolve {
            state: State::Ready(Some(lookup_port(host, &port, &numeric))),
        };
    }
    let request = Request {
        host: host.into(),
        port,
        hints: *hints,
    };
    let (job, slot) = POOL.submit(request);
    Resolve {
        state: State::Waiting(Waiting { job, slot }),
    }
}

/// The hints for the fast path, if the lookup cannot need a name server: `host` and
/// `port` are numeric, or the caller asked for [`Flags::NUMERICHOST`] (a name then fails
/// at once) with a numeric port or [`Flags::NUMERICSERV`].
fn numeric_hints(host: &str, port: &Port, hints: &Hints) -> Option<Hints> {
    let numeric_port = port.number().is_some() || hints.flags.contains(Flags::NUMERICSERV);
    let numeric_host = is_numeric_host(host) || hints.flags.contains(Flags::NUMERICHOST);
    if !numeric_host || !numeric_port {
        return None;
    }
    Some(hints.flags(hints.flags | Flags::NUMERICHOST | Flags::NUMERICSERV))
}

/// `"*"`, an IPv4 address, or an IPv6 address with an optional `%scope`.
fn is_numeric_host(host: &str) -> bool {
    if host == "*" || host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    match host.split_once('%') {
        Some((ip, scope)) => !scope.is_empty() && ip.parse::<std::net::Ipv6Addr>().is_ok(),
        None => false,
    }
}

/// The future [`resolve`] returns.
///
/// # Panics
///
/// Polling it again after it returned `Ready` panics: a future is done once it is ready.
///
/// # Examples
///
/// ```
/// fn assert_send<T: Send + 'static>(_: &T) {}
/// // On sock's pages `sock::addr::resolve` is the facade's operation; this future is
/// // what it wraps, `Send` like it.
/// let fut = sock::addr::resolve("127.0.0.1", 80, &sock::addr::Hints::tcp());
/// assert_send(&fut);
/// ```
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Resolve {
    /// Where the answer is, or comes from.
    state: State,
}

#[derive(Debug)]
enum State {
    /// Answered already (fast path); `None` once taken.
    Ready(Option<Result<AddrList, LookupError>>),
    /// Waiting for a pool job.
    Waiting(Waiting),
    /// The answer was returned.
    Done,
}

impl Future for Resolve {
    type Output = Result<AddrList, LookupError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match &mut self.state {
            State::Ready(result) => result.take(),
            State::Waiting(waiting) => match waiting.job.poll_result(waiting.slot, cx) {
                Poll::Ready(result) => Some(result),
                Poll::Pending => return Poll::Pending,
            },
            State::Done => None,
        };
        self.state = State::Done;
        Poll::Ready(result.expect("`Resolve` polled after it returned `Ready`"))
    }
}

/// A future's place in a job; leaving it (drop) may cancel the job.
#[derive(Debug)]
struct Waiting {
    /// The job this future waits for (shared with merged futures and the pool).
    job: Arc<Job>,
    /// This future's index in the job's waker list.
    slot: usize,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.job.leave(self.slot) {
            POOL.forget(&self.job);
        }
    }
}

/// What is looked up; equal requests in flight are merged.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    host: Box<str>,
    port: Port,
    hints: Hints,
}

/// One lookup on the pool, shared by every future waiting for it.
#[derive(Debug)]
struct Job {
    /// What to look up; immutable.
    request: Request,
    /// Progress, result and wakers; locked briefly, never across the lookup.
    state: Mutex<JobState>,
}

#[derive(Debug, Default)]
struct JobState {
    /// The answer, once the lookup finished.
    result: Option<Result<AddrList, LookupError>>,
    /// One slot per future that joined; `None` when it has no waker yet or left.
    wakers: Vec<Option<Waker>>,
    /// Futures still waiting.
    waiters: usize,
    /// A worker took the job; it can no longer be cancelled.
    started: bool,
    /// Every future left before it started; workers skip it.
    cancelled: bool,
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, JobState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a waiting future; `None` if the job was cancelled (start a new one).
    fn join(&self) -> Option<usize> {
        let mut state = self.lock();
        if state.cancelled {
            return None;
        }
        state.waiters += 1;
        state.wakers.push(None);
        Some(state.wakers.len() - 1)
    }

    /// Removes a future; true if that cancelled the job (nobody waits, not started).
    fn leave(&self, slot: usize) -> bool {
        let mut state = self.lock();
        state.wakers[slot] = None;
        state.waiters -= 1;
        let cancel = state.waiters == 0 && !state.started && state.result.is_none();
        state.cancelled |= cancel;
        cancel
    }

    /// The result if there is one, else remembers the waker.
    fn poll_result(
        &self,
        slot: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<AddrList, LookupError>> {
        let mut state = self.lock();
        if let Some(result) = &state.result {
            return Poll::Ready(result.clone());
        }
        match &mut state.wakers[slot] {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Marks the job taken by a worker; false if it was cancelled.
    fn start(&self) -> bool {
        let mut state = self.lock();
        state.started = !state.cancelled;
        state.started
    }

    /// Stores the result and wakes every waiting future (outside the lock).
    fn complete(&self, result: Result<AddrList, LookupError>) {
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            state.result = Some(result);
            state.wakers.iter_mut().filter_map(Option::take).collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// A snapshot of the resolver pool, for monitoring and tests.
///
/// # Examples
///
/// ```
/// let stats = sock::addr::resolver_stats();
/// assert!(stats.threads <= 4);
/// assert!(stats.idle_threads <= stats.threads);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolverStats {
    /// Pool threads alive (at most 4; 0 until the first non-numeric lookup and again
    /// after 3 s without work).
    pub threads: usize,
    /// Pool threads waiting for work.
    pub idle_threads: usize,
    /// Lookups waiting for a thread.
    pub queued: usize,
    /// Lookups queued or running.
    pub in_flight: usize,
    /// Lookups the pool has passed to the OS since the process started.
    pub lookups: u64,
    /// Calls to [`resolve`] that joined an identical lookup already in flight.
    pub merged: u64,
}

/// The state of the resolver pool: thread count, queue and counters.
///
/// # Examples
///
/// ```standalone_crate
/// // (standalone: in a process of its own, no other example's lookups are counted)
/// let before = sock::addr::resolver_stats().lookups;
/// let _ = sock::addr::resolve("127.0.0.1", 80, &sock::addr::Hints::tcp()); // numeric: not pooled
/// assert_eq!(sock::addr::resolver_stats().lookups, before);
/// ```
pub fn resolver_stats() -> ResolverStats {
    let state = POOL.lock();
    ResolverStats {
        threads: state.threads,
        idle_threads: state.idle,
        queued: state.queue.len(),
        in_flight: state.in_flight.len(),
        lookups: state.lookups,
        merged: state.merged,
    }
}

/// The process-wide pool.
static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        in_flight: Vec::new(),
        threads: 0,
        idle: 0,
        lookups: 0,
        merged: 0,
    }),
    work: Condvar::new(),
};

struct Pool {
    /// Queue, jobs in flight and counters.
    state: Mutex<PoolState>,
    /// Signalled when a job is queued, for idle threads.
    work: Condvar,
}

struct PoolState {
    /// Jobs waiting for a thread, oldest first.
    queue: VecDeque<Arc<Job>>,
    /// Jobs queued or running, for merging (a handful: a linear scan is fine).
    in_flight: Vec<Arc<Job>>,
    /// Threads alive, counted from before they are spawned until they exit.
    threads: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Lookups run, for [`ResolverStats`].
    lookups: u64,
    /// Merged requests, for [`ResolverStats`].
    merged: u64,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins an identical job in flight, or queues a new one (starting a thread if no
    /// idle one will take it and the pool is below its bound).
    fn submit(&'static self, request: Request) -> (Arc<Job>, usize) {
        let mut state = self.lock();
        // A cancelled job may still be listed for a moment: `join` skips it.
        let mut same = state.in_flight.iter().filter(|job| job.request == request);
        if let Some((job, slot)) = same.find_map(|job| Some((job.clone(), job.join()?))) {
            state.merged += 1;
            return (job, slot);
        }
        let job = Arc::new(Job {
            request,
            state: Mutex::default(),
        });
        let slot = job.join().expect("a new job is not cancelled");
        state.in_flight.push(job.clone());
        state.queue.push_back(job.clone());
        let spawn = state.queue.len() > state.idle && state.threads < MAX_THREADS;
        state.threads += usize::from(spawn);
        drop(state);
        self.work.notify_one();
        if spawn {
            self.spawn_worker();
        }
        (job, slot)
    }

    /// Removes a cancelled job from the queue and the in-flight list.
    fn forget(&self, job: &Arc<Job>) {
        let mut state = self.lock();
        state.queue.retain(|j| !Arc::ptr_eq(j, job));
        state.in_flight.retain(|j| !Arc::ptr_eq(j, job));
    }

    /// Starts a worker (already counted in `threads`); if that fails and no thread is
    /// left to run the queue, fails every queued job with the error.
    fn spawn_worker(&'static self) {
        let builder = thread::Builder::new().name("sock-addr-resolver".to_owned());
        let Err(err) = builder.spawn(move || self.work_loop()) else {
            return;
        };
        let mut state = self.lock();
        state.threads -= 1;
        if state.threads > 0 {
            return;
        }
        let failed: Vec<Arc<Job>> = state.queue.drain(..).collect();
        state
            .in_flight
            .retain(|j| !failed.iter().any(|f| Arc::ptr_eq(f, j)));
        drop(state);
        for job in failed {
            let err =
                std::io::Error::new(err.kind(), format!("cannot start a resolver thread: {err}"));
            job.complete(Err(LookupError::System(err)));
        }
    }

    /// A worker: runs queued jobs; exits after `IDLE_TIMEOUT` without work.
    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                self.run(&job);
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

    /// Runs one job (unless cancelled), then hands out its result.
    fn run(&self, job: &Arc<Job>) {
        if !job.start() {
            return;
        }
        self.lock().lookups += 1;
        let Request { host, port, hints } = &job.request;
        let result = lookup_port(host, port, hints);
        self.lock().in_flight.retain(|j| !Arc::ptr_eq(j, job));
        job.complete(result);
    }
}

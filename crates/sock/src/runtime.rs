//! [`Loop`]: a `sock-sched` executor parked on a `sock-poll` reactor, one per OS thread.
//!
//! There is one record of the current loop: the scheduler's (the loop running now, else
//! the thread's default loop). The reactor lives in the executor's extension slot. A
//! loop the scheduler made on its own — because the thread's first call was
//! `Builder::spawn`, `set_env` or `sock::sched::spawn` — gets its reactor the first time
//! the socket layer asks for the current loop: a new reactor and its park replace the
//! plain thread park ([`Executor::replace_park`]), and the tasks, timers and
//! environment stay. So whatever the first call on a thread is, every later call sees
//! the same socket-aware loop. [`Loop::new`] makes further loops for explicit embedding;
//! while one runs (`run`, `poll`, `start`) it is the current loop. The loop waits only
//! in [`ReactorPark::park`], which polls the reactor with the time left until the next
//! timer (rounded up to the millisecond).

use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sock_poll::Reactor;
use sock_sched::{Executor, MonotonicClock, Park, Unparker};

use crate::metrics::{Counters, Metrics};

/// A sock event loop: a scheduler for tasks ("threads") and timers, and the reactor
/// their sockets wait on.
///
/// Cheap to clone (every clone is the same loop). Not `Send`: a loop belongs to the OS
/// thread that made it; other threads reach it through [`Loop::unparker`].
///
/// **The host contract.** A host loop (level- or edge-triggered) waits on the loop's
/// fd (`as_raw_fd` on Unix) for at most the time until [`next_deadline`] (no wait when
/// it is now or past, none at all when it is `None`), then calls
/// `poll(Some(Duration::ZERO))`, and repeats. `poll(Some(ZERO))` never blocks and does a
/// bounded amount of work (each task's steps are budgeted, sleeps already due included);
/// it drains the kernel's event queue, so an edge-triggered host is never left waiting
/// for an edge that already came; work it leaves for later (tasks still runnable) shows
/// as a `next_deadline` of now.
///
/// [`next_deadline`]: Loop::next_deadline
///
/// The `Loop` that [`Loop::new`] returns owns the loop: dropping it [`close`]s the loop
/// (its tasks are cancelled, their sockets closed, its timers dropped), so tasks that
/// hold clones of their own loop, or `Thread` handles, cannot keep it and its fds alive.
/// Clones are handles that do not close it. The thread's default loop
/// ([`Loop::current`] outside any loop) lives as long as the thread.
///
/// [`close`]: Loop::close
///
/// # Examples
///
/// A host loop (a game, a GUI) driving sock one frame at a time:
///
/// ```
/// use std::time::Duration;
///
/// let lp = sock::Loop::new()?;
/// let t = lp.spawn(async { sock::sleep(Duration::from_millis(5)).await; 42 });
/// while !t.is_finished() {
///     lp.poll(Some(Duration::ZERO)); // never blocks
///     std::thread::sleep(Duration::from_millis(1)); // the host's frame
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Loop {
    /// The scheduler.
    exec: Executor,
    /// What the socket layer keeps with the loop (also in the executor's extension).
    parts: Rc<Parts>,
    /// Made by [`Loop::new`]: dropping this handle closes the loop.
    owner: bool,
}

/// The socket layer's part of a loop, kept in its executor's extension slot.
#[derive(Debug)]
pub(crate) struct Parts {
    /// The reactor its sockets register in.
    pub(crate) reactor: Reactor,
    /// Its expired deadlines and shed connections (see `metrics.rs`).
    pub(crate) counters: Counters,
    /// The simulation whose host this loop is (`sim/backend.rs`); `None` on the OS.
    #[cfg(feature = "sim")]
    pub(crate) sim: Option<crate::sim::HostCtx>,
}

impl Parts {
    /// A new loop's parts: `reactor` and zeroed counters.
    fn new(reactor: Reactor) -> Rc<Parts> {
        Rc::new(Parts {
            reactor,
            counters: Counters::default(),
            #[cfg(feature = "sim")]
            sim: None,
        })
    }
}

impl Clone for Loop {
    fn clone(&self) -> Loop {
        Loop {
            exec: self.exec.clone(),
            parts: self.parts.clone(),
            owner: false,
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if self.owner && Executor::entered().is_none_or(|e| !e.ptr_eq(&self.exec)) {
            self.exec.close();
        }
    }
}

/// The [`Park`] of a sock loop: waiting is polling the reactor.
///
/// A zero-timeout park (the loop's look for events before a wait that may block) may
/// take the poller's wake event of an unpark and dispatch nothing; the unpark is kept in
/// `unparked` until a wait that may block, which then only collects events: no unpark
/// is lost to a look.
struct ReactorPark {
    /// The reactor the loop's sockets are registered in.
    reactor: Reactor,
    /// Set by this park's unparker before it wakes the poller; taken by a wait that
    /// may block.
    unparked: Arc<AtomicBool>,
}

impl ReactorPark {
    fn new(reactor: Reactor) -> ReactorPark {
        ReactorPark {
            reactor,
            unparked: Arc::default(),
        }
    }
}

/// The loop cannot go on without its poller: out of line, so the park of every turn
/// carries no formatting code.
#[cold]
#[inline(never)]
fn poller_failed(e: std::io::Error) -> ! {
    panic!("sock: the OS poller failed ({e}); the loop cannot go on");
}

impl Park for ReactorPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let timeout = match timeout {
            Some(Duration::ZERO) => timeout,
            _ if self.unparked.swap(false, Ordering::Acquire) => Some(Duration::ZERO),
            _ => timeout,
        };
        if let Err(e) = self.reactor.poll(timeout) {
            poller_failed(e);
        }
    }

    fn unparker(&self) -> Unparker {
        let unparker = self.reactor.unparker();
        let unparked = self.unparked.clone();
        Unparker::new(move || {
            unparked.store(true, Ordering::Release);
            unparker.unpark();
        })
    }
}

impl Loop {
    /// Makes a loop with its own kernel poller.
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be created (e.g. out of fds).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// assert_eq!(lp.run(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Loop> {
        let reactor = Reactor::new()?;
        let exec = Executor::with_park(ReactorPark::new(reactor.clone()), MonotonicClock);
        let parts = Parts::new(reactor);
        exec.set_extension(parts.clone());
        Ok(Loop {
            exec,
            parts,
            owner: true,
        })
    }

    /// A loop of a simulated host: `park` and `clock` are the simulation's, and its
    /// sockets are simulated (`sim/backend.rs`). It owns the loop, as [`Loop::new`]'s.
    #[cfg(feature = "sim")]
    pub(crate) fn simulated(
        park: impl Park + 'static,
        clock: impl sock_sched::Clock + 'static,
        sim: crate::sim::HostCtx,
        reactor: Reactor,
    ) -> Loop {
        let exec = Executor::with_park(park, clock);
        let parts = Rc::new(Parts {
            reactor,
            counters: Counters::default(),
            sim: Some(sim),
        });
        exec.set_extension(parts.clone());
        let owner = true;
        Loop { exec, parts, owner }
    }

    /// The loop of `exec`, giving it a reactor if the scheduler made it on its own.
    fn of(exec: Executor) -> io::Result<Loop> {
        if let Some(parts) = Loop::parts_of(&exec) {
            let owner = false;
            return Ok(Loop { exec, parts, owner });
        }
        let reactor = Reactor::new()?;
        exec.replace_park(ReactorPark::new(reactor.clone()));
        let parts = Parts::new(reactor);
        exec.set_extension(parts.clone());
        let owner = false;
        Ok(Loop { exec, parts, owner })
    }

    /// The socket layer's parts of `exec`, if it is a sock loop already.
    pub(crate) fn parts_of(exec: &Executor) -> Option<Rc<Parts>> {
        exec.extension::<Parts>()
    }

    /// The loop of this OS thread: the one running now, else the thread's default loop
    /// (made on first use).
    ///
    /// # Panics
    ///
    /// If the thread's default loop cannot be made (the OS refused an epoll fd).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::current();
    /// assert_eq!(lp.run(async { "here" }), "here");
    /// ```
    pub fn current() -> Loop {
        Loop::of(Executor::current())
            .unwrap_or_else(|e| panic!("sock: cannot make this thread's loop: {e}"))
    }

    /// Runs the loop until `fut` completes and returns its output; other tasks run
    /// meanwhile. `fut` may borrow the caller's locals. See [`sock::run`](crate::run).
    ///
    /// # Panics
    ///
    /// With `fut`'s panic; if a task without a joined handle panics (the panic surfaces
    /// here), unless the [panic policy](Loop::set_panic_policy) is `Isolate`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// assert_eq!(lp.run(async { 40 + 2 }), 42);
    ///
    /// let greeting = String::from("hello");
    /// assert_eq!(lp.run(async { greeting.as_str() }), "hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F: Future>(&self, fut: F) -> F::Output {
        self.exec.run(fut)
    }

    /// Runs every ready task, then waits for I/O or timers at most `timeout` (`None`:
    /// until something happens; `Some(ZERO)`: never blocks). Returns whether any task
    /// ran or timer fired. See [`sock::poll`](crate::poll).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// assert!(!lp.poll(Some(std::time::Duration::ZERO))); // nothing to do
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> bool {
        self.exec.poll(timeout)
    }

    /// Runs until nothing can run again or [`stop`](Loop::stop) is called: no task ready,
    /// no timer armed, no socket operation parked, no task that anything else could wake;
    /// suspended tasks nobody holds a handle to are cancelled then. See
    /// [`sock::start`](crate::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// lp.spawn(async { sock::sleep(std::time::Duration::from_millis(1)).await });
    /// lp.start();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(&self) {
        self.exec.start()
    }

    /// Closes the loop: cancels every task (dropping its future, and with it the
    /// sockets it owned: peers see the close), drops every timer and callback. The loop
    /// stays usable. Dropping the `Loop` that [`Loop::new`] returned does this too.
    ///
    /// # Panics
    ///
    /// If called from inside this loop's `run`, `poll` or `start` (call
    /// [`stop`](Loop::stop) there).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// let me = lp.clone();
    /// let t = lp.spawn(async move {
    ///     let _keep = me; // the loop, held by its own task
    ///     std::future::pending::<()>().await
    /// });
    /// lp.poll(Some(std::time::Duration::ZERO));
    /// lp.close();
    /// assert!(t.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&self) {
        self.exec.close();
    }

    /// Makes [`start`](Loop::start) return after the current iteration.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// let l2 = lp.clone();
    /// lp.spawn(async move { l2.stop(); std::future::pending::<()>().await });
    /// lp.start(); // returns although a task is still alive
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(&self) {
        self.exec.stop();
    }

    /// The earliest timer deadline, for a host loop that waits on
    /// [`as_raw_fd`](std::os::fd::AsRawFd::as_raw_fd) itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// assert_eq!(lp.next_deadline(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        self.exec.next_deadline()
    }

    /// Spawns a task on this loop; it starts at the loop's next iteration.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// let t = lp.spawn(async { 7 });
    /// assert_eq!(lp.run(t.join()).unwrap(), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, fut: F) -> sock_sched::Thread<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.exec.spawn(fut)
    }

    /// Sets what the loop does with a thread's panic that no handle can join: re-raise
    /// it from `run`/`poll`/`start` ([`PanicPolicy::Abort`], the default), or drop the
    /// thread and go on ([`PanicPolicy::Isolate`], counted in
    /// [`isolated_panics`](Loop::isolated_panics)). See [`PanicPolicy`].
    ///
    /// [`PanicPolicy`]: crate::task::PanicPolicy
    /// [`PanicPolicy::Abort`]: crate::task::PanicPolicy::Abort
    /// [`PanicPolicy::Isolate`]: crate::task::PanicPolicy::Isolate
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::task::PanicPolicy;
    ///
    /// let lp = sock::Loop::new()?;
    /// lp.set_panic_policy(PanicPolicy::Isolate);
    /// drop(lp.spawn(async { panic!("one bad handler") }));
    /// lp.start(); // goes on
    /// assert_eq!(lp.isolated_panics(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_panic_policy(&self, policy: sock_sched::PanicPolicy) {
        self.exec.set_panic_policy(policy);
    }

    /// The loop's panic policy (see [`set_panic_policy`](Loop::set_panic_policy)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::task::PanicPolicy;
    ///
    /// assert_eq!(sock::Loop::new()?.panic_policy(), PanicPolicy::Abort);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn panic_policy(&self) -> sock_sched::PanicPolicy {
        self.exec.panic_policy()
    }

    /// How many thread panics the loop has dropped under `PanicPolicy::Isolate`.
    ///
    /// # Examples
    ///
    /// See [`set_panic_policy`](Loop::set_panic_policy).
    pub fn isolated_panics(&self) -> u64 {
        self.exec.isolated_panics()
    }

    /// A handle that wakes this loop from any OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// let u = lp.unparker();
    /// std::thread::spawn(move || u.unpark()).join().unwrap();
    /// lp.poll(None); // returns: woken
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unparker(&self) -> sock_poll::Unparker {
        self.parts.reactor.unparker()
    }

    /// The scheduler of this loop: its threads, timers and clock (what the root's
    /// `sock::spawn`, `sock::time::run_after`, … reach for the thread's current loop).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = sock::Loop::new()?;
    /// let ex = lp.executor();
    /// let timer = ex.run_after(Duration::from_secs(60), || unreachable!("cancelled"));
    /// assert_eq!(ex.next_deadline(), lp.next_deadline());
    /// assert!(timer.cancel());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn executor(&self) -> &Executor {
        &self.exec
    }

    pub(crate) fn reactor(&self) -> &Reactor {
        &self.parts.reactor
    }

    /// A snapshot of the loop's counters: threads, sockets, timers, polls and events,
    /// time busy and parked, operations that parked, deadlines expired, connections
    /// shed, lookups queued (see [`Metrics`] for each). Cheap — it reads the loop's
    /// cells and the clock once — and stable: the counters are always on.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::Loop::new()?;
    /// lp.spawn(async { sock::sleep(std::time::Duration::from_millis(1)).await });
    /// assert_eq!(lp.metrics().threads_runnable, 1);
    /// lp.start();
    /// let m = lp.metrics();
    /// assert_eq!((m.threads_alive, m.timers_armed), (0, 0));
    /// assert!(m.polls >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "stats")]
    pub fn metrics(&self) -> Metrics {
        let mut m = Metrics::from_sched(self.exec.metrics());
        let r = self.parts.reactor.metrics();
        m.sockets = r.registrations;
        m.events = r.events;
        m.ops_parked = r.parked;
        m.deadlines_expired = self.parts.counters.deadlines_expired.get();
        m.accepts_shed = self.parts.counters.accepts_shed.get();
        m
    }
}

/// Panics unless the task that just parked runs in the loop `loop_id` names (the loop
/// whose reactor polls the socket): in any other loop, or under another executor, the
/// wake-up would never come and the task would hang silently.
#[inline]
pub(crate) fn check_own_loop(loop_id: usize) {
    if Executor::entered_id() != Some(loop_id) {
        awaited_elsewhere();
    }
}

/// The panic of [`check_own_loop`], out of line.
#[cold]
#[inline(never)]
fn awaited_elsewhere() -> ! {
    panic!(
        "sock: a socket was awaited outside the loop it was made in (in another \
         sock::Loop, or under another executor); its events come only to its own loop: \
         await it in a task of that loop (Handle::spawn runs code on another thread's \
         loop)"
    );
}

/// The reactor of the current loop (sockets register here) and the loop's id.
pub(crate) fn reactor() -> (Reactor, usize) {
    // The usual case, a socket opened inside a running sock loop: its parts are read
    // in place, with no handle to the loop made and dropped.
    let running = Executor::with_entered_extension(|parts: &Parts| parts.reactor.clone());
    if let (Some(reactor), Some(id)) = (running, Executor::entered_id()) {
        return (reactor, id);
    }
    let lp = Loop::current();
    (lp.reactor().clone(), lp.exec.id())
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loop")
            .field("reactor", &self.parts.reactor)
            .finish_non_exhaustive()
    }
}

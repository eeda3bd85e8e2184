//! [`SharedLoop`]: the shared-poller mode — one kernel poller (epoll fd / IOCP) that
//! several OS threads wait on, running `Send` tasks wherever their events land.
//!
//! A `SharedLoop` is a `sock-sched` [`mt::Pool`](crate::sched::mt::Pool) whose workers
//! park on a `sock-poll-shared` [`Poller`] (see `park.rs`): the park dequeues a batch of
//! events, marks the sockets they concern ready and wakes their tasks (on the dequeuing
//! thread, so they run there), hands the pool its wake/stop sentinels, which travel as
//! posted packets, and hands a host's own events back to it. Sockets of this mode
//! ([`SharedTcp`](crate::shared::SharedTcp), [`SharedUdp`](crate::shared::SharedUdp)) are registered in
//! the shared poller, never in a loop's private one.
//!
//! Each OS thread has a *current* shared loop: the one it works for inside
//! [`start`](SharedLoop::start) or [`poll`](SharedLoop::poll), else the one it adopted
//! with `sock::os::unix::set_epoll_fd` / `sock::os::windows::set_iocp`, else one made on
//! first use — the seed's global `epoll_fd()` / `iocp()`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sock_addr::Family;
use sock_poll_shared::{Poller, RawPoller};
use sock_sched::mt::{JoinHandle, Pool};

use super::park::{Park, PoolPark, SharedCounters};
use super::stcp::SharedTcp;
use super::sudp::SharedUdp;
use super::sys;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::{Counter, Metrics};

thread_local! {
    /// This thread's current shared loop.
    static CURRENT: RefCell<Option<SharedLoop>> = const { RefCell::new(None) };
}

/// An event that a [`SharedLoop`] hands back to its host: one of the host's own fds
/// added to the shared poller (see [`SharedLoop::on_host_event`]).
pub use sock_poll_shared::Event as HostEvent;

/// A loop shared by several OS threads: one kernel poller they all wait on, running
/// `Send` tasks ([`spawn`](SharedLoop::spawn)). Cheap to clone; `Send + Sync`.
///
/// A task runs on whichever worker dequeued its event — the kernel balances, nothing
/// is stolen — and is never polled by two threads at once. Timers
/// ([`sock::sched::mt::sleep`](crate::sched::mt::sleep), deadlines of
/// [`SharedTcp`](crate::shared::SharedTcp) and [`SharedUdp`](crate::shared::SharedUdp) operations)
/// belong to the worker that armed them.
///
/// # Examples
///
/// ```
/// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
/// use sock::{Family, shared::SharedLoop};
///
/// let lp = SharedLoop::new()?;
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let lp = lp.clone();
///         std::thread::spawn(move || lp.start())
///     })
///     .collect();
/// let server = lp.tcp(Family::INET)?;
/// server.listen("127.0.0.1", 0)?;
/// let addr = server.local_addr()?;
/// lp.spawn(async move {
///     let conn = server.accept().await?;
///     let mut buf = [0u8; 5];
///     conn.recvn(&mut buf).await?;
///     conn.send(&buf).await
/// })
/// .detach();
/// let client = lp.spawn(async move {
///     let c = sock::shared::SharedTcp::new(Family::INET)?; // on the worker's shared loop
///     c.connect_to(&addr).await?;
///     c.send(b"hello").await?;
///     let mut buf = [0u8; 5];
///     c.recvn(&mut buf).await?;
///     Ok::<_, sock::Error>(buf)
/// });
/// assert_eq!(&client.join()?, b"hello");
/// while lp.workers() < 2 {
///     std::thread::yield_now();
/// }
/// lp.stop();
/// for w in workers {
///     w.join().unwrap();
/// }
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedLoop {
    /// The pool, the poller and the socket table, shared by the clones.
    inner: Arc<Inner>,
}

/// The state of one shared loop.
struct Inner {
    /// The scheduler.
    pool: Pool,
    /// How its threads wait: the poller, the socket table, the host's handler.
    park: Arc<Park>,
    /// On a simulated host: the host's loop that drives the pool, and its simulation
    /// (`sim/shared.rs`); the pool's park and clock are then the simulation's.
    #[cfg(feature = "sim")]
    sim: Option<crate::sim::shared::SimLoop>,
}

impl SharedLoop {
    /// Makes a shared loop with a new kernel poller.
    ///
    /// In a task of a simulated host (feature `sim`), a loop of that host instead,
    /// with no OS thread and no kernel wait: see `sock::sim::Host::shared_loop`.
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be made.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn new() -> io::Result<SharedLoop> {
        #[cfg(feature = "sim")]
        if let Some(host) = crate::sim::socket::current_host() {
            return Ok(crate::sim::shared::new_loop(host, crate::Loop::current()));
        }
        Ok(SharedLoop::of_poller(Poller::new()?))
    }

    /// The loop of `poller`: the live one, kept with the poller itself
    /// ([`Poller::attached`]: one table of live pollers, `sock-poll-shared`'s), or a new
    /// one around it.
    fn of_poller(poller: Poller) -> SharedLoop {
        let inner = poller.clone().attached(move || {
            let park = Arc::new(Park::new(poller));
            Arc::new(Inner {
                pool: Pool::new(PoolPark(park.clone())),
                park,
                #[cfg(feature = "sim")]
                sim: None,
            })
        });
        SharedLoop { inner }
    }

    /// The shared loop of the poller whose raw handle is `raw`: how another thread
    /// adopts a handle handed over as a number (see `sock::os`). The live loop of that
    /// poller if there is one; else a new loop, which shares the socket table of the
    /// poller's sockets that outlived their loop.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] for a closed handle, [`io::ErrorKind::InvalidInput`]
    /// for an open one that is not a shared poller of this process.
    pub(crate) fn adopt(raw: RawPoller) -> io::Result<SharedLoop> {
        // `attached` holds one lock from the search to the insertion: two threads
        // adopting at once get one loop.
        Ok(SharedLoop::of_poller(Poller::lookup(raw)?))
    }

    /// This thread's current shared loop (made on first use).
    ///
    /// # Panics
    ///
    /// If the OS refuses a new poller.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = sock::shared::SharedLoop::current();
    /// assert!(a.ptr_eq(&sock::shared::SharedLoop::current()));
    /// ```
    pub fn current() -> SharedLoop {
        if let Some(lp) = CURRENT.with(|c| c.borrow().clone()) {
            // A simulated host's loop is current only while that host runs.
            #[cfg(feature = "sim")]
            if lp.sim().is_some_and(|sim| !sim.is_running()) {
                return SharedLoop::fresh_current();
            }
            return lp;
        }
        SharedLoop::fresh_current()
    }

    /// A new loop made the thread's current one.
    fn fresh_current() -> SharedLoop {
        let lp = SharedLoop::new()
            .unwrap_or_else(|e| panic!("sock: cannot make this thread's shared loop: {e}"));
        lp.make_current();
        lp
    }

    /// Makes this the thread's current shared loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::shared::SharedLoop::new()?;
    /// lp.make_current();
    /// assert!(sock::shared::SharedLoop::current().ptr_eq(&lp));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn make_current(&self) {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
    }

    /// Spawns a `Send` task: queued on this thread if it is a worker of this loop,
    /// otherwise handed to one worker.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.pool.spawn(future)
    }

    /// Makes this OS thread a worker until [`stop`](SharedLoop::stop); the loop is the
    /// thread's current one meanwhile.
    ///
    /// On a simulated host (feature `sim`) the loop's workers are tasks of the host's
    /// loop: `start` runs the simulation on this thread until `stop`.
    ///
    /// # Panics
    ///
    /// If called from a task (this thread already works for a loop).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn start(&self) {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim() {
            return sim.start(self);
        }
        let _current = self.enter();
        self.inner.pool.start();
    }

    /// Spawns `future`, works for the loop on this thread until it finishes, then stops
    /// the loop (every worker returns from `start`) and returns its output.
    ///
    /// Unlike [`Loop::run`](crate::Loop::run), `future` must be `'static`: another worker
    /// may be polling it when `run` unwinds, and it cannot be dropped from here.
    ///
    /// # Panics
    ///
    /// With the future's panic; if the loop is stopped before the future finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::shared::SharedLoop::new()?;
    /// assert_eq!(lp.run(async { 40 + 2 }), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim() {
            return sim.run(self, future);
        }
        let _current = self.enter();
        self.inner.pool.run(future)
    }

    /// A bit sock never sets in the keys it gives the shared poller. A host that adds
    /// its own fds to the shared epoll fd (or associates its own handles with the
    /// completion port) gives them keys with this bit set — any such key but
    /// `u64::MAX`, which the poller reserves — and their events come back to it
    /// through [`on_host_event`](SharedLoop::on_host_event), never taken for a
    /// socket's. (Any other key that is not sock's is handed back too, but only keys
    /// with this bit are sure never to be sock's.)
    ///
    /// # Examples
    ///
    /// See [`on_host_event`](SharedLoop::on_host_event).
    pub const HOST_KEY: u64 = 1 << 62;

    /// Hands every event whose key is not sock's — a host's own fd on the shared
    /// poller, keyed with [`HOST_KEY`](SharedLoop::HOST_KEY) — to `handler`, on the
    /// thread that dequeued it (a worker in [`start`](SharedLoop::start), or the host in
    /// [`poll`](SharedLoop::poll)) before that thread waits again. Replaces an earlier
    /// handler.
    ///
    /// The handler should be short (the thread's tasks wait meanwhile) and must not
    /// call `poll` or `start`. A fd added level-triggered is reported to every wait
    /// until it is drained: drain it in the handler, or add it edge-triggered or
    /// one-shot. The host must not wait on the shared poller itself (`epoll_wait` on it
    /// would take sock's events): it waits for it to be readable and calls `poll`.
    ///
    /// # Panics
    ///
    /// Not here, but a thread that dequeues a host's event while no handler is set
    /// panics saying so (a dropped event would lose the host's wake-up): set the
    /// handler before adding the fds.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")]
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use sock::shared::SharedLoop;
    ///
    /// let lp = SharedLoop::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// lp.on_host_event(move |e| tx.send(e.key()).unwrap());
    /// // The host's own socket on the shared epoll fd, with a key of its own.
    /// let mine = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let key = SharedLoop::HOST_KEY | 7;
    /// let flags = (libc::EPOLLIN | libc::EPOLLET) as u32;
    /// let mut ev = libc::epoll_event { events: flags, u64: key };
    /// // SAFETY: both fds are open; `ev` is a valid epoll_event.
    /// let added = unsafe {
    ///     libc::epoll_ctl(lp.as_raw_fd(), libc::EPOLL_CTL_ADD, mine.as_raw_fd(), &mut ev)
    /// };
    /// assert_eq!(added, 0);
    /// mine.send_to(b"hi", mine.local_addr()?)?;
    /// lp.poll(Some(Duration::from_secs(5))); // the event goes to the handler
    /// assert_eq!(rx.try_recv(), Ok(key));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(target_os = "linux"))]
    /// # fn main() {}
    /// ```
    pub fn on_host_event(&self, handler: impl Fn(&HostEvent) + Send + Sync + 'static) {
        self.inner.park.set_host(Arc::new(handler));
    }

    /// Works for the loop on this thread for one step, for a host loop driving it:
    /// runs a bounded batch of ready tasks and due timers, waits for events at most
    /// `timeout` (`None`: until one comes; `Some(ZERO)`: never blocks), takes every
    /// event queued and runs the tasks they woke. Returns whether any task ran or
    /// timer fired.
    ///
    /// **The host contract**, as [`Loop`](crate::Loop)'s: the host waits until the
    /// shared poller is readable (`as_raw_fd` on Unix, added to the host's own poller —
    /// mio, tokio's `AsyncFd`, epoll, level- or edge-triggered — or `poll(2)`ed) for at
    /// most the time until [`next_deadline`](SharedLoop::next_deadline) (no wait when it
    /// is now or past, no limit when it is `None`), then calls
    /// `poll(Some(Duration::ZERO))`, and repeats. `poll` drains the kernel's queue, so
    /// an edge-triggered host never waits for an edge that already came; work it leaves
    /// for later (tasks still runnable, events past its bound) shows as a
    /// `next_deadline` of now. Workers in [`start`](SharedLoop::start) may serve the
    /// same loop meanwhile; the host thread counts among them only during the call.
    ///
    /// # Panics
    ///
    /// From a task (this thread already works for a shared loop); if the poller fails;
    /// on a host's event when no [`on_host_event`](SharedLoop::on_host_event) handler
    /// is set.
    ///
    /// # Examples
    ///
    /// A host loop (a game, a GUI) driving the shared loop one frame at a time:
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let t = lp.spawn(async {
    ///     sock::sched::mt::sleep(Duration::from_millis(5)).await;
    ///     42
    /// });
    /// for _ in 0..10_000 {
    ///     if t.is_finished() {
    ///         break;
    ///     }
    ///     lp.poll(Some(Duration::ZERO)); // never blocks
    ///     std::thread::sleep(Duration::from_millis(1)); // the host's frame
    /// }
    /// assert_eq!(t.join(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> bool {
        let _current = self.enter();
        self.inner.pool.poll(timeout)
    }

    /// When a host driving the loop with [`poll`](SharedLoop::poll) must call it next,
    /// whatever the poller says: now if tasks are runnable or a `poll` left events
    /// queued, else the earliest timer armed in a `poll` (timers armed on workers of
    /// [`start`](SharedLoop::start) are theirs), else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::shared::SharedLoop::new()?;
    /// assert_eq!(lp.next_deadline(), None);
    /// lp.spawn(async {}).detach();
    /// assert!(lp.next_deadline().is_some()); // runnable: now
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.inner.park.has_backlog() {
            return Some(self.inner.pool.now());
        }
        self.inner.pool.next_deadline()
    }

    /// Makes every thread working for the loop return from [`start`](SharedLoop::start).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn stop(&self) {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim() {
            sim.stop();
        }
        self.inner.pool.stop();
    }

    /// How many OS threads work for the loop now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::shared::SharedLoop::new()?.workers(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn workers(&self) -> usize {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim() {
            return sim.workers();
        }
        self.inner.pool.workers()
    }

    /// Tasks spawned and not finished yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::shared::SharedLoop::new()?.alive(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn alive(&self) -> usize {
        self.inner.pool.alive()
    }

    /// A snapshot of the loop's counters, summed over every thread working for it (see
    /// [`Metrics`]; `loops` is 1). In this mode the counters are shared by several OS
    /// threads, so they are atomics (`Relaxed` adds: one per wait, per parked
    /// operation, per expired deadline or shed connection, none per completed
    /// operation). What differs from a [`Loop`](crate::Loop)'s:
    ///
    /// - `threads_runnable` counts the tasks in the shared queue only (not those queued
    ///   on a worker's own queue), and `threads_suspended` is the rest of the alive
    ///   tasks, running ones included;
    /// - `timers_armed` is 0: timers are each worker's own and not counted;
    /// - `sockets` is counted on Linux (epoll) only, 0 elsewhere;
    /// - `busy` and `parked` are summed over the workers, counted at their blocking
    ///   waits (a worker's time since its last wait is not in the snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = sock::shared::SharedLoop::new()?;
    /// lp.spawn(async {}).detach();
    /// let m = lp.metrics();
    /// assert_eq!((m.threads_alive, m.threads_runnable), (1, 1));
    /// lp.run(async {});
    /// assert_eq!(lp.metrics().threads_alive, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "stats")]
    pub fn metrics(&self) -> Metrics {
        let c = &self.inner.park.counters;
        let get = SharedCounters::get;
        let alive = self.inner.pool.alive();
        let runnable = self.inner.pool.queued().min(alive);
        let mut m = Metrics::from_sched(sock_sched::SchedMetrics::default());
        m.threads_alive = alive;
        m.threads_runnable = runnable;
        m.threads_suspended = alive - runnable;
        m.sockets = self.inner.park.table.len();
        m.polls = get(&c.polls);
        m.events = get(&c.events);
        m.busy = Duration::from_nanos(get(&c.busy_ns));
        m.parked = Duration::from_nanos(get(&c.parked_ns));
        m.ops_parked = get(&c.ops_parked);
        m.deadlines_expired = get(&c.deadlines_expired);
        m.accepts_shed = get(&c.accepts_shed);
        m
    }

    /// A stream socket registered in this loop's poller.
    ///
    /// # Errors
    ///
    /// The OS error of `socket(2)` or of the registration.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn tcp(&self, family: Family) -> Result<SharedTcp> {
        SharedTcp::open(self, family)
    }

    /// A UDP socket (a unix-domain datagram socket for [`Family::UNIX`]) registered in
    /// this loop's poller.
    ///
    /// # Errors
    ///
    /// The OS error of `socket(2)` or of the registration.
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    pub fn udp(&self, family: Family) -> Result<SharedUdp> {
        SharedUdp::open(self, family)
    }

    /// Whether `self` and `other` are the same loop.
    ///
    /// # Examples
    ///
    /// See [`current`](SharedLoop::current).
    pub fn ptr_eq(&self, other: &SharedLoop) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The raw handle of the poller.
    pub(crate) fn as_raw(&self) -> RawPoller {
        #[cfg(feature = "sim")]
        if self.sim().is_some() {
            crate::sim::shared::not_simulated("the raw poller handle");
        }
        self.inner.park.poller.as_raw()
    }

    pub(crate) fn poller(&self) -> &Poller {
        &self.inner.park.poller
    }

    pub(crate) fn table(&self) -> &Arc<sys::Table> {
        &self.inner.park.table
    }

    /// A handle that does not keep the loop alive: what a socket keeps of its loop (a
    /// strong one would make a cycle through the tasks that hold the socket).
    pub(crate) fn downgrade(&self) -> WeakLoop {
        WeakLoop(Arc::downgrade(&self.inner))
    }

    /// A shared loop of a simulated host (`sim/shared.rs`): `pool` runs on the
    /// simulation's park and clock; `idle` is a poller that is never waited on.
    #[cfg(feature = "sim")]
    pub(crate) fn simulated(
        pool: Pool,
        idle: Poller,
        sim: crate::sim::shared::SimLoop,
    ) -> SharedLoop {
        let inner = Inner {
            pool,
            park: Arc::new(Park::new(idle)),
            sim: Some(sim),
        };
        SharedLoop {
            inner: Arc::new(inner),
        }
    }

    /// The simulation this loop runs on, if its host is simulated.
    #[cfg(feature = "sim")]
    pub(crate) fn sim(&self) -> Option<&crate::sim::shared::SimLoop> {
        self.inner.sim.as_ref()
    }

    /// The pool's clock.
    #[cfg(feature = "sim")]
    pub(crate) fn pool_now(&self) -> Instant {
        self.inner.pool.now()
    }

    /// Closes the pool of a simulated loop whose host loop closed (`sim/shared.rs`):
    /// its tasks are dropped, now and whenever one is woken later.
    #[cfg(feature = "sim")]
    pub(crate) fn close_pool(&self) {
        self.inner.pool.close();
    }

    /// Whether [`close_pool`](SharedLoop::close_pool) was called.
    #[cfg(feature = "sim")]
    pub(crate) fn is_pool_closed(&self) -> bool {
        self.inner.pool.is_closed()
    }

    /// Makes this the current loop until the guard drops.
    fn enter(&self) -> Restore {
        Restore(CURRENT.with(|c| c.borrow_mut().replace(self.clone())))
    }
}

/// Counts `which` in the shared loop this thread works for now (if it works for one).
pub(crate) fn count_shared(which: Counter) {
    with_counters(|c| {
        let counter = match which {
            Counter::DeadlineExpired => &c.deadlines_expired,
            Counter::AcceptShed => &c.accepts_shed,
        };
        SharedCounters::add(counter, 1);
    });
}

/// Counts an operation that parked in the shared loop this thread works for.
pub(crate) fn count_parked() {
    with_counters(|c| SharedCounters::add(&c.ops_parked, 1));
}

/// Runs `f` on the counters of the shared loop this thread works for, if any (no
/// clone of the loop: one thread-local borrow).
fn with_counters(f: impl FnOnce(&SharedCounters)) {
    if !sock_sched::mt::is_worker() {
        return;
    }
    let _ = CURRENT.try_with(|c| {
        if let Some(lp) = c.borrow().as_ref() {
            f(&lp.inner.park.counters);
        }
    });
}

/// Restores the thread's previous current loop.
struct Restore(Option<SharedLoop>);

/// A [`SharedLoop`] that may be gone; see [`SharedLoop::downgrade`].
pub(crate) struct WeakLoop(Weak<Inner>);

impl WeakLoop {
    /// The loop, if it is still there.
    ///
    /// # Errors
    ///
    /// `Closed` once every handle to the loop was dropped.
    pub(crate) fn upgrade(&self) -> Result<SharedLoop> {
        let inner = self
            .0
            .upgrade()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "the socket's SharedLoop is gone"))?;
        Ok(SharedLoop { inner })
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

impl fmt::Debug for SharedLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLoop")
            .field("poller", &self.inner.park.poller)
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

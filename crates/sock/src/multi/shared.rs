//! [`SharedLoop`]: the shared-poller mode — one kernel poller (epoll fd / IOCP) that
//! several OS threads wait on, running `Send` tasks wherever their events land.
//!
//! A `SharedLoop` is a `sock-sched` [`mt::Pool`](crate::sched::mt::Pool) whose workers
//! park on a `sock-poll-shared` [`Poller`]: the park dequeues a batch of events, marks
//! the sockets they concern ready and wakes their tasks (on the dequeuing thread, so
//! they run there), and hands the pool its wake/stop sentinels, which travel as posted
//! packets. Sockets of this mode ([`SharedTcp`](crate::SharedTcp),
//! [`SharedUdp`](crate::SharedUdp)) are registered in the shared poller, never in a
//! loop's private one.
//!
//! Each OS thread has a *current* shared loop: the one it works for inside
//! [`start`](SharedLoop::start), else the one it adopted with
//! `sock::os::unix::set_epoll_fd` / `sock::os::windows::set_iocp`, else one made on
//! first use — the seed's global `epoll_fd()` / `iocp()`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use sock_addr::Family;
use sock_poll_shared::{Events, Poller, RawPoller};
use sock_sched::mt::{JoinHandle, Pool, Sentinel, SharedPark};

use super::stcp::SharedTcp;
use super::sudp::SharedUdp;
use super::sys;
use crate::error::Result;

/// Events one park dequeues at most.
const EVENTS_PER_PARK: usize = 256;

/// Posted-packet keys of the pool's sentinels (socket keys stay below `1 << 62`).
const WAKE: u64 = 1 << 63;
const STOP: u64 = 3 << 62;

thread_local! {
    /// This thread's current shared loop.
    static CURRENT: RefCell<Option<SharedLoop>> = const { RefCell::new(None) };
    /// This thread's event buffer (each worker parks with its own).
    static EVENTS: RefCell<Option<Events>> = const { RefCell::new(None) };
}

/// Every shared loop alive in the process, by raw poller handle, for adoption.
static LIVE: Mutex<Vec<(usize, Weak<Inner>)>> = Mutex::new(Vec::new());

/// A loop shared by several OS threads: one kernel poller they all wait on, running
/// `Send` tasks ([`spawn`](SharedLoop::spawn)). Cheap to clone; `Send + Sync`.
///
/// A task runs on whichever worker dequeued its event — the kernel balances, nothing
/// is stolen — and is never polled by two threads at once. Timers
/// ([`sock::sched::mt::sleep`](crate::sched::mt::sleep), deadlines of
/// [`SharedTcp`](crate::SharedTcp) and [`SharedUdp`](crate::SharedUdp) operations)
/// belong to the worker that armed them.
///
/// # Examples
///
/// ```
/// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
/// use sock::{Family, SharedLoop};
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
///     let c = sock::SharedTcp::new(Family::INET)?; // on the worker's shared loop
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
    /// The kernel poller every worker waits on.
    poller: Poller,
    /// The sockets registered in the poller.
    table: Arc<sys::Table>,
}

/// How the workers wait: on the shared poller.
struct PollerPark {
    poller: Poller,
    table: Arc<sys::Table>,
}

impl SharedLoop {
    /// Makes a shared loop with a new kernel poller.
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be made.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn new() -> io::Result<SharedLoop> {
        Ok(SharedLoop::with_poller(Poller::new()?))
    }

    /// A shared loop around `poller` (recorded for adoption by its raw handle).
    fn with_poller(poller: Poller) -> SharedLoop {
        let table = Arc::new(sys::Table::new());
        let park = PollerPark {
            poller: poller.clone(),
            table: table.clone(),
        };
        let inner = Arc::new(Inner {
            pool: Pool::new(park),
            poller,
            table,
        });
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|(_, w)| w.strong_count() > 0);
        live.push((inner.poller.as_raw() as usize, Arc::downgrade(&inner)));
        SharedLoop { inner }
    }

    /// The shared loop of the poller whose raw handle is `raw`: how another thread
    /// adopts a handle handed over as a number (see `sock::os`).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] for a closed handle, [`io::ErrorKind::InvalidInput`]
    /// for an open one that is not a shared poller of this process.
    pub(crate) fn adopt(raw: RawPoller) -> io::Result<SharedLoop> {
        let key = raw as usize;
        let found = LIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(k, _)| *k == key)
            .find_map(|(_, w)| w.upgrade());
        match found {
            Some(inner) => Ok(SharedLoop { inner }),
            None => Poller::lookup(raw).map(SharedLoop::with_poller),
        }
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
    /// let a = sock::SharedLoop::current();
    /// assert!(a.ptr_eq(&sock::SharedLoop::current()));
    /// ```
    pub fn current() -> SharedLoop {
        if let Some(lp) = CURRENT.with(|c| c.borrow().clone()) {
            return lp;
        }
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
    /// let lp = sock::SharedLoop::new()?;
    /// lp.make_current();
    /// assert!(sock::SharedLoop::current().ptr_eq(&lp));
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
    /// # Panics
    ///
    /// If called from a task (this thread already works for a loop).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn start(&self) {
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
    /// let lp = sock::SharedLoop::new()?;
    /// assert_eq!(lp.run(async { 40 + 2 }), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let _current = self.enter();
        self.inner.pool.run(future)
    }

    /// Makes every thread working for the loop return from [`start`](SharedLoop::start).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn stop(&self) {
        self.inner.pool.stop();
    }

    /// How many OS threads work for the loop now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::SharedLoop::new()?.workers(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn workers(&self) -> usize {
        self.inner.pool.workers()
    }

    /// Tasks spawned and not finished yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::SharedLoop::new()?.alive(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn alive(&self) -> usize {
        self.inner.pool.alive()
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
        self.inner.poller.as_raw()
    }

    pub(crate) fn poller(&self) -> &Poller {
        &self.inner.poller
    }

    pub(crate) fn table(&self) -> &Arc<sys::Table> {
        &self.inner.table
    }

    /// Makes this the current loop until the guard drops.
    fn enter(&self) -> Restore {
        Restore(CURRENT.with(|c| c.borrow_mut().replace(self.clone())))
    }
}

/// Restores the thread's previous current loop.
struct Restore(Option<SharedLoop>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

impl fmt::Debug for SharedLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLoop")
            .field("poller", &self.inner.poller)
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

impl SharedPark for PollerPark {
    fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        EVENTS.with(|cell| {
            let mut cell = cell.borrow_mut();
            let events = cell.get_or_insert_with(|| Events::with_capacity(EVENTS_PER_PARK));
            if let Err(e) = self.poller.wait(events, timeout) {
                panic!("sock: the shared poller failed ({e}); the loop cannot go on");
            }
            for event in events.iter() {
                if event.is_posted() {
                    sentinel(decode(event.key()));
                } else {
                    sys::dispatch(&self.table, event);
                }
            }
        });
    }

    fn post(&self, sentinel: Sentinel) {
        let key = match sentinel {
            Sentinel::Wake => WAKE,
            Sentinel::Stop(epoch) => STOP | (epoch & !STOP),
        };
        if let Err(e) = self.poller.post(key) {
            panic!("sock: cannot post to the shared poller ({e}); the loop cannot go on");
        }
    }
}

/// The sentinel of a posted key.
fn decode(key: u64) -> Sentinel {
    if key & STOP == STOP {
        Sentinel::Stop(key & !STOP)
    } else {
        Sentinel::Wake
    }
}

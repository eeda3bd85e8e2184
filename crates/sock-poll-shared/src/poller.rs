//! [`Poller`]: one kernel poller shared by several OS threads; create, adopt, post, wait.
//!
//! The portable half: the handle's lifetime (reference counted, the registry of live
//! pollers for adoption), posting, waking, and waiting with the timeout rounded up.
//! The backend (`sys`) does the syscalls and adds the platform-only methods (`add`,
//! `modify`, `delete` on Linux; `associate` on Windows).

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use crate::event::Events;
use crate::registry;
use crate::sys::{self, RawPoller};

/// The key reserved for [`Poller::wake`]'s packets (never returned by `wait`).
pub(crate) const WAKE_KEY: u64 = u64::MAX;

/// The [`Poller::id`] of the next poller registered in this process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A kernel poller (Linux: an epoll fd; Windows: an I/O completion port) that any
/// number of OS threads wait on at once.
///
/// Cheap to clone; `Send + Sync`. The handle closes when the last clone of the poller
/// that owns it is dropped (a poller adopted with [`from_raw`](Poller::from_raw) from
/// outside this crate never closes its handle).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock_poll_shared::{Events, Poller};
///
/// let poller = Poller::new()?;
/// poller.post(3)?;
/// let mut events = Events::with_capacity(16);
/// assert_eq!(poller.wait(&mut events, Some(Duration::from_secs(5)))?, 1);
/// assert_eq!(events.iter().next().unwrap().key(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Poller {
    /// The shared state; one per kernel poller in this process.
    pub(crate) inner: Arc<Inner>,
}

/// One kernel poller: the backend state, registered in the process-wide registry.
pub(crate) struct Inner {
    /// The backend: handle, owned or borrowed, and (Linux) the posted-packet queue.
    pub(crate) sys: sys::Sys,
    /// This poller's number in the process, never given to another poller.
    id: u64,
    /// What a layer above keeps with this poller (weakly): see [`Poller::attached`].
    attachment: Mutex<Option<Weak<dyn Any + Send + Sync>>>,
}

impl Poller {
    /// Creates a kernel poller (`epoll_create1` / `CreateIoCompletionPort`).
    ///
    /// # Errors
    ///
    /// The OS error, e.g. out of fds.
    ///
    /// # Examples
    ///
    /// ```
    /// let poller = sock_poll_shared::Poller::new()?;
    /// # drop(poller);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Poller> {
        Ok(Poller::register(sys::Sys::new()?))
    }

    fn register(sys: sys::Sys) -> Poller {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let inner = Arc::new(Inner {
            sys,
            id,
            attachment: Mutex::new(None),
        });
        registry::insert(sys::raw_key(inner.sys.raw()), &inner);
        Poller { inner }
    }

    /// The raw epoll fd / IOCP handle, to hand to another thread (the seed's
    /// `sock.epoll_fd()` / `sock.iocp()`). It stays valid while this poller lives.
    ///
    /// # Examples
    ///
    /// ```
    /// let poller = sock_poll_shared::Poller::new()?;
    /// let raw = poller.as_raw();
    /// let same = sock_poll_shared::Poller::lookup(raw)?;
    /// assert!(same.ptr_eq(&poller));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_raw(&self) -> RawPoller {
        self.inner.sys.raw()
    }

    /// The live poller of this process whose raw handle is `raw`: how another thread
    /// adopts a handle handed over from [`as_raw`](Poller::as_raw). Safe: only pollers
    /// this crate made and that are still open are found.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] if `raw` is not open (a closed fd/handle), and
    /// [`io::ErrorKind::InvalidInput`] if it is open but not a poller made here (adopt
    /// a foreign one with [`from_raw`](Poller::from_raw)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_poll_shared::Poller;
    ///
    /// let poller = Poller::new()?;
    /// let raw = poller.as_raw() as usize; // a plain number crosses threads, as in the seed
    /// let other = std::thread::spawn(move || Poller::lookup(raw as _).map(|p| p.as_raw() as usize));
    /// assert_eq!(other.join().unwrap()?, raw);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn lookup(raw: RawPoller) -> io::Result<Poller> {
        if let Some(inner) = registry::find(sys::raw_key(raw)) {
            return Ok(Poller { inner });
        }
        sys::check_open(raw)?;
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{raw:?} is open but is not a shared poller of this process \
                 (adopt a foreign poller with the unsafe Poller::from_raw)"
            ),
        ))
    }

    /// Adopts a raw epoll fd / IOCP handle: the live poller of this process with that
    /// handle if there is one (as [`lookup`](Poller::lookup)), otherwise a poller made
    /// outside this crate, which is checked to be an open epoll fd / completion port and
    /// then used without taking ownership (it is never closed here).
    ///
    /// # Safety
    ///
    /// If `raw` is not a poller of this crate, it must stay open for as long as the
    /// returned poller (and its clones) live, and nothing else may wait on it or use the
    /// keys this crate reserves (`u64::MAX`).
    ///
    /// # Errors
    ///
    /// As [`lookup`](Poller::lookup) for a closed handle; [`io::ErrorKind::InvalidInput`]
    /// if the handle is open but not an epoll fd / completion port.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_poll_shared::Poller;
    ///
    /// let poller = Poller::new()?;
    /// // SAFETY: `poller` made this handle and outlives `adopted`.
    /// let adopted = unsafe { Poller::from_raw(poller.as_raw())? };
    /// assert!(adopted.ptr_eq(&poller));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn from_raw(raw: RawPoller) -> io::Result<Poller> {
        if let Some(inner) = registry::find(sys::raw_key(raw)) {
            return Ok(Poller { inner });
        }
        // SAFETY: the caller guarantees `raw` outlives the poller and is not shared
        // with other users of the reserved key.
        let sys = unsafe { sys::Sys::adopt(raw)? };
        Ok(Poller::register(sys))
    }

    /// Waits until at least one event is queued or `timeout` passes (`None`: no limit),
    /// then dequeues up to `events.capacity()` events into `events` and returns how many.
    ///
    /// Any number of threads may wait at once; each event goes to one of them. The
    /// timeout is rounded **up** to whole milliseconds; `Some(Duration::ZERO)` never
    /// blocks. An interrupted wait (`EINTR`) and a [`wake`](Poller::wake) return
    /// `Ok(0)` (or the other events dequeued with it): callers loop.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_wait` / `GetQueuedCompletionStatusEx`, other than a
    /// timeout or an interruption.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock_poll_shared::{Events, Poller};
    ///
    /// let poller = Poller::new()?;
    /// let mut events = Events::with_capacity(8);
    /// assert_eq!(poller.wait(&mut events, Some(Duration::from_millis(1)))?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        events.out.clear();
        events.dequeued = 0;
        let timeout = timeout.map(round_up_to_millis);
        self.inner.sys.wait(events, timeout)?;
        events.dequeued = events.out.len();
        events
            .out
            .retain(|e| !(e.is_posted() && e.key() == WAKE_KEY));
        Ok(events.out.len())
    }

    /// Queues a packet with `key` that exactly one [`wait`](Poller::wait) dequeues (as an
    /// event with [`is_posted`](crate::Event::is_posted)); packets are never merged, but
    /// one wait may take several.
    ///
    /// # Errors
    ///
    /// The OS error of the eventfd write / `PostQueuedCompletionStatus`.
    ///
    /// # Panics
    ///
    /// If `key` is `u64::MAX`, which is reserved for [`wake`](Poller::wake).
    ///
    /// # Examples
    ///
    /// See [`Poller`].
    pub fn post(&self, key: u64) -> io::Result<()> {
        assert_ne!(
            key, WAKE_KEY,
            "sock-poll-shared: key u64::MAX is reserved for Poller::wake; post another key"
        );
        self.inner.sys.post(key)
    }

    /// Makes one waiting thread (or the next to wait) return from [`wait`](Poller::wait).
    ///
    /// # Errors
    ///
    /// As [`post`](Poller::post).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_poll_shared::{Events, Poller};
    ///
    /// let poller = Poller::new()?;
    /// poller.wake()?;
    /// let mut events = Events::with_capacity(4);
    /// assert_eq!(poller.wait(&mut events, None)?, 0); // returns at once, nothing to report
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wake(&self) -> io::Result<()> {
        self.inner.sys.post(WAKE_KEY)
    }

    /// This poller's number in the process: unique among every poller this process
    /// made or adopted, and never reused, unlike the raw handle (a closed fd's number
    /// comes back for the next fd). For state kept per kernel poller, e.g. by a layer
    /// that must tell an old poller from a new one with the same handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_poll_shared::Poller;
    ///
    /// let a = Poller::new()?;
    /// assert_eq!(a.id(), Poller::lookup(a.as_raw())?.id()); // adopted: the same poller
    /// let old = a.id();
    /// drop(a);
    /// let b = Poller::new()?; // may well get the same fd number
    /// assert_ne!(b.id(), old);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The value a layer above keeps with this poller — the one alive, or else a new
    /// one from `make`, kept (weakly) for the next caller: so every thread that adopts
    /// the poller's raw handle finds the same, e.g. one loop per poller. The check and
    /// the insertion hold one lock: two threads asking at once get one value. The
    /// poller does not keep the value alive (a value that holds the poller makes no
    /// cycle).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let poller = sock_poll_shared::Poller::new()?;
    /// let a: Arc<String> = poller.attached(|| Arc::new("loop".to_string()));
    /// let adopted = sock_poll_shared::Poller::lookup(poller.as_raw())?;
    /// let b: Arc<String> = adopted.attached(|| Arc::new("another".to_string()));
    /// assert!(Arc::ptr_eq(&a, &b));
    /// drop((a, b));
    /// assert_eq!(*poller.attached(|| Arc::new("new".to_string())), "new");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn attached<T: Any + Send + Sync>(&self, make: impl FnOnce() -> Arc<T>) -> Arc<T> {
        let mut slot = (self.inner.attachment)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let alive = slot.as_ref().and_then(Weak::upgrade);
        if let Some(value) = alive.and_then(|v| v.downcast::<T>().ok()) {
            return value;
        }
        let value = make();
        let erased: Arc<dyn Any + Send + Sync> = value.clone();
        *slot = Some(Arc::downgrade(&erased));
        value
    }

    /// Whether `self` and `other` are the same kernel poller.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = sock_poll_shared::Poller::new()?;
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&sock_poll_shared::Poller::new()?));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ptr_eq(&self, other: &Poller) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        registry::remove(sys::raw_key(self.sys.raw()));
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("raw", &self.as_raw())
            .finish_non_exhaustive()
    }
}

/// Rounds `d` up to whole milliseconds, the resolution of `epoll_wait` and
/// `GetQueuedCompletionStatusEx`, so a short wait never becomes a busy poll.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock_poll_shared::round_up_to_millis;
///
/// assert_eq!(round_up_to_millis(Duration::from_micros(1)), Duration::from_millis(1));
/// assert_eq!(round_up_to_millis(Duration::from_micros(1500)), Duration::from_millis(2));
/// assert_eq!(round_up_to_millis(Duration::from_secs(3)), Duration::from_secs(3));
/// assert_eq!(round_up_to_millis(Duration::ZERO), Duration::ZERO);
/// assert_eq!(round_up_to_millis(Duration::MAX), Duration::MAX);
/// ```
#[inline]
pub fn round_up_to_millis(d: Duration) -> Duration {
    // Whole milliseconds (zero, the loop's look without waiting, included) pass as
    // they are, with no 128-bit arithmetic.
    let part = d.subsec_nanos() % 1_000_000;
    if part == 0 {
        return d;
    }
    let rest = Duration::from_nanos(u64::from(1_000_000 - part));
    d.checked_add(rest).unwrap_or(Duration::MAX)
}

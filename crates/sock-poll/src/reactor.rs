//! [`Reactor`]: one mio `Poll`, the registration slab, and event dispatch.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Poll, Registry};
use slab::Slab;
use sock_poll_shared::round_up_to_millis;

use crate::registration::Registration;
use crate::slot::{Slot, wake_all};
use crate::token::{self, WAKER};
use crate::unparker::Unparker;

/// Events fetched by one `epoll_wait`/`GetQueuedCompletionStatusEx`.
const EVENTS_PER_POLL: usize = 1024;

/// The readiness reactor of one loop: a mio `Poll` and the sockets registered in it.
///
/// Not `Send`: a reactor belongs to the OS thread whose loop drives it. Other threads
/// reach it through an [`Unparker`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock_poll::Reactor;
///
/// let reactor = Reactor::new()?;
/// // Nothing registered: the wait times out and reports no event.
/// assert_eq!(reactor.poll(Some(Duration::from_millis(1)))?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Reactor {
    shared: Rc<Shared>,
}

/// State shared by the reactor and its registrations.
pub(crate) struct Shared {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    registry: Registry,
    /// A clone of each live registration's slot, found by an event's token.
    pub(crate) slots: RefCell<Slab<Rc<Slot>>>,
    /// Slots of dropped registrations, kept for the next ones (no allocation per
    /// accepted socket): as many as were ever registered at once, like the slab.
    spare: RefCell<Vec<Rc<Slot>>>,
    waker: Arc<mio::Waker>,
    next_generation: Cell<u32>,
    stale_events: Cell<u64>,
    /// Events dispatched to live registrations, over every poll.
    delivered: Cell<u64>,
    /// Waiters armed: operations that saw would-block and parked.
    pub(crate) parked: Cell<u64>,
    /// With faults installed, the wake-ups of a poll are collected here (where the
    /// injector may hold some back) and called after it; otherwise each event's
    /// waiters are woken as it is applied.
    #[cfg(feature = "faults")]
    to_wake: RefCell<Vec<Waker>>,
    /// The faults this reactor injects, when installed at its creation.
    #[cfg(feature = "faults")]
    faults: Option<RefCell<crate::faults::Injector>>,
}

impl Reactor {
    /// Creates a reactor with its own kernel poller (an epoll fd on Linux, kqueue on the
    /// BSDs and macOS, an IOCP handle on Windows).
    ///
    /// # Errors
    ///
    /// The OS error if the poller or its waker cannot be created (e.g. out of fds).
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// # drop(reactor);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
        let shared = Shared {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(EVENTS_PER_POLL)),
            registry,
            slots: RefCell::new(Slab::new()),
            spare: RefCell::new(Vec::new()),
            waker,
            next_generation: Cell::new(0),
            stale_events: Cell::new(0),
            delivered: Cell::new(0),
            parked: Cell::new(0),
            #[cfg(feature = "faults")]
            to_wake: RefCell::new(Vec::new()),
            #[cfg(feature = "faults")]
            faults: crate::faults::Injector::from_installed().map(RefCell::new),
        };
        Ok(Reactor {
            shared: Rc::new(shared),
        })
    }

    /// Registers `source` for `interest`, edge-triggered, once for its lifetime.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl(EPOLL_CTL_ADD)` (or its equivalent).
    ///
    /// # Examples
    ///
    /// ```
    /// use mio::{Interest, net::UdpSocket};
    ///
    /// let reactor = sock_poll::Reactor::new()?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut socket, Interest::READABLE | Interest::WRITABLE)?;
    /// reg.deregister(&mut socket)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        let generation = self.shared.next_generation.get();
        self.shared.next_generation.set(generation.wrapping_add(1));
        let slot = self.shared.slot(generation);
        let index = self.shared.slots.borrow_mut().insert(slot.clone());
        let token = token::pack(index, generation);
        if let Err(e) = self.shared.registry.register(source, token, interest) {
            let slot = self.shared.slots.borrow_mut().remove(index);
            self.shared.free(slot);
            return Err(e);
        }
        Ok(Registration::new(self.shared.clone(), slot, index))
    }

    /// Waits for events for at most `timeout` (`None`: until an event or an unpark),
    /// marks the ready directions and wakes their waiters. Returns how many events were
    /// dispatched to live registrations.
    ///
    /// The timeout is rounded **up** to whole milliseconds (the poller's resolution), so
    /// 0.3 ms waits 1 ms instead of spinning with a zero timeout. `Some(Duration::ZERO)`
    /// never blocks. An interrupted wait (`EINTR`) returns what was dispatched so far; the
    /// caller's loop simply polls again. When a wait fills its batch of events, the
    /// kernel's queue is drained with zero-timeout waits before returning, so nothing
    /// ready is left behind where an edge-triggered host would not see it.
    ///
    /// # Errors
    ///
    /// The OS error of the wait, other than `EINTR`.
    ///
    /// # Panics
    ///
    /// If called re-entrantly (from a waker woken by this same `poll`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let reactor = sock_poll::Reactor::new()?;
    /// assert_eq!(reactor.poll(Some(Duration::ZERO))?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = self.shared.events.try_borrow_mut().expect(
            "sock-poll: Reactor::poll called re-entrantly; poll the reactor only from its loop",
        );
        let mut timeout = self.before_wait(timeout.map(round_up_to_millis));
        let mut dispatched = 0;
        loop {
            match self.shared.poll.borrow_mut().poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => return Err(e),
            }
            let (live, total) = self.dispatch(&events);
            dispatched += live;
            // A full batch may have left events in the kernel's queue, and an edge-
            // triggered host waiting on this poller's fd would see no new edge for them:
            // take the rest now, without waiting.
            if total < EVENTS_PER_POLL {
                break;
            }
            timeout = Some(Duration::ZERO);
        }
        drop(events);
        let delivered = self.shared.delivered.get() + dispatched as u64;
        self.shared.delivered.set(delivered);
        #[cfg(feature = "faults")]
        self.wake_collected();
        Ok(dispatched)
    }

    /// The start of a poll turn: with faults installed, injects them (see
    /// `crate::faults`) and returns the wait to use; otherwise `timeout`.
    #[cfg(feature = "faults")]
    fn before_wait(&self, timeout: Option<Duration>) -> Option<Duration> {
        let Some(faults) = &self.shared.faults else {
            return timeout;
        };
        let slots = self.shared.slots.borrow();
        let mut to_wake = self.shared.to_wake.borrow_mut();
        faults
            .borrow_mut()
            .before_wait(&slots, &mut to_wake, timeout)
    }

    /// The start of a poll turn: the wait is `timeout` (no faults compiled in).
    #[cfg(not(feature = "faults"))]
    #[inline(always)]
    fn before_wait(&self, timeout: Option<Duration>) -> Option<Duration> {
        timeout
    }

    /// Marks the directions of each event ready and wakes their waiters (see
    /// [`woken`](Reactor::woken)). Returns the events dispatched to live registrations,
    /// and all events.
    fn dispatch(&self, events: &Events) -> (usize, usize) {
        #[cfg(feature = "faults")]
        let from = self.shared.to_wake.borrow().len();
        let (mut dispatched, mut total) = (0, 0);
        for event in events {
            total += 1;
            if event.token() == WAKER {
                continue;
            }
            match self.apply(event) {
                Some(waiters) => {
                    self.woken(waiters);
                    dispatched += 1;
                }
                None => self
                    .shared
                    .stale_events
                    .set(self.shared.stale_events.get() + 1),
            }
        }
        #[cfg(feature = "faults")]
        self.after_dispatch(from);
        (dispatched, total)
    }

    /// Applies `event` to its registration's slot, borrowed for that alone: the
    /// waiters it woke, or `None` for a stale event (its slot freed or reused).
    #[inline]
    fn apply(&self, event: &mio::event::Event) -> Option<[Option<Waker>; 2]> {
        let (index, generation) = token::unpack(event.token());
        // SAFETY: the reference lives until this function returns, and nothing in it can
        // borrow the slab mutably (only `register` and a registration's drop do): the
        // lookup and `on_event` read the event, write `Cell`s and move the waiters out,
        // running no foreign code; the caller wakes the waiters after.
        let slots = unsafe { self.shared.slots.try_borrow_unguarded() }
            .expect("sock-poll: the slab is never borrowed mutably while events are dispatched");
        match slots.get(index) {
            Some(slot) if slot.generation.get() == generation => Some(slot.on_event(event)),
            _ => None,
        }
    }

    /// Wakes the waiters an event woke, outside every borrow of the slots (a waker
    /// may touch the reactor's registrations): at once, in the order of the events.
    #[cfg(not(feature = "faults"))]
    #[inline(always)]
    fn woken(&self, waiters: [Option<Waker>; 2]) {
        wake_all(waiters);
    }

    /// With faults installed, collects the waiters an event woke, to be woken after
    /// the poll (the injector may hold some back first); without, wakes them at once.
    #[cfg(feature = "faults")]
    fn woken(&self, waiters: [Option<Waker>; 2]) {
        if self.shared.faults.is_none() {
            return wake_all(waiters);
        }
        let mut to_wake = self.shared.to_wake.borrow_mut();
        to_wake.extend(waiters.into_iter().flatten());
    }

    /// After dispatch: with faults installed, holds back some of the wake-ups
    /// collected from `to_wake[from..]`.
    #[cfg(feature = "faults")]
    fn after_dispatch(&self, from: usize) {
        if let Some(faults) = &self.shared.faults {
            let mut to_wake = self.shared.to_wake.borrow_mut();
            faults.borrow_mut().defer(&mut to_wake, from);
        }
    }

    /// Calls the collected wakers outside every borrow, so a waker may touch the reactor,
    /// in the order they were collected; the buffer is kept for the next poll.
    #[cfg(feature = "faults")]
    fn wake_collected(&self) {
        let mut wakers = self.shared.to_wake.take();
        wakers.reverse();
        while let Some(waker) = wakers.pop() {
            waker.wake();
        }
        *self.shared.to_wake.borrow_mut() = wakers;
    }

    /// A handle that wakes this reactor's `poll` from any OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// reactor.unparker().unpark();
    /// reactor.poll(None)?; // does not block: the wake is pending
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unparker(&self) -> Unparker {
        Unparker::new(self.shared.waker.clone())
    }

    /// Whether both handles name the same reactor.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = sock_poll::Reactor::new()?;
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&sock_poll::Reactor::new()?));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ptr_eq(&self, other: &Reactor) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    /// How many events were dropped because their slot had been freed or reused (a
    /// diagnostic; each is an event for a socket that is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// assert_eq!(reactor.stale_events(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stale_events(&self) -> u64 {
        self.shared.stale_events.get()
    }

    /// How many registrations are alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// assert_eq!(reactor.registrations(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn registrations(&self) -> usize {
        self.shared.slots.borrow().len()
    }

    /// A snapshot of the reactor's counters (see [`ReactorMetrics`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let reactor = sock_poll::Reactor::new()?;
    /// let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let _reg = reactor.register(&mut s, mio::Interest::WRITABLE)?;
    /// reactor.poll(Some(Duration::from_secs(5)))?; // a fresh socket is writable
    /// let m = reactor.metrics();
    /// assert_eq!((m.registrations, m.events, m.parked), (1, 1, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn metrics(&self) -> ReactorMetrics {
        ReactorMetrics {
            registrations: self.registrations(),
            events: self.shared.delivered.get(),
            parked: self.shared.parked.get(),
            stale_events: self.shared.stale_events.get(),
        }
    }

    #[allow(dead_code)] // used by sys/unix.rs; Windows has no raw handle to give
    pub(crate) fn poll_cell(&self) -> &RefCell<Poll> {
        &self.shared.poll
    }
}

impl Shared {
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A fresh slot in `generation`: a spare one renewed, else a new one.
    fn slot(&self, generation: u32) -> Rc<Slot> {
        let spare = self.spare.borrow_mut().pop();
        match spare {
            Some(slot) => {
                slot.renew(generation);
                slot
            }
            None => Rc::new(Slot::new(generation)),
        }
    }

    /// Keeps the slot of a registration that is gone (closed, out of the slab) for the
    /// next one.
    pub(crate) fn free(&self, slot: Rc<Slot>) {
        self.spare.borrow_mut().push(slot);
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registrations", &self.registrations())
            .finish_non_exhaustive()
    }
}

/// A snapshot of a [`Reactor`]'s counters ([`Reactor::metrics`]): plain cells of the
/// reactor, bumped once per poll (events) or once per parked operation.
///
/// # Examples
///
/// See [`Reactor::metrics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReactorMetrics {
    /// Registrations alive (sockets registered).
    pub registrations: usize,
    /// Events dispatched to live registrations by every [`Reactor::poll`] so far (the
    /// unparker's wake-ups and stale events not counted).
    pub events: u64,
    /// Operations that parked: a would-block that armed a direction's waiter
    /// ([`Registration::poll_wait`](crate::Registration::poll_wait) storing a new
    /// waker). Polling an operation that is already parked again counts nothing.
    pub parked: u64,
    /// Events dropped because their registration was gone ([`Reactor::stale_events`]).
    pub stale_events: u64,
}

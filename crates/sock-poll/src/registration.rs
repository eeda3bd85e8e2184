//! [`Registration`]: one registered source, its readiness and its per-direction waiters.
//!
//! Each direction (read, write) has a readiness flag and at most one waiting task. The
//! flag is set by an event and cleared by the socket operation that saw `WouldBlock`;
//! a cleared flag parks the task until the next event. One waiter per direction is the
//! rule: a second, different task waiting to read the same socket would silently lose a
//! wake-up, so it panics instead (two tasks may read and write one socket at once).

use std::fmt;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::Interest;
use mio::event::Source;

use crate::reactor::Shared;
use crate::slot::{Half, Slot, wake_all};
use crate::token;

/// A direction of I/O on a socket.
///
/// # Examples
///
/// See the [`Registration`] example (`is_ready(Direction::Read)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reading, receiving, accepting.
    Read,
    /// Writing, sending, connecting.
    Write,
}

/// The socket was closed while (or before) a task waited on it.
///
/// # Examples
///
/// ```
/// assert_eq!(sock_poll::Closed.to_string(), "socket closed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("socket closed")
    }
}

impl std::error::Error for Closed {}

/// An operation's claim on the waiter of one direction: set when it parks, so that
/// polling it again from another task moves the waiter instead of panicking, and
/// dropping it forgets only its own waiter — never one a later operation stored after
/// an event woke this one.
///
/// # Examples
///
/// ```
/// # use std::task::{Context, Waker};
/// # let reactor = sock_poll::Reactor::new()?;
/// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// use sock_poll::{Direction, Wait};
/// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
/// reg.clear_ready(Direction::Read);
/// let mut wait = Wait::default();
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(reg.poll_wait(Direction::Read, &mut cx, &mut wait).is_pending());
/// assert!(wait.is_parked());
/// reg.forget(Direction::Read, &mut wait); // the operation was dropped
/// assert!(!wait.is_parked());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wait(pub(crate) Option<u32>);

impl Wait {
    /// Whether the operation parked and has not been dropped or completed since.
    ///
    /// # Examples
    ///
    /// See [`Wait`].
    pub fn is_parked(self) -> bool {
        self.0.is_some()
    }
}

/// A source registered in a [`Reactor`](crate::Reactor).
///
/// Dropping it frees its slot (after which stale events for it are ignored); call
/// [`deregister`](Registration::deregister) first if the source stays open.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use sock_poll::{Direction, Reactor};
///
/// let reactor = Reactor::new()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (server, _) = listener.accept()?;
/// client.set_nonblocking(true)?;
/// let mut client = mio::net::TcpStream::from_std(client);
/// let reg = reactor.register(&mut client, mio::Interest::READABLE)?;
///
/// let mut buf = [0u8; 8];
/// assert!(client.read(&mut buf).is_err()); // WouldBlock: nothing sent yet
/// reg.clear_ready(Direction::Read);
/// (&server).write_all(b"hi")?;
/// while !reg.is_ready(Direction::Read) {
///     reactor.poll(Some(Duration::from_secs(5)))?;
/// }
/// assert_eq!(client.read(&mut buf)?, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Registration {
    /// This registration's readiness and waiters; the reactor's slab holds a clone.
    slot: Rc<Slot>,
    /// The reactor: its registry, its slab, its `parked` counter.
    shared: Rc<Shared>,
    /// The index of `slot` in the reactor's slab.
    index: usize,
}

impl Registration {
    pub(crate) fn new(shared: Rc<Shared>, slot: Rc<Slot>, index: usize) -> Registration {
        Registration {
            slot,
            shared,
            index,
        }
    }

    /// Stores the waker of `cx` as the waiter of `half` for the operation `wait`; an
    /// idle direction arms a new waiter, counted as parked before the waker's clone, so
    /// nothing but the half is needed after that call.
    #[inline]
    fn park(&self, half: &Half, dir: Direction, cx: &Context<'_>, wait: &mut Wait) {
        if half.is_idle() {
            self.count_parked();
            half.arm(cx, wait);
        } else if half.repark(dir, cx, wait) {
            self.count_parked();
        }
    }

    /// Counts a waiter armed (see [`ReactorMetrics::parked`](crate::ReactorMetrics)).
    #[inline]
    fn count_parked(&self) {
        self.shared.parked.set(self.shared.parked.get() + 1);
    }

    /// Ready when `dir` may be ready (an event arrived since the last
    /// [`clear_ready`], or nothing is known yet); otherwise stores the task's waker and
    /// returns `Pending`. `Err(Closed)` once the registration was [`close`]d. Ready is a
    /// hint: the caller's syscall decides, and on `WouldBlock` it calls [`clear_ready`]
    /// and polls again, which then parks.
    ///
    /// [`clear_ready`]: Registration::clear_ready
    /// [`close`]: Registration::close
    ///
    /// # Panics
    ///
    /// If another task is already waiting on the same direction of this socket: one task
    /// reads and one task writes a socket at a time. (An operation that parked and may
    /// be polled again from another task uses [`poll_wait`](Registration::poll_wait).)
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    pub fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        self.poll_wait(dir, cx, &mut Wait::default())
    }

    /// [`poll_ready`](Registration::poll_ready) for an operation that keeps a [`Wait`]:
    /// when it parks, `wait` records it, so polling it again from another task moves
    /// the waiter there (no panic), and [`forget`](Registration::forget) on drop clears
    /// only its own waiter. Ready or closed clears `wait`.
    ///
    /// # Panics
    ///
    /// If another operation's waiter is stored for `dir` (two tasks wait at once).
    ///
    /// # Examples
    ///
    /// See [`Wait`].
    pub fn poll_wait(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
    ) -> Poll<Result<(), Closed>> {
        if self.slot.closed.get() {
            *wait = Wait::default();
            return Poll::Ready(Err(Closed));
        }
        let half = self.slot.half(dir);
        if half.ready.get() {
            if wait.is_parked() {
                drop(half.unpark(wait)); // ready again before its event: no longer waiting
            }
            return Poll::Ready(Ok(()));
        }
        self.park(half, dir, cx, wait);
        Poll::Pending
    }

    /// The first step of an operation's poll that must run no foreign code (no
    /// waker is cloned, woken or dropped): whether the syscall is worth trying now —
    /// `dir` may be ready and the registration is open. For an operation that parked,
    /// `true` also ends its claim, as [`poll_wait`](Registration::poll_wait) would, but
    /// only when its waiter is no longer stored (an event took it); `false` when
    /// not ready, closed, or when its waiter is still stored (its drop may be any
    /// code): `poll_wait` decides then, and nothing changed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// use sock_poll::{Direction, Wait};
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// let mut wait = Wait::default();
    /// // a fresh registration may be ready: the syscall is worth trying
    /// assert!(reg.ready_now(Direction::Read, &mut wait));
    /// reg.clear_ready(Direction::Read); // it said WouldBlock
    /// assert!(!reg.ready_now(Direction::Read, &mut wait));
    /// # std::io::Result::Ok(())
    /// ```
    #[inline]
    pub fn ready_now(&self, dir: Direction, wait: &mut Wait) -> bool {
        let half = self.slot.half(dir);
        if self.slot.closed.get() || !half.ready.get() {
            return false;
        }
        if wait.is_parked() {
            if half.holds(*wait) {
                return false;
            }
            *wait = Wait::default();
        }
        true
    }

    /// What an operation does on `WouldBlock`, in one step: [`clear_ready`] and then
    /// [`poll_wait`], which then always parks — so a would-block result can never be
    /// retried without waiting for an event. `Err(Closed)` once the registration was
    /// [`close`]d (the readiness is cleared all the same).
    ///
    /// [`clear_ready`]: Registration::clear_ready
    /// [`poll_wait`]: Registration::poll_wait
    /// [`close`]: Registration::close
    ///
    /// # Panics
    ///
    /// As [`poll_wait`](Registration::poll_wait): if another operation's waiter is
    /// stored for `dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::task::{Context, Waker};
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// use sock_poll::{Direction, Wait};
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// let mut wait = Wait::default();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// // a receive saw WouldBlock: nothing is queued
    /// reg.park_cleared(Direction::Read, &mut cx, &mut wait)?;
    /// assert!(wait.is_parked() && !reg.is_ready(Direction::Read));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn park_cleared(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
    ) -> Result<(), Closed> {
        let half = self.slot.half(dir);
        half.clear();
        if self.slot.closed.get() {
            *wait = Wait::default();
            return Err(Closed);
        }
        self.park(half, dir, cx, wait);
        Ok(())
    }

    /// Whether `dir` may be ready: an event arrived since the last
    /// [`clear_ready`](Registration::clear_ready), or nothing is known yet. A hint only.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    #[inline]
    pub fn is_ready(&self, dir: Direction) -> bool {
        self.slot.half(dir).ready.get()
    }

    /// Whether an event reported `dir` ready and no operation on it has
    /// [`complete`](Registration::complete)d since: a readiness check may trust it
    /// without asking the OS. False for a fresh registration.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// assert!(reg.is_ready(sock_poll::Direction::Read)); // worth a try...
    /// assert!(!reg.is_confirmed(sock_poll::Direction::Read)); // ...but nothing is known
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_confirmed(&self, dir: Direction) -> bool {
        let half = self.slot.half(dir);
        half.ready.get() && half.confirmed.get()
    }

    /// Clears the readiness of `dir`: the operation saw `WouldBlock`, so the next
    /// [`poll_ready`](Registration::poll_ready) parks until an event.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    #[inline]
    pub fn clear_ready(&self, dir: Direction) {
        self.slot.half(dir).clear();
    }

    /// Records a completed operation on `dir`: the event it used is no longer a
    /// confirmation, and when the transfer was `short` (less than asked) the queue is
    /// taken as drained (readiness cleared, no `WouldBlock` syscall needed) — unless a
    /// hang-up, an error or urgent data was seen on `dir`, after which a short read no
    /// longer proves a drain. Otherwise the direction is ready: a syscall that just
    /// succeeded makes the next one worth a try as an event would (an operation that
    /// asked the OS past its deadline, ignoring a clear flag, must not leave the flag
    /// saying `WouldBlock` about a socket it found ready). Returns whether readiness
    /// was cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// use sock_poll::Direction;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// assert!(reg.complete(Direction::Read, true)); // a short read drained the queue
    /// assert!(!reg.is_ready(Direction::Read));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn complete(&self, dir: Direction, short: bool) -> bool {
        let half = self.slot.half(dir);
        let drained = short && !half.eager.get();
        half.confirmed.set(false);
        half.ready.set(!drained);
        drained
    }

    /// Forgets everything known about `dir` (readiness, hang-ups), as for a fresh
    /// registration, keeping its waiter: e.g. a socket that starts connecting, whose
    /// earlier events described the unconnected socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// reg.reset(sock_poll::Direction::Read);
    /// assert!(reg.is_ready(sock_poll::Direction::Read));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&self, dir: Direction) {
        self.slot.half(dir).reset();
    }

    /// Forgets the waiter of `dir`, whoever stored it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// reg.clear_waiter(sock_poll::Direction::Read);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_waiter(&self, dir: Direction) {
        drop(self.slot.half(dir).waiter.take());
    }

    /// Forgets the waiter of `dir` if it is still the one the operation of `wait`
    /// stored (the operation was cancelled or timed out), and clears `wait`.
    ///
    /// # Examples
    ///
    /// See [`Wait`].
    #[inline]
    pub fn forget(&self, dir: Direction, wait: &mut Wait) {
        if wait.is_parked() {
            drop(self.slot.half(dir).unpark(wait));
        }
    }

    /// Marks the registration closed and wakes every waiter; their `poll_ready` then
    /// returns `Err(Closed)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// reg.close();
    /// assert!(reg.is_closed());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&self) {
        wake_all(self.slot.close());
    }

    /// Whether [`close`](Registration::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](Registration::close).
    pub fn is_closed(&self) -> bool {
        self.slot.closed.get()
    }

    /// Changes the interest of `source`.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl(EPOLL_CTL_MOD)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// reg.reregister(&mut s, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reregister<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<()> {
        self.shared
            .registry()
            .reregister(source, self.token(), interest)
    }

    /// Removes `source` from the poller and frees the slot.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl(EPOLL_CTL_DEL)`; the slot is freed all the same.
    ///
    /// # Examples
    ///
    /// See [`Reactor::register`](crate::Reactor::register).
    pub fn deregister<S: Source + ?Sized>(self, source: &mut S) -> io::Result<()> {
        self.shared.registry().deregister(source)
    }

    /// Whether this registration is in `reactor` (its events come from that reactor's
    /// poll, so only a task of that reactor's loop may wait on it).
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// assert!(reg.belongs_to(&reactor));
    /// assert!(!reg.belongs_to(&sock_poll::Reactor::new()?));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn belongs_to(&self, reactor: &crate::Reactor) -> bool {
        Rc::ptr_eq(&self.shared, reactor.shared())
    }

    /// The mio token of this registration (slot index and generation).
    ///
    /// # Examples
    ///
    /// ```
    /// # let reactor = sock_poll::Reactor::new()?;
    /// # let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let reg = reactor.register(&mut s, mio::Interest::READABLE)?;
    /// let _token: mio::Token = reg.token();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn token(&self) -> mio::Token {
        token::pack(self.index, self.slot.generation.get())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let slot = self.shared.slots.borrow_mut().remove(self.index);
        wake_all(self.slot.close());
        self.shared.free(slot);
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.index)
            .field("generation", &self.slot.generation.get())
            .finish()
    }
}

impl Direction {
    /// The verb of the panic of two waiters.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
        }
    }
}

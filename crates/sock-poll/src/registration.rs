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
use std::task::{Context, Poll, Waker};

use mio::Interest;
use mio::event::{Event, Source};

use crate::reactor::Shared;
use crate::token;

/// A direction of I/O on a socket.
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

/// Readiness and waiter of one direction.
///
/// `ready` is cleared by an operation that saw `WouldBlock` (or a short transfer);
/// `closed` — the peer closed this direction, or the socket has an error — is sticky,
/// because no further edge will announce it: a read that returned less than asked
/// while a FIN was already queued must not park forever.
#[derive(Default)]
struct Half {
    ready: bool,
    closed: bool,
    waiter: Option<Waker>,
}

impl Half {
    fn is_ready(&self) -> bool {
        self.ready || self.closed
    }

    fn wake(&mut self, closed: bool, to_wake: &mut Vec<Waker>) {
        self.ready = true;
        self.closed |= closed;
        to_wake.extend(self.waiter.take());
    }
}

/// The slab entry behind a [`Registration`].
pub(crate) struct Slot {
    pub(crate) generation: u32,
    read: Half,
    write: Half,
    closed: bool,
}

impl Slot {
    pub(crate) fn new(generation: u32) -> Slot {
        let ready = || Half {
            ready: true,
            closed: false,
            waiter: None,
        };
        Slot {
            generation,
            read: ready(),
            write: ready(),
            closed: false,
        }
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }

    /// Applies an event: readable/read-closed/error wake the reader, writable/
    /// write-closed/error wake the writer.
    pub(crate) fn on_event(&mut self, event: &Event, to_wake: &mut Vec<Waker>) {
        let error = event.is_error();
        let read_closed = error || event.is_read_closed();
        if read_closed || event.is_readable() || event.is_priority() {
            self.read.wake(read_closed, to_wake);
        }
        let write_closed = error || event.is_write_closed();
        if write_closed || event.is_writable() {
            self.write.wake(write_closed, to_wake);
        }
    }

    fn close(&mut self) -> [Option<Waker>; 2] {
        self.closed = true;
        [self.read.waiter.take(), self.write.waiter.take()]
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
    shared: Rc<Shared>,
    index: usize,
    generation: u32,
}

impl Registration {
    pub(crate) fn new(shared: Rc<Shared>, index: usize, generation: u32) -> Registration {
        Registration {
            shared,
            index,
            generation,
        }
    }

    fn with_slot<R>(&self, f: impl FnOnce(&mut Slot) -> R) -> R {
        let mut slots = self.shared.slots.borrow_mut();
        f(&mut slots[self.index])
    }

    /// Ready when an event arrived for `dir` since the last [`clear_ready`]; otherwise
    /// stores the task's waker and returns `Pending`. `Err(Closed)` once the registration
    /// was [`close`]d.
    ///
    /// [`clear_ready`]: Registration::clear_ready
    /// [`close`]: Registration::close
    ///
    /// # Panics
    ///
    /// If another task is already waiting on the same direction of this socket: one task
    /// reads and one task writes a socket at a time.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    pub fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        self.with_slot(|slot| {
            if slot.closed {
                return Poll::Ready(Err(Closed));
            }
            let half = slot.half(dir);
            if half.is_ready() {
                return Poll::Ready(Ok(()));
            }
            match &mut half.waiter {
                Some(w) if w.will_wake(cx.waker()) => {}
                Some(_) => panic!(
                    "sock: two tasks wait to {} the same socket at once; \
                     let one task do the {}s of a socket (reads and writes may be in two tasks)",
                    dir.verb(),
                    dir.verb()
                ),
                None => half.waiter = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// Whether `dir` is marked ready: an event arrived since the last clear, or the peer
    /// closed that direction / the socket has an error (which stays ready).
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    pub fn is_ready(&self, dir: Direction) -> bool {
        self.with_slot(|slot| slot.half(dir).is_ready())
    }

    /// Clears the readiness of `dir`: the operation saw `WouldBlock`, so the next
    /// [`poll_ready`](Registration::poll_ready) parks until an event.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Registration).
    pub fn clear_ready(&self, dir: Direction) {
        self.with_slot(|slot| slot.half(dir).ready = false);
    }

    /// Forgets the waiter of `dir`: the waiting operation was cancelled or timed out, so
    /// another task may wait next.
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
        let waiter = self.with_slot(|slot| slot.half(dir).waiter.take());
        drop(waiter);
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
        let wakers = self.with_slot(Slot::close);
        wakers.into_iter().flatten().for_each(Waker::wake);
    }

    /// Whether [`close`](Registration::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](Registration::close).
    pub fn is_closed(&self) -> bool {
        self.with_slot(|slot| slot.closed)
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
        token::pack(self.index, self.generation)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let slot = self.shared.slots.borrow_mut().remove(self.index);
        let mut slot = slot;
        slot.close().into_iter().flatten().for_each(Waker::wake);
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.index)
            .field("generation", &self.generation)
            .finish()
    }
}

impl Direction {
    fn verb(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
        }
    }
}

//! Linux: the shared poller is an epoll fd; posted packets wait in an in-memory queue,
//! announced by a semaphore-mode eventfd registered level-triggered, so each packet is
//! taken by exactly one waiting thread (as IOCP does it) and one wait may take several.
//!
//! Also the platform-only API: [`Poller::add`]/[`modify`](Poller::modify)/
//! [`delete`](Poller::delete) with [`Flags`] mio cannot pass, and [`ctl`] on any epoll fd.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::event::{Event, Events};
use crate::poller::Poller;

/// The raw handle of a poller: an epoll fd.
///
/// # Examples
///
/// See [`Poller::as_raw`] and [`Poller::lookup`].
pub type RawPoller = RawFd;

/// The backend's event buffer entry.
pub(crate) type RawEvent = libc::epoll_event;

/// The epoll data of the packet eventfd (never a user key: users may not add `u64::MAX`).
const PACKETS: u64 = u64::MAX;

/// Most posted packets one wait takes (the rest stay for other threads).
const PACKETS_PER_WAIT: usize = 64;

/// Calls a libc function, mapping `-1` to the thread's last OS error.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: each call site passes arguments that satisfy the function's contract;
        // see the comment at the call.
        let r = unsafe { libc::$fn($($arg),*) };
        if r == -1 { Err(io::Error::last_os_error()) } else { Ok(r) }
    }};
}

/// Flags for [`Poller::add`] and [`ctl`]: what to watch and how to report it.
///
/// # Examples
///
/// ```
/// use sock_poll_shared::os::linux::Flags;
///
/// let f = Flags::READABLE | Flags::EDGE;
/// assert!(f.contains(Flags::EDGE));
/// assert!(!f.contains(Flags::EXCLUSIVE));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flags(u32);

impl Flags {
    /// `EPOLLIN`: readable (for a listener: a connection is waiting).
    pub const READABLE: Flags = Flags(libc::EPOLLIN as u32);
    /// `EPOLLRDHUP`: the peer closed its side (not allowed with [`EXCLUSIVE`](Flags::EXCLUSIVE)).
    pub const READ_CLOSED: Flags = Flags(libc::EPOLLRDHUP as u32);
    /// `EPOLLOUT`: writable.
    pub const WRITABLE: Flags = Flags(libc::EPOLLOUT as u32);
    /// `EPOLLET`: report each change once (edge-triggered).
    pub const EDGE: Flags = Flags(libc::EPOLLET as u32);
    /// `EPOLLONESHOT`: report once, then stay silent until [`Poller::modify`].
    pub const ONESHOT: Flags = Flags(libc::EPOLLONESHOT as u32);
    /// `EPOLLEXCLUSIVE`: when several epoll fds watch this fd, wake only one (or a few)
    /// of them per event. Only with `EPOLL_CTL_ADD` and together with `READABLE`,
    /// `WRITABLE` and `EDGE`; Linux refuses it otherwise, and on a nested epoll fd
    /// (`EINVAL`).
    pub const EXCLUSIVE: Flags = Flags(libc::EPOLLEXCLUSIVE as u32);

    /// The raw `epoll_event.events` bits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_poll_shared::os::linux::Flags;
    ///
    /// assert_eq!(Flags::WRITABLE.bits(), libc::EPOLLOUT as u32);
    /// ```
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    ///
    /// # Examples
    ///
    /// See [`Flags`].
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// The `epoll_ctl` operation.
///
/// # Examples
///
/// See [`ctl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtlOp {
    /// `EPOLL_CTL_ADD`.
    Add,
    /// `EPOLL_CTL_MOD`.
    Modify,
    /// `EPOLL_CTL_DEL`.
    Delete,
}

/// Raw `epoll_ctl` on any epoll fd, passing `flags` as they are (including
/// [`Flags::EXCLUSIVE`], which mio cannot pass) and `key` as the event data.
///
/// # Errors
///
/// The OS error: `EBADF` for a closed fd, `EINVAL` for `EXCLUSIVE` on a nested epoll
/// fd or with `Modify`, `EEXIST`/`ENOENT` for a double add / unknown fd.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsRawFd;
/// use sock_poll_shared::os::linux::{CtlOp, Flags, ctl};
///
/// let poller = sock_poll_shared::Poller::new()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let fd = listener.as_raw_fd();
/// ctl(poller.as_raw(), CtlOp::Add, fd, Flags::READABLE | Flags::EXCLUSIVE, 7)?;
/// ctl(poller.as_raw(), CtlOp::Delete, fd, Flags::READABLE, 0)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ctl(epfd: RawFd, op: CtlOp, fd: RawFd, flags: Flags, key: u64) -> io::Result<()> {
    let op = match op {
        CtlOp::Add => libc::EPOLL_CTL_ADD,
        CtlOp::Modify => libc::EPOLL_CTL_MOD,
        CtlOp::Delete => libc::EPOLL_CTL_DEL,
    };
    let mut event = libc::epoll_event {
        events: flags.0,
        u64: key,
    };
    // Plain fds and a pointer to a live epoll_event, as epoll_ctl takes them.
    syscall!(epoll_ctl(epfd, op, fd, &mut event))?;
    Ok(())
}

impl Poller {
    /// Adds `fd` to this poller with `flags`; its events carry `key`.
    ///
    /// # Errors
    ///
    /// As [`ctl`].
    ///
    /// # Panics
    ///
    /// If `key` is `u64::MAX` (reserved).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use sock_poll_shared::{Events, Poller, os::linux::Flags};
    ///
    /// let poller = Poller::new()?;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// poller.add(listener.as_raw_fd(), 5, Flags::READABLE | Flags::EDGE)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let mut events = Events::with_capacity(8);
    /// poller.wait(&mut events, Some(Duration::from_secs(5)))?;
    /// let e = events.iter().next().unwrap();
    /// assert_eq!(e.key(), 5);
    /// assert!(e.is_readable());
    /// poller.delete(listener.as_raw_fd())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add(&self, fd: RawFd, key: u64, flags: Flags) -> io::Result<()> {
        assert_ne!(key, PACKETS, "sock-poll-shared: key u64::MAX is reserved");
        ctl(self.as_raw(), CtlOp::Add, fd, flags, key)
    }

    /// Changes the flags and key of an added `fd` (re-arms a `ONESHOT` one).
    ///
    /// # Errors
    ///
    /// As [`ctl`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// use sock_poll_shared::{Poller, os::linux::Flags};
    ///
    /// let poller = Poller::new()?;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// poller.add(l.as_raw_fd(), 1, Flags::READABLE | Flags::ONESHOT)?;
    /// poller.modify(l.as_raw_fd(), 1, Flags::READABLE | Flags::ONESHOT)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn modify(&self, fd: RawFd, key: u64, flags: Flags) -> io::Result<()> {
        assert_ne!(key, PACKETS, "sock-poll-shared: key u64::MAX is reserved");
        ctl(self.as_raw(), CtlOp::Modify, fd, flags, key)
    }

    /// Removes `fd` from this poller (events already dequeued by another thread may
    /// still be in flight: keys should carry a generation).
    ///
    /// # Errors
    ///
    /// As [`ctl`].
    ///
    /// # Examples
    ///
    /// See [`add`](Poller::add).
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        ctl(self.as_raw(), CtlOp::Delete, fd, Flags(0), 0)
    }
}

/// The Linux backend state.
pub(crate) struct Sys {
    /// The epoll fd.
    epfd: RawFd,
    /// Whether `epfd` is closed on drop (not for adopted foreign fds).
    owned: bool,
    /// Semaphore-mode eventfd: its counter is the number of queued packets.
    packets: OwnedFd,
    /// The packets' keys, in post order.
    queue: Mutex<VecDeque<u64>>,
}

impl Sys {
    pub(crate) fn new() -> io::Result<Sys> {
        // No pointer arguments.
        let epfd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: `epfd` was just created and is owned by nothing else.
        let owner = unsafe { OwnedFd::from_raw_fd(epfd) };
        let sys = Sys::with_packets(epfd, true)?;
        std::mem::forget(owner); // `sys` owns it now
        Ok(sys)
    }

    /// Adopts a foreign epoll fd after checking that it is one.
    ///
    /// # Safety
    ///
    /// `epfd` stays open while the result lives.
    pub(crate) unsafe fn adopt(epfd: RawFd) -> io::Result<Sys> {
        check_open(epfd)?;
        let sys = Sys::with_packets(epfd, false)?;
        Ok(sys)
    }

    /// Makes the packet eventfd and adds it to `epfd` (level-triggered).
    fn with_packets(epfd: RawFd, owned: bool) -> io::Result<Sys> {
        let flags = libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE;
        // No pointer arguments.
        let fd = syscall!(eventfd(0, flags))?;
        // SAFETY: `fd` was just created and is owned by nothing else.
        let packets = unsafe { OwnedFd::from_raw_fd(fd) };
        let readable = Flags(libc::EPOLLIN as u32);
        if let Err(e) = ctl(epfd, CtlOp::Add, packets.as_raw_fd(), readable, PACKETS) {
            return Err(not_epoll(epfd, e));
        }
        Ok(Sys {
            epfd,
            owned,
            packets,
            queue: Mutex::new(VecDeque::new()),
        })
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.epfd
    }

    pub(crate) fn post(&self, key: u64) -> io::Result<()> {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(key);
        let one: u64 = 1;
        // The fd is open (owned by self); the buffer is 8 readable bytes.
        syscall!(write(self.packets.as_raw_fd(), (&raw const one).cast(), 8))?;
        Ok(())
    }

    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let timeout_ms = timeout.map_or(-1, |t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
        events.raw.clear();
        let cap = i32::try_from(events.raw.capacity()).unwrap_or(i32::MAX);
        let ptr = events.raw.as_mut_ptr();
        let n = match syscall!(epoll_wait(self.epfd, ptr, cap, timeout_ms)) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: epoll_wait initialized the first `n` entries (n <= capacity).
        unsafe { events.raw.set_len(n) };
        for i in 0..n {
            let raw = events.raw[i];
            if raw.u64 == PACKETS {
                self.take_packets(events);
            } else {
                events.out.push(Event::ready(raw.u64, raw.events));
            }
        }
        Ok(())
    }

    /// Takes queued packets, one eventfd unit each, while there is room.
    fn take_packets(&self, events: &mut Events) {
        let room = events.capacity().saturating_sub(events.out.len());
        for _ in 0..room.clamp(1, PACKETS_PER_WAIT) {
            let mut unit: u64 = 0;
            // The fd is open; the buffer is 8 writable bytes.
            let taken = syscall!(read(self.packets.as_raw_fd(), (&raw mut unit).cast(), 8));
            if taken.is_err() {
                return; // EAGAIN: another thread took the rest
            }
            let key = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            let key = key.expect("sock-poll-shared: a packet is queued before its unit is written");
            events.out.push(Event::posted(key));
        }
    }
}

impl Drop for Sys {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: this poller owns `epfd`; it was removed from the registry first, so
            // nobody adopts the number from now on.
            drop(unsafe { OwnedFd::from_raw_fd(self.epfd) });
        } else {
            let _ = ctl(
                self.epfd,
                CtlOp::Delete,
                self.packets.as_raw_fd(),
                Flags(0),
                0,
            );
        }
    }
}

/// The integer the registry files a raw fd under.
pub(crate) fn raw_key(raw: RawFd) -> usize {
    raw as usize
}

/// A clear error if `fd` is not open.
pub(crate) fn check_open(fd: RawFd) -> io::Result<()> {
    // No pointer arguments; F_GETFD only reads the fd's flags.
    match syscall!(fcntl(fd, libc::F_GETFD)) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("epoll fd {fd} is not open (closed, or never was): {e}"),
        )),
        Err(e) => Err(e),
    }
}

/// The error of adding the packet eventfd to a foreign fd: `EINVAL` means it is no epoll fd.
fn not_epoll(fd: RawFd, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::EINVAL) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("fd {fd} is not an epoll fd"),
        );
    }
    e
}

/// Readable, read-closed, hung up or error.
pub(crate) fn is_readable(flags: u32) -> bool {
    let mask = libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI;
    flags & mask as u32 != 0
}

/// Writable, hung up or error.
pub(crate) fn is_writable(flags: u32) -> bool {
    let mask = libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR;
    flags & mask as u32 != 0
}

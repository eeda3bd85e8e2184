//! Linux: sockets of the shared-poller mode are added to the shared epoll fd once,
//! edge-triggered, with a key of (tag, generation, slot index).
//!
//! Keys are sock's only when they carry [`KEY_TAG`] (bit 61, bits 62–63 clear): any
//! other key is a host's own fd added to the shared epoll fd, and [`dispatch`] says so,
//! so its event is handed back instead of being taken for a socket's — a host's key 0
//! is not slot 0. One table serves a poller for as long as anything uses it (see
//! `SharedLoop`), and generations come from one process-wide counter, so two tables
//! never hand out the same key either.
//!
//! Readiness is a counter per direction, not a flag: an operation reads the counter,
//! tries its syscall, and on `WouldBlock` parks only if the counter has not moved —
//! checked under the waiter's lock, which the event's wake also takes. So an event
//! dequeued by another worker between the syscall and the park is never lost, which a
//! "clear the ready flag" scheme cannot promise once several threads dispatch events.
//! UDP sockets go the same way; their receives are the loop mode's `recvmsg`, which
//! reports a datagram longer than the buffer.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::{Context, Poll, Waker};

use sock_poll_shared::os::linux::Flags;
use sock_poll_shared::{Event, Poller};

use super::Dir;
use crate::error::{Error, Result};
use crate::multi::claim::Claims;

#[path = "linux_level.rs"]
mod level;

/// Bits of a key that hold the slot index.
const INDEX_BITS: u32 = 32;
/// Generations wrap below this: bits 32–60 of a key.
const GENERATION_MASK: u32 = (1 << 29) - 1;
/// The bit every key of sock's sockets carries (and bits 62–63 never): a key without
/// it, e.g. a host's key 0 or one with `SharedLoop::HOST_KEY`, is not sock's.
const KEY_TAG: u64 = 1 << 61;

/// The generation of the next registration, in any table: keys stay unique across
/// tables until the counter wraps.
static NEXT_GENERATION: AtomicU32 = AtomicU32::new(0);

/// The sockets registered in one shared epoll fd.
pub(crate) struct Table {
    /// Live registrations; events look them up by index, then check the generation.
    slots: RwLock<Slots>,
}

/// A slab of registrations: indices are reused through a free list.
#[derive(Default)]
struct Slots {
    /// The registrations by index; `None` is free.
    entries: Vec<Option<Arc<Slot>>>,
    /// Free indices.
    free: Vec<usize>,
}

impl Slots {
    fn insert(&mut self, slot: Arc<Slot>) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(slot);
                i
            }
            None => {
                self.entries.push(Some(slot));
                self.entries.len() - 1
            }
        }
    }

    fn remove(&mut self, index: usize) {
        if let Some(entry) = self.entries.get_mut(index) {
            if entry.take().is_some() {
                self.free.push(index);
            }
        }
    }

    fn get(&self, index: usize) -> Option<&Arc<Slot>> {
        self.entries.get(index)?.as_ref()
    }
}

/// One registration: a readiness counter and a waiter per direction.
struct Slot {
    /// Told apart from earlier users of the same index.
    generation: u32,
    read: Half,
    write: Half,
    /// Closed: operations fail with `Closed`.
    closed: AtomicBool,
}

/// One direction of a [`Slot`].
#[derive(Default)]
struct Half {
    /// Events seen so far.
    ticks: AtomicU64,
    /// The task waiting for the next event.
    waiter: Mutex<Option<Waker>>,
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            slots: RwLock::new(Slots::default()),
        }
    }

    fn insert(&self) -> (usize, Arc<Slot>) {
        let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed) & GENERATION_MASK;
        let slot = Arc::new(Slot {
            generation,
            read: Half::default(),
            write: Half::default(),
            closed: AtomicBool::new(false),
        });
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        (slots.insert(slot.clone()), slot)
    }

    fn remove(&self, index: usize) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        slots.remove(index);
    }

    /// Sockets registered.
    pub(crate) fn len(&self) -> usize {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots.entries.len() - slots.free.len()
    }

    /// The live slot of `key` (one of sock's), if its generation matches.
    fn get(&self, key: u64) -> Option<Arc<Slot>> {
        let index = (key & ((1 << INDEX_BITS) - 1)) as usize;
        let generation = (key >> INDEX_BITS) as u32 & GENERATION_MASK;
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots
            .get(index)
            .filter(|s| s.generation == generation)
            .cloned()
    }
}

/// Applies one dequeued event: advances the ready directions and wakes their waiters
/// (on this thread: they run here). Events of freed slots are dropped. False if the
/// key is not sock's (a host's fd): the caller hands the event back.
pub(crate) fn dispatch(table: &Table, event: &Event) -> bool {
    if !is_sock_key(event.key()) {
        return false;
    }
    let Some(slot) = table.get(event.key()) else {
        return true;
    };
    if event.is_readable() {
        slot.read.notify();
    }
    if event.is_writable() {
        slot.write.notify();
    }
    true
}

/// Whether `key` is one [`SharedIo::register`] gives.
fn is_sock_key(key: u64) -> bool {
    key >> 61 == KEY_TAG >> 61
}

/// The key of the slot at `index` with `generation`.
fn key(index: usize, generation: u32) -> u64 {
    KEY_TAG | (u64::from(generation) << INDEX_BITS) | index as u64
}

impl Half {
    fn notify(&self) {
        self.ticks.fetch_add(1, Ordering::SeqCst);
        let waker = self.lock().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.waiter.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks the task of `cx` unless an event came since `tick`; true if parked.
    fn park(&self, tick: u64, cx: &Context<'_>) -> bool {
        let mut waiter = self.lock();
        if self.ticks.load(Ordering::SeqCst) != tick {
            return false;
        }
        match &*waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(_) => panic!(
                "sock: two tasks wait on the same direction of a SharedTcp or SharedUdp at \
                 once; let one task do the reads (or the writes) of a socket"
            ),
            None => *waiter = Some(cx.waker().clone()),
        }
        true
    }
}

impl Slot {
    fn half(&self, dir: Dir) -> &Half {
        match dir {
            Dir::Read => &self.read,
            Dir::Write => &self.write,
        }
    }
}

/// A new socket for a shared loop: non-blocking from the start (`SOCK_NONBLOCK`), as
/// [`SharedIo::register`] expects — the sockets `accept` hands over are too (`accept4`).
pub(crate) fn new_socket(
    domain: socket2::Domain,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> io::Result<socket2::Socket> {
    socket2::Socket::new(domain, ty.nonblocking(), protocol)
}

/// A socket registered in a shared loop's epoll fd.
pub(crate) struct SharedIo {
    socket: socket2::Socket,
    slot: Arc<Slot>,
    index: usize,
    table: Arc<Table>,
    poller: Poller,
    /// The poll-level calls' waiters (`level.rs`).
    claims: Claims,
}

impl SharedIo {
    pub(crate) fn register(
        socket: socket2::Socket,
        poller: &Poller,
        table: &Arc<Table>,
    ) -> io::Result<SharedIo> {
        let (index, slot) = table.insert();
        let key = key(index, slot.generation);
        let flags = Flags::READABLE | Flags::READ_CLOSED | Flags::WRITABLE | Flags::EDGE;
        if let Err(e) = poller.add(socket.as_raw_fd(), key, flags) {
            table.remove(index);
            return Err(e);
        }
        Ok(SharedIo {
            socket,
            slot,
            index,
            table: table.clone(),
            poller: poller.clone(),
            claims: Claims::default(),
        })
    }

    pub(crate) fn socket(&self) -> &socket2::Socket {
        &self.socket
    }

    /// Tries `f` until it does not block, parking between events.
    fn poll_io<T>(
        &self,
        dir: Dir,
        cx: &Context<'_>,
        mut f: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> Poll<Result<T>> {
        let half = self.slot.half(dir);
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            let tick = half.ticks.load(Ordering::SeqCst);
            match f(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if half.park(tick, cx) {
                        return Poll::Pending;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r.map_err(Error::from)),
            }
        }
    }

    pub(crate) fn poll_recv(&self, cx: &Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        self.poll_io(Dir::Read, cx, |mut s| s.read(buf))
    }

    /// Receives into `buf` with the OS's `MSG_*` flags: a peek parks on would-block as
    /// any read; `MSG_OOB` never waits (the urgent byte is there or it is not).
    pub(crate) fn poll_recv_flags(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
        os: i32,
    ) -> Poll<Result<usize>> {
        let recv = |s: &socket2::Socket| crate::recv_with::recv_into(&s.into(), buf, os);
        if os & libc::MSG_OOB != 0 {
            return Poll::Ready(self.try_once(recv));
        }
        self.poll_io(Dir::Read, cx, recv)
    }

    /// `f` once, whatever the readiness, retrying `EINTR`: `Closed` once closed.
    fn try_once<T>(&self, mut f: impl FnMut(&socket2::Socket) -> io::Result<T>) -> Result<T> {
        loop {
            if self.is_closed() {
                return Err(Error::closed());
            }
            match f(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r.map_err(Error::from),
            }
        }
    }

    /// Receives one datagram and its source with the OS's `MSG_*` flags (a peek leaves
    /// it queued; `MSG_TRUNC` gives its real length).
    pub(crate) fn poll_recv_from_flags(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
        os: i32,
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        self.poll_io(Dir::Read, cx, |s| {
            crate::dgram::recv_from_flags(&s.into(), buf, os)
        })
    }

    pub(crate) fn poll_send(&self, cx: &Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        self.poll_io(Dir::Write, cx, |s| {
            s.send_with_flags(buf, libc::MSG_NOSIGNAL)
        })
    }

    /// Receives one datagram and its source (`recvmsg`: a datagram longer than `buf`
    /// is the loop mode's truncation error, `MessageTooLong`).
    pub(crate) fn poll_recv_from(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        self.poll_io(Dir::Read, cx, |s| crate::dgram::recv_from(&s.into(), buf))
    }

    /// Sends `buf` as one datagram to `to`, or to the connected peer.
    pub(crate) fn poll_send_to(
        &self,
        cx: &Context<'_>,
        buf: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        self.poll_io(Dir::Write, cx, |s| match to {
            Some(to) => s.send_to_with_flags(buf, to, libc::MSG_NOSIGNAL),
            None => s.send_with_flags(buf, libc::MSG_NOSIGNAL),
        })
    }

    pub(crate) fn poll_accept(&self, cx: &Context<'_>) -> Poll<Result<socket2::Socket>> {
        // Every worker that accepts keeps a spare fd, so running out of fds sheds a
        // pending connection instead of leaving the listener ready (see `sys::accept`).
        crate::sys::reserve_spare_fd();
        self.poll_io(Dir::Read, cx, |s| {
            crate::sys::accept(&socket2::SockRef::from(s))
        })
    }

    /// Starts a non-blocking connect once, then waits until the socket is writable and
    /// reports the outcome (`SO_ERROR`).
    pub(crate) fn poll_connect(
        &self,
        addr: &socket2::SockAddr,
        started: &mut bool,
        cx: &Context<'_>,
    ) -> Poll<Result<()>> {
        if !*started {
            *started = true;
            match self.socket.connect(addr) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                Err(e) => return Poll::Ready(Err(e.into())),
            }
        }
        self.poll_io(Dir::Write, cx, |s| match s.take_error()? {
            Some(e) => Err(e),
            None => match s.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(e) => Err(e),
            },
        })
    }

    /// Forgets the waiter of `dir` if it is `waker`'s (the operation that parked with it
    /// was dropped); a waiter registered since by another operation stays.
    pub(crate) fn clear_waiter(&self, dir: Dir, waker: &Waker) {
        let mut waiter = self.slot.half(dir).lock();
        let taken = waiter.take_if(|w| w.will_wake(waker));
        drop(waiter);
        drop(taken);
    }

    /// Moves the waiter of `dir` from `old`'s task to `new`'s: the operation that parked
    /// with `old` is now polled by another task. Nothing to move if an event took it.
    pub(crate) fn rewait(&self, dir: Dir, old: &Waker, new: &Waker) {
        let mut waiter = self.slot.half(dir).lock();
        let replaced = match &mut *waiter {
            Some(w) if w.will_wake(old) => Some(std::mem::replace(w, new.clone())),
            _ => None,
        };
        drop(waiter);
        drop(replaced);
    }

    /// Fails every waiting and later operation with `Closed`, sends FIN, leaves the poller.
    pub(crate) fn close(&self) {
        if self.slot.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        let _ = self.poller.delete(self.socket.as_raw_fd());
        self.table.remove(self.index);
        for half in [&self.slot.read, &self.slot.write] {
            half.notify();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.slot.closed.load(Ordering::Acquire)
    }
}

impl Drop for SharedIo {
    fn drop(&mut self) {
        if !self.slot.closed.swap(true, Ordering::AcqRel) {
            let _ = self.poller.delete(self.socket.as_raw_fd());
            self.table.remove(self.index);
        }
    }
}

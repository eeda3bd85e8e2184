//! Windows: sockets of the shared-poller mode are associated with the shared I/O
//! completion port, and every operation is an overlapped one — `WSARecv`, `WSASend`,
//! `AcceptEx`, `ConnectEx` — whose completion any worker may dequeue.
//!
//! There is no readiness on a completion port, so the model differs from Linux:
//!
//! - Each direction of a socket has one [`Op`] (reads: recv and accept; writes: send
//!   and connect), at most one operation in flight. The `Op` is shared by the socket
//!   and the kernel: starting an operation leaks one `Arc` count into its `OVERLAPPED`,
//!   the dispatch of the completion takes it back. So the buffer and the `OVERLAPPED`
//!   stay valid until the kernel is done with them, even when the socket or the
//!   waiting future is gone first.
//! - A task learns the outcome on its next poll, after the dispatching worker woke it.
//! - Received bytes are kept in the `Op` until a `recv` takes them: a `recv` dropped
//!   mid-flight (a deadline) loses nothing, the next `recv` gets its bytes. An `accept`
//!   dropped mid-flight likewise leaves its connection to the next `accept`.
//! - A `send` reports its bytes once the kernel completed the write. A send (or
//!   connect) dropped mid-flight is *orphaned*: the next one waits for it, drops its
//!   outcome (an error is still reported) and starts its own. An orphaned write's
//!   bytes may still go out although the timed-out `send` did not count them.
//! - UDP sockets use the same two `Op`s: `WSARecvFrom` reads, `WSASendTo` writes
//!   (`WSASend` to the connected peer). The datagram's address and its length live in
//!   the `Op` next to the `OVERLAPPED` (the source a receive fills is written by the
//!   kernel until the completion). A received datagram is kept whole with its source
//!   until a `recv_from` takes it, so a receive cut short by its deadline loses no
//!   datagram. It is received into the `Op`'s buffer, grown to the largest buffer a
//!   receive asked for (64 KiB at most), and handed out cut to the taker's buffer with
//!   the loop mode's truncation error — `MessageTooLong`, as `recvmsg` gives on Linux.
//!   `SIO_UDP_CONNRESET` is off, as in the loop mode: an ICMP port-unreachable for an
//!   earlier datagram does not fail a later receive.
//! - Sockets are associated with one completion key, [`OP_KEY`]; completions with
//!   another key (a host's handle associated with the port) are not ours and are
//!   handed back to the host (`SharedLoop::on_host_event`).
//! - `close` cancels what is in flight (`CancelIoEx`); the last handle's drop closes the
//!   socket. Completions that no worker dequeues any more (the loop stopped for good)
//!   keep their `Op` alive: a small leak, never a dangling pointer.

use std::cell::UnsafeCell;
use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::{AsRawSocket, RawHandle};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use sock_poll_shared::{Event, Poller};
use windows_sys::Win32::Foundation::{ERROR_IO_PENDING, HANDLE};
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::IO::{CancelIoEx, OVERLAPPED};

use super::Dir;
use crate::error::{Error, Result};
use crate::multi::claim::Claims;

#[path = "windows_level.rs"]
mod level;

/// The completion key of every socket of a shared loop (bits 62–63 clear: never a
/// `SharedLoop::HOST_KEY`).
const OP_KEY: u64 = 0x05AC_C0DE_0000_0001;

/// The most bytes one overlapped recv or send moves.
const MAX_CHUNK: usize = 64 * 1024;

/// Room for one address in `AcceptEx`'s output buffer, as it requires.
const ACCEPT_ADDR_LEN: usize = mem::size_of::<ws::SOCKADDR_STORAGE>() + 16;

/// Nothing to look up: a completion carries its [`Op`].
pub(crate) struct Table;

impl Table {
    pub(crate) fn new() -> Table {
        Table
    }

    /// Sockets registered: not counted by this backend (it keeps no table).
    pub(crate) fn len(&self) -> usize {
        0
    }
}

/// Applies one dequeued completion: records it in its [`Op`] and wakes the waiting task
/// (on this thread: it runs here). False if its key is not [`OP_KEY`] (a host's handle
/// associated with the port): the caller hands the event back.
pub(crate) fn dispatch(_table: &Table, event: &Event) -> bool {
    if event.key() != OP_KEY {
        return false;
    }
    let Some((overlapped, bytes, _status)) = event.completion() else {
        return true;
    };
    // SAFETY: completions keyed `OP_KEY` come only from operations `Op::start` began,
    // each with the `OVERLAPPED` of an `Op` whose leaked count it carries; the port
    // delivers each completion once, so the count is taken back once.
    let op = unsafe { Op::from_overlapped(overlapped) };
    op.complete(bytes);
    true
}

/// Where an [`Op`] stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Nothing in flight.
    Idle,
    /// The kernel owns the `OVERLAPPED` and the buffer.
    InFlight,
    /// Completed; the outcome waits to be taken.
    Done,
}

/// One direction of a socket: an overlapped operation slot. `#[repr(C)]` with the
/// `OVERLAPPED` first, so a completion's `OVERLAPPED` pointer is the `Op`'s address.
#[repr(C)]
struct Op {
    /// The kernel's half. Written only by `start` (under the lock, while idle); read by
    /// `result` (under the lock, once done).
    overlapped: UnsafeCell<OVERLAPPED>,
    /// The address of a datagram operation: the source a `WSARecvFrom` fills, the
    /// destination a `WSASendTo` reads. The kernel's while in flight, like the
    /// `OVERLAPPED`; written by `set_addr` (under the lock, while idle) and read by
    /// `source` (under the lock, once done).
    addr: UnsafeCell<Addr>,
    /// Everything else, under one lock that `dispatch` also takes.
    state: Mutex<State>,
}

// SAFETY: the `OVERLAPPED`'s raw pointers are never set (no event handle), and it and
// the address are touched only under `state`'s lock while the kernel does not own them
// (see `Op`).
unsafe impl Send for Op {}
// SAFETY: as for `Send`: all access to the `UnsafeCell`s is serialized by `state`.
unsafe impl Sync for Op {}

/// The state of an [`Op`].
struct State {
    phase: Phase,
    /// The task waiting for the completion.
    waker: Option<Waker>,
    /// The future that started the write in flight was dropped: its outcome is nobody's.
    orphan: bool,
    /// Bytes the last completion reported.
    bytes: u32,
    /// The buffer the kernel reads (send) or fills (recv, accept's addresses).
    buf: Vec<u8>,
    /// Received bytes not handed out yet: `buf[pos..len]`.
    pos: usize,
    len: usize,
    /// The socket an `AcceptEx` in flight accepts into.
    accepted: Option<socket2::Socket>,
    /// A received datagram not handed out yet.
    datagram: Option<Datagram>,
}

/// A datagram a `WSARecvFrom` received into the `Op`'s buffer: `buf[..len]`.
struct Datagram {
    len: usize,
    /// Longer than the buffer it was received into (`WSAEMSGSIZE`): the rest is lost.
    truncated: bool,
    /// Its source.
    from: socket2::SockAddr,
}

/// A socket address as the datagram calls take it: storage and length.
struct Addr {
    storage: socket2::SockAddrStorage,
    len: i32,
}

impl Addr {
    /// Room for any source address, to be filled by `WSARecvFrom`.
    fn room() -> Addr {
        let storage = socket2::SockAddrStorage::zeroed();
        let len = storage.size_of();
        Addr { storage, len }
    }
}

impl From<&socket2::SockAddr> for Addr {
    fn from(addr: &socket2::SockAddr) -> Addr {
        Addr {
            storage: addr.clone().as_storage(),
            len: addr.len(),
        }
    }
}

impl Op {
    fn new() -> Arc<Op> {
        Arc::new(Op {
            overlapped: UnsafeCell::new(OVERLAPPED::default()),
            addr: UnsafeCell::new(Addr::room()),
            state: Mutex::new(State {
                phase: Phase::Idle,
                waker: None,
                orphan: false,
                bytes: 0,
                buf: Vec::new(),
                pos: 0,
                len: 0,
                accepted: None,
                datagram: None,
            }),
        })
    }

    /// Takes back the count that [`start`](Op::start) leaked into an `OVERLAPPED`.
    ///
    /// # Safety
    ///
    /// `overlapped` is the address of an `Op`'s `OVERLAPPED` from a completed operation
    /// that `start` began, and this is the one time its count is taken back.
    unsafe fn from_overlapped(overlapped: usize) -> Arc<Op> {
        // SAFETY: `Op` is `repr(C)` with the `OVERLAPPED` first, so its address is the
        // `Op`'s, which `Arc::into_raw` gave out in `start` (the caller's promise).
        unsafe { Arc::from_raw(overlapped as *const Op) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts an operation: `call` issues the overlapped syscall with this `Op`'s
    /// `OVERLAPPED`. The caller holds the lock, so the completion's dispatch waits for
    /// the phase to say `InFlight`.
    fn start(
        self: &Arc<Op>,
        st: &mut State,
        call: impl FnOnce(&mut State, *mut OVERLAPPED) -> io::Result<()>,
    ) -> io::Result<()> {
        debug_assert_eq!(st.phase, Phase::Idle);
        // SAFETY: idle, so the kernel does not own the `OVERLAPPED`; the lock is held.
        unsafe { self.overlapped.get().write(OVERLAPPED::default()) };
        let leaked = Arc::into_raw(self.clone());
        match call(st, self.overlapped.get()) {
            Ok(()) => {
                st.phase = Phase::InFlight;
                Ok(())
            }
            Err(e) => {
                // SAFETY: the call failed without pending, so no completion will carry
                // the count leaked just above: take it back here, once.
                drop(unsafe { Arc::from_raw(leaked) });
                Err(e)
            }
        }
    }

    /// Records a completion and wakes the waiting task.
    fn complete(&self, bytes: u32) {
        let waker = {
            let mut st = self.lock();
            st.phase = Phase::Done;
            st.bytes = bytes;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The outcome of the completed operation: bytes moved, or the socket error.
    fn result(&self, socket: ws::SOCKET) -> io::Result<u32> {
        let (mut bytes, mut flags) = (0u32, 0u32);
        // SAFETY: done, so the kernel no longer writes the `OVERLAPPED` (the caller
        // holds the lock); the out pointers are valid locals; no wait is asked for.
        let ok = unsafe {
            ws::WSAGetOverlappedResult(socket, self.overlapped.get(), &mut bytes, 0, &mut flags)
        };
        if ok == 0 {
            return Err(last_wsa_error());
        }
        Ok(bytes)
    }

    /// Puts `addr` where the datagram call about to start finds it; `st` is the held
    /// lock.
    fn set_addr(&self, st: &State, addr: Addr) -> *mut Addr {
        debug_assert_eq!(st.phase, Phase::Idle);
        let cell = self.addr.get();
        // SAFETY: idle, so the kernel does not own the address; the lock (`st`) is held.
        unsafe { cell.write(addr) };
        cell
    }

    /// The source a completed `WSARecvFrom` wrote; `st` is the held lock.
    fn source(&self, st: &State) -> socket2::SockAddr {
        debug_assert_eq!(st.phase, Phase::Idle);
        // SAFETY: completed, so the kernel no longer writes the address; the lock (`st`)
        // is held. The copy is plain data (no drop glue), so the cell may keep its own.
        let addr = unsafe { self.addr.get().read() };
        // SAFETY: the kernel initialized `len` bytes of the storage (zeroed beforehand).
        unsafe { socket2::SockAddr::new(addr.storage, addr.len) }
    }
}

impl State {
    /// Waits for the completion of the operation in flight.
    fn park<T>(&mut self, cx: &Context<'_>) -> Poll<T> {
        match &self.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(_) => panic!(
                "sock: two tasks wait on the same direction of a SharedTcp or SharedUdp at \
                 once; let one task do the reads (or the writes) of a socket"
            ),
            None => self.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn grow(&mut self, len: usize) {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
    }

    /// Copies `data` to the start of the buffer.
    fn fill(&mut self, data: &[u8]) {
        self.grow(data.len());
        self.buf[..data.len()].copy_from_slice(data);
    }

    /// Hands out the kept datagram `d`: its length and source, or the truncation error
    /// (the first `out.len()` bytes in `out`) if it did not fit whole.
    fn take_datagram(
        &mut self,
        d: Datagram,
        out: &mut [u8],
    ) -> io::Result<(usize, socket2::SockAddr)> {
        let n = d.len.min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        if d.truncated || d.len > out.len() {
            return Err(crate::dgram::truncated(n));
        }
        Ok((n, d.from))
    }

    /// The first `len` bytes of the buffer for the kernel (grown, never shrunk).
    fn buffer(&mut self, len: usize) -> ws::WSABUF {
        self.grow(len);
        ws::WSABUF {
            len: len as u32,
            buf: self.buf.as_mut_ptr(),
        }
    }
}

/// A new overlapped socket for a shared loop (socket2 opens every socket with
/// `WSA_FLAG_OVERLAPPED`; it stays in blocking mode, which overlapped calls ignore).
/// The error of receive flags on the Windows shared poller.
fn no_recv_flags() -> Error {
    Error::new(
        crate::error::ErrorKind::Unsupported,
        "recv flags need the loop mode on Windows: shared sockets receive through overlapped I/O",
    )
}

pub(crate) fn new_socket(
    domain: socket2::Domain,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> io::Result<socket2::Socket> {
    socket2::Socket::new(domain, ty, protocol)
}

/// A socket associated with a shared loop's completion port.
pub(crate) struct SharedIo {
    socket: socket2::Socket,
    /// recv and accept.
    read: Arc<Op>,
    /// send and connect.
    write: Arc<Op>,
    /// Closed: operations fail with `Closed`.
    closed: AtomicBool,
    /// A listener's address family, read once (every `AcceptEx` needs a socket of it).
    domain: OnceLock<socket2::Domain>,
    /// The poll-level calls' waiters (`level.rs`).
    claims: Claims,
}

impl SharedIo {
    pub(crate) fn register(
        socket: socket2::Socket,
        poller: &Poller,
        _table: &Arc<Table>,
    ) -> io::Result<SharedIo> {
        poller.associate(socket.as_raw_socket() as RawHandle, OP_KEY)?;
        Ok(SharedIo {
            socket,
            read: Op::new(),
            write: Op::new(),
            closed: AtomicBool::new(false),
            domain: OnceLock::new(),
            claims: Claims::default(),
        })
    }

    pub(crate) fn socket(&self) -> &socket2::Socket {
        &self.socket
    }

    fn raw(&self) -> ws::SOCKET {
        self.socket.as_raw_socket() as ws::SOCKET
    }

    fn op(&self, dir: Dir) -> &Arc<Op> {
        match dir {
            Dir::Read => &self.read,
            Dir::Write => &self.write,
        }
    }

    /// Receives into `buf`: kept bytes first, else one overlapped `WSARecv`.
    pub(crate) fn poll_recv(&self, cx: &Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        self.drive(&self.read, cx, |st| self.recv_step(st, buf))
    }

    /// Receives with `MSG_*` flags: none is a plain receive; any other is refused, as
    /// the receives here are overlapped ones into the socket's own buffer (a peek or an
    /// urgent byte would have to bypass it).
    pub(crate) fn poll_recv_flags(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
        os: i32,
    ) -> Poll<Result<usize>> {
        match os {
            0 => self.poll_recv(cx, buf),
            _ => Poll::Ready(Err(no_recv_flags())),
        }
    }

    /// Receives one datagram with `MSG_*` flags: none is a plain receive; any other is
    /// refused (see [`poll_recv_flags`](SharedIo::poll_recv_flags)).
    pub(crate) fn poll_recv_from_flags(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
        os: i32,
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        match os {
            0 => self.poll_recv_from(cx, buf),
            _ => Poll::Ready(Err(no_recv_flags())),
        }
    }

    /// Drives one direction's `Op`: fails once the socket is closed, parks while an
    /// operation is in flight, and otherwise runs `step` (done or idle) until it gives
    /// an outcome.
    fn drive<T>(
        &self,
        op: &Op,
        cx: &Context<'_>,
        mut step: impl FnMut(&mut State) -> Option<Result<T>>,
    ) -> Poll<Result<T>> {
        let mut st = op.lock();
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            if st.phase == Phase::InFlight {
                return st.park(cx);
            }
            if let Some(r) = step(&mut st) {
                return Poll::Ready(r);
            }
        }
    }

    /// Sends a prefix of `buf` with one overlapped `WSASend`; ready once it completed.
    pub(crate) fn poll_send(&self, cx: &Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let socket = self.raw();
        let chunk = &buf[..buf.len().min(MAX_CHUNK)];
        self.poll_write(cx, |st| {
            self.write.start(st, |st, ov| send(socket, st, chunk, ov))
        })
        .map_ok(|n| n as usize)
    }

    /// Receives one datagram and its source: a kept one first, else one overlapped
    /// `WSARecvFrom` into the `Op`'s buffer, grown to `buf`'s length (64 KiB at most).
    pub(crate) fn poll_recv_from(
        &self,
        cx: &Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        self.drive(&self.read, cx, |st| self.recv_from_step(st, buf))
    }

    /// Keeps the datagram of a completed `WSARecvFrom`, or returns its error.
    fn finish_recv_from(&self, st: &mut State) -> io::Result<()> {
        st.phase = Phase::Idle;
        let (len, truncated) = match self.read.result(self.raw()) {
            Ok(n) => (n as usize, false),
            Err(e) if is_truncation(&e) => (st.buf.len(), true), // all posted, all filled
            Err(e) => return Err(e),
        };
        let from = self.read.source(st);
        st.datagram = Some(Datagram {
            len,
            truncated,
            from,
        });
        Ok(())
    }

    /// Starts a `WSARecvFrom` into the whole `Op` buffer, grown to `want` first.
    fn start_recv_from(&self, st: &mut State, want: usize) -> io::Result<()> {
        st.grow(want.min(MAX_CHUNK));
        let (socket, op) = (self.raw(), &self.read);
        op.start(st, |st, ov| {
            let addr = op.set_addr(st, Addr::room());
            recv_from(socket, st, addr, ov)
        })
    }

    /// Sends `buf` as one datagram with one overlapped `WSASendTo` to `to` (`WSASend`
    /// to the connected peer); ready once it completed.
    pub(crate) fn poll_send_to(
        &self,
        cx: &Context<'_>,
        buf: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        let (socket, op) = (self.raw(), &self.write);
        self.poll_write(cx, |st| {
            op.start(st, |st, ov| match to {
                Some(to) => {
                    let addr = op.set_addr(st, to.into());
                    send_to(socket, st, buf, addr, ov)
                }
                None => send(socket, st, buf, ov),
            })
        })
        .map_ok(|n| n as usize)
    }

    /// Drives the write direction: waits for the write in flight (dropping an orphan's
    /// success), starts one with `start` when idle, and gives its completion's outcome.
    fn poll_write(
        &self,
        cx: &Context<'_>,
        mut start: impl FnMut(&mut State) -> io::Result<()>,
    ) -> Poll<Result<u32>> {
        self.drive(&self.write, cx, |st| match st.phase {
            Phase::Done => self.finish_write(st).map(|r| r.map_err(Error::from)),
            _ => failed(start(st)),
        })
    }

    /// Takes a completed write's outcome; `None` for an orphan's success (start anew).
    fn finish_write(&self, st: &mut State) -> Option<io::Result<u32>> {
        st.phase = Phase::Idle;
        let orphan = mem::take(&mut st.orphan);
        match self.write.result(self.raw()) {
            Ok(_) if orphan => None,
            r => Some(r),
        }
    }

    /// Accepts with one overlapped `AcceptEx` into a fresh socket of the listener's
    /// family; a connection reset before it was accepted is skipped.
    pub(crate) fn poll_accept(&self, cx: &Context<'_>) -> Poll<Result<socket2::Socket>> {
        self.drive(&self.read, cx, |st| match st.phase {
            Phase::Done => {
                st.phase = Phase::Idle;
                let accepted = st.accepted.take();
                match (self.read.result(self.raw()), accepted) {
                    (Ok(_), Some(conn)) => Some(self.accepted(conn)),
                    (Err(e), _) if is_reset(&e) => None,
                    (Err(e), _) => Some(Err(e.into())),
                    (Ok(_), None) => unreachable!("an AcceptEx completed without its socket"),
                }
            }
            _ => failed(self.start_accept(st)),
        })
    }

    /// Opens the socket to accept into and starts `AcceptEx`.
    fn start_accept(&self, st: &mut State) -> io::Result<()> {
        let domain = match self.domain.get() {
            Some(domain) => *domain,
            None => {
                let domain = self.socket.local_addr()?.domain();
                *self.domain.get_or_init(|| domain)
            }
        };
        let conn = new_socket(domain, socket2::Type::STREAM, None)?;
        let (listener, target) = (self.raw(), conn.as_raw_socket() as ws::SOCKET);
        st.accepted = Some(conn);
        let r = self
            .read
            .start(st, |st, ov| accept(listener, target, st, ov));
        if r.is_err() {
            st.accepted = None;
        }
        r
    }

    /// Finishes an accepted socket so `getpeername`, `shutdown` and options work on it.
    fn accepted(&self, conn: socket2::Socket) -> Result<socket2::Socket> {
        let listener = self.raw();
        set_context(&conn, ws::SO_UPDATE_ACCEPT_CONTEXT, &listener)?;
        Ok(conn)
    }

    /// Starts one overlapped `ConnectEx` (binding to the unspecified address first, as it
    /// requires), then waits for its completion.
    pub(crate) fn poll_connect(
        &self,
        addr: &socket2::SockAddr,
        started: &mut bool,
        cx: &Context<'_>,
    ) -> Poll<Result<()>> {
        let r = self.poll_write(cx, |st| {
            *started = true;
            self.start_connect(st, addr)
        });
        r.map(|r| r.and_then(|_| self.connected()))
    }

    fn start_connect(&self, st: &mut State, addr: &socket2::SockAddr) -> io::Result<()> {
        if self.socket.local_addr().is_err() {
            self.socket.bind(&unspecified(addr))?;
        }
        let connect_ex = connect_ex(self.raw(), addr)?;
        let socket = self.raw();
        self.write.start(st, |_, ov| {
            // SAFETY: `connect_ex` came from the provider of this socket; the address
            // is valid for the call (ConnectEx copies it); `ov` is idle and stays
            // valid until the completion (the `Op` count leaked by `start`).
            let ok = unsafe {
                connect_ex(
                    socket,
                    addr.as_ptr().cast(),
                    addr.len(),
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                    ov,
                )
            };
            pending_ok(ok != 0)
        })
    }

    /// Finishes a connected socket so `getpeername`, `shutdown` and options work on it.
    fn connected(&self) -> Result<()> {
        set_context(&self.socket, ws::SO_UPDATE_CONNECT_CONTEXT, &())?;
        Ok(())
    }

    /// Forgets the waiter of `dir` if it is `waker`'s (the operation that parked with it
    /// was dropped; a waiter registered since by another operation stays); a write it
    /// waited for is orphaned.
    pub(crate) fn clear_waiter(&self, dir: Dir, waker: &Waker) {
        let mut st = self.op(dir).lock();
        let taken = st.waker.take_if(|w| w.will_wake(waker));
        if dir == Dir::Write && st.phase != Phase::Idle {
            st.orphan = true;
        }
        drop(st);
        drop(taken);
    }

    /// Moves the waiter of `dir` from `old`'s task to `new`'s: the operation that parked
    /// with `old` is now polled by another task. Nothing to move if a completion took it.
    pub(crate) fn rewait(&self, dir: Dir, old: &Waker, new: &Waker) {
        let mut st = self.op(dir).lock();
        let replaced = match &mut st.waker {
            Some(w) if w.will_wake(old) => Some(mem::replace(w, new.clone())),
            _ => None,
        };
        drop(st);
        drop(replaced);
    }

    /// Fails every waiting and later operation with `Closed`, sends FIN, cancels what is
    /// in flight.
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        // SAFETY: the socket is open while `self` lives; a null OVERLAPPED cancels
        // every operation on it, whose completions still come through the port.
        unsafe { CancelIoEx(self.raw() as HANDLE, ptr::null()) };
        for op in [&self.read, &self.write] {
            let waker = op.lock().waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Starts an overlapped `WSARecv` of up to `want` bytes into the `Op`'s buffer.
fn recv(socket: ws::SOCKET, st: &mut State, want: usize, ov: *mut OVERLAPPED) -> io::Result<()> {
    let wsabuf = st.buffer(want);
    let mut flags = 0u32;
    // SAFETY: the buffer lives in the `Op`, untouched until the completion, as does
    // `ov`; the WSABUF array and flags are read during the call only.
    let r = unsafe { ws::WSARecv(socket, &wsabuf, 1, ptr::null_mut(), &mut flags, ov, None) };
    pending_ok(r == 0)
}

/// Starts an overlapped `WSASend` of a copy of `chunk`.
fn send(socket: ws::SOCKET, st: &mut State, chunk: &[u8], ov: *mut OVERLAPPED) -> io::Result<()> {
    st.fill(chunk);
    let wsabuf = st.buffer(chunk.len()); // the pointer is taken after the copy
    // SAFETY: as in `recv`: the copy lives in the `Op` until the completion.
    let r = unsafe { ws::WSASend(socket, &wsabuf, 1, ptr::null_mut(), 0, ov, None) };
    pending_ok(r == 0)
}

/// Starts an overlapped `WSARecvFrom` of one datagram into the whole of the `Op`'s
/// buffer, its source into `addr` (the `Op`'s address cell).
fn recv_from(
    socket: ws::SOCKET,
    st: &mut State,
    addr: *mut Addr,
    ov: *mut OVERLAPPED,
) -> io::Result<()> {
    let wsabuf = st.buffer(st.buf.len());
    let mut flags = 0u32;
    // SAFETY: the buffer and the address cell live in the `Op`, untouched until the
    // completion, as does `ov`; the WSABUF array and flags are read during the call.
    let r = unsafe {
        ws::WSARecvFrom(
            socket,
            &wsabuf,
            1,
            ptr::null_mut(),
            &mut flags,
            (&raw mut (*addr).storage).cast(),
            &raw mut (*addr).len,
            ov,
            None,
        )
    };
    match pending_ok(r == 0) {
        // Cut to the buffer at once: `STATUS_BUFFER_OVERFLOW` is a warning, not an
        // error, so the completion is still queued (and carries the `Op`'s count).
        Err(e) if is_truncation(&e) => Ok(()),
        started => started,
    }
}

/// Starts an overlapped `WSASendTo` of a copy of `datagram` to `addr` (the `Op`'s
/// address cell, filled just before).
fn send_to(
    socket: ws::SOCKET,
    st: &mut State,
    datagram: &[u8],
    addr: *mut Addr,
    ov: *mut OVERLAPPED,
) -> io::Result<()> {
    st.fill(datagram);
    let wsabuf = st.buffer(datagram.len()); // the pointer is taken after the copy
    // SAFETY: as in `send`: the copy and the address live in the `Op` until the
    // completion.
    let r = unsafe {
        ws::WSASendTo(
            socket,
            &wsabuf,
            1,
            ptr::null_mut(),
            0,
            (&raw const (*addr).storage).cast(),
            (*addr).len,
            ov,
            None,
        )
    };
    pending_ok(r == 0)
}

/// Starts an overlapped `AcceptEx` into `target`, addresses only (no data).
fn accept(
    listener: ws::SOCKET,
    target: ws::SOCKET,
    st: &mut State,
    ov: *mut OVERLAPPED,
) -> io::Result<()> {
    let out = st.buffer(2 * ACCEPT_ADDR_LEN);
    let len = ACCEPT_ADDR_LEN as u32;
    let mut bytes = 0u32;
    // SAFETY: both sockets are open (`target` is kept in the `Op` with the buffer until
    // the completion); the buffer has room for both addresses; `ov` is idle.
    let ok = unsafe {
        ws::AcceptEx(
            listener,
            target,
            out.buf.cast(),
            0,
            len,
            len,
            &mut bytes,
            ov,
        )
    };
    pending_ok(ok != 0)
}

/// The type of `ConnectEx`.
type ConnectEx = unsafe extern "system" fn(
    ws::SOCKET,
    *const ws::SOCKADDR,
    i32,
    *const core::ffi::c_void,
    u32,
    *mut u32,
    *mut OVERLAPPED,
) -> windows_sys::core::BOOL;

/// `ConnectEx` for a socket of `addr`'s family, looked up once per family and process
/// (the pointer belongs to the family's provider).
fn connect_ex(socket: ws::SOCKET, addr: &socket2::SockAddr) -> io::Result<ConnectEx> {
    static BY_FAMILY: [OnceLock<ConnectEx>; 2] = [OnceLock::new(), OnceLock::new()];
    let cell = &BY_FAMILY[usize::from(addr.is_ipv6())];
    if let Some(f) = cell.get() {
        return Ok(*f);
    }
    let f = look_up_connect_ex(socket)?;
    Ok(*cell.get_or_init(|| f))
}

/// Asks the provider of `socket` for its `ConnectEx` (`WSAIoctl`; ws2_32 does not export
/// it).
fn look_up_connect_ex(socket: ws::SOCKET) -> io::Result<ConnectEx> {
    let mut f: ws::LPFN_CONNECTEX = None;
    let mut bytes = 0u32;
    // SAFETY: the GUID and the out pointer are valid for the sizes given; no overlap.
    let r = unsafe {
        ws::WSAIoctl(
            socket,
            ws::SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&ws::WSAID_CONNECTEX as *const windows_sys::core::GUID).cast(),
            mem::size_of::<windows_sys::core::GUID>() as u32,
            (&mut f as *mut ws::LPFN_CONNECTEX).cast(),
            mem::size_of::<ws::LPFN_CONNECTEX>() as u32,
            &mut bytes,
            ptr::null_mut(),
            None,
        )
    };
    if r != 0 {
        return Err(last_wsa_error());
    }
    f.ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "no ConnectEx for this socket"))
}

/// `setsockopt(SOL_SOCKET, name, value)` for the update-context options.
fn set_context<T>(socket: &socket2::Socket, name: i32, value: &T) -> io::Result<()> {
    let len = mem::size_of::<T>() as i32;
    let ptr = if len == 0 {
        ptr::null()
    } else {
        (value as *const T).cast()
    };
    // SAFETY: `value` is valid for `len` bytes (none for `()`), read during the call.
    let r = unsafe {
        ws::setsockopt(
            socket.as_raw_socket() as ws::SOCKET,
            ws::SOL_SOCKET,
            name,
            ptr,
            len,
        )
    };
    if r != 0 {
        return Err(last_wsa_error());
    }
    Ok(())
}

/// The unspecified address of `addr`'s family, port 0: where `ConnectEx` binds.
fn unspecified(addr: &socket2::SockAddr) -> socket2::SockAddr {
    let ip = match addr.is_ipv6() {
        true => Ipv6Addr::UNSPECIFIED.into(),
        false => Ipv4Addr::UNSPECIFIED.into(),
    };
    SocketAddr::new(ip, 0).into()
}

/// An overlapped call's return: started (success or pending) or the error.
fn pending_ok(succeeded: bool) -> io::Result<()> {
    if succeeded {
        return Ok(());
    }
    let e = last_wsa_error();
    match e.raw_os_error() {
        Some(code) if code == ERROR_IO_PENDING as i32 => Ok(()),
        _ => Err(e),
    }
}

fn last_wsa_error() -> io::Error {
    // SAFETY: no preconditions; reads this thread's last Winsock error.
    io::Error::from_raw_os_error(unsafe { ws::WSAGetLastError() })
}

/// The outcome of a step that started an operation: none yet if it did, else its error.
fn failed<T>(started: io::Result<()>) -> Option<Result<T>> {
    started.err().map(|e| Err(e.into()))
}

/// A datagram longer than the buffer (`WSAEMSGSIZE`): the buffer holds its start.
fn is_truncation(e: &io::Error) -> bool {
    e.raw_os_error()
        .is_some_and(crate::sys::is_truncation_error)
}

/// A connection reset or aborted before `AcceptEx` took it: skip to the next one.
fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(ws::WSAECONNRESET | ws::WSAECONNABORTED)
    )
}

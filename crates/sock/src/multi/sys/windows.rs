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
//! - Sockets are associated with one completion key, [`OP_KEY`]; completions with
//!   another key (a handle someone else associated with an adopted port) are not ours
//!   and are left alone.
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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use sock_poll_shared::{Event, Poller};
use windows_sys::Win32::Foundation::{ERROR_IO_PENDING, HANDLE};
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::IO::{CancelIoEx, OVERLAPPED};

use super::Dir;
use crate::error::{Error, Result};

/// The completion key of every socket of a shared loop (below the sentinels' `1 << 62`).
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
}

/// Applies one dequeued completion: records it in its [`Op`] and wakes the waiting task
/// (on this thread: it runs here).
pub(crate) fn dispatch(_table: &Table, event: &Event) {
    if event.key() != OP_KEY {
        return;
    }
    let Some((overlapped, bytes, _status)) = event.completion() else {
        return;
    };
    // SAFETY: completions keyed `OP_KEY` come only from operations `Op::start` began,
    // each with the `OVERLAPPED` of an `Op` whose leaked count it carries; the port
    // delivers each completion once, so the count is taken back once.
    let op = unsafe { Op::from_overlapped(overlapped) };
    op.complete(bytes);
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
    /// Everything else, under one lock that `dispatch` also takes.
    state: Mutex<State>,
}

// SAFETY: the `OVERLAPPED`'s raw pointers are never set (no event handle), and it is
// touched only under `state`'s lock while the kernel does not own it (see `Op`).
unsafe impl Send for Op {}
// SAFETY: as for `Send`: all access to the `UnsafeCell` is serialized by `state`.
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
}

impl Op {
    fn new() -> Arc<Op> {
        Arc::new(Op {
            overlapped: UnsafeCell::new(OVERLAPPED::default()),
            state: Mutex::new(State {
                phase: Phase::Idle,
                waker: None,
                orphan: false,
                bytes: 0,
                buf: Vec::new(),
                pos: 0,
                len: 0,
                accepted: None,
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
}

impl State {
    /// Waits for the completion of the operation in flight.
    fn park<T>(&mut self, cx: &Context<'_>) -> Poll<T> {
        match &self.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            Some(_) => panic!(
                "sock: two tasks wait on the same direction of a SharedTcp at once; \
                 let one task do the reads (or the writes) of a socket"
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

    /// Hands out kept received bytes.
    fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        n
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

/// A socket associated with a shared loop's completion port.
pub(crate) struct SharedIo {
    socket: socket2::Socket,
    /// recv and accept.
    read: Arc<Op>,
    /// send and connect.
    write: Arc<Op>,
    /// Closed: operations fail with `Closed`.
    closed: AtomicBool,
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
        let mut st = self.read.lock();
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            match st.phase {
                Phase::InFlight => return st.park(cx),
                Phase::Done => {
                    st.phase = Phase::Idle;
                    match self.read.result(self.raw()) {
                        Ok(0) => return Poll::Ready(Ok(0)),
                        Ok(n) => (st.pos, st.len) = (0, n as usize),
                        Err(e) => return Poll::Ready(Err(e.into())),
                    }
                }
                Phase::Idle if st.pos < st.len => return Poll::Ready(Ok(st.take_into(buf))),
                Phase::Idle if buf.is_empty() => return Poll::Ready(Ok(0)),
                Phase::Idle => {
                    let want = buf.len().min(MAX_CHUNK);
                    let socket = self.raw();
                    let started = self
                        .read
                        .start(&mut st, |st, ov| recv(socket, st, want, ov));
                    if let Err(e) = started {
                        return Poll::Ready(Err(e.into()));
                    }
                }
            }
        }
    }

    /// Sends a prefix of `buf` with one overlapped `WSASend`; ready once it completed.
    pub(crate) fn poll_send(&self, cx: &Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        let mut st = self.write.lock();
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            match st.phase {
                Phase::InFlight => return st.park(cx),
                Phase::Done => match self.finish_write(&mut st) {
                    Some(Ok(n)) => return Poll::Ready(Ok(n as usize)),
                    Some(Err(e)) => return Poll::Ready(Err(e.into())),
                    None => {}
                },
                Phase::Idle if buf.is_empty() => return Poll::Ready(Ok(0)),
                Phase::Idle => {
                    let socket = self.raw();
                    let chunk = &buf[..buf.len().min(MAX_CHUNK)];
                    let started = self
                        .write
                        .start(&mut st, |st, ov| send(socket, st, chunk, ov));
                    if let Err(e) = started {
                        return Poll::Ready(Err(e.into()));
                    }
                }
            }
        }
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
        let mut st = self.read.lock();
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            match st.phase {
                Phase::InFlight => return st.park(cx),
                Phase::Done => {
                    st.phase = Phase::Idle;
                    let accepted = st.accepted.take();
                    match (self.read.result(self.raw()), accepted) {
                        (Ok(_), Some(conn)) => return Poll::Ready(self.accepted(conn)),
                        (Err(e), _) if is_reset(&e) => {}
                        (Err(e), _) => return Poll::Ready(Err(e.into())),
                        (Ok(_), None) => unreachable!("an AcceptEx completed without its socket"),
                    }
                }
                Phase::Idle => {
                    if let Err(e) = self.start_accept(&mut st) {
                        return Poll::Ready(Err(e.into()));
                    }
                }
            }
        }
    }

    /// Opens the socket to accept into and starts `AcceptEx`.
    fn start_accept(&self, st: &mut State) -> io::Result<()> {
        let domain = self.socket.local_addr()?.domain();
        let conn = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
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
        let mut st = self.write.lock();
        loop {
            if self.is_closed() {
                return Poll::Ready(Err(Error::closed()));
            }
            match st.phase {
                Phase::InFlight => return st.park(cx),
                Phase::Done => match self.finish_write(&mut st) {
                    Some(Ok(_)) => return Poll::Ready(self.connected()),
                    Some(Err(e)) => return Poll::Ready(Err(e.into())),
                    None => {}
                },
                Phase::Idle => {
                    *started = true;
                    if let Err(e) = self.start_connect(&mut st, addr) {
                        return Poll::Ready(Err(e.into()));
                    }
                }
            }
        }
    }

    fn start_connect(&self, st: &mut State, addr: &socket2::SockAddr) -> io::Result<()> {
        if self.socket.local_addr().is_err() {
            self.socket.bind(&unspecified(addr))?;
        }
        let connect_ex = connect_ex(self.raw())?;
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

    pub(crate) fn clear_waiter(&self, dir: Dir) {
        let mut st = self.op(dir).lock();
        let waker = st.waker.take();
        if dir == Dir::Write && st.phase != Phase::Idle {
            st.orphan = true;
        }
        drop(st);
        drop(waker);
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

/// `ConnectEx`, found through `WSAIoctl` (ws2_32 does not export it).
fn connect_ex(socket: ws::SOCKET) -> io::Result<ConnectEx> {
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

/// A connection reset or aborted before `AcceptEx` took it: skip to the next one.
fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(ws::WSAECONNRESET | ws::WSAECONNABORTED)
    )
}

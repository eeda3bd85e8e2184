//! Windows: the poll-level side of a shared socket on the completion port — readiness
//! waits, tries that never park, vectored sends, reads into uninitialized memory.
//!
//! A completion port reports finished operations, not readiness, so each poll-level
//! call is built from the socket's two overlapped slots (`Op`), the operations' own:
//!
//! - **Receives** hand out the bytes (or the datagram) kept in the socket's buffer, else
//!   post one overlapped receive into it and park. A caller that goes away loses
//!   nothing: what completes waits for the next receive. A `try_recv` that finds
//!   nothing posts that receive too and says `WouldBlock`, so what arrives is there for
//!   the next try (or receive).
//! - **`readable`** posts such a receive (at least 4 KiB, or what the buffer already
//!   holds; 64 KiB on a datagram socket, so no datagram is cut) and is ready once it
//!   completed; the bytes wait for the next receive. After the peer's FIN a receive
//!   completes with 0 every time, so the end stays readable.
//! - **Sends are written behind.** A poll-level send copies (a prefix of) its bytes
//!   into the socket's buffer, starts one overlapped send and reports them sent at once,
//!   as a kernel send buffer takes bytes; the next write waits for that send (parking
//!   if it is still in flight), and an error it ended with fails that next write. So
//!   `Pending` always means nothing was taken: an `AsyncWrite` caller may come back
//!   with other bytes. [`poll_flush`](SharedIo::poll_flush) — and `writable` — wait
//!   until the send in flight completed. Closing the socket cancels a send still in
//!   flight (`closesocket`), so flush or shut down before the last handle goes.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::ptr;
use std::task::{Context, Poll};

use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{Addr, Dir, MAX_CHUNK, Op, Phase, SharedIo, State};
use super::{failed, pending_ok, recv, send, send_to};
use crate::error::{Error, Result};
use crate::multi::claim::Claims;

/// The least a `readable` wait posts a stream receive for.
const READ_AHEAD: usize = 4 * 1024;

/// Where a receive puts the kept bytes: initialized or not.
pub(super) trait RecvBuf {
    /// Room.
    fn room(&self) -> usize;
    /// Copies the start of `kept` in; how many bytes.
    fn put(&mut self, kept: &[u8]) -> usize;
}

impl RecvBuf for [u8] {
    fn room(&self) -> usize {
        self.len()
    }

    fn put(&mut self, kept: &[u8]) -> usize {
        let n = kept.len().min(self.len());
        self[..n].copy_from_slice(&kept[..n]);
        n
    }
}

impl RecvBuf for [MaybeUninit<u8>] {
    fn room(&self) -> usize {
        self.len()
    }

    fn put(&mut self, kept: &[u8]) -> usize {
        let n = kept.len().min(self.len());
        for (to, from) in self[..n].iter_mut().zip(kept) {
            to.write(*from);
        }
        n
    }
}

impl SharedIo {
    /// The poll-level calls' waiters.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Ready once a receive (`Dir::Read`) has bytes or the end to hand out, or the send
    /// in flight (`Dir::Write`) completed; parks until then.
    pub(crate) fn poll_ready(&self, dir: Dir, cx: &Context<'_>) -> Poll<Result<()>> {
        match dir {
            Dir::Read => self.drive(&self.read, cx, |st| self.readable_step(st)),
            Dir::Write => self.poll_flush(cx),
        }
    }

    /// Ready once a datagram is kept; parks until one is.
    pub(crate) fn poll_readable_dgram(&self, cx: &Context<'_>) -> Poll<Result<()>> {
        self.drive(&self.read, cx, |st| self.readable_dgram_step(st))
    }

    /// Waits for the send in flight; its error, if it failed.
    pub(crate) fn poll_flush(&self, cx: &Context<'_>) -> Poll<Result<()>> {
        self.drive(&self.write, cx, |st| self.flush_step(st))
    }

    /// Receives into uninitialized memory, as `poll_recv` does.
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        self.drive(&self.read, cx, |st| self.recv_step(st, buf))
    }

    /// Writes a prefix of `buf` (64 KiB at most) behind.
    pub(crate) fn poll_send_level(&self, cx: &Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        let (socket, chunk) = (self.raw(), &buf[..buf.len().min(MAX_CHUNK)]);
        if chunk.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut start = |st: &mut State, ov| send(socket, st, chunk, ov);
        self.drive(&self.write, cx, |st| {
            self.behind_step(st, chunk.len(), &mut start)
        })
    }

    /// Writes the first 64 KiB (at most) of `bufs` behind, gathered into one send.
    pub(crate) fn poll_send_vectored(
        &self,
        cx: &Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        let socket = self.raw();
        let len = bufs.iter().map(|b| b.len()).sum::<usize>().min(MAX_CHUNK);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut start = |st: &mut State, ov| send_gathered(socket, st, bufs, len, ov);
        self.drive(&self.write, cx, |st| self.behind_step(st, len, &mut start))
    }

    /// Writes the datagram `buf` behind, to `to` or the connected peer.
    pub(crate) fn poll_send_to_level(
        &self,
        cx: &Context<'_>,
        buf: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        let mut start = self.datagram_start(buf, to);
        self.drive(&self.write, cx, |st| {
            self.behind_step(st, buf.len(), &mut start)
        })
    }

    /// Kept bytes now, else posts a receive for the next try: `WouldBlock`.
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.try_drive(&self.read, |st| self.recv_step(st, buf))
    }

    /// Writes behind now, unless a send is in flight: `WouldBlock`.
    pub(crate) fn try_send(&self, buf: &[u8]) -> Result<usize> {
        let (socket, chunk) = (self.raw(), &buf[..buf.len().min(MAX_CHUNK)]);
        if chunk.is_empty() {
            return Ok(0);
        }
        let mut start = |st: &mut State, ov| send(socket, st, chunk, ov);
        self.try_drive(&self.write, |st| {
            self.behind_step(st, chunk.len(), &mut start)
        })
    }

    /// A kept datagram and its source now, else posts a receive: `WouldBlock`.
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> Result<(usize, socket2::SockAddr)> {
        self.try_drive(&self.read, |st| self.recv_from_step(st, buf))
    }

    /// Writes the datagram behind now, unless a send is in flight: `WouldBlock`.
    pub(crate) fn try_send_to(&self, buf: &[u8], to: Option<&socket2::SockAddr>) -> Result<usize> {
        let mut start = self.datagram_start(buf, to);
        self.try_drive(&self.write, |st| {
            self.behind_step(st, buf.len(), &mut start)
        })
    }

    /// One step of a receive: a completed receive's outcome (bytes are kept: `None`),
    /// kept bytes into `out`, or a receive posted for `out`'s room (`None`).
    pub(super) fn recv_step<B: RecvBuf + ?Sized>(
        &self,
        st: &mut State,
        out: &mut B,
    ) -> Option<Result<usize>> {
        match st.phase {
            Phase::Done => self.finish_recv(st),
            _ if st.pos < st.len => {
                let n = out.put(&st.buf[st.pos..st.len]);
                st.pos += n;
                Some(Ok(n))
            }
            _ if out.room() == 0 => Some(Ok(0)),
            _ => self.start_recv(st, out.room()),
        }
    }

    /// One step of a datagram receive: a completed receive's datagram is kept (`None`),
    /// a kept one is handed out, or a receive is posted for `buf`'s length (`None`).
    pub(super) fn recv_from_step(
        &self,
        st: &mut State,
        buf: &mut [u8],
    ) -> Option<Result<(usize, socket2::SockAddr)>> {
        let r = if st.phase == Phase::Done {
            self.finish_recv_from(st)
        } else if let Some(d) = st.datagram.take() {
            return Some(st.take_datagram(d, buf).map_err(Error::from));
        } else {
            self.start_recv_from(st, buf.len())
        };
        failed(r)
    }

    /// Takes a completed stream receive's outcome: the end (`Ok(0)`) or an error, or
    /// `None` with its bytes kept.
    fn finish_recv(&self, st: &mut State) -> Option<Result<usize>> {
        st.phase = Phase::Idle;
        match self.read.result(self.raw()) {
            Ok(0) => Some(Ok(0)),
            Ok(n) => {
                (st.pos, st.len) = (0, n as usize);
                None
            }
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Posts one overlapped receive of up to `want` bytes (64 KiB at most).
    fn start_recv(&self, st: &mut State, want: usize) -> Option<Result<usize>> {
        let (socket, want) = (self.raw(), want.min(MAX_CHUNK));
        failed(self.read.start(st, |st, ov| recv(socket, st, want, ov)))
    }

    /// One step of `readable`: ready with kept bytes or the end, else a receive posted.
    fn readable_step(&self, st: &mut State) -> Option<Result<()>> {
        match st.phase {
            Phase::Done => Some(self.finish_recv(st).unwrap_or(Ok(0)).map(drop)),
            _ if st.pos < st.len => Some(Ok(())),
            _ => {
                let want = st.buf.len().max(READ_AHEAD);
                self.start_recv(st, want).map(|r| r.map(drop))
            }
        }
    }

    /// One step of a datagram socket's `readable`: ready with a kept datagram, else a
    /// receive posted into a buffer no datagram overflows.
    fn readable_dgram_step(&self, st: &mut State) -> Option<Result<()>> {
        let r = if st.phase == Phase::Done {
            self.finish_recv_from(st)
        } else if st.datagram.is_some() {
            return Some(Ok(()));
        } else {
            self.start_recv_from(st, MAX_CHUNK)
        };
        failed(r)
    }

    /// One step of a flush: done once no send is in flight (the caller parks while one
    /// is); a written-behind send's error is reported. A completed send an operation
    /// still waits to collect is left to it.
    fn flush_step(&self, st: &mut State) -> Option<Result<()>> {
        if st.phase == Phase::Done && st.orphan {
            if let Some(Err(e)) = self.finish_write(st) {
                return Some(Err(e.into()));
            }
        }
        Some(Ok(()))
    }

    /// One step of a write behind: a completed send's error fails it (its success
    /// frees the slot: `None`); otherwise `start` begins the send, left to the kernel
    /// (orphaned), and its `len` bytes count as sent.
    fn behind_step(
        &self,
        st: &mut State,
        len: usize,
        start: &mut impl FnMut(&mut State, *mut OVERLAPPED) -> io::Result<()>,
    ) -> Option<Result<usize>> {
        if st.phase == Phase::Done {
            return self.finish_write(st)?.err().map(|e| Err(e.into()));
        }
        match self.write.start(st, |st, ov| start(st, ov)) {
            Ok(()) => {
                st.orphan = true;
                Some(Ok(len))
            }
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Starts a datagram send of `buf` to `to` (or the connected peer), as
    /// `poll_send_to` does.
    fn datagram_start<'a>(
        &'a self,
        buf: &'a [u8],
        to: Option<&'a socket2::SockAddr>,
    ) -> impl FnMut(&mut State, *mut OVERLAPPED) -> io::Result<()> + 'a {
        let (socket, op) = (self.raw(), &self.write);
        move |st, ov| match to {
            Some(to) => {
                let addr = op.set_addr(st, Addr::from(to));
                send_to(socket, st, buf, addr, ov)
            }
            None => send(socket, st, buf, ov),
        }
    }

    /// [`drive`](SharedIo::drive) without parking: `WouldBlock` while an operation of
    /// `op` is in flight.
    fn try_drive<T>(
        &self,
        op: &Op,
        mut step: impl FnMut(&mut State) -> Option<Result<T>>,
    ) -> Result<T> {
        let mut st = op.lock();
        loop {
            if self.is_closed() {
                return Err(Error::closed());
            }
            if st.phase == Phase::InFlight {
                return Err(io::Error::from(io::ErrorKind::WouldBlock).into());
            }
            if let Some(r) = step(&mut st) {
                return r;
            }
        }
    }
}

/// Starts an overlapped `WSASend` of the first `len` bytes of `bufs`, gathered into the
/// `Op`'s buffer.
fn send_gathered(
    socket: ws::SOCKET,
    st: &mut State,
    bufs: &[IoSlice<'_>],
    len: usize,
    ov: *mut OVERLAPPED,
) -> io::Result<()> {
    st.grow(len);
    let mut at = 0;
    for b in bufs {
        let n = b.len().min(len - at);
        st.buf[at..at + n].copy_from_slice(&b[..n]);
        at += n;
    }
    let wsabuf = st.buffer(len); // the pointer is taken after the copy
    // SAFETY: the gathered copy lives in the `Op` until the completion, as does `ov`;
    // the WSABUF array is read during the call only.
    let r = unsafe { ws::WSASend(socket, &wsabuf, 1, ptr::null_mut(), 0, ov, None) };
    pending_ok(r == 0)
}

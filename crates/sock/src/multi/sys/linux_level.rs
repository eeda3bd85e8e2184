//! Linux: the poll-level side of a shared socket — readiness waits, tries that never
//! park, vectored sends, reads into uninitialized memory.
//!
//! Every call here is one syscall on the non-blocking socket, as the operations' are,
//! so poll-level sends and receives are the operations' own (`poll_send`, `poll_recv`):
//! nothing is buffered, and a flush has nothing to wait for. Readiness without a
//! transfer is asked of the kernel with `poll(2)` and no timeout — data, EOF, an error
//! or room to write say "ready" — and a "not ready" parks on the direction's event
//! counter like a would-block, so an event between the question and the park is never
//! lost.

use std::io::{self, IoSlice, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use super::{Dir, SharedIo};
use crate::error::Result;
use crate::multi::claim::Claims;

impl SharedIo {
    /// The poll-level calls' waiters.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Ready once a read (or write) of `dir` would not block, else parks until the
    /// next event.
    pub(crate) fn poll_ready(&self, dir: Dir, cx: &Context<'_>) -> Poll<Result<()>> {
        let fd = self.socket.as_raw_fd();
        self.poll_io(dir, cx, |_| ready_now(fd, dir))
    }

    /// [`poll_ready`](SharedIo::poll_ready) of reads, for a datagram socket.
    pub(crate) fn poll_readable_dgram(&self, cx: &Context<'_>) -> Poll<Result<()>> {
        self.poll_ready(Dir::Read, cx)
    }

    /// A poll-level send: the operations' one.
    pub(crate) fn poll_send_level(&self, cx: &Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        self.poll_send(cx, buf)
    }

    /// Sends from several buffers with one `sendmsg`.
    pub(crate) fn poll_send_vectored(
        &self,
        cx: &Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        self.poll_io(Dir::Write, cx, |s| {
            s.send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
        })
    }

    /// A poll-level datagram send: the operations' one.
    pub(crate) fn poll_send_to_level(
        &self,
        cx: &Context<'_>,
        buf: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        self.poll_send_to(cx, buf, to)
    }

    /// Nothing is buffered: ready at once.
    pub(crate) fn poll_flush(&self, _cx: &Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Receives into uninitialized memory (`recv` writes only initialized bytes).
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        self.poll_io(Dir::Read, cx, |s| s.recv(buf))
    }

    /// One receive now: `WouldBlock` when nothing is there.
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.try_once(|mut s| s.read(buf))
    }

    /// One send now: `WouldBlock` when the socket takes nothing.
    pub(crate) fn try_send(&self, buf: &[u8]) -> Result<usize> {
        self.try_once(|s| s.send_with_flags(buf, libc::MSG_NOSIGNAL))
    }

    /// One datagram and its source now (`recvmsg`: a longer one is `MessageTooLong`).
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> Result<(usize, socket2::SockAddr)> {
        self.try_once(|s| crate::dgram::recv_from(&s.into(), buf))
    }

    /// One datagram to `to` (or the connected peer) now.
    pub(crate) fn try_send_to(&self, buf: &[u8], to: Option<&socket2::SockAddr>) -> Result<usize> {
        self.try_once(|s| match to {
            Some(to) => s.send_to_with_flags(buf, to, libc::MSG_NOSIGNAL),
            None => s.send_with_flags(buf, libc::MSG_NOSIGNAL),
        })
    }
}

/// Whether `fd` is ready for `dir` now (`poll(2)`, no wait): `WouldBlock` if not. A
/// hang-up or an error counts as ready: the read or write then reports it.
fn ready_now(fd: RawFd, dir: Dir) -> io::Result<()> {
    let events = match dir {
        Dir::Read => libc::POLLIN,
        Dir::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid, writable `pollfd` for the count of 1; no wait.
    match unsafe { libc::poll(&mut pfd, 1, 0) } {
        -1 => Err(io::Error::last_os_error()),
        0 => Err(io::ErrorKind::WouldBlock.into()),
        _ => Ok(()),
    }
}

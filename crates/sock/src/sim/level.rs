//! The poll-level and `try_` calls of a simulated socket (`Tcp::poll_recv`,
//! `Udp::try_send_to`, `poll_readable`, …): what `pollio.rs` routes here on a
//! simulated loop, and through it the `futures-io`/`tokio-io`/hyper trait impls.
//!
//! The rules are the OS path's: a poll-level call tries once and, on `WouldBlock`,
//! parks the task on the socket's direction (the drive loop wakes it when the world
//! reports the socket's readiness changed; readiness is a hint, the next try decides);
//! a `try_` call tries once and returns `WouldBlock` without parking. Several wakers of
//! one direction are all kept (each is woken), so the latest `AsyncRead` poller is
//! always among them.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use sock_addr::SockAddr;
use sock_poll::Direction;

use super::{SimSocket, unspecified};
use crate::error::{ErrorKind, Result};

/// The most a vectored or uninitialized read copies through a temporary buffer at once.
const CHUNK: usize = 64 * 1024;

impl SimSocket {
    /// One try of a stream receive, without waiting; 0 at EOF, or with nothing queued
    /// after `shutdown(Read)`.
    pub(crate) fn try_recv_stream(&self, buf: &mut [u8]) -> Result<usize> {
        let id = self.tcp_id()?;
        self.world(|w, _| Ok(w.stream_recv(id, buf, false)?))
    }

    /// One try of a stream send, without waiting.
    pub(crate) fn try_send_stream(&self, buf: &[u8]) -> Result<usize> {
        let id = self.tcp_id()?;
        self.world(|w, _| Ok(w.stream_send(id, buf)?))
    }

    /// One try of a receive of either kind (a stream's bytes, or the next datagram).
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        match self.tcp {
            true => self.try_recv_stream(buf),
            false => self.udp_recv_from(buf).map(|(n, _)| n),
        }
    }

    /// One try of a send of either kind (stream bytes, or a datagram to the peer).
    pub(crate) fn try_send(&self, buf: &[u8]) -> Result<usize> {
        match self.tcp {
            true => self.try_send_stream(buf),
            false => self.udp_send(buf),
        }
    }

    /// A poll-level receive of either kind: parks on `WouldBlock`.
    pub(crate) fn poll_recv_level(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize>> {
        self.poll_op(cx, Direction::Read, |s| s.try_recv(buf))
    }

    /// A poll-level send of either kind: parks on `WouldBlock`.
    pub(crate) fn poll_send_level(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        self.poll_op(cx, Direction::Write, |s| s.try_send(buf))
    }

    /// A poll-level stream send of several buffers: the first non-empty one goes (as
    /// `std::io::Write::write_vectored` does by default), so a short send stays honest.
    pub(crate) fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        self.poll_send_level(cx, buf)
    }

    /// A poll-level stream receive into uninitialized memory (tokio's `ReadBuf`): the
    /// bytes go through a temporary buffer of at most [`CHUNK`] bytes.
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        let mut tmp = vec![0u8; buf.len().min(CHUNK)];
        let n = std::task::ready!(self.poll_recv_level(cx, &mut tmp))?;
        for (dst, &src) in buf.iter_mut().zip(&tmp[..n]) {
            dst.write(src);
        }
        Poll::Ready(Ok(n))
    }

    /// A poll-level datagram receive with its source.
    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, SockAddr)>> {
        self.poll_op(cx, Direction::Read, |s| s.udp_recv_from(buf))
    }

    /// A poll-level datagram send to `to`.
    pub(crate) fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: &SockAddr,
    ) -> Poll<Result<usize>> {
        self.poll_op(cx, Direction::Write, |s| s.udp_send_to(buf, to))
    }

    /// Ready when `dir` of the socket may not block (a hint), else parks: a UDP socket
    /// is always writable; a TCP one follows the model's readiness.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<Result<()>> {
        if dir == Direction::Write && !self.tcp {
            return Poll::Ready(Ok(()));
        }
        self.poll_op(cx, dir, |s| {
            let id = match s.id() {
                Some(id) => id,
                // An unbound UDP socket gets an ephemeral port to wait on, as a receive.
                None if !s.tcp => s.udp_id(unspecified(s.family).ip())?,
                None => return Err(ErrorKind::NotConnected.into()),
            };
            let ready = s.world(|w, _| Ok(w.readiness(id)))?;
            match dir {
                Direction::Read if ready.readable => Ok(()),
                Direction::Write if ready.writable => Ok(()),
                _ => Err(ErrorKind::WouldBlock.into()),
            }
        })
    }
}

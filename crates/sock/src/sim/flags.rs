//! Receives with [`RecvFlags`] on a simulated socket (`Tcp::recv_with`,
//! `Udp::recv_with`/`recv_from_with`), as far as the model goes: `PEEK` copies without
//! taking, `TRUNC` discards a stream's bytes or gives a datagram's real length, and
//! `WAITALL` is `recv_with.rs`'s own loop over these tries. The model has no urgent
//! data, so `OOB` always finds none (`InvalidInput`, as the OS says then). Which flags
//! go together was checked before (`recv_flags.rs`), as on the OS path.

use std::task::{Context, Poll};

use sock_addr::SockAddr;
use sock_poll::Direction;

use super::{SimSocket, State, unspecified};
use crate::error::{Error, ErrorKind, Result};
use crate::recv_flags::RecvFlags;

impl SimSocket {
    /// One poll of a stream receive with `flags` (`PEEK`, `TRUNC`): parks on
    /// `WouldBlock`; 0 at EOF, or with nothing queued after `shutdown(Read)`.
    pub(crate) fn poll_recv_flags(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        flags: RecvFlags,
    ) -> Poll<Result<usize>> {
        let (peek, trunc) = (
            flags.contains(RecvFlags::PEEK),
            flags.contains(RecvFlags::TRUNC),
        );
        self.poll_op(cx, Direction::Read, |s| s.try_recv_flags(buf, peek, trunc))
    }

    /// One try of a stream receive: a peek leaves the bytes queued; with `trunc` they
    /// are counted and not copied.
    fn try_recv_flags(&self, buf: &mut [u8], peek: bool, trunc: bool) -> Result<usize> {
        let id = self.tcp_id()?;
        let mut scratch = Vec::new();
        let into = match trunc {
            true => {
                scratch.resize(buf.len(), 0);
                &mut scratch[..]
            }
            false => buf,
        };
        self.world(|w, _| Ok(w.stream_recv(id, into, peek)?))
    }

    /// One poll of a datagram receive with `flags` (`PEEK`, `TRUNC`), with its source.
    pub(crate) fn poll_recv_from_flags(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        flags: RecvFlags,
    ) -> Poll<Result<(usize, SockAddr)>> {
        let (peek, trunc) = (
            flags.contains(RecvFlags::PEEK),
            flags.contains(RecvFlags::TRUNC),
        );
        self.poll_op(cx, Direction::Read, |s| {
            s.try_recv_from_flags(buf, peek, trunc)
        })
    }

    /// One try of a datagram receive: the next datagram from the peer (others, when
    /// connected, are dropped), copied and taken (left with `peek`). A datagram longer
    /// than `buf` is `MessageTooLong` with `buf.len()` bytes transferred, or with
    /// `trunc` its real length.
    pub(super) fn try_recv_from_flags(
        &self,
        buf: &mut [u8],
        peek: bool,
        trunc: bool,
    ) -> Result<(usize, SockAddr)> {
        if self.is_unix() {
            return self.unix_recv_from(buf, peek, trunc);
        }
        let state = *self.state.borrow();
        let (id, peer) = match state {
            State::Udp(id, peer) => (id, peer),
            _ => (self.udp_id(unspecified(self.family).ip())?, None),
        };
        loop {
            let (n, len, from) = self.world(|w, _| Ok(w.udp_peek_from(id, buf)?))?;
            let foreign = peer.is_some_and(|p| p != from);
            if foreign || !peek {
                // Taken: the bytes are in `buf` already, and a truncation is reported
                // below.
                self.world(|w, _| {
                    let _ = w.udp_recv_from(id, &mut []);
                    Ok(())
                })?;
            }
            if foreign {
                continue;
            }
            return match (n < len, trunc) {
                (_, true) => Ok((len, SockAddr::from(from))),
                (false, false) => Ok((n, SockAddr::from(from))),
                (true, false) => {
                    Err(Error::from(ErrorKind::MessageTooLong).with_transferred(buf.len()))
                }
            };
        }
    }
}

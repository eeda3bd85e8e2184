//! The loop mode's receives with [`RecvFlags`]: `Tcp::recv_with` ([`StreamRecv`]) and
//! `Udp::recv_with`/`recvnext_with` ([`DgramRecv`]), the same kind of [`Op`] as a
//! plain `recv`, and the syscall the shared mode's Linux backend uses too.
//!
//! How each flag treats readiness is in `recv_flags.rs`; here it comes down to which
//! `Core` call a try goes through: a peek through `poll_io` (a result never clears the
//! readiness), an urgent byte through `try_now` (no readiness at all), everything else
//! through `poll_stream` like a plain read.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use sock_poll::Direction;

use crate::error::{Error, ErrorKind, Result};
use crate::op::Op;
use crate::recv_flags::RecvFlags;
use crate::socket::{Core, Waiter};
use crate::transfer;

/// `buf` as the uninitialized bytes socket2's receives take.
#[inline] // a cast, on every datagram receive's path
pub(crate) fn uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and a socket only writes
    // initialized bytes into the buffer, so it stays a valid `[u8]`.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// One `recv` with the OS's `MSG_*` flags.
pub(crate) fn recv_into(s: &socket2::SockRef<'_>, buf: &mut [u8], os: i32) -> io::Result<usize> {
    s.recv_with_flags(uninit(buf), os)
}

/// The error of an urgent-byte receive, saying what it means.
pub(crate) fn oob_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::InvalidInput => {
            e.with_message("no urgent byte is pending (or so_oobinline is on)")
        }
        ErrorKind::WouldBlock => e.with_message("the urgent byte is announced, not here yet"),
        _ => e,
    }
}

/// The OS flags of `flags`, or 0 and why they cannot be used (for the first poll).
fn checked(flags: Result<i32>) -> (i32, Option<Error>) {
    match flags {
        Ok(os) => (os, None),
        Err(e) => (0, Some(e)),
    }
}

/// `recv_with` on a stream: one read with the flags, or (`WAITALL`) reads until `buf`
/// is full or the peer closed.
pub(crate) struct StreamRecv<'a> {
    waiter: Waiter<'a>,
    buf: &'a mut [u8],
    flags: RecvFlags,
    /// The OS's `MSG_*` bits.
    os: i32,
    /// Why the flags do not go together: the first poll's result.
    invalid: Option<Error>,
    /// Bytes of `buf` filled so far (`WAITALL`).
    got: usize,
}

impl<'a> StreamRecv<'a> {
    pub(crate) fn new(core: &'a Core, buf: &'a mut [u8], flags: RecvFlags) -> StreamRecv<'a> {
        let (os, invalid) = checked(flags.for_stream());
        StreamRecv {
            waiter: Waiter::new(core, Direction::Read),
            buf,
            flags,
            os,
            invalid,
            got: 0,
        }
    }

    /// One try of the receive into `rest`, parking on would-block.
    fn poll_once(
        waiter: &mut Waiter<'_>,
        peek: bool,
        os: i32,
        cx: &mut Context<'_>,
        rest: &mut [u8],
    ) -> Poll<Result<usize>> {
        let len = rest.len();
        let recv = |s: socket2::SockRef<'_>| recv_into(&s, rest, os);
        if peek {
            return waiter
                .core
                .poll_io(Direction::Read, cx, &mut waiter.wait, recv);
        }
        (waiter.core).poll_stream(Direction::Read, cx, &mut waiter.wait, len, recv)
    }

    /// The urgent byte, now or never: no readiness is read or changed.
    fn urgent_byte(&mut self) -> Result<usize> {
        #[cfg(feature = "sim")]
        if self.waiter.core.sim_open().is_some() {
            return Err(oob_error(ErrorKind::InvalidInput.into())); // no urgent data there
        }
        let (buf, os) = (&mut *self.buf, self.os);
        let r = self.waiter.core.try_now(|s| recv_into(&s, buf, os));
        r.map_err(|e| oob_error(e.into()))
    }
}

impl Future for StreamRecv<'_> {
    type Output = Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = &mut *self;
        if let Some(e) = this.invalid.take() {
            return Poll::Ready(Err(e));
        }
        if this.flags.contains(RecvFlags::OOB) {
            return Poll::Ready(this.urgent_byte());
        }
        let (peek, waitall) = (
            this.flags.contains(RecvFlags::PEEK),
            this.flags.contains(RecvFlags::WAITALL),
        );
        #[cfg(feature = "sim")]
        if let Some(sim) = this.waiter.core.sim_open() {
            let flags = this.flags;
            return transfer::poll_receive(cx, this.buf, &mut this.got, waitall, |cx, rest| {
                sim.poll_recv_flags(cx, rest, flags)
            });
        }
        let (waiter, os) = (&mut this.waiter, this.os);
        transfer::poll_receive(cx, this.buf, &mut this.got, waitall, |cx, rest| {
            Self::poll_once(waiter, peek, os, cx, rest)
        })
    }
}

impl Op for StreamRecv<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "recv"
    }

    fn transferred(&self) -> usize {
        self.got
    }
}

/// `recv_with`/`recvnext_with` on a datagram socket: one datagram (or a peek at one)
/// and its source.
pub(crate) struct DgramRecv<'a> {
    waiter: Waiter<'a>,
    buf: &'a mut [u8],
    /// The OS's `MSG_*` bits.
    os: i32,
    /// Why the flags are not for datagrams: the first poll's result.
    invalid: Option<Error>,
    /// `"recv"` or `"recvnext"`.
    name: &'static str,
    /// The flags, for a simulated socket (`sim/flags.rs`).
    #[cfg(feature = "sim")]
    flags: RecvFlags,
}

impl<'a> DgramRecv<'a> {
    pub(crate) fn new(
        core: &'a Core,
        buf: &'a mut [u8],
        flags: RecvFlags,
        name: &'static str,
    ) -> DgramRecv<'a> {
        let (os, invalid) = checked(flags.for_datagram());
        DgramRecv {
            waiter: Waiter::new(core, Direction::Read),
            buf,
            os,
            invalid,
            name,
            #[cfg(feature = "sim")]
            flags,
        }
    }
}

impl Future for DgramRecv<'_> {
    type Output = Result<(usize, socket2::SockAddr)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(e) = this.invalid.take() {
            return Poll::Ready(Err(e));
        }
        #[cfg(feature = "sim")]
        if let Some(sim) = this.waiter.core.sim_open() {
            let r = std::task::ready!(sim.poll_recv_from_flags(cx, this.buf, this.flags));
            return Poll::Ready(r.and_then(|(n, from)| Ok((n, crate::socket::to_socket2(&from)?))));
        }
        let (buf, os) = (&mut *this.buf, this.os);
        let recv = |s: socket2::SockRef<'_>| crate::dgram::recv_from_flags(&s, buf, os);
        this.waiter
            .core
            .poll_io(Direction::Read, cx, &mut this.waiter.wait, recv)
    }
}

impl Op for DgramRecv<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        self.name
    }
}

/// A datagram receive's length alone (`recv_with`).
pub(crate) struct Len<O>(pub(crate) O);

impl<O> Future for Len<O>
where
    O: Future<Output = Result<(usize, socket2::SockAddr)>> + Unpin,
{
    type Output = Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        Pin::new(&mut self.0).poll(cx).map_ok(|(n, _)| n)
    }
}

impl<O> Op for Len<O>
where
    O: Future<Output = Result<(usize, socket2::SockAddr)>> + Op + Unpin,
{
    type Timer = O::Timer;

    fn name(&self) -> &'static str {
        self.0.name()
    }
}

//! Poll-level I/O: `poll_recv`/`poll_send` (and the datagram `_from`/`_to` forms),
//! `try_recv`/`try_send`, readiness waits, and a stream's read and write halves — the
//! calls the ecosystem's I/O traits are built on, with the same readiness rules as the
//! operations (registered once, edge-triggered, a would-block result parks, a short
//! stream read clears readiness only where that proves a drain) and no allocation.
//!
//! A poll-level call keeps no future, so its claim on a direction's waiter is the
//! socket's own: the latest caller's waker replaces an earlier one, as `AsyncRead`
//! users expect. An operation future of another task waiting on the same direction
//! still panics, as two waiters would.

use std::io::{self, IoSlice, Read};
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use sock_addr::SockAddr;
use sock_poll::Direction;

use crate::dgram::{Udp, recv_from};
use crate::error::Result;
use crate::op::Op;
use crate::socket::{from_socket2, to_socket2};
use crate::sys;
use crate::tcp::Tcp;

/// Returns `$sim_call` from the enclosing function when `$core` is an open simulated
/// socket (`sim/level.rs`); nothing without the `sim` feature.
macro_rules! sim_level {
    ($core:expr, |$sim:ident| $sim_call:expr) => {
        #[cfg(feature = "sim")]
        if let Some($sim) = $core.sim_open() {
            return $sim_call;
        }
    };
}

impl Tcp {
    /// Receives at most `buf.len()` bytes, or registers `cx` to be woken when data (or
    /// EOF) may be there; `Ready(Ok(0))` means the peer closed its side.
    ///
    /// # Errors
    ///
    /// As [`recv`](Tcp::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// sock::run(async {
    ///     let (a, b) = sock_pair().await?;
    ///     a.send(b"hi").await?;
    ///     let mut buf = [0u8; 8];
    ///     let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # async fn sock_pair() -> sock::Result<(sock::Tcp, sock::Tcp)> {
    /// #     let l = sock::tcp(sock::Family::INET)?;
    /// #     l.listen("127.0.0.1", 0)?;
    /// #     let c = sock::tcp(sock::Family::INET)?;
    /// #     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    /// #     Ok((c, l.accept().await?))
    /// # }
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_recv_level(cx, buf));
        let (core, len) = (self.core(), buf.len());
        let drains = core.short_is_drain(Direction::Read);
        let read = |s: socket2::SockRef<'_>| (&*s).read(buf);
        core.poll_level(Direction::Read, cx, read, |&n| drains && n > 0 && n < len)
    }

    /// Sends some of `buf` (at least one byte unless `buf` is empty), or registers `cx`
    /// to be woken when the socket may take more; returns how many bytes went.
    ///
    /// # Errors
    ///
    /// As [`send`](Tcp::send).
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](Tcp::poll_recv); `poll_fn(|cx| a.poll_send(cx, b"hi"))` sends.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_send_level(cx, buf));
        let (core, len) = (self.core(), buf.len());
        let drains = core.short_is_drain(Direction::Write);
        let send = |s: socket2::SockRef<'_>| s.send_with_flags(buf, sys::SEND_FLAGS);
        core.poll_level(Direction::Write, cx, send, |&n| drains && n < len)
    }

    /// [`poll_send`](Tcp::poll_send) from several buffers with one `writev`/`sendmsg`.
    ///
    /// # Errors
    ///
    /// As [`send`](Tcp::send).
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](Tcp::poll_recv).
    pub fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_send_vectored(cx, bufs));
        let core = self.core();
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        let drains = core.short_is_drain(Direction::Write);
        let send = |s: socket2::SockRef<'_>| s.send_vectored_with_flags(bufs, sys::SEND_FLAGS);
        core.poll_level(Direction::Write, cx, send, |&n| drains && n < len)
    }

    /// Ready when a read may not block (a hint: the next read may still say "would
    /// block", and then parks), else registers `cx`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
    ///
    /// # Examples
    ///
    /// See [`readable`](Tcp::readable), its future form.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.core().poll_hint_level(Direction::Read, cx)
    }

    /// Ready when a write may not block (a hint, as for
    /// [`poll_readable`](Tcp::poll_readable)), else registers `cx`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
    ///
    /// # Examples
    ///
    /// See [`writable`](Tcp::writable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.core().poll_hint_level(Direction::Write, cx)
    }

    /// Waits until a write may not block (a hint: a send may still park).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed), `Timeout` with a deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let l = sock::tcp(sock::Family::INET)?;
    ///     l.listen("127.0.0.1", 0)?;
    ///     let c = sock::tcp(sock::Family::INET)?;
    ///     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    ///     c.writable().await?;
    ///     assert_eq!(c.try_send(b"x")?, 1);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn writable(&self) -> impl Op<Output = Result<()>> + '_ {
        crate::op::PollOp(move |cx: &mut Context<'_>| self.poll_writable(cx))
    }

    /// Receives what is there now without waiting: [`ErrorKind::WouldBlock`] when
    /// nothing is (no syscall if the socket is known not ready).
    ///
    /// [`ErrorKind::WouldBlock`]: crate::ErrorKind::WouldBlock
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](Tcp::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let l = sock::tcp(sock::Family::INET)?;
    ///     l.listen("127.0.0.1", 0)?;
    ///     let c = sock::tcp(sock::Family::INET)?;
    ///     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    ///     let mut buf = [0u8; 4];
    ///     let e = c.try_recv(&mut buf).unwrap_err();
    ///     assert_eq!(e.kind(), sock::ErrorKind::WouldBlock);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[inline]
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        // A simulated socket takes `try_plain`'s slow path (it has no OS socket).
        self.core().try_recv_plain(buf)
    }

    /// Sends what the socket takes now without waiting: `WouldBlock` when it takes
    /// nothing.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](Tcp::send).
    ///
    /// # Examples
    ///
    /// See [`writable`](Tcp::writable).
    pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
        // A simulated socket takes `try_plain`'s slow path (it has no OS socket).
        self.core().try_send_plain(buf)
    }
}

impl Udp {
    /// Receives one datagram from the connected address (or any, if unconnected), or
    /// registers `cx`.
    ///
    /// # Errors
    ///
    /// As [`recv`](Udp::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     let to = a.local_addr()?;
    ///     poll_fn(|cx| b.poll_send_to(cx, b"hi", &to)).await?;
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!((&buf[..n], from.port()), (&b"hi"[..], b.local_addr()?.port()));
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_recv_level(cx, buf));
        let recv = |s: socket2::SockRef<'_>| crate::dgram::recv(&s, buf);
        self.core().poll_level(Direction::Read, cx, recv, |_| false)
    }

    /// Receives one datagram and its source, or registers `cx`.
    ///
    /// # Errors
    ///
    /// As [`recvnext`](Udp::recv_from).
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](Udp::poll_recv).
    #[doc(alias = "poll_recvnext")]
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, SockAddr)>> {
        sim_level!(self.core(), |sim| sim.poll_recv_from(cx, buf));
        let recv = |s: socket2::SockRef<'_>| recv_from(&s, buf);
        let r = self.core().poll_level(Direction::Read, cx, recv, |_| false);
        r.map(|r| r.and_then(|(n, from)| Ok((n, from_socket2(&from)?))))
    }

    /// Sends one datagram to the connected address, or registers `cx`.
    ///
    /// # Errors
    ///
    /// As [`send`](Udp::send).
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](Udp::poll_recv).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_send_level(cx, buf));
        let send = |s: socket2::SockRef<'_>| s.send_with_flags(buf, sys::SEND_FLAGS);
        self.core()
            .poll_level(Direction::Write, cx, send, |_| false)
    }

    /// Sends one datagram to `to`, or registers `cx`. (An unconnected unix datagram
    /// socket to a full receiver is reported writable by the kernel whatever it holds:
    /// use [`sendto_addr`](Udp::send_to), which waits on a timer there.)
    ///
    /// # Errors
    ///
    /// As [`sendto`](Udp::send_to).
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](Udp::poll_recv).
    #[doc(alias = "poll_sendto")]
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: &SockAddr,
    ) -> Poll<Result<usize>> {
        sim_level!(self.core(), |sim| sim.poll_send_to(cx, buf, to));
        let to = match to_socket2(to) {
            Ok(to) => to,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let send = |s: socket2::SockRef<'_>| s.send_to_with_flags(buf, &to, sys::SEND_FLAGS);
        self.core()
            .poll_level(Direction::Write, cx, send, |_| false)
    }

    /// Receives a datagram that is there now, without waiting.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WouldBlock`](crate::ErrorKind::WouldBlock), or as
    /// [`recv`](Udp::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let u = sock::udp(sock::Family::INET)?;
    /// u.bind("127.0.0.1", 0)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(u.try_recv(&mut buf).unwrap_err().kind(), sock::ErrorKind::WouldBlock);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        sim_level!(self.core(), |sim| sim.try_recv(buf));
        let recv = |s: socket2::SockRef<'_>| crate::dgram::recv(&s, buf);
        self.core().try_io(Direction::Read, recv)
    }

    /// Sends a datagram to the connected address now, without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](Udp::send).
    ///
    /// # Examples
    ///
    /// ```
    /// let u = sock::udp(sock::Family::INET)?;
    /// u.connect_to(&"127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap())?;
    /// assert_eq!(u.try_send(b"x")?, 1);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
        sim_level!(self.core(), |sim| sim.try_send(buf));
        let send = |s: socket2::SockRef<'_>| s.send_with_flags(buf, sys::SEND_FLAGS);
        self.core().try_io(Direction::Write, send)
    }
}

/// Reads into uninitialized spare capacity (for `tokio::io::ReadBuf`).
#[cfg_attr(not(any(feature = "tokio-io", feature = "hyper")), allow(dead_code))]
pub(crate) fn poll_recv_uninit(
    tcp: &Tcp,
    cx: &mut Context<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<Result<usize>> {
    sim_level!(tcp.core(), |sim| sim.poll_recv_uninit(cx, buf));
    let (core, len) = (tcp.core(), buf.len());
    let drains = core.short_is_drain(Direction::Read);
    let recv = |s: socket2::SockRef<'_>| s.recv(buf);
    core.poll_level(Direction::Read, cx, recv, |&n| drains && n > 0 && n < len)
}

/// What the I/O trait impls (`compat.rs`, `hyper.rs`) call on a stream of either mode
/// ([`Tcp`], `SharedTcp`) beside its inherent `poll_recv`/`poll_send`/`poll_send_vectored`.
#[cfg_attr(
    not(any(feature = "futures-io", feature = "tokio-io", feature = "hyper")),
    allow(dead_code)
)]
pub(crate) trait LevelStream {
    /// Reads into uninitialized spare capacity (tokio's `ReadBuf`, hyper's cursor).
    fn level_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>>;

    /// Ready once what the sends took is with the kernel.
    fn level_flush(&self, cx: &mut Context<'_>) -> Poll<Result<()>>;

    /// Flushes, then shuts the writing direction down.
    fn level_close(&self, cx: &mut Context<'_>) -> Poll<Result<()>>;
}

/// A loop-mode stream's sends are syscalls: nothing to flush.
impl LevelStream for Tcp {
    fn level_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        poll_recv_uninit(self, cx, buf)
    }

    fn level_flush(&self, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn level_close(&self, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(self.shutdown(crate::tcp::Shutdown::Write))
    }
}

/// `io::Error` from a sock error, for the I/O traits.
#[cfg_attr(
    not(any(feature = "futures-io", feature = "tokio-io", feature = "hyper")),
    allow(dead_code)
)]
pub(crate) fn to_io<T>(r: Poll<Result<T>>) -> Poll<io::Result<T>> {
    r.map(|r| r.map_err(io::Error::from))
}

/// [`to_io`] for the I/O traits' shutdown (`poll_close`, `poll_shutdown`): a stream the
/// peer already reset is not connected any more, and its writing side is as shut as it
/// will get — success, as tokio's `TcpStream` reports it (so a server whose client
/// reset logs no error for the goodbye). `Tcp::shutdown` itself still says
/// `NotConnected`.
#[cfg_attr(
    not(any(feature = "futures-io", feature = "tokio-io", feature = "hyper")),
    allow(dead_code)
)]
pub(crate) fn to_io_shutdown(r: Poll<Result<()>>) -> Poll<io::Result<()>> {
    match r {
        Poll::Ready(Err(e)) if e.kind() == crate::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => to_io(r),
    }
}

//! Poll-level I/O on a [`SharedUdp`]: `poll_recv`/`poll_recv_from`,
//! `poll_send`/`poll_send_to`, `poll_readable`/`poll_writable` and their operation
//! forms `readable`/`writable`, and the `try_` calls — as the loop mode's datagram
//! calls (`pollio.rs`) and with the same rules as [`SharedTcp`](super::SharedTcp)'s
//! (`spoll.rs`): one datagram per call, a would-block always parks, the latest
//! poll-level caller's waker replaces an earlier one, no allocation per call.
//!
//! On Windows a received datagram waits whole in the socket's buffer until a receive
//! takes it (a `try_recv` that finds none posts a receive, so the next try finds what
//! arrived), and a poll-level send is written behind: the datagram is copied there,
//! counted sent at once, and the next send waits for its overlapped send (whose error
//! it reports). `poll_writable` waits for that send.

use std::task::{Context, Poll};

use sock_addr::SockAddr;
use sock_sched::mt;

use super::io::IoWait;
use super::sudp::SharedUdp;
use super::sys::Dir;
use crate::error::Result;
use crate::op::Op;
use crate::socket::{source_from_socket2, to_socket2};

impl SharedUdp {
    /// Receives one datagram (from the default peer, if one is set), or registers `cx`
    /// to be woken when one may be there.
    ///
    /// # Errors
    ///
    /// As [`recv`](SharedUdp::recv).
    ///
    /// # Panics
    ///
    /// When it would park while another task's operation waits to receive on the
    /// socket, or off a worker of the socket's [`SharedLoop`](crate::shared::SharedLoop).
    ///
    /// # Examples
    ///
    /// See [`poll_recv_from`](SharedUdp::poll_recv_from).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.udp().poll_recv(cx, buf));
        let io = self.io();
        io.claims().poll(io, Dir::Read, cx, |io, cx| {
            io.poll_recv_from(cx, buf).map_ok(|(n, _)| n)
        })
    }

    /// Receives one datagram and its source, or registers `cx`.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](SharedUdp::recv_from).
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](SharedUdp::poll_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// use std::future::poll_fn;
    ///
    /// use sock::Family;
    /// use sock::shared::{SharedLoop, SharedUdp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let (got, same) = lp.run(async {
    ///     let a = SharedUdp::new(Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = SharedUdp::new(Family::INET)?;
    ///     b.bind("127.0.0.1", 0)?;
    ///     let to = a.local_addr()?;
    ///     poll_fn(|cx| b.poll_send_to(cx, b"hi", &to)).await?;
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     Ok::<_, sock::Error>((buf[..n].to_vec(), from == b.local_addr()?))
    /// })?;
    /// assert_eq!((got, same), (b"hi".to_vec(), true));
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "poll_recvnext")]
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, SockAddr)>> {
        sim_first!(self, |sim| sim.udp().poll_recv_from(cx, buf));
        let io = self.io();
        let r = io
            .claims()
            .poll(io, Dir::Read, cx, |io, cx| io.poll_recv_from(cx, buf));
        r.map(|r| r.and_then(|(n, from)| Ok((n, source_from_socket2(&from)?))))
    }

    /// Sends one datagram to the default peer, or registers `cx`.
    ///
    /// # Errors
    ///
    /// As [`send`](SharedUdp::send); on Windows also the error the previous send ended
    /// with.
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](SharedUdp::poll_recv), for sending.
    ///
    /// # Examples
    ///
    /// See [`try_send`](SharedUdp::try_send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.udp().poll_send(cx, buf));
        let io = self.io();
        io.claims().poll(io, Dir::Write, cx, |io, cx| {
            io.poll_send_to_level(cx, buf, None)
        })
    }

    /// Sends one datagram to `to`, or registers `cx`. (An unconnected unix datagram
    /// socket to a full receiver is reported writable by the kernel whatever it holds:
    /// use [`send_to`](SharedUdp::send_to), which waits on a timer there.)
    ///
    /// # Errors
    ///
    /// As [`send_to`](SharedUdp::send_to); on Windows also the error the previous send
    /// ended with.
    ///
    /// # Panics
    ///
    /// As [`poll_send`](SharedUdp::poll_send).
    ///
    /// # Examples
    ///
    /// See [`poll_recv_from`](SharedUdp::poll_recv_from).
    #[doc(alias = "poll_sendto")]
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: &SockAddr,
    ) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.udp().poll_send_to(cx, buf, to));
        let to = match to_socket2(to) {
            Ok(to) => to,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let io = self.io();
        io.claims().poll(io, Dir::Write, cx, |io, cx| {
            io.poll_send_to_level(cx, buf, Some(&to))
        })
    }

    /// Ready when a datagram may be there (Linux: `poll(2)` says so; Windows: a
    /// receive posted into the socket's buffer completed, and the datagram waits there
    /// for the next receive), else registers `cx`. A hint: a receive may still park.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed); on Windows the error the posted
    /// receive ended with.
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](SharedUdp::poll_recv).
    ///
    /// # Examples
    ///
    /// See [`readable`](SharedUdp::readable), its operation form.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        sim_first!(self, |sim| sim.poll_ready(cx, Dir::Read));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Read, cx, |io, cx| io.poll_readable_dgram(cx))
    }

    /// Ready when a send may not block (Linux: `poll(2)` says so; Windows: no send is
    /// in flight, and the error of the last one if it failed), else registers `cx`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed); on Windows the error the last
    /// send ended with.
    ///
    /// # Panics
    ///
    /// As [`poll_send`](SharedUdp::poll_send).
    ///
    /// # Examples
    ///
    /// See [`writable`](SharedUdp::writable), its operation form.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        sim_first!(self, |sim| sim.poll_ready(cx, Dir::Write));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Write, cx, |io, cx| io.poll_ready(Dir::Write, cx))
    }

    /// Waits until a datagram may be there (see
    /// [`poll_readable`](SharedUdp::poll_readable)). An operation: it takes a deadline
    /// and forgets its waiter when dropped.
    ///
    /// # Errors
    ///
    /// As [`poll_readable`](SharedUdp::poll_readable); a timeout with a deadline.
    ///
    /// # Panics
    ///
    /// When another task waits to receive on the socket at the same time.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// use std::time::Duration;
    ///
    /// use sock::{Expires, Family};
    /// use sock::shared::{SharedLoop, SharedUdp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let n = lp.run(async {
    ///     let a = SharedUdp::new(Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     SharedUdp::new(Family::INET)?.send_to(b"ping", &a.local_addr()?).await?;
    ///     a.readable().timeout(Duration::from_secs(5)).await?;
    ///     let mut buf = [0u8; 8];
    ///     a.try_recv(&mut buf)
    /// })?;
    /// assert_eq!(n, 4);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn readable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
        crate::op::sim_or!(
            self,
            |sim| sim.ready("readable", Dir::Read),
            IoWait::new(self.io(), Dir::Read, "readable", |io, cx| {
                io.poll_readable_dgram(cx)
            })
        )
    }

    /// Waits until a send may not block (see
    /// [`poll_writable`](SharedUdp::poll_writable)). An operation, as
    /// [`readable`](SharedUdp::readable).
    ///
    /// # Errors
    ///
    /// As [`poll_writable`](SharedUdp::poll_writable); a timeout with a deadline.
    ///
    /// # Panics
    ///
    /// When another task waits to send on the socket at the same time.
    ///
    /// # Examples
    ///
    /// See [`try_send`](SharedUdp::try_send).
    pub fn writable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
        crate::op::sim_or!(
            self,
            |sim| sim.ready("writable", Dir::Write),
            IoWait::new(self.io(), Dir::Write, "writable", |io, cx| {
                io.poll_ready(Dir::Write, cx)
            })
        )
    }

    /// Receives a datagram that is there now, without waiting:
    /// [`ErrorKind::WouldBlock`](crate::ErrorKind::WouldBlock) when none is. Never
    /// parks. On Windows a try that finds none posts a receive: what arrives waits for
    /// the next try (or receive).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](SharedUdp::recv).
    ///
    /// # Examples
    ///
    /// See [`readable`](SharedUdp::readable).
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        sim_first!(self, |sim| sim.udp().try_recv(buf));
        self.io().try_recv_from(buf).map(|(n, _)| n)
    }

    /// Receives a datagram and its source now, without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv_from`](SharedUdp::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let u = lp.udp(sock::Family::INET)?;
    /// u.bind("127.0.0.1", 0)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(u.try_recv_from(&mut buf).unwrap_err().kind(), sock::ErrorKind::WouldBlock);
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "try_recvnext")]
    pub fn try_recv_from(&self, buf: &mut [u8]) -> Result<(usize, SockAddr)> {
        sim_first!(self, |sim| sim.try_recv_from(buf));
        let (n, from) = self.io().try_recv_from(buf)?;
        Ok((n, source_from_socket2(&from)?))
    }

    /// Sends a datagram to the default peer now, without waiting: `WouldBlock` when
    /// the socket takes none (on Windows: while the previous send is in flight).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](SharedUdp::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let n = lp.run(async {
    ///     let u = sock::shared::SharedUdp::new(sock::Family::INET)?;
    ///     u.connect_to(&"127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap())?;
    ///     u.writable().await?;
    ///     u.try_send(b"x")
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
        sim_first!(self, |sim| sim.udp().try_send(buf));
        self.io().try_send_to(buf, None)
    }

    /// Sends a datagram to `to` now, without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send_to`](SharedUdp::send_to).
    ///
    /// # Examples
    ///
    /// See [`try_send`](SharedUdp::try_send); `u.try_send_to(b"x", &addr)` sends to
    /// `addr`.
    #[doc(alias = "try_sendto")]
    pub fn try_send_to(&self, buf: &[u8], to: &SockAddr) -> Result<usize> {
        sim_first!(self, |sim| sim.try_send_to(buf, to));
        self.io().try_send_to(buf, Some(&to_socket2(to)?))
    }
}

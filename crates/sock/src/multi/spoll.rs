//! Poll-level I/O on a [`SharedTcp`]: `poll_recv`/`poll_send`/`poll_send_vectored`,
//! `poll_readable`/`poll_writable` and their operation forms `readable`/`writable`,
//! `try_recv`/`try_send` — the calls the ecosystem's I/O traits are built on, as the
//! loop mode's (`pollio.rs`), with the operations' readiness rules (a would-block always
//! parks; one waiter per direction) and no allocation per call.
//!
//! A poll-level call keeps no future, so its claim on a direction's waiter is the
//! socket's own, shared by its clones and halves: the latest caller's waker replaces
//! an earlier one, as `AsyncRead` users expect. An operation future of another task
//! waiting on the same direction still panics, as two waiters would (see `claim.rs`).
//!
//! On Windows the socket's reads and writes are overlapped operations on the completion
//! port, so the poll-level calls go through the socket's own buffer (one per
//! direction, grown to 64 KiB at most and kept): a receive hands out bytes a completed
//! receive left there, and a send is *written behind* — its bytes are copied there and
//! counted sent at once, as a kernel send buffer takes them, and the next write (or
//! [`poll_flush`](SharedTcp::poll_flush)) waits for that send and reports its error.
//! Details in `multi/sys/windows_level.rs`.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use sock_sched::mt;

use super::io::IoWait;
use super::stcp::SharedTcp;
use super::sys::Dir;
use crate::error::Result;
use crate::op::Op;
use crate::tcp::Shutdown;

impl SharedTcp {
    /// Receives at most `buf.len()` bytes, or registers `cx` to be woken when data (or
    /// EOF) may be there; `Ready(Ok(0))` means the peer closed its side.
    ///
    /// # Errors
    ///
    /// As [`recv`](SharedTcp::recv).
    ///
    /// # Panics
    ///
    /// When it would park while another task's operation waits to receive on the
    /// socket, or off a worker of the socket's [`SharedLoop`](crate::shared::SharedLoop).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::future::poll_fn;
    ///
    /// use sock::Family;
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let got = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     poll_fn(|cx| client.poll_send(cx, b"hi")).await?;
    ///     let mut buf = [0u8; 8];
    ///     let n = poll_fn(|cx| conn.poll_recv(cx, &mut buf)).await?;
    ///     Ok::<_, sock::Error>(buf[..n].to_vec())
    /// })?;
    /// assert_eq!(got, b"hi");
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.tcp().poll_recv(cx, buf));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Read, cx, |io, cx| io.poll_recv(cx, buf))
    }

    /// Sends some of `buf` (at least one byte unless `buf` is empty), or registers `cx`
    /// to be woken when the socket may take more; returns how many bytes went. On
    /// Windows they went into the socket's send buffer, at most 64 KiB a call, and an
    /// overlapped send takes them on (see [`poll_flush`](SharedTcp::poll_flush)).
    ///
    /// # Errors
    ///
    /// As [`send`](SharedTcp::send); on Windows also the error the previous send ended
    /// with.
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](SharedTcp::poll_recv), for sending.
    ///
    /// # Examples
    ///
    /// See [`poll_recv`](SharedTcp::poll_recv).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.tcp().poll_send(cx, buf));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Write, cx, |io, cx| io.poll_send_level(cx, buf))
    }

    /// [`poll_send`](SharedTcp::poll_send) from several buffers with one `sendmsg` (on
    /// Windows: gathered into the socket's send buffer, one overlapped send).
    ///
    /// # Errors
    ///
    /// As [`poll_send`](SharedTcp::poll_send).
    ///
    /// # Panics
    ///
    /// As [`poll_send`](SharedTcp::poll_send).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::future::poll_fn;
    /// use std::io::IoSlice;
    ///
    /// use sock::Family;
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let got = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     let bufs = [IoSlice::new(b"he"), IoSlice::new(b"llo")];
    ///     assert_eq!(poll_fn(|cx| client.poll_send_vectored(cx, &bufs)).await?, 5);
    ///     let mut buf = [0u8; 5];
    ///     conn.recvn(&mut buf).await?;
    ///     Ok::<_, sock::Error>(buf)
    /// })?;
    /// assert_eq!(&got, b"hello");
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<Result<usize>> {
        sim_first!(self, |sim| sim.tcp().poll_send_vectored(cx, bufs));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Write, cx, |io, cx| io.poll_send_vectored(cx, bufs))
    }

    /// Ready when the bytes [`poll_send`](SharedTcp::poll_send) took are with the
    /// kernel: at once on Linux (a send is one syscall); on Windows once the send they
    /// went out with completed, with its error if it failed. Shut down or drop a socket
    /// only after a flush there: closing it cancels a send still in flight.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed); on Windows the error the last
    /// send ended with ([`ErrorKind::ConnectionReset`](crate::ErrorKind::ConnectionReset), …).
    ///
    /// # Panics
    ///
    /// As [`poll_send`](SharedTcp::poll_send).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::future::poll_fn;
    ///
    /// use sock::{Family, Shutdown};
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let got = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     poll_fn(|cx| client.poll_send(cx, b"bye")).await?;
    ///     poll_fn(|cx| client.poll_flush(cx)).await?;
    ///     client.shutdown(Shutdown::Write)?;
    ///     let mut buf = [0u8; 8];
    ///     let n = conn.recv(&mut buf).await?;
    ///     Ok::<_, sock::Error>((buf[..n].to_vec(), conn.recv(&mut buf).await?))
    /// })?;
    /// assert_eq!(got, (b"bye".to_vec(), 0));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        // A simulated send is in the world at once: nothing to flush.
        sim_first!(self, |_sim| Poll::Ready(Ok(())));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Write, cx, |io, cx| io.poll_flush(cx))
    }

    /// Ready when a read may not block, else registers `cx`. On Linux `poll(2)` says
    /// so (data, EOF or an error is there); on Windows a receive is posted into the
    /// socket's buffer and it is ready once that completed (the bytes wait there for
    /// the next receive). A hint: the next read may still park.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed); on Windows the error the posted
    /// receive ended with.
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](SharedTcp::poll_recv).
    ///
    /// # Examples
    ///
    /// See [`readable`](SharedTcp::readable), its operation form.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        sim_first!(self, |sim| sim.tcp().poll_readable(cx));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Read, cx, |io, cx| io.poll_ready(Dir::Read, cx))
    }

    /// Ready when a write may not block, else registers `cx`: on Linux when `poll(2)`
    /// says there is room, on Windows when no send is in flight (as
    /// [`poll_flush`](SharedTcp::poll_flush)).
    ///
    /// # Errors
    ///
    /// As [`poll_flush`](SharedTcp::poll_flush).
    ///
    /// # Panics
    ///
    /// As [`poll_send`](SharedTcp::poll_send).
    ///
    /// # Examples
    ///
    /// See [`writable`](SharedTcp::writable), its operation form.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        sim_first!(self, |sim| sim.tcp().poll_writable(cx));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Write, cx, |io, cx| io.poll_ready(Dir::Write, cx))
    }

    /// Waits until a read may not block (see [`poll_readable`](SharedTcp::poll_readable)),
    /// without holding a buffer on Linux. An operation: it takes a deadline, and
    /// forgets its waiter when dropped.
    ///
    /// # Errors
    ///
    /// As [`poll_readable`](SharedTcp::poll_readable); a timeout with a deadline.
    ///
    /// # Panics
    ///
    /// When another task waits to receive on the socket at the same time.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::time::Duration;
    ///
    /// use sock::{Expires, Family};
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let n = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"x").await?;
    ///     conn.readable().timeout(Duration::from_secs(5)).await?;
    ///     let mut buf = [0u8; 4];
    ///     conn.try_recv(&mut buf)
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn readable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.tcp().readable()),
            IoWait::new(self.io(), Dir::Read, "readable", |io, cx| {
                io.poll_ready(Dir::Read, cx)
            })
        )
    }

    /// Waits until a write may not block (see
    /// [`poll_writable`](SharedTcp::poll_writable)). An operation, as
    /// [`readable`](SharedTcp::readable).
    ///
    /// # Errors
    ///
    /// As [`poll_writable`](SharedTcp::poll_writable); a timeout with a deadline.
    ///
    /// # Panics
    ///
    /// When another task waits to send on the socket at the same time.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::Family;
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let n = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     client.writable().await?;
    ///     client.try_send(b"x")
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn writable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.tcp().writable()),
            IoWait::new(self.io(), Dir::Write, "writable", |io, cx| {
                io.poll_ready(Dir::Write, cx)
            })
        )
    }

    /// Receives what is there now without waiting:
    /// [`ErrorKind::WouldBlock`](crate::ErrorKind::WouldBlock) when nothing is. Never
    /// parks, so it may run beside another task's waiting receive. On Windows a try that
    /// finds nothing posts a receive into the socket's buffer: what arrives waits there
    /// for the next try (or receive).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](SharedTcp::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::{ErrorKind, Family};
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let kind = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let mut buf = [0u8; 4];
    ///     Ok::<_, sock::Error>(client.try_recv(&mut buf).unwrap_err().kind())
    /// })?;
    /// assert_eq!(kind, ErrorKind::WouldBlock);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
        sim_first!(self, |sim| sim.tcp().try_recv(buf));
        self.io().try_recv(buf)
    }

    /// Sends what the socket takes now without waiting: `WouldBlock` when it takes
    /// nothing (on Windows: while the previous send is in flight). Never parks.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`poll_send`](SharedTcp::poll_send).
    ///
    /// # Examples
    ///
    /// See [`writable`](SharedTcp::writable).
    pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
        sim_first!(self, |sim| sim.tcp().try_send(buf));
        self.io().try_send(buf)
    }

    /// Reads into uninitialized spare capacity (for tokio's `ReadBuf`, hyper's cursor).
    #[cfg_attr(not(any(feature = "tokio-io", feature = "hyper")), allow(dead_code))]
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        sim_first!(self, |sim| crate::pollio::poll_recv_uninit(
            sim.tcp(),
            cx,
            buf
        ));
        let io = self.io();
        io.claims()
            .poll(io, Dir::Read, cx, |io, cx| io.poll_recv_uninit(cx, buf))
    }

    /// Flushes, then shuts the writing direction down (the I/O traits' close).
    #[cfg_attr(
        not(any(feature = "futures-io", feature = "tokio-io", feature = "hyper")),
        allow(dead_code)
    )]
    pub(crate) fn poll_shutdown_write(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        std::task::ready!(self.poll_flush(cx))?;
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

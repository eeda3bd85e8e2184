//! [`SharedTcp`]: a `Send` TCP socket of the shared-poller mode, and its operations.
//!
//! The socket is registered in a [`SharedLoop`]'s kernel poller, so its events go to
//! whichever worker dequeues them. Operations are futures like the loop-mode ones —
//! try the syscall, park on `WouldBlock` — and take deadlines the same way,
//! `s.recv(&mut buf).expires(t).await`, on the timers of the worker running the task.
//! Only what the shared mode needs is here: listen/accept, connect to resolved
//! addresses, send/recv, shutdown, close.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sock_addr::{Family, Port, SockAddr, SocketType};
use sock_sched::coop;

use super::io::{self, IoWait, Parking, SharedFuture, SharedOp, SharedProgress, boxed};
use super::shared::SharedLoop;
use super::slot::IoSlot;
use super::sys::{self, Dir};
use crate::error::{Error, ErrorKind, Result};
use crate::recv_flags::RecvFlags;
use crate::scope::{self, Mode};
use crate::socket::{from_socket2, to_socket2};
use crate::target::{self, ToAddrs};
use crate::tcp::Shutdown;

/// A TCP socket of a [`SharedLoop`] (or a unix-domain stream socket, with
/// [`Family::UNIX`]; Linux): `Send + Sync`, usable from any of its workers.
/// Cloning gives another handle to the same socket; the socket closes when the last
/// handle is dropped or [`close`](SharedTcp::close) is called.
///
/// # Examples
///
/// See [`SharedLoop`].
#[derive(Clone)]
pub struct SharedTcp {
    /// The registered socket (refilled by a connect that tries several addresses).
    slot: Arc<IoSlot>,
    /// Its address family.
    family: Family,
}

impl SharedTcp {
    /// A TCP socket on this thread's current [`SharedLoop`] (on a worker: the loop it
    /// works for).
    ///
    /// # Errors
    ///
    /// The OS error of `socket(2)` or of the registration.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn new(family: Family) -> Result<SharedTcp> {
        SharedTcp::open(&SharedLoop::current(), family)
    }

    pub(crate) fn open(lp: &SharedLoop, family: Family) -> Result<SharedTcp> {
        let io = open_io(lp, family)?;
        Ok(SharedTcp::with_io(io, family))
    }

    fn with_io(io: sys::SharedIo, family: Family) -> SharedTcp {
        SharedTcp {
            slot: Arc::new(IoSlot::new(io)),
            family,
        }
    }

    /// The current OS socket.
    fn io(&self) -> &sys::SharedIo {
        self.slot.get()
    }

    /// Binds to `host:port` (`"*"` = all interfaces, port 0 = any; the path for
    /// [`Family::UNIX`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::AddressInUse`], a lookup error, …
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.bind("127.0.0.1", 0)?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind(&self, host: &str, port: impl Into<Port>) -> Result<()> {
        let addrs = target::local(host, port.into(), self.family, SocketType::STREAM)?;
        self.bind_first(&addrs)
    }

    /// Binds to the first address of `target`: an already resolved address, or a
    /// `(host, port, flags)` lookup (the seed's `bind(host, port, af)`; see
    /// [`ToAddrs`]), made now with `PASSIVE` added.
    ///
    /// # Errors
    ///
    /// As [`bind`](SharedTcp::bind); [`ErrorKind::InvalidInput`] for an empty target;
    /// with [`Flags::NUMERICHOST`](crate::Flags) [`ErrorKind::HostNotFound`] at once for a
    /// host that is not a numeric address.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::Flags;
    ///
    /// let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.bind_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind_to(&self, target: &impl ToAddrs) -> Result<()> {
        let target = target::target_of(target);
        let addrs = target::local_addrs(target, self.family, SocketType::STREAM)?;
        self.bind_first(&addrs)
    }

    /// Binds to the first of `addrs`.
    fn bind_first(&self, addrs: &[SockAddr]) -> Result<()> {
        let addr = addrs
            .first()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no address to bind to"))?;
        Ok(self.io().socket().bind(&to_socket2(addr)?)?)
    }

    /// Listens on `host:port` (binding first, with `so_reuseaddr` on Unix) with the OS's
    /// maximum backlog.
    ///
    /// # Errors
    ///
    /// As [`bind`](SharedTcp::bind).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn listen(&self, host: &str, port: impl Into<Port>) -> Result<()> {
        self.listen_after(|| self.bind(host, port))
    }

    /// [`listen`](SharedTcp::listen) on the first address of `target`: an already
    /// resolved address, or a `(host, port, flags)` lookup (the seed's `listen(host,
    /// port, af)`; see [`ToAddrs`]), made now with `PASSIVE` added.
    ///
    /// # Errors
    ///
    /// As [`bind_to`](SharedTcp::bind_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::{ErrorKind, Flags};
    ///
    /// let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// let e = s.listen_to(&("localhost", 0, Flags::NUMERICHOST)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::HostNotFound);
    /// s.listen_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn listen_to(&self, target: &impl ToAddrs) -> Result<()> {
        self.listen_after(|| self.bind_to(target))
    }

    /// Sets `so_reuseaddr` (Unix), calls `bind`, and listens with the OS's maximum
    /// backlog.
    fn listen_after(&self, bind: impl FnOnce() -> Result<()>) -> Result<()> {
        if crate::sys::LISTEN_REUSEADDR {
            self.io().socket().set_reuse_address(true)?;
        }
        bind()?;
        Ok(self.io().socket().listen(i32::MAX)?)
    }

    /// Accepts a connection, registered in the same shared loop.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooManyOpenFiles`], [`ErrorKind::Closed`], a timeout with a deadline.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn accept(&self) -> SharedOp<SharedFuture<'_, Result<SharedTcp>>> {
        boxed(async move {
            let socket = IoWait::new(self.io(), Dir::Read, |io, cx| io.poll_accept(cx)).await?;
            let lp = SharedLoop::current();
            let io = sys::SharedIo::register(socket, lp.poller(), lp.table())?;
            Ok(SharedTcp::with_io(io, self.family))
        })
    }

    /// Connects to the addresses of `target`, trying each in turn: addresses resolved
    /// already, or a `(host, port, flags)` lookup (the seed's `connect(host, port,
    /// expires, af)`; see [`ToAddrs`]), resolved off the loop.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConnectionRefused`], a timeout with a deadline, … — the error of the
    /// last address tried; with [`Flags::NUMERICHOST`](crate::Flags) a host that is not
    /// a numeric address fails at once with [`ErrorKind::HostNotFound`], never asking a
    /// name server.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn connect_to(&self, target: &impl ToAddrs) -> SharedOp<SharedFuture<'_, Result<()>>> {
        match target::target_of(target) {
            target::Target::Addrs(addrs) => boxed(self.connect_addrs(addrs.into_owned())),
            lookup => {
                let lookup = lookup.into_owned();
                boxed(async move {
                    let stream = SocketType::STREAM;
                    let addrs = target::remote_addrs(lookup, self.family, stream).await?;
                    self.connect_addrs(addrs).await
                })
            }
        }
    }

    /// Connects to `host:port`, resolved off the loop ([`addr::resolve`](crate::addr::resolve): numeric
    /// hosts at once, names on the resolver pool), trying each address in turn; for
    /// [`Family::UNIX`] `host` is the path.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::HostNotFound`], [`ErrorKind::ConnectionRefused`], a timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn connect<'a>(
        &'a self,
        host: &'a str,
        port: impl Into<Port>,
    ) -> SharedOp<SharedFuture<'a, Result<()>>> {
        let port = port.into();
        boxed(async move {
            let addrs = target::remote(host, port, self.family, SocketType::STREAM).await?;
            self.connect_addrs(addrs).await
        })
    }

    /// Tries each address in turn, each after the first on a fresh OS socket (options
    /// and a `bind` of the failed one are not carried over); the error of the last
    /// one if none accepts.
    async fn connect_addrs(&self, addrs: Vec<SockAddr>) -> Result<()> {
        let mut last = Error::new(ErrorKind::InvalidInput, "no address to connect to");
        for (i, addr) in addrs.iter().enumerate() {
            if i > 0 {
                self.slot
                    .replace(open_io(&SharedLoop::current(), self.family)?);
            }
            let addr = to_socket2(addr)?;
            let mut started = false;
            let r = IoWait::new(self.io(), Dir::Write, |io, cx| {
                io.poll_connect(&addr, &mut started, cx)
            })
            .await;
            match r {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Closed => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends all of `buf`. On failure (or timeout) the error carries the bytes sent.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConnectionReset`], [`ErrorKind::Closed`], a timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> SharedOp<SharedSendAll<'a>> {
        SharedOp::new(SharedSendAll {
            parking: Parking::new(self.io(), Dir::Write),
            buf,
            sent: 0,
        })
    }

    /// Receives into `buf`; `Ok(0)` when the peer closed its side.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConnectionReset`], [`ErrorKind::Closed`], a timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> SharedOp<SharedFuture<'a, Result<usize>>> {
        boxed(
            async move { IoWait::new(self.io(), Dir::Read, |io, cx| io.poll_recv(cx, buf)).await },
        )
    }

    /// [`recv`](SharedTcp::recv) with [`RecvFlags`], as the loop mode's
    /// [`Tcp::recv_with`](crate::Tcp::recv_with): `PEEK` leaves the bytes queued,
    /// `WAITALL` waits until `buf` is full (or the peer closed: the bytes that came),
    /// `TRUNC` discards instead of copying (Linux), `OOB` reads the urgent byte without
    /// waiting. Linux; on Windows a receive with flags fails with `Unsupported`.
    ///
    /// # Errors
    ///
    /// As [`Tcp::recv_with`](crate::Tcp::recv_with); on failure (or timeout) the error
    /// carries the bytes a `WAITALL` had.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(target_os = "linux") { return Ok(()); } // recv flags: Linux
    /// use sock::{Family, RecvFlags, SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let peeked = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"hello").await?;
    ///     let mut buf = [0u8; 5];
    ///     conn.recv_with(&mut buf, RecvFlags::PEEK | RecvFlags::WAITALL).await.unwrap_err();
    ///     conn.recv_with(&mut buf, RecvFlags::WAITALL).await?;
    ///     Ok::<_, sock::Error>(buf)
    /// })?;
    /// assert_eq!(&peeked, b"hello");
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> SharedOp<SharedRecvWith<'a>> {
        let (os, invalid) = match flags.for_stream() {
            Ok(os) => (os, None),
            Err(e) => (0, Some(e)),
        };
        SharedOp::new(SharedRecvWith {
            parking: Parking::new(self.io(), Dir::Read),
            buf,
            flags,
            os,
            invalid,
            got: 0,
        })
    }

    /// Fills `buf` exactly. On failure the error carries the bytes received; a peer
    /// that closes early gives [`ErrorKind::Closed`].
    ///
    /// # Errors
    ///
    /// As [`recv`](SharedTcp::recv).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn recvn<'a>(&'a self, buf: &'a mut [u8]) -> SharedOp<SharedRecvN<'a>> {
        SharedOp::new(SharedRecvN {
            parking: Parking::new(self.io(), Dir::Read),
            buf,
            got: 0,
        })
    }

    /// Shuts down one or both directions.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// # let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// assert!(s.shutdown(sock::Shutdown::Write).is_err()); // not connected
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        Ok(self.io().socket().shutdown(how)?)
    }

    /// Closes the socket for every handle: waiting operations fail with
    /// [`ErrorKind::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// # let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.close();
    /// assert!(s.is_closed());
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn close(&self) {
        self.io().close();
    }

    /// Whether [`close`](SharedTcp::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](SharedTcp::close).
    pub fn is_closed(&self) -> bool {
        self.io().is_closed()
    }

    /// Sets an option by the seed's name (`"so_reuseaddr"`, `"tcp_nodelay"`, …; see
    /// [`option_names`](crate::option_names)), as the loop mode's `setopt`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unknown name or a value of the wrong type; the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// let lp = sock::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.setopt("tcp_nodelay", true)?;
    /// assert_eq!(s.getopt("tcp_nodelay")?, sock::OptValue::Bool(true));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn setopt(&self, name: &str, value: impl Into<crate::OptValue>) -> Result<()> {
        crate::opt::set(
            &socket2::SockRef::from(self.io().socket()),
            name,
            value.into(),
        )
    }

    /// Reads an option by the seed's name.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unknown name; the OS error.
    ///
    /// # Examples
    ///
    /// See [`setopt`](Self::setopt).
    pub fn getopt(&self, name: &str) -> Result<crate::OptValue> {
        crate::opt::get(&socket2::SockRef::from(self.io().socket()), name)
    }

    /// Turns Nagle's algorithm off (`tcp_nodelay`).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// # let lp = sock::SharedLoop::new()?;
    /// lp.tcp(sock::Family::INET)?.set_nodelay(true)?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        Ok(self.io().socket().set_tcp_nodelay(on)?)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// See [`bind`](SharedTcp::bind).
    pub fn local_addr(&self) -> Result<SockAddr> {
        from_socket2(&self.io().socket().local_addr()?)
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// # let lp = sock::SharedLoop::new()?;
    /// assert!(lp.tcp(sock::Family::INET)?.remote_addr().is_err());
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn remote_addr(&self) -> Result<SockAddr> {
        from_socket2(&self.io().socket().peer_addr()?)
    }
}

/// A new stream socket of `family` registered in `lp`'s poller: TCP, or a unix-domain
/// stream socket for [`Family::UNIX`].
fn open_io(lp: &SharedLoop, family: Family) -> Result<sys::SharedIo> {
    let protocol = (family != Family::UNIX).then_some(socket2::Protocol::TCP);
    io::open_io(lp, family, socket2::Type::STREAM, protocol)
}

impl fmt::Debug for SharedTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTcp")
            .field("local_addr", &self.local_addr().ok())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// `send`: every byte, across as many syscalls and waits as it takes.
///
/// # Examples
///
/// See [`SharedProgress::transferred`].
pub struct SharedSendAll<'a> {
    /// The socket, and the waiter registration.
    parking: Parking<'a>,
    /// What to send.
    buf: &'a [u8],
    /// Bytes of `buf` sent so far.
    sent: usize,
}

impl Future for SharedSendAll<'_> {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        while this.sent < this.buf.len() {
            if scope::mode() == Mode::Normal && !coop::spend(cx) {
                return Poll::Pending;
            }
            let rest = &this.buf[this.sent..];
            let r = this.parking.poll(cx, |io, cx| io.poll_send(cx, rest));
            match std::task::ready!(r) {
                Ok(n) => this.sent += n,
                Err(e) => return Poll::Ready(Err(e.with_transferred(this.sent))),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl SharedProgress for SharedSendAll<'_> {
    fn transferred(&self) -> usize {
        self.sent
    }
}

impl fmt::Debug for SharedSendAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSendAll")
            .field("sent", &self.sent)
            .finish()
    }
}

/// `recvn`: fills the buffer.
///
/// # Examples
///
/// See [`SharedProgress::transferred`].
pub struct SharedRecvN<'a> {
    /// The socket, and the waiter registration.
    parking: Parking<'a>,
    /// What to fill.
    buf: &'a mut [u8],
    /// Bytes of `buf` filled so far.
    got: usize,
}

impl Future for SharedRecvN<'_> {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        while this.got < this.buf.len() {
            if scope::mode() == Mode::Normal && !coop::spend(cx) {
                return Poll::Pending;
            }
            let rest = &mut this.buf[this.got..];
            let r = this.parking.poll(cx, |io, cx| io.poll_recv(cx, rest));
            match std::task::ready!(r) {
                Ok(0) => {
                    let e = Error::new(ErrorKind::Closed, "the peer closed before recvn was done");
                    return Poll::Ready(Err(e.with_transferred(this.got)));
                }
                Ok(n) => this.got += n,
                Err(e) => return Poll::Ready(Err(e.with_transferred(this.got))),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl SharedProgress for SharedRecvN<'_> {
    fn transferred(&self) -> usize {
        self.got
    }
}

impl fmt::Debug for SharedRecvN<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRecvN")
            .field("got", &self.got)
            .finish()
    }
}

/// `recv_with`: one read with the flags, or (`WAITALL`) reads until the buffer is full
/// or the peer closed.
///
/// # Examples
///
/// See [`SharedTcp::recv_with`].
pub struct SharedRecvWith<'a> {
    /// The socket, and the waiter registration.
    parking: Parking<'a>,
    /// What to fill.
    buf: &'a mut [u8],
    /// The flags (`WAITALL` is this loop's, not the kernel's).
    flags: RecvFlags,
    /// The OS's `MSG_*` bits.
    os: i32,
    /// Why the flags do not go together: the first poll's result.
    invalid: Option<Error>,
    /// Bytes of `buf` filled so far.
    got: usize,
}

impl Future for SharedRecvWith<'_> {
    type Output = Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = &mut *self;
        if let Some(e) = this.invalid.take() {
            return Poll::Ready(Err(e));
        }
        loop {
            if scope::mode() == Mode::Normal && !coop::spend(cx) {
                return Poll::Pending;
            }
            let (rest, os) = (&mut this.buf[this.got..], this.os);
            let r = this
                .parking
                .poll(cx, |io, cx| io.poll_recv_flags(cx, rest, os));
            match std::task::ready!(r) {
                Ok(0) => return Poll::Ready(Ok(this.got)),
                Ok(n) => this.got += n,
                Err(e) if this.flags.contains(RecvFlags::OOB) => {
                    return Poll::Ready(Err(crate::recv_with::oob_error(e)));
                }
                Err(e) => return Poll::Ready(Err(e.with_transferred(this.got))),
            }
            if !this.flags.contains(RecvFlags::WAITALL) || this.got == this.buf.len() {
                return Poll::Ready(Ok(this.got));
            }
        }
    }
}

impl SharedProgress for SharedRecvWith<'_> {
    fn transferred(&self) -> usize {
        self.got
    }
}

impl fmt::Debug for SharedRecvWith<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRecvWith")
            .field("got", &self.got)
            .finish_non_exhaustive()
    }
}

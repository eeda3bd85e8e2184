//! [`SharedUdp`]: a `Send` UDP socket of the shared-poller mode, the datagram
//! counterpart of [`SharedTcp`](super::SharedTcp).
//!
//! It behaves as the loop mode's [`Udp`](crate::Udp) does: one datagram per `send` or
//! `recv`; a datagram longer than the buffer fails the receive with
//! [`ErrorKind::MessageTooLong`](crate::ErrorKind::MessageTooLong), its first bytes in
//! the buffer; `connect_to` only sets the default peer and the filter, at once.
//! Operations are [`Op`](crate::Op)s that take deadlines, and a receive cut short by its
//! deadline loses no datagram (Windows keeps one that completes later for the next
//! receive). As with `SharedTcp`, one task at a time receives on a socket, and one
//! sends. `send_to` takes a `(host, port, flags)` lookup target too, resolved off the
//! loop. Not here (yet): `host, port` arguments, dissolving an association, batches.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use sock_addr::{Family, Port, SockAddr, SocketType};

use super::io::{self, IoWait, boxed};
use super::shared::SharedLoop;
use super::sys::{self, Dir};
use crate::error::{Error, ErrorKind, Result};
use crate::op::{Either, Op};
use crate::recv_flags::RecvFlags;
use crate::socket::{from_socket2, source_from_socket2, to_socket2};
use crate::target::{self, ToAddrs};
use sock_sched::mt;

/// A UDP socket of a [`SharedLoop`] (or a unix-domain datagram socket, with
/// [`Family::UNIX`]): `Send + Sync`, usable from any of its workers. Cloning gives
/// another handle to the same socket; it closes when the last handle is dropped or
/// [`close`](SharedUdp::close) is called.
///
/// # Examples
///
/// ```
/// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
/// use std::time::Duration;
///
/// use sock::sched::mt;
/// use sock::{Expires, Family, shared::{SharedLoop, SharedUdp}};
///
/// let lp = SharedLoop::new()?;
/// let echoed = lp.run(async {
///     let server = SharedUdp::new(Family::INET)?;
///     server.bind("127.0.0.1", 0)?;
///     let addr = server.local_addr()?;
///     let echo = mt::spawn(async move {
///         let mut buf = [0u8; 64];
///         let (n, from) = server.recv_from(&mut buf).await?;
///         server.send_to(&buf[..n], &from).await
///     });
///     let client = SharedUdp::new(Family::INET)?;
///     client.connect_to(&addr)?;
///     client.send(b"ping").await?;
///     let mut buf = [0u8; 64];
///     let n = client.recv(&mut buf).timeout(Duration::from_secs(5)).await?;
///     echo.await?;
///     Ok::<_, sock::Error>(buf[..n].to_vec())
/// })?;
/// assert_eq!(echoed, b"ping");
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedUdp {
    /// The registered socket, shared by the clones.
    #[cfg(not(feature = "sim"))]
    io: Arc<sys::SharedIo>,
    /// The registered socket, shared by the clones; `None` on a simulated host.
    #[cfg(feature = "sim")]
    io: Option<Arc<sys::SharedIo>>,
    /// The simulated socket on a simulated host (`sim/shared.rs`): operations take it
    /// first when it is there.
    #[cfg(feature = "sim")]
    sim: Option<Arc<crate::sim::shared::SimIo>>,
    /// Its address family.
    family: Family,
}

impl SharedUdp {
    /// A UDP socket on this thread's current [`SharedLoop`] (on a worker: the loop it
    /// works for).
    ///
    /// # Errors
    ///
    /// The OS error of `socket(2)` or of the registration.
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    pub fn new(family: Family) -> Result<SharedUdp> {
        SharedUdp::open(&SharedLoop::current(), family)
    }

    /// The registered socket.
    pub(super) fn io(&self) -> &sys::SharedIo {
        #[cfg(feature = "sim")]
        let io = self
            .io
            .as_deref()
            .unwrap_or_else(|| crate::sim::shared::not_simulated("this operation of a SharedUdp"));
        #[cfg(not(feature = "sim"))]
        let io = &self.io;
        io
    }

    /// The simulated socket, on a simulated host.
    #[cfg(feature = "sim")]
    pub(super) fn sim_open(&self) -> Option<&crate::sim::shared::SimIo> {
        self.sim.as_deref()
    }

    /// The OS socket, for a borrowed handle (`raw.rs`): a closed one stays open until
    /// the last clone drops, so the borrow never dangles.
    pub(crate) fn socket(&self) -> &socket2::Socket {
        self.io().socket()
    }

    pub(crate) fn open(lp: &SharedLoop, family: Family) -> Result<SharedUdp> {
        #[cfg(feature = "sim")]
        if let Some(sim) = lp.sim() {
            return Ok(SharedUdp {
                io: None,
                sim: Some(Arc::new(sim.udp(family)?)),
                family,
            });
        }
        let protocol = (family != Family::UNIX).then_some(socket2::Protocol::UDP);
        let io = io::open_io(lp, family, socket2::Type::DGRAM, protocol)?;
        Ok(SharedUdp {
            #[cfg(not(feature = "sim"))]
            io: Arc::new(io),
            #[cfg(feature = "sim")]
            io: Some(Arc::new(io)),
            #[cfg(feature = "sim")]
            sim: None,
            family,
        })
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
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let u = lp.udp(sock::Family::INET)?;
    /// u.bind("127.0.0.1", 0)?;
    /// assert_ne!(u.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind(&self, host: &str, port: impl Into<Port>) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().bind(host, port);
        }
        let addrs = target::local(host, port.into(), self.family, SocketType::DGRAM)?;
        let addr = to_socket2(&addrs[0])?;
        Ok(self.io().socket().bind(&addr)?)
    }

    /// Binds to the first address of `target`: an already resolved address, or a
    /// `(host, port, flags)` lookup (the seed's `bind(host, port, af)`; see
    /// [`ToAddrs`]), made now with `PASSIVE` added.
    ///
    /// # Errors
    ///
    /// As [`bind`](SharedUdp::bind); [`ErrorKind::InvalidInput`] for an empty target;
    /// with [`Flags::NUMERICHOST`](crate::Flags) [`ErrorKind::HostNotFound`] at once for a
    /// host that is not a numeric address.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// use sock::Flags;
    ///
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let u = lp.udp(sock::Family::INET)?;
    /// u.bind_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// assert_ne!(u.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind_to(&self, target: &impl ToAddrs) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().bind_to(target);
        }
        let target = target::target_of(target);
        let addrs = target::local_addrs(target, self.family, SocketType::DGRAM)?;
        Ok(self.io().socket().bind(&first(&addrs)?)?)
    }

    /// Sets the default peer (the first address of `target`): [`send`](SharedUdp::send)
    /// goes there and only its datagrams are received. UDP connects at once; nothing is
    /// awaited, so a `(host, port, flags)` lookup target (see [`ToAddrs`]) is looked up
    /// now, on this thread: add [`Flags::NUMERICHOST`](crate::Flags), which never asks a
    /// name server, or resolve a name first ([`addr::resolve`](crate::addr::resolve)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an empty target; the OS error of `connect(2)`; a
    /// lookup error ([`ErrorKind::HostNotFound`] at once for a name with `NUMERICHOST`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let u = lp.udp(sock::Family::INET)?;
    /// let peer: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    /// u.connect_to(&peer)?;
    /// assert_eq!(u.remote_addr()?, sock::SockAddr::from(peer));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn connect_to(&self, target: &impl ToAddrs) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().connect_to(target);
        }
        let target = target::target_of(target);
        let addrs = target::remote_addrs_now(target, self.family, SocketType::DGRAM)?;
        Ok(self.io().socket().connect(&first(&addrs)?)?)
    }

    /// Sends `buf` as one datagram to the default peer; its length once sent. Empty
    /// datagrams are allowed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`], [`ErrorKind::MessageTooLong`],
    /// [`ErrorKind::ConnectionRefused`] (Linux: the peer refused an earlier datagram),
    /// [`ErrorKind::Closed`], a timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    pub fn send<'a>(
        &'a self,
        buf: &'a [u8],
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.udp().send(buf)),
            IoWait::new(self.io(), Dir::Write, "send", move |io, cx| {
                io.poll_send_to(cx, buf, None)
            })
        )
    }

    /// Receives one datagram (from the default peer, if one is set); its length.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MessageTooLong`] if the datagram did not fit (the first
    /// `buf.len()` bytes are in `buf`, [`Error::transferred`] says how many; the rest is
    /// lost), [`ErrorKind::Closed`], a timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    pub fn recv<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.udp().recv(buf)),
            IoWait::new(self.io(), Dir::Read, "recv", move |io, cx| {
                io.poll_recv_from(cx, buf).map_ok(|(n, _)| n)
            })
        )
    }

    /// [`recv`](SharedUdp::recv) with [`RecvFlags`], as the loop mode's
    /// [`Udp::recv_with`](crate::Udp::recv_with): `PEEK` leaves the datagram queued,
    /// `TRUNC` gives its real length (Linux). Linux; on Windows a receive with flags
    /// fails with `Unsupported`.
    ///
    /// # Errors
    ///
    /// As [`Udp::recv_with`](crate::Udp::recv_with).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(target_os = "linux") { return Ok(()); } // recv flags: Linux
    /// use sock::{Family, io::RecvFlags, shared::{SharedLoop, SharedUdp}};
    ///
    /// let lp = SharedLoop::new()?;
    /// let sizes = lp.run(async {
    ///     let a = SharedUdp::new(Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = SharedUdp::new(Family::INET)?;
    ///     b.send_to(b"twelve bytes", &a.local_addr()?).await?;
    ///     let mut small = [0u8; 4];
    ///     let size = a.recv_with(&mut small, RecvFlags::PEEK | RecvFlags::TRUNC).await?;
    ///     let mut buf = vec![0u8; size];
    ///     Ok::<_, sock::Error>((size, a.recv(&mut buf).await?))
    /// })?;
    /// assert_eq!(sizes, (12, 12));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.udp().recv_with(buf, flags)),
            {
                let mut recv = recv_from_flags(buf, flags);
                IoWait::new(self.io(), Dir::Read, "recv", move |io, cx| {
                    recv(io, cx).map_ok(|(n, _)| n)
                })
            }
        )
    }

    /// [`recv_from`](SharedUdp::recv_from) with [`RecvFlags`]: the datagram's length
    /// (its real length with `TRUNC`) and its source, as
    /// [`recv_with`](SharedUdp::recv_with).
    ///
    /// # Errors
    ///
    /// As [`recv_with`](SharedUdp::recv_with).
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(target_os = "linux") { return Ok(()); } // recv flags: Linux
    /// use sock::{Family, io::RecvFlags, shared::{SharedLoop, SharedUdp}};
    ///
    /// let lp = SharedLoop::new()?;
    /// let twice = lp.run(async {
    ///     let a = SharedUdp::new(Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     SharedUdp::new(Family::INET)?.send_to(b"ping", &a.local_addr()?).await?;
    ///     let mut buf = [0u8; 8];
    ///     let peeked = a.recv_from_with(&mut buf, RecvFlags::PEEK).await?;
    ///     Ok::<_, sock::Error>((peeked, a.recv_from(&mut buf).await?))
    /// })?;
    /// assert_eq!(twice.0, twice.1); // the same datagram, from the same sender
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "recvnext_with")]
    pub fn recv_from_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> impl Op<Output = Result<(usize, SockAddr)>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.udp().recv_from_with(buf, flags)),
            IoWait::new(
                self.io(),
                Dir::Read,
                "recvnext",
                recv_from_flags(buf, flags),
            )
        )
    }

    /// Sends `buf` as one datagram to the first address of `to`, connected or not: an
    /// already resolved address, or a `(host, port, flags)` lookup (the seed's
    /// `sendto(host, port, buf, len, expires, af)`; see [`ToAddrs`]), resolved off the
    /// loop.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an empty target, [`ErrorKind::MessageTooLong`],
    /// [`ErrorKind::Closed`], a timeout, …; with [`Flags::NUMERICHOST`](crate::Flags) a
    /// host that is not a numeric address fails at once with
    /// [`ErrorKind::HostNotFound`], never asking a name server.
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    #[doc(alias = "sendto")]
    pub fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        to: &impl ToAddrs,
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            let op = crate::sim::shared::local(sim.udp().send_to(buf, to));
            return Either::Right(boxed("sendto", op));
        }
        match target::target_of(to) {
            target::Target::Addrs(addrs) => match first(&addrs) {
                Ok(to) if self.family != Family::UNIX => Either::Left(IoWait::new(
                    self.io(),
                    Dir::Write,
                    "sendto",
                    move |io, cx| io.poll_send_to(cx, buf, Some(&to)),
                )),
                to => Either::Right(boxed("sendto", async move {
                    self.send_to_addr(buf, &to?).await
                })),
            },
            lookup => {
                let lookup = lookup.into_owned();
                Either::Right(boxed("sendto", async move {
                    let dgram = SocketType::DGRAM;
                    let addrs = target::remote_addrs(lookup, self.family, dgram).await?;
                    self.send_to_addr(buf, &first(&addrs)?).await
                }))
            }
        }
    }

    /// Sends `buf` as one datagram to `to`.
    async fn send_to_addr(&self, buf: &[u8], to: &socket2::SockAddr) -> Result<usize> {
        if self.family == Family::UNIX {
            return send_to_backoff(self.io(), buf, to).await;
        }
        IoWait::new(self.io(), Dir::Write, "sendto", |io, cx| {
            io.poll_send_to(cx, buf, Some(to))
        })
        .await
    }

    /// Receives the next datagram and its source address.
    ///
    /// # Errors
    ///
    /// As [`recv`](SharedUdp::recv).
    ///
    /// # Examples
    ///
    /// See [`SharedUdp`].
    #[doc(alias = "recvnext")]
    pub fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Op<Output = Result<(usize, SockAddr)>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self,
            |sim| crate::sim::shared::local(sim.udp().recv_from(buf)),
            IoWait::new(self.io(), Dir::Read, "recvnext", move |io, cx| {
                let (n, from) = std::task::ready!(io.poll_recv_from(cx, buf))?;
                Poll::Ready(Ok((n, source_from_socket2(&from)?)))
            })
        )
    }

    /// Closes the socket for every handle: waiting operations fail with
    /// [`ErrorKind::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// let u = lp.udp(sock::Family::INET)?;
    /// u.close();
    /// assert!(u.is_closed());
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn close(&self) {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            let _ = sim.udp().close(); // a second close is a no-op, as here
            return;
        }
        self.io().close();
    }

    /// Whether [`close`](SharedUdp::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](SharedUdp::close).
    pub fn is_closed(&self) -> bool {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().is_closed();
        }
        self.io().is_closed()
    }

    /// Sets an option by the seed's name (`"so_reuseaddr"`, `"tcp_nodelay"`, …; see
    /// [`option_names`](crate::io::option_names)), as the loop mode's `setopt`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unknown name or a value of the wrong type; the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.udp(sock::Family::INET)?;
    /// s.setopt("so_broadcast", true)?;
    /// assert_eq!(s.getopt("so_broadcast")?, sock::io::OptValue::Bool(true));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn setopt(&self, name: &str, value: impl Into<crate::io::OptValue>) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().setopt(name, value);
        }
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
    pub fn getopt(&self, name: &str) -> Result<crate::io::OptValue> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().getopt(name);
        }
        crate::opt::get(&socket2::SockRef::from(self.io().socket()), name)
    }

    /// Allows sending to broadcast addresses (`so_broadcast`).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// lp.udp(sock::Family::INET)?.set_broadcast(true)?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        sim_first!(self, |sim| sim.udp().setopt("so_broadcast", on));
        Ok(self.io().socket().set_broadcast(on)?)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// See [`bind`](SharedUdp::bind).
    pub fn local_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().local_addr();
        }
        from_socket2(&self.io().socket().local_addr()?)
    }

    /// The default peer's address.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`].
    ///
    /// # Examples
    ///
    /// See [`connect_to`](SharedUdp::connect_to).
    pub fn remote_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.udp().remote_addr();
        }
        from_socket2(&self.io().socket().peer_addr()?)
    }
}

/// The first of `addrs`, in socket2's form.
/// One try of a receive of a datagram and its source with `flags` into `buf` (an
/// invalid combination of flags fails the first try).
fn recv_from_flags(
    buf: &mut [u8],
    flags: RecvFlags,
) -> impl FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<(usize, SockAddr)>> + Send + Unpin
{
    let (os, mut invalid) = match flags.for_datagram() {
        Ok(os) => (os, None),
        Err(e) => (0, Some(e)),
    };
    move |io, cx| {
        if let Some(e) = invalid.take() {
            return Poll::Ready(Err(e));
        }
        let (n, from) = std::task::ready!(io.poll_recv_from_flags(cx, buf, os))?;
        Poll::Ready(Ok((n, source_from_socket2(&from)?)))
    }
}

fn first(addrs: &[SockAddr]) -> Result<socket2::SockAddr> {
    match addrs.first() {
        Some(addr) => to_socket2(addr),
        None => Err(Error::new(ErrorKind::InvalidInput, "no address")),
    }
}

impl fmt::Debug for SharedUdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedUdp")
            .field("local_addr", &self.local_addr().ok())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// `send_to` on a unix datagram socket: the kernel reports it writable whatever the
/// receiver's queue holds (and every failed send makes a new edge), so a full receiver
/// is waited out on a timer — 1 ms after a would-block, doubling up to 16 ms — as in
/// loop mode, never on readiness, which would spin.
async fn send_to_backoff(io: &sys::SharedIo, buf: &[u8], to: &socket2::SockAddr) -> Result<usize> {
    let mut wait = std::time::Duration::ZERO;
    loop {
        if let Some(r) = try_send_to(io, buf, to) {
            return r;
        }
        wait = crate::op::next_backoff(wait);
        sock_sched::mt::sleep(wait).await;
    }
}

/// One `send_to` now, without waiting: `None` when it would block.
fn try_send_to(io: &sys::SharedIo, buf: &[u8], to: &socket2::SockAddr) -> Option<Result<usize>> {
    let noop = std::task::Waker::noop();
    let cx = &mut std::task::Context::from_waker(noop);
    match io.poll_send_to(cx, buf, Some(to)) {
        std::task::Poll::Ready(r) => Some(r),
        std::task::Poll::Pending => {
            io.clear_waiter(Dir::Write, noop);
            None
        }
    }
}

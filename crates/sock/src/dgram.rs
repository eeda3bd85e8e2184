//! [`Udp`]: datagram sockets (UDP, unix datagrams, raw IP), one type.
//!
//! Both are the same type, [`Udp`]: what differs is only how they are made.

use std::io;
use std::rc::Rc;

use sock_addr::{Family, Port, Protocol, SockAddr, SocketType};
use sock_poll::Direction;

use crate::error::{Error, ErrorKind, Result};
use crate::op::{Boxed, Either, IoOp, Op};
use crate::opt::OptValue;
use crate::recv_flags::RecvFlags;
use crate::recv_with::{DgramRecv, Len};
use crate::socket::{Core, Waiter, source_from_socket2, to_socket2};
use crate::sys;
use crate::target::{self as addr, ToAddrs};

/// Makes a datagram socket: UDP for [`Family::INET`]/[`Family::INET6`], a unix-domain
/// datagram socket for [`Family::UNIX`].
///
/// # Errors
///
/// The OS error of `socket(2)`.
///
/// # Examples
///
/// ```
/// let u = sock::udp(sock::Family::INET)?;
/// assert_eq!(u.socktype(), sock::addr::SocketType::DGRAM);
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "sock.udp")]
pub fn udp(family: Family) -> Result<Udp> {
    let protocol = if family == Family::UNIX {
        Protocol::IP
    } else {
        Protocol::UDP
    };
    Ok(Udp {
        core: Core::open(family, SocketType::DGRAM, protocol)?,
    })
}

/// Makes a raw socket for `protocol` (e.g. [`Protocol::ICMP`]); needs `CAP_NET_RAW` or
/// root on Linux.
///
/// # Errors
///
/// [`ErrorKind::AccessDenied`] without the privilege; the OS error of `socket(2)`.
///
/// # Examples
///
/// ```
/// match sock::raw(sock::Family::INET, sock::addr::Protocol::ICMP) {
///     Ok(r) => assert_eq!(r.socktype(), sock::addr::SocketType::RAW),
///     Err(e) => assert_eq!(e.kind(), sock::ErrorKind::AccessDenied),
/// }
/// ```
#[doc(alias = "sock.raw")]
pub fn raw(family: Family, protocol: Protocol) -> Result<Udp> {
    Ok(Udp {
        core: Core::open(family, SocketType::RAW, protocol)?,
    })
}

/// A datagram socket — UDP or unix-domain ([`udp`]), or raw ([`raw`]): one type for
/// all three. Cheap to clone; every clone is the same
/// socket; [`close`](Udp::close) closes it for all.
///
/// # Examples
///
/// ```
/// sock::run(async {
///     let a = sock::udp(sock::Family::INET)?;
///     a.bind("127.0.0.1", 0)?;
///     let b = sock::udp(sock::Family::INET)?;
///     b.bind("127.0.0.1", 0)?;
///     let port = a.local_addr()?.port();
///     b.send_to(b"ping", &("127.0.0.1", port)).await?;
///     let mut buf = [0u8; 16];
///     let (n, from) = a.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from.port(), b.local_addr()?.port());
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone)]
#[doc(alias = "Dgram", alias = "Raw")]
pub struct Udp {
    core: Rc<Core>,
}

crate::common::socket_common!(Udp, "sock::udp(sock::Family::INET)?");

impl Udp {
    /// [`sock::udp`](udp): a datagram socket of `family` on this OS thread's loop — the
    /// constructor style of both modes (`SharedUdp::new` is the shared mode's).
    ///
    /// # Errors
    ///
    /// As [`udp`].
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::Udp::new(sock::Family::INET)?;
    /// assert_eq!(s.family(), sock::Family::INET);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn new(family: Family) -> Result<Udp> {
        udp(family)
    }

    /// Wraps a registered socket core.
    pub(crate) fn from_core(core: Rc<Core>) -> Udp {
        Udp { core }
    }

    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// This handle's share of the socket core.
    pub(crate) fn into_core(self) -> Rc<Core> {
        self.core
    }

    /// Connects (filters incoming datagrams to `host:port` and sets the `send`
    /// destination). `connect("*", 0)` dissolves the association.
    ///
    /// # Errors
    ///
    /// A lookup error, or the OS error of `connect(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let u = sock::udp(sock::Family::INET)?;
    ///     u.connect("127.0.0.1", 9).await?;
    ///     assert!(u.remote_addr().is_ok());
    ///     u.connect("*", 0).await?;
    ///     assert!(u.remote_addr().is_err());
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn connect<'a>(
        &'a self,
        host: &'a str,
        port: impl Into<Port>,
    ) -> impl Op<Output = Result<()>> + 'a {
        let port = port.into();
        Boxed(
            "connect",
            Box::pin(async move {
                if host == "*" && port.number() == Some(0) {
                    return self.dissolve();
                }
                let addrs = addr::remote(host, port, self.family(), self.socktype()).await?;
                self.connect_to(&addrs[0])
            }),
        )
    }

    /// Dissolves the association (`connect` to `AF_UNSPEC`). Linux also forgets an
    /// ephemeral local port on disconnect; it is bound again so the socket keeps its
    /// address, as the seed promises ("switch back to unfiltered mode").
    fn dissolve(&self) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.core.sim_open() {
            return sim.udp_dissolve();
        }
        let before = self.core.local_addr().ok();
        self.core
            .with(|s| s.connect(&sys::unspecified_addr(self.family())))?;
        let after = self.core.local_addr().ok();
        match (before, after) {
            (Some(b), Some(a)) if b.port() != 0 && a.port() == 0 => self.core.bind(&b),
            _ => Ok(()),
        }
    }

    /// Connects to the first address of `target`: an already resolved address, or a
    /// `(host, port, flags)` lookup (the seed's `connect(host, port, expires, af)`; see
    /// [`ToAddrs`]). Nothing waits here, so a lookup is made now, on this thread: give a
    /// host name to [`connect`](Udp::connect), which resolves off the loop, or add
    /// [`Flags::NUMERICHOST`](crate::Flags), which never asks a name server.
    ///
    /// # Errors
    ///
    /// The OS error of `connect(2)`; [`ErrorKind::NetworkUnreachable`] also for an
    /// address behind a blackhole route (Linux's `EINVAL`); a lookup error
    /// ([`ErrorKind::HostNotFound`] at once for a name with `NUMERICHOST`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = sock::udp(sock::Family::INET)?;
    /// a.bind("127.0.0.1", 0)?;
    /// let b = sock::udp(sock::Family::INET)?;
    /// b.connect_to(&a.local_addr()?)?;
    /// assert_eq!(b.remote_addr()?, a.local_addr()?);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn connect_to(&self, target: &impl ToAddrs) -> Result<()> {
        let target = addr::target_of(target);
        let addrs = addr::remote_addrs_now(target, self.family(), self.socktype())?;
        let first = addrs
            .first()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no address"))?;
        self.core.prepare_for(first.family(), false)?;
        #[cfg(feature = "sim")]
        if let Some(sim) = self.core.sim_open() {
            return sim.udp_connect(first);
        }
        let addr = to_socket2(first)?;
        self.core
            .with(|s| s.connect(&addr))
            .map_err(Error::in_connect)
    }

    /// Sends one datagram to the connected address; returns its length. Empty datagrams
    /// are allowed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`], [`ErrorKind::MessageTooLong`],
    /// [`ErrorKind::ConnectionRefused`] (an earlier datagram was refused), …
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.connect_to(&a.local_addr()?)?;
    ///     assert_eq!(b.send(b"").await?, 0); // an empty datagram is one too
    ///     assert_eq!(b.send(b"ping").await?, 4);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> impl Op<Output = Result<usize>> + 'a {
        crate::op::sim_or!(
            self.core,
            |sim| sim.op(Direction::Write, "send", move |s| s.udp_send(buf)),
            SendOne {
                waiter: Waiter::new(&self.core, Direction::Write),
                buf,
            }
        )
    }

    /// Receives one datagram from the connected address (or any, if unconnected).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MessageTooLong`] if the datagram did not fit (the first
    /// `buf.len()` bytes are in `buf`, [`Error::transferred`] says how many).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::ErrorKind;
    ///
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.connect_to(&a.local_addr()?)?;
    ///     b.send(b"a long datagram").await?;
    ///     let mut small = [0u8; 6];
    ///     let e = a.recv(&mut small).await.unwrap_err();
    ///     assert_eq!((e.kind(), e.transferred()), (ErrorKind::MessageTooLong, 6));
    ///     assert_eq!(&small, b"a long");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Op<Output = Result<usize>> + 'a {
        crate::op::sim_or!(
            self.core,
            |sim| sim.op(Direction::Read, "recv", move |s| {
                s.udp_recv_from(&mut *buf).map(|(n, _)| n)
            }),
            IoOp::new(
                &self.core,
                Direction::Read,
                move |s: socket2::SockRef<'_>| recv(&s, buf),
            )
            .named("recv")
        )
    }

    /// [`recv`](Udp::recv) with [`RecvFlags`] (the seed's `flags`): `PEEK` returns the
    /// datagram and leaves it queued; `TRUNC` returns its real length even when `buf` is
    /// shorter (its first bytes in `buf`, no error; Linux). `PEEK | TRUNC` is the size of
    /// the next datagram, which stays queued.
    ///
    /// # Errors
    ///
    /// As [`recv`](Udp::recv); [`ErrorKind::InvalidInput`] for `WAITALL` (a datagram
    /// comes whole), [`ErrorKind::Unsupported`] for `OOB`, and for `TRUNC` off Linux.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(target_os = "linux") { return Ok(()); } // TRUNC: Linux
    /// use sock::io::RecvFlags;
    ///
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.send_to(b"twelve bytes", &a.local_addr()?).await?;
    ///     let mut none = [0u8; 0];
    ///     let size = a.recv_with(&mut none, RecvFlags::PEEK | RecvFlags::TRUNC).await?;
    ///     let mut buf = vec![0u8; size]; // just big enough
    ///     assert_eq!(a.recv(&mut buf).await?, 12);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> impl Op<Output = Result<usize>> + 'a {
        Len(DgramRecv::new(&self.core, buf, flags, "recv"))
    }

    /// [`recv_from`](Udp::recv_from) with [`RecvFlags`] (the seed's `recvnext(buf,
    /// maxlen, expires, flags)`), as [`recv_with`](Udp::recv_with): the datagram's
    /// length (its real length with `TRUNC`) and its source.
    ///
    /// # Errors
    ///
    /// As [`recv_with`](Udp::recv_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::io::RecvFlags;
    ///
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.send_to(b"ping", &a.local_addr()?).await?;
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = a.recv_from_with(&mut buf, RecvFlags::PEEK).await?;
    ///     assert_eq!((n, from.port()), (4, b.local_addr()?.port()));
    ///     assert_eq!(a.recv_from(&mut buf).await?.0, 4); // the peeked datagram, again
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "recvnext_with")]
    pub fn recv_from_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> impl Op<Output = Result<(usize, SockAddr)>> + 'a {
        MapAddr(DgramRecv::new(&self.core, buf, flags, "recvnext"))
    }

    /// Sends `buf` as one datagram to the first address of `to`, connected or not: an
    /// already resolved address, or a `(host, port)` / `(host, port, flags)` lookup (the
    /// seed's `sendto(host, port, buf, len, expires, af)`; see [`ToAddrs`]), resolved
    /// off the loop.
    ///
    /// # Errors
    ///
    /// A lookup error, [`ErrorKind::MessageTooLong`], …; [`ErrorKind::InvalidInput`] for an empty target;
    /// with [`Flags::NUMERICHOST`](crate::Flags) a host that is not a numeric address
    /// fails at once with [`ErrorKind::HostNotFound`], never asking a name server.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    ///
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.send_to(b"ping", &a.local_addr()?).await?;
    ///     let mut buf = [0u8; 8];
    ///     let (_, from) = a.recv_from(&mut buf).await?;
    ///     a.send_to(b"pong", &from).await?; // answer the sender
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"pong");
    ///     let port = a.local_addr()?.port();
    ///     b.send_to(b"no dns", &("127.0.0.1", port, Flags::NUMERICHOST)).await?;
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "sendto")]
    pub fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        to: &impl ToAddrs,
    ) -> impl Op<Output = Result<usize>> + 'a {
        match addr::target_of(to) {
            addr::Target::Addrs(addrs) => Either::Left(self.send_to_first(&addrs, buf)),
            lookup => {
                let lookup = lookup.into_owned();
                Either::Right(Boxed(
                    "sendto",
                    Box::pin(async move {
                        let addrs =
                            addr::remote_addrs(lookup, self.family(), self.socktype()).await?;
                        self.send_to_first(&addrs, buf).await
                    }),
                ))
            }
        }
    }

    /// Sends one datagram to the first of `addrs`.
    fn send_to_first<'a>(
        &'a self,
        addrs: &[SockAddr],
        buf: &'a [u8],
    ) -> impl Op<Output = Result<usize>, Timer = sock_sched::Sleep> + Unpin + use<'a> {
        let to = match addrs.first() {
            Some(to) => self
                .core
                .prepare_for(to.family(), false)
                .and_then(|()| to_socket2(to)),
            None => Err(Error::new(ErrorKind::InvalidInput, "no address to send to")),
        };
        // An unconnected unix datagram socket is reported writable whatever the
        // receiver's queue holds: a full receiver is waited out on a timer.
        let backoff = self.family() == Family::UNIX;
        #[cfg(feature = "sim")]
        let first = addrs.first().cloned();
        crate::op::sim_or!(
            self.core,
            |sim| sim.op(Direction::Write, "sendto", move |s| match &first {
                Some(to) => s.udp_send_to(buf, to),
                None => Err(Error::new(ErrorKind::InvalidInput, "no address to send to")),
            }),
            IoOp::with_backoff(
                &self.core,
                Direction::Write,
                move |s: socket2::SockRef<'_>| match &to {
                    Ok(to) => s.send_to_with_flags(buf, to, sys::SEND_FLAGS),
                    Err(e) => Err(io::Error::from(e.clone_kind())),
                },
                backoff,
            )
            .named("sendto")
        )
    }

    /// Receives the next datagram from anyone (still filtered if connected), with its
    /// source address.
    ///
    /// # Errors
    ///
    /// As [`recv`](Udp::recv).
    ///
    /// # Examples
    ///
    /// See [`Udp`].
    #[doc(alias = "recvnext")]
    pub fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Op<Output = Result<(usize, SockAddr)>> + 'a {
        crate::op::sim_or!(
            self.core,
            |sim| sim.op(Direction::Read, "recvnext", move |s| s
                .udp_recv_from(&mut *buf)),
            MapAddr(
                IoOp::new(
                    &self.core,
                    Direction::Read,
                    move |s: socket2::SockRef<'_>| recv_from(&s, buf),
                )
                .named("recvnext")
            )
        )
    }
}

/// One datagram without the source (not asked for: no address is copied out, see
/// `sys::recv_datagram`): the length, and truncation reported as an error.
pub(crate) fn recv(s: &socket2::SockRef<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len();
    let (n, cut) = match sys::recv_datagram(s, buf) {
        // Windows reports a truncated datagram as WSAEMSGSIZE, the buffer filled.
        Err(e) if e.raw_os_error().is_some_and(sys::is_truncation_error) => {
            return Err(truncated(len));
        }
        r => r?,
    };
    match cut {
        true => Err(truncated(len)),
        false => Ok(n),
    }
}

/// One `recvmsg`: the length, the source, and truncation reported as an error.
pub(crate) fn recv_from(
    s: &socket2::SockRef<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, socket2::SockAddr)> {
    recv_from_flags(s, buf, 0)
}

/// One `recvmsg` with the OS's `MSG_*` `flags`: the length, the source, and truncation
/// reported as an error — unless `MSG_TRUNC` asked for the real length (Linux).
/// Inlined: `recv_from`'s constant flags then cost nothing on every datagram.
#[inline]
pub(crate) fn recv_from_flags(
    s: &socket2::SockRef<'_>,
    buf: &mut [u8],
    os_flags: i32,
) -> io::Result<(usize, socket2::SockAddr)> {
    let len = buf.len();
    let mut bufs = [socket2::MaybeUninitSlice::new(crate::recv_with::uninit(
        buf,
    ))];
    let (n, flags, from) = match s.recv_from_vectored_with_flags(&mut bufs, os_flags) {
        // Windows reports a truncated datagram as WSAEMSGSIZE, the buffer filled.
        Err(e) if e.raw_os_error().is_some_and(sys::is_truncation_error) => {
            return Err(truncated(len));
        }
        r => r?,
    };
    // Truncated means longer than the buffer, so the buffer is full (Windows may report
    // 0 bytes alongside the flag). Asked for with `MSG_TRUNC`, `n` is the real length.
    if flags.is_truncated() && !sys::asks_real_length(os_flags) {
        return Err(truncated(len));
    }
    Ok((n, from))
}

/// The error of a datagram longer than the buffer, of which the first `kept` bytes were
/// received: [`ErrorKind::MessageTooLong`] once converted, `kept` bytes transferred.
pub(crate) fn truncated(kept: usize) -> io::Error {
    io::Error::other(Truncated { kept })
}

/// A datagram longer than the buffer: the first `kept` bytes were received.
#[derive(Debug, thiserror::Error)]
#[error("datagram truncated to {kept} bytes")]
pub(crate) struct Truncated {
    pub(crate) kept: usize,
}

/// `send` on a datagram socket: one datagram to the connected address, through
/// `Core::poll_send_datagram`.
struct SendOne<'a> {
    /// The write side's claim.
    waiter: Waiter<'a>,
    /// The datagram.
    buf: &'a [u8],
}

impl std::future::Future for SendOne<'_> {
    type Output = Result<usize>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<usize>> {
        let this = &mut *self;
        let waiter = &mut this.waiter;
        waiter
            .core
            .poll_send_datagram(cx, &mut waiter.wait, this.buf)
    }
}

impl Op for SendOne<'_> {
    type Timer = sock_sched::Sleep;
    fn name(&self) -> &'static str {
        "send"
    }
}

/// Maps `recvnext`'s socket2 address into sock-addr's.
struct MapAddr<O>(O);

impl<O> std::future::Future for MapAddr<O>
where
    O: std::future::Future<Output = Result<(usize, socket2::SockAddr)>> + Unpin,
{
    type Output = Result<(usize, SockAddr)>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let (n, from) = std::task::ready!(std::pin::Pin::new(&mut self.0).poll(cx))?;
        std::task::Poll::Ready(source_from_socket2(&from).map(|a| (n, a)))
    }
}

impl<O> Op for MapAddr<O>
where
    O: std::future::Future<Output = Result<(usize, socket2::SockAddr)>> + Op + Unpin,
{
    type Timer = O::Timer;

    fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl std::fmt::Debug for Udp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Udp")
            .field("family", &self.family())
            .field("socktype", &self.socktype())
            .finish_non_exhaustive()
    }
}

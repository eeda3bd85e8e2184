//! [`SharedTcp`]: a `Send` TCP socket of the shared-poller mode, and its operations.
//!
//! The socket is registered in a [`SharedLoop`]'s kernel poller, so its events go to
//! whichever worker dequeues them. Operations are futures like the loop-mode ones —
//! try the syscall, park on `WouldBlock` — and take deadlines the same way,
//! `s.recv(&mut buf).expires(t).await`, on the timers of the worker running the task.
//! Only what the shared mode needs is here: listen/accept, connect (several addresses
//! by Happy Eyeballs, `eyeballs.rs`, as in the loop mode), send/recv, shutdown, close.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sock_addr::{Family, Port, SockAddr, SocketType};
use sock_sched::mt;
use socket2::SockRef;

use super::io::{self, IoWait, Parking, boxed};
use super::shared::SharedLoop;
use super::slot::IoSlot;
use super::sys::{self, Dir};
use crate::error::{Error, ErrorKind, Result};
use crate::eyeballs::{self, Plan, Race};
use crate::op::Op;
use crate::recv_flags::RecvFlags;
use crate::socket::{from_socket2, to_socket2};
use crate::target::{self, ToAddrs};
use crate::tcp::Shutdown;
use crate::transfer;

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
    /// The registered socket (refilled by a connect that tries several addresses, and
    /// by the first bind of a `Family::UNSPEC` socket), and its family.
    slot: Arc<IoSlot>,
    /// The family it was made with: `UNSPEC` binds and connects to either.
    family: Family,
}

impl SharedTcp {
    /// A TCP socket on this thread's current [`SharedLoop`] (on a worker: the loop it
    /// works for). With [`Family::UNSPEC`] it binds and connects to addresses of either
    /// IP family: it starts as an IPv6 socket (IPv4 where the host has no IPv6), and
    /// its first bind, or a connect, to an address of the other family replaces it with
    /// one of that family (options set so far are copied over).
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
        #[cfg(feature = "sim")]
        if let Some(sim) = lp.sim() {
            let slot = IoSlot::simulated(sim.tcp(family)?, lp);
            return Ok(SharedTcp {
                slot: Arc::new(slot),
                family,
            });
        }
        let (io, actual) = match family {
            Family::UNSPEC => open_io(lp, Family::INET6)
                .map(|io| (io, Family::INET6))
                .or_else(|_| open_io(lp, Family::INET).map(|io| (io, Family::INET)))?,
            _ => (open_io(lp, family)?, family),
        };
        Ok(SharedTcp {
            slot: Arc::new(IoSlot::new(io, actual, lp)),
            family,
        })
    }

    /// A socket of `family` around `io`, registered in `lp`.
    fn with_io(io: sys::SharedIo, family: Family, lp: &SharedLoop) -> SharedTcp {
        SharedTcp {
            slot: Arc::new(IoSlot::new(io, family, lp)),
            family,
        }
    }

    /// Makes sure the socket can bind or connect to an address of `family`: a
    /// `Family::UNSPEC` socket of the other family is replaced by a fresh one of
    /// `family`, with the options set so far.
    fn prepare_for(&self, family: Family) -> Result<()> {
        if self.family != Family::UNSPEC || self.slot.family() == family {
            return Ok(());
        }
        let io = open_io(&self.slot.home()?, family)?;
        crate::opt::copy(
            &SockRef::from(self.io().socket()),
            &SockRef::from(io.socket()),
        );
        self.slot.replace(io, family);
        Ok(())
    }

    /// The simulated socket, on a simulated host.
    #[cfg(feature = "sim")]
    pub(super) fn sim_open(&self) -> Option<&crate::sim::shared::SimIo> {
        self.slot.sim_open()
    }

    /// The current OS socket.
    pub(super) fn io(&self) -> &sys::SharedIo {
        self.slot.get()
    }

    /// The current OS socket, for a borrowed handle (`raw.rs`): a replaced or closed
    /// one stays open as long as the slot, so the borrow never dangles.
    pub(crate) fn socket(&self) -> &socket2::Socket {
        self.io().socket()
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
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.bind("127.0.0.1", 0)?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind(&self, host: &str, port: impl Into<Port>) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().bind(host, port);
        }
        let addrs = target::local(host, port.into(), self.family, SocketType::STREAM)?;
        self.bind_first(&addrs, false)
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
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.bind_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// assert_ne!(s.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind_to(&self, target: &impl ToAddrs) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().bind_to(target);
        }
        let target = target::target_of(target);
        let addrs = target::local_addrs(target, self.family, SocketType::STREAM)?;
        self.bind_first(&addrs, false)
    }

    /// Binds to the first of `addrs` (in its family: a flexible socket is replaced by
    /// one of that family first), setting `so_reuseaddr` before when `reuse`.
    fn bind_first(&self, addrs: &[SockAddr], reuse: bool) -> Result<()> {
        let addr = addrs
            .first()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no address to bind to"))?;
        self.prepare_for(addr.family())?;
        if reuse {
            self.io().socket().set_reuse_address(true)?;
        }
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
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().listen(host, port);
        }
        let addrs = target::local(host, port.into(), self.family, SocketType::STREAM)?;
        self.listen_on(&addrs)
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
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// let e = s.listen_to(&("localhost", 0, Flags::NUMERICHOST)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::HostNotFound);
    /// s.listen_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn listen_to(&self, target: &impl ToAddrs) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().listen_to(target);
        }
        let target = target::target_of(target);
        self.listen_on(&target::local_addrs(
            target,
            self.family,
            SocketType::STREAM,
        )?)
    }

    /// Binds to the first of `addrs` (with `so_reuseaddr` on Unix) and listens with the
    /// OS's maximum backlog.
    fn listen_on(&self, addrs: &[SockAddr]) -> Result<()> {
        self.bind_first(addrs, crate::sys::LISTEN_REUSEADDR)?;
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
    pub fn accept(&self) -> impl Op<Output = Result<SharedTcp>, Timer = mt::Sleep> + Send + '_ {
        crate::op::sim_or!(
            self.slot,
            |sim| crate::sim::shared::local_map(sim.tcp().accept(), accepted(self)),
            {
                let family = self.slot.family();
                IoWait::new(self.io(), Dir::Read, "accept", move |io, cx| {
                    let socket = std::task::ready!(io.poll_accept(cx))?;
                    let lp = SharedLoop::current();
                    let io = sys::SharedIo::register(socket, lp.poller(), lp.table())?;
                    Poll::Ready(Ok(SharedTcp::with_io(io, family, &lp)))
                })
            }
        )
    }

    /// Connects to the addresses of `target`: addresses resolved already, or a
    /// `(host, port, flags)` lookup (the seed's `connect(host, port, expires, af)`; see
    /// [`ToAddrs`]), resolved off the loop; several addresses by Happy Eyeballs, as
    /// [`connect`](SharedTcp::connect) does. Addresses of another family than the
    /// socket's are skipped (a [`Family::UNSPEC`] socket takes both).
    ///
    /// # Errors
    ///
    /// As [`connect`](SharedTcp::connect); [`ErrorKind::NoAddress`] when no address has
    /// the socket's family, [`ErrorKind::InvalidInput`] for an empty list; with
    /// [`Flags::NUMERICHOST`](crate::Flags) a host that is not a numeric address fails
    /// at once with [`ErrorKind::HostNotFound`], never asking a name server.
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn connect_to(
        &self,
        target: &impl ToAddrs,
    ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            let op = crate::sim::shared::local(sim.tcp().connect_to(target));
            return boxed("connect", op);
        }
        match target::target_of(target) {
            target::Target::Addrs(addrs) => {
                boxed("connect", self.connect_addrs(addrs.into_owned()))
            }
            lookup => {
                let lookup = lookup.into_owned();
                boxed("connect", async move {
                    let stream = SocketType::STREAM;
                    let addrs = target::remote_addrs(lookup, self.family, stream).await?;
                    self.connect_addrs(addrs).await
                })
            }
        }
    }

    /// Connects to `host:port`, resolved off the loop ([`addr::resolve`](crate::addr::resolve): numeric
    /// hosts at once, names on the resolver pool); for [`Family::UNIX`] `host` is the
    /// path. Several addresses are connected as [`Tcp::connect`](crate::Tcp::connect)
    /// does it (Happy Eyeballs, RFC 8305): attempts started
    /// [`Tcp::attempt_delay`](crate::Tcp::attempt_delay) apart, IPv6 first, the first
    /// to connect winning and becoming this socket (every clone sees it), the others
    /// closed, all within the operation's deadline; a socket made with a family
    /// connects only to addresses of that family. An extra attempt's fresh socket gets
    /// this socket's options and bound IP.
    ///
    /// # Errors
    ///
    /// When every address fails, the error of the one that failed last, naming its
    /// address: [`ErrorKind::ConnectionRefused`], [`ErrorKind::HostNotFound`], a
    /// timeout, …
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn connect<'a>(
        &'a self,
        host: &'a str,
        port: impl Into<Port>,
    ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + 'a {
        let port = port.into();
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            let op = crate::sim::shared::local(sim.tcp().connect(host, port));
            return boxed("connect", op);
        }
        boxed("connect", async move {
            let addrs = target::remote(host, port, self.family, SocketType::STREAM).await?;
            self.connect_addrs(addrs).await
        })
    }

    /// Connects to one address directly, to several by Happy Eyeballs; a fresh socket
    /// that wins replaces this one's.
    async fn connect_addrs(&self, addrs: Vec<SockAddr>) -> Result<()> {
        if let [addr] = &addrs[..] {
            eyeballs::check_family(addr, self.family)?;
            self.prepare_for(addr.family())?;
            return connect_io(self.io(), addr).await;
        }
        let plan = Plan::new(&addrs, self.family, eyeballs::delay())?;
        let attempts = SharedAttempts {
            tcp: self,
            own_used: false,
        };
        match Race::new(plan, attempts).await? {
            Some((io, family)) => self.take_over(io, family),
            None => Ok(()),
        }
    }

    /// Makes `io`, a fresh socket that connected, this socket's.
    fn take_over(&self, io: sys::SharedIo, family: Family) -> Result<()> {
        if self.is_closed() {
            io.close();
            return Err(Error::closed());
        }
        self.slot.replace(io, family);
        Ok(())
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
    pub fn send<'a>(
        &'a self,
        buf: &'a [u8],
    ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self.slot,
            |sim| crate::sim::shared::local(sim.tcp().send(buf)),
            transfer::SendAll::new(Parking::new(self.io(), Dir::Write), buf)
        )
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
    pub fn recv<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self.slot,
            |sim| crate::sim::shared::local(sim.tcp().recv(buf)),
            IoWait::new(self.io(), Dir::Read, "recv", move |io, cx| {
                io.poll_recv(cx, buf)
            })
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
    /// use sock::{Family, io::RecvFlags, shared::{SharedLoop, SharedTcp}};
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
    ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'a {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            let op = crate::sim::shared::local(sim.tcp().recv_with(buf, flags));
            return crate::op::Either::Right(op);
        }
        let (os, invalid) = match flags.for_stream() {
            Ok(os) => (os, None),
            Err(e) => (0, Some(e)),
        };
        let op = RecvWith {
            parking: Parking::new(self.io(), Dir::Read),
            buf,
            flags,
            os,
            invalid,
            got: 0,
        };
        #[cfg(feature = "sim")]
        let op = crate::op::Either::Left(op);
        op
    }

    /// Fills `buf` exactly. On failure the error carries the bytes received; a peer
    /// that closes early gives [`ErrorKind::Eof`], as in the loop mode.
    ///
    /// # Errors
    ///
    /// As [`recv`](SharedTcp::recv).
    ///
    /// # Examples
    ///
    /// See [`SharedLoop`].
    pub fn recvn<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + 'a {
        crate::op::sim_or!(
            self.slot,
            |sim| crate::sim::shared::local(sim.tcp().recvn(buf)),
            transfer::RecvN::new(Parking::new(self.io(), Dir::Read), buf)
        )
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
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// assert!(s.shutdown(sock::Shutdown::Write).is_err()); // not connected
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().shutdown(how);
        }
        Ok(self.io().socket().shutdown(how)?)
    }

    /// Closes the socket for every handle: waiting operations fail with
    /// [`ErrorKind::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.close();
    /// assert!(s.is_closed());
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn close(&self) {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            let _ = sim.tcp().close(); // a second close is a no-op, as here
            return;
        }
        self.io().close();
    }

    /// Whether [`close`](SharedTcp::close) was called.
    ///
    /// # Examples
    ///
    /// See [`close`](SharedTcp::close).
    pub fn is_closed(&self) -> bool {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().is_closed();
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
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// let lp = sock::shared::SharedLoop::new()?;
    /// let s = lp.tcp(sock::Family::INET)?;
    /// s.setopt("tcp_nodelay", true)?;
    /// assert_eq!(s.getopt("tcp_nodelay")?, sock::io::OptValue::Bool(true));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn setopt(&self, name: &str, value: impl Into<crate::io::OptValue>) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().setopt(name, value);
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
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().getopt(name);
        }
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
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// lp.tcp(sock::Family::INET)?.set_nodelay(true)?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().set_nodelay(on);
        }
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
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().local_addr();
        }
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
    /// # let lp = sock::shared::SharedLoop::new()?;
    /// assert!(lp.tcp(sock::Family::INET)?.remote_addr().is_err());
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn remote_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.slot.sim_open() {
            return sim.tcp().remote_addr();
        }
        from_socket2(&self.io().socket().peer_addr()?)
    }
}

/// One connect of `io` to `addr`; its error names the address.
async fn connect_io(io: &sys::SharedIo, addr: &SockAddr) -> Result<()> {
    let target = to_socket2(addr)?;
    let mut started = false;
    IoWait::new(
        io,
        Dir::Write,
        "connect",
        |io: &sys::SharedIo, cx: &mut Context<'_>| io.poll_connect(&target, &mut started, cx),
    )
    .await
    .map_err(|e| e.context(format!("connect {addr}")))
}

/// The shared mode's connect attempts: the socket makes the first one of its current
/// family, fresh sockets like it (registered in its loop) the others.
struct SharedAttempts<'a> {
    /// The caller's socket.
    tcp: &'a SharedTcp,
    /// Whether the caller's socket made its attempt.
    own_used: bool,
}

/// A fresh socket that connected, and its family.
type Fresh = (sys::SharedIo, Family);

/// One shared-mode attempt; a fresh socket that connected, or `None` for the caller's.
type SharedAttempt<'a> = Pin<Box<dyn Future<Output = Result<Option<Fresh>>> + Send + 'a>>;

impl<'a> eyeballs::Attempts for SharedAttempts<'a> {
    type Won = Option<Fresh>;
    type Attempt = SharedAttempt<'a>;
    type Timer = mt::Sleep;

    fn start(&mut self, addr: SockAddr) -> SharedAttempt<'a> {
        let tcp = self.tcp;
        if !self.own_used && tcp.slot.family() == addr.family() {
            self.own_used = true;
            return Box::pin(async move { connect_io(tcp.io(), &addr).await.map(|()| None) });
        }
        Box::pin(async move {
            let io = fresh_like(tcp, addr.family())?;
            connect_io(&io, &addr).await?;
            Ok(Some((io, addr.family())))
        })
    }
}

/// A fresh socket of `family` for an extra attempt, in `tcp`'s loop, with its options
/// and bound IP (`eyeballs::inherit`).
fn fresh_like(tcp: &SharedTcp, family: Family) -> Result<sys::SharedIo> {
    if tcp.is_closed() {
        return Err(Error::closed());
    }
    let io = open_io(&tcp.slot.home()?, family)?;
    let (from, to) = (tcp.io().socket(), io.socket());
    eyeballs::inherit(&SockRef::from(from), &SockRef::from(to), family)?;
    Ok(io)
}

/// A new stream socket of `family` registered in `lp`'s poller: TCP, or a unix-domain
/// stream socket for [`Family::UNIX`].
/// What a simulated accept's connection becomes: a `SharedTcp` of `listener`'s loop.
#[cfg(feature = "sim")]
fn accepted(listener: &SharedTcp) -> impl FnMut(Result<crate::Tcp>) -> Result<SharedTcp> + Send {
    let (home, family) = (listener.slot.home().ok(), listener.family);
    move |conn| {
        let home = home.as_ref().ok_or_else(Error::closed)?;
        let slot = IoSlot::simulated(crate::sim::shared::SimIo::accepted(conn?), home);
        Ok(SharedTcp {
            slot: Arc::new(slot),
            family,
        })
    }
}

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

/// `recv_with`: one read with the flags, or (`WAITALL`) reads until the buffer is full
/// or the peer closed.
///
/// # Examples
///
/// See [`SharedTcp::recv_with`].
struct RecvWith<'a> {
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

impl Future for RecvWith<'_> {
    type Output = Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = &mut *self;
        if let Some(e) = this.invalid.take() {
            return Poll::Ready(Err(e));
        }
        let (waitall, os) = (this.flags.contains(RecvFlags::WAITALL), this.os);
        let parking = &mut this.parking;
        let r = transfer::poll_receive(cx, this.buf, &mut this.got, waitall, |cx, rest| {
            if !Parking::may_try(cx) {
                return Poll::Pending;
            }
            parking.poll(cx, |io, cx| io.poll_recv_flags(cx, rest, os))
        });
        match r {
            Poll::Ready(Err(e)) if this.flags.contains(RecvFlags::OOB) => {
                Poll::Ready(Err(crate::recv_with::oob_error(e)))
            }
            r => r,
        }
    }
}

impl Op for RecvWith<'_> {
    type Timer = mt::Sleep;

    fn name(&self) -> &'static str {
        "recv"
    }

    fn transferred(&self) -> usize {
        self.got
    }
}

impl fmt::Debug for RecvWith<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvWith")
            .field("got", &self.got)
            .finish_non_exhaustive()
    }
}

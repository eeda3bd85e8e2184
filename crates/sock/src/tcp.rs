//! [`Tcp`]: stream sockets (TCP, and unix-domain streams with [`Family::UNIX`]).

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use sock_addr::{Family, Port, Protocol, SockAddr, SocketType};
use sock_poll::Direction;

use crate::error::Result;
#[allow(
    unused_imports,
    reason = "`Error` and `ErrorKind` are the targets of this file's doc links"
)]
use crate::error::{Error, ErrorKind};
use crate::eyeballs::{self, Plan, Race};
use crate::op::{Boxed, IoOp, Op};
use crate::opt::OptValue;
use crate::recv_flags::RecvFlags;
use crate::recv_with::StreamRecv;
use crate::socket::{Core, Waiter, to_socket2};
use crate::sys;
use crate::target::{self as addr, ToAddrs};
use crate::transfer;

/// Makes a stream socket: TCP for [`Family::INET`]/[`Family::INET6`], a unix-domain
/// stream for [`Family::UNIX`]. The socket belongs to the current OS thread's loop.
///
/// # Errors
///
/// The OS error of `socket(2)`, e.g. [`ErrorKind::TooManyOpenFiles`].
///
/// # Examples
///
/// ```
/// let s = sock::tcp(sock::Family::INET)?;
/// assert_eq!(s.socktype(), sock::addr::SocketType::STREAM);
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "sock.tcp")]
pub fn tcp(family: Family) -> Result<Tcp> {
    let protocol = if family == Family::UNIX {
        Protocol::IP
    } else {
        Protocol::TCP
    };
    Ok(Tcp {
        core: Core::open(family, SocketType::STREAM, protocol)?,
    })
}

/// A stream socket: a listener, or one end of a connection.
///
/// Cloning gives another handle to the same socket (so one task can read while another
/// writes); [`close`](Tcp::close) closes it for every handle, and dropping the last
/// handle closes it too.
///
/// # Examples
///
/// ```
/// sock::run(async {
///     let server = sock::tcp(sock::Family::INET)?;
///     server.listen("127.0.0.1", 0)?;
///     let port = server.local_addr()?.port();
///     sock::thread(async move {
///         let conn = server.accept().await?;
///         let mut buf = [0u8; 5];
///         conn.recvn(&mut buf).await?;
///         conn.send(&buf).await
///     });
///     let client = sock::tcp(sock::Family::INET)?;
///     client.connect("127.0.0.1", port).await?;
///     client.send(b"hello").await?;
///     let mut buf = [0u8; 5];
///     client.recvn(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone)]
pub struct Tcp {
    core: Rc<Core>,
}

crate::common::socket_common!(Tcp, "sock::tcp(sock::Family::INET)?");

impl Tcp {
    /// [`sock::tcp`](tcp): a stream socket of `family` on this OS thread's loop — the
    /// constructor style of both modes (`SharedTcp::new` is the shared mode's).
    ///
    /// # Errors
    ///
    /// As [`tcp`].
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::Tcp::new(sock::Family::INET6)?;
    /// assert_eq!(s.family(), sock::Family::INET6);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn new(family: Family) -> Result<Tcp> {
        tcp(family)
    }

    /// Wraps a registered socket core.
    pub(crate) fn from_core(core: Rc<Core>) -> Tcp {
        Tcp { core }
    }

    /// The socket core.
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// This handle's share of the socket core.
    pub(crate) fn into_core(self) -> Rc<Core> {
        self.core
    }
}

/// Which directions [`Tcp::shutdown`] and
/// [`SharedTcp::shutdown`](crate::shared::SharedTcp::shutdown) close: `Read` (later reads see
/// EOF), `Write` (a FIN follows the data already sent; the peer reads EOF) or `Both`.
/// It is `std::net::Shutdown` itself, so values from code written for std pass
/// straight through.
///
/// # Examples
///
/// Half-close: the client says it is done sending and still reads the answer.
///
/// ```
/// use sock::{Family, Shutdown};
///
/// sock::run(async {
///     let server = sock::tcp(Family::INET)?;
///     server.listen("127.0.0.1", 0)?;
///     let port = server.local_addr()?.port();
///     sock::thread(async move {
///         let conn = server.accept().await?;
///         let request = conn.recvall().await?; // until the client's FIN
///         conn.send(&request).await
///     });
///     let client = sock::tcp(Family::INET)?;
///     client.connect("127.0.0.1", port).await?;
///     client.send(b"all of it").await?;
///     client.shutdown(Shutdown::Write)?;
///     assert_eq!(client.recvall().await?, b"all of it");
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
///
/// # In std's documentation
///
pub use std::net::Shutdown;

impl Tcp {
    /// How long a connect to several addresses waits after starting one attempt before
    /// it starts the next (RFC 8305's Connection Attempt Delay, 250 ms), unless an
    /// attempt fails first; see [`connect`](Tcp::connect). The value in use is
    /// [`attempt_delay`](Tcp::attempt_delay).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::Tcp::ATTEMPT_DELAY, std::time::Duration::from_millis(250));
    /// ```
    #[doc(alias = "happy eyeballs")]
    pub const ATTEMPT_DELAY: Duration = eyeballs::DEFAULT_DELAY;

    /// The delay between the starts of two connect attempts now in use, for the whole
    /// process and both threading modes ([`SharedTcp`](crate::shared::SharedTcp) too).
    ///
    /// # Examples
    ///
    /// See [`set_attempt_delay`](Tcp::set_attempt_delay).
    pub fn attempt_delay() -> Duration {
        eyeballs::delay()
    }

    /// Sets the delay between the starts of two connect attempts for the whole process
    /// and both modes, clamped to RFC 8305's bounds, 10 ms ..= 2 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::Tcp;
    ///
    /// Tcp::set_attempt_delay(Duration::from_millis(100));
    /// assert_eq!(Tcp::attempt_delay(), Duration::from_millis(100));
    /// Tcp::set_attempt_delay(Duration::ZERO); // below the RFC's floor
    /// assert_eq!(Tcp::attempt_delay(), Duration::from_millis(10));
    /// Tcp::set_attempt_delay(Tcp::ATTEMPT_DELAY);
    /// ```
    pub fn set_attempt_delay(d: Duration) {
        eyeballs::set_delay(d);
    }

    /// Listens on `host:port` with the OS's maximum backlog, binding first unless the
    /// socket is already bound (then `host` and `port` are ignored, as in the seed). The
    /// bind sets `so_reuseaddr` first on Unix (a restarted server gets its port back
    /// while old connections linger in `TIME_WAIT`), not on Windows, where it would let
    /// another socket take the port.
    ///
    /// # Errors
    ///
    /// As [`bind`](Tcp::bind), and the OS error of `listen(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::tcp(sock::Family::INET)?;
    /// s.listen("127.0.0.1", 0)?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn listen(&self, host: &str, port: impl Into<Port>) -> Result<()> {
        self.listen_with_backlog(i32::MAX, host, port)
    }

    /// [`listen`](Tcp::listen) with an explicit backlog (the OS clamps it to its maximum).
    ///
    /// # Errors
    ///
    /// As [`listen`](Tcp::listen).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::tcp(sock::Family::INET)?;
    /// s.listen_with_backlog(16, "127.0.0.1", 0)?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn listen_with_backlog(
        &self,
        backlog: i32,
        host: &str,
        port: impl Into<Port>,
    ) -> Result<()> {
        self.listen_after(backlog, || self.bind(host, port))
    }

    /// [`listen`](Tcp::listen) on the first address of `target` (binding first unless
    /// bound): an already resolved address, or a `(host, port, flags)` lookup (the
    /// seed's `listen(host, port, af)`; see [`ToAddrs`]), made now with `PASSIVE` added.
    ///
    /// # Errors
    ///
    /// As [`listen`](Tcp::listen); `InvalidInput` for an empty target; with
    /// [`Flags::NUMERICHOST`](crate::Flags) `HostNotFound` at once for a host that is
    /// not a numeric address.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{ErrorKind, Family, Flags};
    ///
    /// let s = sock::tcp(Family::INET)?;
    /// let e = s.listen_to(&("localhost", 0, Flags::NUMERICHOST)).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::HostNotFound); // not numeric: no lookup at all
    /// s.listen_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn listen_to(&self, target: &impl ToAddrs) -> Result<()> {
        self.listen_after(i32::MAX, || self.bind_to(target))
    }

    /// Listens with `backlog`, calling `bind` first (after setting `so_reuseaddr` where
    /// [`sys::LISTEN_REUSEADDR`] says so) unless the socket is bound already.
    fn listen_after(&self, backlog: i32, bind: impl FnOnce() -> Result<()>) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.core.sim_open() {
            return sim.listen(backlog, bind);
        }
        if !self.is_bound() {
            if sys::LISTEN_REUSEADDR && self.family() != Family::UNIX {
                self.core.setopt("so_reuseaddr", OptValue::Bool(true))?;
            }
            bind()?;
        }
        sys::reserve_spare_fd();
        self.core.with(|s| s.listen(backlog))
    }

    fn is_bound(&self) -> bool {
        match self.core.local_addr() {
            Ok(a) => a.as_socket().is_none_or(|sa| sa.port() != 0),
            Err(_) => false,
        }
    }

    /// Accepts a connection. The new socket knows its [`remote_addr`](Tcp::remote_addr)
    /// and [`local_addr`](Tcp::local_addr).
    ///
    /// # Errors
    ///
    /// Per connection or passing — the listener is fine, accept again
    /// ([`Error::is_transient_accept`](crate::Error::is_transient_accept) says which):
    /// - [`ErrorKind::TooManyOpenFiles`] when out of fds (`EMFILE`/`ENFILE`) and a
    ///   connection was waiting: it is refused (reset) so that the next call does not
    ///   spin on it. With none waiting, `accept` just waits for one (Linux says `EMFILE`
    ///   before it looks: sock looks itself).
    /// - [`ErrorKind::ConnectionAborted`] (`ECONNABORTED`: the peer gave up while the
    ///   connection waited), `EPROTO`, [`ErrorKind::AccessDenied`] (`EPERM`: a firewall
    ///   rule), [`ErrorKind::OutOfMemory`] (`ENOBUFS`, `ENOMEM`: back off a little, the
    ///   connection may still wait), [`ErrorKind::Timeout`] (`ETIMEDOUT`, or the
    ///   operation's deadline), and the network errors Linux passes on from the new
    ///   connection: `ENETDOWN`, `ENETUNREACH`, `EHOSTDOWN`, `EHOSTUNREACH`, `ENONET`,
    ///   `ENOPROTOOPT`, `EOPNOTSUPP`.
    ///
    /// Fatal — every later call fails the same way, stop accepting:
    /// [`ErrorKind::Closed`], [`ErrorKind::InvalidInput`] (`EINVAL`: not listening),
    /// `EBADF`, `ENOTSOCK`.
    ///
    /// On Windows, which has no per-process limit, `TooManyOpenFiles` (`WSAEMFILE`) and
    /// `OutOfMemory` (`WSAENOBUFS`) leave the connection waiting: back off before
    /// accepting again.
    ///
    /// # Examples
    ///
    /// See [`Tcp`].
    pub fn accept(&self) -> impl Op<Output = Result<Tcp>> + '_ {
        Accept {
            inner: IoOp::new(&self.core, Direction::Read, |s: socket2::SockRef<'_>| {
                sys::accept(&s)
            }),
            family: self.family(),
        }
    }

    /// Connects to `host:port`, resolved off the loop; for [`Family::UNIX`] `host` is
    /// the path. A name with several addresses is connected by Happy Eyeballs
    /// (RFC 8305): the attempts start [`ATTEMPT_DELAY`](Tcp::ATTEMPT_DELAY) apart
    /// (at once after one fails), IPv6 and IPv4 interleaved, IPv6 first, and run
    /// concurrently; the first to connect wins and the others are closed — all within
    /// the operation's one deadline (see [`Expires`](crate::Expires)), so a blackholed
    /// address costs the delay, not the deadline.
    ///
    /// The lookup asks for the socket's family: a socket made with [`Family::INET`]
    /// connects only to IPv4 addresses (as the seed's socket, made with a family too),
    /// one made with [`Family::UNSPEC`] to either. The socket makes the first attempt
    /// (of its family); every other attempt runs on a fresh socket that gets this
    /// socket's options (each one whose value differs from a fresh socket's) and bound
    /// IP (not its port), and if one of those connects first it replaces this socket's
    /// OS socket. A single address is connected directly, as a plain `connect(2)`.
    ///
    /// # Errors
    ///
    /// When every address fails, the error of the attempt that failed last, naming
    /// its address (`connect 127.0.0.1:9: connection_refused`):
    /// [`ErrorKind::ConnectionRefused`], [`ErrorKind::HostNotFound`],
    /// [`ErrorKind::Timeout`] (the deadline, with the attempts still running), …
    /// [`ErrorKind::NetworkUnreachable`] also for an address behind a blackhole route
    /// (Linux's `EINVAL`); [`ErrorKind::InProgress`] when an earlier connect of this
    /// socket has not finished (one that timed out: close the socket and use a new one);
    /// [`ErrorKind::Closed`] when the socket is closed meanwhile.
    ///
    /// # Examples
    ///
    /// See [`Tcp`].
    pub fn connect<'a>(
        &'a self,
        host: &'a str,
        port: impl Into<Port>,
    ) -> impl Op<Output = Result<()>> + 'a {
        let port = port.into();
        Boxed(
            "connect",
            Box::pin(async move {
                let addrs = addr::remote(host, port, self.family(), SocketType::STREAM).await?;
                connect_any(&self.core, &addrs).await
            }),
        )
    }

    /// Connects to the addresses of `target`: addresses resolved already, or a
    /// `(host, port, flags)` lookup (the seed's `connect(host, port, expires, af)`; see
    /// [`ToAddrs`]), resolved off the loop; several addresses by Happy Eyeballs, as
    /// [`connect`](Tcp::connect) does. Addresses of another family than the socket's
    /// are skipped (a [`Family::UNSPEC`] socket takes both).
    ///
    /// # Errors
    ///
    /// As [`connect`](Tcp::connect); [`ErrorKind::NoAddress`] when no address has the
    /// socket's family, [`ErrorKind::InvalidInput`] for an empty list; with
    /// [`Flags::NUMERICHOST`](crate::Flags) a host that is not a numeric address fails
    /// at once with [`ErrorKind::HostNotFound`], never asking a name server.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let server = sock::tcp(sock::Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let addr = server.local_addr()?;
    ///     let client = sock::tcp(sock::Family::INET)?;
    ///     client.connect_to(&addr).await?;
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn connect_to<'a>(&'a self, target: &impl ToAddrs) -> impl Op<Output = Result<()>> + 'a {
        let connect: Pin<Box<dyn Future<Output = Result<()>> + 'a>> = match addr::target_of(target)
        {
            addr::Target::Addrs(addrs) => {
                let addrs = addrs.into_owned();
                Box::pin(async move { connect_any(&self.core, &addrs).await })
            }
            lookup => {
                let lookup = lookup.into_owned();
                Box::pin(async move {
                    let stream = SocketType::STREAM;
                    let addrs = addr::remote_addrs(lookup, self.family(), stream).await?;
                    connect_any(&self.core, &addrs).await
                })
            }
        };
        Boxed("connect", connect)
    }

    /// Sends all of `buf`. Sending zero bytes is a no-op that does not reach the OS.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConnectionReset`] (the peer is gone; never a SIGPIPE),
    /// [`ErrorKind::Timeout`], … ; [`Error::transferred`] says how much was sent.
    ///
    /// # Examples
    ///
    /// See [`Tcp`].
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> impl Op<Output = Result<()>> + 'a {
        transfer::SendAll::new(Waiter::new(&self.core, Direction::Write), buf)
    }

    /// Receives at most `buf.len()` bytes; `Ok(0)` means the peer closed its side.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConnectionReset`], [`ErrorKind::Closed`], [`ErrorKind::Timeout`], …
    ///
    /// # Examples
    ///
    /// See [`Tcp`].
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Op<Output = Result<usize>> + 'a {
        Recv {
            waiter: Waiter::new(&self.core, Direction::Read),
            buf,
        }
    }

    /// [`recv`](Tcp::recv) with [`RecvFlags`] (the seed's `flags`): `PEEK` returns the
    /// bytes and leaves them queued; `WAITALL` waits until `buf` is full (or the peer
    /// closed: then the bytes that came); `TRUNC` discards up to `buf.len()` bytes
    /// instead of copying them (Linux); `OOB` reads the urgent byte, never waiting.
    /// Returns how many bytes were read (peeked, discarded); 0 when the peer closed.
    ///
    /// # Errors
    ///
    /// As [`recv`](Tcp::recv), with [`Error::transferred`] the bytes a `WAITALL` had;
    /// [`ErrorKind::InvalidInput`] for `PEEK | WAITALL` or `OOB` with another flag, and
    /// for `OOB` with no urgent byte pending; [`ErrorKind::WouldBlock`] for `OOB` while
    /// the urgent byte is announced but not here yet; [`ErrorKind::Unsupported`] for
    /// `TRUNC` off Linux.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::io::RecvFlags;
    ///
    /// sock::run(async {
    ///     let server = sock::tcp(sock::Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = sock::tcp(sock::Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"GET /").await?;
    ///     let mut head = [0u8; 3];
    ///     conn.recv_with(&mut head, RecvFlags::PEEK | RecvFlags::WAITALL).await.unwrap_err();
    ///     conn.recv_with(&mut head, RecvFlags::WAITALL).await?; // all 3 bytes
    ///     assert_eq!(&head, b"GET");
    ///     let mut rest = [0u8; 8];
    ///     let n = conn.recv_with(&mut rest, RecvFlags::PEEK).await?; // still queued
    ///     assert_eq!(conn.recv(&mut rest).await?, n);
    ///     assert_eq!(&rest[..n], b" /");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv_with<'a>(
        &'a self,
        buf: &'a mut [u8],
        flags: RecvFlags,
    ) -> impl Op<Output = Result<usize>> + 'a {
        StreamRecv::new(&self.core, buf, flags)
    }

    /// Waits until a read would not block (data or EOF are there), without holding a
    /// buffer: a server with many idle connections then needs memory only for the ones
    /// being read. It returns at once only when an event confirmed data since the last
    /// read; otherwise a one-byte `MSG_PEEK` asks the OS, so a fresh or drained
    /// connection waits.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`], [`ErrorKind::Timeout`] with a deadline, or the socket's
    /// pending error (e.g. [`ErrorKind::ConnectionReset`]), which the peek consumes.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let server = sock::tcp(sock::Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let port = server.local_addr()?.port();
    ///     let client = sock::tcp(sock::Family::INET)?;
    ///     client.connect("127.0.0.1", port).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"x").await?;
    ///     conn.readable().await?; // no buffer needed to wait
    ///     let mut buf = [0u8; 1];
    ///     assert_eq!(conn.recv(&mut buf).await?, 1);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn readable(&self) -> impl Op<Output = Result<()>> + '_ {
        Readable {
            waiter: Waiter::new(&self.core, Direction::Read),
        }
    }

    /// Receives exactly `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Eof`] if the peer closes first, or any `recv` error;
    /// [`Error::transferred`] says how much arrived.
    ///
    /// # Examples
    ///
    /// See [`Tcp`].
    pub fn recvn<'a>(&'a self, buf: &'a mut [u8]) -> impl Op<Output = Result<()>> + 'a {
        transfer::RecvN::new(Waiter::new(&self.core, Direction::Read), buf)
    }

    /// Receives until the peer closes, appending to `out`; on error `out` keeps what
    /// arrived.
    ///
    /// # Errors
    ///
    /// Any `recv` error, with [`Error::transferred`] = bytes appended.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let server = sock::tcp(sock::Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let port = server.local_addr()?.port();
    ///     sock::spawn(async move {
    ///         let conn = server.accept().await?;
    ///         conn.send(b"all of it").await?;
    ///         conn.close()
    ///     });
    ///     let client = sock::tcp(sock::Family::INET)?;
    ///     client.connect("127.0.0.1", port).await?;
    ///     let mut out = Vec::new();
    ///     client.recvall_into(&mut out).await?;
    ///     assert_eq!(out, b"all of it");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recvall_into<'a>(&'a self, out: &'a mut Vec<u8>) -> impl Op<Output = Result<()>> + 'a {
        RecvAll::new(&self.core, Some(out))
    }

    /// Receives until the peer closes and returns the bytes.
    ///
    /// # Errors
    ///
    /// As [`recvall_into`](Tcp::recvall_into) (which keeps partial data on error).
    ///
    /// # Examples
    ///
    /// See [`recvall_into`](Tcp::recvall_into).
    pub fn recvall(&self) -> impl Op<Output = Result<Vec<u8>>> + '_ {
        RecvAllVec(RecvAll::new(&self.core, None))
    }

    /// Receives until the peer closes and gives a [`std::io::Read`] over the bytes, for
    /// APIs that want a reader that cannot wait.
    ///
    /// # Errors
    ///
    /// As [`recvall`](Tcp::recvall).
    ///
    /// # Examples
    ///
    /// See [`recvall_into`](Tcp::recvall_into).
    pub fn recvall_read(&self) -> impl Op<Output = Result<io::Cursor<Vec<u8>>>> + '_ {
        RecvAllRead(RecvAllVec(RecvAll::new(&self.core, None)))
    }

    /// Shuts down reading, writing (sends FIN once pending data is sent) or both. Does
    /// not block.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`], [`ErrorKind::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::tcp(sock::Family::INET)?;
    /// let e = s.shutdown(sock::Shutdown::Write).unwrap_err();
    /// assert_eq!(e.kind(), sock::ErrorKind::NotConnected);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.core.sim_open() {
            return sim.shutdown(how);
        }
        self.core.with(|s| s.shutdown(how))
    }

    /// Sets `TCP_NODELAY` (typed form of `setopt("tcp_nodelay", on)`).
    ///
    /// # Errors
    ///
    /// As [`setopt`](Tcp::setopt).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::tcp(sock::Family::INET)?;
    /// t.set_nodelay(true)?;
    /// assert_eq!(t.getopt("tcp_nodelay")?, sock::io::OptValue::Bool(true));
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.core.sim_open() {
            return sim.set_option("tcp_nodelay", OptValue::Bool(on));
        }
        self.core.with(|s| s.set_tcp_nodelay(on))
    }
}

/// Connects to the first address that accepts: one address directly (no timer, no
/// allocation), several by Happy Eyeballs (`eyeballs.rs`), the winner ending up as
/// this socket; all within the caller's one deadline.
async fn connect_any(core: &Core, addrs: &[SockAddr]) -> Result<()> {
    if let [addr] = addrs {
        eyeballs::check_family(addr, core.connect_family())?;
        core.prepare_for(addr.family(), false)?;
        return connect_one(core, addr).await;
    }
    let plan = Plan::new(addrs, core.connect_family(), eyeballs::delay())?;
    let attempts = LoopAttempts {
        core,
        own_used: false,
    };
    match Race::new(plan, attempts).await? {
        Some(winner) => core.take_over(&winner),
        None => Ok(()),
    }
}

/// The loop mode's connect attempts: the caller's socket makes the first one (on a
/// flexible socket, in the address's family), fresh sockets like it the others.
struct LoopAttempts<'a> {
    /// The caller's socket.
    core: &'a Core,
    /// Whether the caller's socket made its attempt.
    own_used: bool,
}

/// One loop-mode attempt; a fresh socket that connected, or `None` for the caller's.
type LoopAttempt<'a> = Pin<Box<dyn Future<Output = Result<Option<Rc<Core>>>> + 'a>>;

impl<'a> eyeballs::Attempts for LoopAttempts<'a> {
    type Won = Option<Rc<Core>>;
    type Attempt = LoopAttempt<'a>;
    type Timer = sock_sched::Sleep;

    fn start(&mut self, addr: SockAddr) -> LoopAttempt<'a> {
        let core = self.core;
        if !std::mem::replace(&mut self.own_used, true) {
            return Box::pin(async move {
                core.prepare_for(addr.family(), false)?;
                connect_one(core, &addr).await.map(|()| None)
            });
        }
        Box::pin(async move {
            let fresh = core.fresh_like(addr.family())?;
            connect_one(&fresh, &addr).await?;
            Ok(Some(fresh))
        })
    }
}

/// One non-blocking connect: start it, then wait until `SO_ERROR` and the peer address
/// say how it ended (see `Core::poll_connected`).
async fn connect_one(core: &Core, addr: &SockAddr) -> Result<()> {
    let what = || format!("connect {addr}");
    connect_started(core, addr)
        .await
        .map_err(|e| e.context(what()))?;
    core.set_connected();
    Ok(())
}

/// Starts a connect and waits for its outcome.
async fn connect_started(core: &Core, addr: &SockAddr) -> Result<()> {
    #[cfg(feature = "sim")]
    if let Some(sim) = core.sim_open() {
        return sim.connect(addr).await;
    }
    let target = to_socket2(addr)?;
    // Events so far described the unconnected socket (epoll reports one as hung up):
    // they say nothing of the connection, which may also complete at once (a unix
    // socket, or loopback).
    core.reset_ready(Direction::Read);
    core.reset_ready(Direction::Write);
    let mut backoff = Duration::ZERO;
    loop {
        match core
            .with_os(|s| s.connect(&target))
            .map_err(Error::in_connect)?
        {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error().is_some_and(sys::is_in_progress) => break,
            // A unix listener's queue is full: nothing to wait on but time (within the
            // operation's deadline), 1 ms doubling to 16 ms.
            Err(e) if e.raw_os_error().is_some_and(sys::is_queue_full) => {
                backoff = crate::op::next_backoff(backoff);
                sock_sched::sleep(backoff).await;
            }
            Err(e) => return Err(Error::from(e).in_connect()),
        }
    }
    core.clear_ready(Direction::Write);
    let mut wait = Waiter::new(core, Direction::Write);
    poll_fn(|cx| core.poll_connected(cx, &mut wait.wait)).await
}

/// `accept`: the syscall, then the new socket registered with the loop.
struct Accept<'a, F> {
    inner: IoOp<'a, F>,
    family: Family,
}

impl<F> Future for Accept<'_, F>
where
    F: FnMut(socket2::SockRef<'_>) -> io::Result<socket2::Socket> + Unpin,
{
    type Output = Result<Tcp>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Tcp>> {
        let family = self.family;
        #[cfg(feature = "sim")]
        if let Some(sim) = self.inner.core().sim_open() {
            return sim.poll_accept(cx, family).map_ok(|core| Tcp { core });
        }
        let socket = std::task::ready!(Pin::new(&mut self.inner).poll(cx))?;
        let protocol = if family == Family::UNIX {
            Protocol::IP
        } else {
            Protocol::TCP
        };
        Poll::Ready(
            Core::adopt(socket, family, SocketType::STREAM, protocol).map(|core| Tcp { core }),
        )
    }
}

impl<F> Op for Accept<'_, F>
where
    F: FnMut(socket2::SockRef<'_>) -> io::Result<socket2::Socket> + Unpin,
{
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "accept"
    }
}

/// `readable`: waits until a read would not block, without reading.
struct Readable<'a> {
    waiter: Waiter<'a>,
}

impl Future for Readable<'_> {
    type Output = Result<()>;
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        this.waiter.core.poll_readable(cx, &mut this.waiter.wait)
    }
}

impl Op for Readable<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "readable"
    }
}

/// `recv`: one read of at most `buf.len()` bytes.
struct Recv<'a> {
    waiter: Waiter<'a>,
    buf: &'a mut [u8],
}

impl Future for Recv<'_> {
    type Output = Result<usize>;
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = &mut *self;
        let waiter = &mut this.waiter;
        // A simulated socket's receive too (`poll_plain`'s slow path asks it).
        waiter.core.poll_recv_plain(cx, &mut waiter.wait, this.buf)
    }
}

impl Op for Recv<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "recv"
    }
}

/// `recvall`: until EOF, growing a buffer (the caller's, put back on drop, or its own).
struct RecvAll<'a> {
    waiter: Waiter<'a>,
    out: Vec<u8>,
    target: Option<&'a mut Vec<u8>>,
    start: usize,
}

const RECVALL_CHUNK: usize = 64 * 1024;

impl<'a> RecvAll<'a> {
    fn new(core: &'a Core, mut target: Option<&'a mut Vec<u8>>) -> RecvAll<'a> {
        let out = target
            .as_mut()
            .map(|t| std::mem::take(&mut **t))
            .unwrap_or_default();
        RecvAll {
            waiter: Waiter::new(core, Direction::Read),
            start: out.len(),
            out,
            target,
        }
    }

    /// One receive into the spare capacity at the end of `out` (reserved, not zeroed:
    /// a small read does not pay for clearing a whole chunk).
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.waiter.core.sim_open() {
            return sim.poll_recv_into(cx, &mut self.out);
        }
        self.out.reserve(RECVALL_CHUNK);
        let len = self.out.len();
        let spare = &mut self.out.spare_capacity_mut()[..RECVALL_CHUNK];
        let recv = |s: socket2::SockRef<'_>| s.recv(spare);
        let r = self.waiter.core.poll_stream(
            Direction::Read,
            cx,
            &mut self.waiter.wait,
            RECVALL_CHUNK,
            recv,
        );
        if let Poll::Ready(Ok(n)) = r {
            // SAFETY: `recv` initialized the first `n` bytes of the spare capacity.
            unsafe { self.out.set_len(len + n) };
        }
        r
    }
}

impl Future for RecvAll<'_> {
    type Output = Result<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        loop {
            match this.poll_chunk(cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Err(e.with_transferred(this.out.len() - this.start)));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Op for RecvAll<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "recvall"
    }

    fn transferred(&self) -> usize {
        self.out.len() - self.start
    }
}

impl Drop for RecvAll<'_> {
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            *target = std::mem::take(&mut self.out);
        }
    }
}

/// `recvall` into a buffer of its own, given back on success.
struct RecvAllVec<'a>(RecvAll<'a>);

impl Future for RecvAllVec<'_> {
    type Output = Result<Vec<u8>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<u8>>> {
        std::task::ready!(Pin::new(&mut self.0).poll(cx))?;
        Poll::Ready(Ok(std::mem::take(&mut self.0.out)))
    }
}

impl Op for RecvAllVec<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "recvall"
    }

    fn transferred(&self) -> usize {
        self.0.transferred()
    }
}

/// `recvall_read`: `recvall` with a reader over the bytes.
struct RecvAllRead<'a>(RecvAllVec<'a>);

impl Future for RecvAllRead<'_> {
    type Output = Result<io::Cursor<Vec<u8>>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_ok(io::Cursor::new)
    }
}

impl Op for RecvAllRead<'_> {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "recvall_read"
    }

    fn transferred(&self) -> usize {
        self.0.transferred()
    }
}

impl std::fmt::Debug for Tcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Tcp");
        d.field("family", &self.family());
        if let Ok(a) = self.local_addr() {
            d.field("local", &a.to_string());
        }
        if let Ok(a) = self.remote_addr() {
            d.field("remote", &a.to_string());
        }
        d.finish()
    }
}

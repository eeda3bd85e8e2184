//! Raw handles and std conversions: a socket made elsewhere (std, another library, a
//! raw fd or `SOCKET`) comes into sock, and a sock socket goes out to code that wants
//! std's types or the OS handle, as tokio's and smol's sockets allow.
//!
//! The std conversions are here, portable: [`Tcp::from_std_listener`],
//! [`Tcp::from_std_stream`], [`Udp::from_std`](crate::Udp::from_std) and their
//! `into_std_*` counterparts. The traits of the OS handles (`AsFd`, `AsRawFd`,
//! `FromRawFd`, `IntoRawFd` and `TryFrom<OwnedFd>` on Unix, the `…Socket` ones on
//! Windows), for [`Tcp`], [`Udp`](crate::Udp), the owned halves and the shared
//! mode's [`SharedTcp`](crate::shared::SharedTcp)/[`SharedUdp`](crate::shared::SharedUdp), are in
//! `sys/unix/raw.rs` and `sys/windows/raw.rs`, on top of the plumbing below.
//!
//! Three rules make them fit a socket that several handles share and any of them may
//! close:
//!
//! - **Coming in**, a socket is registered with the current loop at once, as
//!   [`tcp`](crate::tcp) does, and made non-blocking (std's sockets start blocking;
//!   sock sets the mode itself, where tokio asks the caller to). Its family, type and
//!   protocol are read from the OS; one with a peer counts as connected.
//! - **Going out** takes the OS socket from the last handle: while clones or owned
//!   halves exist the conversion fails with [`ErrorKind::InvalidInput`], as does one
//!   whose state does not match the std type (a listener for a `TcpStream`). The
//!   socket is deregistered first. A std type gets it back in blocking mode, std's
//!   default, which its methods expect (tokio leaves it non-blocking); a raw handle or
//!   `OwnedFd` gets it as sock had it, non-blocking, for another event loop.
//! - **Lending** (`as_fd`): a `BorrowedFd` must not outlive its fd, but any handle may
//!   close the socket while another's borrow lives. So a socket once lent is never
//!   freed before its last handle drops: `close` still wakes its waiters, deregisters
//!   it and shuts it down (the peer sees the close), but keeps the fd open until then.
//!   The shared mode already keeps closed sockets so. `as_raw_fd` lends nothing: a raw
//!   fd carries no promise, and after a close it is `-1`.
//!
//! What it does not do: adopt a socket into a shared loop (`SharedTcp` and `SharedUdp`
//! lend their handles only), or carry a std socket's blocking timeouts over.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::rc::Rc;

use sock_addr::{Family, Protocol, SocketType};
use socket2::SockRef;

use crate::dgram::Udp;
use crate::error::{Error, ErrorKind, Result};
use crate::socket::Core;
use crate::sys;
use crate::tcp::Tcp;

impl Tcp {
    /// Takes over a std listener: registers it with the current loop and makes it
    /// non-blocking (there is no need to do so first). For a listener made by other
    /// code, or with options sock does not set.
    ///
    /// # Errors
    ///
    /// The OS error of making it non-blocking or of the registration (the listener is
    /// closed then).
    ///
    /// # Examples
    ///
    /// ```
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = std_listener.local_addr()?.port();
    /// let server = sock::Tcp::from_std_listener(std_listener)?;
    /// sock::run(async {
    ///     let client = sock::tcp(sock::Family::INET)?;
    ///     client.connect("127.0.0.1", port).await?;
    ///     let conn = server.accept().await?;
    ///     conn.send(b"hi").await?;
    ///     let mut buf = [0u8; 2];
    ///     client.recvn(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "from_std")]
    pub fn from_std_listener(listener: TcpListener) -> Result<Tcp> {
        Tcp::from_socket(socket2::Socket::from(listener))
    }

    /// Takes over a std stream (a connection): registers it with the current loop and
    /// makes it non-blocking (there is no need to do so first).
    ///
    /// # Errors
    ///
    /// As [`from_std_listener`](Tcp::from_std_listener).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let (mut server, _) = listener.accept()?;
    /// let client = sock::Tcp::from_std_stream(client)?;
    /// sock::run(client.send(b"from sock"))?;
    /// let mut buf = [0u8; 9];
    /// server.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"from sock");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "from_std")]
    pub fn from_std_stream(stream: TcpStream) -> Result<Tcp> {
        Tcp::from_socket(socket2::Socket::from(stream))
    }

    /// Gives a listening socket to std: deregistered from its loop and made blocking
    /// again (std's methods expect that). Takes the socket from its last handle.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the socket is not listening, is a unix-domain
    /// one, or other handles to it (clones, owned halves) exist — this handle is
    /// dropped all the same, so the socket closes if it was the last;
    /// [`ErrorKind::Closed`]; the OS error of deregistering.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = sock::tcp(sock::Family::INET)?;
    /// server.listen("127.0.0.1", 0)?;
    /// let addr = server.local_addr()?.as_socket().unwrap();
    /// let listener = server.into_std_listener()?;
    /// let _client = std::net::TcpStream::connect(addr)?;
    /// let (_conn, peer) = listener.accept()?; // blocking, as std's
    /// assert!(peer.ip().is_loopback());
    ///
    /// let fresh = sock::tcp(sock::Family::INET)?;
    /// let err = fresh.into_std_listener().unwrap_err();
    /// assert_eq!(err.kind(), sock::ErrorKind::InvalidInput);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "into_std")]
    pub fn into_std_listener(self) -> Result<TcpListener> {
        release(self.into_core(), Shape::Listener, Domain::Ip).map(TcpListener::from)
    }

    /// Gives a connection to std: deregistered from its loop and made blocking again
    /// (std's methods expect that). Takes the socket from its last handle.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotConnected`] if it was never connected (by `connect` or
    /// `accept`, or before sock got it); [`ErrorKind::InvalidInput`] for a listener, a
    /// unix-domain socket, or while other handles to it (clones, owned halves) exist —
    /// this handle is dropped all the same, so the socket closes if it was the last;
    /// [`ErrorKind::Closed`]; the OS error of deregistering.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// let client = sock::tcp(sock::Family::INET)?;
    /// sock::run(client.connect("127.0.0.1", port))?;
    /// let mut stream = client.into_std_stream()?;
    /// stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    /// let (mut server, _) = listener.accept()?;
    /// server.write_all(b"std")?;
    /// let mut buf = [0u8; 3];
    /// stream.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"std");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "into_std")]
    pub fn into_std_stream(self) -> Result<TcpStream> {
        release(self.into_core(), Shape::Stream, Domain::Ip).map(TcpStream::from)
    }

    /// A socket made elsewhere, registered with the current loop: it must be a stream
    /// socket.
    pub(crate) fn from_socket(socket: socket2::Socket) -> Result<Tcp> {
        adopt(socket, Shape::Stream).map(Tcp::from_core)
    }

    /// The OS socket, out of the last handle: deregistered, still non-blocking.
    pub(crate) fn into_socket(self) -> Result<socket2::Socket> {
        Core::into_socket(self.into_core())
    }
}

impl Udp {
    /// Takes over a std UDP socket: registers it with the current loop and makes it
    /// non-blocking (there is no need to do so first).
    ///
    /// # Errors
    ///
    /// The OS error of making it non-blocking or of the registration (the socket is
    /// closed then).
    ///
    /// # Examples
    ///
    /// ```
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let to = std_socket.local_addr()?;
    /// let u = sock::Udp::from_std(std_socket)?;
    /// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// peer.send_to(b"ping", to)?;
    /// let mut buf = [0u8; 8];
    /// let (n, from) = sock::run(u.recv_from(&mut buf))?;
    /// assert_eq!(&buf[..n], b"ping");
    /// assert_eq!(from.port(), peer.local_addr()?.port());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_std(socket: UdpSocket) -> Result<Udp> {
        Udp::from_socket(socket2::Socket::from(socket))
    }

    /// Gives the socket to std: deregistered from its loop and made blocking again
    /// (std's methods expect that). Takes the socket from its last handle.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a raw or unix-domain socket, or while other
    /// handles to it (clones) exist — this handle is dropped all the same, so the
    /// socket closes if it was the last; [`ErrorKind::Closed`]; the OS error of
    /// deregistering.
    ///
    /// # Examples
    ///
    /// ```
    /// let u = sock::udp(sock::Family::INET)?;
    /// u.bind("127.0.0.1", 0)?;
    /// let std_socket = u.into_std()?;
    /// std_socket.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    /// std_socket.send_to(b"self", std_socket.local_addr()?)?;
    /// let mut buf = [0u8; 8];
    /// let n = std_socket.recv(&mut buf)?;
    /// assert_eq!(&buf[..n], b"self");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_std(self) -> Result<UdpSocket> {
        release(self.into_core(), Shape::Datagram, Domain::Ip).map(UdpSocket::from)
    }

    /// A socket made elsewhere, registered with the current loop: it must be a
    /// datagram or raw socket.
    pub(crate) fn from_socket(socket: socket2::Socket) -> Result<Udp> {
        adopt(socket, Shape::Datagram).map(Udp::from_core)
    }

    /// The OS socket, out of the last handle: deregistered, still non-blocking.
    pub(crate) fn into_socket(self) -> Result<socket2::Socket> {
        Core::into_socket(self.into_core())
    }
}

/// What a socket must be to come into, or go out of, a sock type or a std one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A listening stream socket.
    Listener,
    /// A stream socket (going out: a connection, not a listener).
    Stream,
    /// A datagram socket (coming in, a raw one too).
    Datagram,
}

/// The address families of a std type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    /// `std::net`: IPv4 or IPv6.
    Ip,
    /// `std::os::unix::net`: unix-domain.
    #[allow(dead_code)] // used by sys/unix/raw.rs; Windows's std has no unix-domain types
    Unix,
}

/// Registers `socket` with the current loop if it is of `shape`'s type.
fn adopt(socket: socket2::Socket, shape: Shape) -> Result<Rc<Core>> {
    let (family, socktype, protocol) = sys::socket_kind(&socket)?;
    let fits = match shape {
        Shape::Datagram => socktype == SocketType::DGRAM || socktype == SocketType::RAW,
        Shape::Listener | Shape::Stream => socktype == SocketType::STREAM,
    };
    if !fits {
        let what = format!("a {socktype:?} socket is not a {}", shape.noun());
        return Err(Error::new(ErrorKind::InvalidInput, what));
    }
    let protocol = protocol.unwrap_or_else(|| default_protocol(family, socktype));
    Core::adopt_foreign(socket, family, socktype, protocol)
}

/// The protocol a socket of `family` and `socktype` has when the OS does not say
/// (no `SO_PROTOCOL`): what [`tcp`](crate::tcp) and [`udp`](crate::udp) make.
fn default_protocol(family: Family, socktype: SocketType) -> Protocol {
    match (family, socktype) {
        (Family::UNIX, _) => Protocol::IP,
        (_, SocketType::STREAM) => Protocol::TCP,
        (_, SocketType::DGRAM) => Protocol::UDP,
        _ => Protocol::IP,
    }
}

/// Takes the OS socket out of `core` for a std type of `shape` and `domain`, made
/// blocking: see [`Core::into_socket`].
pub(crate) fn release(core: Rc<Core>, shape: Shape, domain: Domain) -> Result<socket2::Socket> {
    check(&core, shape, domain)?;
    let socket = Core::into_socket(core)?;
    socket.set_nonblocking(false)?;
    Ok(socket)
}

/// Whether the socket of `core` is what a std type of `shape` and `domain` holds.
fn check(core: &Core, shape: Shape, domain: Domain) -> Result<()> {
    let family = core.family();
    let in_domain = match domain {
        Domain::Ip => family == Family::INET || family == Family::INET6,
        Domain::Unix => family == Family::UNIX,
    };
    if !in_domain {
        return Err(invalid(domain.only()));
    }
    match shape {
        Shape::Listener if !is_listener(core)? => Err(invalid("the socket is not listening")),
        Shape::Stream if is_listener(core)? => Err(invalid("a listening socket is not a stream")),
        Shape::Stream if !core.was_connected() => Err(Error::new(
            ErrorKind::NotConnected,
            "the stream was never connected",
        )),
        Shape::Datagram if core.socktype() != SocketType::DGRAM => {
            Err(invalid("a raw socket is not a UDP socket"))
        }
        _ => Ok(()),
    }
}

/// Whether the socket of `core` is listening (`SO_ACCEPTCONN`); `Closed` without one.
fn is_listener(core: &Core) -> Result<bool> {
    core.with(|s| sys::is_listener(&s))
}

/// An [`ErrorKind::InvalidInput`] error saying `what`.
fn invalid(what: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, what)
}

impl Domain {
    /// What the std types of the domain hold, in an error message.
    fn only(self) -> &'static str {
        match self {
            Domain::Ip => "std::net's types hold IPv4 and IPv6 sockets only",
            Domain::Unix => "std::os::unix::net's types hold unix-domain sockets only",
        }
    }
}

impl Shape {
    /// The kind of socket, in an error message.
    fn noun(self) -> &'static str {
        match self {
            Shape::Listener => "listener",
            Shape::Stream => "stream socket",
            Shape::Datagram => "datagram socket",
        }
    }
}

/// Runs `f` on the socket of `core` for a borrowed handle (`as_fd`, `as_socket`); see
/// `Core::lend`.
///
/// # Panics
///
/// When the socket has no OS socket to lend: closed before it was ever lent, or made
/// with `Family::UNSPEC` and not bound or connected yet.
pub(crate) fn lend<R>(core: &Core, f: impl FnOnce(SockRef<'_>) -> R) -> R {
    core.lend(f).unwrap_or_else(|| {
        panic!("sock: as_fd/as_socket on a socket with no OS socket (closed, or not opened yet)")
    })
}

/// Runs `f` on the socket of `core` now, or `None` without one: for `as_raw_fd`.
pub(crate) fn peek<R>(core: &Core, f: impl FnOnce(SockRef<'_>) -> R) -> Option<R> {
    core.with(|s| Ok(f(s))).ok()
}

/// The error of a `FromRawFd`/`FromRawSocket` that could not adopt its handle.
pub(crate) fn adopt_failed(e: Error) -> ! {
    panic!("sock: cannot adopt the raw socket (use TryFrom to handle the error): {e}")
}

/// The error of an `IntoRawFd`/`IntoRawSocket` that could not give its handle.
pub(crate) fn release_failed(e: Error) -> ! {
    panic!("sock: cannot give up the raw socket (use TryFrom to handle the error): {e}")
}

//! Unix: the fd traits of sock's sockets — `AsFd` and `AsRawFd` for every socket type,
//! `FromRawFd`, `IntoRawFd` and `TryFrom` to and from `OwnedFd` for the loop mode's —
//! and std's unix-domain streams in and out of [`Tcp`]. The rules (what registers, what
//! blocks, why a lent fd outlives `close`) are `raw.rs`'s.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};

use crate::error::{Error, Result};
use crate::raw::{self, Domain, Shape};
use crate::{
    Tcp, Udp,
    io::{OwnedReadHalf, OwnedWriteHalf},
    shared::{SharedTcp, SharedUdp},
};

/// The fd traits of a loop-mode socket type `$ty`, named `$name` in the examples,
/// which make one with `$make` and a std socket of the same type with `$std`.
macro_rules! loop_fd {
    ($ty:ident, $name:literal, $make:literal, $std:literal) => {
        impl AsFd for $ty {
            /// Borrows the socket's fd. The fd then stays open as long as a handle to
            /// the socket does: a `close` meanwhile still wakes its waiters, deregisters
            /// it and shuts it down (the peer sees the close), and the fd is freed with
            /// the last handle.
            ///
            /// # Panics
            ///
            /// If the socket has no fd to lend: closed before its fd was ever borrowed,
            /// or made with `Family::UNSPEC` and not bound or connected yet.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::AsFd;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind("127.0.0.1", 0)?;
            /// let addr = socket2::SockRef::from(&s.as_fd()).local_addr()?;
            /// assert_eq!(addr.as_socket(), s.local_addr()?.as_socket());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            fn as_fd(&self) -> BorrowedFd<'_> {
                let fd = raw::lend(self.core(), |s| s.as_raw_fd());
                // SAFETY: `lend` marked the socket lent, so its fd is not closed before
                // the socket's last handle drops — `self` among them, which outlives
                // the borrow.
                unsafe { BorrowedFd::borrow_raw(fd) }
            }
        }

        impl AsRawFd for $ty {
            /// The socket's fd; -1 once the socket is closed (or while a
            /// `Family::UNSPEC` socket is not bound or connected yet).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::AsRawFd;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// assert!(s.as_raw_fd() >= 0);
            /// s.close()?;
            /// assert_eq!(s.as_raw_fd(), -1);
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn as_raw_fd(&self) -> RawFd {
                raw::peek(self.core(), |s| s.as_raw_fd()).unwrap_or(-1)
            }
        }

        impl FromRawFd for $ty {
            /// Takes over a socket's fd: registers it with the current loop and makes
            /// it non-blocking. Its family, type and protocol are read from the OS.
            ///
            /// # Safety
            ///
            /// `fd` must be an open socket that the caller owns and gives up: the new
            /// socket closes it.
            ///
            /// # Panics
            ///
            /// If `fd` is not a socket of this type, or it cannot be registered:
            #[doc = concat!("`", $name, "::try_from(OwnedFd)` returns those as errors.")]
            ///
            /// # Examples
            ///
            /// See [`IntoRawFd::into_raw_fd`].
            unsafe fn from_raw_fd(fd: RawFd) -> $ty {
                // SAFETY: the caller gives up an open fd it owns (this function's
                // contract); it is wrapped once.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                $ty::try_from(fd).unwrap_or_else(|e| raw::adopt_failed(e))
            }
        }

        impl IntoRawFd for $ty {
            /// Gives up the socket's fd: deregistered from its loop, still non-blocking
            /// (for another event loop). The last handle to the socket must give it.
            ///
            /// # Panics
            ///
            /// While other handles to the socket (clones, owned halves) exist, or once
            /// it is closed: `OwnedFd::try_from` returns those as errors.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::{FromRawFd, IntoRawFd};
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind("127.0.0.1", 0)?;
            /// let port = s.local_addr()?.port();
            /// let fd = s.into_raw_fd();
            /// // SAFETY: `fd` is an open socket that nothing else owns.
            #[doc = concat!("let s = unsafe { ", $name, "::from_raw_fd(fd) };")]
            /// assert_eq!(s.local_addr()?.port(), port);
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn into_raw_fd(self) -> RawFd {
                let fd = OwnedFd::try_from(self).unwrap_or_else(|e| raw::release_failed(e));
                fd.into_raw_fd()
            }
        }

        impl TryFrom<OwnedFd> for $ty {
            type Error = Error;

            /// Takes over a socket's fd, as `from_raw_fd` does, with an error instead
            /// of a panic.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a socket of another type; the OS error of reading
            /// its kind (`ENOTSOCK` for a file) or of the registration. The fd is
            /// closed then.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::OwnedFd;
            ///
            #[doc = concat!("let fd = OwnedFd::from(", $std, ");")]
            #[doc = concat!("let s = ", $name, "::try_from(fd)?;")]
            /// assert_ne!(s.local_addr()?.port(), 0);
            /// let file = OwnedFd::from(std::fs::File::open("/dev/null")?);
            #[doc = concat!("assert!(", $name, "::try_from(file).is_err());")]
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            fn try_from(fd: OwnedFd) -> Result<$ty> {
                $ty::from_socket(socket2::Socket::from(fd))
            }
        }

        impl TryFrom<$ty> for OwnedFd {
            type Error = Error;

            /// Gives up the socket's fd, as `into_raw_fd` does, with an error instead
            /// of a panic.
            ///
            /// # Errors
            ///
            /// `InvalidInput` while other handles to the socket (clones, owned halves)
            /// exist (this one is dropped all the same); `Closed`; the OS error of
            /// deregistering.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::fd::OwnedFd;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// let err = OwnedFd::try_from(s.clone()).unwrap_err(); // `s` is alive
            /// assert_eq!(err.kind(), sock::ErrorKind::InvalidInput);
            /// let fd = OwnedFd::try_from(s)?; // the last handle
            /// # drop(fd);
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn try_from(s: $ty) -> Result<OwnedFd> {
                s.into_socket().map(OwnedFd::from)
            }
        }
    };
}

loop_fd!(
    Tcp,
    "sock::Tcp",
    "sock::tcp(sock::Family::INET)?",
    "std::net::TcpListener::bind(\"127.0.0.1:0\")?"
);
loop_fd!(
    Udp,
    "sock::Udp",
    "sock::udp(sock::Family::INET)?",
    "std::net::UdpSocket::bind(\"127.0.0.1:0\")?"
);

/// `AsFd` and `AsRawFd` of a type whose `$socket(&self)` is a borrowed socket that
/// stays open as long as `self`: the owned halves and the shared mode's sockets.
macro_rules! borrowed_fd {
    ($ty:ident, $socket:ident, $example:expr) => {
        impl AsFd for $ty {
            /// Borrows the socket's fd (it stays open as long as this handle, closed
            /// or not).
            ///
            /// # Panics
            ///
            /// As the socket's own `as_fd`.
            ///
            /// # Examples
            ///
            #[doc = $example]
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.$socket().as_fd()
            }
        }

        impl AsRawFd for $ty {
            /// The socket's fd (for a loop-mode socket: -1 once it is closed).
            ///
            /// # Examples
            ///
            #[doc = $example]
            fn as_raw_fd(&self) -> RawFd {
                self.$socket().as_raw_fd()
            }
        }
    };
}

/// The example of the owned halves' traits.
macro_rules! half_example {
    () => {
        "```
use std::os::fd::{AsFd, AsRawFd};

let s = sock::tcp(sock::Family::INET)?;
let fd = s.as_raw_fd();
let (r, w) = s.into_split();
assert_eq!((r.as_fd().as_raw_fd(), w.as_raw_fd()), (fd, fd));
# Ok::<(), sock::Error>(())
```"
    };
}

/// The example of the shared mode's traits, for the socket `$make` makes.
macro_rules! shared_example {
    ($make:literal) => {
        concat!(
            "```
# if !cfg!(target_os = \"linux\") { return Ok(()); } // the shared mode: epoll
use std::os::fd::AsFd;

let lp = sock::shared::SharedLoop::new()?;
let s = lp.",
            $make,
            "(sock::Family::INET)?;
s.bind(\"127.0.0.1\", 0)?;
let addr = socket2::SockRef::from(&s.as_fd()).local_addr()?;
assert_eq!(addr.as_socket(), s.local_addr()?.as_socket());
# Ok::<(), Box<dyn std::error::Error>>(())
```"
        )
    };
}

borrowed_fd!(OwnedReadHalf, as_tcp, half_example!());
borrowed_fd!(OwnedWriteHalf, as_tcp, half_example!());
borrowed_fd!(SharedTcp, socket, shared_example!("tcp"));
borrowed_fd!(SharedUdp, socket, shared_example!("udp"));

impl Tcp {
    /// Takes over a std unix-domain listener: registers it with the current loop and
    /// makes it non-blocking, as [`from_std_listener`](Tcp::from_std_listener).
    ///
    /// # Errors
    ///
    /// The OS error of making it non-blocking or of the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("sock-doc-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = sock::Tcp::from_std_unix_listener(std::os::unix::net::UnixListener::bind(&path)?)?;
    /// let path_str = path.to_str().unwrap();
    /// sock::run(async {
    ///     let client = sock::tcp(sock::Family::UNIX)?;
    ///     client.connect(path_str, 0).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"unix").await?;
    ///     let mut buf = [0u8; 4];
    ///     conn.recvn(&mut buf).await?;
    ///     assert_eq!(&buf, b"unix");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "from_std")]
    pub fn from_std_unix_listener(listener: UnixListener) -> Result<Tcp> {
        Tcp::from_socket(socket2::Socket::from(listener))
    }

    /// Takes over a std unix-domain stream: registers it with the current loop and
    /// makes it non-blocking, as [`from_std_stream`](Tcp::from_std_stream).
    ///
    /// # Errors
    ///
    /// The OS error of making it non-blocking or of the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = sock::Tcp::from_std_unix_stream(a)?;
    /// sock::run(a.send(b"pair"))?;
    /// let mut buf = [0u8; 4];
    /// b.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"pair");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "from_std")]
    pub fn from_std_unix_stream(stream: UnixStream) -> Result<Tcp> {
        Tcp::from_socket(socket2::Socket::from(stream))
    }

    /// Gives a listening unix-domain socket to std, deregistered and blocking, as
    /// [`into_std_listener`](Tcp::into_std_listener).
    ///
    /// # Errors
    ///
    /// As [`into_std_listener`](Tcp::into_std_listener), with `InvalidInput` for a
    /// socket that is not unix-domain.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("sock-doc-l{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = sock::tcp(sock::Family::UNIX)?;
    /// server.listen(path.to_str().unwrap(), 0)?;
    /// let listener = server.into_std_unix_listener()?;
    /// let _client = std::os::unix::net::UnixStream::connect(&path)?;
    /// let (_conn, _) = listener.accept()?; // blocking, as std's
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "into_std")]
    pub fn into_std_unix_listener(self) -> Result<UnixListener> {
        raw::release(self.into_core(), Shape::Listener, Domain::Unix).map(UnixListener::from)
    }

    /// Gives a unix-domain connection to std, deregistered and blocking, as
    /// [`into_std_stream`](Tcp::into_std_stream).
    ///
    /// # Errors
    ///
    /// As [`into_std_stream`](Tcp::into_std_stream), with `InvalidInput` for a socket
    /// that is not unix-domain.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let mut a = sock::Tcp::from_std_unix_stream(a)?.into_std_unix_stream()?;
    /// a.write_all(b"back")?;
    /// let mut buf = [0u8; 4];
    /// b.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"back");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "into_std")]
    pub fn into_std_unix_stream(self) -> Result<UnixStream> {
        raw::release(self.into_core(), Shape::Stream, Domain::Unix).map(UnixStream::from)
    }
}

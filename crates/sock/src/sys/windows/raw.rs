//! Windows: the socket traits of sock's sockets — `AsSocket` and `AsRawSocket` for
//! every socket type, `FromRawSocket`, `IntoRawSocket` and `TryFrom` to and from
//! `OwnedSocket` for the loop mode's. The rules (what registers, what blocks, why a
//! lent socket outlives `close`) are `raw.rs`'s.

use std::os::windows::io::{
    AsRawSocket, AsSocket, BorrowedSocket, FromRawSocket, IntoRawSocket, OwnedSocket, RawSocket,
};

use windows_sys::Win32::Networking::WinSock as ws;

use crate::error::{Error, Result};
use crate::raw;
use crate::{
    Tcp, Udp,
    io::{OwnedReadHalf, OwnedWriteHalf},
    shared::{SharedTcp, SharedUdp},
};

/// The socket traits of a loop-mode socket type `$ty`, named `$name` in the examples,
/// which make one with `$make` and a std socket of the same type with `$std`.
macro_rules! loop_socket {
    ($ty:ident, $name:literal, $make:literal, $std:literal) => {
        impl AsSocket for $ty {
            /// Borrows the socket's handle. The handle then stays open as long as a
            /// handle to the socket does: a `close` meanwhile still wakes its waiters,
            /// deregisters it and shuts it down (the peer sees the close), and the OS
            /// socket is freed with the last handle.
            ///
            /// # Panics
            ///
            /// If the socket has no OS socket to lend: closed before it was ever
            /// borrowed, or made with `Family::UNSPEC` and not bound or connected yet.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::windows::io::AsSocket;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind("127.0.0.1", 0)?;
            /// let addr = socket2::SockRef::from(&s.as_socket()).local_addr()?;
            /// assert_eq!(addr.as_socket(), s.local_addr()?.as_socket());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            fn as_socket(&self) -> BorrowedSocket<'_> {
                let socket = raw::lend(self.core(), |s| s.as_raw_socket());
                // SAFETY: `lend` marked the socket lent, so its OS socket is not closed
                // before the socket's last handle drops — `self` among them, which
                // outlives the borrow.
                unsafe { BorrowedSocket::borrow_raw(socket) }
            }
        }

        impl AsRawSocket for $ty {
            /// The socket's handle; `INVALID_SOCKET` once the socket is closed (or
            /// while a `Family::UNSPEC` socket is not bound or connected yet).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::windows::io::AsRawSocket;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// assert_ne!(s.as_raw_socket(), u64::MAX);
            /// s.close()?;
            /// assert_eq!(s.as_raw_socket(), u64::MAX); // INVALID_SOCKET
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn as_raw_socket(&self) -> RawSocket {
                raw::peek(self.core(), |s| s.as_raw_socket())
                    .unwrap_or(ws::INVALID_SOCKET as RawSocket)
            }
        }

        impl FromRawSocket for $ty {
            /// Takes over an OS socket: registers it with the current loop and makes it
            /// non-blocking. Its family, type and protocol are read from the OS.
            ///
            /// # Safety
            ///
            /// `socket` must be an open socket that the caller owns and gives up: the
            /// new socket closes it.
            ///
            /// # Panics
            ///
            /// If `socket` is not a socket of this type, or it cannot be registered:
            #[doc = concat!("`", $name, "::try_from(OwnedSocket)` returns those as errors.")]
            ///
            /// # Examples
            ///
            /// See [`IntoRawSocket::into_raw_socket`].
            unsafe fn from_raw_socket(socket: RawSocket) -> $ty {
                // SAFETY: the caller gives up an open socket it owns (this function's
                // contract); it is wrapped once.
                let socket = unsafe { OwnedSocket::from_raw_socket(socket) };
                $ty::try_from(socket).unwrap_or_else(|e| raw::adopt_failed(e))
            }
        }

        impl IntoRawSocket for $ty {
            /// Gives up the OS socket: deregistered from its loop, still non-blocking
            /// (for another event loop). The last handle to the socket must give it.
            ///
            /// # Panics
            ///
            /// While other handles to the socket (clones, owned halves) exist, or once
            /// it is closed: `OwnedSocket::try_from` returns those as errors.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::windows::io::{FromRawSocket, IntoRawSocket};
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind("127.0.0.1", 0)?;
            /// let port = s.local_addr()?.port();
            /// let socket = s.into_raw_socket();
            /// // SAFETY: `socket` is an open socket that nothing else owns.
            #[doc = concat!("let s = unsafe { ", $name, "::from_raw_socket(socket) };")]
            /// assert_eq!(s.local_addr()?.port(), port);
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn into_raw_socket(self) -> RawSocket {
                let socket = OwnedSocket::try_from(self).unwrap_or_else(|e| raw::release_failed(e));
                socket.into_raw_socket()
            }
        }

        impl TryFrom<OwnedSocket> for $ty {
            type Error = Error;

            /// Takes over an OS socket, as `from_raw_socket` does, with an error
            /// instead of a panic.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a socket of another type; the OS error of reading
            /// its kind or of the registration. The socket is closed then.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::os::windows::io::OwnedSocket;
            ///
            #[doc = concat!("let socket = OwnedSocket::from(", $std, ");")]
            #[doc = concat!("let s = ", $name, "::try_from(socket)?;")]
            /// assert_ne!(s.local_addr()?.port(), 0);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            fn try_from(socket: OwnedSocket) -> Result<$ty> {
                $ty::from_socket(socket2::Socket::from(socket))
            }
        }

        impl TryFrom<$ty> for OwnedSocket {
            type Error = Error;

            /// Gives up the OS socket, as `into_raw_socket` does, with an error
            /// instead of a panic.
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
            /// use std::os::windows::io::OwnedSocket;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// let err = OwnedSocket::try_from(s.clone()).unwrap_err(); // `s` is alive
            /// assert_eq!(err.kind(), sock::ErrorKind::InvalidInput);
            /// let socket = OwnedSocket::try_from(s)?; // the last handle
            /// # drop(socket);
            /// # Ok::<(), sock::Error>(())
            /// ```
            fn try_from(s: $ty) -> Result<OwnedSocket> {
                s.into_socket().map(OwnedSocket::from)
            }
        }
    };
}

loop_socket!(
    Tcp,
    "sock::Tcp",
    "sock::tcp(sock::Family::INET)?",
    "std::net::TcpListener::bind(\"127.0.0.1:0\")?"
);
loop_socket!(
    Udp,
    "sock::Udp",
    "sock::udp(sock::Family::INET)?",
    "std::net::UdpSocket::bind(\"127.0.0.1:0\")?"
);

/// `AsSocket` and `AsRawSocket` of a type whose `$socket(&self)` is a borrowed socket that
/// stays open as long as `self`: the owned halves and the shared mode's sockets.
macro_rules! borrowed_socket {
    ($ty:ident, $socket:ident, $example:expr) => {
        impl AsSocket for $ty {
            /// Borrows the socket's handle (it stays open as long as this handle,
            /// closed or not).
            ///
            /// # Panics
            ///
            /// As the socket's own `as_socket`.
            ///
            /// # Examples
            ///
            #[doc = $example]
            fn as_socket(&self) -> BorrowedSocket<'_> {
                self.$socket().as_socket()
            }
        }

        impl AsRawSocket for $ty {
            /// The socket's handle (for a loop-mode socket: `INVALID_SOCKET` once it is
            /// closed).
            ///
            /// # Examples
            ///
            #[doc = $example]
            fn as_raw_socket(&self) -> RawSocket {
                self.$socket().as_raw_socket()
            }
        }
    };
}

/// The example of the owned halves' traits.
macro_rules! half_example {
    () => {
        "```
use std::os::windows::io::{AsSocket, AsRawSocket};

let s = sock::tcp(sock::Family::INET)?;
let socket = s.as_raw_socket();
let (r, w) = s.into_split();
assert_eq!((r.as_socket().as_raw_socket(), w.as_raw_socket()), (socket, socket));
# Ok::<(), sock::Error>(())
```"
    };
}

/// The example of the shared mode's traits, for the socket `$make` makes.
macro_rules! shared_example {
    ($make:literal) => {
        concat!(
            "```
use std::os::windows::io::AsSocket;

let lp = sock::shared::SharedLoop::new()?;
let s = lp.",
            $make,
            "(sock::Family::INET)?;
s.bind(\"127.0.0.1\", 0)?;
let addr = socket2::SockRef::from(&s.as_socket()).local_addr()?;
assert_eq!(addr.as_socket(), s.local_addr()?.as_socket());
# Ok::<(), Box<dyn std::error::Error>>(())
```"
        )
    };
}

borrowed_socket!(OwnedReadHalf, as_tcp, half_example!());
borrowed_socket!(OwnedWriteHalf, as_tcp, half_example!());
borrowed_socket!(SharedTcp, socket, shared_example!("tcp"));
borrowed_socket!(SharedUdp, socket, shared_example!("udp"));

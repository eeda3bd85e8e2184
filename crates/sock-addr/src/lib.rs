//! `sock-addr`: address lookup with every `getaddrinfo` flag, and an off-loop resolver.
//!
//! The seed's address section, whole: [`lookup`] wraps the OS's `getaddrinfo` with
//! [`Hints`] (socket type, family, protocol, [`Flags`]), returning an owned
//! [`AddrList`] of [`AddrInfo`] entries, each with a [`SockAddr`]. [`resolve`] is the
//! same lookup as a future that never blocks the caller's loop: numeric input is
//! answered at once, names on a small, bounded thread pool that exists only while
//! lookups need it (one of the two documented, opt-in exceptions to "no hidden
//! threads"; the facade's `spawn_blocking` pool is the other).
//!
//! The OS calls live in `sys/` (libc `getaddrinfo` on Unix, `GetAddrInfoW` on Windows).
//!
//! # Examples
//!
//! ```
//! use sock_addr::{Family, Flags, Hints, SocketType, lookup};
//!
//! let hints = Hints::tcp().family(Family::INET6).flags(Flags::V4MAPPED | Flags::ALL);
//! let list = lookup("127.0.0.1", 80, &hints)?;
//! let entry = list.first().unwrap();
//! assert_eq!(entry.socktype(), SocketType::STREAM);
//! assert_eq!(entry.to_string(), "[::ffff:127.0.0.1]:80");
//! # Ok::<(), sock_addr::LookupError>(())
//! ```
//!
//! The examples of the items below are written as a user of the facade [`sock`] reads
//! them, where this crate is `sock::addr` and the types sockets take (`Family`,
//! `SockAddr`, `Hints`, …) are at the root, `sock::`; with this crate alone, read
//! `sock_addr` for both.
//!
//! [`sock`]: https://docs.rs/sock

#![doc(test(attr(deny(warnings))))]

#[cfg_attr(unix, path = "sys/unix.rs")]
#[cfg_attr(windows, path = "sys/windows.rs")]
mod sys;
#[cfg(not(any(unix, windows)))]
compile_error!("sock-addr supports Unix and Windows only");

mod error;
mod flags;
mod hints;
mod kinds;
mod list;
mod lookup;
mod numeric;
mod port;
mod resolve;
mod sockaddr;

pub use error::LookupError;
pub use flags::Flags;
pub use hints::Hints;
pub use kinds::{Family, ParseNameError, Protocol, SocketType};
pub use list::{AddrInfo, AddrList, Iter};
pub use lookup::lookup;
pub use port::Port;
pub use resolve::{Resolve, ResolverStats, resolve, resolver_stats};
pub use sockaddr::SockAddr;
pub use sys::{RawSockAddr, RawSockLen};

/// The README's example, compiled and run as a doctest (and not shown in these docs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! Address lookup: the `sock-addr` crate, whole.
//!
//! [`lookup`] is `getaddrinfo` with every hint and flag, answering an owned
//! [`AddrList`]; [`resolve`] is the same lookup as a future that never blocks the loop
//! (numeric input at once, names on a small bounded pool — the one place sock starts
//! threads, and only while lookups need them). Sockets do this for you when given a
//! host name; call it yourself for the flags, the canonical name, or every address.
//! The types sockets take ([`Family`], [`SockAddr`], [`Hints`], …) are also at the
//! crate root.
//!
//! # Examples
//!
//! ```
//! use sock::{Family, Flags, addr::lookup, addr::{Hints, SocketType}};
//!
//! let hints = Hints::tcp().family(Family::INET6).flags(Flags::V4MAPPED | Flags::ALL);
//! let list = lookup("127.0.0.1", 80, &hints)?;
//! let entry = list.first().unwrap();
//! assert_eq!(entry.socktype(), SocketType::STREAM);
//! assert_eq!(entry.to_string(), "[::ffff:127.0.0.1]:80");
//! # Ok::<(), sock::addr::LookupError>(())
//! ```

#[doc(inline)]
pub use sock_addr::*;

pub use crate::target::ToAddrs;

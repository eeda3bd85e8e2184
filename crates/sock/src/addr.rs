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

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[doc(inline)]
pub use sock_addr::*;

use crate::op::Op;
pub use crate::target::ToAddrs;

/// Looks `host:port` up without blocking the loop, as an operation that takes a
/// deadline: `resolve(host, port, &hints).timeout(d).await` (the seed's
/// `sock.addr(...)` with `expires`). Numeric input answers at once; names go to the
/// resolver pool ([`sock_addr`'s `resolve`](sock_addr::resolve): a bounded pool,
/// identical lookups in flight merged). A deadline drops the lookup (a running
/// `getaddrinfo` cannot be interrupted; its result is then dropped).
///
/// On a simulated host (the `sim` feature) a name is answered from the world's records
/// after the world's resolver latency, in virtual time, as [`lookup`] describes.
///
/// The deadline is the loop's; in a task of a [`SharedLoop`](crate::shared::SharedLoop)
/// bound it with [`sock::shared::timeout`](crate::shared::timeout) instead.
///
/// # Errors
///
/// The lookup's, as [`sock::Error`](crate::Error): [`ErrorKind::HostNotFound`](crate::ErrorKind::HostNotFound), …;
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) past a deadline.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::Expires;
/// use sock::addr::{Hints, resolve};
///
/// sock::run(async {
///     let list = resolve("::1", 8080, &Hints::tcp()).timeout(Duration::from_secs(5)).await?;
///     assert_eq!(list.first().unwrap().to_string(), "[::1]:8080");
///     // Numeric input needs no wait: even a deadline already past lets it through.
///     let list = resolve("127.0.0.1", 80, &Hints::tcp()).expires(sock::clock()).await?;
///     assert_eq!(list.len(), 1);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "resolver")]
pub fn resolve<P: Into<Port>>(
    host: &str,
    port: P,
    hints: &Hints,
) -> impl Op<Output = crate::Result<AddrList>, Timer = sock_sched::Sleep> + use<P> {
    let port = port.into();
    #[cfg(feature = "sim")]
    if let Some(answer) = crate::sim::resolver::resolve(host, &port, hints) {
        return Lookup(Box::pin(answer));
    }
    #[cfg(feature = "sim")]
    crate::sim::socket::guard_lookup("sock::addr::resolve", host);
    Lookup(os_resolve(host, port, hints))
}

/// The resolver's future, as [`Lookup`] holds it.
#[cfg(not(feature = "sim"))]
fn os_resolve(host: &str, port: Port, hints: &Hints) -> Resolve {
    sock_addr::resolve(host, port, hints)
}

/// The resolver's future, as [`Lookup`] holds it (boxed: the same type as a simulated
/// host's answer).
#[cfg(feature = "sim")]
fn os_resolve(host: &str, port: Port, hints: &Hints) -> LookupFuture {
    Box::pin(sock_addr::resolve(host, port, hints))
}

/// `getaddrinfo`, blocking: [`sock_addr`'s `lookup`](sock_addr::lookup), which this
/// crate re-exports whole; this build (with the `sim` feature) wraps it in the
/// simulation's guard.
///
/// On a simulated host an IP literal (or `"*"`) goes to sock-addr as anywhere (the
/// OS's answer for it needs no resolver); a name is answered from the world's records
/// ([`World::add_dns`](crate::sim::World::add_dns)) at once — a blocking call cannot
/// wait for the world's DNS latency; [`resolve`] waits it — one entry per address and
/// socket type, as `getaddrinfo` gives them. A simulated loop never asks the real
/// resolver.
///
/// # Errors
///
/// [`sock_addr::lookup`]'s; on a simulated host `HostNotFound` for a name without a
/// record, `NoAddress` for a record of another family only, `TryAgain` for a name
/// whose server never answers ([`World::add_dns_timeout`](crate::sim::World::add_dns_timeout)),
/// `ServiceNotFound` for a service name (the simulation takes port numbers).
///
/// # Panics
///
/// On a simulated loop, for a host name with [`Family::UNIX`](crate::Family::UNIX)
/// hints (no unix-domain resolver is simulated).
///
/// # Examples
///
/// ```
/// use sock::addr::{Hints, lookup};
///
/// let list = lookup("127.0.0.1", 8080, &Hints::tcp())?;
/// assert_eq!(list.first().unwrap().to_string(), "127.0.0.1:8080");
/// # Ok::<(), sock::addr::LookupError>(())
/// ```
#[cfg(feature = "sim")]
#[doc(alias = "addr")]
#[doc(alias = "getaddrinfo")]
pub fn lookup<P: Into<Port>>(
    host: &str,
    port: P,
    hints: &Hints,
) -> std::result::Result<AddrList, LookupError> {
    let port = port.into();
    if let Some(answer) = crate::sim::resolver::lookup(host, &port, hints) {
        return answer;
    }
    crate::sim::socket::guard_lookup("sock::addr::lookup", host);
    sock_addr::lookup(host, port, hints)
}

/// [`resolve`] as an [`Op`].
#[cfg(not(feature = "sim"))]
struct Lookup(Resolve);

/// [`resolve`] as an [`Op`]: the resolver's, or a simulated host's (`sim/resolver.rs`).
#[cfg(feature = "sim")]
struct Lookup(LookupFuture);

/// What [`Lookup`] polls with the `sim` feature.
#[cfg(feature = "sim")]
type LookupFuture =
    Pin<Box<dyn Future<Output = std::result::Result<AddrList, LookupError>> + Send>>;

impl Future for Lookup {
    type Output = crate::Result<AddrList>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_err(crate::Error::from)
    }
}

impl Op for Lookup {
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        "lookup"
    }
}

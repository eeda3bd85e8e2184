//! Turning the facade's address arguments into socket addresses.
//!
//! `host, port` go through `sock-addr`: `bind`/`listen` look up synchronously (they
//! take numeric hosts or `"*"` in practice, answered without any name server), while
//! `connect` and `sendto` resolve off the loop with
//! [`addr::resolve`](crate::addr::resolve), so a slow name server never blocks other
//! tasks. Every call that takes a [`ToAddrs`] target takes, in the same place, either
//! addresses resolved already (so nothing is resolved twice) or a `(host, port, flags)`
//! / `(host, port, hints)` lookup: the seed's `af` argument. For [`Family::UNIX`] the
//! host is the socket's path.
//!
//! The trait is sealed: the target kinds are this file's, and each call turns one into
//! addresses the same way (`local_addrs` for a bind, `remote_addrs` for a connect or a
//! send).

use std::borrow::Cow;
use std::net::SocketAddr;

use sock_addr::{AddrInfo, AddrList, Family, Flags, Hints, Port, SockAddr, SocketType};

use crate::error::{Error, ErrorKind, Result};

/// The addresses of a bind, listen, connect or send: addresses resolved already — an
/// [`AddrList`], one [`AddrInfo`] entry, a [`SockAddr`] (or a slice or `Vec` of them), a
/// std `SocketAddr` — or a host and port to look up with lookup [`Flags`] or whole
/// [`Hints`] (the seed's `af` argument): `(host, port)`, `(host, port, Flags)`, `(host, port, Hints)`.
///
/// A lookup target is looked up as the call's `host, port` form would be: for a bind or
/// listen with [`Flags::PASSIVE`] added, on the calling thread (numeric hosts and `"*"`
/// never reach a name server); for a TCP connect or a `sendto`, off the loop
/// ([`addr::resolve`](crate::addr::resolve)). The socket's family and type fill in what
/// the hints leave open ([`Family::UNSPEC`], [`SocketType::ANY`]). With
/// [`Flags::NUMERICHOST`] (and a numeric port) no name server and no resolver thread is
/// ever asked: a name fails at once with [`ErrorKind::HostNotFound`].
///
/// The trait is sealed: these are the kinds of target there are.
///
/// # Examples
///
/// ```
/// use sock::{Family, Flags};
///
/// sock::run(async {
///     let server = sock::tcp(Family::INET6)?;
///     server.listen_to(&("::1", 0, Flags::NUMERICHOST))?;
///     let port = server.local_addr()?.port();
///     let client = sock::tcp(Family::INET6)?;
///     client.connect_to(&("::1", port, Flags::NUMERICHOST)).await?; // no DNS, ever
///     let not_numeric = client.connect_to(&("localhost", port, Flags::NUMERICHOST)).await;
///     assert_eq!(not_numeric.unwrap_err().kind(), sock::ErrorKind::HostNotFound);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "af")]
pub trait ToAddrs: sealed::Sealed {}

mod sealed {
    /// How each kind of target gives its addresses; not for implementing outside.
    pub trait Sealed {
        /// The addresses, or the lookup that gives them.
        fn target(&self) -> super::Target<'_>;
    }
}

/// What a [`ToAddrs`] names.
pub enum Target<'a> {
    /// Resolved addresses, in the order to try them.
    Addrs(Cow<'a, [SockAddr]>),
    /// A host and port to look up with these hints (the socket fills in the rest).
    Lookup(Cow<'a, str>, Port, Hints),
}

impl Target<'_> {
    /// The same target, owning its parts: for an operation's future to keep.
    pub(crate) fn into_owned(self) -> Target<'static> {
        match self {
            Target::Addrs(addrs) => Target::Addrs(Cow::Owned(addrs.into_owned())),
            Target::Lookup(host, port, hints) => {
                Target::Lookup(Cow::Owned(host.into_owned()), port, hints)
            }
        }
    }
}

/// Implements [`ToAddrs`] for resolved addresses, given as `|self| -> Cow<[SockAddr]>`.
macro_rules! resolved {
    ($($ty:ty => |$s:ident| $addrs:expr;)*) => {$(
        impl ToAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn target(&self) -> Target<'_> {
                let $s = self;
                Target::Addrs($addrs)
            }
        }
    )*};
}

resolved! {
    AddrList => |s| Cow::Owned(s.iter().map(|ai| ai.addr()).collect());
    AddrInfo<'_> => |s| Cow::Owned(vec![s.addr()]);
    SockAddr => |s| Cow::Borrowed(std::slice::from_ref(s));
    SocketAddr => |s| Cow::Owned(vec![SockAddr::from(*s)]);
    [SockAddr] => |s| Cow::Borrowed(s);
    Vec<SockAddr> => |s| Cow::Borrowed(s.as_slice());
}

impl<T: ToAddrs + ?Sized> ToAddrs for &T {}
impl<T: ToAddrs + ?Sized> sealed::Sealed for &T {
    fn target(&self) -> Target<'_> {
        (**self).target()
    }
}

impl<H: AsRef<str>, P: Into<Port> + Clone> ToAddrs for (H, P) {}
impl<H: AsRef<str>, P: Into<Port> + Clone> sealed::Sealed for (H, P) {
    fn target(&self) -> Target<'_> {
        lookup(self.0.as_ref(), self.1.clone().into())
    }
}

impl<P: Into<Port> + Clone> ToAddrs for (&str, P, Flags) {}
impl<P: Into<Port> + Clone> sealed::Sealed for (&str, P, Flags) {
    fn target(&self) -> Target<'_> {
        let hints = Hints::new().flags(self.2);
        Target::Lookup(Cow::Borrowed(self.0), self.1.clone().into(), hints)
    }
}

impl<P: Into<Port> + Clone> ToAddrs for (&str, P, Hints) {}
impl<P: Into<Port> + Clone> sealed::Sealed for (&str, P, Hints) {
    fn target(&self) -> Target<'_> {
        Target::Lookup(Cow::Borrowed(self.0), self.1.clone().into(), self.2)
    }
}

/// The target of `t`.
pub(crate) fn target_of(t: &(impl ToAddrs + ?Sized)) -> Target<'_> {
    sealed::Sealed::target(t)
}

/// `hints` completed by the socket: its family and type where the hints leave them
/// open, and `extra` flags.
fn completed(hints: Hints, family: Family, socktype: SocketType, extra: Flags) -> Hints {
    let mut h = hints.flags(hints.flags | extra);
    if h.family == Family::UNSPEC {
        h.family = family;
    }
    if h.socktype == SocketType::ANY {
        h.socktype = socktype;
    }
    h
}

/// The unix-domain address for `path`, or an error naming the path.
fn unix_addr(path: &str) -> Result<Vec<SockAddr>> {
    let addr = SockAddr::unix(path)
        .map_err(|e| Error::from(e).with_message(format!("bad unix socket path {path:?}")))?;
    Ok(vec![addr])
}

/// The addresses of `target` to bind: a lookup is PASSIVE (`"*"` is the wildcard) and
/// made now — blocking, but `"*"` and numeric hosts never reach a name server.
pub(crate) fn local_addrs(
    target: Target<'_>,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    lookup_now(target, family, socktype, Flags::PASSIVE)
}

/// The addresses of `target` to connect or send to, looked up now if it is a lookup
/// (for calls that do not wait: a UDP `connect_to`).
pub(crate) fn remote_addrs_now(
    target: Target<'_>,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    lookup_now(target, family, socktype, Flags::empty())
}

/// A lookup on this thread, `extra` flags added.
fn lookup_now(
    target: Target<'_>,
    family: Family,
    socktype: SocketType,
    extra: Flags,
) -> Result<Vec<SockAddr>> {
    let (host, port, hints) = match target {
        Target::Addrs(addrs) => return Ok(addrs.into_owned()),
        Target::Lookup(host, port, hints) => {
            (host, port, completed(hints, family, socktype, extra))
        }
    };
    #[cfg(feature = "sim")]
    if let Some(addrs) = crate::sim::socket::lookup_now(&host, &port, &hints) {
        return addrs;
    }
    if hints.family == Family::UNIX {
        return unix_addr(&host);
    }
    let list = sock_addr::lookup(&host, port, &hints)?;
    non_empty(collect(&list), &host)
}

/// The addresses of `target` to connect or send to, a lookup resolved off the loop.
pub(crate) async fn remote_addrs(
    target: Target<'_>,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    let (host, port, hints) = match target {
        Target::Addrs(addrs) => return Ok(addrs.into_owned()),
        Target::Lookup(host, port, hints) => (
            host,
            port,
            completed(hints, family, socktype, Flags::empty()),
        ),
    };
    #[cfg(feature = "sim")]
    if let Some(lookup) = crate::sim::socket::lookup(&host, &port, &hints) {
        return lookup.await;
    }
    if hints.family == Family::UNIX {
        return unix_addr(&host);
    }
    let lookup = sock_addr::resolve(&host, port, &hints);
    let list = crate::trace::lookup(&host, lookup).await?;
    non_empty(collect(&list), &host)
}

/// Looks up a local address to bind (PASSIVE: `"*"` is the wildcard). Blocking, but
/// `"*"` and numeric hosts never reach a name server.
pub(crate) fn local(
    host: &str,
    port: Port,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    local_addrs(lookup(host, port), family, socktype)
}

/// Resolves a remote address off the loop.
pub(crate) async fn remote(
    host: &str,
    port: Port,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    remote_addrs(lookup(host, port), family, socktype).await
}

/// The target of a `host, port` argument pair: a lookup with no flags.
fn lookup(host: &str, port: Port) -> Target<'_> {
    Target::Lookup(Cow::Borrowed(host), port, Hints::new())
}

fn collect(list: &AddrList) -> Vec<SockAddr> {
    list.iter().map(|ai| ai.addr()).collect()
}

fn non_empty(addrs: Vec<SockAddr>, host: &str) -> Result<Vec<SockAddr>> {
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::HostNotFound,
            format!("no address for {host:?}"),
        ));
    }
    Ok(addrs)
}

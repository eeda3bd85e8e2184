//! Turning the facade's address arguments into socket addresses.
//!
//! `host, port` go through `sock-addr`: `bind`/`listen` look up synchronously (they
//! take numeric hosts or `"*"` in practice, answered without any name server), while
//! `connect` and `sendto` resolve off the loop with
//! [`addr::resolve`](crate::addr::resolve), so a slow name server never blocks other
//! tasks. A resolved list, one entry, or a `SockAddr` can
//! be passed instead through [`ToAddrs`] so nothing is resolved twice. For
//! [`Family::UNIX`] the host is the socket's path.

use std::net::SocketAddr;

use sock_addr::{AddrInfo, AddrList, Family, Flags, Hints, Port, SockAddr, SocketType};

use crate::error::{Error, ErrorKind, Result};

/// Something that names one or more socket addresses without a lookup: a resolved
/// [`AddrList`], one [`AddrInfo`] entry, a [`SockAddr`] (or a slice or `Vec` of them), or a
/// std `SocketAddr`.
///
/// # Examples
///
/// ```
/// use sock::ToAddrs;
///
/// let addr: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
/// assert_eq!(addr.to_addrs().len(), 1);
/// ```
pub trait ToAddrs {
    /// The addresses, in the order to try them.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Hints, ToAddrs, addr::lookup};
    ///
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp())?;
    /// let addrs = list.to_addrs();
    /// assert_eq!(addrs[0].to_string(), "127.0.0.1:80");
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    fn to_addrs(&self) -> Vec<SockAddr>;
}

impl ToAddrs for AddrList {
    fn to_addrs(&self) -> Vec<SockAddr> {
        self.iter().map(|ai| ai.addr()).collect()
    }
}

impl ToAddrs for AddrInfo<'_> {
    fn to_addrs(&self) -> Vec<SockAddr> {
        vec![self.addr()]
    }
}

impl ToAddrs for SockAddr {
    fn to_addrs(&self) -> Vec<SockAddr> {
        vec![self.clone()]
    }
}

impl ToAddrs for SocketAddr {
    fn to_addrs(&self) -> Vec<SockAddr> {
        vec![SockAddr::from(*self)]
    }
}

impl ToAddrs for [SockAddr] {
    fn to_addrs(&self) -> Vec<SockAddr> {
        self.to_vec()
    }
}

impl ToAddrs for Vec<SockAddr> {
    fn to_addrs(&self) -> Vec<SockAddr> {
        self.clone()
    }
}

impl<T: ToAddrs + ?Sized> ToAddrs for &T {
    fn to_addrs(&self) -> Vec<SockAddr> {
        (**self).to_addrs()
    }
}

fn hints(family: Family, socktype: SocketType, flags: Flags) -> Hints {
    Hints::new().family(family).socktype(socktype).flags(flags)
}

/// The unix-domain address for `path`, or an error naming the path.
fn unix_addr(path: &str) -> Result<Vec<SockAddr>> {
    let addr = SockAddr::unix(path)
        .map_err(|e| Error::from(e).with_message(format!("bad unix socket path {path:?}")))?;
    Ok(vec![addr])
}

/// Looks up a local address to bind (PASSIVE: `"*"` is the wildcard). Blocking, but
/// `"*"` and numeric hosts never reach a name server.
pub(crate) fn local(
    host: &str,
    port: Port,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    if family == Family::UNIX {
        return unix_addr(host);
    }
    let list = sock_addr::lookup(host, port, &hints(family, socktype, Flags::PASSIVE))?;
    non_empty(list.to_addrs(), host)
}

/// Resolves a remote address off the loop.
pub(crate) async fn remote(
    host: &str,
    port: Port,
    family: Family,
    socktype: SocketType,
) -> Result<Vec<SockAddr>> {
    if family == Family::UNIX {
        return unix_addr(host);
    }
    let lookup = sock_addr::resolve(host, port, &hints(family, socktype, Flags::empty()));
    let list = crate::trace::lookup(host, lookup).await?;
    non_empty(list.to_addrs(), host)
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

//! [`lookup`]: the blocking `getaddrinfo` call, with the seed's conventions for host
//! `"*"` and port 0.

use crate::error::Asked;
use crate::numeric::Numeric;
use crate::{AddrList, Hints, LookupError, Port, sys};

/// Looks up `host` and `port` with `getaddrinfo`, blocking the calling thread until the
/// OS answers (the seed's `sock.addr`). Use [`resolve`](crate::resolve) from async code.
///
/// An IP literal with a port number, a stream or datagram socket type and no flag that
/// changes the answer is answered without the OS, with the one entry `getaddrinfo`
/// gives for it (its address and port, the type, the type's protocol).
///
/// - `host` is a name, a numeric IPv4/IPv6 address (IPv6 may carry a `%scope`), or `"*"`:
///   no host, which with [`Flags::PASSIVE`](crate::Flags::PASSIVE) gives the wildcard
///   address (all interfaces, for `bind`) and without it the loopback address.
/// - `port` is a number, a service name (`"http"`), or 0. With a host, 0 passes no
///   service at all, so every socket type is returned (as `getent ahosts` does).
/// - `hints` picks socket type, family, protocol and flags; every flag is passed on.
///
/// # Errors
///
/// A [`LookupError`] of the kind the OS reported, with its text: `HostNotFound` naming
/// the host, `ServiceNotFound`, `BadFlags`, `FamilyNotSupported` (for example
/// [`Family::UNIX`](crate::Family::UNIX): use [`SockAddr::unix`](crate::SockAddr::unix)),
/// `TryAgain`, …; `InvalidInput` if `host` or `port` contains a NUL byte.
///
/// # Examples
///
/// ```
/// use sock::{Family, Flags, addr::lookup, addr::Hints};
///
/// // Bind to every IPv4 interface, any port:
/// let list = lookup("*", 0, &Hints::tcp().family(Family::INET).flags(Flags::PASSIVE))?;
/// assert_eq!(list.first().unwrap().to_string(), "0.0.0.0:0");
///
/// // A service name is looked up in the services database:
/// let list = lookup("127.0.0.1", "http", &Hints::tcp())?;
/// assert_eq!(list.first().unwrap().addr().port(), 80);
/// # Ok::<(), sock::addr::LookupError>(())
/// ```
#[doc(alias = "addr")]
#[doc(alias = "getaddrinfo")]
pub fn lookup(host: &str, port: impl Into<Port>, hints: &Hints) -> Result<AddrList, LookupError> {
    lookup_port(host, &port.into(), hints)
}

/// [`lookup`] with the port already converted (shared with the resolver).
pub(crate) fn lookup_port(host: &str, port: &Port, hints: &Hints) -> Result<AddrList, LookupError> {
    if let Some(entry) = Numeric::answer(host, port, hints) {
        return Ok(AddrList::numeric(entry));
    }
    let service = port.to_string();
    check_nul("host", host)?;
    check_nul("service", &service)?;
    let node = (host != "*").then_some(host);
    let service_arg = match (node, port.number()) {
        (Some(_), Some(0)) => None,
        _ => Some(service.as_str()),
    };
    let asked = Asked {
        host,
        service: &service,
        service_is_name: port.name().is_some(),
        hints,
    };
    match sys::getaddrinfo(node, service_arg, hints) {
        Ok(os) => Ok(AddrList::new(os)),
        Err(failure) => Err(failure.into_error(&asked)),
    }
}

fn check_nul(what: &str, s: &str) -> Result<(), LookupError> {
    if s.contains('\0') {
        let message = format!("{what} {s:?} contains a NUL byte");
        return Err(LookupError::InvalidInput { message });
    }
    Ok(())
}

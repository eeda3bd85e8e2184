//! `sock::addr::lookup` and `sock::addr::resolve` on a simulated host: the world's DNS
//! records (`dns.rs`) answer, as an [`AddrList`] built from their addresses.
//!
//! Names only: an IP literal (or `"*"`) goes to sock-addr as on any loop, which answers
//! it without a resolver. A name is looked up in the world as the socket calls look it
//! up (`socket.rs`): `resolve` waits the resolver's latency (or the timeout of a name
//! that never answers) in virtual time; `lookup`, which blocks and so cannot wait for
//! virtual time to pass, takes the answer at once. Each address gives one entry per
//! socket type, as `getaddrinfo` does: the hints' type, or stream, datagram and raw in
//! that order when the hints name none. The flags change nothing for a name here
//! (`CANONNAME` gives no canonical name, `V4MAPPED` maps nothing, `ADDRCONFIG` keeps
//! every family). Errors are the OS's kinds of [`LookupError`]: `HostNotFound` for
//! NXDOMAIN, `NoAddress` for a record of the other family only, `TryAgain` for a name
//! that never answers, `ServiceNotFound` for a service name (ports are numbers).

use std::future::Future;
use std::net::IpAddr;

use sock_addr::{AddrList, Hints, LookupError, Port, Protocol, SockAddr, SocketType};

use super::socket;
use crate::error::{Error, ErrorKind};

/// [`sock::addr::lookup`](crate::addr::lookup) on a simulated host, answered at once;
/// `None` on any other loop, for an IP literal and for a unix-family lookup.
pub(crate) fn lookup(
    host: &str,
    port: &Port,
    hints: &Hints,
) -> Option<Result<AddrList, LookupError>> {
    if is_literal(host) {
        return None;
    }
    let answer = socket::lookup_now(host, port, hints)?;
    Some(
        answer
            .map_err(|e| lookup_error(host, port, hints, &e))
            .and_then(|a| list(host, &a, hints)),
    )
}

/// [`sock::addr::resolve`](crate::addr::resolve) on a simulated host, after the
/// resolver's virtual time; `None` as for [`lookup`].
pub(crate) fn resolve(
    host: &str,
    port: &Port,
    hints: &Hints,
) -> Option<impl Future<Output = Result<AddrList, LookupError>> + Send + use<>> {
    if is_literal(host) {
        return None;
    }
    let answer = socket::lookup(host, port, hints)?;
    let (host, port, hints) = (host.to_string(), port.clone(), *hints);
    Some(async move {
        let addrs = answer
            .await
            .map_err(|e| lookup_error(&host, &port, &hints, &e))?;
        list(&host, &addrs, &hints)
    })
}

/// Whether sock-addr answers `host` without a resolver: an IP literal, or no host.
fn is_literal(host: &str) -> bool {
    matches!(host, "*" | "") || host.parse::<IpAddr>().is_ok()
}

/// The list of `addrs`, one entry per socket type the hints ask for.
fn list(host: &str, addrs: &[SockAddr], hints: &Hints) -> Result<AddrList, LookupError> {
    let types = socket_types(hints);
    let ips = addrs.iter().filter_map(SockAddr::as_socket);
    let entries = ips.flat_map(|addr| types.iter().map(move |&(t, p)| (addr, t, p)));
    AddrList::from_entries(entries).ok_or_else(|| LookupError::NoAddress {
        host: host.to_string(),
        family: hints.family,
        message: "sock::sim: no address of the family".to_string(),
    })
}

/// The (socket type, protocol) pairs of each address's entries.
fn socket_types(hints: &Hints) -> Vec<(SocketType, Protocol)> {
    let default = |t: SocketType, p: Protocol| match hints.protocol {
        Protocol::IP => (t, p),
        asked => (t, asked),
    };
    match hints.socktype {
        SocketType::STREAM => vec![default(SocketType::STREAM, Protocol::TCP)],
        SocketType::DGRAM => vec![default(SocketType::DGRAM, Protocol::UDP)],
        SocketType::ANY => vec![
            (SocketType::STREAM, Protocol::TCP),
            (SocketType::DGRAM, Protocol::UDP),
            (SocketType::RAW, Protocol::IP),
        ],
        other => vec![(other, hints.protocol)],
    }
}

/// A simulated lookup's error as the [`LookupError`] the OS's would be.
fn lookup_error(host: &str, port: &Port, hints: &Hints, e: &Error) -> LookupError {
    let (host, message) = (host.to_string(), e.to_string());
    match e.kind() {
        ErrorKind::HostNotFound => LookupError::HostNotFound { host, message },
        ErrorKind::NoAddress => LookupError::NoAddress {
            host,
            family: hints.family,
            message,
        },
        ErrorKind::TryAgain => LookupError::TryAgain { host, message },
        ErrorKind::InvalidInput => LookupError::ServiceNotFound {
            service: port.to_string(),
            socktype: hints.socktype,
            message,
        },
        _ => LookupError::Failed { host, message },
    }
}

//! Address strings, as a program takes them from a user: the input is up to six lines —
//! host, port, family, socket type, protocol, lookup flags — and each goes through its
//! parser: `Port::from` (a number or a service name), the `FromStr`s of `Family`,
//! `SocketType`, `Protocol` and `Flags`, `SockAddr::unix` for the host as a path, the
//! examples' `host_port` for `HOST:PORT` and `[v6]:PORT`, and `lookup` with
//! `NUMERICHOST | NUMERICSERV` added to the flags, so no name server and no services
//! database is asked.
//!
//! Nothing may panic, and what parses must round-trip: a port prints as what parses
//! back to it, a name parses back from `name()`, flags from their `Debug`, a unix
//! path comes back from the address, a lookup result prints as a std socket address
//! that parses back to it; a host that std parses as an IP address or socket address
//! must be found by the numeric lookup, as that address.

#![no_main]

use std::fmt::{Debug, Display};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use sock_addr::{Family, Flags, Hints, LookupError, Port, Protocol, SockAddr, SocketType, lookup};
use sock_examples::args::host_port;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.splitn(6, '\n').collect();
    let line = |i: usize| lines.get(i).copied().unwrap_or("");
    let (host, port) = (line(0), line(1));
    check_port(port);
    let hints = Hints::new()
        .family(check_name(line(2), Family::name))
        .socktype(check_name(line(3), SocketType::name))
        .protocol(check_name(line(4), Protocol::name))
        .flags(check_flags(line(5)) | Flags::NUMERICHOST | Flags::NUMERICSERV);
    check_lookup(host, port, &hints);
    check_ip_host(host, port, &hints);
    check_unix_path(host);
    check_host_port(host, port);
    check_socket_addr_text(host);
});

/// `Port::from`: digits are a number, anything else a name, and printing round-trips.
fn check_port(text: &str) {
    let port = Port::from(text);
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match port.number() {
        Some(n) => assert!(digits && text.parse() == Ok(n), "{text:?} became {n}"),
        None => {
            assert_eq!(port.name(), Some(text));
            assert!(
                !digits || text.parse::<u16>().is_err(),
                "{text:?} is a number"
            );
        }
    }
    assert_eq!(Port::from(port.to_string()), port);
}

/// A `FromStr` of the seed's names: what parses comes back from `name`; an error prints.
fn check_name<T>(text: &str, name: fn(T) -> &'static str) -> T
where
    T: FromStr + Copy + PartialEq + Debug + Default,
    T::Err: Display,
{
    match text.parse::<T>() {
        Ok(value) => {
            assert_eq!(name(value).parse::<T>().ok(), Some(value), "{text:?}");
            value
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            T::default()
        }
    }
}

/// `Flags::from_str`: parsed flags come back from their `Debug` text.
fn check_flags(text: &str) -> Flags {
    let Ok(flags) = text.parse::<Flags>() else {
        return Flags::empty();
    };
    if !flags.is_empty() {
        assert_eq!(format!("{flags:?}").parse::<Flags>(), Ok(flags), "{text:?}");
    }
    flags
}

/// A numeric lookup: NUL bytes are refused, results are consistent and print as std
/// socket addresses that parse back.
fn check_lookup(host: &str, port: &str, hints: &Hints) {
    let wanted = Port::from(port);
    let list = match lookup(host, wanted.clone(), hints) {
        Ok(list) => list,
        Err(e) => {
            let nul = host.contains('\0') || port.contains('\0');
            assert!(
                !nul || matches!(e, LookupError::InvalidInput { .. }),
                "{e:?}"
            );
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(!list.is_empty() && list.len() == list.iter().count());
    let _ = format!("{list:?}");
    for entry in list.iter() {
        let addr = entry.addr();
        assert_eq!(addr.family(), entry.family());
        let _ = format!("{entry} {entry:?}");
        let Some(socket) = addr.as_socket() else {
            continue;
        };
        assert_eq!(addr.to_string().parse::<SocketAddr>(), Ok(socket));
        assert_eq!(SockAddr::from(socket), addr);
        if let Some(n) = wanted.number() {
            assert_eq!(socket.port(), n, "{host:?} {port:?}");
        }
    }
}

/// A host std parses as an IP address is found by a numeric lookup of any family,
/// socket type and flags but `ADDRCONFIG` (which depends on the machine's interfaces).
fn check_ip_host(host: &str, port: &str, hints: &Hints) {
    let (Ok(ip), Some(n)) = (host.parse::<IpAddr>(), Port::from(port).number()) else {
        return;
    };
    let plain = [SocketType::ANY, SocketType::STREAM, SocketType::DGRAM];
    let socktype = match plain.contains(&hints.socktype) {
        true => hints.socktype,
        false => SocketType::ANY,
    };
    let hints = Hints {
        family: Family::UNSPEC,
        socktype,
        protocol: Protocol::IP,
        flags: hints.flags - Flags::ADDRCONFIG,
    };
    let list = lookup(host, n, &hints).unwrap_or_else(|e| panic!("{host:?} {n}: {e}"));
    let found = list
        .iter()
        .any(|e| e.addr().as_socket() == Some(SocketAddr::new(ip, n)));
    assert!(found, "{host:?} {n}: {list:?}");
}

/// `SockAddr::unix`: accepted exactly when 1..=107 bytes without NUL, and the path comes
/// back, also through a raw copy.
fn check_unix_path(path: &str) {
    let fits = !path.is_empty() && path.len() <= 107 && !path.contains('\0');
    let Ok(addr) = SockAddr::unix(path) else {
        assert!(!fits, "{path:?} refused");
        return;
    };
    assert!(fits, "{path:?} accepted");
    assert_eq!(addr.family(), Family::UNIX);
    assert_eq!(addr.as_unix_path(), Some(Path::new(path)));
    assert_eq!(addr.to_string(), path);
    // SAFETY: the pointer is valid for `len()` bytes while `addr` lives.
    let copy = unsafe { SockAddr::from_raw(addr.as_ptr(), addr.len()) };
    assert_eq!(copy, addr);
}

/// The examples' `host_port` splits `HOST:PORT` and `[HOST]:PORT` back into its parts.
fn check_host_port(host: &str, port: &str) {
    let Ok(port) = port.parse::<u16>() else {
        return;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let want = (bare.to_owned(), port);
    assert_eq!(host_port(&format!("[{bare}]:{port}")), want);
    assert_eq!(host_port(&format!("{bare}:{port}")), want);
}

/// Text std parses as a socket address (`1.2.3.4:80`, `[::1%2]:80`) is split by
/// `host_port` into a host and port that a numeric lookup turns back into it.
fn check_socket_addr_text(text: &str) {
    let Ok(socket) = text.parse::<SocketAddr>() else {
        return;
    };
    let (host, port) = host_port(text);
    assert_eq!(port, socket.port());
    let family = if socket.is_ipv4() {
        Family::INET
    } else {
        Family::INET6
    };
    let numeric = Flags::NUMERICHOST | Flags::NUMERICSERV;
    let hints = Hints::new().family(family).flags(numeric);
    let list = lookup(&host, port, &hints).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let first = list.first().expect("a successful lookup has an entry");
    assert_eq!(first.addr().as_socket(), Some(socket), "{text:?}");
}

//! `SockAddr`: conversions, accessors and `Display` (IPv6 with brackets and scope id,
//! which the seed printed wrongly).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use sock_addr::{Family, Flags, Hints, SockAddr, lookup};

#[test]
fn ipv4_display_and_accessors() {
    let addr = SockAddr::from("192.0.2.7:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(addr.to_string(), "192.0.2.7:8080");
    assert_eq!(addr.family(), Family::INET);
    assert_eq!(addr.port(), 8080);
    let Some(IpAddr::V4(ip)) = addr.ip() else {
        panic!()
    };
    assert_eq!(ip.octets(), [192, 0, 2, 7]);
}

#[test]
fn ipv6_display_uses_brackets() {
    let list = lookup("2001:db8::1", 443, &Hints::tcp().flags(Flags::NUMERICHOST)).unwrap();
    let addr = list.first().unwrap().addr();
    assert_eq!(addr.to_string(), "[2001:db8::1]:443");
    assert_eq!(list.first().unwrap().to_string(), "[2001:db8::1]:443");
    let Some(IpAddr::V6(ip)) = addr.ip() else {
        panic!()
    };
    assert_eq!(ip.octets().len(), 16);
    assert_eq!(ip.to_string(), "2001:db8::1");
}

#[test]
fn ipv6_display_keeps_the_scope_id() {
    let addr = SockAddr::from("[fe80::1%7]:80".parse::<SocketAddr>().unwrap());
    assert_eq!(addr.to_string(), "[fe80::1%7]:80");
    let Some(SocketAddr::V6(v6)) = addr.as_socket() else {
        panic!()
    };
    assert_eq!(v6.scope_id(), 7);
}

/// A scope given by interface name comes back as that interface's index.
#[cfg(target_os = "linux")]
#[test]
fn ipv6_scope_by_interface_name_from_lookup() {
    // SAFETY: NUL-terminated name.
    let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    assert_ne!(lo, 0);
    let list = lookup("fe80::1%lo", 80, &Hints::tcp().flags(Flags::NUMERICHOST)).unwrap();
    let addr = list.first().unwrap().addr();
    assert_eq!(addr.to_string(), format!("[fe80::1%{lo}]:80"));
}

#[test]
fn std_round_trip_and_equality() {
    let std_addr: SocketAddr = "[::1]:9".parse().unwrap();
    let a = SockAddr::from(std_addr);
    assert_eq!(a.as_socket(), Some(std_addr));
    assert_eq!(a.as_unix_path(), None);
    let from_lookup = lookup("::1", 9, &Hints::udp())
        .unwrap()
        .first()
        .unwrap()
        .addr();
    assert_eq!(from_lookup, a);
    let set: HashSet<SockAddr> = [
        a.clone(),
        from_lookup,
        SockAddr::from("[::1]:10".parse::<SocketAddr>().unwrap()),
    ]
    .into();
    assert_eq!(set.len(), 2);
}

#[test]
fn unix_paths_without_lookup() {
    let addr = SockAddr::unix("/tmp/sock-addr-test.sock").unwrap();
    assert_eq!(addr.family(), Family::UNIX);
    assert_eq!(
        addr.as_unix_path(),
        Some(Path::new("/tmp/sock-addr-test.sock"))
    );
    assert_eq!(addr.to_string(), "/tmp/sock-addr-test.sock");
    assert_eq!((addr.port(), addr.ip(), addr.as_socket()), (0, None, None));
    // SAFETY: valid for `len()` bytes while `addr` lives.
    let copy = unsafe { SockAddr::from_raw(addr.as_ptr(), addr.len()) };
    assert_eq!(copy, addr);
    assert_eq!(
        format!("{copy:?}"),
        "SockAddr(UNIX, /tmp/sock-addr-test.sock)"
    );
}

#[test]
fn bad_unix_paths_are_rejected() {
    for bad in ["", "a\0b"] {
        let err = SockAddr::unix(bad).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
    let long = "x".repeat(200);
    assert_eq!(
        SockAddr::unix(&long).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    let longest = "x".repeat(107);
    assert_eq!(
        SockAddr::unix(&longest).unwrap().as_unix_path(),
        Some(Path::new(&longest))
    );
}

#[test]
#[should_panic(expected = "larger than")]
fn from_raw_rejects_oversized_lengths() {
    let addr = SockAddr::unix("/tmp/x").unwrap();
    // SAFETY: the panic happens before any read; the length is deliberately too large.
    let _ = unsafe { SockAddr::from_raw(addr.as_ptr(), 4096) };
}

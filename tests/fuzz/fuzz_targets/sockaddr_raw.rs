//! Raw `sockaddr` bytes → `SockAddr`, as the OS hands them over (`getsockname`,
//! `recvfrom`, `recvmmsg`, `getaddrinfo` results — `AddrList` has no constructor from
//! raw bytes, its entries are copied through this same `SockAddr::from_raw`).
//!
//! The first input byte picks the family field (IPv4, IPv6, unix, or two raw bytes), the
//! next the length (0 up to `sockaddr_storage`'s 128 bytes), the rest fills the address
//! after the family field. Every accessor and formatter must work without panicking,
//! and what the address says must hold together: an IP address only for a long enough
//! `sockaddr_in`/`sockaddr_in6`, which converts to and from std's type and prints as
//! text std parses back; a unix path that builds the same path again.

#![no_main]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use sock_addr::{Family, SockAddr};
use sock_fuzz::Input;

/// `sockaddr_storage`: big enough and aligned for every socket address.
type Storage = libc::sockaddr_storage;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (family, len) = (family_field(&mut input), input.byte() as usize);
    let len = len.min(size_of::<Storage>());
    // SAFETY: `sockaddr_storage` is plain data; all-zero is a valid value.
    let mut storage: Storage = unsafe { std::mem::zeroed() };
    let bytes = storage_bytes(&mut storage);
    bytes[..2].copy_from_slice(&family.to_ne_bytes());
    let rest = input.rest();
    let n = rest.len().min(bytes.len() - 2);
    bytes[2..2 + n].copy_from_slice(&rest[..n]);
    let ptr = std::ptr::from_ref(&storage).cast::<sock_addr::RawSockAddr>();
    // SAFETY: the storage holds `size_of::<Storage>()` >= `len` readable bytes.
    let addr = unsafe { SockAddr::from_raw(ptr, len as sock_addr::RawSockLen) };
    check(&addr, family, len);
});

/// The family field: IPv4, IPv6, unix, or any two bytes.
fn family_field(input: &mut Input<'_>) -> u16 {
    match input.byte() % 4 {
        0 => libc::AF_INET as u16,
        1 => libc::AF_INET6 as u16,
        2 => libc::AF_UNIX as u16,
        _ => input.u16(),
    }
}

/// The storage as bytes.
fn storage_bytes(storage: &mut Storage) -> &mut [u8] {
    // SAFETY: the storage is plain data of `size_of::<Storage>()` bytes, borrowed
    // mutably for the slice's lifetime; every byte pattern is valid.
    unsafe {
        std::slice::from_raw_parts_mut(std::ptr::from_mut(storage).cast(), size_of::<Storage>())
    }
}

/// What a `SockAddr` of `len` bytes with `family` must satisfy.
fn check(addr: &SockAddr, family: u16, len: usize) {
    assert_eq!(addr.len() as usize, len);
    if len >= 2 {
        assert_eq!(addr.family(), Family::from_raw(i32::from(family)));
    }
    let _ = format!("{addr} {addr:?} {}", addr.port());
    assert_eq!(addr.clone(), *addr);
    assert_eq!(hash(addr), hash(&addr.clone()));
    check_ip(addr, len);
    check_unix(addr);
}

/// An IP address exactly for a long enough `sockaddr_in`/`sockaddr_in6`, consistent
/// with std's type, printed as text std parses back (flow info is not printed).
fn check_ip(addr: &SockAddr, len: usize) {
    let long_enough = match addr.family() {
        Family::INET => len >= size_of::<libc::sockaddr_in>(),
        Family::INET6 => len >= size_of::<libc::sockaddr_in6>(),
        _ => false,
    };
    let Some(socket) = addr.as_socket() else {
        assert!(!long_enough, "{addr:?} has no IP address");
        assert_eq!((addr.ip(), addr.port()), (None, 0));
        return;
    };
    assert!(long_enough, "{addr:?} of {len} bytes has an IP address");
    assert_eq!((addr.ip(), addr.port()), (Some(socket.ip()), socket.port()));
    assert_eq!(SockAddr::from(socket).as_socket(), Some(socket));
    let mut printed = socket;
    if let SocketAddr::V6(v6) = &mut printed {
        v6.set_flowinfo(0);
    }
    assert_eq!(addr.to_string().parse::<SocketAddr>(), Ok(printed));
}

/// A unix path, when there is one, builds an address with the same path.
fn check_unix(addr: &SockAddr) {
    let Some(path) = addr.as_unix_path() else {
        return;
    };
    assert_eq!(addr.family(), Family::UNIX);
    let bytes = path.as_os_str().len();
    assert!(bytes > 0);
    match SockAddr::unix(path) {
        Ok(again) => assert_eq!(again.as_unix_path(), Some(path)),
        Err(e) => assert!(bytes > 107, "{path:?}: {e}"),
    }
}

/// `addr`'s hash.
fn hash(addr: &SockAddr) -> u64 {
    let mut hasher = DefaultHasher::new();
    addr.hash(&mut hasher);
    hasher.finish()
}

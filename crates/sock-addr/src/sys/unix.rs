//! Unix backend: `getaddrinfo(3)` through libc, and `sockaddr` conversions.
//!
//! The contract both backends keep (`sys/windows.rs` has the same `pub(crate)` items):
//! the raw constants the portable newtypes wrap, [`OsList`] owning the OS's result list
//! (freed on drop) with [`Entry`] views into it, [`getaddrinfo`] returning either a list
//! or a [`Failure`] classified into a portable [`Cause`] plus the OS's own text, and the
//! `sockaddr` conversions [`SockAddr`](crate::SockAddr) is built from. Nothing here
//! blocks except [`getaddrinfo`] itself.

use std::ffi::{CStr, CString, OsStr};
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::{io, slice};

use crate::Hints;
use crate::error::{Cause, Failure};
use crate::sockaddr::SockAddr;

/// The OS's generic socket address type, `struct sockaddr` (`libc::sockaddr` here).
///
/// # Examples
///
/// See [`SockAddr::from_raw`](crate::SockAddr::from_raw).
pub type RawSockAddr = libc::sockaddr;
/// The OS's socket address length type, `socklen_t` (`libc::socklen_t` here).
///
/// # Examples
///
/// See [`SockAddr::from_raw`](crate::SockAddr::from_raw).
pub type RawSockLen = libc::socklen_t;
/// Storage big enough for any socket address.
pub(crate) type Storage = libc::sockaddr_storage;

pub(crate) const AF_UNSPEC: i32 = libc::AF_UNSPEC;
pub(crate) const AF_INET: i32 = libc::AF_INET;
pub(crate) const AF_INET6: i32 = libc::AF_INET6;
pub(crate) const AF_UNIX: i32 = libc::AF_UNIX;

pub(crate) const SOCK_STREAM: i32 = libc::SOCK_STREAM;
pub(crate) const SOCK_DGRAM: i32 = libc::SOCK_DGRAM;
pub(crate) const SOCK_RAW: i32 = libc::SOCK_RAW;

pub(crate) const IPPROTO_IP: i32 = libc::IPPROTO_IP;
pub(crate) const IPPROTO_IPV6: i32 = libc::IPPROTO_IPV6;
pub(crate) const IPPROTO_TCP: i32 = libc::IPPROTO_TCP;
pub(crate) const IPPROTO_UDP: i32 = libc::IPPROTO_UDP;
pub(crate) const IPPROTO_RAW: i32 = libc::IPPROTO_RAW;
pub(crate) const IPPROTO_ICMP: i32 = libc::IPPROTO_ICMP;
pub(crate) const IPPROTO_IGMP: i32 = libc::IPPROTO_IGMP;
pub(crate) const IPPROTO_ICMPV6: i32 = libc::IPPROTO_ICMPV6;

pub(crate) const AI_PASSIVE: i32 = libc::AI_PASSIVE;
pub(crate) const AI_CANONNAME: i32 = libc::AI_CANONNAME;
pub(crate) const AI_NUMERICHOST: i32 = libc::AI_NUMERICHOST;
pub(crate) const AI_NUMERICSERV: i32 = libc::AI_NUMERICSERV;
pub(crate) const AI_ALL: i32 = libc::AI_ALL;
pub(crate) const AI_V4MAPPED: i32 = libc::AI_V4MAPPED;
pub(crate) const AI_ADDRCONFIG: i32 = libc::AI_ADDRCONFIG;

/// The codes for "the host has no address of that family": glibc's `EAI_NODATA` and
/// `EAI_ADDRFAMILY` (-9, a GNU extension the libc crate does not export); macOS's
/// deprecated `EAI_NODATA`; FreeBSD folds both into `EAI_NONAME`.
#[cfg(target_os = "linux")]
const NO_DATA: &[i32] = &[libc::EAI_NODATA, -9];
#[cfg(any(target_os = "macos", target_os = "ios"))]
const NO_DATA: &[i32] = &[libc::EAI_NODATA];
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "ios")))]
const NO_DATA: &[i32] = &[];

/// The result list of one `getaddrinfo` call; `freeaddrinfo` on drop.
pub(crate) struct OsList {
    /// Head of the list `getaddrinfo` allocated; never null, freed exactly once in `Drop`.
    head: NonNull<libc::addrinfo>,
}

// SAFETY: the list is never mutated after `getaddrinfo` returns it, so shared reads from
// several threads are fine, and `freeaddrinfo` may run on any thread.
unsafe impl Send for OsList {}
// SAFETY: see `Send`: the list is immutable.
unsafe impl Sync for OsList {}

impl Drop for OsList {
    fn drop(&mut self) {
        // SAFETY: `head` came from a successful `getaddrinfo` and is freed only here.
        unsafe { libc::freeaddrinfo(self.head.as_ptr()) }
    }
}

impl OsList {
    /// The first entry (a successful lookup has at least one).
    pub(crate) fn first(&self) -> Entry<'_> {
        // SAFETY: `head` is valid and lives as long as `self`.
        let ai = unsafe { self.head.as_ref() };
        Entry {
            ai,
            _list: PhantomData,
        }
    }
}

/// A view of one `addrinfo` node of an [`OsList`].
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The node; owned by the list this entry borrows.
    ai: &'a libc::addrinfo,
    /// Ties the entry to its list.
    _list: PhantomData<&'a OsList>,
}

impl<'a> Entry<'a> {
    /// The next node, if any.
    pub(crate) fn next(self) -> Option<Entry<'a>> {
        // SAFETY: `ai_next` is null or points to the next node of the same live list.
        let next = unsafe { self.ai.ai_next.as_ref() }?;
        Some(Entry {
            ai: next,
            _list: PhantomData,
        })
    }

    pub(crate) fn family(self) -> i32 {
        self.ai.ai_family
    }

    pub(crate) fn socktype(self) -> i32 {
        self.ai.ai_socktype
    }

    pub(crate) fn protocol(self) -> i32 {
        self.ai.ai_protocol
    }

    /// `ai_canonname`, when set and valid UTF-8 (host names are ASCII on the wire).
    pub(crate) fn canonical_name(self) -> Option<&'a str> {
        if self.ai.ai_canonname.is_null() {
            return None;
        }
        // SAFETY: a non-null `ai_canonname` is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(self.ai.ai_canonname) };
        name.to_str().ok()
    }

    /// A copy of `ai_addr`.
    pub(crate) fn addr(self) -> SockAddr {
        // SAFETY: `ai_addr` points to `ai_addrlen` readable bytes owned by the list.
        unsafe { SockAddr::from_raw(self.ai.ai_addr, self.ai.ai_addrlen) }
    }
}

/// Runs `getaddrinfo(node, service, hints)`; `None` passes a null pointer.
///
/// The strings must not contain NUL bytes (the portable layer checks that first).
pub(crate) fn getaddrinfo(
    node: Option<&str>,
    service: Option<&str>,
    hints: &Hints,
) -> Result<OsList, Failure> {
    let node = node.map(c_string);
    let service = service.map(c_string);
    let raw_hints = raw_hints(hints);
    let mut res: *mut libc::addrinfo = ptr::null_mut();
    // SAFETY: the strings are NUL-terminated or null, `raw_hints` is a zero-initialised
    // `addrinfo` with only the four hint fields set, and `res` is a valid out-pointer.
    let code = unsafe {
        libc::getaddrinfo(
            node.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            service.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            &raw_hints,
            &mut res,
        )
    };
    if code != 0 {
        return Err(failure(code));
    }
    match NonNull::new(res) {
        Some(head) => Ok(OsList { head }),
        None => Err(Failure {
            cause: Cause::NoName,
            message: "empty result".to_owned(),
        }),
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s).expect("the portable layer rejects strings with NUL bytes")
}

fn raw_hints(hints: &Hints) -> libc::addrinfo {
    // SAFETY: `addrinfo` is plain data; all-zero is its documented "no hints" state.
    let mut raw: libc::addrinfo = unsafe { mem::zeroed() };
    raw.ai_flags = hints.flags.as_raw();
    raw.ai_family = hints.family.as_raw();
    raw.ai_socktype = hints.socktype.as_raw();
    raw.ai_protocol = hints.protocol.as_raw();
    raw
}

/// Classifies a `getaddrinfo` error code and keeps the OS's text for it.
fn failure(code: i32) -> Failure {
    if code == libc::EAI_SYSTEM {
        let err = io::Error::last_os_error();
        return Failure {
            message: err.to_string(),
            cause: Cause::System(err),
        };
    }
    let cause = match code {
        libc::EAI_NONAME => Cause::NoName,
        c if NO_DATA.contains(&c) => Cause::NoData,
        libc::EAI_SERVICE => Cause::Service,
        libc::EAI_BADFLAGS => Cause::BadFlags,
        libc::EAI_FAMILY => Cause::Family,
        libc::EAI_SOCKTYPE => Cause::Socktype,
        libc::EAI_AGAIN => Cause::Again,
        libc::EAI_FAIL => Cause::Fail,
        libc::EAI_MEMORY => Cause::Memory,
        other => Cause::Other(other),
    };
    Failure {
        cause,
        message: gai_strerror(code),
    }
}

fn gai_strerror(code: i32) -> String {
    // SAFETY: `gai_strerror` accepts any code and returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
    text.to_string_lossy().into_owned()
}

/// An all-zero storage (the unspecified family).
pub(crate) fn zeroed_storage() -> Storage {
    // SAFETY: `sockaddr_storage` is plain data; all-zero is a valid value.
    unsafe { mem::zeroed() }
}

/// The family field of a stored address.
pub(crate) fn storage_family(storage: &Storage) -> i32 {
    i32::from(storage.ss_family)
}

/// Reads an IPv4 or IPv6 address out of `storage`.
pub(crate) fn to_socket_addr(storage: &Storage, len: RawSockLen) -> Option<SocketAddr> {
    let len = len as usize;
    match storage_family(storage) {
        AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family and length say `storage` holds a `sockaddr_in`, and
            // `sockaddr_storage` is aligned for every socket address type.
            let sin = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let port = u16::from_be(sin6.sin6_port);
            Some(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id).into())
        }
        _ => None,
    }
}

/// Encodes a std socket address.
pub(crate) fn from_socket_addr(addr: &SocketAddr) -> (Storage, RawSockLen) {
    let mut storage = zeroed_storage();
    let len = match addr {
        SocketAddr::V4(v4) => write(&mut storage, sockaddr_in(v4)),
        SocketAddr::V6(v6) => write(&mut storage, sockaddr_in6(v6)),
    };
    (storage, len)
}

fn sockaddr_in(addr: &SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: plain data; all-zero is valid (and zeroes `sin_zero`).
    let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
    sin.sin_family = AF_INET as libc::sa_family_t;
    sin.sin_port = addr.port().to_be();
    sin.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    sin
}

fn sockaddr_in6(addr: &SocketAddrV6) -> libc::sockaddr_in6 {
    // SAFETY: plain data; all-zero is valid.
    let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
    sin6.sin6_family = AF_INET6 as libc::sa_family_t;
    sin6.sin6_port = addr.port().to_be();
    sin6.sin6_flowinfo = addr.flowinfo();
    sin6.sin6_addr.s6_addr = addr.ip().octets();
    sin6.sin6_scope_id = addr.scope_id();
    sin6
}

/// Copies a concrete address type into the storage; returns its length.
fn write<T: Copy>(storage: &mut Storage, addr: T) -> RawSockLen {
    const { assert!(mem::size_of::<T>() <= mem::size_of::<Storage>()) };
    // SAFETY: `T` fits in the storage (checked above) and the storage is aligned for
    // every socket address type.
    unsafe { ptr::from_mut(storage).cast::<T>().write(addr) };
    mem::size_of::<T>() as RawSockLen
}

/// Offset of `sun_path` inside `sockaddr_un`.
fn sun_path_offset() -> usize {
    mem::offset_of!(libc::sockaddr_un, sun_path)
}

/// Encodes a Unix-domain path (NUL-terminated; at most `sun_path` minus one byte).
pub(crate) fn unix(path: &Path) -> io::Result<(Storage, RawSockLen)> {
    let bytes = path.as_os_str().as_bytes();
    check_unix_path(bytes)?;
    // SAFETY: plain data; all-zero is valid and leaves the path NUL-terminated.
    let mut sun: libc::sockaddr_un = unsafe { mem::zeroed() };
    sun.sun_family = AF_UNIX as libc::sa_family_t;
    for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let mut storage = zeroed_storage();
    write(&mut storage, sun);
    Ok((storage, (sun_path_offset() + bytes.len() + 1) as RawSockLen))
}

/// Checks a path for `sun_path`: the longest one leaves room for the NUL.
fn check_unix_path(bytes: &[u8]) -> io::Result<()> {
    let max = mem::size_of::<libc::sockaddr_un>() - sun_path_offset() - 1;
    crate::sockaddr::check_unix_path(bytes, max)
}

/// The bytes of a Unix-domain address after the family (empty = unnamed; a leading NUL
/// = Linux's abstract namespace), without the trailing NUL.
pub(crate) fn unix_bytes(storage: &Storage, len: RawSockLen) -> Option<&[u8]> {
    if storage_family(storage) != AF_UNIX {
        return None;
    }
    // SAFETY: the family says `storage` holds a `sockaddr_un`; the storage is large and
    // aligned enough for one.
    let sun = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_un>() };
    let len = (len as usize)
        .saturating_sub(sun_path_offset())
        .min(sun.sun_path.len());
    // SAFETY: `c_char` and `u8` have the same size and alignment, and `len` is clamped
    // to the array's length.
    let path = unsafe { slice::from_raw_parts(sun.sun_path.as_ptr().cast::<u8>(), len) };
    if path.first() == Some(&0) {
        return Some(path);
    }
    Some(path.split(|b| *b == 0).next().unwrap_or_default())
}

/// A Unix-domain path from its bytes.
pub(crate) fn bytes_to_path(bytes: &[u8]) -> Option<&Path> {
    Some(Path::new(OsStr::from_bytes(bytes)))
}

/// Copies `len` bytes of a raw socket address into fresh storage.
///
/// # Safety
///
/// `ptr` must be valid for reads of `len` bytes.
pub(crate) unsafe fn copy_raw(ptr: *const RawSockAddr, len: RawSockLen) -> Storage {
    let len = len as usize;
    assert!(
        len <= mem::size_of::<Storage>(),
        "socket address length {len} is larger than sockaddr_storage"
    );
    let mut storage = MaybeUninit::<Storage>::zeroed();
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`; the storage has room
    // for them (asserted) and does not overlap a borrowed source.
    unsafe { ptr::copy_nonoverlapping(ptr.cast::<u8>(), storage.as_mut_ptr().cast(), len) };
    // SAFETY: zero-initialised, then partly overwritten with bytes: plain data.
    unsafe { storage.assume_init() }
}

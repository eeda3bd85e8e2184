//! Windows backend: `GetAddrInfoW` through windows-sys (after `WSAStartup`, once), and
//! `SOCKADDR` conversions.
//!
//! Same `pub(crate)` contract as `sys/unix.rs` (see there). Host and service go to the
//! OS as UTF-16; the canonical names it returns are converted to UTF-8 once, when the
//! list is built, so entries can lend them out as `&str`. Errors are WSA codes, whose
//! text comes from the system message table.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Once;
use std::{io, slice};

use windows_sys::Win32::Networking::WinSock as ws;

use crate::Hints;
use crate::error::{Cause, Failure};
use crate::sockaddr::SockAddr;

/// The OS's generic socket address type, `SOCKADDR` (from windows-sys here).
///
/// # Examples
///
/// See [`SockAddr::from_raw`](crate::SockAddr::from_raw).
pub type RawSockAddr = ws::SOCKADDR;
/// The OS's socket address length type (`int` on Windows).
///
/// # Examples
///
/// See [`SockAddr::from_raw`](crate::SockAddr::from_raw).
pub type RawSockLen = i32;
/// Storage big enough for any socket address.
pub(crate) type Storage = ws::SOCKADDR_STORAGE;

pub(crate) const AF_UNSPEC: i32 = ws::AF_UNSPEC as i32;
pub(crate) const AF_INET: i32 = ws::AF_INET as i32;
pub(crate) const AF_INET6: i32 = ws::AF_INET6 as i32;
pub(crate) const AF_UNIX: i32 = ws::AF_UNIX as i32;

pub(crate) const SOCK_STREAM: i32 = ws::SOCK_STREAM;
pub(crate) const SOCK_DGRAM: i32 = ws::SOCK_DGRAM;
pub(crate) const SOCK_RAW: i32 = ws::SOCK_RAW;

pub(crate) const IPPROTO_IP: i32 = ws::IPPROTO_IP;
pub(crate) const IPPROTO_IPV6: i32 = ws::IPPROTO_IPV6;
pub(crate) const IPPROTO_TCP: i32 = ws::IPPROTO_TCP;
pub(crate) const IPPROTO_UDP: i32 = ws::IPPROTO_UDP;
pub(crate) const IPPROTO_RAW: i32 = ws::IPPROTO_RAW;
pub(crate) const IPPROTO_ICMP: i32 = ws::IPPROTO_ICMP;
pub(crate) const IPPROTO_IGMP: i32 = ws::IPPROTO_IGMP;
pub(crate) const IPPROTO_ICMPV6: i32 = ws::IPPROTO_ICMPV6;

pub(crate) const AI_PASSIVE: i32 = ws::AI_PASSIVE as i32;
pub(crate) const AI_CANONNAME: i32 = ws::AI_CANONNAME as i32;
pub(crate) const AI_NUMERICHOST: i32 = ws::AI_NUMERICHOST as i32;
pub(crate) const AI_NUMERICSERV: i32 = ws::AI_NUMERICSERV as i32;
pub(crate) const AI_ALL: i32 = ws::AI_ALL as i32;
pub(crate) const AI_V4MAPPED: i32 = ws::AI_V4MAPPED as i32;
pub(crate) const AI_ADDRCONFIG: i32 = ws::AI_ADDRCONFIG as i32;

/// The result list of one `GetAddrInfoW` call; `FreeAddrInfoW` on drop.
pub(crate) struct OsList {
    /// Head of the list the OS allocated; never null, freed exactly once in `Drop`.
    head: NonNull<ws::ADDRINFOW>,
    /// Each entry's canonical name as UTF-8, in list order (`None` where unset).
    names: Vec<Option<Box<str>>>,
}

// SAFETY: the list is never mutated after `GetAddrInfoW` returns it, so shared reads
// from several threads are fine, and `FreeAddrInfoW` may run on any thread.
unsafe impl Send for OsList {}
// SAFETY: see `Send`: the list is immutable.
unsafe impl Sync for OsList {}

impl Drop for OsList {
    fn drop(&mut self) {
        // SAFETY: `head` came from a successful `GetAddrInfoW` and is freed only here.
        unsafe { ws::FreeAddrInfoW(self.head.as_ptr()) }
    }
}

impl OsList {
    /// Takes ownership of a list and converts its canonical names.
    fn new(head: NonNull<ws::ADDRINFOW>) -> OsList {
        let mut list = OsList {
            head,
            names: Vec::new(),
        };
        let names = std::iter::successors(Some(list.first()), |e| e.next())
            .map(|e| wide_to_string(e.ai.ai_canonname))
            .collect();
        list.names = names;
        list
    }

    /// The first entry (a successful lookup has at least one).
    pub(crate) fn first(&self) -> Entry<'_> {
        // SAFETY: `head` is valid and lives as long as `self`.
        let ai = unsafe { self.head.as_ref() };
        Entry {
            ai,
            index: 0,
            list: self,
            _list: PhantomData,
        }
    }
}

/// A view of one `ADDRINFOW` node of an [`OsList`].
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The node; owned by the list this entry borrows.
    ai: &'a ws::ADDRINFOW,
    /// Position in the list, to find the converted canonical name.
    index: usize,
    /// The list, for the canonical names.
    list: &'a OsList,
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
            index: self.index + 1,
            ..self
        })
    }

    pub(crate) fn family(self) -> i32 {
        self.ai.ai_family
    }

    pub(crate) fn socktype(self) -> i32 {
        self.ai.ai_socktype
    }

    /// The protocol; where the OS leaves it 0 (Wine does), the socket type's default,
    /// as glibc reports it (TCP for stream, UDP for datagram sockets).
    pub(crate) fn protocol(self) -> i32 {
        match (self.ai.ai_protocol, self.ai.ai_socktype) {
            (0, SOCK_STREAM) => IPPROTO_TCP,
            (0, SOCK_DGRAM) => IPPROTO_UDP,
            (protocol, _) => protocol,
        }
    }

    /// The canonical name, converted when the list was built.
    pub(crate) fn canonical_name(self) -> Option<&'a str> {
        self.list.names.get(self.index)?.as_deref()
    }

    /// A copy of `ai_addr`.
    pub(crate) fn addr(self) -> SockAddr {
        // SAFETY: `ai_addr` points to `ai_addrlen` readable bytes owned by the list.
        unsafe { SockAddr::from_raw(self.ai.ai_addr, self.ai.ai_addrlen as RawSockLen) }
    }
}

/// Converts a NUL-terminated UTF-16 string (or null) to UTF-8, lossily.
fn wide_to_string(wide: *const u16) -> Option<Box<str>> {
    if wide.is_null() {
        return None;
    }
    // SAFETY: a non-null `ai_canonname` is NUL-terminated; we read up to the NUL.
    let len = (0..).take_while(|&i| unsafe { *wide.add(i) } != 0).count();
    // SAFETY: `len` UTF-16 units were just read at `wide`.
    let units = unsafe { slice::from_raw_parts(wide, len) };
    Some(String::from_utf16_lossy(units).into_boxed_str())
}

fn to_wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

/// Calls `WSAStartup` once per process (Winsock must be started before any call).
fn startup() {
    static START: Once = Once::new();
    START.call_once(|| {
        let mut data = MaybeUninit::<ws::WSADATA>::uninit();
        // SAFETY: `data` is a valid out-pointer; version 2.2 is supported everywhere.
        // A failure shows up as an error of the first Winsock call.
        let _ = unsafe { ws::WSAStartup(0x202, data.as_mut_ptr()) };
    });
}

/// Runs `GetAddrInfoW(node, service, hints)`; `None` passes a null pointer.
pub(crate) fn getaddrinfo(
    node: Option<&str>,
    service: Option<&str>,
    hints: &Hints,
) -> Result<OsList, Failure> {
    startup();
    let node = node.map(to_wide);
    let service = service.map(to_wide);
    let raw_hints = raw_hints(hints);
    let mut res: *mut ws::ADDRINFOW = ptr::null_mut();
    // SAFETY: the strings are NUL-terminated UTF-16 or null, `raw_hints` is a zeroed
    // `ADDRINFOW` with only the four hint fields set, `res` is a valid out-pointer.
    let code = unsafe {
        ws::GetAddrInfoW(
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
        Some(head) => Ok(OsList::new(head)),
        None => Err(Failure {
            cause: Cause::NoName,
            message: "empty result".to_owned(),
        }),
    }
}

fn raw_hints(hints: &Hints) -> ws::ADDRINFOW {
    ws::ADDRINFOW {
        ai_flags: hints.flags.as_raw(),
        ai_family: hints.family.as_raw(),
        ai_socktype: hints.socktype.as_raw(),
        ai_protocol: hints.protocol.as_raw(),
        ..ws::ADDRINFOW::default()
    }
}

/// Classifies a WSA error code and keeps the system's text for it.
fn failure(code: i32) -> Failure {
    if code < 0 {
        return passed_through(code);
    }
    let err = io::Error::from_raw_os_error(code);
    let message = err.to_string();
    let cause = match code {
        ws::WSAHOST_NOT_FOUND => Cause::NoName,
        ws::WSANO_DATA => Cause::NoData,
        ws::WSATYPE_NOT_FOUND => Cause::Service,
        ws::WSAEINVAL => Cause::BadFlags,
        ws::WSAEAFNOSUPPORT => Cause::Family,
        ws::WSAESOCKTNOSUPPORT => Cause::Socktype,
        ws::WSATRY_AGAIN => Cause::Again,
        ws::WSANO_RECOVERY => Cause::Fail,
        ws::WSA_NOT_ENOUGH_MEMORY => Cause::Memory,
        // The other `WSAE*` codes are socket-layer errors (`WSANOTINITIALISED`, …).
        10000..=10999 => Cause::System(err),
        other => Cause::Other(other),
    };
    Failure { cause, message }
}

/// Windows documents only WSA codes, but Wine passes some of the host's POSIX `EAI_*`
/// codes (negative, glibc's numbering) straight through; classify those the same way,
/// with the POSIX text (the system message table has none for them).
fn passed_through(code: i32) -> Failure {
    let (cause, message) = match code {
        -1 => (Cause::BadFlags, "Bad value for ai_flags"),
        -2 => (Cause::NoName, "Name or service not known"),
        -3 => (Cause::Again, "Temporary failure in name resolution"),
        -4 => (Cause::Fail, "Non-recoverable failure in name resolution"),
        -5 => (Cause::NoData, "No address associated with hostname"),
        -6 => (Cause::Family, "ai_family not supported"),
        -7 => (Cause::Socktype, "ai_socktype not supported"),
        -8 => (Cause::Service, "Servname not supported for ai_socktype"),
        -9 => (Cause::NoData, "Address family for hostname not supported"),
        -10 => (Cause::Memory, "Memory allocation failure"),
        other => (Cause::Other(other), "Unknown name resolution error"),
    };
    Failure {
        cause,
        message: message.to_owned(),
    }
}

/// An all-zero storage (the unspecified family).
pub(crate) fn zeroed_storage() -> Storage {
    Storage::default()
}

/// The family field of a stored address.
pub(crate) fn storage_family(storage: &Storage) -> i32 {
    i32::from(storage.ss_family)
}

/// Reads an IPv4 or IPv6 address out of `storage`.
pub(crate) fn to_socket_addr(storage: &Storage, len: RawSockLen) -> Option<SocketAddr> {
    let len = len as usize;
    match storage_family(storage) {
        AF_INET if len >= mem::size_of::<ws::SOCKADDR_IN>() => {
            // SAFETY: the family and length say `storage` holds a `SOCKADDR_IN`, and
            // `SOCKADDR_STORAGE` is aligned for every socket address type.
            let sin = unsafe { &*ptr::from_ref(storage).cast::<ws::SOCKADDR_IN>() };
            // SAFETY: every variant of the address union is a view of the same 4 bytes.
            let ip = Ipv4Addr::from(u32::from_be(unsafe { sin.sin_addr.S_un.S_addr }));
            Some(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        AF_INET6 if len >= mem::size_of::<ws::SOCKADDR_IN6>() => {
            // SAFETY: as above, for `SOCKADDR_IN6`.
            let sin6 = unsafe { &*ptr::from_ref(storage).cast::<ws::SOCKADDR_IN6>() };
            // SAFETY: both union variants are views of the same 16 bytes.
            let ip = Ipv6Addr::from(unsafe { sin6.sin6_addr.u.Byte });
            // SAFETY: both union variants are views of the same 4-byte scope id.
            let scope = unsafe { sin6.Anonymous.sin6_scope_id };
            let port = u16::from_be(sin6.sin6_port);
            Some(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, scope).into())
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

fn sockaddr_in(addr: &SocketAddrV4) -> ws::SOCKADDR_IN {
    ws::SOCKADDR_IN {
        sin_family: ws::AF_INET,
        sin_port: addr.port().to_be(),
        sin_addr: ws::IN_ADDR {
            S_un: ws::IN_ADDR_0 {
                S_addr: u32::from(*addr.ip()).to_be(),
            },
        },
        sin_zero: [0; 8],
    }
}

fn sockaddr_in6(addr: &SocketAddrV6) -> ws::SOCKADDR_IN6 {
    ws::SOCKADDR_IN6 {
        sin6_family: ws::AF_INET6,
        sin6_port: addr.port().to_be(),
        sin6_flowinfo: addr.flowinfo(),
        sin6_addr: ws::IN6_ADDR {
            u: ws::IN6_ADDR_0 {
                Byte: addr.ip().octets(),
            },
        },
        Anonymous: ws::SOCKADDR_IN6_0 {
            sin6_scope_id: addr.scope_id(),
        },
    }
}

/// Copies a concrete address type into the storage; returns its length.
fn write<T: Copy>(storage: &mut Storage, addr: T) -> RawSockLen {
    const { assert!(mem::size_of::<T>() <= mem::size_of::<Storage>()) };
    // SAFETY: `T` fits in the storage (checked above) and the storage is aligned for
    // every socket address type.
    unsafe { ptr::from_mut(storage).cast::<T>().write(addr) };
    mem::size_of::<T>() as RawSockLen
}

/// Offset of `sun_path` inside `SOCKADDR_UN`.
fn sun_path_offset() -> usize {
    mem::offset_of!(ws::SOCKADDR_UN, sun_path)
}

/// Encodes a Unix-domain path (UTF-8, NUL-terminated; at most 107 bytes).
pub(crate) fn unix(path: &Path) -> io::Result<(Storage, RawSockLen)> {
    let text = path
        .to_str()
        .ok_or_else(|| crate::sockaddr::invalid("unix socket path is not valid UTF-8"))?;
    let bytes = text.as_bytes();
    check_unix_path(bytes)?;
    let mut sun = ws::SOCKADDR_UN {
        sun_family: ws::AF_UNIX,
        sun_path: [0; 108],
    };
    for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
        *dst = *src as i8;
    }
    let mut storage = zeroed_storage();
    write(&mut storage, sun);
    Ok((storage, (sun_path_offset() + bytes.len() + 1) as RawSockLen))
}

/// Checks a path for `sun_path`: the longest one leaves room for the NUL.
fn check_unix_path(bytes: &[u8]) -> io::Result<()> {
    let max = mem::size_of::<ws::SOCKADDR_UN>() - sun_path_offset() - 1;
    crate::sockaddr::check_unix_path(bytes, max)
}

/// The path bytes of a Unix-domain address, without the trailing NUL (empty = unnamed).
pub(crate) fn unix_bytes(storage: &Storage, len: RawSockLen) -> Option<&[u8]> {
    if storage_family(storage) != AF_UNIX {
        return None;
    }
    // SAFETY: the family says `storage` holds a `SOCKADDR_UN`; the storage is large and
    // aligned enough for one.
    let sun = unsafe { &*ptr::from_ref(storage).cast::<ws::SOCKADDR_UN>() };
    let len = (len as usize)
        .saturating_sub(sun_path_offset())
        .min(sun.sun_path.len());
    // SAFETY: `i8` and `u8` have the same size and alignment, and `len` is clamped to
    // the array's length.
    let path = unsafe { slice::from_raw_parts(sun.sun_path.as_ptr().cast::<u8>(), len) };
    if path.first() == Some(&0) {
        return Some(path);
    }
    Some(path.split(|b| *b == 0).next().unwrap_or_default())
}

/// A Unix-domain path from its bytes (UTF-8 on Windows).
pub(crate) fn bytes_to_path(bytes: &[u8]) -> Option<&Path> {
    let text = std::str::from_utf8(bytes).ok()?;
    Some(Path::new(OsStr::new(text)))
}

/// Copies `len` bytes of a raw socket address into fresh storage.
///
/// # Safety
///
/// `ptr` must be valid for reads of `len` bytes.
pub(crate) unsafe fn copy_raw(ptr: *const RawSockAddr, len: RawSockLen) -> Storage {
    let len = usize::try_from(len).unwrap_or(0);
    assert!(
        len <= mem::size_of::<Storage>(),
        "socket address length {len} is larger than SOCKADDR_STORAGE"
    );
    let mut storage = MaybeUninit::<Storage>::zeroed();
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`; the storage has room
    // for them (asserted) and does not overlap a borrowed source.
    unsafe { ptr::copy_nonoverlapping(ptr.cast::<u8>(), storage.as_mut_ptr().cast(), len) };
    // SAFETY: zero-initialised, then partly overwritten with bytes: plain data.
    unsafe { storage.assume_init() }
}

//! Windows: WSA error classification, the registered-socket wrapper, UDP reset reports
//! turned off, and the table of socket options by the seed's names; the socket traits
//! of the sockets in `raw`.

use std::io;
use std::os::windows::io::{AsRawSocket, FromRawSocket, IntoRawSocket, OwnedSocket};

use sock_addr::{Family, Protocol, SocketType};
use windows_sys::Win32::Networking::WinSock as ws;

use crate::error::ErrorKind;
use crate::opt::{OptKind, OptSpec};

#[path = "windows/raw.rs"]
mod raw;

/// Maps a WSA error code to a normalized kind.
pub(crate) fn classify_os_error(code: i32) -> Option<ErrorKind> {
    Some(match code {
        ws::WSAEMFILE => ErrorKind::TooManyOpenFiles,
        ws::WSAENOBUFS | ws::WSA_NOT_ENOUGH_MEMORY => ErrorKind::OutOfMemory,
        ws::WSAEALREADY => ErrorKind::InProgress,
        ws::WSAEMSGSIZE => ErrorKind::MessageTooLong,
        ws::WSAEACCES => ErrorKind::AccessDenied,
        ws::WSAECONNRESET | ws::WSAENETRESET => ErrorKind::ConnectionReset,
        ws::WSAETIMEDOUT => ErrorKind::Timeout,
        ws::WSAEADDRINUSE => ErrorKind::AddressInUse,
        ws::WSAEADDRNOTAVAIL => ErrorKind::AddressNotAvailable,
        ws::WSAECONNREFUSED => ErrorKind::ConnectionRefused,
        ws::WSAECONNABORTED => ErrorKind::ConnectionAborted,
        ws::WSAENETUNREACH | ws::WSAENETDOWN => ErrorKind::NetworkUnreachable,
        ws::WSAEHOSTUNREACH | ws::WSAEHOSTDOWN => ErrorKind::HostUnreachable,
        ws::WSAENOTCONN | ws::WSAEDESTADDRREQ => ErrorKind::NotConnected,
        ws::WSAEAFNOSUPPORT | ws::WSAEPROTONOSUPPORT | ws::WSAEOPNOTSUPP | ws::WSAENOPROTOOPT => {
            ErrorKind::Unsupported
        }
        _ => return None,
    })
}

/// Every `accept` error Windows gives for one connection has a kind of its own
/// (`WSAECONNRESET`, `WSAENOBUFS`, …): see `Error::is_transient_accept`.
pub(crate) fn is_transient_accept_error(_code: i32) -> bool {
    false
}

/// A syscall's error, unless it says the call would block: judged by its kind
/// (`WSAEWOULDBLOCK`, and whatever else std maps to `WouldBlock` there).
#[inline]
pub(crate) fn unless_would_block(e: io::Error) -> Option<io::Error> {
    (e.kind() != io::ErrorKind::WouldBlock).then_some(e)
}

/// A plain receive on a registered socket, through socket2 (mio's own `recv` would
/// re-arm the AFD poll that the caller's `try_io` already handles).
#[inline]
pub(crate) fn recv(sock: &mio::net::UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    std::io::Read::read(&mut &*socket2::SockRef::from(sock), buf)
}

/// A plain send on a registered socket, through socket2 (see [`recv`]).
#[inline]
pub(crate) fn send(sock: &mio::net::UdpSocket, buf: &[u8]) -> io::Result<usize> {
    socket2::SockRef::from(sock).send_with_flags(buf, SEND_FLAGS)
}

/// One datagram into `buf`: the bytes kept, and whether the datagram was longer than
/// `buf` (by the receive's output flags; Windows usually reports a truncation as
/// `WSAEMSGSIZE` instead, which the caller reads, see [`is_truncation_error`]).
pub(crate) fn recv_datagram(s: &socket2::SockRef<'_>, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut bufs = [socket2::MaybeUninitSlice::new(crate::recv_with::uninit(
        buf,
    ))];
    let (n, flags) = s.recv_vectored_with_flags(&mut bufs, 0)?;
    Ok((n, flags.is_truncated()))
}

/// Windows has no blackhole route that `connect` reports as `WSAEINVAL` (which there
/// means a listening socket): no code is re-read as unroutable.
pub(crate) fn is_unroutable_connect(_code: i32) -> bool {
    false
}

/// mio's IOCP backend re-arms a socket's AFD poll only when an operation inside
/// `try_io` sees `WouldBlock`; clearing readiness after a short transfer would leave the
/// socket without further events, so on Windows the next operation tries the syscall.
pub(crate) const SHORT_WRITE_FILLS: bool = false;

/// As [`SHORT_WRITE_FILLS`], for reads.
pub(crate) const SHORT_READ_DRAINS: bool = false;

/// What every socket is registered for: both directions.
pub(crate) const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// Wraps a socket of any type into the mio type used to register it (see `socket.rs`):
/// mio's `try_io` re-arms the AFD poll after `WouldBlock`.
pub(crate) fn into_mio(socket: socket2::Socket) -> mio::net::UdpSocket {
    // SAFETY: `into_raw_socket` hands over a valid, open, owned socket; wrapped once.
    unsafe { mio::net::UdpSocket::from_raw_socket(socket.into_raw_socket()) }
}

/// Unwraps a deregistered socket from the mio type it was registered as.
pub(crate) fn from_mio(sock: mio::net::UdpSocket) -> socket2::Socket {
    socket2::Socket::from(OwnedSocket::from(sock))
}

/// The family, type and protocol of a socket made elsewhere, from its
/// `SO_PROTOCOL_INFOW` (an unbound socket has no address to tell the family by).
pub(crate) fn socket_kind(
    s: &socket2::Socket,
) -> io::Result<(Family, SocketType, Option<Protocol>)> {
    // SAFETY: `WSAPROTOCOL_INFOW` is plain data; all-zero is a valid value.
    let mut info: ws::WSAPROTOCOL_INFOW = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<ws::WSAPROTOCOL_INFOW>() as i32;
    // SAFETY: the socket is open for the borrow; info/len describe a buffer of one
    // `WSAPROTOCOL_INFOW`, as `SO_PROTOCOL_INFOW` requires.
    let r = unsafe {
        ws::getsockopt(
            s.as_raw_socket() as ws::SOCKET,
            ws::SOL_SOCKET,
            ws::SO_PROTOCOL_INFOW,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let family = Family::from_raw(info.iAddressFamily);
    let protocol = Protocol::from_raw(info.iProtocol);
    Ok((
        family,
        SocketType::from_raw(info.iSocketType),
        Some(protocol),
    ))
}

/// Whether the socket is listening (`SO_ACCEPTCONN`).
pub(crate) fn is_listener(s: &socket2::SockRef<'_>) -> io::Result<bool> {
    getsockopt_int(s, ws::SOL_SOCKET, ws::SO_ACCEPTCONN).map(|v| v != 0)
}

/// Windows never raises SIGPIPE; no flags needed.
pub(crate) const SEND_FLAGS: i32 = 0;

/// The `MSG_*` flags of a receive; `None` for `trunc`: Windows reports truncation but
/// cannot be asked for a datagram's real length.
pub(crate) fn recv_flags(peek: bool, trunc: bool, oob: bool) -> Option<i32> {
    if trunc {
        return None;
    }
    let flag = |on: bool, bit: i32| if on { bit } else { 0 };
    Some(flag(peek, ws::MSG_PEEK) | flag(oob, ws::MSG_OOB))
}

/// Windows cannot be asked for a datagram's real length.
pub(crate) fn asks_real_length(_flags: i32) -> bool {
    false
}

/// No per-socket setup on Windows.
pub(crate) fn prepare(_socket: &socket2::Socket) -> io::Result<()> {
    Ok(())
}

/// Turns off `SIO_UDP_CONNRESET`: otherwise an ICMP port-unreachable for an earlier
/// datagram makes the next `recv` fail with a reset, even on an unconnected socket.
pub(crate) fn prepare_udp(socket: &socket2::Socket) -> io::Result<()> {
    let off: u32 = 0;
    let mut returned: u32 = 0;
    // SAFETY: the socket is open; in-buffer is a u32 of the given size; no out-buffer,
    // no overlapped I/O, so the call completes synchronously.
    let r = unsafe {
        ws::WSAIoctl(
            socket.as_raw_socket() as ws::SOCKET,
            ws::SIO_UDP_CONNRESET,
            (&raw const off).cast(),
            std::mem::size_of::<u32>() as u32,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads an int-sized option.
pub(crate) fn getsockopt_int(s: &socket2::SockRef<'_>, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as i32;
    // SAFETY: the socket is open for the borrow; value/len describe an i32 buffer.
    let r = unsafe {
        ws::getsockopt(
            s.as_raw_socket() as ws::SOCKET,
            level,
            name,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes an int-sized option.
pub(crate) fn setsockopt_int(
    s: &socket2::SockRef<'_>,
    level: i32,
    name: i32,
    value: i32,
) -> io::Result<()> {
    let len = std::mem::size_of::<i32>() as i32;
    // SAFETY: the socket is open for the borrow; value is an i32 of `len` bytes.
    let r = unsafe {
        ws::setsockopt(
            s.as_raw_socket() as ws::SOCKET,
            level,
            name,
            (&raw const value).cast(),
            len,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

const fn spec(name: &'static str, level: i32, opt: i32, kind: OptKind) -> OptSpec {
    OptSpec {
        name,
        level,
        opt,
        kind,
    }
}

use OptKind::{Bool, Int, Linger, ReadOnly};
const SOL: i32 = ws::SOL_SOCKET;
const TCP: i32 = ws::IPPROTO_TCP;
const IP: i32 = ws::IPPROTO_IP;
const IPV6: i32 = ws::IPPROTO_IPV6;

/// Every option Windows offers by name.
const OPTIONS: &[OptSpec] = &[
    spec("so_acceptconn", SOL, ws::SO_ACCEPTCONN, ReadOnly),
    spec("so_broadcast", SOL, ws::SO_BROADCAST, Bool),
    spec("so_debug", SOL, ws::SO_DEBUG, Bool),
    spec("so_dontroute", SOL, ws::SO_DONTROUTE, Bool),
    spec("so_error", SOL, ws::SO_ERROR, ReadOnly),
    spec("so_exclusiveaddruse", SOL, ws::SO_EXCLUSIVEADDRUSE, Bool),
    spec("so_keepalive", SOL, ws::SO_KEEPALIVE, Bool),
    spec("so_linger", SOL, ws::SO_LINGER, Linger),
    spec("so_oobinline", SOL, ws::SO_OOBINLINE, Bool),
    spec("so_rcvbuf", SOL, ws::SO_RCVBUF, Int),
    spec("so_sndbuf", SOL, ws::SO_SNDBUF, Int),
    spec("so_reuseaddr", SOL, ws::SO_REUSEADDR, Bool),
    spec("so_type", SOL, ws::SO_TYPE, ReadOnly),
    spec("tcp_nodelay", TCP, ws::TCP_NODELAY, Bool),
    spec("tcp_maxseg", TCP, ws::TCP_MAXSEG, Int),
    spec("tcp_keepidle", TCP, ws::TCP_KEEPIDLE, Int),
    spec("tcp_keepintvl", TCP, ws::TCP_KEEPINTVL, Int),
    spec("tcp_keepcnt", TCP, ws::TCP_KEEPCNT, Int),
    spec("ip_ttl", IP, ws::IP_TTL, Int),
    spec("ip_tos", IP, ws::IP_TOS, Int),
    spec("ip_multicast_ttl", IP, ws::IP_MULTICAST_TTL, Int),
    spec("ip_multicast_loop", IP, ws::IP_MULTICAST_LOOP, Bool),
    spec("ipv6_v6only", IPV6, ws::IPV6_V6ONLY, Bool),
    spec("ipv6_unicast_hops", IPV6, ws::IPV6_UNICAST_HOPS, Int),
];

/// The options whose value the OS reports doubled: none on Windows.
pub(crate) const READ_BACK_DOUBLED: &[&str] = &[];

/// Every option this OS offers by name.
pub(crate) fn options() -> impl Iterator<Item = &'static OptSpec> {
    OPTIONS.iter()
}

/// Whether `listen` sets `SO_REUSEADDR` before binding: not on Windows, which binds a
/// port in `TIME_WAIT` without it and where it would let another socket bind the same
/// port and take its connections (`SO_EXCLUSIVEADDRUSE` is the option to want there).
pub(crate) const LISTEN_REUSEADDR: bool = false;

/// Sockets open blocking on Windows; registration makes them non-blocking.
pub(crate) const OPENS_NONBLOCKING: bool = false;

/// The type to open a socket of `ty` with: `ty` (see [`OPENS_NONBLOCKING`]).
pub(crate) fn open_type(ty: socket2::Type) -> socket2::Type {
    ty
}

/// Accepted sockets start blocking on Windows; registration makes them non-blocking.
pub(crate) const ACCEPTED_NONBLOCKING: bool = false;

/// `accept`; the new socket is made non-blocking by the caller.
pub(crate) fn accept(s: &socket2::SockRef<'_>) -> io::Result<socket2::Socket> {
    let (socket, _peer) = s.accept()?;
    Ok(socket)
}

/// Windows has no per-process fd limit to shed connections for.
pub(crate) fn reserve_spare_fd() {}

/// `WSAEMSGSIZE` from a receive: the datagram was truncated to the buffer.
pub(crate) fn is_truncation_error(code: i32) -> bool {
    code == ws::WSAEMSGSIZE
}

/// Whether a `connect` error means "in progress, wait until writable".
pub(crate) fn is_in_progress(code: i32) -> bool {
    code == ws::WSAEWOULDBLOCK || code == ws::WSAEINPROGRESS
}

/// Windows has no connect that fails for a full queue and may be retried: see the
/// Unix backend.
pub(crate) fn is_queue_full(_code: i32) -> bool {
    false
}

/// The all-zero address of the socket's family: connecting a UDP socket to it
/// dissolves the association on Windows.
pub(crate) fn unspecified_addr(family: sock_addr::Family) -> socket2::SockAddr {
    let ip: std::net::IpAddr = if family == sock_addr::Family::INET6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    socket2::SockAddr::from(std::net::SocketAddr::new(ip, 0))
}

/// Unix-domain addresses in socket2's form.
pub(crate) fn unix_socket2_addr(addr: &sock_addr::SockAddr) -> crate::Result<socket2::SockAddr> {
    match addr.as_unix_path() {
        Some(path) => Ok(socket2::SockAddr::unix(path)?),
        None => Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            format!("unsupported address {addr}"),
        )),
    }
}

/// socket2 does not expose unix paths on Windows.
pub(crate) fn unix_sock_addr(_addr: &socket2::SockAddr) -> crate::Result<sock_addr::SockAddr> {
    Err(crate::Error::new(
        crate::ErrorKind::Unsupported,
        "unix-domain addresses on Windows",
    ))
}

/// socket2 does not expose unix paths on Windows.
pub(crate) fn unix_source_addr(addr: &socket2::SockAddr) -> crate::Result<sock_addr::SockAddr> {
    unix_sock_addr(addr)
}

/// The address of an unbound unix socket: the family and no path (`sock::sim`'s
/// datagrams from unbound senders come from it).
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
pub(crate) fn unnamed_unix_addr() -> sock_addr::SockAddr {
    // SAFETY: `SOCKADDR` is plain data; all-zero is a valid value.
    let mut sa: ws::SOCKADDR = unsafe { std::mem::zeroed() };
    sa.sa_family = ws::AF_UNIX;
    let len = std::mem::size_of::<ws::ADDRESS_FAMILY>() as i32;
    // SAFETY: `sa` is a live `SOCKADDR`, longer than `len` bytes.
    unsafe { sock_addr::SockAddr::from_raw(std::ptr::from_ref(&sa), len) }
}

/// Windows has no `recvmmsg`: one datagram per call.
pub(crate) fn recv_batch(
    s: &socket2::SockRef<'_>,
    batch: &mut [crate::io::Datagram],
) -> io::Result<usize> {
    crate::batch::recv_one(s, batch)
}

/// Windows has no `sendmmsg`: one datagram per call.
pub(crate) fn send_batch(
    s: &socket2::SockRef<'_>,
    batch: &[crate::io::Datagram],
) -> io::Result<usize> {
    crate::batch::send_one(s, batch)
}

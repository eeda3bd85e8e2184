//! Unix: errno classification, the registered-socket wrapper, send flags, and the table
//! of socket options by the seed's names; the fd traits of the sockets in `raw`.

use std::io;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use sock_addr::{Family, Protocol, SocketType};

use crate::error::ErrorKind;
use crate::opt::{OptKind, OptSpec};

#[path = "unix/raw.rs"]
mod raw;

/// Maps an errno to a normalized kind, where the errno says more than std's kind.
pub(crate) fn classify_os_error(code: i32) -> Option<ErrorKind> {
    Some(match code {
        libc::EMFILE | libc::ENFILE => ErrorKind::TooManyOpenFiles,
        libc::ENOBUFS | libc::ENOMEM => ErrorKind::OutOfMemory,
        libc::EALREADY => ErrorKind::InProgress,
        libc::ENOENT => ErrorKind::NotFound,
        libc::EMSGSIZE => ErrorKind::MessageTooLong,
        libc::EACCES | libc::EPERM => ErrorKind::AccessDenied,
        libc::ECONNRESET | libc::EPIPE => ErrorKind::ConnectionReset,
        libc::ETIMEDOUT => ErrorKind::Timeout,
        libc::EADDRINUSE => ErrorKind::AddressInUse,
        libc::EADDRNOTAVAIL => ErrorKind::AddressNotAvailable,
        libc::ECONNREFUSED => ErrorKind::ConnectionRefused,
        libc::ECONNABORTED => ErrorKind::ConnectionAborted,
        libc::ENETUNREACH | libc::ENETDOWN => ErrorKind::NetworkUnreachable,
        libc::EHOSTUNREACH | libc::EHOSTDOWN => ErrorKind::HostUnreachable,
        libc::ENOTCONN | libc::EDESTADDRREQ => ErrorKind::NotConnected,
        libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT | libc::EOPNOTSUPP | libc::ENOPROTOOPT => {
            ErrorKind::Unsupported
        }
        _ => return None,
    })
}

/// Whether an `accept` error with no kind of its own concerned only the connection
/// being accepted (`EPROTO`; Linux's `ENONET`): see `Error::is_transient_accept`.
pub(crate) fn is_transient_accept_error(code: i32) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if code == libc::ENONET {
        return true;
    }
    code == libc::EPROTO
}

/// A syscall's error, unless it says the call would block: `EAGAIN` (`EWOULDBLOCK`)
/// is read from the raw errno, with no decoding of the error's kind and no call to
/// its destructor on the hot path (an error from an errno owns nothing to free); an
/// error made in Rust (no errno) is judged by its kind.
#[inline]
pub(crate) fn unless_would_block(e: io::Error) -> Option<io::Error> {
    match e.raw_os_error() {
        Some(code) if code == libc::EAGAIN || code == libc::EWOULDBLOCK => {
            std::mem::forget(e);
            None
        }
        Some(_) => Some(e),
        None if e.kind() == io::ErrorKind::WouldBlock => None,
        None => Some(e),
    }
}

/// A plain receive on a registered socket: `recv(2)` with no flags (any socket type),
/// called directly: std's `UdpSocket::recv` and socket2's `Read` add layers of calls
/// and result conversions to a call made four times per echo round trip.
#[inline(always)] // into the operation's fast path (`Core::poll_plain`), not a call
pub(crate) fn recv(sock: &mio::net::UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call, and
    // the fd stays open while `sock` is borrowed.
    let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    byte_count(n)
}

/// A plain send on a registered socket: `send(2)` with [`SEND_FLAGS`] (`MSG_NOSIGNAL`
/// where the OS has it; elsewhere [`prepare`] set `SO_NOSIGPIPE`), so a reset peer is
/// `EPIPE`, never a signal; called directly, as [`recv`].
#[inline(always)] // as `recv`
pub(crate) fn send(sock: &mio::net::UdpSocket, buf: &[u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the whole call, and
    // the fd stays open while `sock` is borrowed.
    let n = unsafe { libc::send(sock.as_raw_fd(), buf.as_ptr().cast(), buf.len(), SEND_FLAGS) };
    byte_count(n)
}

/// A `recv`/`send` return value: the byte count, or the errno's error for `-1`.
#[inline]
fn byte_count(n: isize) -> io::Result<usize> {
    match usize::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// One datagram into `buf`: the bytes kept, and whether the datagram was longer than
/// `buf`. Linux: `recv(2)` with `MSG_TRUNC`, which returns the datagram's real length
/// (UDP, raw, unix and packet sockets), so no `msghdr` is built for the flag.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn recv_datagram(s: &socket2::SockRef<'_>, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let len = buf.len();
    let n = s.recv_with_flags(crate::recv_with::uninit(buf), libc::MSG_TRUNC)?;
    Ok((n.min(len), n > len))
}

/// One datagram into `buf`: the bytes kept, and whether the datagram was longer than
/// `buf` (`recvmsg`'s `MSG_TRUNC` output flag; `MSG_TRUNC` as an input flag is Linux's).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn recv_datagram(s: &socket2::SockRef<'_>, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut bufs = [socket2::MaybeUninitSlice::new(crate::recv_with::uninit(
        buf,
    ))];
    let (n, flags) = s.recv_vectored_with_flags(&mut bufs, 0)?;
    Ok((n, flags.is_truncated()))
}

/// Whether a `connect` error means the address cannot be routed to: Linux gives
/// `EINVAL` for an address behind a blackhole route.
pub(crate) fn is_unroutable_connect(code: i32) -> bool {
    code == libc::EINVAL
}

/// A short stream write proves the send buffer full: epoll and kqueue report the next
/// change as a new edge, so readiness can be cleared at once.
pub(crate) const SHORT_WRITE_FILLS: bool = true;

/// A short TCP read proves the receive queue drained only where urgent data is seen as
/// an event: a read stops at the urgent mark with the rest queued, and on Linux the
/// mark comes with `EPOLLPRI` (registered through [`INTEREST`]), after which
/// `sock_poll` stops trusting short reads. kqueue reports no urgent mark, so elsewhere
/// every read that may leave data behind is followed by one that says `WouldBlock`.
/// (Unix-domain streams never trust it: a read stops where the sender's credentials or
/// passed fds change.)
pub(crate) const SHORT_READ_DRAINS: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// What every socket is registered for: both directions, and urgent data on Linux.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const INTEREST: mio::Interest = mio::Interest::READABLE
    .add(mio::Interest::WRITABLE)
    .add(mio::Interest::PRIORITY);
/// What every socket is registered for: both directions.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// Wraps a socket of any type into the mio type used to register it (see `socket.rs`).
pub(crate) fn into_mio(socket: socket2::Socket) -> mio::net::UdpSocket {
    // SAFETY: `into_raw_fd` hands over a valid, open, owned fd; it is wrapped exactly once.
    unsafe { mio::net::UdpSocket::from_raw_fd(socket.into_raw_fd()) }
}

/// Unwraps a deregistered socket from the mio type it was registered as.
pub(crate) fn from_mio(sock: mio::net::UdpSocket) -> socket2::Socket {
    socket2::Socket::from(OwnedFd::from(sock))
}

/// The family, type and protocol of a socket made elsewhere: the family of its
/// address (`getsockname`), `SO_TYPE`, and `SO_PROTOCOL` where the OS has it.
pub(crate) fn socket_kind(
    s: &socket2::Socket,
) -> io::Result<(Family, SocketType, Option<Protocol>)> {
    let family = Family::from_raw(i32::from(s.local_addr()?.family()));
    let s = socket2::SockRef::from(s);
    let socktype = SocketType::from_raw(getsockopt_int(&s, libc::SOL_SOCKET, libc::SO_TYPE)?);
    Ok((family, socktype, protocol_of(&s)?))
}

/// `SO_PROTOCOL`.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn protocol_of(s: &socket2::SockRef<'_>) -> io::Result<Option<Protocol>> {
    let raw = getsockopt_int(s, libc::SOL_SOCKET, libc::SO_PROTOCOL)?;
    Ok(Some(Protocol::from_raw(raw)))
}

/// No `SO_PROTOCOL` here: the caller assumes the usual protocol of the type.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn protocol_of(_s: &socket2::SockRef<'_>) -> io::Result<Option<Protocol>> {
    Ok(None)
}

/// Whether the socket is listening (`SO_ACCEPTCONN`).
pub(crate) fn is_listener(s: &socket2::SockRef<'_>) -> io::Result<bool> {
    getsockopt_int(s, libc::SOL_SOCKET, libc::SO_ACCEPTCONN).map(|v| v != 0)
}

/// Flags for every `send`: never raise SIGPIPE (Linux/BSD `MSG_NOSIGNAL`).
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL;
/// macOS has no `MSG_NOSIGNAL`; `SO_NOSIGPIPE` is set on every new socket instead.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) const SEND_FLAGS: i32 = 0;

/// The `MSG_*` flags of a receive; `None` when the OS lacks one (`MSG_TRUNC` as an input
/// flag is Linux's).
pub(crate) fn recv_flags(peek: bool, trunc: bool, oob: bool) -> Option<i32> {
    let trunc = match trunc {
        false => 0,
        true if cfg!(any(target_os = "linux", target_os = "android")) => libc::MSG_TRUNC,
        true => return None,
    };
    let flag = |on: bool, bit: i32| if on { bit } else { 0 };
    Some(flag(peek, libc::MSG_PEEK) | trunc | flag(oob, libc::MSG_OOB))
}

/// Whether receive `flags` asked for a datagram's real length (`MSG_TRUNC`, Linux).
pub(crate) fn asks_real_length(flags: i32) -> bool {
    cfg!(any(target_os = "linux", target_os = "android")) && flags & libc::MSG_TRUNC != 0
}

/// Per-socket setup after creation: `SO_NOSIGPIPE` where `MSG_NOSIGNAL` does not exist.
pub(crate) fn prepare(socket: &socket2::Socket) -> io::Result<()> {
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    socket.set_nosigpipe(true)?;
    let _ = socket;
    Ok(())
}

/// UDP needs no special setup on Unix (Windows turns off `SIO_UDP_CONNRESET`).
pub(crate) fn prepare_udp(_socket: &socket2::Socket) -> io::Result<()> {
    Ok(())
}

/// Reads an int-sized option.
pub(crate) fn getsockopt_int(s: &socket2::SockRef<'_>, level: i32, name: i32) -> io::Result<i32> {
    use std::os::fd::AsRawFd;
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is open for the borrow's lifetime; value/len point to a c_int-sized
    // buffer and its length, as getsockopt requires.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(value)
    }
}

/// Writes an int-sized option.
pub(crate) fn setsockopt_int(
    s: &socket2::SockRef<'_>,
    level: i32,
    name: i32,
    value: i32,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is open for the borrow's lifetime; value points to a c_int of `len`.
    let r = unsafe { libc::setsockopt(s.as_raw_fd(), level, name, (&raw const value).cast(), len) };
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
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
const SOL: i32 = libc::SOL_SOCKET;
const TCP: i32 = libc::IPPROTO_TCP;
const IP: i32 = libc::IPPROTO_IP;
const IPV6: i32 = libc::IPPROTO_IPV6;
#[cfg(any(target_os = "linux", target_os = "android"))]
const UDP: i32 = libc::IPPROTO_UDP;

/// Options common to every Unix.
const COMMON: &[OptSpec] = &[
    spec("so_acceptconn", SOL, libc::SO_ACCEPTCONN, ReadOnly),
    spec("so_broadcast", SOL, libc::SO_BROADCAST, Bool),
    spec("so_debug", SOL, libc::SO_DEBUG, Bool),
    spec("so_dontroute", SOL, libc::SO_DONTROUTE, Bool),
    spec("so_error", SOL, libc::SO_ERROR, ReadOnly),
    spec("so_keepalive", SOL, libc::SO_KEEPALIVE, Bool),
    spec("so_linger", SOL, libc::SO_LINGER, Linger),
    spec("so_oobinline", SOL, libc::SO_OOBINLINE, Bool),
    spec("so_rcvbuf", SOL, libc::SO_RCVBUF, Int),
    spec("so_rcvlowat", SOL, libc::SO_RCVLOWAT, Int),
    spec("so_sndbuf", SOL, libc::SO_SNDBUF, Int),
    spec("so_sndlowat", SOL, libc::SO_SNDLOWAT, Int),
    spec("so_reuseaddr", SOL, libc::SO_REUSEADDR, Bool),
    spec("so_reuseport", SOL, libc::SO_REUSEPORT, Bool),
    spec("so_type", SOL, libc::SO_TYPE, ReadOnly),
    spec("tcp_nodelay", TCP, libc::TCP_NODELAY, Bool),
    spec("tcp_maxseg", TCP, libc::TCP_MAXSEG, Int),
    spec("ip_ttl", IP, libc::IP_TTL, Int),
    spec("ip_tos", IP, libc::IP_TOS, Int),
    spec("ip_multicast_ttl", IP, libc::IP_MULTICAST_TTL, Int),
    spec("ip_multicast_loop", IP, libc::IP_MULTICAST_LOOP, Bool),
    spec("ipv6_v6only", IPV6, libc::IPV6_V6ONLY, Bool),
    spec("ipv6_unicast_hops", IPV6, libc::IPV6_UNICAST_HOPS, Int),
];

/// Linux-only options.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PLATFORM: &[OptSpec] = &[
    spec("so_domain", SOL, libc::SO_DOMAIN, ReadOnly),
    spec("so_protocol", SOL, libc::SO_PROTOCOL, ReadOnly),
    spec("so_priority", SOL, libc::SO_PRIORITY, Int),
    spec("so_mark", SOL, libc::SO_MARK, Int),
    spec("so_busy_poll", SOL, libc::SO_BUSY_POLL, Int),
    spec("so_incoming_cpu", SOL, libc::SO_INCOMING_CPU, Int),
    spec("so_passcred", SOL, libc::SO_PASSCRED, Bool),
    spec("so_timestamp", SOL, libc::SO_TIMESTAMP, Bool),
    spec("so_rcvbufforce", SOL, libc::SO_RCVBUFFORCE, Int),
    spec("so_sndbufforce", SOL, libc::SO_SNDBUFFORCE, Int),
    spec("so_zerocopy", SOL, libc::SO_ZEROCOPY, Bool),
    spec("tcp_cork", TCP, libc::TCP_CORK, Bool),
    spec("tcp_keepidle", TCP, libc::TCP_KEEPIDLE, Int),
    spec("tcp_keepintvl", TCP, libc::TCP_KEEPINTVL, Int),
    spec("tcp_keepcnt", TCP, libc::TCP_KEEPCNT, Int),
    spec("tcp_syncnt", TCP, libc::TCP_SYNCNT, Int),
    spec("tcp_linger2", TCP, libc::TCP_LINGER2, Int),
    spec("tcp_defer_accept", TCP, libc::TCP_DEFER_ACCEPT, Int),
    spec("tcp_window_clamp", TCP, libc::TCP_WINDOW_CLAMP, Int),
    spec("tcp_quickack", TCP, libc::TCP_QUICKACK, Bool),
    spec("tcp_user_timeout", TCP, libc::TCP_USER_TIMEOUT, Int),
    spec("tcp_fastopen", TCP, libc::TCP_FASTOPEN, Int),
    spec(
        "tcp_fastopen_connect",
        TCP,
        libc::TCP_FASTOPEN_CONNECT,
        Bool,
    ),
    spec("tcp_notsent_lowat", TCP, libc::TCP_NOTSENT_LOWAT, Int),
    spec(
        "tcp_thin_linear_timeouts",
        TCP,
        libc::TCP_THIN_LINEAR_TIMEOUTS,
        Bool,
    ),
    spec("ip_freebind", IP, libc::IP_FREEBIND, Bool),
    spec("udp_cork", UDP, libc::UDP_CORK, Bool),
];

/// The options whose value Linux reports doubled (it keeps twice the size asked for,
/// for its bookkeeping): copying one sets half the value read.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const READ_BACK_DOUBLED: &[&str] = &["so_rcvbuf", "so_sndbuf"];

/// The options whose value the OS reports doubled: none here.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const READ_BACK_DOUBLED: &[&str] = &[];

/// No extra options on the other Unixes.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const PLATFORM: &[OptSpec] = &[];

/// Every option this OS offers by name.
pub(crate) fn options() -> impl Iterator<Item = &'static OptSpec> {
    COMMON.iter().chain(PLATFORM)
}

/// `accept`. When the process is out of fds (`EMFILE`/`ENFILE`) see [`shed_one`]: the
/// caller gets `TooManyOpenFiles` only when a connection was waiting (and was refused),
/// `WouldBlock` when none was, so an accept loop parks instead of spinning.
pub(crate) fn accept(s: &socket2::SockRef<'_>) -> io::Result<socket2::Socket> {
    match accept_nonblocking(s) {
        Err(e) if is_out_of_fds(&e) => shed_one(s, e),
        r => r,
    }
}

/// Whether `e` says the process (`EMFILE`) or the system (`ENFILE`) is out of fds.
fn is_out_of_fds(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Whether `listen` sets `SO_REUSEADDR` before binding: on Unix it lets a restarted
/// server bind a port whose old connections linger in `TIME_WAIT`.
pub(crate) const LISTEN_REUSEADDR: bool = true;

/// Whether [`open_type`] makes `socket(2)` return a non-blocking socket.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const OPENS_NONBLOCKING: bool = true;
/// Whether [`open_type`] makes `socket(2)` return a non-blocking socket.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const OPENS_NONBLOCKING: bool = false;

/// The type to open a socket of `ty` with: `SOCK_NONBLOCK` added where `socket(2)`
/// takes it, so the new socket is ready for the loop without two `fcntl` calls.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) fn open_type(ty: socket2::Type) -> socket2::Type {
    ty.nonblocking()
}

/// The type to open a socket of `ty` with: `ty` (the socket is made non-blocking when
/// it is registered).
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) fn open_type(ty: socket2::Type) -> socket2::Type {
    ty
}

/// Whether [`accept`] hands back sockets that are already non-blocking.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
pub(crate) const ACCEPTED_NONBLOCKING: bool = true;
/// Whether [`accept`] hands back sockets that are already non-blocking.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
pub(crate) const ACCEPTED_NONBLOCKING: bool = false;

/// `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`: the new socket is ready for the loop in one
/// syscall.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn accept_nonblocking(s: &socket2::SockRef<'_>) -> io::Result<socket2::Socket> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: the listener's fd is open for the borrow; null address pointers ask for
    // no peer address, which accept4 allows.
    let fd = unsafe {
        libc::accept4(
            s.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            flags,
        )
    };
    if fd == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: accept4 returned a new, open fd that nothing else owns.
    Ok(unsafe { socket2::Socket::from_raw_fd(fd) })
}

/// Plain `accept` (close-on-exec); the caller makes the socket non-blocking.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn accept_nonblocking(s: &socket2::SockRef<'_>) -> io::Result<socket2::Socket> {
    s.accept().map(|(socket, _peer)| socket)
}

/// One fd held in reserve for the whole process, to shed a connection under `EMFILE`.
/// One, not one per thread: a worker of a shared poller that first accepted while the
/// process was out of fds would have none, and could neither shed nor park. The lock is
/// held from closing it to reopening it, so no other shedding thread takes the freed fd.
static SPARE: std::sync::Mutex<Option<std::fs::File>> = std::sync::Mutex::new(None);

/// Whether [`SPARE`] holds its fd (read without the lock on every accept).
static HAVE_SPARE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The spare (a poisoned lock still holds a valid `Option`).
fn spare() -> std::sync::MutexGuard<'static, Option<std::fs::File>> {
    SPARE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Opens the process's spare fd if it is not open (called when a socket starts
/// listening, and before a shared-mode accept).
pub(crate) fn reserve_spare_fd() {
    if HAVE_SPARE.load(std::sync::atomic::Ordering::Acquire) {
        return;
    }
    reopen_spare(&mut spare());
}

/// Opens the spare into `slot` if it is empty.
fn reopen_spare(slot: &mut Option<std::fs::File>) {
    if slot.is_none() {
        *slot = std::fs::File::open("/dev/null").ok();
    }
    HAVE_SPARE.store(slot.is_some(), std::sync::atomic::Ordering::Release);
}

/// Out of fds (`out_of_fds`, the error of the first `accept`). Linux says `EMFILE`
/// before it looks for a connection, so the error alone does not tell whether one is
/// waiting: the spare fd kept by [`reserve_spare_fd`] is closed and `accept` asked again.
/// A connection is reset at once (linger 0) and `out_of_fds` reported: the listener
/// stays readable for the next waiting one. `WouldBlock` means none was waiting, and
/// the operation parks until the next connection's event. Without a spare (none could
/// be opened, or a thread that was not shedding took the freed fd) `poll` tells the two
/// cases apart.
fn shed_one(s: &socket2::SockRef<'_>, out_of_fds: io::Error) -> io::Result<socket2::Socket> {
    let mut slot = spare();
    drop(slot.take());
    let shed = s.accept().map(|(conn, _peer)| {
        let _ = conn.set_linger(Some(std::time::Duration::ZERO));
    }); // the connection is closed here, before the spare is reopened
    reopen_spare(&mut slot);
    drop(slot);
    match shed {
        Ok(()) => {
            crate::metrics::accept_shed();
            Err(out_of_fds)
        }
        Err(e) if is_out_of_fds(&e) => match has_pending_connection(s) {
            true => Err(out_of_fds),
            false => Err(io::ErrorKind::WouldBlock.into()),
        },
        Err(e) => Err(e), // WouldBlock: nobody was waiting; or the shed connection's error
    }
}

/// Whether a connection waits on the listener (`poll` with no timeout: needs no fd).
fn has_pending_connection(s: &socket2::SockRef<'_>) -> bool {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: s.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `fd` is one valid pollfd for a listener that is open for the borrow.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & libc::POLLIN != 0
}

/// Unix reports truncation in the message flags, never as a `recvmsg` error.
pub(crate) fn is_truncation_error(_code: i32) -> bool {
    false
}

/// Whether a `connect` error means "in progress, wait until writable".
pub(crate) fn is_in_progress(code: i32) -> bool {
    code == libc::EINPROGRESS
}

/// Whether a `connect` error means "the listener's queue is full, nothing is in
/// progress": a unix-domain socket's `EAGAIN`. Readiness never tells when the queue
/// has room, so the connect is retried on a timer (TCP's `EAGAIN`, out of local ports,
/// is an error like any other).
pub(crate) fn is_queue_full(code: i32) -> bool {
    code == libc::EAGAIN
}

/// The `AF_UNSPEC` address that dissolves a UDP association.
pub(crate) fn unspecified_addr(_family: sock_addr::Family) -> socket2::SockAddr {
    let mut storage = socket2::SockAddrStorage::zeroed();
    // SAFETY: `sockaddr` is one of this platform's sockaddr types, as `view_as` requires.
    let sa = unsafe { storage.view_as::<libc::sockaddr>() };
    sa.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    let len = std::mem::size_of::<libc::sockaddr>() as socket2::socklen_t;
    // SAFETY: the storage holds an initialized `sockaddr` of `len` bytes.
    unsafe { socket2::SockAddr::new(storage, len) }
}

/// A unix-domain sock-addr address in socket2's form.
pub(crate) fn unix_socket2_addr(addr: &sock_addr::SockAddr) -> crate::Result<socket2::SockAddr> {
    match addr.as_unix_path() {
        Some(path) => Ok(socket2::SockAddr::unix(path)?),
        None => Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            format!("unsupported address {addr}"),
        )),
    }
}

/// A socket2 unix-domain address in sock-addr's form (unnamed sockets get an empty path).
pub(crate) fn unix_sock_addr(addr: &socket2::SockAddr) -> crate::Result<sock_addr::SockAddr> {
    let path = addr
        .as_pathname()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    Ok(sock_addr::SockAddr::unix(path)?)
}

/// The source of a received unix datagram in sock-addr's form: a copy of the bytes, so a
/// path, a Linux abstract name and an unbound sender (no address bytes at all: the
/// unnamed address) all come through.
pub(crate) fn unix_source_addr(addr: &socket2::SockAddr) -> crate::Result<sock_addr::SockAddr> {
    // SAFETY: socket2's address is valid for `len()` bytes (at most `sockaddr_storage`).
    Ok(unsafe { addr_from_raw(addr.as_ptr().cast(), addr.len()) })
}

/// A socket address the kernel wrote: `len` bytes at `ptr`; no bytes at all (what
/// `recvmsg`/`recvmmsg` report for an unbound unix sender) is the unnamed unix address.
///
/// # Safety
///
/// `ptr` is valid for reads of `len` bytes, at most `sockaddr_storage`'s size.
unsafe fn addr_from_raw(ptr: *const libc::sockaddr, len: libc::socklen_t) -> sock_addr::SockAddr {
    if len == 0 {
        return unnamed_unix_addr();
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    unsafe { sock_addr::SockAddr::from_raw(ptr, len) }
}

/// The address of an unbound unix socket: the family and no path (shown `(unnamed)`).
pub(crate) fn unnamed_unix_addr() -> sock_addr::SockAddr {
    // SAFETY: `sockaddr_un` is plain data; all-zero is a valid value.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let len = std::mem::offset_of!(libc::sockaddr_un, sun_path) as libc::socklen_t;
    // SAFETY: `sun` is a live `sockaddr_un`, longer than `len` bytes.
    unsafe { sock_addr::SockAddr::from_raw(std::ptr::from_ref(&sun).cast(), len) }
}

impl std::os::fd::AsRawFd for crate::Loop {
    /// The loop's epoll/kqueue fd: readable when the loop has I/O to handle. A host loop
    /// waits on it (with [`Loop::next_deadline`](crate::Loop::next_deadline) as its
    /// timeout), then calls `poll(Some(Duration::ZERO))`.
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.reactor().as_raw_fd()
    }
}

impl std::os::fd::AsRawFd for crate::shared::SharedLoop {
    /// The shared poller's fd (an epoll fd on Linux): readable when the loop has
    /// events to take. A host loop waits on it (with
    /// [`SharedLoop::next_deadline`](crate::shared::SharedLoop::next_deadline) as its timeout),
    /// then calls `poll(Some(Duration::ZERO))`; it never waits *on* it with
    /// `epoll_wait`, which would take sock's events.
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.as_raw()
    }
}

/// Receives up to 32 datagrams with one `recvmmsg`. Only the headers in use are
/// written (whole, so their other fields are zero); the source buffers are left for the
/// kernel to fill, and only the `msg_namelen` bytes it wrote are read.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn recv_batch(
    s: &socket2::SockRef<'_>,
    batch: &mut [crate::io::Datagram],
) -> io::Result<usize> {
    use std::mem::MaybeUninit;
    use std::os::fd::AsRawFd;
    const MAX: usize = crate::batch::MAX_BATCH;
    let n = batch.len().min(MAX);
    let mut names = [const { MaybeUninit::<libc::sockaddr_storage>::uninit() }; MAX];
    let mut iovs = [const { MaybeUninit::<libc::iovec>::uninit() }; MAX];
    let mut hdrs = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; MAX];
    for (i, d) in batch.iter_mut().take(n).enumerate() {
        let iov = iovs[i].write(libc::iovec {
            iov_base: d.buf.as_mut_ptr().cast(),
            iov_len: d.buf.len(),
        });
        hdrs[i].write(mmsghdr(
            names[i].as_mut_ptr().cast(),
            std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
            iov,
        ));
    }
    // SAFETY: the fd is open for the borrow; the first `n` headers are written, each
    // pointing at a live iovec over a buffer of `batch` and at a sockaddr_storage of
    // the stated size; n <= array length.
    let r = unsafe {
        libc::recvmmsg(
            s.as_raw_fd(),
            hdrs.as_mut_ptr().cast(),
            n as libc::c_uint,
            0,
            std::ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = r as usize;
    for (i, d) in batch.iter_mut().take(got).enumerate() {
        // SAFETY: header `i < got <= n` was written above (and updated by the kernel).
        let h = unsafe { hdrs[i].assume_init_ref() };
        d.len = (h.msg_len as usize).min(d.buf.len());
        d.truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        // SAFETY: the kernel wrote a sockaddr of `msg_namelen` bytes into names[i].
        d.addr = Some(unsafe { addr_from_raw(names[i].as_ptr().cast(), h.msg_hdr.msg_namelen) });
    }
    Ok(got)
}

/// Sends up to 32 datagrams, each to its address, with one `sendmmsg`. The headers
/// point at the datagrams' own addresses: nothing is converted or copied.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_batch(
    s: &socket2::SockRef<'_>,
    batch: &[crate::io::Datagram],
) -> io::Result<usize> {
    use std::mem::MaybeUninit;
    use std::os::fd::AsRawFd;
    const MAX: usize = crate::batch::MAX_BATCH;
    let mut iovs = [const { MaybeUninit::<libc::iovec>::uninit() }; MAX];
    let mut hdrs = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; MAX];
    let mut n = 0;
    for d in batch.iter().take(MAX) {
        let Some(to) = d.addr.as_ref() else {
            if n == 0 {
                return Err(crate::batch::no_address());
            }
            break; // send the ones before it; the next call reports the error
        };
        let data = d.data();
        let iov = iovs[n].write(libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        });
        hdrs[n].write(mmsghdr(to.as_ptr().cast_mut(), to.len(), iov));
        n += 1;
    }
    // SAFETY: the fd is open for the borrow; the first `n` headers are written, each
    // pointing at a live iovec over bytes of `batch` (only read by sendmmsg) and at the
    // live address of its datagram.
    let r = unsafe {
        libc::sendmmsg(
            s.as_raw_fd(),
            hdrs.as_mut_ptr().cast(),
            n as libc::c_uint,
            SEND_FLAGS,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// A `recvmmsg`/`sendmmsg` header for one buffer and one address, the rest zero.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn mmsghdr(
    name: *mut libc::sockaddr,
    namelen: libc::socklen_t,
    iov: *mut libc::iovec,
) -> libc::mmsghdr {
    // SAFETY: all-zero is a valid value of this plain C struct.
    let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
    h.msg_hdr.msg_name = name.cast();
    h.msg_hdr.msg_namelen = namelen;
    h.msg_hdr.msg_iov = iov;
    h.msg_hdr.msg_iovlen = 1;
    h
}

/// No `recvmmsg` here: one datagram per call.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn recv_batch(
    s: &socket2::SockRef<'_>,
    batch: &mut [crate::io::Datagram],
) -> io::Result<usize> {
    crate::batch::recv_one(s, batch)
}

/// No `sendmmsg` here: one datagram per call.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn send_batch(
    s: &socket2::SockRef<'_>,
    batch: &[crate::io::Datagram],
) -> io::Result<usize> {
    crate::batch::send_one(s, batch)
}

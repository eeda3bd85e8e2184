//! Raw handles and std conversions over loopback: std sockets taken over with
//! `from_std_*` serve sock peers, sock sockets given to std with `into_std_*` work as
//! blocking std sockets, the handle `as_raw_fd`/`as_fd` gives is the socket's own,
//! `into_raw_fd` then `from_raw_fd` keeps a connection moving bytes both ways (TCP and
//! UDP), a lent handle outlives a `close` through another handle, the shared mode lends
//! its handles, and misuse (wrong state, other handles alive, a file) is a clear error.
//!
//! The OS traits differ by name (`AsFd`/`AsSocket`, …): the `os` shim below gives the
//! tests one name for each. Every std read has a timeout and every sock operation a
//! deadline, so a lost byte fails its test, never hangs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};

use sock::{ErrorKind, Expires, Family, Tcp, Udp};
use sock_tests::{PATIENCE, pair};

use os::Owned;

#[cfg(unix)]
mod os {
    //! Unix names for the handle traits.
    use std::net::SocketAddr;
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd};

    pub(super) use std::os::fd::{OwnedFd as Owned, RawFd as Raw};

    /// The raw handle of `s`.
    pub(super) fn raw_of(s: &impl AsRawFd) -> Raw {
        s.as_raw_fd()
    }

    /// The local address `getsockname` reports for the borrowed handle of `s`.
    pub(super) fn local_of(s: &impl AsFd) -> SocketAddr {
        let addr = socket2::SockRef::from(s).local_addr().expect("getsockname");
        addr.as_socket().expect("an IP address")
    }

    /// The local address `getsockname` reports for the raw handle `raw`.
    pub(super) fn local_of_raw(raw: Raw) -> SocketAddr {
        // SAFETY: the callers pass the handle of a socket they keep open meanwhile.
        local_of(&unsafe { BorrowedFd::borrow_raw(raw) })
    }

    /// Gives up the handle of `s`.
    pub(super) fn into_raw(s: impl IntoRawFd) -> Raw {
        s.into_raw_fd()
    }

    /// Takes over `raw`.
    ///
    /// # Safety
    ///
    /// `raw` must be an open socket that nothing else owns.
    pub(super) unsafe fn from_raw<T: FromRawFd>(raw: Raw) -> T {
        // SAFETY: as this function's contract.
        unsafe { T::from_raw_fd(raw) }
    }

    /// Whether the socket of `s` is in non-blocking mode (`O_NONBLOCK`).
    pub(super) fn is_nonblocking(s: &impl AsRawFd) -> Option<bool> {
        // SAFETY: `F_GETFL` only reads the flags of an open fd.
        let flags = unsafe { libc::fcntl(s.as_raw_fd(), libc::F_GETFL) };
        assert_ne!(flags, -1, "fcntl(F_GETFL)");
        Some(flags & libc::O_NONBLOCK != 0)
    }

    /// A handle that is no socket.
    pub(super) fn not_a_socket() -> Option<Owned> {
        Some(Owned::from(
            std::fs::File::open("/dev/null").expect("open /dev/null"),
        ))
    }
}

#[cfg(windows)]
mod os {
    //! Windows names for the handle traits.
    use std::net::SocketAddr;
    use std::os::windows::io::IntoRawSocket;
    use std::os::windows::io::{AsRawSocket, AsSocket, BorrowedSocket, FromRawSocket};

    pub(super) use std::os::windows::io::{OwnedSocket as Owned, RawSocket as Raw};

    /// The raw handle of `s`.
    pub(super) fn raw_of(s: &impl AsRawSocket) -> Raw {
        s.as_raw_socket()
    }

    /// The local address `getsockname` reports for the borrowed handle of `s`.
    pub(super) fn local_of(s: &impl AsSocket) -> SocketAddr {
        let addr = socket2::SockRef::from(s).local_addr().expect("getsockname");
        addr.as_socket().expect("an IP address")
    }

    /// The local address `getsockname` reports for the raw handle `raw`.
    pub(super) fn local_of_raw(raw: Raw) -> SocketAddr {
        // SAFETY: the callers pass the handle of a socket they keep open meanwhile.
        local_of(&unsafe { BorrowedSocket::borrow_raw(raw) })
    }

    /// Gives up the handle of `s`.
    pub(super) fn into_raw(s: impl IntoRawSocket) -> Raw {
        s.into_raw_socket()
    }

    /// Takes over `raw`.
    ///
    /// # Safety
    ///
    /// `raw` must be an open socket that nothing else owns.
    pub(super) unsafe fn from_raw<T: FromRawSocket>(raw: Raw) -> T {
        // SAFETY: as this function's contract.
        unsafe { T::from_raw_socket(raw) }
    }

    /// Windows cannot be asked whether a socket is non-blocking.
    pub(super) fn is_nonblocking(_s: &impl AsRawSocket) -> Option<bool> {
        None
    }

    /// None: Windows's `OwnedSocket` holds sockets only.
    pub(super) fn not_a_socket() -> Option<Owned> {
        None
    }
}

/// A std stream with a read timeout, so a lost byte cannot hang the test.
fn patient(stream: TcpStream) -> TcpStream {
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    stream
}

/// Sends `out` from `a` and reads it on `b`, then the other way round.
async fn both_ways(a: &Tcp, b: &Tcp) {
    for (from, to, msg) in [(a, b, b"there"), (b, a, b"again")] {
        from.send(msg).timeout(PATIENCE).await.expect("send");
        let mut buf = [0u8; 5];
        to.recvn(&mut buf).timeout(PATIENCE).await.expect("recv");
        assert_eq!(&buf, msg);
    }
}

#[test]
fn std_listener_taken_over_serves_a_sock_client() {
    let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let server = Tcp::from_std_listener(std_listener).unwrap();
    assert_eq!(server.family(), Family::INET);
    assert_eq!(server.protocol(), sock::addr::Protocol::TCP);
    sock::run(async move {
        let echo = sock::spawn(async move {
            let conn = server.accept().timeout(PATIENCE).await?;
            let mut buf = [0u8; 4];
            conn.recvn(&mut buf).timeout(PATIENCE).await?;
            conn.send(&buf).await
        });
        let client = sock::tcp(Family::INET).unwrap();
        client
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        client.send(b"echo").await.unwrap();
        let mut buf = [0u8; 4];
        client.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf, b"echo");
        echo.join().await.unwrap().unwrap();
    });
}

#[test]
fn std_stream_taken_over_is_connected() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let mut peer = patient(listener.accept().unwrap().0);
    let client = Tcp::from_std_stream(client).unwrap();
    if let Some(nonblocking) = os::is_nonblocking(&client) {
        assert!(nonblocking, "from_std makes the socket non-blocking");
    }
    sock::run(async {
        client.send(b"sock").timeout(PATIENCE).await.unwrap();
    });
    let mut buf = [0u8; 4];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"sock");
    // Was connected before sock had it: it goes back to std as a stream.
    let mut back = patient(client.into_std_stream().unwrap());
    peer.write_all(b"std!").unwrap();
    back.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"std!");
}

#[test]
fn into_std_stream_is_a_blocking_std_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer_addr = listener.local_addr().unwrap();
    let client = sock::tcp(Family::INET).unwrap();
    sock::run(
        client
            .connect("127.0.0.1", peer_addr.port())
            .timeout(PATIENCE),
    )
    .unwrap();
    sock::run(client.send(b"from sock")).unwrap();
    let mut stream = patient(client.into_std_stream().unwrap());
    if let Some(nonblocking) = os::is_nonblocking(&stream) {
        assert!(!nonblocking, "into_std gives the socket back blocking");
    }
    assert_eq!(stream.peer_addr().unwrap(), peer_addr);
    let mut peer = patient(listener.accept().unwrap().0);
    let mut buf = [0u8; 9];
    peer.read_exact(&mut buf).unwrap(); // sent while sock had it
    assert_eq!(&buf, b"from sock");
    stream.write_all(b"hello").unwrap();
    peer.read_exact(&mut buf[..5]).unwrap();
    peer.write_all(&buf[..5]).unwrap();
    let mut echo = [0u8; 5];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"hello");
}

#[test]
fn raw_handle_is_the_sockets_own() {
    let s = sock::tcp(Family::INET).unwrap();
    s.listen("127.0.0.1", 0).unwrap();
    let local = s.local_addr().unwrap().as_socket().unwrap();
    assert_eq!(os::local_of_raw(os::raw_of(&s)), local);
    assert_eq!(os::local_of(&s), local);
    let u = sock::udp(Family::INET6).unwrap();
    u.bind("::1", 0).unwrap();
    let local = u.local_addr().unwrap().as_socket().unwrap();
    assert_eq!(os::local_of_raw(os::raw_of(&u)), local);
    assert_eq!(os::local_of(&u), local);
}

#[test]
fn owned_halves_lend_the_sockets_handle() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let local = server.local_addr().unwrap().as_socket().unwrap();
        let raw = os::raw_of(&server);
        let (r, w) = server.into_split();
        assert_eq!((os::raw_of(&r), os::raw_of(&w)), (raw, raw));
        assert_eq!((os::local_of(&r), os::local_of(&w)), (local, local));
        client.send(b"half").await.unwrap();
        let mut buf = [0u8; 4];
        r.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf, b"half");
    });
}

#[test]
fn into_raw_then_from_raw_keeps_a_connection() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let local = client.local_addr().unwrap();
        let raw = os::into_raw(client);
        assert_eq!(os::local_of_raw(raw), local.as_socket().unwrap());
        // SAFETY: `raw` was just given up by `client`; nothing else owns it.
        let client: Tcp = unsafe { os::from_raw(raw) };
        assert_eq!(client.local_addr().unwrap(), local);
        both_ways(&client, &server).await;
        // Through an owned handle, the fallible way.
        let owned = Owned::try_from(client).unwrap();
        let client = Tcp::try_from(owned).unwrap();
        both_ways(&client, &server).await;
    });
}

#[test]
fn raw_handle_given_up_stays_nonblocking() {
    let (client, server) = sock::run(async { pair(Family::INET).await.unwrap() });
    let mut stream = TcpStream::from(Owned::try_from(client).unwrap());
    let mut buf = [0u8; 1];
    let err = stream.read(&mut buf).unwrap_err(); // nothing sent: would block
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    drop(server);
}

#[test]
fn udp_through_std_and_raw_handles() {
    let std_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let u = Udp::from_std(std_socket).unwrap();
    assert_eq!(u.protocol(), sock::addr::Protocol::UDP);
    let mut buf = [0u8; 16];
    // sock -> std peer, then a raw-handle round trip, then std peer -> sock.
    sock::run(u.send_to(b"one", &peer_addr)).unwrap();
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"one");
    let raw = os::into_raw(u);
    assert_eq!(os::local_of_raw(raw), from);
    // SAFETY: `raw` was just given up by `u`; nothing else owns it.
    let u: Udp = unsafe { os::from_raw(raw) };
    peer.send_to(b"two", from).unwrap();
    let (n, src) = sock::run(u.recv_from(&mut buf).timeout(PATIENCE)).unwrap();
    assert_eq!((&buf[..n], src.as_socket()), (&b"two"[..], Some(peer_addr)));
    // Back to std, blocking.
    let std_socket = u.into_std().unwrap();
    std_socket.set_read_timeout(Some(PATIENCE)).unwrap();
    peer.send_to(b"three", from).unwrap();
    let n = std_socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"three");
}

#[test]
fn lent_handle_outlives_a_close_through_another_handle() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let other = client.clone();
        let local = client.local_addr().unwrap().as_socket().unwrap();
        let raw = os::raw_of(&client);
        assert_eq!(os::local_of(&client), local); // lends the handle
        other.close().unwrap();
        assert!(client.is_closed());
        // The handle still names the socket: open, shut down, deregistered.
        assert_eq!(os::local_of_raw(raw), local);
        // The peer sees the close.
        let mut buf = [0u8; 8];
        let n = server.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(n, 0, "EOF after the close");
        let err = client.send(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
    });
}

#[test]
fn misuse_is_a_clear_error() {
    sock::run(async {
        // Not listening, not connected.
        let fresh = sock::tcp(Family::INET).unwrap();
        let err = fresh.into_std_listener().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let fresh = sock::tcp(Family::INET).unwrap();
        let err = fresh.into_std_stream().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected);
        // A listener is not a stream.
        let listener = sock::tcp(Family::INET).unwrap();
        listener.listen("127.0.0.1", 0).unwrap();
        let err = listener.into_std_stream().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        // Other handles alive: nothing is taken from them.
        let (client, server) = pair(Family::INET).await.unwrap();
        let (r, w) = client.into_split();
        let err = r.as_tcp().clone().into_std_stream().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        w.send(b"still").await.unwrap();
        let mut buf = [0u8; 5];
        server.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        // Closed.
        let closed = sock::udp(Family::INET).unwrap();
        closed.close().unwrap();
        assert_eq!(closed.into_std().unwrap_err().kind(), ErrorKind::Closed);
    });
}

#[test]
fn a_handle_of_another_kind_is_refused() {
    let udp = Owned::from(UdpSocket::bind("127.0.0.1:0").unwrap());
    let err = Tcp::try_from(udp).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let tcp = Owned::from(TcpListener::bind("127.0.0.1:0").unwrap());
    let err = Udp::try_from(tcp).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    if let Some(file) = os::not_a_socket() {
        assert!(Tcp::try_from(file).is_err());
    }
}

#[cfg(any(target_os = "linux", windows))]
#[test]
fn shared_sockets_lend_their_handles() {
    let lp = sock::shared::SharedLoop::new().unwrap();
    let t = lp.tcp(Family::INET).unwrap();
    t.listen("127.0.0.1", 0).unwrap();
    let local = t.local_addr().unwrap().as_socket().unwrap();
    assert_eq!(os::local_of(&t), local);
    assert_eq!(os::local_of_raw(os::raw_of(&t)), local);
    let u = lp.udp(Family::INET).unwrap();
    u.bind("127.0.0.1", 0).unwrap();
    let local = u.local_addr().unwrap().as_socket().unwrap();
    assert_eq!(os::local_of(&u), local);
    // Closed, the handle stays the socket's until the last clone drops.
    u.close();
    assert_eq!(os::local_of(&u), local);
}

#[cfg(unix)]
#[test]
fn unix_streams_through_std() {
    use std::os::unix::net::UnixStream;

    let (a, b) = UnixStream::pair().unwrap();
    b.set_read_timeout(Some(PATIENCE)).unwrap();
    let a = Tcp::from_std_unix_stream(a).unwrap();
    assert_eq!(a.family(), Family::UNIX);
    sock::run(a.send(b"unix")).unwrap();
    let mut buf = [0u8; 4];
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"unix");
    let mut a = a.into_std_unix_stream().unwrap();
    a.write_all(b"back").unwrap();
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"back");
    // std::net's types hold IP sockets only.
    let (c, _d) = UnixStream::pair().unwrap();
    let err = Tcp::from_std_unix_stream(c)
        .unwrap()
        .into_std_stream()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

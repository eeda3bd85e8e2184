//! Error kinds of issue 11, over real sockets where loopback can produce the error:
//! a second `connect` after a timed-out one is `in_progress` (`EALREADY`; the first
//! connect's SYN is dropped because the listener's accept queue is full); `accept` on a
//! socket that is not listening is `invalid_input` and fatal for an accept loop; a
//! `connect` over a blackhole route is `network_unreachable`, not `invalid_input`
//! (Linux, in a network namespace of a thread of its own). The codes loopback cannot
//! produce on demand (`ENOBUFS`, `ENOMEM`) are checked through the public conversion
//! from `io::Error`. A unix path nobody bound is `not_found` (`ENOENT`).

#![cfg(unix)]

use std::io;
use std::time::Duration;

use sock::{Error, ErrorKind, Expires, Family};
use sock_tests::PATIENCE;

/// The kind an OS error code is reported as.
fn kind_of(code: i32) -> ErrorKind {
    Error::from(io::Error::from_raw_os_error(code)).kind()
}

#[test]
fn out_of_memory_is_its_own_kind_not_out_of_fds() {
    for code in [libc::ENOBUFS, libc::ENOMEM] {
        assert_eq!(kind_of(code), ErrorKind::OutOfMemory, "errno {code}");
    }
    for code in [libc::EMFILE, libc::ENFILE] {
        assert_eq!(kind_of(code), ErrorKind::TooManyOpenFiles, "errno {code}");
    }
    assert_eq!(ErrorKind::OutOfMemory.name(), "out_of_memory");
    let e = Error::from(io::Error::from_raw_os_error(libc::ENOBUFS));
    assert_eq!(e.raw_os_error(), Some(libc::ENOBUFS));
    assert!(e.is_transient_accept());
    assert_eq!(io::Error::from(e).kind(), io::ErrorKind::OutOfMemory);
}

#[test]
fn already_connecting_is_in_progress() {
    assert_eq!(kind_of(libc::EALREADY), ErrorKind::InProgress);
    assert_eq!(ErrorKind::InProgress.name(), "in_progress");
}

#[test]
fn second_connect_after_a_timed_out_one_is_in_progress() {
    sock::run(async {
        // Backlog 0: one connection fills the accept queue; later SYNs are dropped.
        let listener = sock::tcp(Family::INET).unwrap();
        listener.listen_with_backlog(0, "127.0.0.1", 0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let first = sock::tcp(Family::INET).unwrap();
        first
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();

        let c = sock::tcp(Family::INET).unwrap();
        let short = Duration::from_millis(200);
        let err = c
            .connect("127.0.0.1", port)
            .timeout(short)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        let again = c
            .connect("127.0.0.1", port)
            .timeout(short)
            .await
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::InProgress, "{again}");
        assert_eq!(again.name(), "in_progress");
        assert_eq!(again.raw_os_error(), Some(libc::EALREADY));
    });
}

#[test]
fn accept_on_a_socket_that_is_not_listening_is_fatal_invalid_input() {
    sock::run(async {
        let s = sock::tcp(Family::INET).unwrap();
        s.bind("127.0.0.1", 0).unwrap();
        let err = s.accept().timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
        assert!(!err.is_transient_accept(), "{err}");
        s.close().unwrap();
        let closed = s.accept().await.unwrap_err();
        assert_eq!(closed.kind(), ErrorKind::Closed);
        assert!(!closed.is_transient_accept());
    });
}

#[test]
fn a_unix_path_nobody_bound_is_not_found() {
    let dir = std::env::temp_dir();
    let path = format!("{}/sock-missing-{}.sock", dir.display(), std::process::id());
    let err = sock::run(async {
        let c = sock::tcp(Family::UNIX)?;
        c.connect(&path, 0).timeout(PATIENCE).await
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.name(), "not_found");
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::NotFound);
}

#[test]
fn per_connection_accept_errors_are_transient() {
    let transient = [
        libc::ECONNABORTED,
        libc::EPROTO,
        libc::EPERM,
        libc::ENOBUFS,
        libc::ENOMEM,
        libc::EMFILE,
        libc::ENFILE,
        libc::ETIMEDOUT,
        libc::ENETDOWN,
        libc::ENETUNREACH,
        libc::EHOSTDOWN,
        libc::EHOSTUNREACH,
        libc::ENOPROTOOPT,
        libc::EOPNOTSUPP,
    ];
    for code in transient {
        let e = Error::from(io::Error::from_raw_os_error(code));
        assert!(
            e.is_transient_accept(),
            "errno {code} ({e}) should be transient"
        );
    }
    for code in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK, libc::EFAULT] {
        let e = Error::from(io::Error::from_raw_os_error(code));
        assert!(
            !e.is_transient_accept(),
            "errno {code} ({e}) should be fatal"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn linux_network_down_errors_of_accept_are_transient() {
    let e = Error::from(io::Error::from_raw_os_error(libc::ENONET));
    assert!(e.is_transient_accept(), "{e}");
}

/// Linux: `connect` over a blackhole route fails with `EINVAL` at once, for TCP and UDP.
#[cfg(target_os = "linux")]
mod blackhole {
    use sock_tests::harness::netns;

    use super::*;

    /// Behind the blackhole route the test adds (a TEST-NET-style private range).
    const BLACKHOLE: &str = "10.254.0.0/16";
    const ADDR: &str = "10.254.0.1";

    #[test]
    fn connect_over_a_blackhole_route_is_network_unreachable() {
        // A thread of its own: its network namespace ends with it.
        netns::on_own_thread(enter_namespace_with_blackhole, "no blackhole route", || {
            sock::run(check_connects())
        });
    }

    /// TCP and UDP connects to the blackholed address; `EINVAL` elsewhere is unchanged.
    async fn check_connects() {
        let tcp = sock::tcp(Family::INET).unwrap();
        let err = tcp.connect(ADDR, 80).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NetworkUnreachable, "{err}");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
        let udp = sock::udp(Family::INET).unwrap();
        let err = udp.connect(ADDR, 80).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NetworkUnreachable, "{err}");
        let not_listening = sock::tcp(Family::INET).unwrap();
        let err = not_listening.accept().timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }

    /// Moves this thread into a new network namespace with a blackhole route.
    fn enter_namespace_with_blackhole() -> io::Result<()> {
        netns::unshare_net()?;
        netns::add_blackhole_route(BLACKHOLE)
    }
}

#[test]
fn sending_on_a_socket_that_never_connected_is_not_connected() {
    sock::run(async {
        let udp = sock::udp(Family::INET).unwrap();
        udp.bind("127.0.0.1", 0).unwrap();
        let e = udp.send(b"x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
        let tcp = sock::tcp(Family::INET).unwrap();
        let e = tcp.send(b"x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
    });
}

#[test]
fn errors_name_the_operation_and_the_peer_once() {
    sock::run(async {
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = sock::tcp(Family::INET).unwrap();
        let e = c.connect("127.0.0.1", closed_port).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(
            e.to_string(),
            format!("connect 127.0.0.1:{closed_port}: connection_refused")
        );
        let source = std::error::Error::source(&e).expect("the OS error is the source");
        assert!(
            !e.to_string().contains(&source.to_string()),
            "source printed twice"
        );

        let u = sock::udp(Family::INET).unwrap();
        u.bind("127.0.0.1", 0).unwrap();
        let mut buf = [0u8; 4];
        let e = u
            .recv(&mut buf)
            .timeout(std::time::Duration::from_millis(5))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "recv: timeout");
    });
}

#[test]
fn an_address_of_the_other_family_is_no_address() {
    let s = sock::udp(Family::INET).unwrap();
    let e = s.bind("::1", 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoAddress, "{e}");
}

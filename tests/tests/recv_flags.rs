//! Receives with `RecvFlags` (the seed's `flags` of `recv`/`recvnext`) over loopback,
//! both modes: `PEEK` leaves the data queued — and a short peek leaves the read
//! readiness set, so the next non-waiting read finds the bytes —, `WAITALL` fills the
//! buffer across arrivals (or gives what came before the peer's FIN, or the bytes so
//! far with a timeout), `TRUNC` gives a datagram's real length and discards TCP bytes,
//! `OOB` reads the urgent byte without ever waiting; flags that do not go together
//! fail on the first poll; the names parse as options do.
//!
//! The peer that sends urgent data is a std socket (`socket2::SockRef::send_out_of_band`).

use std::future::Future;
use std::io::Write;
use std::net::TcpStream;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use sock::{ErrorKind, Expires, Family, io::RecvFlags};
use sock_tests::PATIENCE;

/// A deadline an operation with nothing to do surely misses.
const SHORT: Duration = Duration::from_millis(20);

/// `op`'s result if its first poll gives one.
fn first_poll<F: Future>(op: F) -> Option<F::Output> {
    let mut op = pin!(op);
    match op.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    }
}

/// A listener on loopback and a std client connected to it; accept the server side.
fn std_client() -> (sock::Tcp, TcpStream) {
    let (listener, port) = sock_tests::listener(Family::INET);
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    (listener, client)
}

/// A UDP socket bound to an ephemeral loopback port, and its port.
fn bound() -> (sock::Udp, u16) {
    let u = sock::udp(Family::INET).unwrap();
    u.bind("127.0.0.1", 0).unwrap();
    let port = u.local_addr().unwrap().port();
    (u, port)
}

#[test]
fn flags_parse_by_name() {
    let both = RecvFlags::PEEK | RecvFlags::TRUNC;
    assert_eq!("peek|trunc".parse::<RecvFlags>().unwrap(), both);
    assert_eq!("MSG_PEEK, msg_trunc".parse::<RecvFlags>().unwrap(), both);
    assert_eq!("waitall".parse::<RecvFlags>().unwrap(), RecvFlags::WAITALL);
    assert_eq!("oob".parse::<RecvFlags>().unwrap(), RecvFlags::OOB);
    assert_eq!("".parse::<RecvFlags>().unwrap(), RecvFlags::empty());
    let e = "peek|peak".parse::<RecvFlags>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("'peak'"), "{e}");
    assert_eq!(format!("{both:?}"), "PEEK | TRUNC");
}

#[test]
fn tcp_peek_leaves_the_bytes_and_the_readiness() {
    sock::run(async {
        let (listener, mut client) = std_client();
        let conn = listener.accept().timeout(PATIENCE).await.unwrap();
        client.write_all(b"hello world").unwrap();
        let mut buf = [0u8; 64];
        let n = conn
            .recv_with(&mut buf[..5], RecvFlags::PEEK)
            .timeout(PATIENCE)
            .await;
        assert_eq!((n.unwrap(), &buf[..5]), (5, &b"hello"[..]));
        // A short peek (11 of 64): a plain short read here would mean "drained".
        let n = conn.recv_with(&mut buf, RecvFlags::PEEK).await.unwrap();
        assert_eq!(&buf[..n], b"hello world");
        // The readiness is still set: a read that may not wait finds the bytes.
        let mut again = [0u8; 64];
        assert_eq!(conn.try_recv(&mut again).unwrap(), 11);
        assert_eq!(&again[..11], b"hello world");
        // Nothing queued now: a peek waits like any read, and times out.
        let e = conn
            .recv_with(&mut buf, RecvFlags::PEEK)
            .timeout(SHORT)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.to_string(), "recv: timeout");
        drop(client); // FIN: a peek sees the end as a read does
        let n = conn
            .recv_with(&mut buf, RecvFlags::PEEK)
            .timeout(PATIENCE)
            .await;
        assert_eq!(n.unwrap(), 0);
    });
}

#[test]
fn tcp_waitall_fills_the_buffer_across_arrivals() {
    sock::run(async {
        let (listener, mut client) = std_client();
        let conn = listener.accept().timeout(PATIENCE).await.unwrap();
        client.write_all(b"abc").unwrap();
        let reader = sock::spawn(async move {
            let mut buf = [0u8; 8];
            let n = conn
                .recv_with(&mut buf, RecvFlags::WAITALL)
                .timeout(PATIENCE)
                .await?;
            Ok::<_, sock::Error>((n, buf, conn))
        });
        sock::sleep(Duration::from_millis(10)).await; // it has the first 3 bytes now
        client.write_all(b"defgh").unwrap();
        let (n, buf, conn) = reader.join().await.unwrap().unwrap();
        assert_eq!((n, &buf), (8, b"abcdefgh"));

        // With a deadline: the bytes that came are in the error.
        client.write_all(b"xyz").unwrap();
        let mut buf = [0u8; 8];
        let e = conn
            .recv_with(&mut buf, RecvFlags::WAITALL)
            .timeout(SHORT)
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.transferred()), (ErrorKind::Timeout, 3));
        assert_eq!(&buf[..3], b"xyz");

        // The peer's FIN ends the wait: what came before it.
        client.write_all(b"end").unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let n = conn
            .recv_with(&mut buf, RecvFlags::WAITALL)
            .timeout(PATIENCE)
            .await;
        assert_eq!((n.unwrap(), &buf[..3]), (3, &b"end"[..]));
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn tcp_trunc_discards_the_bytes() {
    sock::run(async {
        let (listener, mut client) = std_client();
        let conn = listener.accept().timeout(PATIENCE).await.unwrap();
        client.write_all(b"discard me:keep").unwrap();
        let mut buf = [0u8; 11];
        let n = conn
            .recv_with(&mut buf, RecvFlags::TRUNC | RecvFlags::WAITALL)
            .timeout(PATIENCE)
            .await;
        assert_eq!((n.unwrap(), buf), (11, [0u8; 11]), "discarded, not copied");
        let mut rest = [0u8; 8];
        let n = conn.recv(&mut rest).timeout(PATIENCE).await.unwrap();
        assert_eq!(&rest[..n], b"keep");
    });
}

#[test]
fn tcp_oob_reads_the_urgent_byte_and_never_waits() {
    sock::run(async {
        let (listener, mut client) = std_client();
        let conn = listener.accept().timeout(PATIENCE).await.unwrap();
        let mut byte = [0u8; 1];
        let e = first_poll(conn.recv_with(&mut byte, RecvFlags::OOB)).expect("no wait");
        // Linux says EINVAL when no urgent byte is pending; Windows (Winsock under
        // Wine) says WSAEWOULDBLOCK. Either way the call does not wait.
        let none_pending = match cfg!(windows) {
            true => ErrorKind::WouldBlock,
            false => ErrorKind::InvalidInput,
        };
        assert_eq!(e.unwrap_err().kind(), none_pending, "none pending");
        client.write_all(b"ab").unwrap();
        socket2::SockRef::from(&client)
            .send_out_of_band(b"!")
            .unwrap();
        let mut buf = [0u8; 2];
        conn.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf, b"ab");
        let got = urgent_byte(|b| first_poll(conn.recv_with(b, RecvFlags::OOB)).expect("no wait"));
        assert_eq!(got, b'!');
        // The failed tries touched no readiness: ordinary bytes still come.
        client.write_all(b"c").unwrap();
        let n = conn.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"c");
    });
}

/// The urgent byte, retried while it is on its way (`WouldBlock`: announced, not here;
/// `InvalidInput`: not announced yet), for at most `PATIENCE`; the thread sleeps 1 ms
/// between tries (nothing of the loop is needed for the byte to come).
fn urgent_byte(mut recv: impl FnMut(&mut [u8]) -> sock::Result<usize>) -> u8 {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let mut byte = [0u8; 1];
        match recv(&mut byte) {
            Ok(1) => return byte[0],
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::InvalidInput) => {}
            other => panic!("urgent byte: {other:?}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the urgent byte never came"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn flags_that_do_not_go_together_fail_on_the_first_poll() {
    sock::run(async {
        let (listener, _client) = std_client();
        let conn = listener.accept().timeout(PATIENCE).await.unwrap();
        let mut buf = [0u8; 4];
        for flags in [
            RecvFlags::PEEK | RecvFlags::WAITALL,
            RecvFlags::OOB | RecvFlags::PEEK,
        ] {
            let e = first_poll(conn.recv_with(&mut buf, flags))
                .expect("no wait")
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{flags:?}: {e}");
        }
        let (udp, _) = bound();
        let e = first_poll(udp.recv_with(&mut buf, RecvFlags::WAITALL)).expect("no wait");
        assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidInput);
        let e = first_poll(udp.recv_from_with(&mut buf, RecvFlags::OOB)).expect("no wait");
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Unsupported);
    });
}

#[test]
fn udp_peek_leaves_the_datagram_queued() {
    sock::run(async {
        let (a, port) = bound();
        let (b, b_port) = bound();
        b.send_to(b"ping", &("127.0.0.1", port)).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = a
            .recv_from_with(&mut buf, RecvFlags::PEEK)
            .timeout(PATIENCE)
            .await
            .unwrap();
        assert_eq!((&buf[..n], from.port()), (&b"ping"[..], b_port));
        let n = a.recv_with(&mut buf, RecvFlags::PEEK).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        let mut again = [0u8; 16];
        assert_eq!(
            a.try_recv(&mut again).unwrap(),
            4,
            "still queued, still ready"
        );
        let e = a
            .recv_with(&mut buf, RecvFlags::PEEK)
            .timeout(SHORT)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn udp_trunc_reports_the_real_length() {
    sock::run(async {
        let (a, port) = bound();
        let (b, _) = bound();
        let twelve = b"twelve bytes";
        b.send_to(twelve, &("127.0.0.1", port)).await.unwrap();
        b.send_to(twelve, &("127.0.0.1", port)).await.unwrap();
        let mut none = [0u8; 0];
        let size = a
            .recv_with(&mut none, RecvFlags::PEEK | RecvFlags::TRUNC)
            .timeout(PATIENCE)
            .await;
        assert_eq!(
            size.unwrap(),
            12,
            "the size of the next datagram, still queued"
        );
        let mut four = [0u8; 4];
        let n = a.recv_with(&mut four, RecvFlags::TRUNC).await.unwrap();
        assert_eq!(
            (n, &four),
            (12, b"twel"),
            "real length, first bytes, no error"
        );
        let (n, from) = a
            .recv_from_with(&mut four, RecvFlags::TRUNC)
            .timeout(PATIENCE)
            .await
            .unwrap();
        assert_eq!((n, from), (12, b.local_addr().unwrap()));
        // Without TRUNC a datagram longer than the buffer stays an error.
        b.send_to(twelve, &("127.0.0.1", port)).await.unwrap();
        let e = a
            .recv_with(&mut four, RecvFlags::empty())
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.transferred()), (ErrorKind::MessageTooLong, 4));
    });
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[test]
fn trunc_is_unsupported_off_linux() {
    sock::run(async {
        let (a, _) = bound();
        let mut buf = [0u8; 4];
        let e = first_poll(a.recv_with(&mut buf, RecvFlags::TRUNC)).expect("no wait");
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Unsupported);
    });
}

/// The shared mode's receives with flags (Linux: epoll readiness counters).
#[cfg(target_os = "linux")]
mod shared {
    use std::io::Write;

    use sock::{
        ErrorKind, Expires, Family,
        io::RecvFlags,
        shared::{SharedLoop, SharedTcp, SharedUdp},
    };
    use sock_tests::{PATIENCE, on_shared_loop};

    use super::{SHORT, first_poll, urgent_byte};

    /// A shared listener on loopback, a std client connected to it, and the accepted side.
    async fn conn() -> sock::Result<(SharedTcp, std::net::TcpStream)> {
        let listener = SharedTcp::new(Family::INET)?;
        listener.listen("127.0.0.1", 0)?;
        let port = listener.local_addr()?.port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        Ok((listener.accept().timeout(PATIENCE).await?, client))
    }

    #[test]
    fn tcp_peek_waitall_trunc_and_oob() {
        on_shared_loop(async {
            let (conn, mut client) = conn().await?;
            client.write_all(b"hello world").unwrap();
            let mut buf = [0u8; 64];
            let n = conn
                .recv_with(&mut buf, RecvFlags::PEEK)
                .timeout(PATIENCE)
                .await?;
            assert_eq!(&buf[..n], b"hello world");
            let n = conn.recv(&mut buf).timeout(PATIENCE).await?;
            assert_eq!(n, 11, "the peeked bytes are still there");
            let e = conn
                .recv_with(&mut buf, RecvFlags::PEEK)
                .timeout(SHORT)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout);

            client.write_all(b"abc").unwrap();
            let mut eight = [0u8; 8];
            let e = conn
                .recv_with(&mut eight, RecvFlags::WAITALL)
                .timeout(SHORT)
                .await
                .unwrap_err();
            assert_eq!((e.kind(), e.transferred()), (ErrorKind::Timeout, 3));
            client.write_all(b"defghijk").unwrap();
            let n = conn
                .recv_with(&mut eight, RecvFlags::WAITALL)
                .timeout(PATIENCE)
                .await?;
            assert_eq!((n, &eight), (8, b"defghijk"));

            client.write_all(b"gone:").unwrap();
            let mut five = [0u8; 5];
            let n = conn
                .recv_with(&mut five, RecvFlags::TRUNC | RecvFlags::WAITALL)
                .timeout(PATIENCE)
                .await?;
            assert_eq!((n, five), (5, [0u8; 5]), "discarded");

            socket2::SockRef::from(&client)
                .send_out_of_band(b"!")
                .unwrap();
            let got = urgent_byte(|b| {
                first_poll(conn.recv_with(b, RecvFlags::OOB)).expect("an urgent read never waits")
            });
            assert_eq!(got, b'!');
            let e = first_poll(conn.recv_with(&mut buf, RecvFlags::PEEK | RecvFlags::WAITALL));
            assert_eq!(
                e.expect("no wait").unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
            client.shutdown(std::net::Shutdown::Write).unwrap();
            let n = conn
                .recv_with(&mut eight, RecvFlags::WAITALL)
                .timeout(PATIENCE)
                .await?;
            assert_eq!(n, 0, "the peer's FIN");
            Ok(())
        });
    }

    #[test]
    fn udp_peek_and_trunc() {
        on_shared_loop(async {
            let a = SharedUdp::new(Family::INET)?;
            a.bind("127.0.0.1", 0)?;
            let b = SharedUdp::new(Family::INET)?;
            b.bind("127.0.0.1", 0)?;
            b.send_to(b"twelve bytes", &a.local_addr()?).await?;
            let mut four = [0u8; 4];
            let (n, from) = a
                .recv_from_with(&mut four, RecvFlags::PEEK | RecvFlags::TRUNC)
                .timeout(PATIENCE)
                .await?;
            assert_eq!((n, &four, from), (12, b"twel", b.local_addr()?));
            let n = a
                .recv_with(&mut four, RecvFlags::TRUNC)
                .timeout(PATIENCE)
                .await?;
            assert_eq!(n, 12, "the same datagram, taken now");
            let e = a
                .recv_with(&mut four, RecvFlags::PEEK)
                .timeout(SHORT)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "nothing left");
            let e = first_poll(a.recv_with(&mut four, RecvFlags::WAITALL)).expect("no wait");
            assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidInput);
            Ok(())
        });
    }

    #[test]
    fn udp_oob_is_unsupported() {
        let lp = SharedLoop::new().unwrap();
        let u = lp.udp(Family::INET).unwrap();
        u.bind("127.0.0.1", 0).unwrap();
        let mut buf = [0u8; 4];
        let e = first_poll(u.recv_from_with(&mut buf, RecvFlags::OOB)).expect("no wait");
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Unsupported);
    }
}

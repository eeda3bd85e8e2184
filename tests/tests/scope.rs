//! Scope deadlines: `sock::deadline`/`sock::timeout` bound every socket operation a
//! request awaits — connect, send, receive — with one deadline, never early, and the
//! socket stays usable after an operation's own deadline inside a scope.

use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, Tcp};
use sock_tests::{PATIENCE, listener};

const SCOPE: Duration = Duration::from_millis(200);

/// A request made of connect + send + recvn under one scope deadline; returns its
/// error and how long the scope took.
async fn request(client: &Tcp, port: u16, payload: &[u8]) -> (sock::Error, Duration) {
    let start = Instant::now();
    let r = sock::timeout(SCOPE, async {
        client.connect("127.0.0.1", port).await?;
        client.send(payload).await?;
        let mut buf = [0u8; 4];
        client.recvn(&mut buf).await
    })
    .await;
    (r.expect_err("the server stalls"), start.elapsed())
}

#[test]
fn a_stalled_connect_ends_at_the_scope_deadline() {
    sock::run(async {
        let server = sock::tcp(Family::INET).unwrap();
        server.listen_with_backlog(0, "127.0.0.1", 0).unwrap();
        let port = server.local_addr().unwrap().port();
        // Fill the accept queue: further handshakes get no answer.
        let mut queued = Vec::new();
        for _ in 0..4 {
            let c =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            c.set_nonblocking(true).unwrap();
            let _ = c.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into());
            queued.push(c);
        }
        sock::sleep(Duration::from_millis(50)).await;
        let client = sock::tcp(Family::INET).unwrap();
        let (e, took) = request(&client, port, b"ping").await;
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(took >= SCOPE, "ended early: {took:?}");
        assert!(
            client.remote_addr().is_err(),
            "the connect was what stalled"
        );
    });
}

#[test]
fn a_stalled_send_ends_at_the_scope_deadline_with_the_bytes_sent() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let _peer = sock::spawn(async move {
            let conn = server.accept().await.unwrap();
            sock::sleep(PATIENCE).await; // never reads
            drop(conn);
        });
        let client = sock::tcp(Family::INET).unwrap();
        let big = vec![7u8; 64 << 20];
        let (e, took) = request(&client, port, &big).await;
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(
            e.transferred() > 0 && e.transferred() < big.len(),
            "{}",
            e.transferred()
        );
        assert!(took >= SCOPE, "ended early: {took:?}");
    });
}

#[test]
fn a_stalled_receive_ends_at_the_scope_deadline() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let _peer = sock::spawn(async move {
            let conn = server.accept().await.unwrap();
            let mut buf = [0u8; 4];
            conn.recvn(&mut buf).await.unwrap(); // reads the request, never answers
            sock::sleep(PATIENCE).await;
        });
        let client = sock::tcp(Family::INET).unwrap();
        let (e, took) = request(&client, port, b"ping").await;
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(took >= SCOPE, "ended early: {took:?}");
    });
}

#[test]
fn an_operation_deadline_inside_a_scope_leaves_the_socket_usable() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let client = sock::tcp(Family::INET).unwrap();
        let got = sock::timeout(PATIENCE, async {
            client.connect("127.0.0.1", port).await?;
            let conn = server.accept().await?;
            let mut buf = [0u8; 4];
            let early = client
                .recv(&mut buf)
                .timeout(Duration::from_millis(20))
                .await;
            assert_eq!(early.unwrap_err().kind(), ErrorKind::Timeout);
            conn.send(b"late").await?;
            client.recvn(&mut buf).await?;
            Ok(buf)
        })
        .await;
        assert_eq!(&got.unwrap(), b"late");
    });
}

#[test]
fn the_earliest_of_nested_scopes_wins() {
    sock::run(async {
        let udp = sock::udp(Family::INET).unwrap();
        udp.bind("127.0.0.1", 0).unwrap();
        let start = Instant::now();
        let r = sock::timeout(PATIENCE, async {
            let inner = sock::timeout(Duration::from_millis(50), async {
                let mut buf = [0u8; 8];
                udp.recv(&mut buf).await
            })
            .await;
            assert_eq!(inner.unwrap_err().kind(), ErrorKind::Timeout);
            Ok(start.elapsed())
        })
        .await;
        let took = r.unwrap();
        assert!(
            took >= Duration::from_millis(50) && took < PATIENCE,
            "{took:?}"
        );
    });
}

#[test]
fn a_scope_ends_a_wait_that_is_not_a_socket() {
    sock::run(async {
        let r: sock::Result<()> = sock::timeout(Duration::from_millis(30), async {
            sock::sleep(PATIENCE).await;
            Ok(())
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
    });
}

/// Waits (bounded) until the kernel holds at least one byte for `s`, without the loop
/// seeing an event for it: a non-blocking `MSG_PEEK` on the fd.
#[cfg(unix)]
fn until_queued(s: &Tcp) {
    use std::os::fd::AsRawFd;
    for _ in 0..10_000 {
        let mut byte = 0u8;
        // SAFETY: `byte` is a live one-byte buffer and the fd is `s`'s, open here.
        let n = unsafe {
            libc::recv(
                s.as_raw_fd(),
                (&raw mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n == 1 {
            return;
        }
        std::thread::yield_now();
    }
    panic!("the byte sent on loopback never reached the receive queue");
}

/// Regression (chaos seeds 77 and 296): in an expired scope `readable()` asks the OS
/// (a peek) and says ready, but the readiness flag stayed clear, so `try_recv` said
/// `WouldBlock` without a syscall — and a `readable()`/`try_recv` loop spun forever
/// inside the scope's last poll.
#[cfg(unix)]
#[test]
fn try_recv_after_readable_in_an_expired_scope_reads() {
    sock::run(async {
        let (a, b) = sock_tests::pair(Family::INET).await.unwrap();
        let mut buf = [0u8; 8];
        // Drain: the WouldBlock clears b's read readiness.
        let e = b.try_recv(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        a.send(b"x").await.unwrap();
        until_queued(&b);
        // No yield since: the loop has not seen b's event, the flag is still clear.
        let r = sock::timeout(Duration::ZERO, async {
            b.readable().await?;
            b.try_recv(&mut buf)
        })
        .await;
        assert_eq!(r.unwrap(), 1, "readable() said ready, so try_recv reads");
        assert_eq!(buf[0], b'x');
    });
}

/// Regression (chaos seed 10094): past a scope's deadline `writable()` parked instead
/// of failing with `Timeout`, so the scope dropped the future that awaited it — and
/// with it the count of the bytes its `try_send`s had moved.
#[test]
fn writable_in_an_expired_scope_fails_inside_the_future() {
    sock::run(async {
        let (a, _b) = sock_tests::pair(Family::INET).await.unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let r = sock::timeout(Duration::ZERO, async {
            let mut sent = 0usize;
            for _ in 0..10_000 {
                match a.try_send(&chunk) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            assert!(sent > 0, "a fresh connection takes some bytes");
            // The buffer is full: this waits, until the scope's deadline.
            let e = a.writable().await.expect_err("the peer never reads");
            Ok((e.kind(), sent))
        })
        .await;
        let (kind, _) = r.expect("the future saw the error where it awaited");
        assert_eq!(kind, ErrorKind::Timeout);
    });
}

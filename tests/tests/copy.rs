//! `sock::io::copy` and `copy_bidirectional` over real loopback sockets: byte-exact
//! both ways, half-close forwarding, the idle and whole-copy deadlines, resets, bad
//! input.

use std::time::{Duration, Instant};

use sock::io::{Copied, copy, copy_bidirectional};
use sock::{ErrorKind, Expires, Family, Shutdown, Tcp};
use sock_tests::{PATIENCE, pair};

/// A client, a server, and the two proxy-side sockets between them: `client ↔ a` and
/// `b ↔ server` are connections; a copy between `a` and `b` joins them.
struct Chain {
    client: Tcp,
    a: Tcp,
    b: Tcp,
    server: Tcp,
}

async fn chain(family: Family) -> Chain {
    let (client, a) = pair(family).await.unwrap();
    let (b, server) = pair(family).await.unwrap();
    Chain {
        client,
        a,
        b,
        server,
    }
}

/// `len` bytes of a pattern seeded by `seed` (not periodic in any small power of two).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + i / 1021) as u8).wrapping_add(seed))
        .collect()
}

/// Sends `data` on a write half, then half-closes; and reads everything on the read
/// half until EOF: both at once, each in a thread of its own.
async fn exchange(end: Tcp, data: Vec<u8>) -> Vec<u8> {
    let (r, w) = end.into_split();
    let sender = sock::spawn(async move {
        w.send(&data).timeout(PATIENCE).await.unwrap();
        w.shutdown_write().unwrap();
    });
    let got = r.as_tcp().recvall().timeout(PATIENCE).await.unwrap();
    sender.join().await.unwrap();
    got
}

#[test]
fn sixteen_mib_each_way_at_once_arrive_byte_exact() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        const LEN: usize = 16 << 20;
        let (up, down) = (pattern(LEN, 1), pattern(LEN, 99));
        let c = sock::spawn(exchange(client, up.clone()));
        let s = sock::spawn(exchange(server, down.clone()));
        let copied = copy_bidirectional(&a, &b).timeout(PATIENCE).await.unwrap();
        assert_eq!(
            copied,
            Copied {
                a_to_b: LEN as u64,
                b_to_a: LEN as u64
            }
        );
        assert!(s.join().await.unwrap() == up, "server got other bytes");
        assert!(c.join().await.unwrap() == down, "client got other bytes");
    });
}

#[cfg(unix)]
#[test]
fn unix_streams_copy_byte_exact_with_a_small_buffer() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("sock-copy-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let path = path.to_str().unwrap().to_owned();
    sock::run(async {
        let listener = sock::tcp(Family::UNIX).unwrap();
        listener.listen(&path, 0).unwrap();
        let client = sock::tcp(Family::UNIX).unwrap();
        client.connect(&path, 0).timeout(PATIENCE).await.unwrap();
        let a = listener.accept().timeout(PATIENCE).await.unwrap();
        let (b, server) = pair(Family::INET).await.unwrap();
        let data = pattern(3 << 20, 5);
        let c = sock::spawn(exchange(client, data.clone()));
        let s = sock::spawn(exchange(server, b"tcp to unix".to_vec()));
        let copied = copy_bidirectional(&a, &b)
            .buffer_size(1000)
            .timeout(PATIENCE)
            .await
            .unwrap();
        assert_eq!((copied.a_to_b, copied.b_to_a), (3 << 20, 11));
        assert!(s.join().await.unwrap() == data);
        assert_eq!(c.join().await.unwrap(), b"tcp to unix");
    });
    let _ = std::fs::remove_file(path);
}

/// The client half-closes first: the server reads the EOF while the copy runs, and its
/// answer, sent after that EOF, still reaches the client.
#[test]
fn client_eof_reaches_the_server_and_the_answer_still_flows() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        let copy = sock::spawn(async move { copy_bidirectional(&a, &b).timeout(PATIENCE).await });
        client.send(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let request = server.recvall().timeout(PATIENCE).await.unwrap();
        assert_eq!(request, b"request");
        for _ in 0..3 {
            server.send(b"answer after eof;").await.unwrap();
            sock::sleep(Duration::from_millis(5)).await;
        }
        let mut buf = [0u8; 17 * 3];
        client.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert!(
            !copy.is_finished(),
            "the copy ended before the server's EOF"
        );
        server.shutdown(Shutdown::Write).unwrap();
        assert_eq!(client.recvall().timeout(PATIENCE).await.unwrap(), b"");
        let copied = copy.join().await.unwrap().unwrap();
        assert_eq!((copied.a_to_b, copied.b_to_a), (7, 51));
    });
}

/// The server half-closes first: the client reads the EOF and keeps sending; the
/// server receives it all.
#[test]
fn server_eof_reaches_the_client_and_the_upload_still_flows() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET6).await;
        let copy = sock::spawn(async move { copy_bidirectional(&a, &b).timeout(PATIENCE).await });
        server.send(b"banner").await.unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        assert_eq!(client.recvall().timeout(PATIENCE).await.unwrap(), b"banner");
        let upload = pattern(1 << 20, 3);
        client.send(&upload).timeout(PATIENCE).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert!(server.recvall().timeout(PATIENCE).await.unwrap() == upload);
        let copied = copy.join().await.unwrap().unwrap();
        assert_eq!((copied.a_to_b, copied.b_to_a), (1 << 20, 6));
    });
}

/// `copy` forwards the reader's EOF unless told `keep_open`: then the writer stays
/// open for more.
#[test]
fn copy_forwards_the_eof_unless_kept_open() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        client.send(b"abc").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let n = copy(&a, &b).keep_open().timeout(PATIENCE).await.unwrap();
        assert_eq!(n, 3);
        b.send(b"more").await.unwrap(); // still open
        b.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            server.recvall().timeout(PATIENCE).await.unwrap(),
            b"abcmore"
        );
        let (client, a) = pair(Family::INET).await.unwrap();
        let (b, server) = pair(Family::INET).await.unwrap();
        client.send(b"xyz").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(copy(&a, &b).timeout(PATIENCE).await.unwrap(), 3);
        assert_eq!(server.recvall().timeout(PATIENCE).await.unwrap(), b"xyz");
    });
}

#[test]
fn idle_timeout_ends_a_silent_copy() {
    sock::run(async {
        let Chain {
            client: _client,
            a,
            b,
            server: _server,
        } = chain(Family::INET).await; // both ends kept open: silent
        let start = Instant::now();
        let e = copy_bidirectional(&a, &b)
            .idle_timeout(Duration::from_millis(100))
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.to_string().contains("no byte moved"), "{e}");
        assert!(start.elapsed() < PATIENCE, "waited for the whole deadline");
        assert!(start.elapsed() >= Duration::from_millis(100), "fired early");
    });
}

/// Bytes every 10 ms for 2 s keep a copy with an 800 ms idle limit alive: it ends
/// with the client's EOF, not with a timeout.
#[test]
fn idle_timeout_spares_a_busy_copy() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        let copy = sock::spawn(async move {
            copy(&a, &b)
                .idle_timeout(Duration::from_millis(800))
                .timeout(PATIENCE)
                .await
        });
        let start = Instant::now();
        let mut sent = 0u64;
        while start.elapsed() < Duration::from_millis(2000) {
            client.send(b"tick").await.unwrap();
            sent += 4;
            sock::sleep(Duration::from_millis(10)).await;
        }
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(copy.join().await.unwrap().unwrap(), sent);
        let got = server.recvall().timeout(PATIENCE).await.unwrap();
        assert_eq!(got.len() as u64, sent);
    });
}

/// The server resets its connection: the copy ends with `ConnectionReset`, naming the
/// direction that saw it, with the bytes that had moved each way. Not on Windows: the
/// Windows run is under Wine, whose `closesocket` sends FIN even with `SO_LINGER` 0
/// (README, Windows), so there the copy would see an EOF and go on.
#[cfg(not(windows))]
#[test]
fn a_reset_ends_the_copy_with_its_name_and_the_counts() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        let mut copy = copy_bidirectional(&a, &b);
        let session = async {
            client.send(&[7; 3000]).await?;
            let mut buf = [0u8; 3000];
            server.recvn(&mut buf).await?;
            server.send(b"bye").await?;
            client.recvn(&mut buf[..3]).await?;
            server.setopt("so_linger", 0)?;
            server.close()
        };
        let (copied, session) = futures_lite::future::zip(&mut copy, session).await;
        session.unwrap();
        let e = copied.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
        assert!(e.to_string().starts_with("copy b->a: recv"), "{e}");
        assert_eq!(e.transferred(), 3003);
        assert_eq!(
            copy.copied(),
            Copied {
                a_to_b: 3000,
                b_to_a: 3
            }
        );
    });
}

/// A reset seen while writing (the server is gone, the client sends on) is a
/// `ConnectionReset` of the send, never a SIGPIPE.
#[test]
fn a_reset_seen_by_a_send_is_a_named_error() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        server.setopt("so_linger", 0).unwrap();
        server.close().unwrap();
        // The client sends until its own connection fails (the copy ends, `a` closes).
        let sender = sock::spawn(async move {
            let chunk = [1u8; 64 * 1024];
            while client.send(&chunk).timeout(PATIENCE).await.is_ok() {
                sock::sleep(Duration::from_millis(2)).await;
            }
        });
        let mut copy = copy(&a, &b);
        let copied = (&mut copy).timeout(PATIENCE).await;
        let moved = copy.copied();
        drop(copy);
        a.close().unwrap();
        sender.join().await.unwrap();
        let e = copied.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
        assert!(e.to_string().starts_with("copy: send"), "{e}");
        assert_eq!(e.transferred() as u64, moved);
    });
}

/// A deadline on the whole copy ends it however busy it is, with the bytes moved.
#[test]
fn whole_copy_deadline_ends_it_with_the_counts() {
    sock::run(async {
        let Chain {
            client,
            a,
            b,
            server,
        } = chain(Family::INET).await;
        client.send(b"partial").await.unwrap();
        let start = Instant::now();
        let mut copy = copy_bidirectional(&a, &b).idle_timeout(PATIENCE);
        let e = (&mut copy)
            .timeout(Duration::from_millis(150))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.transferred(), 7);
        assert_eq!(copy.copied().a_to_b, 7);
        assert!(start.elapsed() < PATIENCE, "waited for the idle limit");
        let mut buf = [0u8; 7];
        server.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf, b"partial");
    });
}

/// A scope deadline (`sock::timeout`) ends a copy too.
#[test]
fn scope_deadline_ends_a_copy() {
    sock::run(async {
        let Chain {
            client: _client,
            a,
            b,
            server: _server,
        } = chain(Family::INET).await; // both ends kept open: silent
        let e = sock::timeout(Duration::from_millis(50), copy_bidirectional(&a, &b))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
    });
}

#[test]
fn bad_sockets_give_clear_errors() {
    sock::run(async {
        let (connected, _peer) = pair(Family::INET).await.unwrap();
        let fresh = sock::tcp(Family::INET).unwrap();
        let e = copy(&fresh, &connected)
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
        let closed = sock::tcp(Family::INET).unwrap();
        closed.close().unwrap();
        let e = copy_bidirectional(&connected, &closed)
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
    });
}

/// Closing a socket under a running copy wakes it with `Closed`.
#[test]
fn closing_a_socket_under_a_copy_ends_it() {
    sock::run(async {
        let Chain {
            client: _client,
            a,
            b,
            server: _server,
        } = chain(Family::INET).await; // both ends kept open: silent
        let b2 = b.clone();
        let closer = sock::spawn(async move {
            sock::sleep(Duration::from_millis(20)).await;
            b2.close()
        });
        let e = copy_bidirectional(&a, &b)
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
        closer.join().await.unwrap().unwrap();
    });
}

#[test]
#[should_panic(expected = "needs two different sockets")]
fn copying_a_socket_to_itself_is_misuse() {
    sock::run(async {
        let (a, _b) = pair(Family::INET).await.unwrap();
        let _ = copy_bidirectional(&a, &a.clone()).await;
    });
}

#[test]
#[should_panic(expected = "buffer_size must be at least 1 byte")]
fn a_zero_buffer_is_misuse() {
    sock::run(async {
        let (a, b) = pair(Family::INET).await.unwrap();
        drop(copy(&a, &b).buffer_size(0));
    });
}

//! TCP over real loopback sockets, IPv4 and IPv6: data, half-close, FIN vs RST,
//! deadlines with partial progress, closing under waiters, options, faults.

use std::time::Duration;

use sock::{ErrorKind, Expires, Family, Shutdown, io::OptValue};
use sock_tests::{PATIENCE, listener, pair};

const FAMILIES: [Family; 2] = [Family::INET, Family::INET6];

#[test]
fn echo_round_trip_v4_and_v6() {
    for family in FAMILIES {
        sock::run(async move {
            let (client, server) = pair(family).await.unwrap();
            assert_eq!(client.family(), family);
            assert_eq!(server.remote_addr().unwrap(), client.local_addr().unwrap());
            assert_eq!(server.local_addr().unwrap(), client.remote_addr().unwrap());
            client.send(b"hello, sock").await.unwrap();
            let mut buf = [0u8; 11];
            server.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(&buf, b"hello, sock");
        });
    }
}

#[test]
fn close_with_unread_data_resets_the_peer() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        client.send(b"never read").await.unwrap();
        // Make sure the bytes are in the server's receive queue before it closes.
        sock::sleep(Duration::from_millis(20)).await;
        server.close().unwrap();
        let mut buf = [0u8; 16];
        let got = client.recv(&mut buf).timeout(PATIENCE).await;
        sock_tests::assert_reset(got);
    });
}

#[test]
fn close_after_eof_sends_fin() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(server.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 0);
        server.close().unwrap();
        assert_eq!(client.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 0);
    });
}

#[test]
fn so_linger_zero_resets_on_close() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.setopt("so_linger", 0).unwrap();
        server.close().unwrap();
        let mut buf = [0u8; 16];
        let got = client.recv(&mut buf).timeout(PATIENCE).await;
        sock_tests::assert_reset(got);
    });
}

#[test]
fn half_close_request_reply_loses_nothing() {
    sock::run(async {
        let (client, server) = pair(Family::INET6).await.unwrap();
        let request: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let expected = request.clone();
        let srv = sock::spawn(async move {
            let got = server.recvall().await.unwrap();
            assert_eq!(got, expected);
            server.send(&got[..1000]).await.unwrap();
            server.close().unwrap();
        });
        client.send(&request).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let reply = client.recvall().await.unwrap();
        assert_eq!(reply, &request[..1000]);
        srv.join().await.unwrap();
    });
}

#[test]
fn sixteen_mib_through_tiny_buffers_arrives_byte_exact() {
    sock::run(async {
        // Tiny buffers and a small MSS, set before connecting (with loopback's 64 KiB
        // MSS a 4 KiB window would stall on TCP's silly-window avoidance instead).
        // Wine refuses TCP_MAXSEG (WSAENOPROTOOPT -> Unsupported): there the OS's
        // buffer sizes are kept, as tiny ones would stall on the 64 KiB MSS.
        let tiny = |s: &sock::Tcp| match s.setopt("tcp_maxseg", 536) {
            Ok(()) => {
                s.setopt("so_sndbuf", 4096).unwrap();
                s.setopt("so_rcvbuf", 4096).unwrap();
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
        };
        let listener = sock::tcp(Family::INET).unwrap();
        tiny(&listener);
        listener.listen("127.0.0.1", 0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = sock::tcp(Family::INET).unwrap();
        tiny(&client);
        client
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let server = listener.accept().timeout(PATIENCE).await.unwrap();
        const LEN: usize = 16 << 20;
        let data: Vec<u8> = (0..LEN).map(|i| (i * 31 % 256) as u8).collect();
        let check = data.clone();
        let reader = sock::spawn(async move {
            let mut got = Vec::with_capacity(LEN);
            server.recvall_into(&mut got).await.unwrap();
            got
        });
        client.send(&data).await.unwrap();
        client.close().unwrap();
        let got = reader.join().await.unwrap();
        assert_eq!(got.len(), LEN);
        assert!(got == check, "16 MiB differ");
    });
}

#[test]
fn recvn_timeout_reports_partial_progress_and_socket_stays_usable() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.send(b"abc").await.unwrap();
        let mut buf = [0u8; 10];
        let err = client
            .recvn(&mut buf)
            .timeout(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(err.transferred(), 3);
        assert_eq!(&buf[..3], b"abc");
        server.send(b"defg").await.unwrap();
        let mut rest = [0u8; 4];
        client.recvn(&mut rest).timeout(PATIENCE).await.unwrap();
        assert_eq!(&rest, b"defg");
    });
}

#[test]
fn recvn_eof_reports_partial_progress() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.send(b"xyz").await.unwrap();
        server.close().unwrap();
        let mut buf = [0u8; 10];
        let err = client.recvn(&mut buf).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Eof);
        assert_eq!(err.transferred(), 3);
    });
}

#[test]
fn timeout_is_never_early_and_leaves_no_waiter() {
    sock::run(async {
        let (client, _server) = pair(Family::INET).await.unwrap();
        let deadline = sock::clock() + Duration::from_millis(30);
        let mut buf = [0u8; 4];
        let err = client.recv(&mut buf).expires(deadline).await.unwrap_err();
        assert!(err.is_timeout());
        assert!(sock::clock() >= deadline, "timed out before the deadline");
        // Another task may now wait on the same direction: the timed-out op left nothing.
        let c2 = client.clone();
        let other = sock::spawn(async move {
            let mut buf = [0u8; 4];
            c2.recv(&mut buf).timeout(Duration::from_millis(10)).await
        });
        assert!(other.join().await.unwrap().unwrap_err().is_timeout());
    });
}

#[test]
fn an_expired_deadline_still_completes_a_ready_op() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.send(b"ready").await.unwrap();
        sock::sleep(Duration::from_millis(20)).await;
        let past = sock::clock() - Duration::from_millis(1);
        let mut buf = [0u8; 5];
        assert_eq!(client.recv(&mut buf).expires(past).await.unwrap(), 5);
        let err = client.recv(&mut buf).expires(past).await.unwrap_err();
        assert!(err.is_timeout());
    });
}

#[test]
fn connect_to_a_full_backlog_times_out_at_the_deadline() {
    sock::run(async {
        let server = sock::tcp(Family::INET).unwrap();
        server.listen_with_backlog(0, "127.0.0.1", 0).unwrap();
        let port = server.local_addr().unwrap().port();
        // Fill the accept queue (never accepted) until a connect blocks.
        let mut held = Vec::new();
        for _ in 0..64 {
            let c = sock::tcp(Family::INET).unwrap();
            let deadline = sock::clock() + Duration::from_millis(200);
            let r = c.connect("127.0.0.1", port).expires(deadline).await;
            held.push(c);
            if let Err(e) = r {
                assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
                assert!(sock::clock() >= deadline, "connect timed out early");
                return;
            }
        }
        panic!("64 connects to a backlog-0 listener all succeeded");
    });
}

#[test]
fn connect_refused_is_normalized() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        server.close().unwrap();
        let c = sock::tcp(Family::INET).unwrap();
        let err = c
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(err.name(), "connection_refused");
    });
}

#[test]
fn address_in_use_is_normalized() {
    sock::run(async {
        let (_server, port) = listener(Family::INET);
        let other = sock::tcp(Family::INET).unwrap();
        let err = other.bind("127.0.0.1", port).unwrap_err();
        assert_eq!(err.name(), "address_already_in_use");
    });
}

#[test]
fn close_wakes_every_waiter_with_closed() {
    sock::run(async {
        let (client, _server) = pair(Family::INET).await.unwrap();
        let reader = client.clone();
        let waiting = sock::spawn(async move {
            let mut buf = [0u8; 4];
            reader.recv(&mut buf).timeout(PATIENCE).await
        });
        sock::sleep(Duration::from_millis(5)).await; // let it park
        client.close().unwrap();
        let err = waiting.join().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        let mut buf = [0u8; 1];
        assert_eq!(
            client.recv(&mut buf).await.unwrap_err().kind(),
            ErrorKind::Closed
        );
    });
}

#[test]
fn two_readers_on_one_socket_panic_with_advice() {
    sock::run(async {
        let (client, _server) = pair(Family::INET).await.unwrap();
        let a = client.clone();
        let b = client.clone();
        let t1 = sock::spawn(async move { a.recv(&mut [0u8; 1]).timeout(PATIENCE).await });
        let t2 = sock::spawn(async move { b.recv(&mut [0u8; 1]).timeout(PATIENCE).await });
        let second = t2.join().await.expect_err("a second reader must panic");
        let payload = second.into_panic();
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            msg.contains("two tasks wait to read the same socket"),
            "{msg}"
        );
        client.close().unwrap();
        assert_eq!(
            t1.join().await.unwrap().unwrap_err().kind(),
            ErrorKind::Closed
        );
    });
}

#[test]
fn send_to_a_reset_peer_is_an_error_not_a_signal() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.setopt("so_linger", 0).unwrap();
        server.close().unwrap();
        sock::sleep(Duration::from_millis(20)).await;
        let chunk = vec![0u8; 64 * 1024];
        let mut last = None;
        for _ in 0..64 {
            if let Err(e) = client.send(&chunk).timeout(PATIENCE).await {
                last = Some(e);
                break;
            }
        }
        let err = last.expect("sending to a reset peer must fail");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    });
}

#[test]
fn options_by_name_with_clear_errors() {
    sock::run(async {
        let s = sock::tcp(Family::INET).unwrap();
        s.setopt("so_reuseaddr", true).unwrap();
        assert_eq!(s.getopt("so_reuseaddr").unwrap(), OptValue::Bool(true));
        s.setopt("so_keepalive", true).unwrap();
        assert_eq!(s.getopt("so_keepalive").unwrap().as_bool(), Some(true));
        s.setopt("so_rcvbuf", 65536).unwrap();
        assert!(s.getopt("so_rcvbuf").unwrap().as_int().unwrap() >= 65536);
        assert_eq!(s.getopt("so_error").unwrap(), OptValue::Int(0));
        let e = s.setopt("so_bogus", 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("so_bogus"), "{e}");
        let e = s.setopt("tcp_nodelay", OptValue::Linger(None)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = s.setopt("so_linger", 5).unwrap_err();
        assert!(e.to_string().contains("block the loop"), "{e}");
        let e = s.setopt("so_error", 1).unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        assert!(sock::io::option_names().count() >= 15);
    });
}

#[test]
fn an_always_ready_socket_does_not_starve_other_tasks() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        const LEN: usize = 64 * 1024;
        server.send(&vec![7u8; LEN]).await.unwrap();
        sock::sleep(Duration::from_millis(20)).await; // all bytes queued at the client
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let t = ticks.clone();
        let ticker = sock::spawn(async move {
            loop {
                t.set(t.get() + 1);
                sock_tests::yield_now().await;
            }
        });
        let mut seen_at_end = 0;
        let mut byte = [0u8; 1];
        for i in 0..LEN {
            client.recvn(&mut byte).timeout(PATIENCE).await.unwrap();
            if i == LEN / 2 {
                seen_at_end = ticks.get();
            }
        }
        drop(ticker);
        assert!(
            seen_at_end > 0,
            "the other task never ran while one socket stayed ready"
        );
    });
}

#[test]
fn eof_queued_behind_a_short_read_is_still_seen() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        server.send(b"last words").await.unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        sock::sleep(Duration::from_millis(20)).await; // data and FIN both queued
        let mut buf = [0u8; 64];
        assert_eq!(client.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 10);
        // The short read cleared readiness; the FIN came with the same edge.
        assert_eq!(client.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 0);
    });
}

#[test]
fn an_unspec_socket_tries_families_interleaved_and_takes_the_winner() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let (dead, dead_port) = listener(Family::INET6);
        dead.close().unwrap(); // nothing listens on [::1]:dead_port
        let v6: std::net::SocketAddr = format!("[::1]:{dead_port}").parse().unwrap();
        let v4: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let addrs = vec![sock::SockAddr::from(v4), sock::SockAddr::from(v6)];
        let client = sock::tcp(Family::UNSPEC).unwrap();
        let e = client.setopt("tcp_nodelay", true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
        client.connect_to(&addrs).timeout(PATIENCE).await.unwrap();
        assert_eq!(client.family(), Family::INET, "IPv6 refused, IPv4 must win");
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        assert_eq!(conn.remote_addr().unwrap(), client.local_addr().unwrap());
    });
}

#[test]
fn recvall_read_takes_a_deadline() {
    use std::io::Read;
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let client = sock::tcp(Family::INET).unwrap();
        client
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        conn.send(b"partial").await.unwrap();
        let e = client
            .recvall_read()
            .timeout(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.transferred()), (sock::ErrorKind::Timeout, 7));
        conn.send(b"!").await.unwrap();
        conn.close().unwrap();
        let mut text = String::new();
        let mut reader = client.recvall_read().timeout(PATIENCE).await.unwrap();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "!");
    });
}

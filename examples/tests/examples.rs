//! The examples' code over real loopback sockets: echo, chat, UDP
//! request/response, and ICMP ping on a raw socket.

use std::time::Duration;

use sock::{Expires, Family};

fn listener() -> (sock::Tcp, u16) {
    let l = sock::tcp(Family::INET).unwrap();
    l.listen("127.0.0.1", 0).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn echo_server_and_client() {
    sock::run(async {
        let (l, port) = listener();
        sock::thread(sock_examples::echo::serve(l));
        sock_examples::echo::client("127.0.0.1", port, 200, 64)
            .await
            .unwrap();
        sock_examples::echo::client("127.0.0.1", port, 3, 100_000)
            .await
            .unwrap();
    });
}

/// `echo_server --metrics`'s line over an interval of 200 round trips: the server's
/// reads parked (they wait for each message), nothing expired or was shed.
#[test]
fn echo_server_metrics_line() {
    sock::run(async {
        let (l, port) = listener();
        let server = sock::thread(sock_examples::echo::serve(l));
        let before = sock::metrics();
        sock_examples::echo::client("127.0.0.1", port, 200, 64)
            .await
            .unwrap();
        let after = sock::metrics();
        let line = sock_examples::observe::line(&before, &after);
        assert!(line.starts_with("metrics alive="), "{line}");
        assert!(line.contains("expired=0 shed=0"), "{line}");
        let parked = after.ops_parked - before.ops_parked;
        assert!(parked >= 200, "each message waited for: {line}");
        assert!(line.contains(&format!("parked_ops={parked} ")), "{line}");
        server.cancel();
    });
}

#[test]
fn chat_broadcasts_to_everyone_else() {
    sock::run(async {
        let (l, port) = listener();
        sock::thread(sock_examples::chat::serve(l));
        let mut clients = Vec::new();
        for _ in 0..4 {
            let c = sock::tcp(Family::INET).unwrap();
            c.connect("127.0.0.1", port).await.unwrap();
            clients.push(c);
        }
        sock::sleep(Duration::from_millis(20)).await; // all joined
        for (i, c) in clients.iter().enumerate() {
            c.send(format!("hello from {i}\n").as_bytes())
                .await
                .unwrap();
        }
        for (i, c) in clients.iter().enumerate() {
            let mut got = String::new();
            while got.matches('\n').count() < 3 {
                let mut buf = [0u8; 256];
                let n = c
                    .recv(&mut buf)
                    .timeout(Duration::from_secs(5))
                    .await
                    .unwrap();
                got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
            }
            assert!(
                !got.contains(&format!("from {i}\n")),
                "client {i} got its own line"
            );
            assert_eq!(got.matches("hello from").count(), 3, "{got}");
        }
    });
}

/// Lines the chat flood test sends: 60,000 of 100 bytes (6 MB), more than the kernel
/// buffers for a client that does not read. The old chat, which awaited each client's
/// send in turn, stalled everyone on such a client (after 26,481 lines on Linux).
const FLOOD_LINES: usize = 60_000;

/// A connected chat client; `rcvbuf` shrinks its receive buffer before connecting.
async fn chat_client(port: u16, rcvbuf: Option<i32>) -> sock::Tcp {
    let c = sock::tcp(Family::INET).unwrap();
    if let Some(bytes) = rcvbuf {
        c.setopt("so_rcvbuf", bytes).unwrap();
    }
    c.connect("127.0.0.1", port)
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
    c
}

/// Reads from `c` until it has seen `want` lines starting with `prefix` (others are
/// skipped) and returns those; each read waits at most 10 s.
async fn read_lines(c: &sock::Tcp, prefix: &str, want: usize) -> Vec<String> {
    let (mut lines, mut pending) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    while lines.len() < want {
        let n = c.recv(&mut buf).timeout(Duration::from_secs(10)).await;
        let n = n.unwrap_or_else(|e| panic!("after {} lines: {e}", lines.len()));
        assert!(n > 0, "EOF after {} lines", lines.len());
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8(pending.drain(..=i).collect()).unwrap();
            if line.starts_with(prefix) {
                lines.push(line);
            }
        }
    }
    lines
}

/// One client never reads: the chat drops it once its outbox is full, and the others
/// receive every line, in order.
#[test]
fn chat_drops_a_client_that_stops_reading() {
    sock::run(async {
        let (l, port) = listener();
        sock::thread(sock_examples::chat::serve(l));
        let slow = chat_client(port, Some(4096)).await;
        let sender = chat_client(port, None).await;
        let readers = [chat_client(port, None).await, chat_client(port, None).await];
        // Each client announces itself; once the sender has seen the three others,
        // all four are in the room.
        for c in readers.iter().chain([&slow]) {
            c.send(b"ready\n").await.unwrap();
        }
        read_lines(&sender, "ready", 3).await;
        let flood = sock::thread(async move {
            for i in 0..FLOOD_LINES {
                let line = format!("line {i:06} {}\n", "x".repeat(87));
                sender.send(line.as_bytes()).await.unwrap();
            }
            sender
        });
        // Both readers read at once: one left unread would be dropped too.
        let reading = readers
            .map(|r| sock::thread(async move { read_lines(&r, "line ", FLOOD_LINES).await }));
        for r in reading {
            let lines = r.join().await.unwrap();
            for (i, line) in lines.iter().enumerate() {
                assert!(line.starts_with(&format!("line {i:06} ")), "{line}");
            }
        }
        let _sender = flood.join().await.unwrap();
        // The slow client was dropped: after what was already on its way, EOF (or a
        // reset), never more than the whole flood.
        let rest = slow.recvall().timeout(Duration::from_secs(10)).await;
        match rest {
            Ok(bytes) => assert!(bytes.len() < FLOOD_LINES * 100, "{}", bytes.len()),
            Err(e) => assert_eq!(e.kind(), sock::ErrorKind::ConnectionReset, "{e}"),
        }
    });
}

#[test]
fn udp_request_response_with_retries() {
    sock::run(async {
        let server = sock::udp(Family::INET).unwrap();
        server.bind("127.0.0.1", 0).unwrap();
        let port = server.local_addr().unwrap().port();
        let t = sock::thread(sock_examples::udp::serve(server.clone()));
        let reply =
            sock_examples::udp::request("127.0.0.1", port, b"abc", Duration::from_millis(500), 3)
                .await
                .unwrap();
        assert_eq!(reply, b"cba");
        server.close().unwrap();
        assert_eq!(
            t.join().await.unwrap().unwrap_err().kind(),
            sock::ErrorKind::Closed
        );
        // Nobody answers now: every try times out.
        let err =
            sock_examples::udp::request("127.0.0.1", port, b"abc", Duration::from_millis(20), 2)
                .await
                .unwrap_err();
        assert!(
            err.is_timeout() || err.kind() == sock::ErrorKind::ConnectionRefused,
            "{err}"
        );
    });
}

/// A client socket bound to loopback, and a receive buffer for any datagram.
fn udp_client() -> (sock::Udp, Vec<u8>) {
    let c = sock::udp(Family::INET).unwrap();
    c.bind("127.0.0.1", 0).unwrap();
    (c, vec![0u8; sock_examples::udp::MAX_DATAGRAM])
}

/// A UDP server of the examples on a loopback socket; returns its address.
fn udp_server<F: std::future::Future<Output = sock::Result<()>> + 'static>(
    serve: impl FnOnce(sock::Udp) -> F,
) -> sock::SockAddr {
    let server = sock::udp(Family::INET).unwrap();
    server.bind("127.0.0.1", 0).unwrap();
    let addr = server.local_addr().unwrap();
    sock::thread(serve(server));
    addr
}

/// Sends `msg` to `to` and returns the next datagram `c` receives (within 5 s).
async fn udp_round_trip(c: &sock::Udp, buf: &mut [u8], to: &sock::SockAddr, msg: &[u8]) -> Vec<u8> {
    c.send_to(msg, to).await.unwrap();
    let n = c.recv(buf).timeout(Duration::from_secs(5)).await.unwrap();
    buf[..n].to_vec()
}

/// Datagrams over 2,048 bytes (the old buffer, which ended the server) come back
/// whole, and the server goes on.
#[test]
fn udp_answers_large_datagrams_whole_and_goes_on() {
    sock::run(async {
        let to = udp_server(sock_examples::udp::serve);
        let (c, mut buf) = udp_client();
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let back = udp_round_trip(&c, &mut buf, &to, &big).await;
        assert!(
            back.iter().eq(big.iter().rev()),
            "{} bytes back",
            back.len()
        );
        assert_eq!(udp_round_trip(&c, &mut buf, &to, b"abc").await, b"cba");
    });
}

/// With a buffer smaller than a datagram, the server skips that datagram (it cannot be
/// answered whole) and answers the next.
#[test]
fn udp_skips_a_datagram_longer_than_its_buffer() {
    sock::run(async {
        let to = udp_server(|s| sock_examples::udp::serve_with_buffer(s, 2048));
        let (c, mut buf) = udp_client();
        c.send_to(&[7u8; 3000], &to).await.unwrap();
        // Loopback keeps the order: had the server answered the long datagram, its
        // answer would come first.
        assert_eq!(udp_round_trip(&c, &mut buf, &to, b"abc").await, b"cba");
    });
}

/// `echo_server --udp --batch` and `--udp` echo datagrams of any size whole (the batch
/// server used to echo only the first 2,048 bytes).
#[test]
fn udp_echo_servers_echo_large_datagrams_whole() {
    sock::run(async {
        for to in [
            udp_server(sock_examples::echo::serve_udp_batched),
            udp_server(sock_examples::echo::serve_udp),
        ] {
            let (c, mut buf) = udp_client();
            for size in [9_000, 60_000, 5] {
                let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                let back = udp_round_trip(&c, &mut buf, &to, &msg).await;
                assert!(back == msg, "{size} bytes sent, {} echoed", back.len());
            }
        }
    });
}

#[test]
fn ping_gets_an_echo_reply_from_loopback() {
    sock::run(async {
        match sock_examples::ping::ping("127.0.0.1", 0x5eed, 1, Duration::from_secs(5)).await {
            Ok(rtt) => assert!(rtt < Duration::from_secs(5)),
            Err(e)
                if e.kind() == sock::ErrorKind::AccessDenied
                    && std::env::var_os("CI").is_none() =>
            {
                eprintln!("ping needs root or CAP_NET_RAW; not run: {e}");
            }
            Err(e) => panic!("ping failed: {e}"),
        }
    });
}

#[test]
fn icmp_checksum_and_reply_matching() {
    let req = sock_examples::ping::echo_request(7, 9, b"x");
    assert_eq!(
        sock_examples::ping::checksum(&req),
        0,
        "a packet with its checksum sums to 0"
    );
    let mut ip = vec![0x45u8; 1];
    ip.resize(20, 0);
    let mut reply = ip.clone();
    let mut icmp = req.clone();
    icmp[0] = 0;
    reply.extend_from_slice(&icmp);
    assert!(sock_examples::ping::is_reply_to(&reply, 7, 9));
    assert!(!sock_examples::ping::is_reply_to(&reply, 7, 10));
    let mut own = ip;
    own.extend_from_slice(&req);
    assert!(
        !sock_examples::ping::is_reply_to(&own, 7, 9),
        "our own request is not a reply"
    );
}

#[test]
fn threads_loops_per_thread_serve_every_round_trip() {
    let tally = sock_examples::threads::loops_per_thread(2, 50, 10).unwrap();
    let counts = tally.counts();
    assert!(
        counts.len() <= 2,
        "only the 2 server loops serve: {counts:?}"
    );
    assert_eq!(counts.iter().sum::<usize>(), 500);
}

/// Linux and Windows: the platforms with a shared-poller socket backend.
#[cfg(any(target_os = "linux", windows))]
#[test]
fn threads_shared_poller_serves_every_round_trip() {
    let tally = sock_examples::threads::shared_poller(2, 50, 10).unwrap();
    let counts = tally.counts();
    assert!(
        counts.len() <= 2,
        "only the 2 adopting threads work: {counts:?}"
    );
    assert_eq!(counts.iter().sum::<usize>(), 500);
}

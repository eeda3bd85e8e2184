//! The poll-level and `try_` calls, and the I/O traits built on them, on simulated
//! sockets (`sock::sim::Sim`): the same readiness rules as the OS path, over the world's
//! TCP and UDP model.
//!
//! A wait that can never end makes the simulation panic as stuck (with the seed), so
//! the `poll_fn` waits need no timeout of their own. Every test's world takes its seed from `SOCK_SEED` when set (`World::from_env_or`),
//! so a failure's printed seed replays it.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sock::io::RecvFlags;
use sock::sim::Host;
use sock::{ErrorKind, Expires, Family, Shutdown, Tcp};
use sock_tests::sim::{ip, two_hosts};

/// How long a wait may take before the test calls it a hang (virtual time).
const HANG: Duration = Duration::from_secs(30);

/// A listener on `host` at 10.0.0.2:`port`.
fn listener(host: &Host, port: u16) -> Tcp {
    host.run(async move {
        let l = sock::tcp(Family::INET).expect("a simulated socket");
        l.listen("10.0.0.2", port).expect("listen");
        l
    })
}

/// A connection from this host to 10.0.0.2:`port`.
async fn connect(port: u16) -> sock::Result<Tcp> {
    let c = sock::tcp(Family::INET)?;
    c.connect("10.0.0.2", port).timeout(HANG).await?;
    Ok(c)
}

#[test]
fn futures_io_echo_between_simulated_hosts() {
    let (_sim, a, b) = two_hosts(11);
    let server = listener(&b, 7);
    b.spawn(async move {
        let mut conn = server.accept().await?;
        let mut data = Vec::new();
        conn.read_to_end(&mut data).await?;
        conn.write_all(&data).await?;
        AsyncWriteExt::close(&mut conn).await?;
        Ok::<(), std::io::Error>(())
    });
    let msg: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let reply = a.run(async {
        let mut c = connect(7).await?;
        c.write_all(&msg).await?;
        AsyncWriteExt::close(&mut c).await?;
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    });
    assert_eq!(reply.expect("an echo"), msg);
}

#[test]
fn futures_io_on_split_halves() {
    let (_sim, a, b) = two_hosts(12);
    let server = listener(&b, 7);
    b.spawn(async move {
        let conn = server.accept().await?;
        let (mut r, mut w) = conn.into_split();
        let mut data = Vec::new();
        r.read_to_end(&mut data).await?;
        w.write_all(&data).await?;
        w.close().await?;
        Ok::<(), std::io::Error>(())
    });
    let reply = a.run(async {
        let c = connect(7).await?;
        let (mut r, mut w) = c.split();
        w.write_all(b"through the halves").await?;
        w.close().await?;
        let mut reply = Vec::new();
        r.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    });
    assert_eq!(reply.expect("an echo"), b"through the halves");
}

#[test]
fn tokio_io_reads_into_a_read_buf() {
    let (_sim, a, b) = two_hosts(13);
    let server = listener(&b, 7);
    b.spawn(async move {
        let conn = server.accept().await?;
        conn.send(b"tokio bytes").await?;
        conn.shutdown(Shutdown::Write)
    });
    let got = a.run(async {
        let mut c = connect(7).await?;
        let mut got = Vec::new();
        for _ in 0..100 {
            let mut storage = [0u8; 4];
            let mut buf = tokio::io::ReadBuf::new(&mut storage);
            poll_fn(|cx| tokio::io::AsyncRead::poll_read(Pin::new(&mut c), cx, &mut buf)).await?;
            if buf.filled().is_empty() {
                return Ok::<_, std::io::Error>(got);
            }
            got.extend_from_slice(buf.filled());
        }
        Err(std::io::Error::other("no end of stream after 100 reads"))
    });
    assert_eq!(got.expect("the bytes and EOF"), b"tokio bytes");
}

#[test]
fn try_recv_would_block_then_readable_then_data() {
    let (_sim, a, b) = two_hosts(14);
    let server = listener(&b, 7);
    b.spawn(async move {
        let conn = server.accept().await?;
        sock::sleep(Duration::from_millis(100)).await;
        conn.send(b"late").await?;
        conn.recvall().await?; // keep the connection until the client is done
        Ok::<(), sock::Error>(())
    });
    let (first, second) = a
        .run(async {
            let c = connect(7).await?;
            let mut buf = [0u8; 16];
            let first = c.try_recv(&mut buf).map_err(|e| e.kind());
            c.readable().timeout(HANG).await?;
            let n = c.try_recv(&mut buf)?;
            c.close()?;
            Ok::<_, sock::Error>((first, buf[..n].to_vec()))
        })
        .expect("readable, then data");
    assert_eq!(first, Err(ErrorKind::WouldBlock));
    assert_eq!(second, b"late");
}

#[test]
fn poll_send_on_full_buffers_waits_until_the_peer_reads() {
    let (sim, a, b) = two_hosts(15);
    {
        let mut w = sim.world();
        w.set_tcp_buffers(a.id(), 1000, 1000);
        w.set_tcp_buffers(b.id(), 1000, 1000);
    }
    let server = listener(&b, 7);
    let reader = b.spawn(async move {
        let conn = server.accept().await?;
        sock::sleep(Duration::from_millis(500)).await;
        let read_at = sock::clock();
        let total = conn.recvall().timeout(HANG).await?.len();
        Ok::<_, sock::Error>((read_at, total))
    });
    let (queued, waited) = a
        .run(async {
            let c = connect(7).await?;
            let queued = fill(&c).await?;
            assert_eq!(
                c.try_send(b"x").map_err(|e| e.kind()),
                Err(ErrorKind::WouldBlock)
            );
            let start = sock::clock();
            let n = poll_fn(|cx| c.poll_send(cx, b"more")).await?;
            let waited = sock::clock() - start;
            c.shutdown(Shutdown::Write)?;
            Ok::<_, sock::Error>((queued + n, waited))
        })
        .expect("the send went once the peer read");
    let (_read_at, total) = b.run(reader.join()).unwrap().expect("the reader");
    assert_eq!(total, queued, "every byte sent arrived");
    assert!(
        waited >= Duration::from_millis(400),
        "the send waited for the reader's virtual 500 ms sleep, not {waited:?}"
    );
}

/// Sends with `try_send` until the send buffer and the peer's receive buffer are both
/// full (a `WouldBlock` that 50 ms of virtual time does not clear): the bytes queued.
async fn fill(c: &Tcp) -> sock::Result<usize> {
    let chunk = [7u8; 300];
    let mut queued = 0;
    for _ in 0..100 {
        let mut progressed = false;
        for _ in 0..100 {
            match c.try_send(&chunk) {
                Ok(n) => (queued, progressed) = (queued + n, true),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if !progressed && queued > 0 {
            return Ok(queued);
        }
        sock::sleep(Duration::from_millis(50)).await;
    }
    Err(sock::Error::new(
        ErrorKind::Other,
        "the buffers never filled",
    ))
}

#[test]
fn writable_is_ready_on_a_connected_stream() {
    let (_sim, a, b) = two_hosts(16);
    let _server = listener(&b, 7);
    let sent = a.run(async {
        let c = connect(7).await?;
        c.writable().timeout(HANG).await?;
        c.try_send(b"x")
    });
    assert_eq!(sent.expect("one byte"), 1);
}

#[test]
fn udp_poll_and_try_calls() {
    let (_sim, a, b) = two_hosts(17);
    let server = b.run(async {
        let u = sock::udp(Family::INET).expect("a simulated socket");
        u.bind("10.0.0.2", 53).expect("bind");
        u
    });
    b.spawn(async move {
        let mut buf = [0u8; 64];
        let (n, from) = poll_fn(|cx| server.poll_recv_from(cx, &mut buf)).await?;
        poll_fn(|cx| server.poll_send_to(cx, &buf[..n], &from)).await?;
        Ok::<(), sock::Error>(())
    });
    let (first, reply) = a
        .run(async {
            let u = sock::udp(Family::INET)?;
            u.connect("10.0.0.2", 53).await?;
            let mut buf = [0u8; 64];
            let first = u.try_recv(&mut buf).map_err(|e| e.kind());
            assert_eq!(u.try_send(b"ping")?, 4);
            let n = poll_fn(|cx| u.poll_recv(cx, &mut buf)).await?;
            Ok::<_, sock::Error>((first, buf[..n].to_vec()))
        })
        .expect("a reply");
    assert_eq!(first, Err(ErrorKind::WouldBlock));
    assert_eq!(reply, b"ping");
}

#[test]
fn poll_calls_on_a_closed_simulated_socket_fail_with_closed() {
    let (_sim, a, _b) = two_hosts(18);
    let kinds = a.run(async {
        let c = sock::tcp(Family::INET).expect("a simulated socket");
        c.close().expect("close");
        let mut buf = [0u8; 4];
        let recv = poll_fn(|cx| c.poll_recv(cx, &mut buf)).await.unwrap_err();
        let send = c.try_send(b"x").unwrap_err();
        (recv.kind(), send.kind())
    });
    assert_eq!(kinds, (ErrorKind::Closed, ErrorKind::Closed));
}

#[test]
fn options_read_back_as_set() {
    let (_sim, a, _b) = two_hosts(21);
    let got = a.run(async {
        let t = sock::tcp(Family::INET)?;
        let before = (t.getopt("tcp_nodelay")?, t.getopt("ip_ttl")?);
        t.set_nodelay(true)?;
        t.setopt("so_keepalive", true)?;
        t.setopt("IP_TTL", 7)?;
        t.setopt("so_linger", 0)?;
        let after = [
            t.getopt("tcp_nodelay")?,
            t.getopt("so_keepalive")?,
            t.getopt("ip_ttl")?,
            t.getopt("so_linger")?,
            t.getopt("so_type")?,
        ];
        let u = sock::udp(Family::INET)?;
        u.setopt("so_broadcast", true)?;
        Ok::<_, sock::Error>((
            before,
            after,
            u.getopt("so_broadcast")?,
            u.getopt("so_type")?,
        ))
    });
    let (before, after, broadcast, udp_type) = got.expect("options");
    use sock::io::OptValue::{Bool, Int, Linger};
    assert_eq!(before, (Bool(false), Int(64)));
    assert_eq!(
        after,
        [
            Bool(true),
            Bool(true),
            Int(7),
            Linger(Some(Duration::ZERO)),
            Int(1)
        ]
    );
    assert_eq!((broadcast, udp_type), (Bool(true), Int(2)));
}

#[test]
fn options_without_a_meaning_fail_clearly() {
    let (_sim, a, _b) = two_hosts(22);
    let kinds = a.run(async {
        let t = sock::tcp(Family::INET).expect("a simulated socket");
        let u = sock::udp(Family::INET).expect("a simulated socket");
        let kind = |r: sock::Result<()>| r.map_err(|e| e.kind());
        [
            kind(t.setopt("so_nonsense", 1)),
            kind(t.setopt("so_debug", true)),
            kind(t.getopt("so_debug").map(drop)),
            kind(u.setopt("tcp_nodelay", true)),
            kind(t.setopt("so_linger", 5)),
            kind(t.setopt("so_error", 1)),
            kind(t.setopt("tcp_nodelay", sock::io::OptValue::Linger(None))),
        ]
    });
    use ErrorKind::{InvalidInput, Unsupported};
    assert_eq!(
        kinds,
        [
            Err(InvalidInput),
            Err(Unsupported),
            Err(Unsupported),
            Err(Unsupported),
            Err(InvalidInput),
            Err(InvalidInput),
            Err(InvalidInput),
        ]
    );
}

#[test]
fn buffer_options_set_the_models_buffers() {
    let (_sim, a, b) = two_hosts(23);
    let server = b.run(async {
        let l = sock::tcp(Family::INET).expect("a simulated socket");
        l.setopt("so_rcvbuf", 100).expect("so_rcvbuf");
        l.listen("10.0.0.2", 7).expect("listen");
        l
    });
    let accepted = b.spawn(async move {
        let conn = server.accept().await?;
        let rcvbuf = conn.getopt("so_rcvbuf")?;
        sock::sleep(Duration::from_secs(1)).await;
        let total = conn.recvall().timeout(HANG).await?.len();
        Ok::<_, sock::Error>((rcvbuf, total))
    });
    let (sndbuf, queued) = a
        .run(async {
            let c = sock::tcp(Family::INET)?;
            c.setopt("so_sndbuf", 200)?;
            c.connect("10.0.0.2", 7).timeout(HANG).await?;
            let queued = fill(&c).await?;
            c.shutdown(Shutdown::Write)?;
            Ok::<_, sock::Error>((c.getopt("so_sndbuf")?, queued))
        })
        .expect("filled");
    let (rcvbuf, total) = b.run(accepted.join()).unwrap().expect("the reader");
    use sock::io::OptValue::Int;
    assert_eq!((sndbuf, rcvbuf), (Int(200), Int(100)));
    assert!(
        queued <= 300,
        "a 200-byte send buffer and a 100-byte window took {queued} bytes"
    );
    assert_eq!(total, queued);
}

#[test]
fn stream_recv_with_peek_waitall_and_oob() {
    let (_sim, a, b) = two_hosts(31);
    let server = listener(&b, 7);
    b.spawn(async move {
        let conn = server.accept().await?;
        conn.send(b"GET").await?;
        sock::sleep(Duration::from_millis(100)).await;
        conn.send(b" /index").await?;
        conn.shutdown(Shutdown::Write)
    });
    let got = a.run(async {
        let c = connect(7).await?;
        let mut peeked = [0u8; 16];
        let n = c
            .recv_with(&mut peeked, RecvFlags::PEEK)
            .timeout(HANG)
            .await?;
        let peeked = peeked[..n].to_vec();
        let mut all = [0u8; 6];
        let n_all = c
            .recv_with(&mut all, RecvFlags::WAITALL)
            .timeout(HANG)
            .await?;
        let oob = c
            .recv_with(&mut [0u8; 1], RecvFlags::OOB)
            .await
            .map_err(|e| e.kind());
        let both = RecvFlags::PEEK | RecvFlags::WAITALL;
        let bad = c.recv_with(&mut [0u8; 1], both).await.map_err(|e| e.kind());
        let rest = c.recvall().timeout(HANG).await?;
        Ok::<_, sock::Error>((peeked, all[..n_all].to_vec(), oob, bad, rest))
    });
    let (peeked, all, oob, bad, rest) = got.expect("the receives");
    assert_eq!(peeked, b"GET", "the peek saw what had come");
    assert_eq!(all, b"GET /i", "waitall waited for the second send");
    assert_eq!(
        oob,
        Err(ErrorKind::InvalidInput),
        "no urgent byte in the model"
    );
    assert_eq!(bad, Err(ErrorKind::InvalidInput));
    assert_eq!(rest, b"ndex", "the peek left its bytes for the reads");
}

#[test]
fn datagram_recv_with_peek_and_trunc() {
    if !cfg!(target_os = "linux") {
        return; // TRUNC is Linux's, on the OS path and so in the sim
    }
    let (_sim, a, b) = two_hosts(32);
    let server = b.run(async {
        let u = sock::udp(Family::INET).expect("a simulated socket");
        u.bind("10.0.0.2", 53).expect("bind");
        u
    });
    a.spawn(async move {
        let u = sock::udp(Family::INET)?;
        u.send_to(
            b"twelve bytes",
            &"10.0.0.2:53".parse::<std::net::SocketAddr>().unwrap(),
        )
        .await?;
        u.send_to(
            b"second",
            &"10.0.0.2:53".parse::<std::net::SocketAddr>().unwrap(),
        )
        .await?;
        Ok::<(), sock::Error>(())
    });
    let got = b.run(async move {
        let mut none = [0u8; 0];
        let size = server
            .recv_with(&mut none, RecvFlags::PEEK | RecvFlags::TRUNC)
            .timeout(HANG)
            .await?;
        let mut peek = [0u8; 32];
        let (n, from) = server.recv_from_with(&mut peek, RecvFlags::PEEK).await?;
        let mut short = [0u8; 6];
        let e = server.recv(&mut short).await.unwrap_err();
        let mut buf = [0u8; 3];
        let real = server
            .recv_with(&mut buf, RecvFlags::TRUNC)
            .timeout(HANG)
            .await?;
        let waitall = server
            .recv_with(&mut buf, RecvFlags::WAITALL)
            .await
            .map_err(|e| e.kind());
        Ok::<_, sock::Error>((
            size,
            peek[..n].to_vec(),
            from,
            (e.kind(), e.transferred()),
            real,
            buf,
            waitall,
        ))
    });
    let (size, peeked, from, short, real, buf, waitall) = got.expect("the receives");
    assert_eq!(size, 12, "peek|trunc: the next datagram's size");
    assert_eq!(peeked, b"twelve bytes");
    assert_eq!(from.to_string().split(':').next(), Some("10.0.0.1"));
    assert_eq!(
        short,
        (ErrorKind::MessageTooLong, 6),
        "the peeked datagram, again"
    );
    assert_eq!(
        (real, &buf),
        (6, b"sec"),
        "trunc: the real length, no error"
    );
    assert_eq!(waitall, Err(ErrorKind::InvalidInput));
}

#[test]
fn copy_bidirectional_proxies_between_simulated_hosts() {
    let (sim, a, b) = two_hosts(41);
    let c = sim.add_host("c", &[ip("10.0.0.3")]);
    let upstream = c.run(async {
        let l = sock::tcp(Family::INET).expect("a simulated socket");
        l.listen("10.0.0.3", 9).expect("listen");
        l
    });
    c.spawn(async move {
        let conn = upstream.accept().await?;
        let data = conn.recvall().await?;
        conn.send(&data).await?;
        conn.shutdown(Shutdown::Write)
    });
    let front = listener(&b, 7);
    let proxy = b.spawn(async move {
        let client = front.accept().await?;
        let up = sock::tcp(Family::INET)?;
        up.connect("10.0.0.3", 9).timeout(HANG).await?;
        let copied = sock::io::copy_bidirectional(&client, &up)
            .timeout(HANG)
            .await?;
        Ok::<_, sock::Error>((copied.a_to_b, copied.b_to_a))
    });
    let msg = vec![9u8; 100_000];
    let reply = a.run(async {
        let conn = connect(7).await?;
        conn.send(&msg).await?;
        conn.shutdown(Shutdown::Write)?;
        conn.recvall().timeout(HANG).await
    });
    assert_eq!(reply.expect("the echo through the proxy"), msg);
    let copied = b.run(proxy.join()).unwrap().expect("the proxy");
    assert_eq!(copied, (100_000, 100_000));
}

#[test]
fn datagram_batches_between_simulated_hosts() {
    use sock::io::Datagram;
    let (_sim, a, b) = two_hosts(51);
    let receiver = b.run(async {
        let u = sock::udp(Family::INET).expect("a simulated socket");
        u.bind("10.0.0.2", 53).expect("bind");
        u
    });
    let sent = a.run(async {
        let u = sock::udp(Family::INET)?;
        let to: std::net::SocketAddr = "10.0.0.2:53".parse().unwrap();
        let mut out = vec![Datagram::with_capacity(32); 3];
        for (d, bytes) in out.iter_mut().zip([&b"one"[..], b"two", b"a longer third"]) {
            d.set(bytes, to.into());
        }
        let none = u
            .send_batch(&[Datagram::with_capacity(4)])
            .await
            .map_err(|e| e.kind());
        let mut sent = 0;
        for _ in 0..10 {
            if sent == out.len() {
                break;
            }
            sent += u.send_batch(&out[sent..]).timeout(HANG).await?;
        }
        Ok::<_, sock::Error>((sent, none))
    });
    let (sent, none) = sent.expect("sent");
    assert_eq!(sent, 3);
    assert_eq!(
        none,
        Err(ErrorKind::InvalidInput),
        "a datagram without an address"
    );
    let got = b.run(async move {
        let mut batch = vec![Datagram::with_capacity(8); 4];
        let mut got = Vec::new();
        for _ in 0..10 {
            if got.len() == 3 {
                break;
            }
            let n = receiver.recv_batch(&mut batch).timeout(HANG).await?;
            got.extend(
                batch[..n]
                    .iter()
                    .map(|d| (d.data().to_vec(), d.is_truncated())),
            );
        }
        Ok::<_, sock::Error>(got)
    });
    let got = got.expect("received");
    assert_eq!(
        got,
        [
            (b"one".to_vec(), false),
            (b"two".to_vec(), false),
            (b"a longer".to_vec(), true)
        ]
    );
}

#[test]
fn hyper_rt_traits_on_a_simulated_stream() {
    use hyper::rt::{Read, ReadBuf, Write};
    let (_sim, a, b) = two_hosts(61);
    let server = listener(&b, 80);
    b.spawn(async move {
        let mut s = server.accept().await?;
        poll_fn(|cx| Pin::new(&mut s).poll_write(cx, b"HTTP/1.1 200 OK\r\n\r\n")).await?;
        poll_fn(|cx| Pin::new(&mut s).poll_shutdown(cx)).await?;
        Ok::<(), std::io::Error>(())
    });
    let got = a.run(async {
        let mut c = connect(80).await?;
        let mut raw = [std::mem::MaybeUninit::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut raw);
        for _ in 0..100 {
            let before = buf.filled().len();
            poll_fn(|cx| Pin::new(&mut c).poll_read(cx, buf.unfilled())).await?;
            if buf.filled().len() == before {
                return Ok::<_, std::io::Error>(buf.filled().to_vec());
            }
        }
        Err(std::io::Error::other("no end of stream after 100 reads"))
    });
    assert_eq!(got.expect("the response"), b"HTTP/1.1 200 OK\r\n\r\n");
}

#[cfg(unix)]
#[test]
fn an_os_handle_of_a_simulated_socket_panics_clearly() {
    use std::os::fd::AsRawFd;
    let (_sim, a, _b) = two_hosts(62);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        a.run(async { sock::tcp(Family::INET).map(|t| t.as_raw_fd()) })
    }));
    let payload = r.expect_err("a simulated socket has no fd");
    let msg = payload.downcast_ref::<String>().expect("a message");
    assert!(
        msg.contains("OS handle") && msg.contains("not simulated"),
        "{msg}"
    );
}

#[test]
fn a_listener_reads_back_so_reuseaddr_as_on_the_os() {
    let os = sock::run(async {
        let l = sock::tcp(Family::INET)?;
        l.listen("127.0.0.1", 0)?;
        l.getopt("so_reuseaddr")
    });
    let (_sim, _a, b) = two_hosts(63);
    let sim = b.run(async {
        let l = sock::tcp(Family::INET)?;
        l.listen("10.0.0.2", 7)?;
        l.getopt("so_reuseaddr")
    });
    assert_eq!(sim.expect("sim getopt"), os.expect("os getopt"));
}

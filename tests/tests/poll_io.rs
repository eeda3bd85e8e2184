//! Poll-level I/O, halves and the ecosystem's I/O traits on sock streams: what hyper,
//! rustls or a codec would call, over real loopback sockets.

use std::future::poll_fn;
use std::time::Duration;

use sock::{ErrorKind, Expires, Family, Tcp};
use sock_tests::{PATIENCE, listener};

/// A connected pair (client, server side).
async fn pair() -> (Tcp, Tcp) {
    let (server, port) = listener(Family::INET);
    let client = sock::tcp(Family::INET).unwrap();
    client
        .connect("127.0.0.1", port)
        .timeout(PATIENCE)
        .await
        .unwrap();
    (client, server.accept().timeout(PATIENCE).await.unwrap())
}

#[test]
fn poll_recv_and_poll_send_move_every_byte() {
    sock::run(async {
        let (a, b) = pair().await;
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sender = {
            let data = data.clone();
            sock::spawn(async move {
                let mut sent = 0;
                while sent < data.len() {
                    sent += poll_fn(|cx| a.poll_send(cx, &data[sent..])).await.unwrap();
                }
                a.shutdown(sock::Shutdown::Write).unwrap();
            })
        };
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        sender.join().await.unwrap();
        assert_eq!(got, data);
    });
}

#[test]
fn try_calls_say_would_block_and_never_wait() {
    sock::run(async {
        let (a, b) = pair().await;
        let mut buf = [0u8; 8];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.writable().timeout(PATIENCE).await.unwrap();
        assert_eq!(a.try_send(b"abc").unwrap(), 3);
        b.readable().timeout(PATIENCE).await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // Fill the send buffer: try_send then says WouldBlock instead of waiting.
        let chunk = vec![0u8; 1 << 16];
        let mut full = false;
        for _ in 0..10_000 {
            match a.try_send(&chunk) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    full = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(full, "the send buffer never filled");
    });
}

/// `readable` + `try_recv`, the echo server's loop: a read that filled the buffer
/// leaves the direction worth a try (the rest comes at once), a short one drains it
/// (the next try says `WouldBlock` and `readable` waits for new data, which it sees).
#[test]
fn try_recv_after_readable_reads_everything_and_then_waits() {
    sock::run(async {
        let (a, b) = pair().await;
        let a = std::rc::Rc::new(a);
        let mut buf = [0u8; 8];
        a.send(b"0123456789").timeout(PATIENCE).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 10 {
            b.readable().timeout(PATIENCE).await.unwrap();
            match b.try_recv(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
            }
        }
        assert_eq!(got, b"0123456789");
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // New data after a drained read: `readable` must not miss its event.
        for round in 0..50u8 {
            let writer = sock::spawn({
                let a = a.clone();
                async move { a.send(&[round; 3]).await }
            });
            b.readable().timeout(PATIENCE).await.unwrap();
            assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
            assert_eq!(buf[..3], [round; 3]);
            writer.join().await.unwrap().unwrap();
        }
    });
}

/// A reset reaches `try_recv` as the error (not as `WouldBlock`), and the call after
/// it asks the OS again rather than trusting a cleared flag.
#[test]
fn try_recv_reports_a_peer_reset() {
    sock::run(async {
        let (client, server) = pair().await;
        server.setopt("so_linger", 0).unwrap();
        server.close().unwrap(); // RST
        let mut buf = [0u8; 8];
        // `readable` may report the reset itself (a pending socket error, which the
        // OS then forgets: the read after it sees the end of the stream).
        let mut reset = false;
        if let Err(e) = client.readable().timeout(PATIENCE).await {
            assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
            reset = true;
        }
        match client.try_recv(&mut buf) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => assert!(
                n == 0 && (reset || cfg!(windows)),
                "read {n} bytes, reset {reset}"
            ),
        }
        match client.try_recv(&mut buf) {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_ne!(e.kind(), ErrorKind::WouldBlock, "{e}"),
        }
    });
}

/// `try_send` into a full buffer says `WouldBlock`; `writable` then waits until the
/// peer reads, and the next `try_send` goes through.
#[test]
fn try_send_on_a_full_buffer_waits_with_writable() {
    sock::run(async {
        let (a, b) = pair().await;
        let chunk = vec![7u8; 1 << 16];
        let mut sent = 0usize;
        let mut full = false;
        for _ in 0..10_000 {
            match a.try_send(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    full = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(full, "the send buffer never filled");
        let reader = sock::spawn(async move {
            let mut buf = vec![0u8; 1 << 16];
            let mut got = 0usize;
            while got < sent + 5 {
                let n = b.recv(&mut buf).timeout(PATIENCE).await.unwrap();
                assert!(n > 0, "end of stream after {got} of {} bytes", sent + 5);
                got += n;
            }
            got
        });
        let mut tail = &b"tail!"[..];
        while !tail.is_empty() {
            a.writable().timeout(PATIENCE).await.unwrap();
            match a.try_send(tail) {
                Ok(n) => tail = &tail[n..],
                Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
            }
        }
        assert_eq!(reader.join().await.unwrap(), sent + 5);
    });
}

#[test]
fn owned_halves_serve_a_reader_and_a_writer_task() {
    sock::run(async {
        let (client, server) = pair().await;
        let (r, w) = server.into_split();
        let echo = sock::spawn(async move {
            let mut buf = [0u8; 1024];
            loop {
                let n = r.recv(&mut buf).await?;
                if n == 0 {
                    return w.shutdown_write();
                }
                w.send(&buf[..n]).await?;
            }
        });
        let (cr, cw) = client.split();
        let msg: Vec<u8> = (0..50_000u32).map(|i| (i % 13) as u8).collect();
        let mut back = vec![0u8; msg.len()];
        let write = async {
            cw.send(&msg).await?;
            cw.shutdown_write()
        };
        let (w, r) = futures_lite::future::zip(write, cr.recvn(&mut back)).await;
        w.unwrap();
        r.unwrap();
        assert_eq!(back, msg);
        echo.join().await.unwrap().unwrap();
    });
}

#[test]
fn datagram_poll_calls_carry_addresses() {
    sock::run(async {
        let a = sock::udp(Family::INET).unwrap();
        a.bind("127.0.0.1", 0).unwrap();
        let b = sock::udp(Family::INET).unwrap();
        b.bind("127.0.0.1", 0).unwrap();
        let to = a.local_addr().unwrap();
        poll_fn(|cx| b.poll_send_to(cx, b"datagram", &to))
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"datagram");
        assert_eq!(from.port(), b.local_addr().unwrap().port());
        assert_eq!(
            a.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn futures_io_traits_echo() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    sock::run(async {
        let (mut a, mut b) = pair().await;
        a.write_all(b"through futures-io").await.unwrap();
        AsyncWriteExt::close(&mut a).await.unwrap(); // not Tcp::close
        let mut got = String::new();
        b.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "through futures-io");
    });
}

#[test]
fn tokio_io_traits_echo() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    sock::run(async {
        let (a, b) = pair().await;
        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        aw.write_all(b"through tokio-io").await.unwrap();
        aw.shutdown().await.unwrap();
        let mut got = Vec::new();
        br.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"through tokio-io");
        bw.write_all(b"back").await.unwrap();
        let mut buf = [0u8; 4];
        ar.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
    });
}

#[test]
fn a_poll_recv_moved_to_another_task_wakes_the_new_one() {
    sock::run(async {
        let (a, b) = pair().await;
        let b = std::rc::Rc::new(b);
        let b2 = b.clone();
        // Task 1 polls once and gives up; task 2 then waits: it must be the one woken.
        let first = sock::spawn(async move {
            let mut buf = [0u8; 4];
            let polled = futures_lite::future::poll_once(poll_fn(|cx| b2.poll_recv(cx, &mut buf)));
            assert!(polled.await.is_none());
        });
        first.join().await.unwrap();
        let second = sock::spawn(async move {
            let mut buf = [0u8; 4];
            poll_fn(|cx| b.poll_recv(cx, &mut buf)).await
        });
        sock::sleep(Duration::from_millis(10)).await;
        a.send(b"wake").await.unwrap();
        let n = second.join().await.unwrap().unwrap();
        assert_eq!(n, 4);
    });
}

/// The I/O traits' shutdown of a stream whose peer reset it is a success, as tokio's
/// `TcpStream` reports it (the writing side is as shut as it gets), while
/// `Tcp::shutdown` itself says `NotConnected`.
#[test]
fn trait_shutdown_after_a_peer_reset_succeeds() {
    sock::run(async {
        for via_tokio in [true, false] {
            let (mut client, server) = pair().await;
            server.setopt("so_linger", 0).unwrap();
            server.close().unwrap(); // RST
            let mut buf = [0u8; 8];
            // The reset reaches the reader (Wine reports it as an end of stream).
            match client.recv(&mut buf).timeout(PATIENCE).await {
                Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
                Ok(n) => assert!(cfg!(windows) && n == 0, "read {n} bytes after a reset"),
            }
            // Linux refuses the raw call with ENOTCONN; Windows (Wine at least) accepts
            // it, so only the traits' answer is the same everywhere.
            #[cfg(unix)]
            {
                let raw = client.shutdown(sock::Shutdown::Write).unwrap_err();
                assert_eq!(raw.kind(), ErrorKind::NotConnected, "{raw}");
            }
            if via_tokio {
                tokio::io::AsyncWriteExt::shutdown(&mut client)
                    .await
                    .unwrap();
            } else {
                futures_lite::io::AsyncWriteExt::close(&mut client)
                    .await
                    .unwrap();
            }
        }
    });
}

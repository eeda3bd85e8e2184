//! Poll-level I/O, halves and the ecosystem's I/O traits on the shared-poller mode's
//! sockets (issue 14, items 1–3 for `SharedTcp`/`SharedUdp`), over real loopback
//! sockets: a poll-level echo, `try_` calls that say `WouldBlock` and never wait,
//! `readable` parking until data comes, owned halves in a reader and a writer task
//! moving 4 MiB each way, `futures-io` and `tokio-io` echoes and their close, a pending
//! send that took nothing, the poll-level waiter moving between tasks, datagrams with
//! their addresses — and no allocation per poll-level round trip.
//!
//! Each test runs on a fresh `SharedLoop` with two workers (the test thread and one
//! more), so events and tasks really cross threads; the allocation test runs on one
//! worker, the test thread, where the counting allocator sees everything.

#![cfg(any(target_os = "linux", windows))]

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use sock::sched::mt;
use sock::shared::{SharedLoop, SharedTcp, SharedUdp};
use sock::{ErrorKind, Expires, Family, Shutdown};
use sock_tests::alloc::{Counting, allocs};
use sock_tests::{PATIENCE, on_shared_loop};

/// Counts allocations per OS thread.
#[global_allocator]
static ALLOC: Counting = Counting;

/// A deadline that a wait with nothing to wait for surely misses.
const SHORT: Duration = Duration::from_millis(20);

/// A connected pair: (client, accepted).
async fn pair() -> sock::Result<(SharedTcp, SharedTcp)> {
    let server = SharedTcp::new(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let addr = server.local_addr()?;
    let accepted = mt::spawn(async move { server.accept().timeout(PATIENCE).await });
    let client = SharedTcp::new(Family::INET)?;
    client.connect_to(&addr).timeout(PATIENCE).await?;
    Ok((client, accepted.await?))
}

/// `len` bytes of a pattern (no byte is 0xFF) that shows reordering and loss.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Sends all of `data` with `poll_send` (through `send`, e.g. a half's), flushes, and
/// shuts the writing direction down.
async fn send_all_level<S>(send: S, data: &[u8]) -> sock::Result<()>
where
    S: Fn(&mut std::task::Context<'_>, &[u8]) -> Poll<sock::Result<usize>>,
{
    let mut sent = 0;
    while sent < data.len() {
        sent += poll_fn(|cx| send(cx, &data[sent..])).await?;
    }
    Ok(())
}

/// Reads with `poll_recv` (through `recv`) until the peer closes; everything it sent.
async fn recv_all_level<R>(recv: R) -> sock::Result<Vec<u8>>
where
    R: Fn(&mut std::task::Context<'_>, &mut [u8]) -> Poll<sock::Result<usize>>,
{
    let (mut all, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    loop {
        match poll_fn(|cx| recv(cx, &mut buf)).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// Flushes `s` and shuts its writing direction down.
async fn close_level(s: &SharedTcp) -> sock::Result<()> {
    poll_fn(|cx| s.poll_flush(cx)).await?;
    s.shutdown(Shutdown::Write)
}

/// Echoes with the poll-level calls until the peer closes, then closes its side.
async fn echo_level(conn: SharedTcp) -> sock::Result<()> {
    let mut buf = [0u8; 8 * 1024];
    loop {
        let n = poll_fn(|cx| conn.poll_recv(cx, &mut buf)).await?;
        if n == 0 {
            return close_level(&conn).await;
        }
        send_all_level(|cx, b| conn.poll_send(cx, b), &buf[..n]).await?;
    }
}

/// Asserts `got` is `want`, naming the first byte that differs.
fn assert_same(got: &[u8], want: &[u8], what: &str) {
    let first = got.iter().zip(want).position(|(g, w)| g != w);
    assert!(
        got.len() == want.len() && first.is_none(),
        "{what}: {} of {} bytes, first difference at {first:?}",
        got.len(),
        want.len()
    );
}

/// Polls `fut` once in the running task, which becomes its waiter; it back if pending.
async fn poll_once<F: Future + Unpin>(mut fut: F) -> Option<F> {
    let pending = poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx).is_pending())).await;
    pending.then_some(fut)
}

#[test]
fn a_poll_level_echo_moves_every_byte_across_workers() {
    let (got, data) = on_shared_loop(async {
        sock::shared::timeout(PATIENCE, async {
            let (client, server) = pair().await?;
            let echo = mt::spawn(echo_level(server));
            let data = pattern(300_000);
            let writer = {
                let (client, data) = (client.clone(), data.clone());
                mt::spawn(async move {
                    send_all_level(|cx, b| client.poll_send(cx, b), &data).await?;
                    close_level(&client).await
                })
            };
            let got = recv_all_level(|cx, b| client.poll_recv(cx, b)).await?;
            writer.await?;
            echo.await?;
            Ok((got, data))
        })
        .await
    });
    assert_same(&got, &data, "the echo");
}

#[test]
fn try_calls_say_would_block_on_an_idle_socket_then_move_bytes() {
    let (idle, again, got) = on_shared_loop(async {
        let (client, server) = pair().await?;
        let mut buf = [0u8; 16];
        let idle = server.try_recv(&mut buf).unwrap_err().kind();
        let again = server.try_recv(&mut buf).unwrap_err().kind();
        client.writable().timeout(PATIENCE).await?;
        let mut sent = 0;
        while sent < 5 {
            match client.try_send(&b"hello"[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    client.writable().timeout(PATIENCE).await?;
                }
                Err(e) => return Err(e),
            }
        }
        let mut got = Vec::new();
        while got.len() < 5 {
            match server.try_recv(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    server.readable().timeout(PATIENCE).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok((idle, again, got))
    });
    assert_eq!(
        (idle, again),
        (ErrorKind::WouldBlock, ErrorKind::WouldBlock)
    );
    assert_eq!(got, b"hello");
}

#[test]
fn readable_parks_until_data_arrives_and_takes_a_deadline() {
    let (timed_out, got) = on_shared_loop(async {
        let (client, server) = pair().await?;
        let e = server.readable().timeout(SHORT).await.unwrap_err();
        let timed_out = (e.kind(), e.to_string().contains("readable"));
        let readable = poll_once(server.readable())
            .await
            .expect("nothing was sent: readable parks");
        client.send(b"x").timeout(PATIENCE).await?;
        readable.timeout(PATIENCE).await?;
        let mut buf = [0u8; 4];
        let n = server.recv(&mut buf).timeout(PATIENCE).await?;
        Ok((timed_out, buf[..n].to_vec()))
    });
    assert_eq!(timed_out, (ErrorKind::Timeout, true));
    assert_eq!(got, b"x");
}

#[test]
fn owned_halves_move_four_megabytes_each_way_in_reader_and_writer_tasks() {
    let (a_got, b_got, data) = on_shared_loop(async {
        sock::shared::timeout(PATIENCE * 3, async {
            let (a, b) = pair().await?;
            let data = pattern(4 << 20);
            let (ar, aw) = a.into_split();
            let (br, bw) = b.into_split();
            let mut writers = Vec::new();
            for w in [aw, bw] {
                let data = data.clone();
                writers.push(mt::spawn(async move {
                    send_all_level(|cx, b| w.poll_send(cx, b), &data).await?;
                    poll_fn(|cx| w.poll_flush(cx)).await?;
                    w.shutdown_write()
                }));
            }
            let a_reader =
                mt::spawn(async move { recv_all_level(|cx, b| ar.poll_recv(cx, b)).await });
            let b_got = recv_all_level(|cx, b| br.poll_recv(cx, b)).await?;
            for w in writers {
                w.await?;
            }
            Ok((a_reader.await?, b_got, data))
        })
        .await
    });
    assert_same(&a_got, &data, "a's reader");
    assert_same(&b_got, &data, "b's reader");
}

#[test]
fn a_send_that_pends_takes_nothing() {
    // A sender whose peer does not read fills the socket until `poll_send` pends; it
    // then sends other bytes. The peer must get exactly what was counted, then those.
    let (got, want) = on_shared_loop(async {
        sock::shared::timeout(PATIENCE, async {
            let (client, server) = pair().await?;
            let chunk = pattern(64 * 1024);
            let mut want = Vec::new();
            for _ in 0..1024 {
                match poll_fn(|cx| Poll::Ready(client.poll_send(cx, &chunk))).await {
                    Poll::Ready(n) => want.extend_from_slice(&chunk[..n?]),
                    Poll::Pending => break,
                }
            }
            assert!(want.len() < 1024 * chunk.len(), "the peer never filled up");
            let reader =
                mt::spawn(async move { recv_all_level(|cx, b| server.poll_recv(cx, b)).await });
            let tail = [0xFFu8; 1000];
            send_all_level(|cx, b| client.poll_send(cx, b), &tail).await?;
            want.extend_from_slice(&tail);
            close_level(&client).await?;
            Ok((reader.await?, want))
        })
        .await
    });
    assert_same(&got, &want, "the peer");
}

#[test]
fn a_poll_recv_moved_to_another_task_wakes_the_new_one() {
    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        let mut buf = [0u8; 4];
        let first = poll_fn(|cx| Poll::Ready(server.poll_recv(cx, &mut buf).is_pending())).await;
        assert!(first, "nothing was sent: poll_recv parks");
        let next = mt::spawn(async move {
            let mut buf = [0u8; 4];
            let n = sock::shared::timeout(PATIENCE, poll_fn(|cx| server.poll_recv(cx, &mut buf)))
                .await?;
            Ok::<_, sock::Error>(buf[..n].to_vec())
        });
        mt::sleep(SHORT).await; // `next` has taken the waiter over by now, or takes it
        client.send(b"ab").timeout(PATIENCE).await?;
        next.await
    });
    assert_eq!(got, b"ab");
}

#[test]
#[should_panic(expected = "two tasks wait")]
fn a_poll_recv_while_another_tasks_recv_waits_panics() {
    on_shared_loop(async {
        let (_client, server) = pair().await?;
        let waiting = server.clone();
        let mut buf = [0u8; 1];
        let recv = poll_once(waiting.recv(&mut buf))
            .await
            .expect("nothing was sent");
        let other = mt::spawn(async move {
            let mut buf = [0u8; 1];
            poll_fn(|cx| server.poll_recv(cx, &mut buf)).await
        });
        other.await?;
        drop(recv);
        Ok(())
    });
}

/// The echo's two ends, written against one crate's `AsyncReadExt`/`AsyncWriteExt`,
/// over a `SharedTcp` (the client) and owned halves (the server).
macro_rules! trait_echo {
    ($name:ident, $read:path, $write:path, $close:ident) => {
        mod $name {
            use std::io;

            use sock::shared::SharedTcp;
            use $read;
            use $write as AsyncWriteExt;

            /// Echoes through the halves until the peer closes, then closes its side.
            pub(crate) async fn serve(conn: SharedTcp) -> io::Result<()> {
                let (mut r, mut w) = conn.into_split();
                let mut buf = [0u8; 4096];
                loop {
                    let n = r.read(&mut buf).await?;
                    if n == 0 {
                        return AsyncWriteExt::$close(&mut w).await;
                    }
                    w.write_all(&buf[..n]).await?;
                    w.flush().await?;
                }
            }

            /// Sends each message, reads its echo back; then closes and reads the end.
            pub(crate) async fn client(mut c: SharedTcp, msgs: &[Vec<u8>]) -> io::Result<usize> {
                for msg in msgs {
                    c.write_all(msg).await?;
                    let mut back = vec![0u8; msg.len()];
                    c.read_exact(&mut back).await?;
                    assert_eq!(&back, msg, "the echo");
                }
                AsyncWriteExt::$close(&mut c).await?; // not SharedTcp's own close
                let mut rest = [0u8; 8];
                c.read(&mut rest).await
            }
        }
    };
}

trait_echo!(
    futures_side,
    futures_lite::io::AsyncReadExt,
    futures_lite::io::AsyncWriteExt,
    close
);
trait_echo!(
    tokio_side,
    tokio::io::AsyncReadExt,
    tokio::io::AsyncWriteExt,
    shutdown
);

/// Messages of many sizes, one past the 64 KiB a Windows send takes at once.
fn messages() -> Vec<Vec<u8>> {
    [1, 100, 4096, 70_000].iter().map(|&n| pattern(n)).collect()
}

#[test]
fn futures_io_traits_echo_and_close_gives_the_peer_eof() {
    let end = on_shared_loop(async {
        let (client, server) = pair().await?;
        let server = mt::spawn(futures_side::serve(server));
        let end = futures_side::client(client, &messages()).await?;
        server.await?;
        Ok(end)
    });
    assert_eq!(end, 0, "the peer's close reads as the end");
}

#[test]
fn tokio_io_traits_echo_and_shutdown_gives_the_peer_eof() {
    let end = on_shared_loop(async {
        let (client, server) = pair().await?;
        let server = mt::spawn(tokio_side::serve(server));
        let end = tokio_side::client(client, &messages()).await?;
        server.await?;
        Ok(end)
    });
    assert_eq!(end, 0, "the peer's shutdown reads as the end");
}

#[test]
fn poll_close_gives_the_peer_the_bytes_then_eof() {
    use futures_lite::io::AsyncWriteExt;

    let (got, end) = on_shared_loop(async {
        let (mut client, server) = pair().await?;
        client.write_all(b"bye").await?;
        AsyncWriteExt::close(&mut client).await?; // not SharedTcp's own close
        let mut buf = [0u8; 8];
        let mut got = Vec::new();
        while got.len() < 3 {
            match server.recv(&mut buf).timeout(PATIENCE).await? {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        Ok((got, server.recv(&mut buf).timeout(PATIENCE).await?))
    });
    assert_eq!((got.as_slice(), end), (&b"bye"[..], 0));
}

#[test]
fn owned_halves_through_hyper_rt_traits() {
    use hyper::rt::{Read, ReadBuf, Write};

    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        let (_, mut w) = client.into_split();
        let (mut r, _) = server.into_split();
        let n = poll_fn(|cx| Pin::new(&mut w).poll_write(cx, b"over hyper")).await?;
        assert_eq!(n, 10);
        poll_fn(|cx| Pin::new(&mut w).poll_shutdown(cx)).await?;
        let mut raw = [std::mem::MaybeUninit::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut raw);
        loop {
            let before = buf.filled().len();
            poll_fn(|cx| Pin::new(&mut r).poll_read(cx, buf.unfilled())).await?;
            if buf.filled().len() == before {
                break;
            }
        }
        Ok(buf.filled().to_vec())
    });
    assert_eq!(got, b"over hyper");
}

/// Round trips measured after the warm-up.
const WARM_UP: u64 = 100;
/// Allocations allowed over the measured round trips, whatever their number: a table
/// that grows now and then is not per call.
const SLACK: u64 = 4;

/// Allocations over `rounds` poll-level round trips (8 bytes there and back, both ends
/// poll-level), after [`WARM_UP`] of them, on a loop whose only worker is this thread.
fn allocations_over(rounds: u64) -> u64 {
    let lp = SharedLoop::new().expect("shared loop");
    lp.run(async move {
        let (client, server) = pair().await?;
        let echo = mt::spawn(echo_level(server));
        let trips = async |n: u64| -> sock::Result<()> {
            let mut back = [0u8; 8];
            for i in 0..n {
                let msg = i.to_le_bytes();
                send_all_level(|cx, b| client.poll_send(cx, b), &msg).await?;
                let mut got = 0;
                while got < 8 {
                    got += poll_fn(|cx| client.poll_recv(cx, &mut back[got..])).await?;
                }
                assert_eq!(back, msg, "the echo of round {i}");
            }
            Ok(())
        };
        trips(WARM_UP).await?;
        let before = allocs();
        trips(rounds).await?;
        let made = allocs() - before;
        close_level(&client).await?;
        echo.await?;
        Ok::<_, sock::Error>(made)
    })
    .expect("the round trips")
}

#[test]
fn poll_level_round_trips_allocate_nothing_per_call() {
    let few = allocations_over(100);
    let many = allocations_over(1000);
    assert!(
        few <= SLACK && many <= SLACK,
        "{few} allocations over 100 round trips, {many} over 1000"
    );
}

/// Two bound UDP sockets on loopback.
fn udp_pair() -> sock::Result<(SharedUdp, SharedUdp)> {
    let a = SharedUdp::new(Family::INET)?;
    a.bind("127.0.0.1", 0)?;
    let b = SharedUdp::new(Family::INET)?;
    b.bind("127.0.0.1", 0)?;
    Ok((a, b))
}

#[test]
fn datagram_poll_calls_carry_addresses_across_workers() {
    let (got, from_b, connected) = on_shared_loop(async {
        sock::shared::timeout(PATIENCE, async {
            let (a, b) = udp_pair()?;
            let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
            let echo = mt::spawn(async move {
                let mut buf = [0u8; 64];
                let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await?;
                poll_fn(|cx| b.poll_send_to(cx, &buf[..n], &from)).await?;
                b.connect_to(&from)?;
                let n = poll_fn(|cx| b.poll_recv(cx, &mut buf)).await?;
                poll_fn(|cx| b.poll_send(cx, &buf[..n])).await
            });
            poll_fn(|cx| a.poll_send_to(cx, b"ping", &b_addr)).await?;
            let mut buf = [0u8; 64];
            let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
            let got = buf[..n].to_vec();
            a.connect_to(&b_addr)?;
            poll_fn(|cx| a.poll_send(cx, b"pong")).await?;
            let n = poll_fn(|cx| a.poll_recv(cx, &mut buf)).await?;
            echo.await?;
            let _ = a_addr;
            Ok((got, from == b_addr, buf[..n].to_vec()))
        })
        .await
    });
    assert_eq!((got.as_slice(), from_b), (&b"ping"[..], true));
    assert_eq!(connected, b"pong");
}

#[test]
fn datagram_try_calls_say_would_block_then_take_a_datagram() {
    let (idle, got, from_b) = on_shared_loop(async {
        let (a, b) = udp_pair()?;
        let mut buf = [0u8; 64];
        let idle = a.try_recv_from(&mut buf).unwrap_err().kind();
        b.writable().timeout(PATIENCE).await?;
        assert_eq!(b.try_send_to(b"hi", &a.local_addr()?)?, 2);
        let (n, from) = loop {
            match a.try_recv_from(&mut buf) {
                Ok(r) => break r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    a.readable().timeout(PATIENCE).await?;
                }
                Err(e) => return Err(e),
            }
        };
        Ok((idle, buf[..n].to_vec(), from == b.local_addr()?))
    });
    assert_eq!(idle, ErrorKind::WouldBlock);
    assert_eq!((got.as_slice(), from_b), (&b"hi"[..], true));
}

#[test]
fn shared_halves_and_poll_level_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    on_shared_loop(async {
        let (client, _server) = pair().await?;
        let (r, w) = client.split();
        let mut buf = [0u8; 1];
        is_send(&r);
        is_send(&r.readable());
        is_send(&w.writable());
        is_send(&poll_fn(|cx| r.poll_recv(cx, &mut buf)));
        let (r, w) = client.into_split();
        is_send(&r);
        is_send(&w);
        Ok(())
    });
}

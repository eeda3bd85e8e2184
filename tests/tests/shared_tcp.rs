//! `SharedTcp` at the edges, on every platform with a shared-poller socket backend
//! (epoll readiness on Linux; overlapped I/O on a completion port on Windows, run under
//! Wine in CI): operations cut short by their deadline lose nothing, big writes arrive
//! whole and in order, a refused address is skipped, half-close, both ends' addresses;
//! an operation first polled in one task may be awaited in another, while a second
//! task receiving at once still panics.
//!
//! Each test runs on a fresh `SharedLoop` with two workers: the test thread (`run`) and
//! one more, so completions and tasks really cross threads.

#![cfg(any(target_os = "linux", windows))]

use std::future::{Future, poll_fn};
use std::net::Shutdown;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use sock::sched::mt;
use sock::{ErrorKind, Expires, Family, SockAddr, shared::SharedTcp};
use sock_tests::{PATIENCE, on_shared_loop};

/// A deadline that an operation with nothing to do surely misses.
const SHORT: Duration = Duration::from_millis(20);

/// A listening socket on an ephemeral loopback port, and its address.
fn listener() -> sock::Result<(SharedTcp, SockAddr)> {
    let server = SharedTcp::new(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let addr = server.local_addr()?;
    Ok((server, addr))
}

/// A connected pair: (client, accepted).
async fn pair() -> sock::Result<(SharedTcp, SharedTcp)> {
    let (server, addr) = listener()?;
    let accepted = mt::spawn(async move { server.accept().timeout(PATIENCE).await });
    let client = SharedTcp::new(Family::INET)?;
    client.connect_to(&addr).timeout(PATIENCE).await?;
    Ok((client, accepted.await?))
}

/// Reads until the peer closes its side; everything it sent.
async fn read_to_end(conn: &SharedTcp) -> sock::Result<Vec<u8>> {
    let (mut all, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
    loop {
        match conn.recv(&mut buf).timeout(PATIENCE).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// `len` bytes of a pattern that shows reordering and loss.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_recv_cut_short_by_its_deadline_loses_no_bytes() {
    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        let mut buf = [0u8; 5];
        let e = server.recv(&mut buf).timeout(SHORT).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        client.send(b"hello").await?;
        server.recvn(&mut buf).timeout(PATIENCE).await?;
        Ok(buf)
    });
    assert_eq!(&got, b"hello");
}

#[test]
fn an_accept_cut_short_leaves_the_connection_to_the_next_accept() {
    let (accepted_peer, client_local) = on_shared_loop(async {
        let (server, addr) = listener()?;
        let e = server.accept().timeout(SHORT).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let client = SharedTcp::new(Family::INET)?;
        client.connect_to(&addr).timeout(PATIENCE).await?;
        let conn = server.accept().timeout(PATIENCE).await?;
        Ok((conn.remote_addr()?, client.local_addr()?))
    });
    assert_eq!(accepted_peer, client_local);
}

#[test]
fn both_ends_agree_on_their_addresses() {
    let (c_local, c_remote, s_local, s_remote) = on_shared_loop(async {
        let (client, server) = pair().await?;
        Ok((
            client.local_addr()?,
            client.remote_addr()?,
            server.local_addr()?,
            server.remote_addr()?,
        ))
    });
    assert_eq!(c_local, s_remote);
    assert_eq!(c_remote, s_local);
}

#[test]
fn four_megabytes_arrive_whole_and_in_order() {
    let sent = pattern(4 << 20);
    let expected = sent.clone();
    let got = on_shared_loop(async move {
        let (client, server) = pair().await?;
        let reader = mt::spawn(async move { read_to_end(&server).await });
        client.send(&sent).timeout(PATIENCE).await?;
        client.shutdown(Shutdown::Write)?;
        reader.await
    });
    assert!(
        got == expected,
        "{} bytes came, not the 4 MiB sent",
        got.len()
    );
}

#[test]
fn a_send_cut_short_counts_what_went_out_and_the_socket_goes_on() {
    let (transferred, got) = on_shared_loop(async {
        let (client, server) = pair().await?;
        let big = pattern(64 << 20);
        let e = client.send(&big).timeout(SHORT).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let reader = mt::spawn(async move { read_to_end(&server).await });
        client.send(b"tail").timeout(PATIENCE).await?;
        client.shutdown(Shutdown::Write)?;
        Ok((e.transferred(), reader.await?))
    });
    assert!(
        transferred > 0,
        "the peer's buffers take some bytes at once"
    );
    assert!(
        got.len() >= transferred + 4,
        "{} < {transferred} + 4",
        got.len()
    );
    assert_eq!(
        &got[..transferred],
        &pattern(transferred)[..],
        "the counted bytes"
    );
    assert_eq!(&got[got.len() - 4..], b"tail");
}

#[test]
fn a_refused_address_is_skipped_for_the_next_one() {
    let (refused_kind, connected, listening) = on_shared_loop(async {
        let closed = {
            let s = SharedTcp::new(Family::INET)?;
            s.bind("127.0.0.1", 0)?;
            s.local_addr()? // bound, never listening: connections are refused
        };
        let (server, addr) = listener()?;
        let alone = SharedTcp::new(Family::INET)?;
        let e = alone
            .connect_to(&closed)
            .timeout(PATIENCE)
            .await
            .unwrap_err();
        let client = SharedTcp::new(Family::INET)?;
        let both = vec![closed, addr.clone()];
        client.connect_to(&both).timeout(PATIENCE).await?;
        let connected = client.remote_addr()?;
        drop(server); // (resets the connection it never accepted)
        Ok((e.kind(), connected, addr))
    });
    assert_eq!(refused_kind, ErrorKind::ConnectionRefused);
    assert_eq!(connected, listening);
}

#[test]
fn the_peer_sees_the_data_then_the_end_after_a_half_close() {
    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        client.send(b"bye").await?;
        client.shutdown(Shutdown::Write)?;
        let got = read_to_end(&server).await?;
        server.send(b"still open").await?; // the other direction still works
        let mut back = [0u8; 10];
        client.recvn(&mut back).timeout(PATIENCE).await?;
        assert_eq!(&back, b"still open");
        Ok(got)
    });
    assert_eq!(got, b"bye");
}

#[test]
fn dropping_a_socket_with_a_recv_in_flight_is_clean() {
    let echoed = on_shared_loop(async {
        for _ in 0..20 {
            let (client, server) = pair().await?;
            let mut buf = [0u8; 8];
            let e = server
                .recv(&mut buf)
                .timeout(Duration::from_millis(1))
                .await;
            assert!(e.is_err(), "nothing was sent");
            drop((client, server)); // the recv may still be in flight on Windows
        }
        let (client, server) = pair().await?;
        client.send(b"ok").await?;
        let mut buf = [0u8; 2];
        server.recvn(&mut buf).timeout(PATIENCE).await?;
        Ok(buf)
    });
    assert_eq!(&echoed, b"ok");
}

#[test]
fn options_by_the_seeds_names_work_on_an_accepted_connection() {
    let (nodelay, unknown) = on_shared_loop(async {
        let (_client, server) = pair().await?;
        server.setopt("tcp_nodelay", true)?;
        let unknown = server.setopt("no_such_option", true).unwrap_err();
        Ok((server.getopt("tcp_nodelay")?, unknown.kind()))
    });
    assert_eq!(nodelay, sock::io::OptValue::Bool(true));
    assert_eq!(unknown, ErrorKind::InvalidInput);
}

#[test]
fn a_recv_first_polled_in_one_task_is_awaited_in_another() {
    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        let recv = Box::pin(async move {
            let mut buf = [0u8; 5];
            let n = server.recv(&mut buf).timeout(PATIENCE).await?;
            Ok::<_, sock::Error>(buf[..n].to_vec())
        });
        let recv = mt::spawn(poll_once(recv))
            .await
            .expect("nothing was sent yet");
        let awaited = mt::spawn(recv); // the recv waits in this task now
        mt::sleep(SHORT).await;
        client.send(b"hello").await?;
        awaited.await
    });
    assert_eq!(got, b"hello");
}

#[test]
fn a_recvn_first_polled_in_one_task_is_awaited_in_another() {
    let got = on_shared_loop(async {
        let (client, server) = pair().await?;
        let recvn = Box::pin(async move {
            let mut buf = [0u8; 5];
            server.recvn(&mut buf).timeout(PATIENCE).await?;
            Ok::<_, sock::Error>(buf)
        });
        client.send(b"he").await?;
        mt::sleep(SHORT).await; // the first poll takes "he", then waits
        let recvn = mt::spawn(poll_once(recvn)).await.expect("not all sent yet");
        let awaited = mt::spawn(recvn);
        mt::sleep(SHORT).await;
        client.send(b"llo").await?;
        awaited.await
    });
    assert_eq!(&got, b"hello");
}

#[test]
#[should_panic(expected = "two tasks wait")]
fn a_second_task_receiving_at_once_still_panics() {
    on_shared_loop(async {
        let (_client, server) = pair().await?;
        let first = server.clone();
        let _first = mt::spawn(async move {
            let mut buf = [0u8; 1];
            first.recv(&mut buf).timeout(PATIENCE).await
        });
        mt::sleep(SHORT).await; // the first task waits by now
        let mut buf = [0u8; 1];
        server.recv(&mut buf).timeout(PATIENCE).await
    });
}

#[test]
fn dropping_a_recv_an_event_already_woke_keeps_the_next_tasks_waiter() {
    let (got, took) = on_shared_loop(async {
        let (client, server) = pair().await?;
        let reader = server.clone();
        let stale = Box::pin(async move {
            let mut buf = [0u8; 1];
            reader.recv(&mut buf).await
        });
        let stale = poll_once(stale).await.expect("nothing was sent yet");
        client.send(b"a").await?;
        mt::sleep(SHORT).await; // the event takes this task's waiter
        let next = mt::spawn(async move {
            let mut buf = [0u8; 2];
            server.recvn(&mut buf).timeout(PATIENCE).await?;
            Ok::<_, sock::Error>(buf)
        });
        mt::sleep(SHORT).await; // `next` got "a" and waits for the rest
        drop(stale);
        let sent = Instant::now();
        client.send(b"b").await?;
        Ok((next.await?, sent.elapsed()))
    });
    assert_eq!(&got, b"ab");
    // Without its waiter `next` sleeps until its deadline, which then finds the byte.
    assert!(
        took < PATIENCE / 2,
        "the rest came after {took:?}: not woken"
    );
}

/// Polls `fut` once in the running task, which becomes its waiter; it back if pending.
async fn poll_once<F: Future + Unpin>(mut fut: F) -> Option<F> {
    let pending = poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx).is_pending())).await;
    pending.then_some(fut)
}

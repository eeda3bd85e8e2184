//! `SharedUdp` over loopback, on every platform with a shared-poller socket backend
//! (epoll readiness on Linux; overlapped `WSARecvFrom`/`WSASendTo` on a completion port
//! on Windows, run under Wine in CI): datagrams of many tasks on both workers all come
//! back, the sender's address, receives cut short by their deadline lose nothing,
//! truncation as in the loop mode, connected sockets, a refused datagram leaves no
//! error behind, and `close` wakes a waiting receiver.
//!
//! Each test runs on a fresh `SharedLoop` with two workers (`on_shared_loop`). Every
//! wait has a deadline, so a lost datagram fails its test with a message, never hangs.

#![cfg(any(target_os = "linux", windows))]

use std::time::Duration;

use sock::sched::mt;
use sock::{
    Error, ErrorKind, Expires, Family, SockAddr,
    shared::{SharedLoop, SharedUdp},
};
use sock_tests::{PATIENCE, on_shared_loop};

/// A deadline that an operation with nothing to do surely misses.
const SHORT: Duration = Duration::from_millis(20);

/// Client tasks of the echo test, and the datagrams each sends in turn.
const TASKS: usize = 200;
const ROUNDS: usize = 20;
/// Echo sockets the clients are spread over (each has at most `TASKS / SERVERS`
/// datagrams queued, well within a default receive buffer).
const SERVERS: usize = 4;

/// A socket bound to an ephemeral loopback port.
fn bound() -> sock::Result<SharedUdp> {
    let u = SharedUdp::new(Family::INET)?;
    u.bind("127.0.0.1", 0)?;
    Ok(u)
}

/// Echoes datagrams to their senders until the socket is closed; how many it received.
async fn echo(server: SharedUdp) -> sock::Result<usize> {
    let (mut buf, mut received) = ([0u8; 64], 0);
    loop {
        let (n, from) = match server.recv_from(&mut buf).await {
            Err(e) if e.kind() == ErrorKind::Closed => return Ok(received),
            r => r?,
        };
        received += 1;
        match server.send_to(&buf[..n], &from).await {
            Err(e) if e.kind() == ErrorKind::Closed => return Ok(received),
            r => r?,
        };
    }
}

/// Sends `ROUNDS` numbered datagrams to `server` one after the other, each awaiting
/// its echo; how many came back (all, or an error naming the lost one).
async fn client(task: usize, server: SockAddr) -> sock::Result<usize> {
    let c = SharedUdp::new(Family::INET)?;
    c.connect_to(&server)?;
    let mut buf = [0u8; 64];
    for round in 0..ROUNDS {
        let sent = format!("task {task} round {round}");
        c.send(sent.as_bytes()).timeout(PATIENCE).await?;
        let n = c.recv(&mut buf).timeout(PATIENCE).await.map_err(|e| {
            let lost = format!("task {task}: no echo of round {round} ({e})");
            Error::new(e.kind(), lost)
        })?;
        assert_eq!(&buf[..n], sent.as_bytes(), "task {task}: a wrong echo");
    }
    Ok(ROUNDS)
}

#[test]
fn every_datagram_of_many_tasks_on_both_workers_comes_back() {
    let (echoed, received) = on_shared_loop(async {
        let servers = (0..SERVERS)
            .map(|_| bound())
            .collect::<sock::Result<Vec<_>>>()?;
        let addrs = servers.iter().map(SharedUdp::local_addr);
        let addrs = addrs.collect::<sock::Result<Vec<_>>>()?;
        let echoes: Vec<_> = servers.iter().map(|s| mt::spawn(echo(s.clone()))).collect();
        let clients: Vec<_> = (0..TASKS)
            .map(|t| mt::spawn(client(t, addrs[t % SERVERS].clone())))
            .collect();
        let mut echoed = 0;
        for c in clients {
            echoed += c.await?;
        }
        servers.iter().for_each(SharedUdp::close);
        let mut received = 0;
        for e in echoes {
            received += e.await?;
        }
        Ok((echoed, received))
    });
    assert_eq!(
        echoed,
        TASKS * ROUNDS,
        "datagrams echoed back to the clients"
    );
    assert_eq!(
        received,
        TASKS * ROUNDS,
        "datagrams the echo sockets received"
    );
}

#[test]
fn recv_from_reports_the_senders_address() {
    let (from, sender, n) = on_shared_loop(async {
        let lp = SharedLoop::current();
        let (a, b) = (bound()?, lp.udp(Family::INET)?);
        b.bind("127.0.0.1", 0)?;
        let sent = b.send_to(b"datagram", &a.local_addr()?).await?;
        assert_eq!(sent, 8);
        let mut buf = [0u8; 64];
        let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await?;
        assert_eq!(&buf[..n], b"datagram");
        Ok((from, b.local_addr()?, n))
    });
    assert_eq!(from, sender);
    assert_eq!(n, 8);
}

#[test]
fn a_recv_cut_short_by_its_deadline_loses_no_datagram() {
    let got = on_shared_loop(async {
        let (a, b) = (bound()?, bound()?);
        let to = a.local_addr()?;
        let mut got = Vec::new();
        for i in 0..5u8 {
            let mut buf = [0u8; 16];
            let e = a.recv_from(&mut buf).timeout(SHORT).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout);
            b.send_to(&[i; 3], &to).await?;
            mt::sleep(SHORT).await; // arrives while no receive waits (on Windows: in flight)
            let n = a.recv(&mut buf).timeout(PATIENCE).await?;
            got.push(buf[..n].to_vec());
        }
        Ok(got)
    });
    let expected: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_datagram_longer_than_the_buffer_is_message_too_long() {
    let (e, head, next) = on_shared_loop(async {
        let (a, b) = (bound()?, bound()?);
        let to = a.local_addr()?;
        let long: Vec<u8> = (0..100).collect();
        b.send_to(&long, &to).await?;
        b.send_to(b"next", &to).await?;
        let mut small = [0u8; 10];
        let e = a.recv(&mut small).timeout(PATIENCE).await.unwrap_err();
        let mut buf = [0u8; 64];
        let (n, _) = a.recv_from(&mut buf).timeout(PATIENCE).await?;
        Ok((e, small, buf[..n].to_vec()))
    });
    assert_eq!(e.kind(), ErrorKind::MessageTooLong);
    assert_eq!(e.transferred(), 10);
    assert_eq!(
        head,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        "the datagram's first bytes"
    );
    assert_eq!(next, b"next", "the rest of the long datagram is dropped");
}

#[test]
fn a_datagram_kept_from_a_cut_short_recv_is_cut_to_the_next_buffer() {
    let (e, head) = on_shared_loop(async {
        let (a, b) = (bound()?, bound()?);
        let mut big = [0u8; 64];
        let cut = a.recv(&mut big).timeout(SHORT).await.unwrap_err();
        assert_eq!(cut.kind(), ErrorKind::Timeout);
        b.send_to(b"0123456789", &a.local_addr()?).await?;
        let mut small = [0u8; 4];
        let e = a.recv(&mut small).timeout(PATIENCE).await.unwrap_err();
        Ok((e, small))
    });
    assert_eq!(e.kind(), ErrorKind::MessageTooLong);
    assert_eq!(e.transferred(), 4);
    assert_eq!(&head, b"0123");
}

#[test]
fn an_empty_datagram_is_received_as_one() {
    let (n, next) = on_shared_loop(async {
        let (a, b) = (bound()?, bound()?);
        let to = a.local_addr()?;
        assert_eq!(b.send_to(b"", &to).await?, 0);
        b.send_to(b"after", &to).await?;
        let mut buf = [0u8; 16];
        let n = a.recv(&mut buf).timeout(PATIENCE).await?;
        let m = a.recv(&mut buf).timeout(PATIENCE).await?;
        Ok((n, buf[..m].to_vec()))
    });
    assert_eq!(n, 0);
    assert_eq!(next, b"after");
}

#[test]
fn connected_sockets_send_and_receive_only_their_peers_datagrams() {
    let (got, back, remote, b_local) = on_shared_loop(async {
        let (a, b, stranger) = (bound()?, bound()?, bound()?);
        a.connect_to(&b.local_addr()?)?;
        b.connect_to(&a.local_addr()?)?;
        stranger.send_to(b"stranger", &b.local_addr()?).await?;
        a.send(b"from a").await?;
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).timeout(PATIENCE).await?;
        let got = buf[..n].to_vec();
        b.send(b"from b").await?;
        let n = a.recv(&mut buf).timeout(PATIENCE).await?;
        Ok((got, buf[..n].to_vec(), a.remote_addr()?, b.local_addr()?))
    });
    assert_eq!(got, b"from a", "a connected socket let a stranger through");
    assert_eq!(back, b"from b");
    assert_eq!(remote, b_local);
}

#[test]
fn a_datagram_to_a_closed_port_leaves_no_error_behind() {
    let got = on_shared_loop(async {
        let closed = bound()?.local_addr()?; // the socket is gone: nobody listens there
        let (a, b) = (bound()?, bound()?);
        let mut got = Vec::new();
        for i in 0..3u8 {
            a.send_to(b"void", &closed).await?;
            mt::sleep(SHORT).await; // time for the ICMP port-unreachable to come back
            b.send_to(&[i], &a.local_addr()?).await?;
            let mut buf = [0u8; 4];
            let (n, _) = a.recv_from(&mut buf).timeout(PATIENCE).await?;
            got.extend_from_slice(&buf[..n]);
        }
        Ok(got)
    });
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn close_wakes_a_waiting_receiver_with_closed() {
    let (recv_kind, send_kind) = on_shared_loop(async {
        let a = bound()?;
        let to = a.local_addr()?;
        let receiver = {
            let a = a.clone();
            mt::spawn(async move {
                let mut buf = [0u8; 16];
                a.recv_from(&mut buf).timeout(PATIENCE).await.map(|_| ())
            })
        };
        mt::sleep(SHORT).await; // the receiver waits by now
        a.close();
        let recv_kind = receiver.await.unwrap_err().kind();
        let send_kind = a.send_to(b"x", &to).await.unwrap_err().kind();
        Ok((recv_kind, send_kind))
    });
    assert_eq!(recv_kind, ErrorKind::Closed);
    assert_eq!(send_kind, ErrorKind::Closed);
}

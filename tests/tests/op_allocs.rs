//! Socket operations allocate nothing per call — with or without a deadline, whether
//! they complete at once or park first (issue 13's acceptance: "no allocation per
//! operation, with or without a deadline"). A counting global allocator counts the
//! allocations made on the test's own OS thread between two points
//! ([`sock_tests::alloc`]).

use std::time::Duration;

use sock::{Expires, Family, Tcp};
use sock_tests::alloc::{Counting, allocs};

/// Counts allocations per OS thread.
#[global_allocator]
static ALLOC: Counting = Counting;

/// Round trips measured after the warm-up.
const ROUNDS: u64 = 200;
/// Allocations allowed over [`ROUNDS`]: a table growing now and then (the timer wheel,
/// the reactor's slab) is not per operation; one allocation per operation would make at
/// least `ROUNDS`.
const SLACK: u64 = 4;
/// A deadline no round trip here comes near.
const LONG: Duration = Duration::from_secs(30);

/// A connected pair on loopback: (client, accepted server side).
async fn pair() -> sock::Result<(Tcp, Tcp)> {
    let listener = sock::tcp(Family::INET)?;
    listener.listen("127.0.0.1", 0)?;
    let client = sock::tcp(Family::INET)?;
    client.connect_to(&listener.local_addr()?).await?;
    let server = listener.accept().await?;
    Ok((client, server))
}

/// `rounds` echo round trips: the client sends 8 bytes and reads them back; the
/// server side (a thread of the loop) reads and sends them back. Every receive parks
/// (its data is not there yet when it starts), every send completes at once.
async fn round_trips(client: &Tcp, rounds: u64, deadline: bool) -> sock::Result<()> {
    let mut buf = [0u8; 8];
    for i in 0..rounds {
        let msg = i.to_le_bytes();
        if deadline {
            client.send(&msg).timeout(LONG).await?;
            client.recvn(&mut buf).timeout(LONG).await?;
        } else {
            client.send(&msg).await?;
            client.recvn(&mut buf).await?;
        }
        assert_eq!(buf, msg, "the echo of round {i}");
    }
    Ok(())
}

/// The server side: echoes 8-byte messages until the peer closes.
async fn echo(server: Tcp, deadline: bool) -> sock::Result<()> {
    let mut buf = [0u8; 8];
    loop {
        let r = if deadline {
            server.recvn(&mut buf).timeout(LONG).await
        } else {
            server.recvn(&mut buf).await
        };
        match r {
            Ok(_) => {}
            Err(e) if e.kind() == sock::ErrorKind::Closed || e.transferred() == 0 => return Ok(()),
            Err(e) => return Err(e),
        }
        server.send(&buf).await?;
    }
}

/// Allocations over [`ROUNDS`] round trips, after a warm-up of as many.
fn allocations_over_round_trips(deadline: bool) -> u64 {
    sock::run(async move {
        let (client, server) = pair().await?;
        let echoer = sock::thread(echo(server, deadline));
        round_trips(&client, ROUNDS, deadline).await?; // warm-up: slabs, timer wheel
        let before = allocs();
        round_trips(&client, ROUNDS, deadline).await?;
        let made = allocs() - before;
        drop(client);
        echoer.join().await.expect("the echo thread")?;
        Ok::<_, sock::Error>(made)
    })
    .expect("the round trips")
}

#[test]
fn operations_without_a_deadline_allocate_nothing() {
    let made = allocations_over_round_trips(false);
    assert!(
        made <= SLACK,
        "{made} allocations over {ROUNDS} round trips"
    );
}

#[test]
fn operations_with_a_deadline_allocate_nothing_when_they_park() {
    let made = allocations_over_round_trips(true);
    assert!(
        made <= SLACK,
        "{made} allocations over {ROUNDS} round trips"
    );
}

#[test]
fn an_operation_with_a_deadline_that_completes_at_once_allocates_nothing() {
    sock::run(async {
        let udp = sock::udp(Family::INET)?;
        udp.bind("127.0.0.1", 0)?;
        let me = udp.local_addr()?;
        let mut buf = [0u8; 16];
        for _ in 0..10 {
            udp.send_to(b"warm", &me).await?;
            udp.recv(&mut buf).timeout(LONG).await?;
        }
        let before = allocs();
        for _ in 0..ROUNDS {
            udp.send_to(b"ping", &me).timeout(LONG).await?;
            assert_eq!(udp.recv(&mut buf).timeout(LONG).await?, 4);
        }
        let made = allocs() - before;
        assert!(
            made <= SLACK,
            "{made} allocations over {ROUNDS} send+recv pairs"
        );
        Ok::<(), sock::Error>(())
    })
    .expect("the datagrams");
}

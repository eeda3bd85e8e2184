//! An echo through the ecosystem's I/O traits on [`sock::Tcp`] allocates nothing per
//! read or write (issue 14's acceptance): the `futures-io` impls driven by
//! `futures_lite::io::{AsyncReadExt, AsyncWriteExt}`, and the `tokio-io` impls by
//! tokio's. A counting global allocator ([`sock_tests::alloc`]) counts what the test's
//! OS thread — the loop, both ends of the echo — allocates over N round trips after a
//! warm-up; the count must stay under a small constant for N = 100 and N = 1000 alike,
//! where one allocation per read or write would make at least 2N.

use std::io;

use sock::{Family, Tcp};
use sock_tests::alloc::{Counting, allocs};
use sock_tests::pair;

/// Counts allocations per OS thread.
#[global_allocator]
static ALLOC: Counting = Counting;

/// Round trips before counting: the reactor's slab, the timer wheel and the loop's
/// queues reach their working size.
const WARM_UP: u64 = 100;
/// Allocations allowed over the measured round trips, whatever their number: a table
/// that grows now and then is not per operation.
const SLACK: u64 = 4;
/// Bytes per message.
const MSG: usize = 64;

/// The echo's two ends, written against one crate's `AsyncReadExt`/`AsyncWriteExt`.
macro_rules! echo_through {
    ($name:ident, $read:path, $write:path) => {
        mod $name {
            use std::io;

            use sock::Tcp;
            use $read;
            use $write;

            /// Echoes what arrives on `conn` until the peer closes.
            pub(crate) async fn serve(mut conn: Tcp) -> io::Result<()> {
                let mut buf = [0u8; super::MSG];
                loop {
                    let n = conn.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    conn.write_all(&buf[..n]).await?;
                }
            }

            /// `rounds` round trips: writes a message, reads its echo back, checks it.
            pub(crate) async fn round_trips(client: &mut Tcp, rounds: u64) -> io::Result<()> {
                let mut back = [0u8; super::MSG];
                for i in 0..rounds {
                    let msg = [i as u8; super::MSG];
                    client.write_all(&msg).await?;
                    client.read_exact(&mut back).await?;
                    assert_eq!(back, msg, "the echo of round {i}");
                }
                Ok(())
            }
        }
    };
}

echo_through!(
    futures_side,
    futures_lite::io::AsyncReadExt,
    futures_lite::io::AsyncWriteExt
);
echo_through!(
    tokio_side,
    tokio::io::AsyncReadExt,
    tokio::io::AsyncWriteExt
);

/// Allocations over `rounds` round trips of an echo whose server side is `serve` (a
/// thread of the loop) and whose client side is `trips`, after [`WARM_UP`] of them.
fn allocations<S>(
    rounds: u64,
    serve: impl FnOnce(Tcp) -> S,
    mut trips: impl AsyncFnMut(&mut Tcp, u64) -> io::Result<()>,
) -> u64
where
    S: Future<Output = io::Result<()>> + 'static,
{
    sock::run(async move {
        let (mut client, server) = pair(Family::INET).await?;
        let echoer = sock::thread(serve(server));
        trips(&mut client, WARM_UP).await?;
        let before = allocs();
        trips(&mut client, rounds).await?;
        let made = allocs() - before;
        drop(client);
        echoer.join().await.expect("the echo thread")?;
        Ok::<_, io::Error>(made)
    })
    .expect("the round trips")
}

#[test]
fn futures_io_echo_allocates_nothing_per_read_or_write() {
    let few = allocations(100, futures_side::serve, futures_side::round_trips);
    let many = allocations(1000, futures_side::serve, futures_side::round_trips);
    assert!(
        few <= SLACK && many <= SLACK,
        "{few} allocations over 100 round trips, {many} over 1000"
    );
}

#[test]
fn tokio_io_echo_allocates_nothing_per_read_or_write() {
    let few = allocations(100, tokio_side::serve, tokio_side::round_trips);
    let many = allocations(1000, tokio_side::serve, tokio_side::round_trips);
    assert!(
        few <= SLACK && many <= SLACK,
        "{few} allocations over 100 round trips, {many} over 1000"
    );
}

#[test]
fn the_count_sees_an_allocation_per_round_trip() {
    // The control: the same measurement over an echo that boxes each message must see
    // at least one allocation per round trip, or the two tests above prove nothing.
    let boxing = async |client: &mut Tcp, rounds: u64| {
        for _ in 0..rounds {
            std::hint::black_box(Box::new([0u8; MSG]));
        }
        futures_side::round_trips(client, rounds).await
    };
    let made = allocations(100, futures_side::serve, boxing);
    assert!(
        made >= 100,
        "{made} allocations over 100 boxing round trips"
    );
}

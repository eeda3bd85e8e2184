//! One TCP echo scenario with seeded random sizes and operations, written once for the
//! readiness property tests on real loopback (`readiness_faults.rs`) and on the
//! simulation (`sim_readiness_faults.rs`): every operation completes with the true
//! result or parks, bytes intact and in order.

use std::future::{Future, poll_fn};
use std::io::Write;
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

use sock::{ErrorKind, Expires, Tcp};

use crate::PATIENCE;

/// Echoes until end of stream, then sends a trailer and closes. Before some reads it
/// waits for `readable()`, after which a read with a deadline already past must
/// succeed: the data (or the end of stream) is there.
pub async fn echo_server(conn: &Tcp, rng: &mut Rng) -> sock::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let cap = 1 + rng.below(buf.len());
        let n = match rng.below(2) {
            0 => {
                conn.readable().timeout(PATIENCE).await?;
                let r = conn.recv(&mut buf[..cap]).expires(sock::clock()).await;
                r.inspect_err(|e| assert_ne!(e.kind(), ErrorKind::Timeout, "readable lied"))?
            }
            _ => conn.recv(&mut buf[..cap]).timeout(PATIENCE).await?,
        };
        if n == 0 {
            break;
        }
        conn.send(&buf[..n]).timeout(PATIENCE).await?;
    }
    let trailer = trailer(1 + rng.below(16));
    conn.send(&trailer).timeout(PATIENCE).await?;
    conn.close()
}

/// Sends rounds of random sizes and reads each back (sending and receiving at once),
/// checks that a read with nothing coming times out, then ends the stream and checks
/// the server's trailer. `exact_readable` as in [`read_back`].
pub async fn echo_client(client: &Tcp, rng: &mut Rng, exact_readable: bool) -> sock::Result<()> {
    for _ in 0..1 + rng.below(4) {
        let data = pattern(rng.next_u64(), echo_size(rng));
        let mut back = vec![0u8; data.len()];
        let (sent, read) = both(
            client.send(&data).timeout(PATIENCE),
            read_back(client, &mut back, rng, exact_readable),
        )
        .await;
        sent?;
        read?;
        assert!(back == data, "echo corrupted ({} bytes)", data.len());
    }
    expect_timeout(client.recv(&mut [0u8; 64]).timeout(short(rng)).await);
    client.shutdown(sock::Shutdown::Write)?;
    read_trailer(client, rng).await
}

/// A round's size: mostly small, sometimes enough to fill the socket buffers.
pub fn echo_size(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 1 + rng.below(16),
        1 | 2 => 1 + rng.below(16 * 1024),
        _ => 1 + rng.below(256 * 1024),
    }
}

/// Fills `back` with pieces read by `recvn`, `recv` or `readable` + `recv`.
///
/// With `exact_readable`, the `recv` after `readable` has a deadline already past and
/// must not time out: right on the simulation, whose spurious wakes re-check the
/// world. Under the real fault layer `readable` may trust an injected readiness event
/// (its documented rule: an event since the last read counts), so there the `recv`
/// waits instead (seen under Wine: seed 237).
pub async fn read_back(
    client: &Tcp,
    back: &mut [u8],
    rng: &mut Rng,
    exact_readable: bool,
) -> sock::Result<()> {
    let mut got = 0;
    while got < back.len() {
        let end = (got + 1 + rng.below(back.len() - got)).min(back.len());
        let piece = &mut back[got..end];
        got += match rng.below(3) {
            0 => {
                client.recvn(piece).timeout(PATIENCE).await?;
                piece.len()
            }
            1 => client.recv(piece).timeout(PATIENCE).await?,
            _ if exact_readable => {
                client.readable().timeout(PATIENCE).await?;
                let r = client.recv(piece).expires(sock::clock()).await;
                r.inspect_err(|e| assert_ne!(e.kind(), ErrorKind::Timeout, "readable lied"))?
            }
            _ => {
                client.readable().timeout(PATIENCE).await?;
                client.recv(piece).timeout(PATIENCE).await?
            }
        };
    }
    Ok(())
}

/// The server's trailer, then end of stream: `recvn` past it fails with `Eof` and
/// keeps the trailer's bytes; a `recv` then returns 0.
pub async fn read_trailer(client: &Tcp, rng: &mut Rng) -> sock::Result<()> {
    let mut buf = vec![0u8; 32 + rng.below(32)];
    let err = client.recvn(&mut buf).timeout(PATIENCE).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Eof, "{err:?}");
    let n = err.transferred();
    assert!((1..=16).contains(&n), "trailer of {n} bytes");
    assert_eq!(buf[..n], trailer(n)[..]);
    assert_eq!(client.recv(&mut buf).timeout(PATIENCE).await?, 0);
    Ok(())
}

/// The server's last bytes before it closes: `len` of them, known to the client.
pub fn trailer(len: usize) -> Vec<u8> {
    pattern(0x7A11 + len as u64, len)
}

/// A receive with nothing coming must end in `Timeout`, having moved nothing.
pub fn expect_timeout(r: sock::Result<usize>) {
    let err = r.expect_err("nothing was sent, yet the receive completed");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(err.transferred(), 0);
}

/// A short random timeout, 1 or 2 ms (of virtual time on a simulated loop).
pub fn short(rng: &mut Rng) -> Duration {
    Duration::from_millis(1 + rng.below(2) as u64)
}

/// Polls `a` and `b` in the same task until both are done.
pub async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            ra = poll_ready(a.as_mut().poll(cx));
        }
        if rb.is_none() {
            rb = poll_ready(b.as_mut().poll(cx));
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

/// `Some` of a ready poll's value.
pub fn poll_ready<T>(p: Poll<T>) -> Option<T> {
    match p {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// `len` bytes drawn from `seed`: a transfer that loses, repeats or reorders bytes
/// does not match.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// SplitMix64: the scenario's own choices (sizes, which operation), from the seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A thread that aborts the process when no new seed is sent to it within `hang`,
/// printing `{test}: seed N hung …; replay with {replay}=N` straight to stderr (the
/// test harness's capture dies with the abort). Dropping the sender ends it.
pub fn watchdog(test: &'static str, replay: &'static str, hang: Duration) -> mpsc::Sender<u64> {
    let (tx, rx) = mpsc::channel::<u64>();
    std::thread::spawn(move || {
        let mut current = None;
        loop {
            match rx.recv_timeout(hang) {
                Ok(seed) => current = Some(seed),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let seed = current.map_or("?".to_owned(), |s: u64| s.to_string());
                    let _ = writeln!(
                        std::io::stderr(),
                        "{test}: seed {seed} hung for {hang:?} (a frozen loop?); \
                         replay with {replay}={seed}"
                    );
                    std::process::abort();
                }
            }
        }
    });
    tx
}

//! Readiness is a hint, the syscall is the verdict — checked under injected faults.
//!
//! For each of [`SEEDS`] seeds, a fresh loop is made with `sock_poll::faults` installed
//! (spurious readiness, spurious hang-ups, spurious and deferred wake-ups at seeded
//! random poll turns) and runs a small scenario over real loopback sockets: TCP echo of
//! seeded random sizes through `send`/`recv`/`recvn`/`readable`, connect + accept, a
//! refused connect, end of stream, deadlines, UDP `sendto`/`recvnext` and connected
//! UDP, unix streams and datagrams. Every operation must complete with the syscall's
//! true result (bytes intact and in order, the right error kinds) or park: a `Timeout`
//! only where nothing was available, and never one where the data was known to be
//! queued. The debug assertion in `sock`'s `Core::poll_io_with` panics when an
//! operation retries a would-block syscall without parking (the frozen-loop class).
//!
//! A failing seed prints itself; `SOCK_FAULT_SEED=N` runs that seed alone, and
//! `SOCK_FAULT_SEEDS=N` (or `A..B`) runs other seeds. A watchdog aborts the run if one
//! seed takes longer than [`HANG`], so a frozen loop fails instead of hanging.

use std::future::{Future, poll_fn};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, Tcp, Udp};
use sock_poll::faults::{self, Faults, Injected};
use sock_tests::PATIENCE;

/// Seeds run by default (`SOCK_FAULT_SEEDS` overrides).
const SEEDS: u64 = 1000;

/// The longest one seed may take before the watchdog calls it a hang.
/// (Each operation that must complete has [`PATIENCE`]; a lost wake-up fails there.)
const HANG: Duration = Duration::from_secs(30);

#[test]
fn every_operation_completes_or_parks_under_injected_faults() {
    let seeds = seeds_to_run();
    let watchdog = watchdog();
    let start = Instant::now();
    let mut total = Injected::default();
    for &seed in &seeds {
        watchdog.send(seed).expect("the watchdog runs");
        let injected = run_seed(seed);
        add(&mut total, injected);
    }
    eprintln!(
        "readiness_faults: {} seeds in {:.1?}; injected {total:?}",
        seeds.len(),
        start.elapsed()
    );
    if seeds.len() >= 100 {
        let every_kind = total.ready > 0 && total.hangup > 0 && total.wake > 0;
        assert!(
            every_kind && total.deferred > 0,
            "a kind of fault never came"
        );
    }
}

/// The seeds of this run: `SOCK_FAULT_SEED=N` alone, else `SOCK_FAULT_SEEDS` (a count
/// `N` from 0, or a range `A..B`), else `0..SEEDS`.
fn seeds_to_run() -> Vec<u64> {
    let number = |v: &str| v.parse::<u64>().expect("SOCK_FAULT_SEED(S): a number");
    if let Ok(seed) = std::env::var("SOCK_FAULT_SEED") {
        return vec![number(&seed)];
    }
    let Ok(seeds) = std::env::var("SOCK_FAULT_SEEDS") else {
        return (0..SEEDS).collect();
    };
    match seeds.split_once("..") {
        Some((a, b)) => (number(a)..number(b)).collect(),
        None => (0..number(&seeds)).collect(),
    }
}

/// A thread that aborts the process when no new seed starts within [`HANG`].
fn watchdog() -> mpsc::Sender<u64> {
    let (tx, rx) = mpsc::channel::<u64>();
    std::thread::spawn(move || {
        let mut current = None;
        loop {
            match rx.recv_timeout(HANG) {
                Ok(seed) => current = Some(seed),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Straight to stderr: the test harness's capture dies with the abort.
                    let seed = current.map_or("?".to_owned(), |s: u64| s.to_string());
                    let _ = writeln!(
                        std::io::stderr(),
                        "readiness_faults: seed {seed} hung for {HANG:?} (a frozen loop?); \
                         replay with SOCK_FAULT_SEED={seed}"
                    );
                    std::process::abort();
                }
            }
        }
    });
    tx
}

/// Runs the scenario of `seed` on a fresh loop with faults installed; returns what was
/// injected. A failure prints the seed and how to replay it, then fails the test.
fn run_seed(seed: u64) -> Injected {
    faults::install(faults_of(seed));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let lp = sock::Loop::new().expect("a loop");
        lp.run(scenario(seed))
    }));
    let injected = faults::injected();
    faults::uninstall();
    match outcome {
        Ok(Ok(())) => injected,
        Ok(Err(e)) => panic!("seed {seed} failed: {e:?}; replay with SOCK_FAULT_SEED={seed}"),
        Err(panic) => {
            eprintln!("seed {seed} panicked; replay with SOCK_FAULT_SEED={seed}");
            resume_unwind(panic)
        }
    }
}

/// The faults of `seed`: rates drawn from it too, so some seeds see few faults and
/// some see a storm of them.
fn faults_of(seed: u64) -> Faults {
    let mut rng = Rng(seed ^ 0xFA17);
    let mut rate = |max: usize| u16::try_from(rng.below(max + 1)).expect("a per-mille rate");
    Faults {
        spurious_ready: rate(500),
        spurious_hangup: rate(300),
        spurious_wake: rate(500),
        deferred_wake: rate(500),
        max_defer_turns: 1 + u8::try_from(rng.below(4)).expect("below 4"),
        ..Faults::new(seed)
    }
}

fn add(total: &mut Injected, n: Injected) {
    total.ready += n.ready;
    total.hangup += n.hangup;
    total.wake += n.wake;
    total.deferred += n.deferred;
}

/// One seed's scenario: every part, in one task (a panic surfaces at once).
async fn scenario(seed: u64) -> sock::Result<()> {
    let mut rng = Rng(seed);
    tcp_echo(&mut rng).await?;
    tcp_refused().await?;
    udp(&mut rng).await?;
    unix_stream(&mut rng, seed).await?;
    unix_datagram(&mut rng, seed).await
}

// ---------------------------------------------------------------------------------
// TCP

/// Connect + accept, echo rounds of random sizes, a deadline that must expire, end of
/// stream with a partial `recvn`, and an operation on a closed socket.
async fn tcp_echo(rng: &mut Rng) -> sock::Result<()> {
    let (client, conn) = tcp_pair().await?;
    let mut server_rng = Rng(rng.next());
    let (served, client_done) = both(
        echo_server(&conn, &mut server_rng),
        echo_client(&client, rng),
    )
    .await;
    served?;
    client_done?;
    client.close()?;
    let mut buf = [0u8; 4];
    let err = client.recv(&mut buf).timeout(PATIENCE).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    Ok(())
}

/// A connected TCP pair on loopback (client, server side), accepted concurrently.
async fn tcp_pair() -> sock::Result<(Tcp, Tcp)> {
    let server = sock::tcp(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let port = server.local_addr()?.port();
    let client = sock::tcp(Family::INET)?;
    let (accepted, connected) = both(
        server.accept().timeout(PATIENCE),
        client.connect("127.0.0.1", port).timeout(PATIENCE),
    )
    .await;
    connected?;
    let conn = accepted?;
    // Small echoes would otherwise meet Nagle and delayed ACKs: 40 ms stalls per round.
    client.set_nodelay(true)?;
    conn.set_nodelay(true)?;
    Ok((client, conn))
}

/// Echoes until end of stream, then sends a trailer and closes. Before some reads it
/// waits for `readable()`, after which a read with a deadline already past must
/// succeed: the data (or the end of stream) is there.
async fn echo_server(conn: &Tcp, rng: &mut Rng) -> sock::Result<()> {
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
/// the server's trailer: a `recvn` larger than it fails with `Eof`, keeping its bytes.
async fn echo_client(client: &Tcp, rng: &mut Rng) -> sock::Result<()> {
    for _ in 0..1 + rng.below(4) {
        let data = pattern(rng.next(), echo_size(rng));
        let mut back = vec![0u8; data.len()];
        let (sent, read) = both(
            client.send(&data).timeout(PATIENCE),
            read_back(client, &mut back, rng),
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
fn echo_size(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 1 + rng.below(16),
        1 | 2 => 1 + rng.below(16 * 1024),
        _ => 1 + rng.below(256 * 1024),
    }
}

/// Fills `back` with pieces read by `recvn`, `recv` or `readable` + `recv`.
async fn read_back(client: &Tcp, back: &mut [u8], rng: &mut Rng) -> sock::Result<()> {
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
async fn read_trailer(client: &Tcp, rng: &mut Rng) -> sock::Result<()> {
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
fn trailer(len: usize) -> Vec<u8> {
    pattern(0x7A11 + len as u64, len)
}

/// A connect to a bound port nobody listens on is refused (the outcome comes from
/// `SO_ERROR`, whatever readiness the faults report).
async fn tcp_refused() -> sock::Result<()> {
    let holder = sock::tcp(Family::INET)?;
    holder.bind("127.0.0.1", 0)?; // bound, not listening: holds the port, refuses SYNs
    let port = holder.local_addr()?.port();
    let client = sock::tcp(Family::INET)?;
    let err = client
        .connect("127.0.0.1", port)
        .timeout(PATIENCE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------
// UDP

/// `sendto`/`recvnext` both ways, connected UDP, then a receive that must time out.
async fn udp(rng: &mut Rng) -> sock::Result<()> {
    let (a, b) = (bound_udp()?, bound_udp()?);
    for _ in 0..1 + rng.below(3) {
        datagram(&a, &b, rng).await?;
        datagram(&b, &a, rng).await?;
    }
    let port = |u: &Udp| u.local_addr().map(|addr| addr.port());
    a.connect("127.0.0.1", port(&b)?).await?;
    b.connect("127.0.0.1", port(&a)?).await?;
    for _ in 0..1 + rng.below(3) {
        connected_datagram(&a, &b, rng).await?;
        connected_datagram(&b, &a, rng).await?;
    }
    expect_timeout(b.recv(&mut [0u8; 16]).timeout(short(rng)).await);
    Ok(())
}

fn bound_udp() -> sock::Result<Udp> {
    let u = sock::udp(Family::INET)?;
    u.bind("127.0.0.1", 0)?;
    Ok(u)
}

/// One datagram of random size (possibly empty) from `from` to `to`, checked whole,
/// with its sender's address.
async fn datagram(from: &Udp, to: &Udp, rng: &mut Rng) -> sock::Result<()> {
    let data = pattern(rng.next(), rng.below(1400));
    let port = to.local_addr()?.port();
    assert_eq!(from.send_to(&data, &("127.0.0.1", port)).await?, data.len());
    let mut buf = [0u8; 2048];
    let (n, sender) = to.recv_from(&mut buf).timeout(PATIENCE).await?;
    assert_eq!(&buf[..n], &data[..]);
    assert_eq!(sender, from.local_addr()?);
    Ok(())
}

/// One datagram over connected sockets (`send`/`recv`).
async fn connected_datagram(from: &Udp, to: &Udp, rng: &mut Rng) -> sock::Result<()> {
    let data = pattern(rng.next(), rng.below(1400));
    assert_eq!(from.send(&data).timeout(PATIENCE).await?, data.len());
    let mut buf = [0u8; 2048];
    let n = to.recv(&mut buf).timeout(PATIENCE).await?;
    assert_eq!(&buf[..n], &data[..]);
    Ok(())
}

// ---------------------------------------------------------------------------------
// Unix-domain sockets: a send completes with the bytes in the receiver's queue, so a
// receive with a deadline already past must succeed.

/// A unix stream pair; what the client sends is queued before `send` completes, so
/// every read of it with `expires(sock::clock())` succeeds; an echo back; a timeout.
#[cfg(unix)]
async fn unix_stream(rng: &mut Rng, seed: u64) -> sock::Result<()> {
    let path = TempPath::new("stream", seed);
    let server = sock::tcp(Family::UNIX)?;
    server.listen(&path.0, 0)?;
    let client = sock::tcp(Family::UNIX)?;
    let (accepted, connected) = both(
        server.accept().timeout(PATIENCE),
        client.connect(&path.0, 0).timeout(PATIENCE),
    )
    .await;
    connected?;
    let conn = accepted?;
    let data = pattern(rng.next(), 1 + rng.below(8 * 1024));
    client.send(&data).timeout(PATIENCE).await?;
    let got = read_queued(&conn, data.len(), rng).await?;
    assert!(got == data, "unix stream corrupted ({} bytes)", data.len());
    conn.send(&got).timeout(PATIENCE).await?;
    let mut back = vec![0u8; data.len()];
    client.recvn(&mut back).timeout(PATIENCE).await?;
    assert!(back == data, "unix stream echo corrupted");
    expect_timeout(conn.recv(&mut [0u8; 16]).timeout(short(rng)).await);
    Ok(())
}

#[cfg(not(unix))]
async fn unix_stream(_rng: &mut Rng, _seed: u64) -> sock::Result<()> {
    Ok(())
}

/// Reads `len` queued bytes in random pieces, each with a deadline already past.
#[cfg(unix)]
async fn read_queued(conn: &Tcp, len: usize, rng: &mut Rng) -> sock::Result<Vec<u8>> {
    let mut got = vec![0u8; len];
    let mut n = 0;
    while n < len {
        let end = (n + 1 + rng.below(len - n)).min(len);
        let r = conn.recv(&mut got[n..end]).expires(sock::clock()).await;
        let read = r.inspect_err(|e| assert_ne!(e.kind(), ErrorKind::Timeout, "data queued"))?;
        assert!(read > 0, "end of stream with data queued");
        n += read;
    }
    Ok(got)
}

/// A unix datagram (sent through the backoff path of unconnected unix sends) is queued
/// before `sendto` completes: `recvnext` with a deadline already past gets it.
#[cfg(unix)]
async fn unix_datagram(rng: &mut Rng, seed: u64) -> sock::Result<()> {
    let (pa, pb) = (TempPath::new("dg-a", seed), TempPath::new("dg-b", seed));
    let (a, b) = (sock::udp(Family::UNIX)?, sock::udp(Family::UNIX)?);
    a.bind(&pa.0, 0)?;
    b.bind(&pb.0, 0)?;
    let data = pattern(rng.next(), rng.below(2048));
    assert_eq!(a.send_to(&data, &(&pb.0, 0)).await?, data.len());
    let mut buf = [0u8; 4096];
    let r = b.recv_from(&mut buf).expires(sock::clock()).await;
    let (n, _) = r.inspect_err(|e| assert_ne!(e.kind(), ErrorKind::Timeout, "queued"))?;
    assert_eq!(&buf[..n], &data[..]);
    expect_timeout(b.recv(&mut buf).timeout(short(rng)).await);
    Ok(())
}

#[cfg(not(unix))]
async fn unix_datagram(_rng: &mut Rng, _seed: u64) -> sock::Result<()> {
    Ok(())
}

/// A socket path in the temp dir, removed before use and on drop.
#[cfg(unix)]
struct TempPath(String);

#[cfg(unix)]
impl TempPath {
    fn new(name: &str, seed: u64) -> TempPath {
        let file = format!("sock-faults-{}-{seed}-{name}", std::process::id());
        let p = std::env::temp_dir().join(file);
        let _ = std::fs::remove_file(&p);
        TempPath(p.to_str().expect("UTF-8 temp dir").to_owned())
    }
}

#[cfg(unix)]
impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------
// Helpers

/// A receive with nothing coming must end in `Timeout`, having moved nothing.
fn expect_timeout(r: sock::Result<usize>) {
    let err = r.expect_err("nothing was sent, yet the receive completed");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(err.transferred(), 0);
}

/// A short random timeout, 1 or 2 ms.
fn short(rng: &mut Rng) -> Duration {
    Duration::from_millis(1 + rng.below(2) as u64)
}

/// Polls `a` and `b` in the same task until both are done.
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
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

fn poll_ready<T>(p: Poll<T>) -> Option<T> {
    match p {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// `len` bytes drawn from `seed`: a transfer that loses, repeats or reorders bytes
/// does not match.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// SplitMix64: the scenario's own choices (sizes, which operation), from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

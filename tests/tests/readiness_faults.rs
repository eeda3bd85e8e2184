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

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, Tcp, Udp};
use sock_poll::faults::{self, Faults, Injected};
use sock_tests::PATIENCE;
use sock_tests::echo_checks::{
    Rng, both, echo_client, echo_server, expect_timeout, pattern, short, watchdog,
};

/// Seeds run by default (`SOCK_FAULT_SEEDS` overrides).
const SEEDS: u64 = 1000;

/// The longest one seed may take before the watchdog calls it a hang.
/// (Each operation that must complete has [`PATIENCE`]; a lost wake-up fails there.)
const HANG: Duration = Duration::from_secs(30);

#[test]
fn every_operation_completes_or_parks_under_injected_faults() {
    let seeds = seeds_to_run();
    let watchdog = watchdog("readiness_faults", "SOCK_FAULT_SEED", HANG);
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
    let mut server_rng = Rng(rng.next_u64());
    let (served, client_done) = both(
        echo_server(&conn, &mut server_rng),
        echo_client(&client, rng, false),
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
    let data = pattern(rng.next_u64(), rng.below(1400));
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
    let data = pattern(rng.next_u64(), rng.below(1400));
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
    let data = pattern(rng.next_u64(), 1 + rng.below(8 * 1024));
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
    let data = pattern(rng.next_u64(), rng.below(2048));
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

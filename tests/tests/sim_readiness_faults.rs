//! Readiness is a hint, the world is the verdict — checked on the simulation under the
//! world's seeded readiness faults (`sock::sim::ReadinessFaults`: spurious wakes,
//! deferred wakes, spurious changes), the simulated counterpart of
//! `readiness_faults.rs`.
//!
//! For each of [`SEEDS`] seeds, a fresh world with that seed, fault rates drawn from
//! it, and two hosts run the scenario: TCP echo of seeded random sizes through
//! `send`/`recv`/`recvn`/`readable`, connect + accept, a refused connect, end of
//! stream, deadlines, UDP `send_to`/`recv_from` and connected UDP; and, beyond the OS
//! test, a connect by name through the world's DNS, split and owned halves, `recvall`. Every operation
//! must complete with the model's true result (bytes intact and in order, the right
//! error kinds): a `Timeout` only where nothing was available. Over the run every kind
//! of fault must have been injected. A failing seed prints `SOCK_SEED=…` (the `Sim`
//! does on a panic); `SOCK_SEED=N` runs that seed alone.
//!
//! Same seed, same run: with the faults on, two runs of a seed end with one event-log
//! hash and the same injections. Swarm mode switches the faults on in some runs.

use std::time::{Duration, Instant};

use sock::sim::{Host, ReadinessFaultCounts, ReadinessFaults, Sim, World};
use sock::{ErrorKind, Expires, Family, Udp};
use sock_tests::PATIENCE;
use sock_tests::echo_checks::{
    Rng, echo_client, echo_server, expect_timeout, pattern, short, watchdog,
};

/// Seeds run by default.
const SEEDS: u64 = 500;

/// The longest one seed may take (wall clock) before the watchdog calls it a hang.
const HANG: Duration = Duration::from_secs(60);

/// The client host's address.
const A: &str = "10.0.0.1";

/// The server host's address.
const B: &str = "10.0.0.2";

#[test]
fn every_operation_completes_or_parks_under_seeded_readiness_faults() {
    let seeds: Vec<u64> = match std::env::var("SOCK_SEED") {
        Ok(s) => vec![s.parse().expect("SOCK_SEED: a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    let watchdog = watchdog("sim_readiness_faults", "SOCK_SEED", HANG);
    let start = Instant::now();
    let mut total = ReadinessFaultCounts::default();
    for &seed in &seeds {
        watchdog.send(seed).expect("the watchdog runs");
        let (counts, _hash) = run_seed(seed);
        total.spurious_wakes += counts.spurious_wakes;
        total.deferred += counts.deferred;
        total.spurious_changes += counts.spurious_changes;
    }
    eprintln!(
        "sim_readiness_faults: {} seeds in {:.1?}; injected {total:?}",
        seeds.len(),
        start.elapsed()
    );
    if seeds.len() >= 100 {
        assert!(total.spurious_wakes > 0, "no spurious wake: {total:?}");
        assert!(total.deferred > 0, "no deferred wake: {total:?}");
        assert!(total.spurious_changes > 0, "no spurious change: {total:?}");
    }
}

#[test]
fn same_seed_same_hash_with_readiness_faults() {
    for seed in [3, 17, 4242] {
        let (counts, hash) = run_seed(seed);
        assert_eq!(
            run_seed(seed),
            (counts, hash),
            "seed {seed} replays differently"
        );
        let injected = counts.spurious_wakes + counts.deferred + counts.spurious_changes;
        assert!(injected > 0, "seed {seed}: no fault injected, {counts:?}");
    }
    let (_, a) = run_seed(3);
    let (_, b) = run_seed(17);
    assert_ne!(a, b, "two seeds, one hash");
}

#[test]
fn injections_are_in_the_event_log() {
    let sim = Sim::new(World::new(9));
    sim.world()
        .set_readiness_faults(Some(ReadinessFaults::storm()));
    scenario_on(&sim, 9);
    let world = sim.world();
    let counts = world.readiness_fault_counts();
    let logged = |what: &str| {
        let n = world.log().entries().iter();
        n.filter(|e| e.what.starts_with(what)).count() as u64
    };
    assert_eq!(logged("spurious wake "), counts.spurious_wakes);
    assert_eq!(logged("defer wake "), counts.deferred);
    assert_eq!(logged("spurious change "), counts.spurious_changes);
    assert!(
        counts.deferred > 0 && counts.spurious_wakes > 0,
        "{counts:?}"
    );
}

#[test]
fn swarm_mode_switches_readiness_faults_on_in_some_runs() {
    let mut on = 0;
    for seed in 0..64 {
        let mut world = World::new(seed);
        world.add_host("a", &[A.parse().unwrap()]);
        world.add_host("b", &[B.parse().unwrap()]);
        let swarm = world.swarm(Duration::from_secs(10));
        assert_eq!(world.readiness_faults(), swarm.readiness, "seed {seed}");
        if let Some(r) = swarm.readiness {
            on += 1;
            assert!((0.0..=0.5).contains(&r.spurious_wake), "{r:?}");
            assert!((0.0..=0.5).contains(&r.defer), "{r:?}");
            assert!((1..=4).contains(&r.max_defer), "{r:?}");
            assert!((0.0..=0.3).contains(&r.spurious_change), "{r:?}");
            assert!(
                swarm.to_string().contains("readiness: spurious wake"),
                "{swarm}"
            );
        }
    }
    assert!((1..64).contains(&on), "on in {on} of 64 swarm runs");
}

/// Runs `seed`'s scenario with its fault rates; what was injected and the log's hash.
fn run_seed(seed: u64) -> (ReadinessFaultCounts, u64) {
    let sim = Sim::new(World::new(seed));
    sim.world().set_readiness_faults(Some(faults_of(seed)));
    scenario_on(&sim, seed);
    let world = sim.world();
    (world.readiness_fault_counts(), world.hash())
}

/// The fault rates of `seed`: some seeds see few faults, some a storm.
fn faults_of(seed: u64) -> ReadinessFaults {
    let mut rng = Rng(seed ^ 0xFA17);
    let mut rate = |max: usize| rng.below(max + 1) as f64 / 1000.0;
    ReadinessFaults {
        spurious_wake: rate(500),
        defer: rate(500),
        spurious_change: rate(300),
        max_defer: 1 + Rng(seed).below(4) as u32,
    }
}

/// Two hosts, the scenario of `seed` on them; a failure panics while the `Sim` lives
/// (it prints `SOCK_SEED=`).
fn scenario_on(sim: &Sim, seed: u64) {
    let a = sim.add_host("a", &[A.parse().unwrap()]);
    let b = sim.add_host("b", &[B.parse().unwrap()]);
    let mut rng = Rng(seed);
    if let Err(e) = tcp_echo(&a, &b, &mut rng) {
        panic!("seed {seed}: tcp echo: {e:?}");
    }
    if let Err(e) = by_name_halves_recvall(sim, &a, &b, &mut rng) {
        panic!("seed {seed}: halves: {e:?}");
    }
    if let Err(e) = a.run(tcp_refused()) {
        panic!("seed {seed}: refused connect: {e:?}");
    }
    if let Err(e) = udp(&a, &b, &mut rng) {
        panic!("seed {seed}: udp: {e:?}");
    }
}

// ---------------------------------------------------------------------------------
// TCP

/// An echo server on `b`, the client on `a`: echo rounds of random sizes, a deadline
/// that must expire, end of stream with a partial `recvn`, an operation on a closed
/// socket.
fn tcp_echo(a: &Host, b: &Host, rng: &mut Rng) -> sock::Result<()> {
    let mut server_rng = Rng(rng.next_u64());
    let server = b.spawn(async move {
        let listener = sock::tcp(Family::INET)?;
        listener.listen(B, 7)?;
        let conn = listener.accept().timeout(PATIENCE).await?;
        echo_server(&conn, &mut server_rng).await
    });
    let mut client_rng = Rng(rng.next_u64());
    a.run(async move {
        let client = sock::tcp(Family::INET)?;
        client.connect(B, 7).timeout(PATIENCE).await?;
        echo_client(&client, &mut client_rng, true).await?;
        client.close()?;
        let mut buf = [0u8; 4];
        let err = client.recv(&mut buf).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        Ok::<(), sock::Error>(())
    })?;
    b.run(server.join()).expect("the server task finished")
}

/// A connect by name (the world's DNS, with latency), a stream sent through split
/// halves, collected by the server until end of stream, sent back through its owned
/// halves and collected by `recvall`.
fn by_name_halves_recvall(sim: &Sim, a: &Host, b: &Host, rng: &mut Rng) -> sock::Result<()> {
    sim.world().add_dns("b.sim", &[B.parse().unwrap()]);
    sim.world()
        .set_dns_latency(Duration::from_millis(1 + rng.below(5) as u64));
    let data = pattern(rng.next_u64(), 1 + rng.below(100 * 1024));
    let server = b.spawn(async move {
        let listener = sock::tcp(Family::INET)?;
        listener.listen(B, 8)?;
        let (read, write) = listener.accept().timeout(PATIENCE).await?.into_split();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 8 * 1024];
        loop {
            let n = read.recv(&mut buf).timeout(PATIENCE).await?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        write.send(&got).timeout(PATIENCE).await?;
        write.shutdown_write()
    });
    a.run(async {
        let client = sock::tcp(Family::INET)?;
        client.connect("b.sim", 8).timeout(PATIENCE).await?;
        let (_read, write) = client.split();
        write.send(&data).timeout(PATIENCE).await?;
        write.shutdown_write()?;
        let back = client.recvall().timeout(PATIENCE).await?;
        assert!(back == data, "halves corrupted ({} bytes)", data.len());
        Ok::<(), sock::Error>(())
    })?;
    b.run(server.join()).expect("the server task finished")
}

/// A connect to a port nobody listens on is refused, whatever the wake-ups say.
async fn tcp_refused() -> sock::Result<()> {
    let client = sock::tcp(Family::INET)?;
    let err = client.connect(B, 9).timeout(PATIENCE).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------
// UDP

/// `send_to`/`recv_from` both ways between the hosts, connected UDP, then a receive
/// that must time out.
fn udp(a: &Host, b: &Host, rng: &mut Rng) -> sock::Result<()> {
    let ua = a.run(async { bound_udp(A, 5000) })?;
    let ub = b.run(async { bound_udp(B, 5000) })?;
    let rounds = 1 + rng.below(3);
    let sizes: Vec<(u64, usize)> = (0..4 * rounds)
        .map(|_| (rng.next_u64(), rng.below(1400)))
        .collect();
    let timeout = short(rng);
    // `b` echoes every datagram back; `a` checks what comes back.
    let echo = b.spawn(async move {
        let mut buf = [0u8; 2048];
        for _ in 0..2 * rounds {
            let (n, from) = ub.recv_from(&mut buf).timeout(PATIENCE).await?;
            assert_eq!(from.to_string(), format!("{A}:5000"));
            ub.send_to(&buf[..n], &(A, 5000)).timeout(PATIENCE).await?;
        }
        ub.connect(A, 5000).await?;
        for _ in 0..2 * rounds {
            let n = ub.recv(&mut buf).timeout(PATIENCE).await?;
            ub.send(&buf[..n]).timeout(PATIENCE).await?;
        }
        Ok::<Udp, sock::Error>(ub)
    });
    a.run(async {
        let mut buf = [0u8; 2048];
        for (i, &(seed, len)) in sizes.iter().enumerate().take(2 * rounds) {
            let data = pattern(seed, len);
            assert_eq!(ua.send_to(&data, &(B, 5000)).await?, data.len());
            let (n, from) = ua.recv_from(&mut buf).timeout(PATIENCE).await?;
            assert_eq!(&buf[..n], &data[..], "datagram {i} corrupted");
            assert_eq!(from.to_string(), format!("{B}:5000"));
        }
        sock::sleep(Duration::from_millis(50)).await; // `b` connects meanwhile
        ua.connect(B, 5000).await?;
        for &(seed, len) in sizes.iter().skip(2 * rounds) {
            let data = pattern(seed, len);
            assert_eq!(ua.send(&data).timeout(PATIENCE).await?, data.len());
            let n = ua.recv(&mut buf).timeout(PATIENCE).await?;
            assert_eq!(&buf[..n], &data[..], "connected datagram corrupted");
        }
        expect_timeout(ua.recv(&mut buf).timeout(timeout).await);
        Ok::<(), sock::Error>(())
    })?;
    let ub = b.run(echo.join()).expect("the echo task finished")?;
    b.run(async {
        expect_timeout(ub.recv(&mut [0u8; 16]).timeout(timeout).await);
    });
    Ok(())
}

fn bound_udp(ip: &str, port: u16) -> sock::Result<Udp> {
    let u = sock::udp(Family::INET)?;
    u.bind(ip, port)?;
    Ok(u)
}

//! The multi-threading modes on the simulation: echo scenarios of the shared-poller
//! mode (TCP and UDP, a half-close, deadlines, halves, poll-level calls) and of
//! `spawn_loops` with a `SharedListener`, each run on the OS over loopback and across
//! two simulated hosts — one test binary, both backends — and swarm runs replayed from
//! their seeds.

use std::future::{Future, poll_fn};
use std::net::Shutdown;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sock::io::RecvFlags;
use sock::loops::{LoopThreads, SharedListener};
use sock::shared::{SharedLoop, SharedTcp, SharedUdp};
use sock::sim::{Sim, World};
use sock::{ErrorKind, Expires, Family};
use sock_tests::sim::{swarm_rounds, two_hosts};

/// What the scenario saw, compared across backends.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// The TCP echo of the client's message.
    tcp: Vec<u8>,
    /// What the client read after its half-close (the server's EOF: nothing).
    after_eof: usize,
    /// The UDP echo.
    udp: Vec<u8>,
    /// The error of a receive past its deadline, of one past a scope's deadline, and of
    /// a connect to a port nobody listens on.
    timeouts: (ErrorKind, ErrorKind, ErrorKind),
}

/// The scenario, the same on both backends: a TCP echo server and a UDP echo server
/// on `server` (bound to `server_ip`), a client on `client`.
fn echo_scenario(server: &SharedLoop, client: &SharedLoop, server_ip: &str) -> sock::Result<Seen> {
    let listener = server.tcp(Family::INET)?;
    listener.listen(server_ip, 0)?;
    let tcp_addr = listener.local_addr()?;
    server.spawn(tcp_echo(listener)).detach();
    let udp = server.udp(Family::INET)?;
    udp.bind(server_ip, 0)?;
    let udp_addr = udp.local_addr()?;
    server.spawn(udp_echo(udp)).detach();
    let closed = (server_ip.to_owned(), 1u16);
    client.run(async move {
        let (tcp, after_eof) = tcp_client(&tcp_addr).await?;
        let u = SharedUdp::new(Family::INET)?;
        u.send_to(b"datagram", &udp_addr).await?;
        let mut buf = [0u8; 64];
        let (n, from) = u
            .recv_from(&mut buf)
            .timeout(Duration::from_secs(5))
            .await?;
        assert_eq!(from, udp_addr, "the echo comes from the server's socket");
        let udp = buf[..n].to_vec();
        let timeouts = (
            op_timeout(&u).await,
            scope_timeout(&u).await,
            refused(&closed).await,
        );
        Ok(Seen {
            tcp,
            after_eof,
            udp,
            timeouts,
        })
    })
}

/// Echoes each connection until its EOF, then half-closes it; serves one connection at
/// a time, forever.
async fn tcp_echo(listener: SharedTcp) -> sock::Result<()> {
    loop {
        let conn = listener.accept().await?;
        let mut buf = [0u8; 64];
        loop {
            let n = conn.recv(&mut buf).await?;
            if n == 0 {
                break;
            }
            conn.send(&buf[..n]).await?;
        }
        conn.shutdown(Shutdown::Write)?;
        conn.close();
    }
}

/// Echoes every datagram to its sender, forever.
async fn udp_echo(udp: SharedUdp) -> sock::Result<()> {
    let mut buf = [0u8; 64];
    loop {
        let (n, from) = udp.recv_from(&mut buf).await?;
        udp.send_to(&buf[..n], &from).await?;
    }
}

/// Connects to `addr`, sends a message, reads its echo, half-closes and reads the
/// server's EOF: the echo and the bytes read after the half-close.
async fn tcp_client(addr: &sock::SockAddr) -> sock::Result<(Vec<u8>, usize)> {
    let c = SharedTcp::new(Family::INET)?;
    c.connect_to(addr).timeout(Duration::from_secs(5)).await?;
    assert_eq!(c.remote_addr()?, *addr);
    c.send(b"hello, shared").await?;
    let mut echo = [0u8; 13];
    c.recvn(&mut echo).timeout(Duration::from_secs(5)).await?;
    c.shutdown(Shutdown::Write)?;
    let mut rest = [0u8; 8];
    let after_eof = c.recv(&mut rest).timeout(Duration::from_secs(5)).await?;
    c.close();
    assert!(c.is_closed());
    Ok((echo.to_vec(), after_eof))
}

/// The error of a receive that nothing answers, past its own deadline.
async fn op_timeout(u: &SharedUdp) -> ErrorKind {
    let mut buf = [0u8; 8];
    let r = u.recv(&mut buf).timeout(Duration::from_millis(50)).await;
    r.map_or_else(
        |e| e.kind(),
        |n| panic!("a datagram of {n} bytes came from nowhere"),
    )
}

/// The error of a receive that nothing answers, past a scope's deadline.
async fn scope_timeout(u: &SharedUdp) -> ErrorKind {
    let mut buf = [0u8; 8];
    let r = sock::shared::timeout(Duration::from_millis(50), u.recv(&mut buf)).await;
    r.map_or_else(
        |e| e.kind(),
        |n| panic!("a datagram of {n} bytes came from nowhere"),
    )
}

/// The error of a connect to a port nobody listens on.
async fn refused(to: &(String, u16)) -> ErrorKind {
    let run = async {
        let c = SharedTcp::new(Family::INET)?;
        c.connect(&to.0, to.1).timeout(Duration::from_secs(5)).await
    };
    run.await
        .map_or_else(|e| e.kind(), |()| panic!("a connect to port 1 succeeded"))
}

/// What both backends must see.
fn expected() -> Seen {
    Seen {
        tcp: b"hello, shared".to_vec(),
        after_eof: 0,
        udp: b"datagram".to_vec(),
        timeouts: (
            ErrorKind::Timeout,
            ErrorKind::Timeout,
            ErrorKind::ConnectionRefused,
        ),
    }
}

#[test]
fn the_echo_passes_on_a_real_shared_loop() {
    if !cfg!(any(target_os = "linux", windows)) {
        return; // SharedTcp: epoll or IOCP
    }
    let lp = SharedLoop::new().expect("a shared loop");
    let seen = echo_scenario(&lp, &lp, "127.0.0.1").expect("the echo on loopback");
    assert_eq!(seen, expected());
}

#[test]
fn the_echo_passes_across_two_simulated_hosts() {
    let (sim, a, b) = two_hosts(15);
    let (client, server) = (a.shared_loop(), b.shared_loop());
    let seen = echo_scenario(&server, &client, "10.0.0.2").expect("the simulated echo");
    assert_eq!(seen, expected());
    assert!(
        sim.world().now() < Duration::from_secs(1),
        "no wait but the two 50 ms deadlines"
    );
}

#[test]
fn a_deadline_fires_at_its_exact_virtual_instant() {
    let (sim, a, _b) = two_hosts(16);
    let lp = a.shared_loop();
    let err = lp
        .run(async {
            let u = SharedUdp::new(Family::INET)?;
            u.bind("10.0.0.1", 9)?;
            let mut buf = [0u8; 8];
            u.recv(&mut buf).timeout(Duration::from_secs(7)).await
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(sim.world().now(), Duration::from_secs(7));
}

#[test]
fn shared_loop_new_in_a_host_task_makes_a_loop_of_that_host() {
    let (_sim, a, b) = two_hosts(17);
    let server = b.shared_loop();
    let listener = server.tcp(Family::INET).expect("a simulated socket");
    listener.listen("10.0.0.2", 80).expect("listen");
    server.spawn(tcp_echo(listener)).detach();
    let echoed = a.run(async {
        let lp = SharedLoop::new()?; // a simulated host's task: a loop of host a
        let to = sock::SockAddr::from(std::net::SocketAddr::from(([10, 0, 0, 2], 80)));
        lp.spawn(async move { tcp_client(&to).await.map(|(echo, _)| echo) })
            .await
    });
    assert_eq!(echoed.expect("the echo"), b"hello, shared");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let hash = |seed| {
        let sim = Sim::new(World::new(seed));
        let a = sim.add_host("a", &[sock_tests::sim::ip("10.0.0.1")]);
        let b = sim.add_host("b", &[sock_tests::sim::ip("10.0.0.2")]);
        let (client, server) = (a.shared_loop(), b.shared_loop());
        echo_scenario(&server, &client, "10.0.0.2").expect("the simulated echo");
        let world = sim.world();
        (world.hash(), world.now())
    };
    assert_eq!(hash(99), hash(99));
}

/// The second scenario, the same on both backends: a server whose connection is split
/// into owned halves used by two tasks, and a client on the poll-level, `try_` and
/// flagged calls, with a UDP exchange on the poll level: what the client got.
fn halves_scenario(
    server: &SharedLoop,
    client: &SharedLoop,
    server_ip: &str,
) -> sock::Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let listener = server.tcp(Family::INET)?;
    listener.listen(server_ip, 0)?;
    let addr = listener.local_addr()?;
    let udp = server.udp(Family::INET)?;
    udp.bind(server_ip, 0)?;
    let udp_addr = udp.local_addr()?;
    server.spawn(split_echo(server.clone(), listener)).detach();
    server.spawn(poll_udp_echo(udp)).detach();
    client.run(async move {
        let c = SharedTcp::new(Family::INET)?;
        c.connect_to(&addr).timeout(Duration::from_secs(5)).await?;
        c.writable().timeout(Duration::from_secs(5)).await?;
        let sent = poll_fn(|cx| c.poll_send(cx, b"split")).await?;
        assert_eq!(sent, 5);
        let mut peek = [0u8; 5];
        let p = c
            .recv_with(&mut peek, RecvFlags::PEEK)
            .timeout(Duration::from_secs(5))
            .await?; // the echo comes in one segment: all 5 bytes
        let mut got = [0u8; 5];
        c.readable().timeout(Duration::from_secs(5)).await?;
        let n = c.try_recv(&mut got)?;
        c.shutdown(Shutdown::Write)?;
        let mut rest = [0u8; 4];
        let eof = poll_fn(|cx| c.poll_recv(cx, &mut rest)).await?;
        assert_eq!(eof, 0, "the server's EOF after the echo");
        let u = SharedUdp::new(Family::INET)?;
        u.set_broadcast(true)?;
        assert_eq!(u.getopt("so_broadcast")?, sock::io::OptValue::Bool(true));
        u.connect_to(&udp_addr)?;
        poll_fn(|cx| u.poll_send(cx, b"level")).await?;
        let mut dgram = [0u8; 16];
        u.readable().timeout(Duration::from_secs(5)).await?;
        let (m, from) = u.try_recv_from(&mut dgram)?;
        assert_eq!(from, udp_addr);
        Ok((peek[..p].to_vec(), got[..n].to_vec(), dgram[..m].to_vec()))
    })
}

/// Accepts one connection and echoes it with a reader task and a writer task on its
/// owned halves (the reader hands the bytes over through a shared slot).
async fn split_echo(lp: SharedLoop, listener: SharedTcp) -> sock::Result<()> {
    let conn = listener.accept().await?;
    let (reader, writer) = conn.into_split();
    let read = lp.spawn(async move {
        let mut buf = [0u8; 5];
        reader.recvn(&mut buf).await?;
        Ok::<_, sock::Error>(buf)
    });
    let buf = read.await?;
    let write = lp.spawn(async move {
        writer.send(&buf).await?;
        writer.shutdown_write()
    });
    write.await
}

/// Echoes one datagram with the poll-level calls.
async fn poll_udp_echo(udp: SharedUdp) -> sock::Result<()> {
    let mut buf = [0u8; 16];
    let (n, from) = poll_fn(|cx| udp.poll_recv_from(cx, &mut buf)).await?;
    poll_fn(|cx| udp.poll_writable(cx)).await?;
    udp.try_send_to(&buf[..n], &from)?;
    Ok(())
}

/// What both backends must see of [`halves_scenario`].
fn halves_expected() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (b"split".to_vec(), b"split".to_vec(), b"level".to_vec())
}

#[test]
fn halves_and_poll_level_calls_on_a_real_shared_loop() {
    if !cfg!(target_os = "linux") {
        return; // recv_with flags: Linux; SharedTcp: epoll or IOCP
    }
    let lp = SharedLoop::new().expect("a shared loop");
    let got = halves_scenario(&lp, &lp, "127.0.0.1").expect("on loopback");
    assert_eq!(got, halves_expected());
}

#[test]
fn halves_and_poll_level_calls_across_two_simulated_hosts() {
    let (_sim, a, b) = two_hosts(18);
    let (client, server) = (a.shared_loop(), b.shared_loop());
    let got = halves_scenario(&server, &client, "10.0.0.2").expect("simulated");
    assert_eq!(got, halves_expected());
}

/// One swarm run of `seed` on the shared-poller mode: the echo round trips of
/// [`swarm_rounds`] from a shared loop of host a to one of host b, each within a 30 s
/// scope deadline: the outcomes, the log hash and the configuration.
fn swarm_run(seed: u64) -> (Vec<Option<ErrorKind>>, u64, String) {
    let (sim, a, b) = two_hosts(seed);
    let swarm = sim.world().swarm(Duration::from_secs(10));
    let (client, server) = (a.shared_loop(), b.shared_loop());
    let listener = server.tcp(Family::INET).expect("a socket");
    listener.listen("10.0.0.2", 7).expect("listen");
    let lp = server.clone();
    server
        .spawn(async move {
            loop {
                let conn = listener.accept().await?;
                lp.spawn(async move {
                    let mut buf = [0u8; 16];
                    conn.recvn(&mut buf).await?;
                    conn.send(&buf).await
                })
                .detach();
            }
            #[allow(unreachable_code)]
            Ok::<(), sock::Error>(())
        })
        .detach();
    let outcomes = client.run(swarm_rounds(|i| {
        sock::shared::timeout(Duration::from_secs(30), async move {
            let c = SharedTcp::new(Family::INET)?;
            c.connect("10.0.0.2", 7).await?;
            c.send(&[i; 16]).await?;
            let mut buf = [0u8; 16];
            c.recvn(&mut buf).await?;
            Ok(buf)
        })
    }));
    let hash = sim.world().hash();
    (outcomes, hash, swarm.to_string())
}

#[test]
fn a_swarm_run_of_the_shared_echo_replays_from_its_seed_over_100_seeds() {
    let (mut echoed, mut failed) = (0, 0);
    for seed in 0..100 {
        let first = swarm_run(seed);
        assert_eq!(first, swarm_run(seed), "seed {seed} gave two runs");
        echoed += first.0.iter().filter(|o| o.is_none()).count();
        failed += first.0.iter().filter(|o| o.is_some()).count();
    }
    assert!(echoed > 0, "no round trip went through in 100 seeds");
    // The seeds are fixed, so this is too: the swarm's faults reach the shared mode.
    assert!(failed > 0, "no fault cut a round trip short in 100 seeds");
}

/// Connections the `spawn_loops` scenario makes.
const CONNS: u8 = 6;

/// The server half of the `spawn_loops` scenario: a `SharedListener` on `ip` and
/// `n` loops that each attach to it and echo what they accept.
fn listener_loops(ip: &str, n: usize) -> sock::Result<(SharedListener, LoopThreads)> {
    let listener = SharedListener::bind(ip, 0)?;
    let loops = sock::loops::spawn_loops(n)?;
    for h in loops.handles() {
        let l = listener.clone();
        drop(h.spawn_with(move || serve(l)));
    }
    Ok((listener, loops))
}

/// Attaches to `listener` and echoes one message per connection, forever.
async fn serve(listener: SharedListener) -> sock::Result<()> {
    let mine = listener.attach()?;
    loop {
        let conn = mine.accept().await?;
        sock::spawn(async move {
            let mut buf = [0u8; 8];
            conn.recvn(&mut buf).await?;
            conn.send(&buf).await
        });
    }
}

/// The client half: `CONNS` connections to `addr` at once, each echoed.
async fn listener_clients(addr: sock::SockAddr) -> sock::Result<Vec<u8>> {
    let mut tasks = Vec::new();
    for i in 0..CONNS {
        let addr = addr.clone();
        tasks.push(sock::spawn(async move {
            let c = sock::tcp(Family::INET)?;
            c.connect_to(&addr).timeout(Duration::from_secs(5)).await?;
            c.send(&[i; 8]).await?;
            let mut buf = [0u8; 8];
            c.recvn(&mut buf).timeout(Duration::from_secs(5)).await?;
            Ok::<_, sock::Error>(buf[0])
        }));
    }
    let mut echoed = Vec::new();
    for t in tasks {
        echoed.push(t.join().await.expect("a client task")?);
    }
    Ok(echoed)
}

#[test]
fn a_shared_listener_on_spawned_loops_on_the_os() {
    let (listener, loops) = listener_loops("127.0.0.1", 2).expect("the loops");
    let addr = listener.local_addr().expect("its address");
    let echoed = sock::run(listener_clients(addr)).expect("the echoes");
    assert_eq!(echoed, (0..CONNS).collect::<Vec<_>>());
    assert_eq!(listener.accepted(), u64::from(CONNS));
    loops.join().expect("the loops end");
}

/// The `spawn_loops` scenario on two simulated hosts of `seed`: the echoes, how many
/// the listener accepted, and the run's log hash.
fn simulated_listener_loops(seed: u64) -> (Vec<u8>, u64, u64) {
    let (sim, a, b) = two_hosts(seed);
    let (listener, _loops) = b
        .run(async { listener_loops("10.0.0.2", 3) })
        .expect("the loops");
    let addr = listener.local_addr().expect("its address");
    let echoed = a.run(listener_clients(addr)).expect("the echoes");
    let hash = sim.world().hash();
    (echoed, listener.accepted(), hash)
}

#[test]
fn a_shared_listener_on_spawned_loops_of_a_simulated_host() {
    let (echoed, accepted, _) = simulated_listener_loops(19);
    assert_eq!(echoed, (0..CONNS).collect::<Vec<_>>());
    assert_eq!(accepted, u64::from(CONNS));
}

#[test]
fn spawned_loops_of_a_simulated_host_replay_from_the_seed() {
    for seed in [1, 2, 3] {
        let first = simulated_listener_loops(seed);
        assert_eq!(
            first,
            simulated_listener_loops(seed),
            "seed {seed} gave two runs"
        );
    }
}

/// The echo scenario with several workers per shared loop on two simulated hosts of
/// `seed`: what it saw, and the log hash and virtual time at the end.
fn echo_with_workers(seed: u64) -> (Seen, u64, Duration) {
    let (sim, a, b) = two_hosts(seed);
    let (client, server) = (a.shared_loop_with_workers(2), b.shared_loop_with_workers(3));
    assert_eq!((client.workers(), server.workers()), (2, 3));
    let seen = echo_scenario(&server, &client, "10.0.0.2").expect("the simulated echo");
    let world = sim.world();
    (seen, world.hash(), world.now())
}

#[test]
fn several_workers_of_a_simulated_shared_loop_run_the_echo_and_replay_from_the_seed() {
    for seed in [21, 22, 23] {
        let first = echo_with_workers(seed);
        assert_eq!(first.0, expected());
        assert_eq!(first, echo_with_workers(seed), "seed {seed} gave two runs");
    }
}

/// Set for the child process of the two-process replay test: the seed to run.
const CHILD_SEED_ENV: &str = "SOCK_SIM_SHARED_CHILD_SEED";

/// The child: prints the log hash of the swarm run of its seed (nothing when run as
/// an ordinary test).
#[test]
fn swarm_hash_child() {
    let Some(seed) = std::env::var_os(CHILD_SEED_ENV) else {
        return;
    };
    let seed: u64 = seed.to_str().and_then(|s| s.parse().ok()).expect("a seed");
    println!("shared-swarm-hash={:x}", swarm_run(seed).1);
}

/// The hash the child process prints for the swarm run of `seed`.
fn child_hash(seed: u64) -> u64 {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([
            "swarm_hash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_SEED_ENV, seed.to_string())
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "the child failed: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test's name on the same line, before its output.
    let key = "shared-swarm-hash=";
    let at = stdout
        .find(key)
        .unwrap_or_else(|| panic!("no hash in the child's output: {stdout}"));
    let hex: String = stdout[at + key.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u64::from_str_radix(&hex, 16).expect("a hex hash")
}

#[test]
fn a_swarm_run_of_the_shared_echo_gives_one_hash_in_two_processes() {
    for seed in [4, 40] {
        assert_eq!(child_hash(seed), swarm_run(seed).1, "seed {seed}");
    }
}

#[test]
fn a_simulated_shared_loop_is_current_only_while_its_host_runs() {
    let (sim, a, _b) = two_hosts(24);
    let simulated = a.run(async { SharedLoop::current() });
    assert!(a.run(async { SharedLoop::current() }).ptr_eq(&simulated));
    drop(sim);
    let real = SharedLoop::current(); // outside the simulation: the OS's
    assert!(!real.ptr_eq(&simulated));
    assert_eq!(real.run(async { 6 * 7 }), 42);
}

#[test]
fn the_metrics_of_spawned_loops_of_a_simulated_host_sum_those_loops() {
    let (_sim, a, _b) = two_hosts(25);
    let loops = a.spawn_loops(2);
    let naps: Vec<_> = loops
        .handles()
        .iter()
        .map(|h| h.spawn_with(|| sock::sleep(Duration::from_millis(5))))
        .collect();
    a.run(async move {
        for nap in naps {
            nap.await.expect("a nap");
        }
    });
    // Each loop ran its inbox service and a nap: more polls than none, no socket.
    let m = loops.metrics();
    assert_eq!(m.sockets, 0);
    assert!(m.polls > 0, "{m:?}");
}

/// Starts the loop on this thread until a task stops it: the echo of one client
/// message, with `start`/`stop` instead of `run`.
fn start_until_stopped(lp: &SharedLoop, server_ip: &str) -> sock::Result<Vec<u8>> {
    let listener = lp.tcp(Family::INET)?;
    listener.listen(server_ip, 0)?;
    let addr = listener.local_addr()?;
    lp.spawn(tcp_echo(listener)).detach();
    let (tx, rx) = std::sync::mpsc::channel();
    let stopper = lp.clone();
    lp.spawn(async move {
        let echoed = tcp_client(&addr).await.map(|(echo, _)| echo);
        tx.send(echoed).expect("the test waits");
        stopper.stop();
    })
    .detach();
    lp.start(); // returns once the client task stopped the loop
    rx.try_recv().expect("the client finished before the stop")
}

#[test]
fn start_runs_until_stop_on_a_real_shared_loop() {
    if !cfg!(any(target_os = "linux", windows)) {
        return; // SharedTcp: epoll or IOCP
    }
    let lp = SharedLoop::new().expect("a shared loop");
    let echoed = start_until_stopped(&lp, "127.0.0.1").expect("the echo");
    assert_eq!(echoed, b"hello, shared");
}

#[test]
fn start_runs_the_simulation_until_stop_on_a_simulated_host() {
    let (_sim, a, _b) = two_hosts(26);
    let echoed = start_until_stopped(&a.shared_loop(), "10.0.0.1").expect("the echo");
    assert_eq!(echoed, b"hello, shared");
}

/// Spawns on `lp` a task that holds `token` and a clone of `lp` itself (a reference
/// cycle through the loop's pool while the task lives) and waits on `wait` forever.
fn spawn_holding<F>(lp: &SharedLoop, token: &Arc<()>, wait: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let held = (lp.clone(), token.clone());
    lp.spawn(async move {
        let _held = held;
        wait.await;
        std::future::pending::<()>().await
    })
    .detach();
}

/// Three tasks of host b's shared loop, each holding its loop: one parked on a
/// simulated socket, one on the pool's timer, one queued and never run. Returns the
/// loop and a weak handle per task on what it holds.
fn three_held_tasks(a: &sock::sim::Host, b: &sock::sim::Host) -> (SharedLoop, [Weak<()>; 3]) {
    let lp = b.shared_loop();
    let tokens = [Arc::new(()), Arc::new(()), Arc::new(())];
    let listener = lp.tcp(Family::INET).expect("a simulated socket");
    listener.listen("10.0.0.2", 80).expect("listen");
    spawn_holding(&lp, &tokens[0], async move {
        let _ = listener.accept().await; // nobody connects
    });
    spawn_holding(&lp, &tokens[1], async {
        sock::sched::mt::sleep(Duration::from_secs(3600)).await;
    });
    a.run(sock::sleep(Duration::from_secs(1))); // both park, b's loop driving them
    spawn_holding(&lp, &tokens[2], async {}); // queued: nothing runs b's loop again
    assert_eq!(lp.alive(), 3);
    (lp, tokens.each_ref().map(Arc::downgrade))
}

#[test]
fn dropping_the_sim_drops_the_parked_and_queued_tasks_of_its_shared_loops() {
    let (sim, a, b) = two_hosts(21);
    let (lp, held) = three_held_tasks(&a, &b);
    drop((sim, a, b));
    assert_eq!(lp.alive(), 0, "the tasks went with their host loop");
    drop(lp);
    for (i, weak) in held.iter().enumerate() {
        assert_eq!(weak.strong_count(), 0, "task {i} (and its loop) leaked");
    }
}

#[test]
fn a_crash_drops_the_tasks_of_the_hosts_shared_loops() {
    let (sim, a, b) = two_hosts(22);
    let (lp, held) = three_held_tasks(&a, &b);
    sim.crash(&b);
    // The sockets went with the power; the task parked on one goes when the drive
    // loop delivers that change.
    a.run(sock::sleep(Duration::from_secs(1)));
    assert_eq!(lp.alive(), 0, "the tasks went with the power");
    for (i, weak) in held.iter().enumerate() {
        assert_eq!(weak.strong_count(), 0, "task {i} outlived the crash");
    }
    sim.restart(&b);
    let fresh = b.shared_loop(); // the host's programs start afresh
    assert_eq!(fresh.run(async { 6 * 7 }), 42);
}

#[test]
#[should_panic(expected = "host crashed")]
fn a_shared_loop_of_a_crashed_host_refuses_to_run() {
    let (sim, _a, b) = two_hosts(23);
    let lp = b.shared_loop();
    sim.crash(&b);
    sim.restart(&b);
    lp.run(async {});
}

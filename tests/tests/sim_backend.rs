//! The simulation backend (`sock::sim::Sim`): sock loops of simulated hosts whose
//! sockets, clock and timers are a seeded world's, driven through the ordinary sock API.
//!
//! Every test's world takes its seed from `SOCK_SEED` when set (`World::from_env_or`),
//! so a failure's printed seed replays it.

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use sock::sim::{Host, Link, Sim, World};
use sock::{ErrorKind, Expires, Family, Shutdown};
use sock_tests::sim::{ip, two_hosts};

/// A generous bound that only catches a hang, never a slow machine.
const HANG: Duration = Duration::from_secs(30);

/// Spawns on `host` a TCP echo server on `addr:port` serving `conns` connections, each
/// until the client's end of stream.
fn spawn_echo(host: &Host, addr: &'static str, port: u16, conns: usize) {
    let server = host.run(async {
        let server = sock::tcp(Family::INET).expect("a simulated socket");
        server.listen(addr, port).expect("listen");
        server
    });
    host.spawn(async move {
        for _ in 0..conns {
            let conn = server.accept().await?;
            let data = conn.recvall().await?;
            conn.send(&data).await?;
            conn.close()?;
        }
        Ok::<(), sock::Error>(())
    });
}

/// One request through the echo server at `addr:port`: what came back.
async fn echo_once(addr: &str, port: u16, msg: &[u8]) -> sock::Result<Vec<u8>> {
    let client = sock::tcp(Family::INET)?;
    client
        .connect(addr, port)
        .timeout(Duration::from_secs(10))
        .await?;
    client.send(msg).await?;
    client.shutdown(Shutdown::Write)?;
    let reply = client.recvall().timeout(Duration::from_secs(10)).await?;
    client.close()?;
    Ok(reply)
}

#[test]
fn echo_between_two_hosts() {
    let (sim, a, b) = two_hosts(1);
    spawn_echo(&b, "10.0.0.2", 7, 3);
    let replies = a.run(async {
        let mut replies = Vec::new();
        for i in 0..3u8 {
            let msg = vec![i; 1000 * (usize::from(i) + 1)];
            replies.push((echo_once("10.0.0.2", 7, &msg).await?, msg));
        }
        Ok::<_, sock::Error>(replies)
    });
    for (reply, msg) in replies.expect("three echoes") {
        assert_eq!(reply, msg);
    }
    let world = sim.world();
    assert!(
        world.now() > Duration::ZERO,
        "the round trips took virtual time"
    );
    assert!(
        world
            .log()
            .entries()
            .iter()
            .any(|e| e.what.contains("tcp accept"))
    );
}

#[test]
fn peers_see_each_others_addresses() {
    let (_sim, a, b) = two_hosts(2);
    let server = b.run(async {
        let s = sock::tcp(Family::INET).unwrap();
        s.listen("10.0.0.2", 80).unwrap();
        s
    });
    let accepted = b.spawn(async move {
        let conn = server.accept().await?;
        Ok::<_, sock::Error>((conn.local_addr()?, conn.remote_addr()?))
    });
    let (client_local, client_remote) = a
        .run(async {
            let c = sock::tcp(Family::INET)?;
            c.connect("10.0.0.2", 80).await?;
            Ok::<_, sock::Error>((c.local_addr()?, c.remote_addr()?))
        })
        .expect("connected");
    let (server_local, server_remote) = b.run(accepted.join()).unwrap().expect("accepted");
    assert_eq!(client_remote, server_local);
    assert_eq!(server_remote, client_local);
    assert_eq!(client_local.to_string().split(':').next(), Some("10.0.0.1"));
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let (sim, a, _b) = two_hosts(3);
    let err = a.run(async {
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("10.0.0.2", 9).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(
        sim.world().now(),
        Duration::from_millis(2),
        "one round trip"
    );
}

#[test]
fn a_partition_times_out_exactly_at_the_virtual_deadline() {
    let (sim, a, b) = two_hosts(4);
    spawn_echo(&b, "10.0.0.2", 7, 1);
    let (start, deadline, err) = a.run(async {
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("10.0.0.2", 7).await.unwrap();
        c.send(b"lost in the cut").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        sim.world().partition(a.id(), b.id(), true);
        let start = sim.world().now();
        let deadline = sock::clock() + Duration::from_millis(1500);
        let mut buf = [0u8; 16];
        let err = c.recv(&mut buf).expires(deadline).await.unwrap_err();
        assert_eq!(
            sock::clock(),
            deadline,
            "the loop's clock is at the deadline"
        );
        (start, deadline, err)
    });
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let _ = deadline;
    assert_eq!(sim.world().now(), start + Duration::from_millis(1500));
}

#[test]
fn a_sleep_of_a_virtual_day_takes_no_wall_time() {
    let (sim, a, _b) = two_hosts(5);
    let wall = Instant::now();
    a.run(sock::sleep(Duration::from_secs(24 * 3600)));
    assert!(
        wall.elapsed() < HANG,
        "a virtual day must not take real time"
    );
    assert_eq!(sim.world().now(), Duration::from_secs(24 * 3600));
}

#[test]
fn timers_and_sockets_of_several_hosts_interleave_in_virtual_time() {
    let (sim, a, b) = two_hosts(6);
    let late = b.spawn(async {
        sock::sleep(Duration::from_secs(5)).await;
        sock::clock()
    });
    let early = a.run(async {
        sock::sleep(Duration::from_secs(2)).await;
        sock::clock()
    });
    let late = a.run(async { late.join().await });
    let late = late.expect("the sleeper of b finished");
    assert_eq!(late - early, Duration::from_secs(3));
    assert_eq!(sim.world().now(), Duration::from_secs(5));
}

/// A run with jittered, lossy links; its event-log hash.
fn lossy_run(seed: u64) -> u64 {
    let (sim, a, b) = two_hosts(seed);
    let link = Link {
        jitter: Duration::from_millis(3),
        loss: 0.2,
        ..Link::DEFAULT
    };
    sim.world().set_default_link(link);
    spawn_echo(&b, "10.0.0.2", 7, 4);
    a.run(async {
        let udp = sock::udp(Family::INET)?;
        for i in 0..20u8 {
            udp.send_to(&[i; 10], &("10.0.0.2", 53)).await?;
        }
        for i in 0..4u8 {
            let msg = vec![i; 5000];
            assert_eq!(echo_once("10.0.0.2", 7, &msg).await?, msg);
        }
        Ok::<(), sock::Error>(())
    })
    .expect("echoes over a lossy link (TCP is reliable)");
    let world = sim.world();
    world.hash()
}

#[test]
fn the_same_seed_gives_the_same_event_log_hash() {
    let first = lossy_run(77);
    assert_eq!(lossy_run(77), first);
    assert_ne!(
        lossy_run(78),
        first,
        "the seed steers the jitter and the loss"
    );
}

#[test]
fn a_stuck_run_panics_with_the_seed_and_the_last_events() {
    let sim = Sim::new(World::new(4242));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let result = catch_unwind(AssertUnwindSafe(|| {
        a.run(async {
            let udp = sock::udp(Family::INET).unwrap();
            udp.bind("10.0.0.1", 5353).unwrap();
            let mut buf = [0u8; 8];
            udp.recv(&mut buf).await // nobody sends, no deadline
        })
    }));
    let payload = result.expect_err("a run that can never go on must fail");
    let msg = payload
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(msg.contains("stuck"), "{msg}");
    assert!(msg.contains("SOCK_SEED=4242"), "{msg}");
    assert!(msg.contains("udp bind 10.0.0.1:5353"), "{msg}");
}

#[test]
fn udp_between_hosts() {
    let (_sim, a, b) = two_hosts(8);
    let server = b.run(async {
        let s = sock::udp(Family::INET).unwrap();
        s.bind("10.0.0.2", 53).unwrap();
        s
    });
    b.spawn(async move {
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).await?;
        server.send_to(&buf[..n], &from).await?;
        Ok::<(), sock::Error>(())
    });
    let reply = a.run(async {
        let c = sock::udp(Family::INET)?;
        c.connect("10.0.0.2", 53).await?;
        assert_eq!(c.send(b"query").await?, 5);
        let mut buf = [0u8; 64];
        let n = c.recv(&mut buf).timeout(Duration::from_secs(1)).await?;
        Ok::<_, sock::Error>(buf[..n].to_vec())
    });
    assert_eq!(reply.expect("an answer"), b"query");
}

#[test]
fn an_oversized_datagram_is_message_too_long() {
    let (_sim, a, _b) = two_hosts(9);
    let err = a.run(async {
        let c = sock::udp(Family::INET).unwrap();
        let big = vec![0u8; sock::sim::MAX_DATAGRAM + 1];
        c.send_to(&big, &("10.0.0.2", 53)).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::MessageTooLong);
}

#[test]
fn names_do_not_resolve_and_numeric_addresses_do() {
    let (_sim, a, _b) = two_hosts(10);
    let err = a.run(async {
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("example.com", 80).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::HostNotFound);
}

/// Connects a fresh socket of `family` to `host:7`: the error, if any.
async fn connect_err(family: Family, host: &str) -> Option<ErrorKind> {
    let c = sock::tcp(family).expect("a simulated socket");
    c.connect(host, 7).await.err().map(|e| e.kind())
}

#[test]
fn names_resolve_only_through_the_worlds_dns_records() {
    let (sim, a, b) = two_hosts(20);
    spawn_echo(&b, "10.0.0.2", 7, 1);
    {
        let mut world = sim.world();
        world.add_dns("Server.sim", &[ip("10.0.0.2")]);
        world.set_dns_latency(Duration::from_millis(30));
    }
    let reply = a.run(echo_once("server.sim.", 7, b"by name"));
    assert_eq!(reply.expect("an echo through a name"), b"by name");
    let log = sim.world().log().entries().to_vec();
    assert!(
        log.iter()
            .any(|e| e.what.contains("dns server.sim. -> [10.0.0.2]"))
    );
    for name in ["nowhere.sim", "localhost.sim", "example.com"] {
        let start = sim.world().now();
        assert_eq!(
            a.run(connect_err(Family::INET, name)),
            Some(ErrorKind::HostNotFound)
        );
        assert_eq!(
            sim.world().now(),
            start + Duration::from_millis(30),
            "NXDOMAIN's latency"
        );
    }
    let v6 = a.run(connect_err(Family::INET6, "server.sim"));
    assert_eq!(
        v6,
        Some(ErrorKind::NoAddress),
        "a record of the other family only"
    );
}

#[test]
fn localhost_is_each_hosts_own_loopback() {
    let (sim, a, b) = two_hosts(23);
    sim.world().set_dns_latency(Duration::from_millis(30));
    spawn_echo(&b, "127.0.0.1", 7, 1);
    let start = sim.world().now();
    let refused = a.run(connect_err(Family::INET, "localhost"));
    assert_eq!(
        refused,
        Some(ErrorKind::ConnectionRefused),
        "b's loopback is b's"
    );
    assert_eq!(
        sim.world().now(),
        start,
        "no resolver latency for localhost"
    );
    spawn_echo(&a, "127.0.0.1", 7, 1);
    let reply = a.run(echo_once("LocalHost.", 7, b"own loopback"));
    assert_eq!(reply.expect("an echo through localhost"), b"own loopback");
    let v6 = a.run(connect_err(Family::INET6, "localhost"));
    assert_eq!(
        v6,
        Some(ErrorKind::ConnectionRefused),
        "::1, nobody listening"
    );
    let log = sim.world().log().entries().to_vec();
    assert!(
        log.iter()
            .any(|e| e.what.contains("dns localhost -> [::1, 127.0.0.1]")),
        "IPv6 first, as glibc orders /etc/hosts' localhost"
    );
}

#[test]
fn hyper_timer_deadlines_are_made_in_virtual_time() {
    use hyper::rt::Timer as _;
    let (sim, a, _b) = two_hosts(25);
    let start = sim.world().now();
    a.run(async {
        let timer = sock::hyper::Timer;
        assert_eq!(timer.now(), sock::clock(), "the host's clock, not the OS's");
        let deadline = timer.now() + Duration::from_secs(3601);
        timer.sleep(Duration::from_secs(3600)).await;
        timer.sleep_until(deadline).await;
    });
    assert_eq!(sim.world().now(), start + Duration::from_secs(3601));
}

#[test]
fn a_name_that_never_answers_times_out_in_virtual_time() {
    let (sim, a, _b) = two_hosts(21);
    sim.world().add_dns_timeout("slow.sim");
    let start = sim.world().now();
    assert_eq!(
        a.run(connect_err(Family::INET, "slow.sim")),
        Some(ErrorKind::TryAgain)
    );
    assert_eq!(sim.world().now(), start + sock::sim::DNS_TIMEOUT);
    let start = sim.world().now();
    let err = a.run(async {
        let c = sock::tcp(Family::INET)?;
        c.connect("slow.sim", 7)
            .timeout(Duration::from_secs(2))
            .await
    });
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(
        sim.world().now(),
        start + Duration::from_secs(2),
        "the deadline, not the resolver"
    );
}

#[test]
fn the_os_paths_panic_on_a_simulated_loop() {
    let (_sim, a, _b) = two_hosts(11);
    #[cfg(unix)]
    {
        let shared = catch_unwind(AssertUnwindSafe(|| {
            a.run(async { sock::os::unix::epoll_fd() })
        }));
        let payload = shared.expect_err("a simulated SharedLoop's epoll fd must panic");
        let msg = payload.downcast_ref::<String>().expect("a message");
        assert!(msg.contains("not simulated yet"), "{msg}");
    }
    // Raw sockets are simulated now (`sim/raw.rs`, tested by sim_raw.rs): no panic.
    let raw = a.run(async { sock::raw(Family::INET, sock::addr::Protocol::ICMP).map(drop) });
    raw.expect("a raw socket on a simulated host");
}

#[test]
fn address_lookups_answer_from_the_worlds_records() {
    use sock::addr::{Hints, LookupError, SocketType, lookup, resolve};
    let (sim, a, _b) = two_hosts(24);
    {
        let mut world = sim.world();
        world.add_dns("db.sim", &[ip("10.0.0.2"), ip("fd00::2")]);
        world.add_dns_timeout("slow.sim");
        world.set_dns_latency(Duration::from_millis(30));
    }
    let start = sim.world().now();
    let list = a.run(async { lookup("DB.sim.", 7, &Hints::tcp()) });
    let addrs: Vec<String> = list
        .expect("a record")
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(addrs, ["10.0.0.2:7", "[fd00::2]:7"]);
    assert_eq!(sim.world().now(), start, "a blocking lookup cannot wait");
    let every_type = a.run(async { lookup("db.sim", 7, &Hints::new()) });
    let types: Vec<SocketType> = every_type
        .expect("a record")
        .iter()
        .map(|e| e.socktype())
        .collect();
    let per_addr = [SocketType::STREAM, SocketType::DGRAM, SocketType::RAW];
    assert_eq!(types, [per_addr, per_addr].concat(), "getaddrinfo's order");
    let local = a.run(async { lookup("localhost", 80, &Hints::udp().family(Family::INET)) });
    assert_eq!(
        local
            .expect("own loopback")
            .first()
            .expect("one")
            .to_string(),
        "127.0.0.1:80"
    );
    let unknown = a.run(async { lookup("nowhere.sim", 7, &Hints::tcp()) });
    assert!(
        matches!(unknown, Err(LookupError::HostNotFound { .. })),
        "{unknown:?}"
    );
    let service = a.run(async { lookup("db.sim", "http", &Hints::tcp()) });
    assert!(
        matches!(service, Err(LookupError::ServiceNotFound { .. })),
        "{service:?}"
    );
    let resolved = a.run(async { resolve("db.sim", 7, &Hints::tcp().family(Family::INET6)).await });
    assert_eq!(
        resolved
            .expect("a record")
            .first()
            .expect("one")
            .to_string(),
        "[fd00::2]:7"
    );
    assert_eq!(
        sim.world().now(),
        start + Duration::from_millis(30),
        "the latency"
    );
    let slow = a.run(async { resolve("slow.sim", 7, &Hints::tcp()).await });
    assert_eq!(slow.expect_err("no answer").kind(), ErrorKind::TryAgain);
    let waited = start + Duration::from_millis(30) + sock::sim::DNS_TIMEOUT;
    assert_eq!(
        sim.world().now(),
        waited,
        "the resolver's timeout, virtually"
    );
    let literal = a.run(async { lookup("10.0.0.2", 7, &Hints::tcp()) });
    assert_eq!(
        literal
            .expect("a literal")
            .first()
            .expect("one")
            .to_string(),
        "10.0.0.2:7"
    );
    let unix = catch_unwind(AssertUnwindSafe(|| {
        a.run(async { drop(lookup("db.sim", 7, &Hints::new().family(Family::UNIX))) })
    }));
    let payload = unix.expect_err("no unix-domain resolver is simulated");
    let msg = payload.downcast_ref::<String>().expect("a message");
    assert!(msg.contains("sock::addr::lookup"), "{msg}");
}

#[test]
fn shutdown_write_lets_the_peer_read_eof_and_reply() {
    let (_sim, a, b) = two_hosts(12);
    spawn_echo(&b, "10.0.0.2", 7, 1);
    let reply = a.run(echo_once("10.0.0.2", 7, b"half-close"));
    assert_eq!(reply.expect("the reply after EOF"), b"half-close");
}

/// One body for both backends: an echo over "127.0.0.1", a server task and a client.
async fn loopback_echo_body() -> sock::Result<Vec<u8>> {
    let server = sock::tcp(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let port = server.local_addr()?.port();
    let served = sock::thread(async move {
        let conn = server.accept().await?;
        let data = conn.recvall().await?;
        conn.send(&data).await
    });
    let reply = echo_once("127.0.0.1", port, b"both backends").await?;
    served.join().await.expect("the server task")?;
    Ok(reply)
}

#[test]
fn one_body_runs_on_the_real_and_the_simulated_backend() {
    let wall = Instant::now();
    let real = sock::run(loopback_echo_body()).expect("on real loopback");
    let sim = Sim::new(World::from_env_or(13));
    let host = sim.add_host("local", &[ip("127.0.0.1")]);
    let simulated = host.run(loopback_echo_body()).expect("in the simulation");
    assert_eq!(real, simulated);
    assert_eq!(real, b"both backends");
    assert!(wall.elapsed() < HANG);
}

#[test]
fn a_full_send_buffer_waits_for_the_reader() {
    let (sim, a, b) = two_hosts(14);
    for host in [a.id(), b.id()] {
        sim.world().set_tcp_buffers(host, 2048, 2048);
    }
    spawn_echo(&b, "10.0.0.2", 7, 1);
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let reply = a.run(echo_once("10.0.0.2", 7, &msg));
    assert_eq!(reply.expect("the whole echo through 2 KiB buffers"), msg);
}

#[test]
fn happy_eyeballs_takes_the_address_that_answers() {
    let (sim, a, b) = two_hosts(15);
    spawn_echo(&b, "10.0.0.2", 7, 1);
    let dead: sock::SockAddr = "10.0.0.9:7".parse::<std::net::SocketAddr>().unwrap().into();
    let live: sock::SockAddr = "10.0.0.2:7".parse::<std::net::SocketAddr>().unwrap().into();
    let remote = a.run(async {
        let c = sock::tcp(Family::INET)?;
        c.connect_to(&vec![dead, live.clone()])
            .timeout(Duration::from_secs(5))
            .await?;
        c.remote_addr()
    });
    assert_eq!(remote.expect("the second address connects"), live);
    // The first attempt gets no answer: the second starts after the attempt delay.
    assert_eq!(
        sim.world().now(),
        sock::Tcp::attempt_delay() + Duration::from_millis(2)
    );
}

#[test]
fn a_scope_deadline_and_an_unbound_receive_end_on_virtual_time() {
    let (sim, a, _b) = two_hosts(16);
    // The scope is made inside the host's loop: its deadline reads that loop's clock.
    let err = a.run(async {
        let scope = sock::timeout(Duration::from_secs(90), async {
            let u = sock::udp(Family::INET)?;
            let mut buf = [0u8; 4];
            u.recv(&mut buf).await // unbound: waits on an ephemeral port
        });
        scope.await
    });
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(sim.world().now(), Duration::from_secs(90));
}

#[test]
fn owned_halves_read_and_write_from_two_tasks() {
    let (_sim, a, b) = two_hosts(17);
    let server = b.run(async {
        let s = sock::tcp(Family::INET).unwrap();
        s.listen("10.0.0.2", 9000).unwrap();
        s
    });
    b.spawn(async move {
        let conn = server.accept().await?;
        let (rd, wr) = conn.into_split();
        let echo = sock::thread(async move {
            let mut buf = [0u8; 100];
            loop {
                rd.readable().await?;
                let n = rd.recv(&mut buf).await?;
                if n == 0 {
                    return wr.shutdown_write();
                }
                wr.send(&buf[..n]).await?;
            }
        });
        echo.join().await.expect("the echo task")
    });
    let got = a.run(async {
        let c = sock::tcp(Family::INET)?;
        c.connect("10.0.0.2", 9000).await?;
        let (rd, wr) = c.into_split();
        let writer = sock::thread(async move {
            for i in 0..50u8 {
                wr.send(&[i; 300]).await?;
            }
            wr.shutdown_write()
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 700];
        loop {
            let n = rd.recv(&mut buf).timeout(Duration::from_secs(5)).await?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        writer.join().await.expect("the writer")?;
        Ok::<_, sock::Error>(got)
    });
    let want: Vec<u8> = (0..50u8).flat_map(|i| [i; 300]).collect();
    assert_eq!(got.expect("the echo through halves"), want);
}

#[test]
fn a_host_waits_a_virtual_day_for_another_hosts_timer() {
    let (sim, a, b) = two_hosts(18);
    let wall = Instant::now();
    let sleeper = b.spawn(async {
        sock::sleep(Duration::from_secs(24 * 3600 + 1)).await;
        sock::clock()
    });
    let started = a.run(async { sock::clock() });
    let woke = a.run(async { sleeper.join().await }).expect("b's sleeper");
    assert_eq!(woke - started, Duration::from_secs(24 * 3600 + 1));
    assert_eq!(sim.world().now(), Duration::from_secs(24 * 3600 + 1));
    assert!(wall.elapsed() < HANG);
}

/// Hosts each sleeping a virtual day in one task while host 0 waits for them all: the
/// wall time it took.
fn idle_hosts_for_a_day(n: u32) -> Duration {
    let sim = Sim::new(World::from_env_or(19));
    let hosts: Vec<Host> = (0..n)
        .map(|i| {
            let addr = IpAddr::from([10, 1, (i >> 8) as u8, i as u8]);
            sim.add_host(&format!("h{i}"), &[addr])
        })
        .collect();
    let sleepers: Vec<_> = hosts[1..]
        .iter()
        .map(|h| h.spawn(sock::sleep(Duration::from_secs(24 * 3600))))
        .collect();
    let wall = Instant::now();
    hosts[0].run(async {
        for s in sleepers {
            s.join().await.expect("a sleeper");
        }
    });
    assert_eq!(sim.world().now(), Duration::from_secs(24 * 3600));
    wall.elapsed()
}

#[test]
fn a_hundred_idle_hosts_sleep_a_virtual_day() {
    // The host loops share one idle poller, so the count is free; 1,000 hosts, with
    // the drive loop's work counted, are in `sim_scale.rs`.
    let wall = idle_hosts_for_a_day(100);
    assert!(wall < HANG, "{wall:?}");
}

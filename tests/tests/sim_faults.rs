//! Faults by seed in the simulation (`sock::sim`): clogging, per-host clock skew, host
//! crash and restart, scripted fault schedules, swarm mode and `buggify` points.
//!
//! Virtual times are asserted exactly (they are the model's, not the machine's); every
//! world takes its seed from `SOCK_SEED` when set, so a failure's printed seed replays.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use sock::sim::{ClockSkew, Fault, HostId, Sim, Swarm, World};
use sock::{ErrorKind, Expires, Family};
use sock_tests::sim::{SWARM_ROUNDS, ip, swarm_rounds};

/// A socket address from text.
fn sa(s: &str) -> SocketAddr {
    s.parse().expect("a literal socket address")
}

/// A world of `seed` (or `SOCK_SEED`) with hosts `a` (10.0.0.1) and `b` (10.0.0.2).
fn world2(seed: u64) -> (World, HostId, HostId) {
    let mut world = World::from_env_or(seed);
    let a = world.add_host("a", &[ip("10.0.0.1")]);
    let b = world.add_host("b", &[ip("10.0.0.2")]);
    (world, a, b)
}

/// A simulation of `seed` with hosts `a` and `b`.
fn sim2(seed: u64) -> (Sim, sock::sim::Host, sock::sim::Host) {
    let sim = Sim::new(World::from_env_or(seed));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2")]);
    (sim, a, b)
}

/// The datagrams waiting on `socket`, drained (none once a crash took it).
fn drain(world: &mut World, socket: sock::sim::SocketId) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    for _ in 0..10_000 {
        match world.udp_recv_from(socket, &mut buf) {
            Ok((n, _)) => got.push(buf[..n].to_vec()),
            Err(ErrorKind::WouldBlock | ErrorKind::Closed) => break, // Closed: crashed
            Err(e) => panic!("recv_from: {e:?}"),
        }
    }
    got
}

/// Spawns on `host` a TCP echo server at `addr:port` for one connection, echoing each
/// chunk as it comes until the end of stream or an error.
fn spawn_chunk_echo(host: &sock::sim::Host, addr: &'static str, port: u16) {
    let server = host.run(async {
        let server = sock::tcp(Family::INET).expect("a simulated socket");
        server.listen(addr, port).expect("listen");
        server
    });
    host.spawn(async move {
        let conn = server.accept().await?;
        let mut buf = [0u8; 256];
        for _ in 0..1000 {
            let n = conn.recv(&mut buf).await?;
            if n == 0 {
                break;
            }
            conn.send(&buf[..n]).await?;
        }
        Ok::<(), sock::Error>(())
    });
}

#[test]
fn a_clogged_direction_delays_datagrams_without_dropping_them() {
    let (mut world, a, b) = world2(1);
    let rx = world.udp_bind(b, sa("10.0.0.2:53")).unwrap();
    let tx = world.udp_bind(a, sa("0.0.0.0:0")).unwrap();
    world.clog(a, b, Duration::from_secs(2));
    for i in 0..10u8 {
        world.udp_send_to(tx, &[i], sa("10.0.0.2:53")).unwrap();
    }
    world.run_until(Duration::from_millis(2000));
    assert!(drain(&mut world, rx).is_empty(), "held while clogged");
    world.run_until(Duration::from_millis(2001)); // the clog's end plus the 1 ms link
    let got = drain(&mut world, rx);
    assert_eq!(got, (0..10u8).map(|i| vec![i]).collect::<Vec<_>>());
    // The other direction was never clogged.
    let back = world.udp_send_to(rx, b"r", sa("10.0.0.1:49152"));
    assert_eq!(back, Ok(1));
}

#[test]
fn a_clogged_host_holds_a_tcp_stream_in_order_until_it_unclogs() {
    let (sim, a, b) = sim2(2);
    spawn_chunk_echo(&b, "10.0.0.2", 7);
    sim.world().clog_host(b.id(), Duration::from_secs(5));
    let reply = a.run(async {
        let c = sock::tcp(Family::INET)?;
        c.connect("10.0.0.2", 7)
            .timeout(Duration::from_secs(60))
            .await?;
        for chunk in [&b"one "[..], b"two ", b"three"] {
            c.send(chunk).await?;
        }
        let mut reply = [0u8; 13];
        c.recvn(&mut reply).timeout(Duration::from_secs(60)).await?;
        Ok::<_, sock::Error>(reply)
    });
    assert_eq!(
        &reply.expect("the echo survives the clog"),
        b"one two three"
    );
    assert!(
        sim.world().now() >= Duration::from_secs(5),
        "held until the clog ended"
    );
}

#[test]
fn a_host_clock_skew_fires_its_deadlines_in_its_own_time() {
    let (sim, a, b) = sim2(3);
    let fast = ClockSkew {
        offset_nanos: 0,
        drift_ppm: 100_000, // 10 % fast
    };
    sim.world().set_clock_skew(a.id(), fast);
    a.run(sock::sleep(Duration::from_secs(10)));
    // The first virtual instant at which a's clock has moved 10 s: ceil(10 s / 1.1).
    assert_eq!(sim.world().now(), Duration::from_nanos(9_090_909_091));
    let slow = ClockSkew {
        offset_nanos: 0,
        drift_ppm: -500_000, // half speed
    };
    sim.world().set_clock_skew(b.id(), slow);
    let start = sim.world().now();
    b.run(sock::sleep(Duration::from_secs(1)));
    let took = sim.world().now() - start;
    assert!(
        took >= Duration::from_millis(1999) && took <= Duration::from_millis(2001),
        "{took:?}"
    );
}

#[test]
fn an_offset_moves_a_host_clock_but_not_its_sleeps() {
    let (sim, a, b) = sim2(4);
    let ahead = ClockSkew {
        offset_nanos: 5_000_000_000,
        drift_ppm: 0,
    };
    let behind = ClockSkew {
        offset_nanos: -3_000_000_000,
        drift_ppm: 0,
    };
    sim.world().set_clock_skew(a.id(), ahead);
    sim.world().set_clock_skew(b.id(), behind);
    let on_a = a.run(async { sock::clock() });
    let on_b = b.run(async { sock::clock() });
    assert_eq!(on_a - on_b, Duration::from_secs(8));
    assert_eq!(sim.world().host_time(a.id()), Duration::from_secs(5));
    let start = sim.world().now();
    let err = b.run(async {
        let c = sock::tcp(Family::INET)?;
        // Nobody owns 10.0.0.9: the connect waits until its deadline.
        c.connect("10.0.0.9", 80)
            .timeout(Duration::from_secs(7))
            .await
    });
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(sim.world().now() - start, Duration::from_secs(7));
}

#[test]
fn a_crashed_server_answers_nothing_then_resets_after_restart() {
    let (sim, a, b) = sim2(5);
    spawn_chunk_echo(&b, "10.0.0.2", 7);
    let client = a.run(async {
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("10.0.0.2", 7).await.unwrap();
        c.send(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        c.recvn(&mut buf).await.unwrap();
        c
    });
    sim.world().crash(b.id());
    let silent = a.run(async {
        client.send(b"anyone?").await?;
        let mut buf = [0u8; 8];
        client.recv(&mut buf).timeout(Duration::from_secs(10)).await
    });
    assert_eq!(
        silent.unwrap_err().kind(),
        ErrorKind::Timeout,
        "no FIN, no RST"
    );
    sim.world().restart(b.id());
    let reset = a.run(async {
        let mut buf = [0u8; 8];
        client.recv(&mut buf).timeout(Duration::from_secs(10)).await
    });
    assert_eq!(reset.unwrap_err().kind(), ErrorKind::ConnectionReset);
}

#[test]
fn a_segment_after_restart_draws_a_reset() {
    let (mut world, a, b) = world2(6);
    let listener = world.tcp_listen(b, sa("10.0.0.2:80"), 8).unwrap();
    let c = world.tcp_connect(a, sa("10.0.0.2:80")).unwrap();
    world.run_until_idle();
    world.tcp_accept(listener).unwrap();
    world.crash(b);
    world.restart(b); // nothing was sent meanwhile: the client does not know yet
    world.run_until_idle();
    assert_eq!(world.tcp_recv(c, &mut [0u8; 4]), Err(ErrorKind::WouldBlock));
    world.tcp_send(c, b"hi").unwrap();
    world.run_until_idle();
    assert_eq!(
        world.tcp_recv(c, &mut [0u8; 4]),
        Err(ErrorKind::ConnectionReset)
    );
}

#[test]
fn a_crashed_host_is_unreachable_not_refused_and_comes_back_with_its_addresses() {
    let (mut world, a, b) = world2(7);
    world.set_fd_limit(b, 1);
    world.tcp_listen(b, sa("10.0.0.2:80"), 8).unwrap();
    world.crash(b);
    assert!(!world.is_up(b));
    let c = world.tcp_connect(a, sa("10.0.0.2:80")).unwrap();
    world.run_until(Duration::from_secs(20));
    assert_eq!(
        world.tcp_connect_result(c),
        None,
        "SYNs to a dead host are lost"
    );
    world.restart(b);
    world.run_until_idle(); // the next SYN finds no listener now
    assert_eq!(
        world.tcp_connect_result(c),
        Some(Err(ErrorKind::ConnectionRefused))
    );
    // Same address, the port and the one descriptor free again.
    let listener = world.tcp_listen(b, sa("10.0.0.2:80"), 8).unwrap();
    let c2 = world.tcp_connect(a, sa("10.0.0.2:80")).unwrap();
    world.run_until_idle();
    assert_eq!(world.tcp_connect_result(c2), Some(Ok(())));
    assert!(
        world.tcp_accept(listener).is_err(),
        "fd limit 1: the listener holds it"
    );
}

#[test]
fn a_crash_fails_the_crashed_hosts_own_sockets() {
    let (sim, _a, b) = sim2(8);
    let udp = b.run(async {
        let u = sock::udp(Family::INET).unwrap();
        u.bind("10.0.0.2", 53).unwrap();
        u
    });
    sim.world().crash(b.id());
    let err = b.run(async {
        let mut buf = [0u8; 8];
        udp.recv(&mut buf).timeout(Duration::from_secs(1)).await
    });
    assert!(err.is_err(), "a socket of a crashed host is gone");
}

#[test]
fn a_scripted_schedule_applies_each_fault_at_its_time() {
    let (mut world, a, b) = world2(9);
    let s = Duration::from_secs;
    world.script([
        (
            s(1),
            Fault::Partition {
                from: a,
                to: b,
                both: true,
            },
        ),
        (s(3), Fault::Repair(a, b)),
        (s(5), Fault::Crash(b)),
        (s(6), Fault::Restart(b)),
    ]);
    let rx = world.udp_bind(b, sa("10.0.0.2:53")).unwrap();
    let tx = world.udp_bind(a, sa("0.0.0.0:0")).unwrap();
    let mut got = Vec::new();
    for k in 0..14u8 {
        let t = Duration::from_millis(250 + 500 * u64::from(k)); // 0.25 s, 0.75 s, …
        world.run_until(t);
        got.extend(drain(&mut world, rx));
        world.udp_send_to(tx, &[k], sa("10.0.0.2:53")).unwrap();
    }
    world.run_until_idle();
    got.extend(drain(&mut world, rx));
    // Sent before 1 s or between 3 s and 5 s; the crash at 5 s took the receiving
    // socket with datagram 9 (arrived at 4.751 s) still queued, and all sent later.
    assert_eq!(got, [0u8, 1, 6, 7, 8].map(|k| vec![k]).to_vec());
    let faults: Vec<(Duration, String)> = world
        .log()
        .entries()
        .iter()
        .filter(|e| e.host == "world")
        .map(|e| (e.at, e.what.clone()))
        .collect();
    let at = |what: &str| {
        faults
            .iter()
            .find(|(_, w)| w.starts_with(what))
            .map(|f| f.0)
    };
    assert_eq!(at("partition"), Some(s(1)));
    assert_eq!(at("repair"), Some(s(3)));
    assert_eq!(at("crash"), Some(s(5)));
    assert_eq!(at("restart"), Some(s(6)));
}

#[test]
fn swarm_draws_one_configuration_per_seed_and_varies_across_seeds() {
    let draw = |seed| {
        let (mut world, _, _) = world2(seed);
        world.add_host("c", &[ip("10.0.0.3")]);
        let swarm = world.swarm(Duration::from_secs(10));
        assert_eq!(world.swarm_config(), Some(swarm.to_string().as_str()));
        swarm
    };
    let configs: Vec<Swarm> = (0..200).map(draw).collect();
    assert_eq!(configs[17], draw(17));
    assert_eq!(configs[17].to_string(), draw(17).to_string());
    let some = |f: &dyn Fn(&Swarm) -> bool| configs.iter().any(f);
    assert!(some(&|s| s.link.loss > 0.0) && some(&|s| s.link.loss == 0.0));
    assert!(some(&|s| s.tcp.reset > 0.0) && some(&|s| s.tcp.reset == 0.0));
    assert!(some(&|s| s.buggify) && some(&|s| !s.buggify));
    let has = |s: &Swarm, f: fn(&Fault) -> bool| s.schedule.iter().any(|(_, x)| f(x));
    assert!(some(&|s| has(s, |f| matches!(f, Fault::Partition { .. }))));
    assert!(some(&|s| has(s, |f| matches!(f, Fault::Clog { .. }))));
    assert!(some(&|s| has(s, |f| matches!(f, Fault::Skew(..)))));
    assert!(some(&|s| s.schedule.is_empty()));
}

/// One swarm run of seed `seed`: the echo round trips of [`swarm_rounds`] over TCP;
/// the outcome kinds, the log hash and the configuration.
fn swarm_run(seed: u64) -> (Vec<Option<ErrorKind>>, u64, String) {
    let (sim, a, b) = sim2(seed);
    let swarm = sim.world().swarm(Duration::from_secs(10));
    let server = b.run(async {
        let s = sock::tcp(Family::INET).expect("a socket");
        s.listen("10.0.0.2", 7).expect("listen");
        s
    });
    b.spawn(async move {
        for _ in 0..SWARM_ROUNDS {
            let conn = server.accept().await?;
            sock::spawn(async move {
                let mut buf = [0u8; 64];
                let n = conn.recv(&mut buf).await?;
                conn.send(&buf[..n]).await
            });
        }
        Ok::<(), sock::Error>(())
    });
    let outcomes = a.run(swarm_rounds(|i| {
        sock::timeout(Duration::from_secs(30), async move {
            let c = sock::tcp(Family::INET)?;
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
fn a_swarm_run_replays_from_its_seed() {
    for seed in 0..20 {
        let first = swarm_run(seed);
        assert_eq!(first, swarm_run(seed), "seed {seed} gave two runs");
    }
}

#[test]
fn a_stuck_swarm_run_reports_the_seed_and_the_configuration() {
    let (sim, a, _b) = sim2(10);
    sim.world().swarm(Duration::from_secs(1));
    let result = catch_unwind(AssertUnwindSafe(|| {
        a.run(async {
            let u = sock::udp(Family::INET).unwrap();
            u.bind("10.0.0.1", 5353).unwrap();
            u.recv(&mut [0u8; 8]).await // nobody sends, no deadline
        })
    }));
    let payload = result.expect_err("a run that can never go on must fail");
    let msg = payload.downcast_ref::<String>().expect("a message");
    assert!(
        msg.contains("SOCK_SEED=") && msg.contains("swarm: link"),
        "{msg}"
    );
}

/// How often one fault point fired when reached `reaches` times on host `a` of a
/// simulation of `seed` with buggify `on`.
fn fired(seed: u64, on: bool, reaches: usize) -> Vec<bool> {
    let (sim, a, _b) = sim2(seed);
    sim.world().set_buggify(on);
    a.run(async move { (0..reaches).map(|_| sock::buggify!()).collect() })
}

#[test]
fn buggify_never_fires_on_a_real_loop_or_when_off() {
    let real = sock::run(async { (0..1000).filter(|_| sock::buggify!()).count() });
    assert_eq!(real, 0);
    for seed in 0..20 {
        assert!(!fired(seed, false, 200).contains(&true));
    }
}

#[test]
fn buggify_points_are_activated_per_run_then_fire_a_quarter_of_the_time() {
    let runs: Vec<Vec<bool>> = (0..200).map(|seed| fired(seed, true, 200)).collect();
    let counts: Vec<usize> = runs
        .iter()
        .map(|r| r.iter().filter(|f| **f).count())
        .collect();
    let active = counts.iter().filter(|c| **c > 0).count();
    // 25 % of runs activate the point (about 50 of 200 seeds).
    assert!((20..=90).contains(&active), "{active} active runs");
    for c in counts.iter().filter(|c| **c > 0) {
        assert!(
            (20..=90).contains(c),
            "an active point fired {c} of 200 times"
        );
    }
    assert_eq!(runs[3], fired(3, true, 200), "one seed, one set of firings");
}

#[test]
fn buggify_points_are_activated_independently_and_logged() {
    let mut only_one = false;
    for seed in 0..100 {
        let (sim, a, _b) = sim2(seed);
        sim.world().set_buggify(true);
        let (x, y) = a.run(async {
            let mut x = 0;
            let mut y = 0;
            for _ in 0..100 {
                x += usize::from(sock::buggify!());
                y += usize::from(sock::sim::buggify());
            }
            (x, y)
        });
        only_one |= (x > 0) != (y > 0);
        let logged = sim
            .world()
            .log()
            .entries()
            .iter()
            .filter(|e| e.what.starts_with("buggify"))
            .count();
        assert_eq!(logged, x + y);
    }
    assert!(
        only_one,
        "two points should not always share their activation"
    );
}

#[test]
fn a_crashed_host_loses_its_programs_and_runs_fresh_ones_after_restart() {
    let (sim, a, b) = sim2(11);
    spawn_chunk_echo(&b, "10.0.0.2", 7);
    let old = a.run(async {
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("10.0.0.2", 7).await.unwrap();
        c.send(b"ping").await.unwrap();
        c.recvn(&mut [0u8; 4]).await.unwrap();
        c
    });
    sim.crash(&b);
    let silent = a.run(async {
        old.send(b"hello?").await?;
        old.recv(&mut [0u8; 8])
            .timeout(Duration::from_secs(5))
            .await
    });
    assert_eq!(silent.unwrap_err().kind(), ErrorKind::Timeout);
    sim.restart(&b);
    spawn_chunk_echo(&b, "10.0.0.2", 7); // the port is free: the old server is gone
    let (reset, fresh) = a
        .run(async {
            let reset = old
                .recv(&mut [0u8; 8])
                .timeout(Duration::from_secs(5))
                .await;
            let c = sock::tcp(Family::INET)?;
            c.connect("10.0.0.2", 7).await?;
            c.send(b"again").await?;
            let mut buf = [0u8; 5];
            c.recvn(&mut buf).timeout(Duration::from_secs(5)).await?;
            Ok::<_, sock::Error>((reset, buf))
        })
        .expect("the restarted host serves");
    assert_eq!(reset.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(&fresh, b"again");
}

#[test]
fn a_crash_drops_the_hosts_tasks_and_timers() {
    let (sim, a, b) = sim2(12);
    let woke = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = woke.clone();
    let task = b.spawn(async move {
        sock::sleep(Duration::from_secs(10)).await;
        flag.set(true);
    });
    a.run(sock::sleep(Duration::from_secs(1)));
    sim.crash(&b);
    assert!(task.is_finished(), "the task went with the power");
    sim.restart(&b);
    a.run(sock::sleep(Duration::from_secs(20)));
    assert!(!woke.get(), "a timer from before the crash fired");
    assert_eq!(sim.world().now(), Duration::from_secs(21));
}

#[test]
fn crashing_the_host_whose_run_drives_the_simulation_panics() {
    let (sim, a, _b) = sim2(13);
    let result = catch_unwind(AssertUnwindSafe(|| a.run(async { sim.crash(&a) })));
    assert!(result.is_err());
}

#[test]
fn scripted_skews_and_host_clogs_apply_at_their_times() {
    let (mut world, a, b) = world2(14);
    let s = Duration::from_secs;
    let skew = ClockSkew {
        offset_nanos: 2_000_000_000,
        drift_ppm: 0,
    };
    world.script([
        (s(1), Fault::Skew(a, skew)),
        (
            s(2),
            Fault::ClogHost {
                host: b,
                duration: s(3),
            },
        ),
    ]);
    world.run_until(s(1) - Duration::from_nanos(1));
    assert_eq!(world.clock_skew(a), ClockSkew::default());
    world.run_until(s(1));
    assert_eq!(world.host_time(a), s(3));
    let rx = world.udp_bind(b, sa("10.0.0.2:53")).unwrap();
    let tx = world.udp_bind(a, sa("0.0.0.0:0")).unwrap();
    world.run_until(s(2));
    world.udp_send_to(tx, b"x", sa("10.0.0.2:53")).unwrap();
    world.run_until(s(5));
    assert!(drain(&mut world, rx).is_empty(), "b is clogged until 5 s");
    world.run_until(s(5) + Duration::from_millis(1));
    assert_eq!(drain(&mut world, rx), vec![b"x".to_vec()]);
}

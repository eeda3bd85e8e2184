//! `Loop::metrics` / `sock::metrics`, `LoopThreads::metrics`, `SharedLoop::metrics`:
//! each counter moves exactly as its documentation says, over real loopback sockets.
//!
//! Every test makes its own `Loop`, so the counters start at zero and nothing else
//! moves them. Durations are compared with the clock's own lower bounds only (a sleep
//! never ends early; a spin runs as long as it spins), never with upper ones.

use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, Loop, task::Metrics};
use sock_tests::{PATIENCE, listener};

/// A bound UDP socket and its address, on the current loop.
fn udp() -> (sock::Udp, std::net::SocketAddr) {
    let s = sock::udp(Family::INET).unwrap();
    s.bind("127.0.0.1", 0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    (s, addr)
}

/// Sends one datagram to `to` from a plain blocking socket (not on any loop).
fn send_datagram(to: std::net::SocketAddr) {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.send_to(b"x", to).unwrap();
}

#[test]
fn threads_alive_runnable_suspended_and_timers() {
    let lp = Loop::new().unwrap();
    let sleeper = lp.spawn(sock::sleep(Duration::from_secs(3600)));
    let quick = lp.spawn(async {});
    let m = lp.metrics();
    assert_eq!(
        (m.threads_alive, m.threads_runnable, m.threads_suspended),
        (2, 2, 0),
        "both spawned, queued to run: {m:?}"
    );
    assert_eq!(m.timers_armed, 0);
    lp.poll(Some(Duration::ZERO));
    assert!(quick.is_finished());
    let m = lp.metrics();
    assert_eq!(
        (m.threads_alive, m.threads_runnable, m.threads_suspended),
        (1, 0, 1),
        "the sleeper waits on its timer: {m:?}"
    );
    assert_eq!(m.timers_armed, 1, "the sleeper's timer");
    let callback = lp.executor().run_after(Duration::from_secs(3600), || {});
    assert_eq!(lp.metrics().timers_armed, 2, "plus a callback timer");
    assert!(callback.cancel());
    assert_eq!(lp.metrics().timers_armed, 1, "the callback cancelled");
    // From inside a thread: the running one is neither runnable nor suspended.
    let m = lp.run(async { sock::metrics() });
    assert_eq!(
        (m.threads_alive, m.threads_runnable, m.threads_suspended),
        (2, 0, 1)
    );
    sleeper.cancel();
    lp.poll(Some(Duration::ZERO));
    let m = lp.metrics();
    assert_eq!((m.threads_alive, m.timers_armed), (0, 0), "{m:?}");
}

#[test]
fn sockets_count_registrations_until_closed() {
    let lp = Loop::new().unwrap();
    lp.run(async {
        assert_eq!(sock::metrics().sockets, 0);
        let (server, _port) = listener(Family::INET);
        let (u, _) = udp();
        assert_eq!(sock::metrics().sockets, 2);
        u.close().unwrap();
        assert_eq!(sock::metrics().sockets, 1, "closed: deregistered");
        drop(server);
        assert_eq!(sock::metrics().sockets, 0);
    });
}

#[test]
fn polls_count_each_wait_on_the_poller() {
    let lp = Loop::new().unwrap();
    let before = lp.metrics().polls;
    for _ in 0..5 {
        lp.poll(Some(Duration::ZERO)); // nothing to do: one zero-timeout wait each
    }
    assert_eq!(lp.metrics().polls - before, 5);
    lp.spawn(async {});
    lp.poll(Some(Duration::ZERO)); // a task ran: one wait to collect events after it
    assert_eq!(lp.metrics().polls - before, 6);
}

#[test]
fn events_count_readiness_delivered_to_sockets() {
    let lp = Loop::new().unwrap();
    lp.run(async {
        let (s, addr) = udp();
        let reader = sock::spawn(async move {
            let mut buf = [0u8; 8];
            s.recv(&mut buf).timeout(PATIENCE).await
        });
        // The loop waits once: the fresh socket's writable event comes, the reader parks.
        sock::sleep(Duration::from_millis(5)).await;
        let m0 = sock::metrics();
        assert!(m0.events >= 1, "the fresh socket's writable event: {m0:?}");
        send_datagram(addr);
        assert_eq!(reader.join().await.unwrap().unwrap(), 1);
        let m1 = sock::metrics();
        if cfg!(windows) {
            // AFD (mio's Windows backend) may report the two halves in two completions.
            assert!(m1.events - m0.events >= 1, "a readable event: {m1:?}");
        } else {
            assert_eq!(m1.events - m0.events, 1, "one readable event: {m1:?}");
        }
        assert!(m1.polls > m0.polls);
        let ratio = m1.events as f64 / m1.polls as f64;
        assert_eq!(m1.events_per_poll(), ratio);
    });
}

#[test]
fn ops_parked_counts_a_would_block_that_waits() {
    let lp = Loop::new().unwrap();
    lp.run(async {
        let (s, addr) = udp();
        let mut buf = [0u8; 8];
        // Data already queued: the receive completes without waiting.
        send_datagram(addr);
        assert_eq!(s.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 1);
        assert_eq!(sock::metrics().ops_parked, 0);
        // Nothing queued: the receive parks once, then an event completes it.
        let sender = sock::spawn(async move {
            sock::sleep(Duration::from_millis(5)).await;
            send_datagram(addr);
        });
        assert_eq!(s.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 1);
        sender.join().await.unwrap();
        assert_eq!(sock::metrics().ops_parked, 1);
    });
}

#[test]
fn deadlines_expired_counts_timeouts_only() {
    let lp = Loop::new().unwrap();
    lp.run(async {
        let (s, addr) = udp();
        let mut buf = [0u8; 8];
        let err = s
            .recv(&mut buf)
            .timeout(Duration::from_millis(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(
            sock::metrics().deadlines_expired,
            1,
            "an operation's deadline"
        );
        let scoped = sock::timeout(Duration::from_millis(5), async {
            let mut buf = [0u8; 8];
            s.recv(&mut buf).await
        })
        .await;
        assert_eq!(scoped.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(sock::metrics().deadlines_expired, 2, "a scope's deadline");
        send_datagram(addr);
        assert_eq!(s.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 1);
        assert_eq!(
            sock::metrics().deadlines_expired,
            2,
            "a deadline that did not pass counts nothing"
        );
    });
}

#[test]
fn busy_and_parked_time() {
    let lp = Loop::new().unwrap();
    let m0 = lp.metrics();
    lp.run(sock::sleep(Duration::from_millis(30)));
    let m1 = lp.metrics();
    assert!(
        m1.parked - m0.parked >= Duration::from_millis(20),
        "a 30 ms sleep waits in the poller: {m1:?}"
    );
    lp.run(async {
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
    });
    let m2 = lp.metrics();
    assert!(
        m2.busy - m1.busy >= Duration::from_millis(30),
        "30 ms of work between waits: {m2:?}"
    );
    assert!(m2.parked >= m1.parked);
    assert!((0.0..=1.0).contains(&m2.busy_ratio()));
}

#[test]
fn lookups_queued_is_the_resolver_pools() {
    let lp = Loop::new().unwrap();
    assert_eq!(lp.metrics().lookups_queued, 0);
    let mut seen = 0;
    for round in 0..50u16 {
        lp.run(async {
            // Distinct ports: no two lookups merge. Each is queued on its first poll.
            let mut pending = Vec::new();
            for i in 0..8u16 {
                let hints = sock::addr::Hints::tcp();
                let port = 1000 + round * 8 + i;
                let mut lookup = Box::pin(sock::addr::resolve("localhost", port, &hints));
                if futures_lite::future::poll_once(lookup.as_mut())
                    .await
                    .is_none()
                {
                    pending.push(lookup);
                }
            }
            seen = seen.max(sock::metrics().lookups_queued);
            for lookup in pending {
                let _ = lookup.await;
            }
        });
        if seen > 0 {
            break;
        }
    }
    assert!(seen >= 1, "lookups in flight were never reported");
    assert_eq!(lp.metrics().lookups_queued, 0, "every lookup done");
}

#[test]
fn display_is_one_line() {
    let m: Metrics = Loop::new().unwrap().metrics();
    let line = m.to_string();
    assert!(!line.contains('\n'));
    for key in [
        "alive=",
        "events/poll=",
        "busy=",
        "parked_ops=",
        "expired=",
        "shed=",
    ] {
        assert!(line.contains(key), "{line}");
    }
}

#[test]
fn loop_threads_metrics_sum_every_loop() {
    let loops = sock::loops::spawn_loops(2).unwrap();
    // One parked receive on each loop.
    let addrs: Vec<_> = loops
        .handles()
        .iter()
        .map(|h| {
            let (tx, rx) = std::sync::mpsc::channel();
            drop(h.spawn_with(move || async move {
                let (s, addr) = udp();
                tx.send(addr).unwrap();
                let mut buf = [0u8; 8];
                s.recv(&mut buf).timeout(PATIENCE).await
            }));
            rx.recv().unwrap()
        })
        .collect();
    let mut m = loops.metrics();
    for _ in 0..1000 {
        if m.ops_parked == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
        m = loops.metrics();
    }
    assert_eq!(m.loops, 2);
    assert_eq!(m.ops_parked, 2, "one parked receive per loop: {m:?}");
    assert_eq!(m.sockets, 2);
    for addr in addrs {
        send_datagram(addr);
    }
    loops.join().unwrap();
}

#[test]
fn shared_loop_metrics() {
    let lp = sock::shared::SharedLoop::new().unwrap();
    let server = lp.udp(Family::INET).unwrap();
    server.bind("127.0.0.1", 0).unwrap();
    let addr = server.local_addr().unwrap().as_socket().unwrap();
    lp.spawn(async move {
        sock::sched::mt::sleep(Duration::from_millis(50)).await;
        send_datagram(addr);
    })
    .detach();
    let got = lp.run(async move {
        let mut buf = [0u8; 8];
        let n = server.recv(&mut buf).timeout(PATIENCE).await?;
        let err = server
            .recv(&mut buf)
            .timeout(Duration::from_millis(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        Ok::<_, sock::Error>(n)
    });
    assert_eq!(got.unwrap(), 1);
    let m = lp.metrics();
    assert_eq!(m.loops, 1);
    assert_eq!(m.ops_parked, 2, "both receives parked: {m:?}");
    assert_eq!(m.deadlines_expired, 1);
    assert!(m.events >= 1 && m.polls >= 1, "{m:?}");
    assert!(m.parked > Duration::ZERO);
    assert_eq!(m.threads_alive, 0);
    if cfg!(target_os = "linux") {
        assert_eq!(m.sockets, 0, "the socket was dropped with its task");
    }
}

/// Shedding under `EMFILE` (Unix: Windows has no per-process fd limit to shed for).
#[cfg(unix)]
mod shed {
    use std::io::Write;
    use std::time::Duration;

    use sock::{ErrorKind, Expires, Family, Loop};
    use sock_tests::{PATIENCE, listener, yield_now};

    /// Under `EMFILE` each `accept` that finds a connection waiting resets it and counts it
    /// shed: run in a child process (the fd limit is the whole process's).
    #[test]
    fn accepts_shed_under_emfile() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "shed::shed_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SHED_CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("shed=2 expired=1"), "{stdout}");
    }

    const SHED_CHILD: &str = "SOCK_METRICS_SHED_CHILD";

    /// The child of [`accepts_shed_under_emfile`]: two clients wait in the backlog, the
    /// process runs out of fds, two accepts shed them, a third finds none and waits until
    /// its deadline. Prints `shed=N expired=M`.
    #[test]
    fn shed_child() {
        if std::env::var(SHED_CHILD).is_err() {
            return;
        }
        let lp = Loop::new().unwrap();
        lp.run(async {
            let (server, port) = listener(Family::INET);
            let clients: Vec<_> = (0..2)
                .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
                .collect();
            let fill = sock_tests::harness::procfs::fill_fds();
            for _ in 0..2 {
                let err = server.accept().timeout(PATIENCE).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::TooManyOpenFiles);
            }
            let err = server
                .accept()
                .timeout(Duration::from_millis(20))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Timeout, "nobody waits: it parks");
            drop(fill);
            let m = sock::metrics();
            println!("shed={} expired={}", m.accepts_shed, m.deadlines_expired);
            std::io::stdout().flush().unwrap();
            yield_now().await;
            drop(clients);
        });
    }
}

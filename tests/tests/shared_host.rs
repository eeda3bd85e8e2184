//! A `SharedLoop`'s poller shared with others: a socket that outlived its loop while
//! the poller was adopted again, and a host that puts its own fds on the shared epoll
//! fd. No event may reach a socket of another table, nor be eaten, nor spin a worker.
//!
//! Every wait has a deadline, so a lost event fails its test with a message, never
//! hangs.

#![cfg(target_os = "linux")]

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use sock::{
    Expires, Family,
    shared::{SharedLoop, SharedUdp},
};
use sock_tests::PATIENCE;

/// Datagrams the host sends to its own socket.
const HOST_DATAGRAMS: usize = 100;

/// Starts `n` workers for `lp` and waits until they work.
fn workers(lp: &SharedLoop, n: usize) -> Vec<thread::JoinHandle<()>> {
    let threads = (0..n)
        .map(|_| {
            let lp = lp.clone();
            thread::spawn(move || lp.start())
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while lp.workers() < n && Instant::now() < deadline {
        thread::yield_now();
    }
    threads
}

fn stop(lp: &SharedLoop, threads: Vec<thread::JoinHandle<()>>) {
    lp.stop();
    for t in threads {
        t.join().expect("a worker panicked");
    }
}

/// A SharedUdp of `lp` bound to an ephemeral loopback port, and that port.
fn bound(lp: &SharedLoop) -> (SharedUdp, u16) {
    let u = lp.udp(Family::INET).unwrap();
    u.bind("127.0.0.1", 0).unwrap();
    let port = u.local_addr().unwrap().port();
    (u, port)
}

#[test]
fn a_socket_that_outlived_its_loop_gets_its_datagram_after_the_poller_is_adopted_again() {
    let lp = SharedLoop::new().unwrap();
    lp.make_current();
    let fd = sock::os::unix::epoll_fd();
    let (old, old_port) = bound(&lp); // the first key of its table
    SharedLoop::new().unwrap().make_current();
    drop(lp); // the loop is gone; `old` keeps the poller open
    sock::os::unix::set_epoll_fd(fd).unwrap(); // a new loop on the same poller
    let lp = SharedLoop::current();
    let (new, _) = bound(&lp); // before the fix: the same key, in a second table
    let threads = workers(&lp, 1);
    let old_rx = lp.spawn(async move {
        let mut buf = [0u8; 8];
        let n = old.recv(&mut buf).timeout(PATIENCE).await?;
        Ok::<_, sock::Error>(buf[..n].to_vec())
    });
    let new_rx = lp.spawn(async move {
        let mut buf = [0u8; 8];
        new.recv(&mut buf).timeout(Duration::from_millis(500)).await
    });
    thread::sleep(Duration::from_millis(100)); // both receivers park (else: no test)
    let sent = Instant::now();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"old", ("127.0.0.1", old_port)).unwrap();
    let got = old_rx.join();
    let took = sent.elapsed();
    assert!(new_rx.join().is_err(), "nothing was sent to the new socket");
    stop(&lp, threads);
    assert_eq!(got.map_err(|e| e.to_string()), Ok(b"old".to_vec()));
    // A receive that the event never woke still gets the datagram when its deadline
    // fires and it tries once more: only the time tells a lost event.
    assert!(
        took < PATIENCE / 2,
        "the old socket's event went elsewhere: its datagram came after {took:?}"
    );
}

/// Adds the host's `socket` to `lp`'s epoll fd with `key` and `events`.
fn add_host_fd(lp: &SharedLoop, socket: &UdpSocket, key: u64, events: i32) {
    let mut ev = libc::epoll_event {
        events: events as u32,
        u64: key,
    };
    // SAFETY: both fds are open; `ev` is a valid epoll_event.
    let added = unsafe {
        libc::epoll_ctl(
            lp.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            socket.as_raw_fd(),
            &mut ev,
        )
    };
    assert_eq!(added, 0, "{}", std::io::Error::last_os_error());
}

/// What the host's handler saw.
#[derive(Default)]
struct HostTally {
    /// Handler calls.
    calls: AtomicUsize,
    /// Datagrams it read.
    datagrams: AtomicUsize,
    /// Calls with a key other than the host's.
    wrong_keys: AtomicUsize,
}

/// Makes `lp` hand host events to a handler that drains `socket` (non-blocking) and
/// counts into the returned tally.
fn drain_host_events(lp: &SharedLoop, socket: &Arc<UdpSocket>, key: u64) -> Arc<HostTally> {
    socket.set_nonblocking(true).unwrap();
    let tally = Arc::new(HostTally::default());
    let (t, s) = (tally.clone(), socket.clone());
    lp.on_host_event(move |e| {
        t.calls.fetch_add(1, Ordering::AcqRel);
        if e.key() != key {
            t.wrong_keys.fetch_add(1, Ordering::AcqRel);
        }
        let mut buf = [0u8; 16];
        while s.recv(&mut buf).is_ok() {
            t.datagrams.fetch_add(1, Ordering::AcqRel);
        }
    });
    tally
}

/// A sock echo on `lp` (the first socket of its table: slot 0) and a client task doing
/// `rounds` round trips through it; the client's handle.
fn sock_traffic(
    lp: &SharedLoop,
    rounds: usize,
) -> sock::sched::mt::JoinHandle<sock::Result<usize>> {
    let (echo, _) = bound(lp);
    let addr = echo.local_addr().unwrap();
    lp.spawn(async move {
        let mut buf = [0u8; 64];
        loop {
            let (n, from) = echo.recv_from(&mut buf).await?;
            echo.send_to(&buf[..n], &from).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), sock::Error>(())
    })
    .detach();
    lp.spawn(async move {
        let c = SharedUdp::new(Family::INET)?;
        c.connect_to(&addr)?;
        let mut buf = [0u8; 64];
        for round in 0..rounds {
            c.send(&round.to_le_bytes()).timeout(PATIENCE).await?;
            let n = c.recv(&mut buf).timeout(PATIENCE).await?;
            assert_eq!(&buf[..n], round.to_le_bytes(), "a wrong echo");
        }
        Ok(rounds)
    })
}

/// Sends the host's datagrams to `port` one by one, then waits (bounded) until the
/// handler has read them all; what it read.
fn send_host_datagrams(port: u16, tally: &HostTally) -> usize {
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..HOST_DATAGRAMS {
        tx.send_to(&[i as u8], ("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_micros(200)); // one edge each, as a host's writes come
    }
    let deadline = Instant::now() + PATIENCE;
    while tally.datagrams.load(Ordering::Acquire) < HOST_DATAGRAMS && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    tally.datagrams.load(Ordering::Acquire)
}

#[test]
fn a_hosts_edge_triggered_fd_on_the_shared_poller_comes_back_to_it_event_by_event() {
    let lp = SharedLoop::new().unwrap();
    let host = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let key = SharedLoop::HOST_KEY | 1;
    let tally = drain_host_events(&lp, &host, key);
    let traffic = sock_traffic(&lp, 200);
    add_host_fd(&lp, &host, key, libc::EPOLLIN | libc::EPOLLET);
    let threads = workers(&lp, 2);
    let read = send_host_datagrams(host.local_addr().unwrap().port(), &tally);
    let rounds = traffic.join();
    stop(&lp, threads);
    assert_eq!(
        read, HOST_DATAGRAMS,
        "the host's datagrams its handler read"
    );
    assert_eq!(tally.wrong_keys.load(Ordering::Acquire), 0);
    assert_eq!(rounds.unwrap(), 200, "sock's own sockets go on meanwhile");
}

#[test]
fn a_hosts_level_triggered_fd_with_key_0_is_the_hosts_not_slot_0_and_nothing_spins() {
    let lp = SharedLoop::new().unwrap();
    let host = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let tally = drain_host_events(&lp, &host, 0);
    let traffic = sock_traffic(&lp, 200); // sock's slot 0: the echo
    add_host_fd(&lp, &host, 0, libc::EPOLLIN); // level-triggered, key 0: a careless host
    let threads = workers(&lp, 2);
    let read = send_host_datagrams(host.local_addr().unwrap().port(), &tally);
    thread::sleep(Duration::from_millis(50)); // a spinning worker would call on and on
    let calls = tally.calls.load(Ordering::Acquire);
    let rounds = traffic.join();
    stop(&lp, threads);
    assert_eq!(
        read, HOST_DATAGRAMS,
        "the host's datagrams its handler read"
    );
    assert_eq!(tally.wrong_keys.load(Ordering::Acquire), 0);
    // Each datagram is one readiness; both workers may see it before the handler
    // drains it. A worker spinning on an undrained fd would call thousands of times.
    assert!(
        calls <= 4 * HOST_DATAGRAMS,
        "{calls} handler calls for {HOST_DATAGRAMS} datagrams"
    );
    assert_eq!(
        rounds.unwrap(),
        200,
        "sock's slot 0 got only its own events"
    );
}

#[test]
#[should_panic(expected = "SharedLoop::on_host_event")]
fn a_hosts_event_without_a_handler_is_refused_loudly_not_eaten() {
    let lp = SharedLoop::new().unwrap();
    let host = UdpSocket::bind("127.0.0.1:0").unwrap();
    add_host_fd(
        &lp,
        &host,
        SharedLoop::HOST_KEY,
        libc::EPOLLIN | libc::EPOLLET,
    );
    host.send_to(b"x", host.local_addr().unwrap()).unwrap();
    for _ in 0..100 {
        lp.poll(Some(Duration::from_millis(100))); // panics at the host's event
    }
}

#[test]
fn a_host_drives_the_shared_loop_with_poll_and_next_deadline() {
    let lp = SharedLoop::new().unwrap();
    let (rx, port) = bound(&lp);
    let stage = Arc::new(AtomicUsize::new(0));
    let s = stage.clone();
    let t = lp.spawn(async move {
        let start = Instant::now();
        sock::sched::mt::sleep(Duration::from_millis(30)).await;
        let slept = start.elapsed();
        s.store(1, Ordering::Release); // now the host sends
        let mut buf = [0u8; 8];
        let n = rx.recv(&mut buf).timeout(PATIENCE).await?;
        s.store(2, Ordering::Release);
        Ok::<_, sock::Error>((slept, buf[..n].to_vec()))
    });
    let mut pfd = libc::pollfd {
        fd: lp.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (mut sent, mut polls) = (false, 0);
    while stage.load(Ordering::Acquire) < 2 && polls < 10_000 {
        // The host's wait (level-triggered poll(2)), rounded up to its milliseconds.
        let wait = lp
            .next_deadline()
            .map_or(PATIENCE, |t| t.saturating_duration_since(Instant::now()));
        let ms = i32::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, ms) };
        lp.poll(Some(Duration::ZERO));
        polls += 1;
        if !sent && stage.load(Ordering::Acquire) == 1 {
            tx.send_to(b"late", ("127.0.0.1", port)).unwrap();
            sent = true;
        }
    }
    let (slept, got) = t.join().unwrap();
    assert!(
        slept >= Duration::from_millis(30),
        "the timer fired early: {slept:?}"
    );
    assert_eq!(got, b"late");
    assert!(polls < 100, "{polls} host iterations: the host busy-looped");
    assert_eq!(lp.workers(), 0);
}

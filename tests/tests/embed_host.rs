//! The loop inside a host loop: a host that waits on the loop's fd — edge-triggered,
//! as mio and tokio do — and then calls `poll(Some(ZERO))` never stalls, even when more
//! events are pending than one wait takes.

#![cfg(target_os = "linux")]

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::{Family, Loop};

/// Datagram sockets, one datagram each: more than one epoll batch (1,024).
const SOCKETS: usize = 1500;

/// Raises the soft fd limit to the hard one (the test opens ~3,000 sockets).
fn raise_fd_limit() {
    // SAFETY: plain data; getrlimit fills it.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscalls on a valid struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

/// An edge-triggered host epoll watching `fd`.
fn edge_triggered_host(fd: i32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: plain syscall; the fd is checked, then owned.
    let host = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(host >= 0);
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: 1,
    };
    // SAFETY: both fds are open; `ev` is valid.
    let added = unsafe { libc::epoll_ctl(host, libc::EPOLL_CTL_ADD, fd, &mut ev) };
    assert_eq!(added, 0);
    // SAFETY: `host` is a fresh fd nobody else owns.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(host) }
}

/// One host wait: as long as the loop's next deadline says (none: `limit`); false if
/// it timed out.
fn host_wait(host: &std::os::fd::OwnedFd, lp: &Loop, limit: Duration) -> bool {
    let wait = match lp.next_deadline() {
        Some(t) => t.saturating_duration_since(Instant::now()).min(limit),
        None => limit,
    };
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `host` is open; one event fits in `ev`.
    let n = unsafe { libc::epoll_wait(host.as_raw_fd(), &mut ev, 1, ms) };
    n > 0 || wait.is_zero()
}

#[test]
fn an_edge_triggered_host_gets_every_event_of_a_burst_over_one_batch() {
    raise_fd_limit();
    let lp = Loop::new().unwrap();
    let received = Rc::new(Cell::new(0usize));
    let mut ports = Vec::new();
    for _ in 0..SOCKETS {
        let rx = lp.run(async { sock::udp(Family::INET) }).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        ports.push(rx.local_addr().unwrap().port());
        let received = received.clone();
        lp.spawn(async move {
            let mut buf = [0u8; 8];
            rx.recv(&mut buf).await.unwrap();
            received.set(received.get() + 1);
        });
    }
    let host = edge_triggered_host(lp.as_raw_fd());
    lp.poll(Some(Duration::ZERO)); // every receiver parks
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for port in &ports {
        tx.send_to(b"x", ("127.0.0.1", *port)).unwrap();
    }
    let mut stalls = 0;
    for _ in 0..10_000 {
        if received.get() == SOCKETS {
            break;
        }
        if !host_wait(&host, &lp, Duration::from_secs(2)) {
            stalls += 1; // nothing new for the host although receivers are still waiting
        }
        lp.poll(Some(Duration::ZERO));
    }
    assert_eq!(
        (received.get(), stalls),
        (SOCKETS, 0),
        "(received, host stalls)"
    );
}

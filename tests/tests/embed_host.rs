//! The loop inside a host loop: a host that waits on the loop's fd — edge-triggered,
//! as mio and tokio do, or level-triggered as `poll(2)` does — and then calls
//! `poll(Some(ZERO))` never stalls, even when more events are pending than one wait
//! takes. The same for a `SharedLoop` driven by a host.
//!
//! Each host runs the same burst: 1,500 receivers parked, one datagram each, and the
//! host loops (bounded) until all are received, counting the waits that timed out
//! although receivers were still waiting (stalls).

#![cfg(target_os = "linux")]

use std::cell::Cell;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sock::{Family, Loop, shared::SharedLoop};

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

/// How long a host waits: until `deadline` (none: `limit`), at most `limit`.
fn wait_for(deadline: Option<Instant>, limit: Duration) -> Duration {
    match deadline {
        Some(t) => t.saturating_duration_since(Instant::now()).min(limit),
        None => limit,
    }
}

/// Milliseconds for a host's wait, rounded up (a sub-millisecond wait is no busy poll).
fn millis(wait: Duration) -> i32 {
    i32::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
}

/// One epoll host wait on `host` at most `wait`; false if it timed out.
fn epoll_wait(host: &std::os::fd::OwnedFd, wait: Duration) -> bool {
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: `host` is open; one event fits in `ev`.
    let n = unsafe { libc::epoll_wait(host.as_raw_fd(), &mut ev, 1, millis(wait)) };
    n > 0 || wait.is_zero()
}

/// The burst on a `Loop`: `SOCKETS` receivers, each waiting for one datagram.
struct Burst {
    lp: Loop,
    /// The receivers' ports.
    ports: Vec<u16>,
    /// Datagrams received so far.
    received: Rc<Cell<usize>>,
}

impl Burst {
    /// The receivers, parked (one `poll` ran them up to their receive).
    fn new() -> Burst {
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
        lp.poll(Some(Duration::ZERO));
        Burst {
            lp,
            ports,
            received,
        }
    }

    fn done(&self) -> bool {
        self.received.get() == SOCKETS
    }

    /// Drives the burst with `host_wait` (given the loop's next deadline; false if the
    /// wait timed out) and `poll(ZERO)`; (received, stalls).
    fn drive(&self, mut host_wait: impl FnMut(Option<Instant>) -> bool) -> (usize, usize) {
        send_one_each(&self.ports);
        let mut stalls = 0;
        for _ in 0..10_000 {
            if self.done() {
                break;
            }
            if !host_wait(self.lp.next_deadline()) {
                stalls += 1; // nothing new for the host although receivers still wait
            }
            self.lp.poll(Some(Duration::ZERO));
        }
        (self.received.get(), stalls)
    }
}

/// One datagram to each port.
fn send_one_each(ports: &[u16]) {
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for port in ports {
        tx.send_to(b"x", ("127.0.0.1", *port)).unwrap();
    }
}

/// A host's patience with one wait.
const LIMIT: Duration = Duration::from_secs(2);

#[test]
fn an_edge_triggered_host_gets_every_event_of_a_burst_over_one_batch() {
    let burst = Burst::new();
    let host = edge_triggered_host(burst.lp.as_raw_fd());
    let got = burst.drive(|deadline| epoll_wait(&host, wait_for(deadline, LIMIT)));
    assert_eq!(got, (SOCKETS, 0), "(received, host stalls)");
}

#[test]
fn a_level_triggered_poll_host_gets_every_event_of_a_burst() {
    let burst = Burst::new();
    let mut pfd = libc::pollfd {
        fd: burst.lp.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let got = burst.drive(|deadline| {
        let wait = wait_for(deadline, LIMIT);
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, millis(wait)) };
        n > 0 || wait.is_zero()
    });
    assert_eq!(got, (SOCKETS, 0), "(received, host stalls)");
}

#[test]
fn a_mio_host_gets_every_event_of_a_burst() {
    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token};

    let burst = Burst::new();
    let mut poll = Poll::new().unwrap();
    let fd = burst.lp.as_raw_fd();
    let mut source = SourceFd(&fd);
    poll.registry()
        .register(&mut source, Token(0), Interest::READABLE) // edge-triggered, as mio is
        .unwrap();
    let mut events = Events::with_capacity(8);
    let got = burst.drive(|deadline| {
        let wait = wait_for(deadline, LIMIT);
        poll.poll(&mut events, Some(wait)).unwrap();
        !events.is_empty() || wait.is_zero()
    });
    assert_eq!(got, (SOCKETS, 0), "(received, host stalls)");
}

/// A raw fd for tokio's `AsyncFd`, which does not own it.
struct Fd(RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

#[test]
fn a_tokio_host_gets_every_event_of_a_burst() {
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    let burst = Burst::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let raw = Fd(burst.lp.as_raw_fd());
        // SAFETY: the loop's fd stays open and the same while `fd` lives: the loop
        // outlives this block. tokio's reactor watches it edge-triggered.
        let fd = unsafe { AsyncFd::register_with_interest(raw, Interest::READABLE) }.unwrap();
        send_one_each(&burst.ports);
        let mut stalls = 0;
        for _ in 0..10_000 {
            if burst.done() {
                break;
            }
            let limit = Instant::now() + LIMIT;
            let deadline = burst.lp.next_deadline();
            let until = deadline.map_or(limit, |t| t.min(limit));
            tokio::select! {
                ready = fd.readable() => ready.unwrap().clear_ready(),
                () = tokio::time::sleep_until(until.into()) => {
                    if deadline.is_none_or(|t| t > limit) {
                        stalls += 1; // the host's patience ran out, not a deadline
                    }
                }
            }
            burst.lp.poll(Some(Duration::ZERO));
        }
        (burst.received.get(), stalls)
    });
    assert_eq!(got, (SOCKETS, 0), "(received, host stalls)");
}

#[test]
fn a_shared_loop_driven_by_an_edge_triggered_host_gets_every_event_of_a_burst() {
    raise_fd_limit();
    let lp = SharedLoop::new().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let mut ports = Vec::new();
    for _ in 0..SOCKETS {
        let rx = lp.udp(Family::INET).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        ports.push(rx.local_addr().unwrap().port());
        let received = received.clone();
        lp.spawn(async move {
            let mut buf = [0u8; 8];
            rx.recv(&mut buf).await.unwrap();
            received.fetch_add(1, Ordering::AcqRel);
        })
        .detach();
    }
    let host = edge_triggered_host(lp.as_raw_fd());
    for _ in 0..100 {
        if lp.next_deadline().is_none() {
            break; // every receiver parked
        }
        lp.poll(Some(Duration::ZERO));
    }
    send_one_each(&ports);
    let mut stalls = 0;
    for _ in 0..10_000 {
        if received.load(Ordering::Acquire) == SOCKETS {
            break;
        }
        if !epoll_wait(&host, wait_for(lp.next_deadline(), LIMIT)) {
            stalls += 1;
        }
        lp.poll(Some(Duration::ZERO));
    }
    let got = (received.load(Ordering::Acquire), stalls);
    assert_eq!(got, (SOCKETS, 0), "(received, host stalls)");
}

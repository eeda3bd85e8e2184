//! Linux: foreign epoll fds, `EPOLLEXCLUSIVE` across epoll fds, and its refusal on a
//! nested epoll fd.

use std::io::ErrorKind;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use sock_poll_shared::os::linux::{CtlOp, Flags, ctl};
use sock_poll_shared::{Events, Poller};

fn foreign_epoll() -> OwnedFd {
    // SAFETY: epoll_create1 takes no pointers; the result is checked below.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: `fd` was just created and is owned by nothing else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[test]
fn an_open_fd_that_is_no_poller_of_ours_is_refused_by_lookup() {
    let _serial = crate::serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Poller::lookup(listener.as_raw_fd()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // SAFETY: `listener` outlives the call; from_raw must refuse a non-epoll fd.
    let err = unsafe { Poller::from_raw(listener.as_raw_fd()) }.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not an epoll fd"), "{err}");
}

#[test]
fn a_foreign_epoll_fd_is_adopted_without_taking_ownership() {
    let _serial = crate::serial();
    let epfd = foreign_epoll();
    {
        // SAFETY: `epfd` outlives the poller and nothing else waits on it.
        let poller = unsafe { Poller::from_raw(epfd.as_raw_fd()) }.unwrap();
        poller.post(8).unwrap();
        let mut events = Events::with_capacity(4);
        poller
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(events.iter().next().map(|e| e.key()), Some(8));
    }
    // Still open: the adopted poller did not close it.
    assert!(Poller::lookup(epfd.as_raw_fd()).unwrap_err().kind() == ErrorKind::InvalidInput);
}

#[test]
fn exclusive_wakes_one_of_several_epoll_fds_per_connection() {
    let _serial = crate::serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let pollers: Vec<Poller> = (0..4).map(|_| Poller::new().unwrap()).collect();
    for p in &pollers {
        let flags = Flags::READABLE | Flags::EXCLUSIVE;
        p.add(listener.as_raw_fd(), 1, flags).unwrap();
    }
    let waiters: Vec<_> = pollers
        .iter()
        .map(|p| {
            let (p, woken) = (p.clone(), woken.clone());
            thread::spawn(move || {
                let mut events = Events::with_capacity(4);
                p.wait(&mut events, Some(Duration::from_millis(500)))
                    .unwrap();
                if events.iter().any(|e| e.key() == 1) {
                    woken.fetch_add(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50)); // let all four block in epoll_wait
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    for w in waiters {
        w.join().unwrap();
    }
    // Without EXCLUSIVE all four would wake (level-triggered, nobody accepts).
    let n = woken.load(Ordering::Acquire);
    assert!((1..4).contains(&n), "{n} epoll fds woke for one connection");
}

#[test]
fn linux_refuses_exclusive_on_a_nested_epoll_fd() {
    let _serial = crate::serial();
    let outer = Poller::new().unwrap();
    let inner = Poller::new().unwrap();
    let err = ctl(
        outer.as_raw(),
        CtlOp::Add,
        inner.as_raw(),
        Flags::READABLE | Flags::EXCLUSIVE,
        1,
    )
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}

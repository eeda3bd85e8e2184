//! Reactor behaviour over real loopback sockets: readiness, stale tokens, waiters, wakes.

#![cfg(unix)] // the stale-token test needs dup(2); the rest runs on Windows via the facade suite

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use mio::Interest;
use sock_poll::{Closed, Direction, Reactor};

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter::default());
    (c.clone(), Waker::from(c))
}

/// A connected pair: (mio client, std server side).
fn pair() -> (mio::net::TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_nonblocking(true).unwrap();
    (mio::net::TcpStream::from_std(client), server)
}

fn poll_until(reactor: &Reactor, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        reactor.poll(Some(Duration::from_millis(10))).unwrap();
    }
    panic!("condition not reached within 500 polls");
}

#[test]
fn readable_event_wakes_the_reader() {
    let reactor = Reactor::new().unwrap();
    let (mut client, mut server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    reg.clear_ready(Direction::Read);
    let (count, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    assert!(reg.poll_ready(Direction::Read, &mut cx).is_pending());
    server.write_all(b"ping").unwrap();
    poll_until(&reactor, || count.0.load(Ordering::SeqCst) == 1);
    assert_eq!(
        reg.poll_ready(Direction::Read, &mut cx),
        Poll::Ready(Ok(()))
    );
    let mut buf = [0; 4];
    assert_eq!(client.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"ping");
}

#[test]
fn stale_event_for_reused_slot_is_dropped() {
    let reactor = Reactor::new().unwrap();
    let (mut old, mut old_peer) = pair();
    // A dup keeps the old registration alive in epoll after its slot is freed.
    // SAFETY: `dup` returns a fresh fd we own (checked below) and wrap exactly once.
    let dup = unsafe { libc::dup(old.as_raw_fd()) };
    assert!(dup >= 0);
    // SAFETY: `dup` is a valid, owned, open fd.
    let _keep = unsafe { std::fs::File::from_raw_fd(dup) };
    let old_reg = reactor.register(&mut old, Interest::READABLE).unwrap();
    drop(old_reg); // slot freed without EPOLL_CTL_DEL
    drop(old); // the dup keeps the open file description registered

    let (mut new, _new_peer) = pair();
    let new_reg = reactor.register(&mut new, Interest::READABLE).unwrap();
    let _ = reactor.poll(Some(Duration::ZERO)).unwrap(); // drain the initial writable edge
    new_reg.clear_ready(Direction::Read);
    let (count, waker) = counter();
    assert!(
        new_reg
            .poll_ready(Direction::Read, &mut Context::from_waker(&waker))
            .is_pending()
    );

    old_peer.write_all(b"for the old socket").unwrap();
    poll_until(&reactor, || reactor.stale_events() > 0);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "new socket woken by an old event"
    );
    assert!(!new_reg.is_ready(Direction::Read));
}

#[test]
fn unpark_from_another_thread_ends_a_blocking_poll() {
    let reactor = Reactor::new().unwrap();
    let unparker = reactor.unparker();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        unparker.unpark();
    });
    reactor.poll(None).unwrap(); // would block forever without the unpark
    t.join().unwrap();
}

#[test]
fn park_cleared_parks_a_ready_direction_until_the_next_event() {
    let reactor = Reactor::new().unwrap();
    let (mut client, mut server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    assert!(reg.is_ready(Direction::Read)); // fresh: worth a try
    let (count, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    let mut wait = sock_poll::Wait::default();
    reg.park_cleared(Direction::Read, &mut cx, &mut wait)
        .unwrap();
    assert!(wait.is_parked());
    assert!(!reg.is_ready(Direction::Read));
    assert!(
        reg.poll_wait(Direction::Read, &mut cx, &mut wait)
            .is_pending()
    );
    server.write_all(b"ping").unwrap();
    poll_until(&reactor, || count.0.load(Ordering::SeqCst) == 1);
    let polled = reg.poll_wait(Direction::Read, &mut cx, &mut wait);
    assert_eq!(polled, Poll::Ready(Ok(())));
    assert!(!wait.is_parked());
}

#[test]
fn park_cleared_on_a_closed_registration_is_closed_and_not_ready() {
    let reactor = Reactor::new().unwrap();
    let (mut client, _server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    reg.close();
    let (_count, waker) = counter();
    let mut wait = sock_poll::Wait::default();
    let parked = reg.park_cleared(Direction::Read, &mut Context::from_waker(&waker), &mut wait);
    assert_eq!(parked, Err(Closed));
    assert!(!wait.is_parked());
    assert!(!reg.is_ready(Direction::Read));
}

#[test]
fn close_wakes_every_waiter_with_closed() {
    let reactor = Reactor::new().unwrap();
    let (mut client, _server) = pair();
    let reg = reactor
        .register(&mut client, Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    reg.clear_ready(Direction::Read);
    reg.clear_ready(Direction::Write);
    let (reads, rw) = counter();
    let (writes, ww) = counter();
    assert!(
        reg.poll_ready(Direction::Read, &mut Context::from_waker(&rw))
            .is_pending()
    );
    assert!(
        reg.poll_ready(Direction::Write, &mut Context::from_waker(&ww))
            .is_pending()
    );
    reg.close();
    assert_eq!(reads.0.load(Ordering::SeqCst), 1);
    assert_eq!(writes.0.load(Ordering::SeqCst), 1);
    let polled = reg.poll_ready(Direction::Read, &mut Context::from_waker(&rw));
    assert_eq!(polled, Poll::Ready(Err(Closed)));
}

#[test]
#[should_panic(expected = "two tasks wait to read the same socket")]
fn a_second_reader_panics() {
    let reactor = Reactor::new().unwrap();
    let (mut client, _server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    reg.clear_ready(Direction::Read);
    let (_a, wa) = counter();
    let (_b, wb) = counter();
    let _ = reg.poll_ready(Direction::Read, &mut Context::from_waker(&wa));
    let _ = reg.poll_ready(Direction::Read, &mut Context::from_waker(&wb));
}

#[test]
fn a_cleared_waiter_lets_another_task_wait() {
    let reactor = Reactor::new().unwrap();
    let (mut client, _server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    reg.clear_ready(Direction::Read);
    let (_a, wa) = counter();
    let (_b, wb) = counter();
    assert!(
        reg.poll_ready(Direction::Read, &mut Context::from_waker(&wa))
            .is_pending()
    );
    reg.clear_waiter(Direction::Read);
    assert!(
        reg.poll_ready(Direction::Read, &mut Context::from_waker(&wb))
            .is_pending()
    );
}

#[test]
fn deregister_frees_the_slot() {
    let reactor = Reactor::new().unwrap();
    let (mut client, _server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    assert_eq!(reactor.registrations(), 1);
    reg.deregister(&mut client).unwrap();
    assert_eq!(reactor.registrations(), 0);
}

#[test]
fn ready_now_ends_a_wait_only_after_its_event_took_the_waiter() {
    let reactor = Reactor::new().unwrap();
    let (mut client, mut server) = pair();
    let reg = reactor.register(&mut client, Interest::READABLE).unwrap();
    let mut wait = sock_poll::Wait::default();
    assert!(reg.ready_now(Direction::Read, &mut wait)); // fresh: worth a try
    let (count, waker) = counter();
    let mut cx = Context::from_waker(&waker);
    reg.park_cleared(Direction::Read, &mut cx, &mut wait)
        .unwrap();
    assert!(!reg.ready_now(Direction::Read, &mut wait)); // not ready: nothing changes
    assert!(wait.is_parked());
    // Ready again while the waiter is still stored (`reset` keeps it, as a wake from
    // elsewhere would): ready_now leaves it to poll_wait, which drops the waiter.
    reg.reset(Direction::Read);
    assert!(!reg.ready_now(Direction::Read, &mut wait));
    assert!(wait.is_parked());
    assert_eq!(
        reg.poll_wait(Direction::Read, &mut cx, &mut wait),
        Poll::Ready(Ok(()))
    );
    assert!(!wait.is_parked());
    // Parked again; the event takes the waiter, and then ready_now ends the wait.
    reg.park_cleared(Direction::Read, &mut cx, &mut wait)
        .unwrap();
    server.write_all(b"ping").unwrap();
    poll_until(&reactor, || count.0.load(Ordering::SeqCst) == 1);
    assert!(wait.is_parked());
    assert!(reg.ready_now(Direction::Read, &mut wait));
    assert!(!wait.is_parked());
    reg.close();
    assert!(!reg.ready_now(Direction::Read, &mut wait)); // closed: poll_wait says so
}

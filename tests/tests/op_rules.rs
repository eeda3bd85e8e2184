//! The operation protocol's rules where the kernel's readiness does not tell the whole
//! story: a short read that did not drain (the TCP urgent mark, unix streams with
//! `so_passcred`), a send whose readiness the kernel does not track (unconnected unix
//! datagrams), a deadline already past with the fairness budget spent, an operation
//! moved between tasks, and `readable()` after a read that exactly filled its buffer.
//! Each was a defect found by randomized API sequences; each test failed before its fix.

#![cfg(target_os = "linux")]

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family};
use sock_tests::{PATIENCE, listener};

/// CPU time of the calling OS thread (the loop runs on it).
fn thread_cpu() -> Duration {
    // SAFETY: `rusage` is plain data; all-zero is a valid value for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall filling `ru`.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) }, 0);
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(ru.ru_utime) + micros(ru.ru_stime))
}

/// Runs `f`, asserting that it used less than half a CPU over its wall time (a spin
/// uses all of it); returns its output.
async fn without_spinning<T>(f: impl Future<Output = T>) -> T {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let out = f.await;
    let (wall, cpu) = (wall.elapsed(), thread_cpu() - cpu);
    assert!(cpu < wall / 2, "spun: {cpu:?} of CPU in {wall:?}");
    out
}

/// Polls `op` once: `Some` when it completed without waiting (it must, when what it
/// needs is already queued), `None` when it parked. Deterministic, unlike a deadline.
fn poll_once<T>(op: impl Future<Output = T>) -> Option<T> {
    let mut op = std::pin::pin!(op);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match op.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

fn temp_path(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("sock-oprules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_str().expect("UTF-8 temp dir").to_owned()
}

#[test]
fn a_read_stopped_at_the_urgent_mark_does_not_stall_the_next() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        (&peer).write_all(b"hello").unwrap();
        socket2::SockRef::from(&peer)
            .send_out_of_band(b"!")
            .unwrap();
        (&peer).write_all(b"world").unwrap();
        sock::sleep(Duration::from_millis(20)).await; // all of it queued, events seen
        let mut buf = [0u8; 64];
        let n = conn.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"hello", "Linux stops a read at the urgent mark");
        let n = poll_once(conn.recv(&mut buf)).expect("the bytes after the mark are queued");
        assert_eq!(&buf[..n.unwrap()], b"world");
    });
}

#[test]
fn a_unix_stream_read_stopped_by_other_credentials_does_not_stall_the_next() {
    let path = temp_path("passcred");
    let p = path.clone();
    sock::run(async move {
        let server = sock::tcp(Family::UNIX).unwrap();
        server.listen(&p, 0).unwrap();
        let peer = std::os::unix::net::UnixStream::connect(&p).unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        conn.setopt("so_passcred", true).unwrap();
        (&peer).write_all(b"parent").unwrap();
        write_from_child(&peer, b"child");
        sock::sleep(Duration::from_millis(20)).await;
        let mut buf = [0u8; 64];
        let n = conn.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"parent",
            "a read stops where the credentials change"
        );
        let n = poll_once(conn.recv(&mut buf)).expect("the child's write is queued");
        assert_eq!(&buf[..n.unwrap()], b"child");
    });
    let _ = std::fs::remove_file(path);
}

/// Writes `bytes` to `stream` from a forked child process (other credentials: pid).
fn write_from_child(stream: &std::os::unix::net::UnixStream, bytes: &[u8]) {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    // SAFETY: the child only calls async-signal-safe `write` and `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: `fd` is open in the child (inherited); `bytes` is a valid buffer.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if n == bytes.len() as isize { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
}

#[test]
fn an_unconnected_unix_datagram_send_to_a_full_receiver_waits_without_spinning() {
    let (rx_path, tx_path) = (temp_path("dgfull-rx"), temp_path("dgfull-tx"));
    let (rp, tp) = (rx_path.clone(), tx_path.clone());
    sock::run(async move {
        let rx = sock::udp(Family::UNIX).unwrap();
        rx.bind(&rp, 0).unwrap();
        let tx = sock::udp(Family::UNIX).unwrap();
        tx.bind(&tp, 0).unwrap();
        let to = rx.local_addr().unwrap();
        let mut sent = 0;
        loop {
            match tx
                .send_to(&[7u8; 256], &to)
                .timeout(Duration::from_millis(50))
                .await
            {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == ErrorKind::Timeout => break,
                Err(e) => panic!("send failed: {e}"),
            }
            assert!(sent < 100_000, "the receiver's queue never filled");
        }
        let timed_out = without_spinning(async {
            tx.send_to(b"x", &to)
                .timeout(Duration::from_millis(300))
                .await
        });
        assert_eq!(timed_out.await.unwrap_err().kind(), ErrorKind::Timeout);
        let mut buf = [0u8; 512];
        rx.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        tx.send_to(b"x", &to).timeout(PATIENCE).await.unwrap();
    });
    let _ = std::fs::remove_file(rx_path);
    let _ = std::fs::remove_file(tx_path);
}

#[test]
fn a_past_deadline_completes_every_ready_operation_whatever_the_budget() {
    sock::run(async {
        let rx = sock::udp(Family::INET).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        let port = rx.local_addr().unwrap().port();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..200u32 {
            tx.send_to(&i.to_be_bytes(), ("127.0.0.1", port)).unwrap();
        }
        sock::sleep(Duration::from_millis(20)).await;
        let mut buf = [0u8; 4];
        for i in 0..200u32 {
            let n = rx.recv(&mut buf).expires(sock::clock()).await;
            assert_eq!(n.unwrap_or_else(|e| panic!("datagram {i}: {e}")), 4);
            assert_eq!(u32::from_be_bytes(buf), i);
        }
        let e = rx.recv(&mut buf).expires(sock::clock()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "the queue is empty now");
    });
}

/// A receive future passed between tasks.
type Moving = Rc<RefCell<Option<Pin<Box<dyn Future<Output = sock::Result<usize>>>>>>>;

#[test]
fn an_operation_started_in_one_task_finishes_in_another() {
    sock::run(async {
        let rx = Rc::new(sock::udp(Family::INET).unwrap());
        rx.bind("127.0.0.1", 0).unwrap();
        let port = rx.local_addr().unwrap().port();
        let slot: Moving = Rc::new(RefCell::new(None));
        let (rx2, slot2) = (rx.clone(), slot.clone());
        let a = sock::spawn(async move {
            let mut op: Pin<Box<dyn Future<Output = _>>> = Box::pin(async move {
                let mut buf = [0u8; 8];
                rx2.recv(&mut buf).await
            });
            let waker = std::task::Waker::noop();
            let polled = op.as_mut().poll(&mut std::task::Context::from_waker(waker));
            assert!(polled.is_pending(), "nothing was sent yet");
            *slot2.borrow_mut() = Some(op);
        });
        a.join().await.unwrap();
        let op = slot.borrow_mut().take().expect("task A parked the receive");
        let b = sock::spawn(op);
        sock::sleep(Duration::from_millis(10)).await; // task B polls and parks first
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"moved", ("127.0.0.1", port)).unwrap();
        let n = b.join().await.unwrap().unwrap();
        assert_eq!(n, 5);
    });
}

#[test]
fn readable_waits_after_a_read_that_exactly_filled_the_buffer() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        let idle = conn.readable().timeout(Duration::from_millis(100)).await;
        assert_eq!(
            idle.unwrap_err().kind(),
            ErrorKind::Timeout,
            "fresh and idle"
        );
        (&peer).write_all(b"12345678").unwrap();
        conn.readable().timeout(PATIENCE).await.unwrap();
        let mut buf = [0u8; 8];
        conn.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        let drained = conn.readable().timeout(Duration::from_millis(100)).await;
        assert_eq!(
            drained.unwrap_err().kind(),
            ErrorKind::Timeout,
            "nothing left"
        );
        (&peer).write_all(b"more").unwrap();
        conn.readable().timeout(PATIENCE).await.unwrap();
        drop(peer);
        let n = conn.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"more");
        conn.readable().timeout(PATIENCE).await.unwrap(); // EOF: a read would not block
    });
}

#[test]
fn dropping_an_operation_an_event_already_woke_keeps_the_next_waiter() {
    sock::run(async {
        let rx = Rc::new(sock::udp(Family::INET).unwrap());
        rx.bind("127.0.0.1", 0).unwrap();
        let port = rx.local_addr().unwrap().port();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut first_buf = [0u8; 8];
        let mut first = Box::pin(rx.recv(&mut first_buf));
        assert!(
            poll_once(first.as_mut()).is_none(),
            "nothing sent yet: it parks"
        );
        tx.send_to(b"one", ("127.0.0.1", port)).unwrap();
        sock::sleep(Duration::from_millis(20)).await; // the event wakes `first`'s waker
        let mut buf = [0u8; 8];
        assert_eq!(rx.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 3);
        let (rx2, got) = (rx.clone(), Rc::new(std::cell::Cell::new(None)));
        let got2 = got.clone();
        let _next = sock::spawn(async move {
            let mut buf = [0u8; 8];
            got2.set(Some(rx2.recv(&mut buf).await.unwrap())); // no deadline: no last try
        });
        sock::sleep(Duration::from_millis(20)).await; // `next` parks
        drop(first); // must not take `next`'s waiter with it
        tx.send_to(b"two", ("127.0.0.1", port)).unwrap();
        for _ in 0..500 {
            if got.get().is_some() {
                break;
            }
            sock::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(got.get(), Some(3), "`next` was never woken");
    });
}

/// `sock::addr::resolve` is an operation: it takes `.timeout(d)` / `.expires(t)`, a
/// numeric lookup passes even a deadline already past, and a name lookup cut short is
/// a `Timeout` that names the lookup.
#[test]
fn resolve_takes_a_deadline() {
    use sock::Expires;
    use sock::addr::{Hints, resolve};
    sock::run(async {
        let hints = Hints::tcp();
        let list = resolve("::1", 80, &hints)
            .timeout(sock_tests::PATIENCE)
            .await?;
        assert_eq!(list.first().expect("one address").to_string(), "[::1]:80");
        let past = sock::clock() - std::time::Duration::from_millis(1);
        assert_eq!(
            resolve("127.0.0.1", 80, &hints).expires(past).await?.len(),
            1
        );
        // A name goes to the resolver pool: past its deadline it has either answered
        // already (the last try sees it) or it is a timeout of the lookup.
        match resolve("localhost", 80, &hints).expires(past).await {
            Ok(list) => assert!(list.iter().all(|e| e.addr().port() == 80)),
            Err(e) => {
                assert_eq!(e.kind(), sock::ErrorKind::Timeout, "{e}");
                assert!(e.to_string().contains("lookup"), "{e}");
            }
        }
        Ok::<(), sock::Error>(())
    })
    .expect("the lookups");
}

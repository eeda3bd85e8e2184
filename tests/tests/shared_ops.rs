//! The shared-poller mode's operations follow the loop mode's protocol (issue 13, item
//! 3): every blocking call of `SharedTcp` and `SharedUdp` is an [`Op`] that takes
//! `.timeout(d)` / `.expires(t)`, names itself in its timeout, and carries the bytes it
//! moved; scope deadlines (`sock::shared::deadline`/`timeout`) bound every operation a
//! task awaits; and an operation that completes without parking allocates nothing, with
//! or without a deadline.

#![cfg(any(target_os = "linux", windows))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use sock::shared::{SharedLoop, SharedTcp, SharedUdp};
use sock::{Error, ErrorKind, Expires, Family, Op, io::RecvFlags};
use sock_tests::PATIENCE;

/// The system allocator, counting allocations per OS thread.
struct Counting;

thread_local! {
    /// Allocations (and reallocations) made by this OS thread.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation on this thread (never during thread-local teardown).
fn count() {
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call goes straight to `System`; the count is a thread-local cell with a
// `const` initializer, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A deadline that ends a wait nobody will end otherwise.
const SHORT: Duration = Duration::from_millis(20);

/// Runs `f` on a shared loop whose only worker is this thread.
fn on_one_worker<F, T>(f: F) -> T
where
    F: std::future::Future<Output = sock::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let lp = SharedLoop::new().expect("shared loop");
    lp.run(f).expect("the test's I/O")
}

/// A connected pair on loopback: (client, accepted side).
async fn pair() -> sock::Result<(SharedTcp, SharedTcp)> {
    let listener = SharedTcp::new(Family::INET)?;
    listener.listen("127.0.0.1", 0)?;
    let client = SharedTcp::new(Family::INET)?;
    client
        .connect_to(&listener.local_addr()?)
        .timeout(PATIENCE)
        .await?;
    let server = listener.accept().timeout(PATIENCE).await?;
    Ok((client, server))
}

/// Two UDP sockets on loopback, each connected to the other.
async fn udp_pair() -> sock::Result<(SharedUdp, SharedUdp)> {
    let a = SharedUdp::new(Family::INET)?;
    a.bind("127.0.0.1", 0)?;
    let b = SharedUdp::new(Family::INET)?;
    b.bind("127.0.0.1", 0)?;
    a.connect_to(&b.local_addr()?)?;
    b.connect_to(&a.local_addr()?)?;
    Ok((a, b))
}

/// Asserts `r` is the timeout of the operation called `name` (its message says so).
fn assert_timeout_of<T: std::fmt::Debug>(r: sock::Result<T>, name: &str) -> Error {
    let e = r.expect_err("the deadline should have ended the operation");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{name}: {e}");
    assert!(
        e.to_string().contains(name),
        "the timeout names `{name}`: {e}"
    );
    e
}

#[test]
fn every_stream_call_takes_a_deadline_and_names_itself_in_its_timeout() {
    on_one_worker(async {
        let listener = SharedTcp::new(Family::INET)?;
        listener.listen("127.0.0.1", 0)?;
        assert_timeout_of(listener.accept().timeout(SHORT).await, "accept");
        let (client, server) = pair().await?;
        let mut buf = [0u8; 8];
        assert_timeout_of(server.recv(&mut buf).timeout(SHORT).await, "recv");
        if cfg!(target_os = "linux") {
            // Receive flags: Linux (Windows answers `Unsupported`).
            let t = Instant::now() + SHORT;
            let r = server.recv_with(&mut buf, RecvFlags::PEEK).expires(t).await;
            assert_timeout_of(r, "recv");
        }
        client.send(b"half").timeout(PATIENCE).await?;
        let e = assert_timeout_of(server.recvn(&mut buf).timeout(SHORT).await, "recvn");
        assert_eq!(
            e.transferred(),
            4,
            "recvn's timeout carries the bytes it had"
        );
        // A peer that never reads: the send fills both buffers, then times out.
        let big = vec![7u8; 64 << 20];
        let e = assert_timeout_of(client.send(&big).timeout(SHORT).await, "send");
        assert!(e.transferred() > 0 && e.transferred() < big.len(), "{e:?}");
        // The socket goes on after an operation's own deadline.
        let port = listener.local_addr()?.port();
        let other = SharedTcp::new(Family::INET)?;
        other.connect("127.0.0.1", port).timeout(PATIENCE).await?;
        other.send(b"ok").timeout(PATIENCE).await?;
        let conn = listener.accept().timeout(PATIENCE).await?;
        conn.recvn(&mut buf[..2]).timeout(PATIENCE).await?;
        assert_eq!(&buf[..2], b"ok");
        Ok(())
    });
}

#[test]
fn every_datagram_call_takes_a_deadline_and_names_itself_in_its_timeout() {
    on_one_worker(async {
        let (a, b) = udp_pair().await?;
        let mut buf = [0u8; 16];
        assert_timeout_of(a.recv(&mut buf).timeout(SHORT).await, "recv");
        assert_timeout_of(a.recv_from(&mut buf).timeout(SHORT).await, "recvnext");
        if cfg!(target_os = "linux") {
            // Receive flags: Linux (Windows answers `Unsupported`).
            let peek = RecvFlags::PEEK;
            assert_timeout_of(a.recv_with(&mut buf, peek).timeout(SHORT).await, "recv");
            let r = a.recv_from_with(&mut buf, peek).timeout(SHORT).await;
            assert_timeout_of(r, "recvnext");
        }
        // The sends complete before their deadlines, and the datagrams arrive.
        b.send(b"one").timeout(PATIENCE).await?;
        assert_eq!(a.recv(&mut buf).timeout(PATIENCE).await?, 3);
        b.send_to(b"two", &a.local_addr()?)
            .timeout(PATIENCE)
            .await?;
        let port = a.local_addr()?.port();
        b.send_to(b"three", &("127.0.0.1", port, sock::Flags::NUMERICHOST))
            .timeout(PATIENCE)
            .await?;
        let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await?;
        assert_eq!((&buf[..n], from), (&b"two"[..], b.local_addr()?));
        assert_eq!(a.recv(&mut buf).timeout(PATIENCE).await?, 5);
        Ok(())
    });
}

#[test]
fn a_past_deadline_still_completes_an_operation_that_need_not_wait() {
    on_one_worker(async {
        let (a, b) = udp_pair().await?;
        b.send(b"queued").timeout(PATIENCE).await?;
        let mut buf = [0u8; 16];
        let past = Instant::now() - Duration::from_millis(5);
        // The datagram is in the queue: the last try before failing receives it.
        let mut n = 0;
        for _ in 0..100 {
            match a.recv(&mut buf).expires(past).await {
                Ok(got) => {
                    n = got;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Timeout => sock::sched::mt::sleep(SHORT).await,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(&buf[..n], b"queued");
        assert_timeout_of(a.recv(&mut buf).expires(past).await, "recv");
        Ok(())
    });
}

#[test]
fn a_scope_deadline_ends_each_stalled_step_of_a_request() {
    on_one_worker(async {
        let (client, _server) = pair().await?;
        // The server never answers: the receive ends at the scope's deadline.
        let start = Instant::now();
        let scope = sock::shared::timeout(SHORT, async {
            client.send(b"ping").await?;
            let mut buf = [0u8; 4];
            client.recvn(&mut buf).await
        });
        let e = scope
            .await
            .expect_err("the scope's deadline ends the receive");
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(
            start.elapsed() >= SHORT,
            "never early: {:?}",
            start.elapsed()
        );
        // A send that stalls on a full buffer ends there too, with the bytes it sent.
        let big = vec![1u8; 64 << 20];
        let e = sock::shared::timeout(SHORT, client.send(&big))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(
            e.transferred() > 0,
            "the bytes sent before the scope ended: {e:?}"
        );
        // Nested: the earlier deadline wins, and an operation's own deadline inside a
        // scope leaves the socket usable.
        let (_client, server) = pair().await?;
        let mut buf = [0u8; 4];
        let outer = sock::shared::timeout(PATIENCE, async {
            let inner = sock::shared::timeout(SHORT, server.recv(&mut buf)).await;
            assert_eq!(inner.unwrap_err().kind(), ErrorKind::Timeout);
            let own = server.recv(&mut buf).timeout(SHORT).await;
            assert_eq!(own.unwrap_err().kind(), ErrorKind::Timeout);
            Ok(())
        });
        outer.await?;
        Ok(())
    });
}

/// Round trips of 8 bytes where every receive finds its data queued (the peer sent
/// first), so no operation parks.
async fn ready_round_trips(
    a: &SharedTcp,
    b: &SharedTcp,
    rounds: u64,
    deadline: bool,
) -> sock::Result<()> {
    let mut buf = [0u8; 8];
    for i in 0..rounds {
        let msg = i.to_le_bytes();
        if deadline {
            a.send(&msg).timeout(PATIENCE).await?;
            b.recvn(&mut buf).timeout(PATIENCE).await?;
        } else {
            a.send(&msg).await?;
            b.recvn(&mut buf).await?;
        }
        assert_eq!(buf, msg);
    }
    Ok(())
}

/// Allocations over `rounds` ready round trips, after a warm-up.
fn allocations(rounds: u64, deadline: bool) -> u64 {
    on_one_worker(async move {
        let (a, b) = pair().await?;
        ready_round_trips(&a, &b, 50, deadline).await?;
        let before = ALLOCS.with(Cell::get);
        ready_round_trips(&a, &b, rounds, deadline).await?;
        Ok(ALLOCS.with(Cell::get) - before)
    })
}

#[test]
fn operations_that_need_not_wait_allocate_nothing_with_or_without_a_deadline() {
    // On Windows every operation waits for its completion packet, so a deadline always
    // arms the worker's timer, whose entry is allocated (one per parked operation with
    // a deadline: the known cost of `mt::Sleep`); there only the case without a
    // deadline is an operation that need not wait.
    let cases: &[bool] = if cfg!(windows) {
        &[false]
    } else {
        &[false, true]
    };
    for &deadline in cases {
        let made = allocations(500, deadline);
        assert!(
            made <= 2,
            "{made} allocations over 500 round trips (deadline: {deadline})"
        );
    }
}

/// Every shared operation is an `Op` whose deadline keeps it `Send`.
#[test]
fn shared_operations_with_deadlines_are_send() {
    fn send_op<O: Op + Send>(_: &O) {}
    fn send<F: Send>(_: &F) {}
    on_one_worker(async {
        let (a, _b) = pair().await?;
        let mut buf = [0u8; 4];
        let op = a.recv(&mut buf);
        send_op(&op);
        send(&op.timeout(SHORT));
        send(&sock::shared::timeout(SHORT, async { Ok(()) }));
        Ok(())
    });
}

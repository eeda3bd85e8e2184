//! `resolve`: the numeric fast path starts no thread; names go to a bounded pool that
//! starts lazily, merges identical lookups, cancels dropped ones and exits when idle.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use sock_addr::{Flags, Hints, LookupError, lookup, resolve, resolver_stats};

use crate::support::{block_on, is_child, run_in_child};

fn addrs(list: &sock_addr::AddrList) -> Vec<String> {
    list.iter()
        .map(|e| format!("{:?} {}", e.socktype(), e))
        .collect()
}

#[test]
fn resolve_is_send_and_static() {
    fn assert_send_static<T: Future + Send + 'static>(_: T) {}
    assert_send_static(resolve("127.0.0.1", 80, &Hints::tcp()));
    assert_send_static(resolve("localhost", "http", &Hints::tcp()));
}

#[test]
fn resolve_gives_what_lookup_gives() {
    for (host, port) in [
        ("localhost", "80"),
        ("127.0.0.1", "http"),
        ("::1", "0"),
        ("*", "8080"),
    ] {
        let hints = Hints::new();
        let ours = block_on(resolve(host, port, &hints)).unwrap();
        assert_eq!(
            addrs(&ours),
            addrs(&lookup(host, port, &hints).unwrap()),
            "{host} {port}"
        );
    }
}

#[test]
fn resolve_works_from_many_threads_at_once() {
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || block_on(resolve("localhost", 1000 + i, &Hints::tcp())))
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let list = t.join().unwrap().unwrap();
        assert!(
            list.iter()
                .all(|e| usize::from(e.addr().port()) == 1000 + i)
        );
    }
    assert!(resolver_stats().threads <= 4);
}

/// Counts this process's OS threads named like the pool's (Linux: from /proc).
#[cfg(target_os = "linux")]
fn os_pool_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok);
    let is_pool = |t: &std::fs::DirEntry| {
        std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("sock-addr-res"))
    };
    tasks.filter(is_pool).count()
}

#[cfg(not(target_os = "linux"))]
fn os_pool_threads() -> usize {
    resolver_stats().threads
}

/// In a fresh process: numeric lookups run inline with no thread; the first name starts
/// the pool; idle threads exit.
#[test]
fn pool_starts_lazily_and_exits_when_idle() {
    const NAME: &str = "addr_resolve::pool_starts_lazily_and_exits_when_idle";
    if !is_child(NAME) {
        run_in_child(NAME);
        return;
    }
    assert_eq!((resolver_stats().threads, os_pool_threads()), (0, 0));
    // The fast path is ready on the first poll, on this thread.
    let mut fut = pin!(resolve("::1", "443", &Hints::tcp()));
    let Poll::Ready(list) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("a numeric lookup must be ready at once")
    };
    assert_eq!(list.unwrap().first().unwrap().to_string(), "[::1]:443");
    // So is any lookup that asks for NUMERICHOST: a name fails on the first poll, and
    // neither a pool thread nor a name server is asked.
    let numeric = Hints::tcp().flags(Flags::NUMERICHOST);
    let mut fut = pin!(resolve("localhost", 80, &numeric));
    let Poll::Ready(err) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("a NUMERICHOST lookup must be ready at once")
    };
    assert!(
        matches!(err, Err(LookupError::HostNotFound { .. })),
        "{err:?}"
    );
    let mut fut = pin!(resolve("fe80::1%1", 80, &numeric));
    let Poll::Ready(list) = fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("a NUMERICHOST lookup must be ready at once")
    };
    assert_eq!(list.unwrap().first().unwrap().to_string(), "[fe80::1%1]:80");
    assert_eq!(
        (
            resolver_stats().threads,
            resolver_stats().lookups,
            os_pool_threads()
        ),
        (0, 0, 0)
    );
    // A name goes to the pool, which now has a thread.
    block_on(resolve("localhost", 80, &Hints::tcp())).unwrap();
    let stats = resolver_stats();
    assert_eq!((stats.threads, stats.lookups), (1, 1));
    assert_eq!(os_pool_threads(), 1);
    // Idle threads exit after a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    while (resolver_stats().threads, os_pool_threads()) != (0, 0) {
        assert!(
            Instant::now() < deadline,
            "pool thread still alive: {:?}",
            resolver_stats()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// In a namespace whose name server answers after 300 ms: identical lookups in flight
/// are merged into one, the pool stays at 4 threads, and a dropped queued lookup is
/// cancelled.
#[cfg(target_os = "linux")]
#[test]
fn pool_merges_bounds_and_cancels() {
    crate::support::netns::run("addr_resolve::pool_merges_bounds_and_cancels", "", || {
        crate::support::netns::serve_nxdomain(Duration::from_millis(300));
        let hints = Hints::tcp();
        let same: Vec<sock_addr::Resolve> = (0..3)
            .map(|_| resolve("slow.invalid", 80, &hints))
            .collect();
        let stats = resolver_stats();
        assert_eq!((stats.in_flight, stats.merged), (1, 2), "{stats:?}");
        let mut others: Vec<sock_addr::Resolve> = (0..5)
            .map(|i| resolve(&format!("n{i}.invalid"), 80, &hints))
            .collect();
        let stats = resolver_stats();
        assert_eq!((stats.threads, stats.in_flight), (4, 6), "{stats:?}");
        assert!(stats.queued >= 2, "{stats:?}");
        drop(others.pop()); // still queued: cancelled
        assert_eq!(resolver_stats().in_flight, 5);
        for fut in same.into_iter().chain(others) {
            let err = block_on(fut).unwrap_err();
            assert!(
                matches!(err, sock_addr::LookupError::HostNotFound { .. }),
                "{err:?}"
            );
        }
        let stats = resolver_stats();
        assert_eq!(
            (stats.lookups, stats.in_flight, stats.queued),
            (5, 0, 0),
            "{stats:?}"
        );
        assert!(stats.threads <= 4);
    });
}

#[test]
#[should_panic(expected = "polled after it returned `Ready`")]
fn polling_after_ready_panics() {
    let mut fut = pin!(resolve("127.0.0.1", 80, &Hints::tcp()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    let _ = fut.as_mut().poll(&mut cx);
}

//! `getaddrinfo` blocking for seconds does not stall the loop: in a network namespace
//! whose only name server (127.0.0.1:53) never answers, `sock_addr::resolve` of an
//! unknown name waits for the resolver's timeouts (~2 s) while a ticker task on the same
//! `sock_sched::Executor` keeps ticking every 10 ms with no gap over 50 ms.
//!
//! The test re-executes itself as a child process, which enters new network and mount
//! namespaces (`unshare`), brings `lo` up and bind-mounts its own `/etc/resolv.conf`
//! (`nameserver 127.0.0.1`, `options timeout:1 attempts:2`), so no query leaves the
//! machine. Where namespaces are unavailable the test says so, and fails when `CI` is
//! set.

#![cfg(target_os = "linux")]

use std::cell::{Cell, RefCell};
use std::io;
use std::net::UdpSocket;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock_addr::{Hints, LookupError, resolve, resolver_stats};
use sock_sched::{Executor, sleep};
use sock_tests::harness::netns;

const TEST: &str = "resolve_blocking_in_getaddrinfo_does_not_stall_the_loop";
const CHILD_ENV: &str = "SOCK_ADDR_NETNS_CHILD";

#[test]
fn resolve_blocking_in_getaddrinfo_does_not_stall_the_loop() {
    if !netns::is_child(TEST, CHILD_ENV) {
        println!("{}", netns::run_self_as_child(TEST, CHILD_ENV));
        return;
    }
    if !netns::entered(enter_namespace(), "cannot create a network namespace") {
        return;
    }
    // Bound but never read: queries to it go unanswered until the resolver gives up.
    let _silent = UdpSocket::bind("127.0.0.1:53").expect("bind the silent name server");
    check_loop_keeps_ticking();
}

/// The scenario: one loop, a 10 ms ticker, and two identical slow lookups (merged).
fn check_loop_keeps_ticking() {
    let ex = Executor::new();
    let done = Rc::new(Cell::new(false));
    let ticks = Rc::new(RefCell::new(vec![Instant::now()]));
    let ticker = ex.spawn(tick_until(done.clone(), ticks.clone()));
    let second = ex.spawn(resolve("name.invalid", 80, &Hints::tcp()));
    let started = Instant::now();
    let result = ex.run(async move {
        let result = resolve("name.invalid", 80, &Hints::tcp()).await;
        let second = second.join().await.expect("second lookup task");
        done.set(true);
        (result, second)
    });
    let elapsed = started.elapsed();
    ex.run(ticker.join()).expect("ticker task");

    for r in [result.0, result.1] {
        match r {
            Err(LookupError::TryAgain { host, .. } | LookupError::HostNotFound { host, .. }) => {
                assert_eq!(host, "name.invalid")
            }
            other => panic!("expected a lookup failure naming the host, got {other:?}"),
        }
    }
    let stats = resolver_stats();
    assert_eq!(
        (stats.lookups, stats.merged),
        (1, 1),
        "identical lookups merged: {stats:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(1500),
        "getaddrinfo did not block: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(30), "lookup took {elapsed:?}");
    check_ticks(&ticks.borrow(), elapsed);
}

async fn tick_until(done: Rc<Cell<bool>>, ticks: Rc<RefCell<Vec<Instant>>>) {
    while !done.get() {
        sleep(Duration::from_millis(10)).await;
        ticks.borrow_mut().push(Instant::now());
    }
}

/// The loop kept running while the lookup blocked: a loop blocked in `getaddrinfo`
/// shows one gap as long as the lookup and about one tick. The bounds are generous
/// (a third of the lookup, a tenth of the ticks a 10 ms ticker would make) because
/// timing on a loaded machine is noisy; a stalled loop misses them by far.
fn check_ticks(ticks: &[Instant], elapsed: Duration) {
    let gaps: Vec<Duration> = ticks.windows(2).map(|w| w[1] - w[0]).collect();
    let max = gaps.iter().copied().max().expect("the ticker ticked");
    println!(
        "lookup blocked {elapsed:?}; {} ticks, largest gap {max:?}",
        gaps.len()
    );
    assert!(
        max <= elapsed / 3,
        "the loop stalled for {max:?} of {elapsed:?}"
    );
    let expected = elapsed.as_millis() / 10;
    assert!(
        gaps.len() as u128 >= expected / 10,
        "{} ticks in {elapsed:?}",
        gaps.len()
    );
}

/// New network + mount namespaces for this thread (and threads it starts), `lo` up, and
/// a private `/etc/resolv.conf` pointing at 127.0.0.1.
fn enter_namespace() -> io::Result<()> {
    netns::unshare_net_and_mounts()?;
    netns::loopback_up()?;
    netns::private_resolv_conf("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
}

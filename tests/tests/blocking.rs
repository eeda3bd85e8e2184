//! `spawn_blocking`: results awaited on the loop, deadlines, panics, the bound on the
//! pool, closures skipped when nobody waits any more.
//!
//! The pool is one per process, so the tests here take turns (`serial`) and measure
//! against their own counters.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sock::task::{BLOCKING_THREADS, ThreadSet, blocking_stats, spawn_blocking};
use sock::{ErrorKind, Expires};
use sock_tests::PATIENCE;

/// Makes the tests of this file run one at a time (they share the process's pool).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn a_fast_closure_gives_its_result_in_time() {
    let _turn = serial();
    let got = sock::run(async {
        spawn_blocking(|| std::thread::current().name().map(str::to_owned))
            .timeout(PATIENCE)
            .await
    });
    assert_eq!(got.unwrap().as_deref(), Some("sock-blocking"));
}

#[test]
fn a_slow_closure_times_out_while_the_loop_keeps_running() {
    let _turn = serial();
    let release = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let (r, f) = (release.clone(), finished.clone());
    let (result, ticks) = sock::run(async move {
        let ticks = Rc::new(Cell::new(0u32));
        let t = ticks.clone();
        let ticker = sock::spawn(async move {
            loop {
                sock::sleep(Duration::from_millis(1)).await;
                t.set(t.get() + 1);
            }
        });
        let slow = spawn_blocking(move || {
            let start = Instant::now();
            while !r.load(Ordering::Acquire) && start.elapsed() < PATIENCE {
                std::thread::sleep(Duration::from_millis(1));
            }
            f.store(true, Ordering::Release);
        });
        let result = slow.timeout(Duration::from_millis(50)).await;
        ticker.cancel();
        (result, ticks.get())
    });
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(ticks >= 1, "the loop ran other threads meanwhile");
    assert!(
        !finished.load(Ordering::Acquire),
        "still running: it cannot be interrupted"
    );
    release.store(true, Ordering::Release);
}

#[test]
fn a_panic_in_the_closure_surfaces_in_the_awaiting_thread() {
    let _turn = serial();
    let joined = sock::run(async {
        sock::spawn(async { spawn_blocking(|| panic!("off the loop")).await })
            .join()
            .await
    });
    let payload = joined.unwrap_err().into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"off the loop"));
}

#[test]
fn the_pool_runs_at_most_its_bound_at_once() {
    let _turn = serial();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let calls = 2 * BLOCKING_THREADS + 3;
    let outputs = sock::run(async {
        let mut set = ThreadSet::new();
        for i in 0..calls {
            let (running, most) = (running.clone(), most.clone());
            set.spawn(async move {
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
                .timeout(PATIENCE)
                .await
            });
        }
        let mut outputs = Vec::new();
        while let Some(r) = set.join_next().await {
            outputs.push(r.unwrap().unwrap());
        }
        outputs
    });
    let mut sorted = outputs;
    sorted.sort_unstable();
    assert_eq!(sorted, (0..calls).collect::<Vec<_>>());
    let most = most.load(Ordering::SeqCst);
    assert!(most <= BLOCKING_THREADS, "{most} ran at once");
    assert!(most > 1, "closures ran in parallel");
    assert!(blocking_stats().threads <= BLOCKING_THREADS);
}

#[test]
fn a_closure_whose_future_is_dropped_before_it_starts_never_runs() {
    let _turn = serial();
    let release = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(AtomicBool::new(false));
    let before = blocking_stats().ran;
    sock::run(async {
        // Occupy every pool thread, so the next call has to wait in the queue.
        let mut blockers = ThreadSet::new();
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..BLOCKING_THREADS {
            let (release, started) = (release.clone(), started.clone());
            blockers.spawn(spawn_blocking(move || {
                started.fetch_add(1, Ordering::SeqCst);
                let start = Instant::now();
                while !release.load(Ordering::Acquire) && start.elapsed() < PATIENCE {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }));
        }
        let start = Instant::now();
        while started.load(Ordering::SeqCst) < BLOCKING_THREADS {
            assert!(
                start.elapsed() < PATIENCE,
                "the pool did not start its threads"
            );
            sock::sleep(Duration::from_millis(1)).await;
        }
        let r = ran.clone();
        let queued = spawn_blocking(move || r.store(true, Ordering::SeqCst));
        let err = queued.timeout(Duration::from_millis(5)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(blocking_stats().queued >= 1);
        release.store(true, Ordering::Release);
        while let Some(r) = blockers.join_next().await {
            r.unwrap().unwrap();
        }
        // A full round on every pool thread at once: whichever thread dequeued the
        // dropped call has finished deciding about it.
        let barrier = Arc::new(Barrier::new(BLOCKING_THREADS));
        let mut round = ThreadSet::new();
        for _ in 0..BLOCKING_THREADS {
            let barrier = barrier.clone();
            round.spawn(spawn_blocking(move || {
                barrier.wait();
            }));
        }
        while let Some(r) = round.join_next().await {
            r.unwrap().unwrap();
        }
    });
    assert!(!ran.load(Ordering::SeqCst), "skipped: nobody waited for it");
    assert_eq!(blocking_stats().ran - before, 2 * BLOCKING_THREADS as u64);
    assert_eq!(blocking_stats().queued, 0);
}

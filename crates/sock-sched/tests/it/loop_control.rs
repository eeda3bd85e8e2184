//! Loop control: spawn, run, poll, start, stop, next_deadline, remote wakes.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sock_sched::{Executor, sleep};

use crate::support::{Flag, manual_loop, yield_now};

#[test]
fn spawned_100k_tasks_all_complete() {
    let ex = Executor::new();
    let done = Rc::new(Cell::new(0u32));
    for i in 0..100_000u32 {
        let done = done.clone();
        ex.spawn(async move {
            if i % 2 == 0 {
                yield_now().await;
            }
            done.set(done.get() + 1);
        });
    }
    ex.start();
    assert_eq!(done.get(), 100_000);
    assert_eq!(ex.alive(), 0);
}

#[test]
fn spawn_from_inside_tasks_completes_all() {
    let ex = Executor::new();
    let total = ex.run(async {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| sock_sched::spawn(async move { i * 2 }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.join().await.unwrap();
        }
        sum
    });
    assert_eq!(total, 999 * 1000);
}

#[test]
fn wake_from_another_os_thread_unparks_poll_none() {
    let ex = Executor::new();
    let flag = Flag::default();
    let task = ex.spawn(flag.wait());
    assert!(ex.poll(Some(Duration::ZERO)));
    assert!(flag.has_waiter() && !task.is_finished());
    let (go, wait_go) = mpsc::channel::<()>();
    let remote = flag.clone();
    let waker_thread = std::thread::spawn(move || {
        wait_go.recv().unwrap();
        remote.set();
    });
    go.send(()).unwrap();
    while !task.is_finished() {
        assert!(
            ex.poll(None),
            "poll(None) returned without work while a task waits"
        );
    }
    waker_thread.join().unwrap();
}

#[test]
fn poll_zero_with_no_tasks_returns_false_at_once() {
    let ex = Executor::new();
    let start = Instant::now();
    assert!(!ex.poll(Some(Duration::ZERO)));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "poll(ZERO) blocked"
    );
}

#[test]
fn poll_none_with_nothing_alive_does_not_block() {
    let ex = Executor::new();
    assert!(!ex.poll(None));
}

#[test]
fn poll_zero_runs_all_of_1000_ready_tasks() {
    let (ex, clock) = manual_loop();
    let ran = Rc::new(Cell::new(0));
    for _ in 0..1000 {
        let ran = ran.clone();
        ex.spawn(async move { ran.set(ran.get() + 1) });
    }
    let before = sock_sched::Clock::now(&clock);
    assert!(ex.poll(Some(Duration::ZERO)));
    assert_eq!(ran.get(), 1000);
    assert_eq!(
        sock_sched::Clock::now(&clock),
        before,
        "poll(ZERO) must not wait"
    );
}

#[test]
fn poll_zero_runs_tasks_woken_by_other_tasks() {
    let ex = Executor::new();
    let flag = Flag::default();
    let waiter = ex.spawn(flag.wait());
    let setter = flag.clone();
    ex.poll(Some(Duration::ZERO));
    ex.spawn(async move { setter.set() });
    ex.poll(Some(Duration::ZERO));
    assert!(waiter.is_finished());
}

#[test]
fn stop_from_inside_a_task_ends_start() {
    let ex = Executor::new();
    let forever = ex.spawn(std::future::pending::<()>());
    let stopper = ex.clone();
    ex.spawn(async move {
        yield_now().await;
        stopper.stop();
    });
    ex.start();
    assert!(!forever.is_finished());
    assert_eq!(ex.alive(), 1);
}

#[test]
fn start_returns_when_no_thread_is_alive() {
    let (ex, _clock) = manual_loop();
    let t = ex.spawn(async { sleep(Duration::from_secs(10)).await });
    ex.start();
    assert!(t.is_finished());
}

#[test]
fn next_deadline_follows_the_manual_clock() {
    let (ex, clock) = manual_loop();
    let origin = ex.clock();
    assert_eq!(ex.next_deadline(), None);
    let t = ex.spawn(sleep(Duration::from_micros(4300)));
    assert_eq!(ex.next_deadline(), Some(origin), "a ready thread means now");
    ex.poll(Some(Duration::ZERO));
    assert_eq!(
        ex.next_deadline(),
        Some(origin + Duration::from_millis(5)),
        "rounded up to 1 ms"
    );
    clock.advance(Duration::from_millis(4));
    ex.poll(Some(Duration::ZERO));
    assert!(!t.is_finished());
    clock.advance(Duration::from_millis(1));
    ex.poll(Some(Duration::ZERO));
    assert!(t.is_finished());
    assert_eq!(ex.next_deadline(), None);
}

#[test]
fn run_returns_the_whole_value() {
    let ex = Executor::new();
    let (a, b, c) = ex.run(async { (1u8, "two".to_string(), vec![3u64; 1000]) });
    assert_eq!((a, b.as_str(), c.len(), c[999]), (1, "two", 1000, 3));
}

#[test]
fn wake_from_the_loop_thread_outside_the_loop_is_not_lost() {
    let ex = Executor::new();
    let flag = Flag::default();
    let t = ex.spawn(flag.wait());
    ex.poll(Some(Duration::ZERO));
    flag.set(); // on this OS thread, but outside any poll
    assert!(ex.poll(Some(Duration::ZERO)));
    assert!(t.is_finished());
}

#[test]
fn current_names_the_running_thread_and_is_none_outside() {
    let ex = Executor::new();
    assert!(sock_sched::try_current().is_none());
    let t = ex.spawn(async { sock_sched::current().id() });
    let id = t.id();
    ex.start();
    assert_eq!(t.try_join().unwrap().unwrap(), id);
}

#[test]
fn free_functions_use_the_current_loop() {
    let ex = Executor::new();
    ex.make_current();
    let t = sock_sched::spawn(async { 5 });
    assert!(Executor::current().ptr_eq(&ex));
    sock_sched::start();
    assert_eq!(t.try_join().unwrap().unwrap(), 5);
}

//! Cooperative fairness: a task that never has to wait still lets `poll(Some(ZERO))`
//! return after a bounded amount of work, and lets the other tasks run.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use sock_sched::{Executor, coop, sleep};

/// A task sleeping zero forever: each sleep is due at once.
fn spawn_zero_sleeper(ex: &Executor, count: Rc<Cell<u64>>) {
    ex.spawn(async move {
        loop {
            sleep(Duration::ZERO).await;
            count.set(count.get() + 1);
        }
    });
}

#[test]
fn a_loop_of_zero_sleeps_does_not_hold_poll_zero() {
    let ex = Executor::new();
    let count = Rc::new(Cell::new(0));
    spawn_zero_sleeper(&ex, count.clone());
    for turn in 1..=3u64 {
        assert!(ex.poll(Some(Duration::ZERO)), "the sleeper ran");
        let bound = turn * 2 * u64::from(coop::BUDGET);
        assert!(
            count.get() <= bound,
            "{} sleeps in {turn} polls",
            count.get()
        );
        assert!(count.get() >= turn, "no progress");
    }
}

#[test]
fn a_zero_sleeper_shares_the_loop() {
    let ex = Executor::new();
    let count = Rc::new(Cell::new(0));
    spawn_zero_sleeper(&ex, count.clone());
    let other = ex.spawn(async { 7 });
    assert_eq!(ex.run(other.join()).unwrap(), 7);
}

#[test]
fn the_budget_is_unlimited_outside_a_loop() {
    let cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!((0..10 * coop::BUDGET).all(|_| coop::spend(&cx)));
}

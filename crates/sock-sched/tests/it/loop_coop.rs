//! Cooperative fairness: a task that never has to wait still lets `poll(Some(ZERO))`
//! return after a bounded amount of work, and lets the other tasks run; `yield_now`
//! steps aside by hand and comes back with nobody resuming it, unlike `yield_`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use sock_sched::{Executor, ManualClock, ManualPark, coop, sleep, yield_, yield_now};

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

#[test]
fn two_threads_alternate_with_yield_now() {
    let ex = Executor::new();
    let log = Rc::new(RefCell::new(String::new()));
    let threads = ['a', 'b'].map(|name| {
        let log = log.clone();
        ex.spawn(async move {
            for _ in 0..4 {
                log.borrow_mut().push(name);
                yield_now().await;
            }
            name
        })
    });
    // Nobody resumes them: each comes back from yield_now by itself.
    for t in threads {
        assert!(ex.run(t.join()).is_ok());
    }
    assert_eq!(*log.borrow(), "abababab");
}

#[test]
fn yield_now_lets_a_due_timer_run_before_it_comes_back() {
    let clock = ManualClock::new();
    let ex = Executor::with_park(ManualPark::new(clock.clone()), clock.clone());
    let fired = Rc::new(Cell::new(false));
    ex.run({
        let fired = fired.clone();
        async move {
            let f = fired.clone();
            sock_sched::run_after(Duration::from_millis(5), move || f.set(true));
            clock.advance(Duration::from_millis(10)); // due now; nothing has run it yet
            assert!(!fired.get());
            yield_now().await;
            assert!(
                fired.get(),
                "the due timer ran while this thread stepped aside"
            );
        }
    });
}

#[test]
fn yield_with_nobody_to_resume_waits_where_yield_now_does_not() {
    let ex = Executor::new();
    let stepped_aside = ex.spawn(async { yield_now().await });
    let yielded = ex.spawn(async { yield_(1u8).await });
    for _ in 0..3 {
        ex.poll(Some(Duration::ZERO));
    }
    assert!(stepped_aside.is_finished(), "yield_now came back by itself");
    assert!(!yielded.is_finished(), "yield_ waits for a resume");
    yielded.resume(());
    assert!(yielded.is_finished(), "and finishes once resumed");
}

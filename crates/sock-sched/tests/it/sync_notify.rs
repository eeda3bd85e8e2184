//! `Notify`: one waiter or all, the single stored permit, wake-ups passed on by
//! dropped waiters.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use sock_sched::Executor;
use sock_sched::sync::Notify;

/// Spawns a thread that waits for `notify` and then logs `id`.
fn waiter(
    ex: &Executor,
    notify: &Notify,
    log: &Rc<RefCell<Vec<u32>>>,
    id: u32,
) -> sock_sched::Thread<()> {
    let (notify, log) = (notify.clone(), log.clone());
    ex.spawn(async move {
        notify.notified().await;
        log.borrow_mut().push(id);
    })
}

#[test]
fn notify_one_wakes_the_oldest_waiter_first() {
    let ex = Executor::new();
    let notify = Notify::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let _threads: Vec<_> = (0..3).map(|id| waiter(&ex, &notify, &log, id)).collect();
    ex.poll(Some(Duration::ZERO));
    for expected in 0..3 {
        notify.notify_one();
        ex.poll(Some(Duration::ZERO));
        assert_eq!(log.borrow().last(), Some(&expected));
    }
    assert_eq!(ex.alive(), 0);
}

#[test]
fn notify_one_with_nobody_waiting_keeps_one_permit() {
    let ex = Executor::new();
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // permits do not add up
    let log = Rc::new(RefCell::new(Vec::new()));
    let first = waiter(&ex, &notify, &log, 1);
    let second = waiter(&ex, &notify, &log, 2);
    ex.poll(Some(Duration::ZERO));
    assert!(first.is_finished(), "took the permit at once");
    assert!(!second.is_finished(), "no second permit");
    notify.notify_one();
    ex.start();
    assert_eq!(*log.borrow(), [1, 2]);
}

#[test]
fn notify_waiters_wakes_every_future_made_before_and_leaves_no_permit() {
    let ex = Executor::new();
    let notify = Notify::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let polled: Vec<_> = (0..3).map(|id| waiter(&ex, &notify, &log, id)).collect();
    ex.poll(Some(Duration::ZERO));
    let made_not_polled = notify.notified();
    notify.notify_waiters();
    ex.run(made_not_polled); // made before the call: completes
    assert!(polled.iter().all(|t| t.is_finished()));
    let late = waiter(&ex, &notify, &log, 9);
    ex.poll(Some(Duration::ZERO));
    assert!(!late.is_finished(), "notify_waiters leaves no permit");
    late.cancel();
}

#[test]
fn a_waiter_dropped_while_waiting_leaves_no_trace() {
    let ex = Executor::new();
    let notify = Notify::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let gone = waiter(&ex, &notify, &log, 1);
    ex.poll(Some(Duration::ZERO));
    gone.cancel();
    notify.notify_one(); // nobody waits any more: kept as the permit
    let next = waiter(&ex, &notify, &log, 2);
    ex.start();
    assert!(next.is_finished());
    assert_eq!(*log.borrow(), [2]);
}

#[test]
fn a_wake_up_given_to_a_waiter_dropped_before_it_ran_goes_to_the_next() {
    let ex = Executor::new();
    let notify = Notify::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let first = waiter(&ex, &notify, &log, 1);
    let second = waiter(&ex, &notify, &log, 2);
    ex.poll(Some(Duration::ZERO));
    notify.notify_one(); // to `first`, woken but not run
    first.cancel();
    ex.start();
    assert!(second.is_finished(), "the wake-up was passed on");
    assert_eq!(*log.borrow(), [2]);
}

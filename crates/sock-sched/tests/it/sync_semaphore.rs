//! `Semaphore`: bounded concurrency, first come first served, permits back on drop, no
//! lost wake-up when a waiter goes away, fair to other threads.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use sock_sched::sync::Semaphore;
use sock_sched::{Executor, ThreadSet, sleep};

use crate::support::manual_loop;

/// Spawns a thread that acquires a permit, logs `id`, and gives the permit back.
fn worker(
    ex: &Executor,
    sem: &Semaphore,
    log: &Rc<RefCell<Vec<u32>>>,
    id: u32,
) -> sock_sched::Thread<()> {
    let (sem, log) = (sem.clone(), log.clone());
    ex.spawn(async move {
        let _permit = sem.acquire().await;
        log.borrow_mut().push(id);
    })
}

#[test]
fn at_most_n_threads_hold_a_permit_at_once() {
    let (ex, _clock) = manual_loop();
    let sem = Semaphore::new(3);
    let busy = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    ex.run(async {
        let mut set = ThreadSet::new();
        for i in 0..20u64 {
            let (sem, busy, most) = (sem.clone(), busy.clone(), most.clone());
            set.spawn(async move {
                let _permit = sem.acquire().await;
                busy.set(busy.get() + 1);
                most.set(most.get().max(busy.get()));
                sleep(Duration::from_millis(1 + i % 4)).await;
                busy.set(busy.get() - 1);
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    });
    assert_eq!(most.get(), 3);
    assert_eq!(sem.available_permits(), 3, "every permit came back");
}

#[test]
fn waiters_get_permits_in_the_order_they_asked() {
    let ex = Executor::new();
    let sem = Semaphore::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let threads: Vec<_> = (0..6).map(|id| worker(&ex, &sem, &log, id)).collect();
    ex.poll(Some(Duration::ZERO));
    assert_eq!(sem.waiting(), 6);
    sem.add_permits(1); // one permit, passed from each finisher to the next
    ex.start();
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4, 5]);
    assert!(threads.iter().all(|t| t.is_finished()));
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_released_permit_goes_to_the_waiter_not_to_a_newcomer() {
    let ex = Executor::new();
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let waiter = worker(&ex, &sem, &log, 1);
    ex.poll(Some(Duration::ZERO));
    drop(held);
    assert_eq!(
        sem.available_permits(),
        0,
        "handed to the waiter, not freed"
    );
    assert!(
        sem.try_acquire().is_none(),
        "a newcomer cannot jump the queue"
    );
    ex.start();
    assert!(waiter.is_finished());
    assert_eq!(*log.borrow(), [1]);
    assert!(sem.try_acquire().is_some());
}

#[test]
fn a_dropped_waiter_leaves_the_queue() {
    let ex = Executor::new();
    let sem = Semaphore::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let first = worker(&ex, &sem, &log, 1);
    let second = worker(&ex, &sem, &log, 2);
    ex.poll(Some(Duration::ZERO));
    assert_eq!(sem.waiting(), 2);
    first.cancel();
    assert_eq!(sem.waiting(), 1);
    sem.add_permits(1);
    ex.start();
    assert!(second.is_finished());
    assert_eq!(*log.borrow(), [2]);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_permit_granted_to_a_waiter_dropped_before_it_ran_goes_to_the_next() {
    let ex = Executor::new();
    let sem = Semaphore::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let first = worker(&ex, &sem, &log, 1);
    let second = worker(&ex, &sem, &log, 2);
    ex.poll(Some(Duration::ZERO));
    sem.add_permits(1); // granted to `first`, which is woken but has not run
    assert_eq!(sem.waiting(), 1);
    first.cancel(); // its permit must not be lost
    assert_eq!(sem.waiting(), 0, "passed on to `second`");
    ex.start();
    assert!(second.is_finished());
    assert_eq!(*log.borrow(), [2]);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn an_always_free_semaphore_does_not_starve_the_loop() {
    let ex = Executor::new();
    let sem = Semaphore::new(1);
    let other_ran = Rc::new(Cell::new(false));
    let seen = other_ran.clone();
    let spinner = ex.spawn(async move {
        for i in 0..10_000u32 {
            drop(sem.acquire().await);
            if seen.get() {
                return Some(i);
            }
        }
        None
    });
    let o = other_ran.clone();
    ex.spawn(async move { o.set(true) });
    ex.start();
    let yielded_at = spinner.try_join().unwrap().unwrap();
    assert!(yielded_at.is_some_and(|i| i <= 1_000), "{yielded_at:?}");
}

#[test]
fn try_acquire_and_add_permits() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert!(sem.try_acquire().is_none());
    sem.add_permits(1);
    let c = sem.try_acquire().unwrap();
    drop((a, b, c));
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { available_permits: 3, waiting: 0 }"
    );
}

//! `ThreadSet`: joins in completion order, cancels the rest on drop, keeps panics for
//! its joins.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use sock_sched::{Executor, Outcome, ThreadSet, sleep};

use crate::support::{manual_loop, panic_message, yield_now};

/// Counts its drops.
struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn join_next_gives_outputs_in_completion_order() {
    let (ex, _clock) = manual_loop();
    let order = ex.run(async {
        let mut set = ThreadSet::new();
        for ms in [50u64, 10, 40, 20, 30] {
            set.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        assert_eq!(set.len(), 5);
        let mut order = Vec::new();
        while let Some(result) = set.join_next().await {
            order.push(result.unwrap());
            assert_eq!(set.len(), 5 - order.len());
        }
        order
    });
    assert_eq!(order, [10, 20, 30, 40, 50]);
}

#[test]
fn join_next_on_an_empty_set_is_none_at_once() {
    let ex = Executor::new();
    let mut set = ThreadSet::<u8>::new();
    assert!(ex.run(set.join_next()).is_none());
    assert!(set.try_join_next().is_none());
}

#[test]
fn dropping_the_set_cancels_the_members_still_running() {
    let ex = Executor::new();
    let drops = Rc::new(Cell::new(0));
    let outcomes = Rc::new(Cell::new(0));
    let mut set = ThreadSet::new();
    for _ in 0..3 {
        let d = DropCount(drops.clone());
        let t = ex.spawn(async move {
            let _d = d;
            std::future::pending::<()>().await;
        });
        let o = outcomes.clone();
        t.on_finish(move |outcome| {
            assert_eq!(outcome, Outcome::Cancelled);
            o.set(o.get() + 1);
        });
        set.insert(t);
    }
    let finished = ex.spawn(async {});
    let finished_ref = finished.to_ref();
    set.insert(finished);
    ex.poll(Some(Duration::ZERO));
    assert!(finished_ref.is_finished());
    assert_eq!(ex.alive(), 3);
    drop(set);
    assert_eq!(drops.get(), 3);
    assert_eq!(outcomes.get(), 3);
    assert_eq!(ex.alive(), 0);
}

#[test]
fn cancelling_the_thread_that_owns_a_set_cancels_its_members() {
    let ex = Executor::new();
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let server = ex.spawn(async move {
        let mut connections = ThreadSet::new();
        for _ in 0..4 {
            let d = DropCount(d.clone());
            connections.spawn(async move {
                let _d = d;
                std::future::pending::<()>().await;
            });
        }
        while connections.join_next().await.is_some() {}
    });
    ex.poll(Some(Duration::ZERO));
    assert_eq!(ex.alive(), 5);
    server.cancel();
    assert_eq!(drops.get(), 4);
    assert_eq!(ex.alive(), 0);
}

#[test]
fn cancel_all_leaves_cancelled_errors_to_join() {
    let ex = Executor::new();
    let mut set = ThreadSet::new();
    set.insert(ex.spawn(async { 1 }));
    set.insert(ex.spawn(std::future::pending::<i32>()));
    set.insert(ex.spawn(std::future::pending::<i32>()));
    ex.poll(Some(Duration::ZERO));
    set.cancel_all();
    let results = ex.run(async {
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            results.push(r.map_err(|e| e.is_cancelled()));
        }
        results
    });
    assert_eq!(results, [Ok(1), Err(true), Err(true)]);
}

#[test]
fn a_member_panic_goes_to_join_next_not_to_the_loop() {
    let ex = Executor::new();
    let mut set = ThreadSet::new();
    let results = ex.run(async {
        set.spawn(async {
            yield_now().await;
            panic!("member")
        });
        set.spawn(async { 2 });
        let first = set.join_next().await.unwrap();
        let second = set.join_next().await.unwrap();
        (
            first.unwrap(),
            panic_message(second.unwrap_err().into_panic()),
        )
    });
    assert_eq!(results, (2, String::from("member")));
    ex.start();
}

#[test]
fn join_next_is_cancel_safe() {
    let (ex, _clock) = manual_loop();
    let mut set = ThreadSet::new();
    set.insert(ex.spawn(async {
        sleep(Duration::from_millis(5)).await;
        "late"
    }));
    let timed_out = ex.run(async {
        let attempt = sock_sched::spawn(async { sleep(Duration::from_millis(1)).await });
        // Poll join_next once, then drop it: nothing is lost.
        let mut fut = std::pin::pin!(set.join_next());
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        attempt.join().await.unwrap();
        first.is_pending()
    });
    assert!(timed_out);
    assert_eq!(ex.run(set.join_next()).unwrap().unwrap(), "late");
}

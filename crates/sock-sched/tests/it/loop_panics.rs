//! Panics: joined panics go to the join; the others surface from the loop call under
//! `PanicPolicy::Abort` (the default) and are counted and dropped under `Isolate`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use std::cell::RefCell;
use std::rc::Rc;

use sock_sched::{Executor, Outcome, PanicPolicy};

use crate::support::yield_now;

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn a_joined_panic_goes_to_the_join() {
    let ex = Executor::new();
    let result = ex.run(async {
        let t = sock_sched::spawn(async {
            yield_now().await;
            panic!("inside");
        });
        t.join().await
    });
    let err = result.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "thread panicked: inside");
    assert_eq!(panic_message(err.into_panic()), "inside");
}

#[test]
fn a_detached_panic_surfaces_from_start() {
    let ex = Executor::new();
    drop(ex.spawn(async { panic!("detached") }));
    let survivor = ex.spawn(async { yield_now().await });
    let payload = catch_unwind(AssertUnwindSafe(|| ex.start())).unwrap_err();
    assert_eq!(panic_message(payload), "detached");
    ex.start(); // the loop is still usable
    assert!(survivor.is_finished());
}

#[test]
fn a_detached_panic_surfaces_from_run_and_poll() {
    let ex = Executor::new();
    drop(ex.spawn(async { panic!("from run") }));
    let payload =
        catch_unwind(AssertUnwindSafe(|| ex.run(async { yield_now().await }))).unwrap_err();
    assert_eq!(panic_message(payload), "from run");

    drop(ex.spawn(async { panic!("from poll") }));
    let payload = catch_unwind(AssertUnwindSafe(|| ex.poll(Some(Duration::ZERO)))).unwrap_err();
    assert_eq!(panic_message(payload), "from poll");
}

#[test]
fn run_reraises_the_panic_of_its_future() {
    let ex = Executor::new();
    let payload = catch_unwind(AssertUnwindSafe(|| ex.run(async { panic!("main") }))).unwrap_err();
    assert_eq!(panic_message(payload), "main");
}

#[test]
fn a_panic_whose_handle_is_dropped_unjoined_surfaces_later() {
    let ex = Executor::new();
    let t = ex.spawn(async { panic!("late") });
    ex.poll(Some(Duration::ZERO)); // kept for the handle
    drop(t);
    let payload = catch_unwind(AssertUnwindSafe(|| ex.poll(Some(Duration::ZERO)))).unwrap_err();
    assert_eq!(panic_message(payload), "late");
}

#[test]
fn running_the_loop_from_inside_its_own_thread_panics_with_advice() {
    let ex = Executor::new();
    let inner = ex.clone();
    let t = ex.spawn(async move { inner.run(async {}) });
    ex.start();
    let msg = panic_message(t.try_join().unwrap().unwrap_err().into_panic());
    assert!(msg.contains("`.await` the future"), "{msg}");
}

#[test]
fn abort_is_the_default_and_on_finish_hears_of_the_panic() {
    let ex = Executor::new();
    assert_eq!(ex.panic_policy(), PanicPolicy::Abort);
    let t = ex.spawn(async { panic!("told") });
    let outcomes: Rc<RefCell<Vec<Outcome>>> = Rc::default();
    let o = outcomes.clone();
    t.on_finish(move |outcome| o.borrow_mut().push(outcome));
    drop(t);
    let payload = catch_unwind(AssertUnwindSafe(|| ex.start())).unwrap_err();
    assert_eq!(panic_message(payload), "told");
    assert_eq!(*outcomes.borrow(), [Outcome::Panicked]);
    assert_eq!(ex.isolated_panics(), 0);
}

#[test]
fn isolate_drops_a_detached_panicked_thread_and_goes_on() {
    let ex = Executor::new();
    ex.set_panic_policy(PanicPolicy::Isolate);
    let outcomes: Rc<RefCell<Vec<Outcome>>> = Rc::default();
    for i in 0..3 {
        let t = ex.spawn(async move {
            yield_now().await;
            if i == 1 {
                panic!("isolated");
            }
        });
        let o = outcomes.clone();
        t.on_finish(move |outcome| o.borrow_mut().push(outcome));
    }
    let survivor = ex.spawn(async {
        for _ in 0..3 {
            yield_now().await;
        }
        "still here"
    });
    ex.start(); // no panic
    assert_eq!(ex.isolated_panics(), 1);
    assert_eq!(
        *outcomes.borrow(),
        [Outcome::Returned, Outcome::Panicked, Outcome::Returned]
    );
    assert_eq!(survivor.try_join().unwrap().unwrap(), "still here");
    assert_eq!(ex.alive(), 0);
}

#[test]
fn isolate_also_covers_a_panic_whose_handle_is_dropped_unjoined() {
    let ex = Executor::new();
    ex.set_panic_policy(PanicPolicy::Isolate);
    let t = ex.spawn(async { panic!("late") });
    ex.poll(Some(Duration::ZERO)); // kept for the handle
    assert_eq!(ex.isolated_panics(), 0);
    drop(t);
    assert_eq!(ex.isolated_panics(), 1);
    ex.poll(Some(Duration::ZERO)); // nothing to re-raise
}

#[test]
fn isolate_still_gives_joined_panics_to_the_join_and_run_its_own() {
    let ex = Executor::new();
    ex.set_panic_policy(PanicPolicy::Isolate);
    let joined = ex.run(async { sock_sched::spawn(async { panic!("joined") }).join().await });
    assert_eq!(panic_message(joined.unwrap_err().into_panic()), "joined");
    let payload = catch_unwind(AssertUnwindSafe(|| ex.run(async { panic!("main") }))).unwrap_err();
    assert_eq!(panic_message(payload), "main");
    assert_eq!(ex.isolated_panics(), 0);
}

#[test]
fn the_policy_can_change_between_turns() {
    let ex = Executor::new();
    ex.set_panic_policy(PanicPolicy::Isolate);
    drop(ex.spawn(async { panic!("first") }));
    ex.start();
    ex.set_panic_policy(PanicPolicy::Abort);
    drop(ex.spawn(async { panic!("second") }));
    let payload = catch_unwind(AssertUnwindSafe(|| ex.start())).unwrap_err();
    assert_eq!(panic_message(payload), "second");
    assert_eq!(ex.isolated_panics(), 1);
}

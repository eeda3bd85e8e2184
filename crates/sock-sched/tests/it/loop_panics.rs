//! The panic policy: joined panics go to the join, others surface from the loop call.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use sock_sched::Executor;

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

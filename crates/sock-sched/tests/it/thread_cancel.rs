//! Cancelling threads from outside and from inside: the future and what it waits in are
//! dropped, `on_finish` is told, joins see a cancelled error.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use sock_sched::{Executor, Outcome, current, newthread, sleep, suspend};

use crate::support::{Flag, manual_loop, panic_message, yield_now};

/// Counts its drops.
struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Records the outcomes `on_finish` is told.
fn record(t: &sock_sched::ThreadRef) -> Rc<RefCell<Vec<Outcome>>> {
    let log: Rc<RefCell<Vec<Outcome>>> = Rc::default();
    let l = log.clone();
    t.on_finish(move |outcome| l.borrow_mut().push(outcome));
    log
}

#[test]
fn cancel_drops_a_waiting_future_at_once_and_tells_on_finish() {
    let ex = Executor::new();
    let drops = Rc::new(Cell::new(0));
    let flag = Flag::default();
    let (d, f) = (DropCount(drops.clone()), flag.clone());
    let t = ex.spawn(async move {
        let _d = d;
        f.wait().await;
        7u32
    });
    let log = record(&t);
    ex.poll(Some(Duration::ZERO));
    assert!(flag.has_waiter());
    assert_eq!(ex.alive(), 1);
    t.cancel();
    assert_eq!(drops.get(), 1, "the future is dropped by cancel itself");
    assert!(t.is_finished());
    assert_eq!(t.outcome(), Some(Outcome::Cancelled));
    assert_eq!(*log.borrow(), [Outcome::Cancelled]);
    assert_eq!(ex.alive(), 0);
    let err = t.try_join().unwrap().unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic());
    assert_eq!(
        err.to_string(),
        "thread was cancelled or its output already taken"
    );
    flag.set(); // a late wake of the dropped future is harmless
    ex.start();
}

#[test]
fn cancel_drops_the_timer_the_thread_slept_on() {
    let (ex, _clock) = manual_loop();
    let t = ex.spawn(sleep(Duration::from_secs(60)));
    ex.poll(Some(Duration::ZERO));
    assert!(ex.next_deadline().is_some());
    t.cancel();
    assert_eq!(ex.next_deadline(), None, "no timer left behind");
    assert!(
        !ex.poll(None),
        "nothing alive: poll returns without parking"
    );
}

#[test]
fn cancel_through_a_second_handle_wakes_the_joiner() {
    let ex = Executor::new();
    let victim = ex.spawn(std::future::pending::<u8>());
    let handle = victim.to_ref();
    let watcher = ex.spawn(async move { victim.join().await });
    ex.poll(Some(Duration::ZERO));
    handle.cancel();
    let result = ex.run(watcher.join()).unwrap();
    assert!(result.unwrap_err().is_cancelled());
}

#[test]
fn a_thread_cancelling_itself_stops_at_its_next_suspension() {
    let ex = Executor::new();
    let steps = Rc::new(RefCell::new(Vec::new()));
    let s = steps.clone();
    let t = ex.spawn(async move {
        current().cancel();
        s.borrow_mut().push("after cancel"); // still running: cancel is deferred
        yield_now().await;
        s.borrow_mut().push("after the suspension");
    });
    let log = record(&t);
    ex.start();
    assert_eq!(*steps.borrow(), ["after cancel"]);
    assert_eq!(t.outcome(), Some(Outcome::Cancelled));
    assert_eq!(*log.borrow(), [Outcome::Cancelled]);
    assert!(t.try_join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn a_thread_that_finishes_in_the_poll_it_cancelled_itself_in_returns() {
    let ex = Executor::new();
    let t = ex.spawn(async {
        current().cancel();
        "finished anyway"
    });
    ex.start();
    assert_eq!(t.outcome(), Some(Outcome::Returned));
    assert_eq!(t.try_join().unwrap().unwrap(), "finished anyway");
}

#[test]
fn a_resumed_thread_can_cancel_its_resumer() {
    let ex = Executor::new();
    let reached = Rc::new(Cell::new(false));
    let r = reached.clone();
    let outer = ex.spawn(async move {
        let me = current();
        let inner = newthread(async move { me.cancel() });
        inner.resume(()); // runs inner, which cancels us: deferred, we are running
        yield_now().await;
        r.set(true);
    });
    ex.start();
    assert!(!reached.get());
    assert_eq!(outer.outcome(), Some(Outcome::Cancelled));
}

#[test]
fn an_unstarted_or_suspended_thread_can_be_cancelled() {
    let ex = Executor::new();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let unstarted = ex.newthread(async move { r.set(true) });
    let log = record(&unstarted);
    unstarted.cancel();
    assert_eq!(*log.borrow(), [Outcome::Cancelled]);
    assert!(!ran.get());
    assert!(unstarted.is_finished());

    let suspended = ex.thread(async { suspend().await.take::<u8>() });
    assert!(suspended.is_suspended());
    suspended.cancel();
    assert!(!suspended.is_suspended());
    assert_eq!(suspended.outcome(), Some(Outcome::Cancelled));
    let payload = catch_unwind(AssertUnwindSafe(|| suspended.resume(1u8))).unwrap_err();
    assert!(panic_message(payload).contains("finished"));
}

#[test]
fn cancelling_a_finished_thread_keeps_its_output() {
    let ex = Executor::new();
    let t = ex.spawn(async {
        yield_now().await;
        5
    });
    ex.start();
    t.cancel();
    assert_eq!(t.outcome(), Some(Outcome::Returned));
    assert_eq!(t.try_join().unwrap().unwrap(), 5);
}

#[test]
fn a_panicking_on_finish_of_a_cancelled_thread_surfaces_from_the_next_poll() {
    let ex = Executor::new();
    let t = ex.spawn(std::future::pending::<()>());
    t.on_finish(|_| panic!("callback"));
    ex.poll(Some(Duration::ZERO));
    t.cancel();
    let payload = catch_unwind(AssertUnwindSafe(|| ex.poll(Some(Duration::ZERO)))).unwrap_err();
    assert_eq!(panic_message(payload), "callback");
}

#[test]
fn cancelling_the_future_of_run_panics_with_advice() {
    let ex = Executor::new();
    let payload = catch_unwind(AssertUnwindSafe(|| {
        ex.run(async {
            current().cancel();
            yield_now().await;
        })
    }))
    .unwrap_err();
    assert!(panic_message(payload).contains("run() was cancelled"));
    ex.start();
}

#[test]
fn a_destructor_run_by_cancel_sees_its_thread_and_may_cancel_others() {
    struct OnDrop<F: FnMut()>(F);
    impl<F: FnMut()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let ex = Executor::new();
    let other = ex.spawn(std::future::pending::<()>());
    let other_ref = other.to_ref();
    let seen = Rc::new(Cell::new(None));
    let s = seen.clone();
    let t = ex.spawn(async move {
        let id = current().id();
        let _guard = OnDrop(move || {
            s.set(Some(current().id() == id));
            other_ref.cancel();
        });
        std::future::pending::<()>().await;
    });
    ex.poll(Some(Duration::ZERO));
    t.cancel();
    assert_eq!(seen.get(), Some(true));
    assert_eq!(other.outcome(), Some(Outcome::Cancelled));
    assert_eq!(ex.alive(), 0);
}

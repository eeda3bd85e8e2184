//! `run` with futures that borrow the caller's locals: they run as threads of the loop,
//! and are dropped before `run` returns or unwinds, whatever happens.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use sock_sched::{Executor, ThreadRef, current, env, set_env, spawn, suspend, try_current};

use crate::support::yield_now;

thread_local! {
    /// A handle a future kept past its `run`.
    static KEPT: RefCell<Option<ThreadRef>> = const { RefCell::new(None) };
    /// A waker a future kept past its `run`.
    static KEPT_WAKER: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

#[derive(Clone, Debug, PartialEq)]
struct Level(u32);

/// Runs its closure when dropped.
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Detaches a thread that yields once, then panics with `msg`.
fn panic_soon(msg: &'static str) {
    drop(spawn(async move {
        yield_now().await;
        panic!("{msg}");
    }));
}

/// Keeps the current thread's handle and waker in the thread-locals.
async fn keep_handle_and_waker() {
    KEPT.with(|k| *k.borrow_mut() = Some(current()));
    std::future::poll_fn(|cx| {
        KEPT_WAKER.with(|w| *w.borrow_mut() = Some(cx.waker().clone()));
        Poll::Ready(())
    })
    .await;
}

#[test]
fn run_borrows_locals_and_returns_borrows() {
    let ex = Executor::new();
    let data = vec![1, 2, 3];
    let mut total = 0;
    let n = ex.run(async {
        for x in &data {
            yield_now().await;
            total += x;
        }
        data.len()
    });
    assert_eq!((n, total), (3, 6));
    let first: &i32 = ex.run(async { &data[0] });
    assert_eq!(*first, 1);
    assert_eq!(sock_sched::run(async { data.iter().sum::<i32>() }), 6);
}

#[test]
fn run_nests_across_loops_with_borrows() {
    let (outer, inner) = (Executor::new(), Executor::new());
    let name = String::from("outer");
    let len = outer.run(async {
        let local = [name.as_str(); 2];
        inner.run(async { local.iter().map(|s| s.len()).sum::<usize>() })
    });
    assert_eq!(len, 10);
}

#[test]
fn a_borrowing_future_runs_as_a_thread() {
    let ex = Executor::new();
    let finished = Rc::new(Cell::new(false));
    let name = String::from("main");
    let (got, level, len) = ex.run(async {
        let f = finished.clone();
        current().on_finish(move |_| f.set(true));
        set_env(Level(7));
        let me = current();
        let child = spawn(async move { me.resume(5u32) });
        let got = suspend().await.take::<u32>();
        drop(child);
        (got, env::<Level>(), name.len())
    });
    assert_eq!((got, level, len), (5, Some(Level(7)), 4));
    assert!(finished.get());
}

#[test]
fn run_repanics_after_dropping_the_future() {
    let ex = Executor::new();
    let log = RefCell::new(Vec::new());
    let payload = catch_unwind(AssertUnwindSafe(|| {
        ex.run(async {
            let _noted = Defer(|| log.borrow_mut().push("future dropped"));
            yield_now().await;
            panic!("in run");
        })
    }))
    .unwrap_err();
    assert_eq!(panic_message(payload), "in run");
    assert_eq!(*log.borrow(), ["future dropped"]);
    ex.start(); // nothing left that could touch `log`
    assert_eq!(ex.alive(), 0);
    assert_eq!(log.borrow().len(), 1);
}

#[test]
fn a_panic_elsewhere_cancels_the_future_before_run_unwinds() {
    let ex = Executor::new();
    let log = RefCell::new(Vec::new());
    let finished = Rc::new(Cell::new(false));
    let payload = catch_unwind(AssertUnwindSafe(|| {
        ex.run(async {
            panic_soon("elsewhere");
            set_env(Level(3));
            let f = finished.clone();
            current().on_finish(move |_| f.set(true));
            let _noted = Defer(|| {
                let inside = try_current().is_some() && env::<Level>() == Some(Level(3));
                log.borrow_mut()
                    .push(if inside { "dropped as the thread" } else { "?" });
            });
            suspend().await;
            log.borrow_mut().push("resumed");
        })
    }))
    .unwrap_err();
    assert_eq!(panic_message(payload), "elsewhere");
    assert_eq!(*log.borrow(), ["dropped as the thread"]);
    assert!(finished.get());
    assert_eq!(ex.alive(), 0);
    ex.start(); // returns: nothing is alive
    assert_eq!(ex.run(async { log.borrow().len() }), 1);
}

#[test]
fn an_output_left_unread_by_an_unwinding_run_is_dropped_inside_it() {
    let ex = Executor::new();
    let log = RefCell::new(Vec::new());
    let caught = catch_unwind(AssertUnwindSafe(|| {
        ex.run(async {
            drop(spawn(async { panic!("right after") })); // runs after this finishes
            keep_handle_and_waker().await; // the task outlives `run`; its output must not
            Defer(|| log.borrow_mut().push("output dropped"))
        })
    }));
    let Err(payload) = caught else {
        panic!("run returned");
    };
    assert_eq!(panic_message(payload), "right after");
    assert_eq!(*log.borrow(), ["output dropped"]);
    assert!(KEPT.with(|k| k.borrow_mut().take()).unwrap().is_finished());
}

#[test]
fn a_kept_handle_of_a_finished_run_is_finished() {
    let ex = Executor::new();
    {
        let data = String::from("borrowed");
        let len = ex.run(async {
            keep_handle_and_waker().await;
            data.len()
        });
        assert_eq!(len, 8);
    }
    let kept = KEPT.with(|k| k.borrow_mut().take()).unwrap();
    assert!(kept.is_finished());
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| kept.resume(()))).unwrap_err());
    assert!(msg.contains("has finished"), "{msg}");
    KEPT_WAKER.with(|w| w.borrow_mut().take()).unwrap().wake();
    assert!(
        !ex.poll(Some(Duration::ZERO)),
        "a finished thread is not polled"
    );
}

#[test]
fn a_kept_handle_of_a_cancelled_run_is_finished() {
    let ex = Executor::new();
    {
        let data = String::from("borrowed");
        let caught = catch_unwind(AssertUnwindSafe(|| {
            ex.run(async {
                panic_soon("cancel it");
                keep_handle_and_waker().await;
                suspend().await;
                data.len()
            })
        }));
        assert!(caught.is_err());
    }
    let kept = KEPT.with(|k| k.borrow_mut().take()).unwrap();
    assert!(kept.is_finished() && !kept.is_suspended());
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| kept.resume(()))).unwrap_err());
    assert!(msg.contains("has finished"), "{msg}");
    let waker = KEPT_WAKER.with(|w| w.borrow_mut().take()).unwrap();
    std::thread::spawn(move || waker.wake()).join().unwrap();
    assert!(
        !ex.poll(Some(Duration::ZERO)),
        "a cancelled thread is not polled"
    );
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    kept.on_finish(move |_| r.set(true));
    assert!(ran.get(), "on_finish of a finished thread runs at once");
}

#[test]
fn a_loop_runs_twice_with_different_borrows() {
    let ex = Executor::new();
    let mut first = Vec::new();
    ex.run(async { first.push(current().id()) });
    let second = String::from("two");
    let (id, len) = ex.run(async { (current().id(), second.len()) });
    assert_eq!(len, 3);
    assert_ne!(first[0], id, "each run is a new thread");
}

//! Coroutine threads: resume/suspend/yield_/transfer, newthread/thread, on_finish, misuse.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use sock_sched::{Builder, Executor, current, newthread, sleep, suspend, transfer, yield_};

use crate::support::{Flag, manual_loop, panic_message};

#[test]
fn resume_and_suspend_pass_values_in_order_through_100k_round_trips() {
    let ex = Executor::new();
    let doubler = ex.newthread(async {
        let mut x = suspend().await.take::<u64>();
        loop {
            x = yield_(x * 2).await.take::<u64>();
        }
    });
    assert!(
        doubler.resume(()).is_none(),
        "started; suspended without a value"
    );
    for i in 0..100_000u64 {
        assert_eq!(doubler.resume(i).take::<u64>(), i * 2);
    }
    assert!(doubler.is_suspended());
}

#[test]
fn transfer_passes_values_in_order_through_100k_round_trips() {
    let ex = Executor::new();
    let seen = ex.run(async {
        let main = current();
        let echo = newthread(async move {
            let mut n = suspend().await.take::<u64>();
            loop {
                n = transfer(&main, n + 1).await.take::<u64>();
            }
        });
        echo.resume(());
        let mut seen = Vec::with_capacity(100_000);
        let mut x = 0u64;
        for _ in 0..100_000 {
            let got = transfer(&echo, x).await.take::<u64>();
            seen.push(got);
            x = got + 1;
        }
        seen
    });
    assert_eq!(seen.len(), 100_000);
    assert!(seen.iter().enumerate().all(|(i, v)| *v == 2 * i as u64 + 1));
}

#[test]
fn typed_values_of_any_type_pass_both_ways() {
    let ex = Executor::new();
    let t = ex.newthread(async {
        let names = suspend().await.take::<Vec<String>>();
        yield_(names.join("+")).await;
    });
    t.resume(());
    let joined = t.resume(vec!["a".to_string(), "b".to_string()]);
    assert_eq!(joined.take::<String>(), "a+b");
}

#[test]
fn thread_runs_until_its_first_suspension_then_returns_to_the_creator() {
    let (ex, _clock) = manual_loop();
    let log: Rc<RefCell<Vec<&str>>> = Rc::default();
    let l = log.clone();
    log.borrow_mut().push("creator before");
    let t = ex.thread(async move {
        l.borrow_mut().push("thread start");
        sleep(Duration::from_millis(5)).await;
        l.borrow_mut().push("thread end");
    });
    log.borrow_mut().push("creator after");
    assert!(t.is_started() && !t.is_finished());
    ex.start();
    assert_eq!(
        *log.borrow(),
        [
            "creator before",
            "thread start",
            "creator after",
            "thread end"
        ]
    );
}

#[test]
fn newthread_waits_for_its_first_resume_and_resume_before_start_works() {
    let (ex, _clock) = manual_loop();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let t = ex.newthread(async move {
        sleep(Duration::from_millis(1)).await;
        r.set(true);
        7
    });
    ex.start();
    assert!(
        !t.is_started() && !ran.get(),
        "start() does not run an unstarted thread"
    );
    t.resume(()); // the seed's trick: start threads before polling
    ex.start();
    assert!(ran.get());
    assert_eq!(t.try_join().unwrap().unwrap(), 7);
}

#[test]
fn a_dropped_unstarted_thread_never_runs() {
    let ex = Executor::new();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    drop(ex.newthread(async move { r.set(true) }));
    ex.start();
    assert!(!ran.get());
    assert_eq!(ex.alive(), 0);
}

#[test]
fn resume_from_inside_a_thread_polls_inline_and_nests() {
    let ex = Executor::new();
    let out = ex.run(async {
        let inner = newthread(async {
            yield_(1u8).await;
            yield_(2u8).await;
        });
        let outer = newthread(async move {
            let a = inner.resume(()).take::<u8>();
            let b = inner.resume(()).take::<u8>();
            yield_(a + b).await;
        });
        outer.resume(()).take::<u8>()
    });
    assert_eq!(out, 3);
}

#[test]
fn on_finish_runs_exactly_once_also_when_the_thread_panics() {
    let ex = Executor::new();
    let count = Rc::new(Cell::new(0));
    let ok = ex.spawn(async {});
    let bad = ex.spawn(async { panic!("boom") });
    for t in [&ok.to_ref(), &bad.to_ref()] {
        let c = count.clone();
        t.on_finish(move |_| c.set(c.get() + 1));
    }
    ex.start();
    assert_eq!(count.get(), 2);
    assert!(bad.try_join().unwrap().unwrap_err().is_panic());
    let c = count.clone();
    ok.on_finish(move |_| c.set(c.get() + 1)); // already finished: runs at once
    ex.start();
    assert_eq!(count.get(), 3);
}

#[test]
fn builder_names_threads() {
    let ex = Executor::new();
    let t = Builder::new()
        .name("reader")
        .spawn_on(&ex, async { current().name() });
    ex.start();
    assert_eq!(t.try_join().unwrap().unwrap().as_deref(), Some("reader"));
}

#[test]
fn resuming_a_finished_thread_panics_with_advice() {
    let ex = Executor::new();
    let t = ex.thread(async {});
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| t.resume(()))).unwrap_err());
    assert!(msg.contains("has finished"), "{msg}");
}

#[test]
fn resuming_yourself_panics_with_advice() {
    let ex = Executor::new();
    let t = ex.spawn(async { current().resume(()) });
    ex.start();
    let msg = panic_message(t.try_join().unwrap().unwrap_err().into_panic());
    assert!(
        msg.contains("cannot resume itself") && msg.contains("yield_()"),
        "{msg}"
    );
}

#[test]
fn resuming_a_running_thread_panics_with_advice() {
    let ex = Executor::new();
    let out = ex.run(async {
        let me = current();
        let t = newthread(async move { me.resume(()) });
        t.resume(());
        t.try_join().unwrap().unwrap_err().into_panic()
    });
    let msg = panic_message(out);
    assert!(msg.contains("is running"), "{msg}");
}

#[test]
fn resuming_a_thread_waiting_for_io_panics_with_advice() {
    let ex = Executor::new();
    let flag = Flag::default();
    let t = ex.thread(flag.wait());
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| t.resume(()))).unwrap_err());
    assert!(msg.contains("waiting for something else"), "{msg}");
    flag.set();
    ex.start();
    assert!(t.is_finished());
}

#[test]
fn transferring_to_yourself_panics_with_advice() {
    let ex = Executor::new();
    let t = ex.spawn(async { transfer(&current(), ()).await });
    ex.start();
    let msg = panic_message(t.try_join().unwrap().unwrap_err().into_panic());
    assert!(msg.contains("cannot transfer itself"), "{msg}");
}

#[test]
fn a_thread_joining_itself_panics_with_advice() {
    let ex = Executor::new();
    let slot: Rc<RefCell<Option<sock_sched::Thread<()>>>> = Rc::default();
    let s = slot.clone();
    let t = ex.newthread(async move {
        let me = s.borrow_mut().take().unwrap();
        me.join().await.ok();
    });
    let watcher = t.to_ref();
    *slot.borrow_mut() = Some(t);
    watcher.resume(()); // the panic is caught in the thread and kept for its handles
    assert!(watcher.is_finished());
    drop(watcher); // the last handle: the unjoined panic surfaces from the loop
    let payload = catch_unwind(AssertUnwindSafe(|| ex.poll(Some(Duration::ZERO)))).unwrap_err();
    let msg = panic_message(payload);
    assert!(msg.contains("cannot join itself"), "{msg}");
}

#[test]
fn a_value_mismatch_names_both_types() {
    let ex = Executor::new();
    let t = ex.thread(async { suspend().await.take::<u32>() });
    t.resume("text");
    let msg = panic_message(t.try_join().unwrap().unwrap_err().into_panic());
    assert!(msg.contains("u32") && msg.contains("&str"), "{msg}");
}

//! Timers: the seed's timer bugs as named regression tests, ordering, policies, cost.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock_sched::{
    Clock, Executor, ManualClock, ManualPark, MissedTick, Sleep, TimerHandle, sleep_until,
};

use crate::support::{EarlyPark, Rng, counting_loop, manual_loop, yield_now};

const MS: Duration = Duration::from_millis(1);

#[test]
fn timer_never_fires_early() {
    let clock = ManualClock::new();
    let ex = Executor::with_park(
        EarlyPark(clock.clone(), ManualPark::new(clock.clone())),
        clock.clone(),
    );
    let origin = ex.clock();
    let fired: Rc<RefCell<Vec<(Instant, Instant)>>> = Rc::default();
    for i in 0..200u64 {
        let deadline = origin + Duration::from_micros(137 * i + 1);
        let (f, c) = (fired.clone(), clock.clone());
        ex.run_at(deadline, move || f.borrow_mut().push((deadline, c.now())));
        let (f, c) = (fired.clone(), clock.clone());
        ex.spawn(async move {
            sleep_until(deadline).await;
            f.borrow_mut().push((deadline, c.now()));
        });
    }
    ex.start();
    assert_eq!(fired.borrow().len(), 400);
    for (deadline, at) in fired.borrow().iter() {
        assert!(at >= deadline, "fired {:?} early", *deadline - *at);
    }
}

#[test]
fn overdue_timer_fires_at_next_iteration_and_loop_does_not_spin() {
    let (ex, clock, parks) = counting_loop();
    let fired = Rc::new(Cell::new(None));
    let (f, c) = (fired.clone(), clock.clone());
    ex.run_after(10 * MS, move || f.set(Some(c.now())));
    let later = ex.run_after(Duration::from_secs(1), || {});
    let busy = clock.clone();
    ex.spawn(async move { busy.advance(200 * MS) }); // the loop is busy for 200 ms
    assert!(ex.poll(Some(Duration::ZERO)));
    assert!(
        fired.get().is_some(),
        "the overdue timer fires in the same iteration"
    );
    assert_eq!(*parks.borrow(), [Some(Duration::ZERO)]);
    parks.borrow_mut().clear();
    assert!(ex.poll(None)); // now waits for the 1 s timer, no zero-timeout spin
    let parks = parks.borrow();
    assert!(
        parks.len() <= 3,
        "at most a wake-up per wheel level: {parks:?}"
    );
    assert!(
        parks.iter().all(|p| p.is_some_and(|t| t > Duration::ZERO)),
        "{parks:?}"
    );
    let waited: Duration = parks.iter().flatten().sum();
    assert_eq!(waited, 800 * MS);
    assert!(!later.is_pending());
}

#[test]
fn timers_fire_on_time_while_other_threads_stay_busy() {
    let (ex, clock) = manual_loop();
    let busy = clock.clone();
    ex.spawn(async move {
        loop {
            busy.advance(Duration::from_micros(100)); // always ready, always working
            yield_now().await;
        }
    });
    let origin = ex.clock();
    let late: Rc<RefCell<Vec<Duration>>> = Rc::default();
    let (l, c, stopper) = (late.clone(), clock.clone(), ex.clone());
    let mut n = 0u32;
    ex.run_every(5 * MS, move || {
        n += 1;
        l.borrow_mut().push(c.now() - (origin + 5 * MS * n));
        if n == 100 {
            stopper.stop();
        }
        n < 100
    });
    ex.start();
    assert_eq!(late.borrow().len(), 100);
    assert!(
        late.borrow().iter().all(|l| *l < MS),
        "lateness {:?}",
        late.borrow()
    );
}

#[test]
fn sleep_job_wakeup_wakes_the_sleeper_with_the_value() {
    let (ex, _clock) = manual_loop();
    let origin = ex.clock();
    let job = sock_sched::SleepJob::new();
    let waker = job.clone();
    let woke = Rc::new(Cell::new(false));
    let w = woke.clone();
    ex.run_after(10 * MS, move || w.set(waker.wakeup(42)));
    let got = ex.run(async move { job.sleep(Duration::from_secs(3600)).await });
    assert_eq!(got, Some(42));
    assert!(woke.get());
    assert_eq!(ex.clock() - origin, 10 * MS);
}

#[test]
fn sleep_job_times_out_with_none_and_is_reusable() {
    let (ex, _clock) = manual_loop();
    let job = sock_sched::SleepJob::<u8>::new();
    let j = job.clone();
    let (first, second) = ex.run(async move {
        let first = j.sleep(5 * MS).await;
        let waker = j.clone();
        sock_sched::run_after(MS, move || assert!(waker.wakeup(7)));
        (first, j.sleep(5 * MS).await)
    });
    assert_eq!((first, second), (None, Some(7)));
    assert!(!job.wakeup(1), "nobody sleeps any more");
}

#[test]
fn sleep_job_second_wakeup_returns_false() {
    let (ex, _clock) = manual_loop();
    let job = sock_sched::SleepJob::new();
    let sleeper = {
        let job = job.clone();
        ex.spawn(async move { job.sleep(Duration::from_secs(1)).await })
    };
    ex.poll(Some(Duration::ZERO));
    assert!(job.is_sleeping());
    assert!(job.wakeup("a"));
    assert!(!job.wakeup("b"));
    ex.start();
    assert_eq!(sleeper.try_join().unwrap().unwrap(), Some("a"));
}

#[test]
fn timer_handle_cancel_prevents_the_callback() {
    let (ex, _clock) = manual_loop();
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let timer = ex.run_after(10 * MS, move || f.set(true));
    assert!(timer.is_pending());
    assert!(timer.cancel());
    assert!(!timer.cancel());
    ex.start();
    assert!(!fired.get());
}

#[test]
fn cancelling_a_periodic_timer_from_its_own_callback_stops_it() {
    let (ex, _clock) = manual_loop();
    let handle: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
    let runs = Rc::new(Cell::new(0));
    let (h, r) = (handle.clone(), runs.clone());
    let timer = ex.run_every(MS, move || {
        r.set(r.get() + 1);
        if r.get() == 3 {
            assert!(h.borrow().as_ref().unwrap().cancel());
        }
        true // asks to go on, but was cancelled
    });
    *handle.borrow_mut() = Some(timer);
    ex.start();
    assert_eq!(runs.get(), 3);
}

#[test]
fn cancelling_a_one_shot_timer_from_its_own_callback_is_harmless() {
    let (ex, _clock) = manual_loop();
    let handle: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
    let h = handle.clone();
    let cancelled = Rc::new(Cell::new(None));
    let c = cancelled.clone();
    *handle.borrow_mut() = Some(ex.run_after(MS, move || {
        c.set(Some(h.borrow().as_ref().unwrap().cancel()))
    }));
    ex.start();
    assert_eq!(cancelled.get(), Some(false), "it already fired");
}

#[test]
fn cancelling_a_timer_from_another_timer() {
    let (ex, _clock) = manual_loop();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    let later = ex.run_after(10 * MS, move || f.set(f.get() + 1));
    let f = fired.clone();
    let same_tick = Rc::new(RefCell::new(None::<TimerHandle>));
    let s = same_tick.clone();
    ex.run_after(5 * MS, move || {
        assert!(later.cancel());
        assert!(
            s.borrow().as_ref().unwrap().cancel(),
            "due on the same tick, not run yet"
        );
    });
    *same_tick.borrow_mut() = Some(ex.run_after(5 * MS, move || f.set(f.get() + 10)));
    ex.start();
    assert_eq!(fired.get(), 0);
}

#[test]
fn missed_ticks_delay_by_default_and_skip_on_request() {
    for (policy, expected) in [
        (MissedTick::Delay, [35, 45, 55]),
        (MissedTick::Skip, [35, 40, 50]),
    ] {
        let (ex, clock) = manual_loop();
        let origin = ex.clock();
        let at: Rc<RefCell<Vec<u128>>> = Rc::default();
        let (a, c) = (at.clone(), clock.clone());
        ex.run_every_with(10 * MS, policy, move || {
            a.borrow_mut().push((c.now() - origin).as_millis());
            a.borrow().len() < 3
        });
        let busy = clock.clone();
        ex.spawn(async move { busy.advance(35 * MS) }); // misses the ticks at 10, 20, 30
        ex.start();
        assert_eq!(*at.borrow(), expected, "{policy:?}");
    }
}

#[test]
fn a_million_timers_fire_in_deadline_order_ties_by_creation() {
    let (ex, _clock) = manual_loop();
    let origin = ex.clock();
    let order: Rc<RefCell<Vec<(Duration, u32)>>> =
        Rc::new(RefCell::new(Vec::with_capacity(1 << 20)));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..1_000_000u32 {
        let offset = Duration::from_micros(rng.next() % 2_000_000); // many ties
        let o = order.clone();
        ex.run_at(origin + offset, move || o.borrow_mut().push((offset, i)));
    }
    ex.start();
    let order = order.borrow();
    assert_eq!(order.len(), 1_000_000);
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "fired out of (deadline, creation) order"
    );
}

#[test]
fn a_timer_costs_nothing_until_armed() {
    let (ex, _clock) = manual_loop();
    let past = ex.clock();
    let mut sleep = Sleep::until(past);
    assert!(!sleep.is_armed());
    ex.run(async move {
        (&mut sleep).await;
        assert!(!sleep.is_armed(), "a due sleep completes without a timer");
    });
    let pending = ex.spawn(Sleep::until(past + Duration::from_secs(9)));
    ex.poll(Some(Duration::ZERO));
    assert!(ex.next_deadline().is_some());
    drop(pending); // detached: still armed
    assert!(ex.next_deadline().is_some());
}

#[test]
fn dropping_or_resetting_a_sleep_disarms_its_timer() {
    let (ex, _clock) = manual_loop();
    let start = ex.clock();
    let deadline = ex.run(async move {
        let mut s = Sleep::until(start + Duration::from_secs(60));
        let armed = std::future::poll_fn(|cx| {
            let _ = std::pin::Pin::new(&mut s).poll(cx);
            std::task::Poll::Ready(s.is_armed())
        })
        .await;
        assert!(armed);
        s.reset(start + 3 * MS);
        assert!(!s.is_armed());
        s.await;
        sock_sched::clock()
    });
    assert_eq!(deadline - start, 3 * MS);
    assert_eq!(ex.next_deadline(), None);
}

#[test]
fn resolution_is_configurable() {
    let (ex, _clock) = manual_loop();
    ex.set_resolution(Duration::from_micros(100));
    let start = ex.clock();
    ex.run(sock_sched::sleep(Duration::from_micros(250)));
    assert_eq!(ex.clock() - start, Duration::from_micros(300));
}

#[test]
fn a_panicking_waker_does_not_lose_the_wakes_expiring_with_it() {
    struct Panicky;
    impl std::task::Wake for Panicky {
        fn wake(self: std::sync::Arc<Self>) {
            panic!("this waker panics");
        }
    }
    let (ex, _clock) = manual_loop();
    let at = ex.clock() + 2 * MS;
    let kept: Rc<RefCell<Option<std::pin::Pin<Box<Sleep>>>>> = Rc::default();
    let k = kept.clone();
    ex.spawn(async move {
        let mut s = Box::pin(sleep_until(at));
        let waker = std::task::Waker::from(std::sync::Arc::new(Panicky));
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(
            s.as_mut().poll(&mut cx).is_pending(),
            "armed, first in line"
        );
        *k.borrow_mut() = Some(s);
    });
    let woken = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let w = woken.clone();
        ex.spawn(async move {
            sleep_until(at).await;
            w.set(w.get() + 1);
        });
    }
    let poll = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.poll(None)));
    assert!(
        (0..10).any(|_| poll().is_err()),
        "the waker's panic surfaces"
    );
    assert_eq!(woken.get(), 0);
    for _ in 0..10 {
        ex.poll(Some(Duration::ZERO));
    }
    assert_eq!(woken.get(), 3, "the sleeps due with it still woke");
    drop(kept);
}

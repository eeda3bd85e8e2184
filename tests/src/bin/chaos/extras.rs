//! The side ingredients of the loop mode: callback timers, sleep jobs, coroutine
//! resume/yield and transfer, the resumer of suspended writers, and the generator a
//! reader may run in.
//!
//! Each checks what the API promises: a timer never fires before its deadline nor
//! after `cancel()` returned true (and `cancel()` false on a one-shot means it fired); a
//! `wakeup` that returned true is the value the sleeper gets, and a sleep that timed out
//! lasted its full time; values pass through `resume`/`yield_`/`transfer` intact.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sock::{
    task::{Co, CoYield, ThreadRef},
    time::{SleepJob, TimerHandle},
};

use crate::endpoint::Endpoint;
use crate::flow::Flow;
use crate::plan::{Extra, ReadOp, Steps, TimerStop};
use crate::reader::{Pace, reader};
use crate::report::{Task, op, violation};

/// Runs one side ingredient as `task`.
pub(crate) async fn extra(extra: Extra, task: Task) {
    op(task, format_args!("{extra:?}"));
    match extra {
        Extra::Timer { delay, every, stop } => timer(delay, every, stop, task).await,
        Extra::Job { sleep, wake } => job(sleep, wake, task).await,
        Extra::Counter { rounds } => counter(rounds, task).await,
        Extra::Relay { rounds } => relay(rounds, task).await,
    }
}

/// What a timer's callback and its owner share.
#[derive(Default)]
struct Ticks {
    /// Callbacks run so far.
    fired: Cell<u32>,
    /// `cancel()` returned true.
    cancelled: Cell<bool>,
    /// The handle, for a cancel from inside.
    handle: RefCell<Option<TimerHandle>>,
}

/// `run_after` / `run_every`, cancelled as `stop` says, checked tick by tick.
async fn timer(delay: u8, every: bool, stop: TimerStop, task: Task) {
    let period = Duration::from_millis(u64::from(delay));
    let ticks = Rc::new(Ticks::default());
    let armed = Instant::now();
    let t = ticks.clone();
    let tick = move || {
        let n = t.fired.get() + 1;
        t.fired.set(n);
        check_tick(armed, period * n, t.cancelled.get(), n);
        if stop == TimerStop::Inside(n as u8) {
            let handle = t.handle.borrow();
            let cancelled = handle.as_ref().is_some_and(TimerHandle::cancel);
            t.cancelled.set(cancelled);
        }
        true
    };
    let handle = match every {
        true => sock::time::run_every(period, tick),
        false => sock::time::run_after(period, move || {
            tick();
        }),
    };
    *ticks.handle.borrow_mut() = Some(handle);
    stop_timer(&ticks, every, stop, period, task).await;
    if let Some(h) = ticks.handle.borrow_mut().take() {
        h.cancel();
    }
}

/// Checks tick `n`, due `due` after `armed`.
fn check_tick(armed: Instant, due: Duration, cancelled: bool, n: u32) {
    let early = due.saturating_sub(armed.elapsed());
    if !early.is_zero() {
        violation(format!(
            "timer tick {n} fired {early:?} before its deadline"
        ));
    }
    if cancelled {
        violation(format!("timer tick {n} fired after cancel() returned true"));
    }
}

/// Waits as the timer's plan says, cancels it from outside if planned, then watches it
/// for a few more periods.
async fn stop_timer(ticks: &Ticks, every: bool, stop: TimerStop, period: Duration, task: Task) {
    match stop {
        TimerStop::Outside(ms) => {
            sock::sleep(Duration::from_millis(u64::from(ms))).await;
            op(task, format_args!("timer: cancel from outside"));
            let pending = ticks
                .handle
                .borrow()
                .as_ref()
                .is_some_and(TimerHandle::cancel);
            ticks.cancelled.set(pending);
            if !pending && !every && ticks.fired.get() == 0 {
                violation("cancel() of a one-shot timer said not pending, yet it never fired");
            }
        }
        TimerStop::Inside(k) => {
            let target = if every { u32::from(k) } else { 1 };
            wait_for(|| ticks.fired.get() >= target).await;
        }
        TimerStop::Never => wait_for(|| ticks.fired.get() >= 1).await,
    }
    let settled = ticks.fired.get();
    sock::sleep(period * 3 + Duration::from_millis(2)).await;
    if ticks.cancelled.get() && ticks.fired.get() != settled {
        violation("a cancelled timer kept firing");
    }
}

/// Sleeps 1 ms at a time until `done()`, at most 5 s.
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..5000 {
        if done() {
            return;
        }
        sock::sleep(Duration::from_millis(1)).await;
    }
    violation("a timer never fired (waited 5 s)");
}

/// A `SleepJob` sleep of `sleep` ms, woken after `wake` ms if planned.
async fn job(sleep: u8, wake: Option<u8>, task: Task) {
    let job = SleepJob::<u64>::new();
    let woke = Rc::new(Cell::new(None));
    let waker = wake.map(|ms| {
        let (job, woke) = (job.clone(), woke.clone());
        sock::spawn(async move {
            sock::sleep(Duration::from_millis(u64::from(ms))).await;
            woke.set(Some(job.wakeup(77)));
        })
    });
    let start = Instant::now();
    let got = job.sleep(Duration::from_millis(u64::from(sleep))).await;
    let slept = start.elapsed();
    if let Some(w) = waker {
        op(task, format_args!("job: join the waker"));
        let _ = w.join().await;
    }
    match (got, woke.get()) {
        (Some(77), Some(true)) => {}
        (None, Some(true)) => violation("wakeup() returned true but the sleeper timed out"),
        (None, _) if slept < Duration::from_millis(u64::from(sleep)) => {
            violation(format!("a {sleep}ms job sleep timed out after {slept:?}"))
        }
        (None, _) => {}
        (got, woke) => violation(format!("job sleep gave {got:?}, wakeup gave {woke:?}")),
    }
}

/// A `newthread` summing the values it is resumed with, yielding the running total.
async fn counter(rounds: u8, task: Task) {
    let t = sock::task::newthread(async {
        let mut total = 0u64;
        loop {
            let v = sock::task::yield_(total).await.take::<u64>();
            if v == 0 {
                return total;
            }
            total += v;
        }
    });
    let mut want = 0u64;
    let first = t.resume(()).get::<u64>();
    for v in 1..=u64::from(rounds) {
        want += v;
        op(task, format_args!("counter: resume with {v}"));
        let got = t.resume(v).get::<u64>();
        if got != Some(want) {
            violation(format!(
                "counter yielded {got:?} after resume({v}), not {want}"
            ));
        }
        sock::sleep(Duration::from_millis(u64::from(rounds % 2))).await;
    }
    let _ = t.resume(0u64);
    let end = t.try_join().map(|r| r.ok());
    if first != Some(0) || end != Some(Some(want)) {
        violation(format!(
            "counter: first {first:?}, end {end:?}, want {want}"
        ));
    }
}

/// Two threads passing a counter back and forth with `transfer` until it reaches
/// `rounds`; the second one sleeps now and then while it has control.
async fn relay(rounds: u8, task: Task) {
    let n = u64::from(rounds);
    let first: Rc<RefCell<Option<ThreadRef>>> = Rc::default();
    let second = sock::task::newthread(relay_second(n, first.clone()));
    second.resume(());
    let a = sock::spawn(relay_first(n, second.to_ref()));
    *first.borrow_mut() = Some(a.to_ref());
    op(task, format_args!("relay: join both"));
    let (x, y) = (a.join().await, second.join().await);
    if x.as_ref().ok() != Some(&n) || y.as_ref().ok() != Some(&n) {
        violation(format!(
            "relay of {n}: the threads ended with {x:?} and {y:?}"
        ));
    }
    first.borrow_mut().take();
}

/// The relay's first thread: sends odd values to `second`, finishes it at `n`.
async fn relay_first(n: u64, second: ThreadRef) -> u64 {
    let mut v = 0u64;
    loop {
        if v + 1 >= n {
            second.resume(v + 1);
            return v + 1;
        }
        v = sock::task::transfer(&second, v + 1).await.take::<u64>();
        if v >= n {
            second.resume(v);
            return v;
        }
    }
}

/// The relay's second thread: started and suspended at once, then answers each value
/// with the next one until `n`.
async fn relay_second(n: u64, first: Rc<RefCell<Option<ThreadRef>>>) -> u64 {
    let mut v = sock::task::suspend().await.take::<u64>();
    loop {
        if v >= n {
            return v;
        }
        if v % 5 == 0 {
            sock::sleep(Duration::from_millis(1)).await;
        }
        let a = first
            .borrow()
            .clone()
            .expect("the first thread is set before it transfers");
        v = sock::task::transfer(&a, v + 1).await.take::<u64>();
    }
}

/// Resumes every suspended thread of `targets` until all have finished.
pub(crate) async fn resumer(targets: Vec<ThreadRef>, task: Task) {
    loop {
        let mut live = 0;
        for t in targets.iter().filter(|t| !t.is_finished()) {
            live += 1;
            if t.is_suspended() {
                op(task, format_args!("resume thread {}", t.id()));
                t.resume(());
            }
        }
        if live == 0 {
            return;
        }
        sock::sleep(Duration::from_millis(1)).await;
    }
}

/// Yields each chunk's size out of a generator.
struct Yielding(Co<usize>);

impl Pace for Yielding {
    type Fut<'a> = CoYield<'a, usize, ()>;

    fn chunk(&self, n: usize) -> CoYield<'_, usize, ()> {
        self.0.yield_(n)
    }
}

/// A reader run inside a `cowrap` generator whose body does the receives; the consumer
/// adds up the yielded sizes, which must match what the body checked.
pub(crate) fn generator_reader<E: Endpoint>(
    ep: E,
    ops: Steps<ReadOp>,
    flow: Arc<Flow>,
    task: Task,
) -> impl Future<Output = ()> {
    let stream = flow.kind.is_stream();
    async move {
        let mut g = sock::task::cowrap(move |co: Co<usize>| async move {
            reader(ep, ops, flow, task, Yielding(co)).await
        });
        let mut total = 0u64;
        while let Some(n) = g.next().await {
            total += n as u64;
        }
        let body = g.take_output();
        if stream && body != Some(total) {
            violation(format!(
                "generator reader: yields add up to {total}, its body checked {body:?}"
            ));
        }
    }
}

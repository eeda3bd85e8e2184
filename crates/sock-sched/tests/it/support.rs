//! Helpers: a manual-clock loop, a yield-once future, a cross-thread flag future.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use sock_sched::{Executor, ManualClock, ManualPark};

/// A loop whose time moves only when a test (or a timed park) moves it.
pub(crate) fn manual_loop() -> (Executor, ManualClock) {
    let clock = ManualClock::new();
    (
        Executor::with_park(ManualPark::new(clock.clone()), clock.clone()),
        clock,
    )
}

/// Returns `Pending` once (waking itself), then `Ready`.
pub(crate) fn yield_now() -> impl Future<Output = ()> {
    YieldNow(false)
}

struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A flag another OS thread can set, waking whoever awaits it.
#[derive(Clone, Default)]
pub(crate) struct Flag(Arc<Mutex<(bool, Option<Waker>)>>);

impl Flag {
    /// Sets the flag and wakes the waiter.
    pub(crate) fn set(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether a waiter has registered its waker.
    pub(crate) fn has_waiter(&self) -> bool {
        self.0.lock().unwrap().1.is_some()
    }

    /// Completes once the flag is set.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + use<> {
        WaitFlag(self.clone())
    }
}

struct WaitFlag(Flag);

impl Future for WaitFlag {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = (self.0).0.lock().unwrap();
        if state.0 {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A park that records each timeout it is given, then parks a [`ManualPark`].
pub(crate) struct CountingPark {
    /// The park doing the work.
    inner: ManualPark,
    /// Every timeout asked for, in order.
    pub(crate) log: std::rc::Rc<std::cell::RefCell<Vec<Option<std::time::Duration>>>>,
}

impl sock_sched::Park for CountingPark {
    fn park(&mut self, timeout: Option<std::time::Duration>) {
        self.log.borrow_mut().push(timeout);
        self.inner.park(timeout);
    }

    fn unparker(&self) -> sock_sched::Unparker {
        self.inner.unparker()
    }
}

/// A manual-clock loop whose parks are recorded.
pub(crate) fn counting_loop() -> (
    Executor,
    ManualClock,
    std::rc::Rc<std::cell::RefCell<Vec<Option<std::time::Duration>>>>,
) {
    let clock = ManualClock::new();
    let log = std::rc::Rc::default();
    let park = CountingPark {
        inner: ManualPark::new(clock.clone()),
        log: std::rc::Rc::clone(&log),
    };
    (Executor::with_park(park, clock.clone()), clock, log)
}

/// A park that returns early: it moves the manual clock only half of the timeout (at least
/// 1 µs), like a poller that wakes up before its timeout.
pub(crate) struct EarlyPark(pub(crate) ManualClock, pub(crate) ManualPark);

impl sock_sched::Park for EarlyPark {
    fn park(&mut self, timeout: Option<std::time::Duration>) {
        match timeout {
            Some(t) => self
                .0
                .advance((t / 2).max(std::time::Duration::from_micros(1))),
            None => self.1.park(None),
        }
    }

    fn unparker(&self) -> sock_sched::Unparker {
        self.1.unparker()
    }
}

/// A tiny deterministic PRNG (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next pseudo-random number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

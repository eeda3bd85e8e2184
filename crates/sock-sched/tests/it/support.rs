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

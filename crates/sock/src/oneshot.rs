//! A one-shot slot from another OS thread to a waiting task (or a blocked thread): what
//! [`RemoteJoin`](crate::loops::RemoteJoin) and [`spawn_blocking`](crate::task::spawn_blocking)
//! receive their output through.
//!
//! The sender stores the value under a mutex and wakes the receiver's waker. When the
//! receiver is a thread of a sock loop, that waker is the thread's own, and a wake from
//! another OS thread goes through the loop's remote wake queue and unparks its reactor
//! (`sock-sched`'s `Shared::push_remote`), so nothing here knows about loops. A sender
//! dropped without sending closes the slot: the receiver gets `None`. A receiver dropped
//! first shows as [`Sender::is_closed`], so the sender can skip work nobody waits for.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A new slot's two ends.
pub(crate) fn channel<V>() -> (Sender<V>, Receiver<V>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            sent: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (Sender { slot: slot.clone() }, Receiver { slot })
}

/// The sending end; dropped unsent, it closes the slot.
pub(crate) struct Sender<V> {
    /// The slot shared with the receiver.
    slot: Arc<Slot<V>>,
}

/// The receiving end.
pub(crate) struct Receiver<V> {
    /// The slot shared with the sender.
    slot: Arc<Slot<V>>,
}

/// What both ends share.
struct Slot<V> {
    /// The value and the receiver's waker.
    state: Mutex<State<V>>,
    /// Signalled when the slot is filled or closed, for a blocked receiver.
    ready: Condvar,
}

/// The slot's contents.
struct State<V> {
    /// The value, until the receiver takes it.
    value: Option<V>,
    /// The sender is done: it sent a value, or was dropped without one.
    sent: bool,
    /// The waker of the task waiting for the value.
    waker: Option<Waker>,
}

impl<V> Slot<V> {
    /// The state (a poisoned lock still holds a valid state).
    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the sender done with `value` (if any) and wakes the receiver.
    fn finish(&self, value: Option<V>) {
        let waker = {
            let mut state = self.lock();
            if state.sent {
                return;
            }
            state.value = value;
            state.sent = true;
            state.waker.take()
        };
        self.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<V> Sender<V> {
    /// Sends `value` and wakes the receiver.
    pub(crate) fn send(self, value: V) {
        self.slot.finish(Some(value));
    }

    /// Whether the receiver is gone (nobody will read what is sent).
    pub(crate) fn is_closed(&self) -> bool {
        Arc::strong_count(&self.slot) == 1
    }
}

impl<V> Drop for Sender<V> {
    fn drop(&mut self) {
        self.slot.finish(None);
    }
}

impl<V> Receiver<V> {
    /// The value once sent (`Some(None)` if the sender was dropped without one);
    /// `Pending` with the waker kept otherwise.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<V>> {
        let mut state = self.slot.lock();
        if state.sent {
            return Poll::Ready(state.value.take());
        }
        match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Blocks this OS thread until the sender is done; the value, or `None` if it was
    /// dropped without one.
    pub(crate) fn recv_blocking(&self) -> Option<V> {
        let mut state = self.slot.lock();
        while !state.sent {
            state = self
                .slot
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.value.take()
    }

    /// Whether the sender is done (the value, or the sender's drop, is there).
    pub(crate) fn is_ready(&self) -> bool {
        self.slot.lock().sent
    }
}

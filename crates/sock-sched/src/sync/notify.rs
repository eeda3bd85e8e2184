//! [`Notify`]: wakes one waiting thread, or all of them, without passing data.
//!
//! The semantics are tokio's `Notify`, for the threads of one loop: `notify_one` wakes
//! the oldest waiter, or, with nobody waiting, leaves one permit that the next
//! `notified()` takes at once (permits do not add up); `notify_waiters` wakes every
//! `Notified` created before the call — polled yet or not — and leaves no permit. A
//! future woken by `notify_one` and dropped before it ran passes the wake-up on.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::queue::{Granted, Ticket, WaitQueue};

/// Wakes threads of a loop waiting for "something changed" (new work, shutdown).
///
/// `!Send`, cheap to clone (clones share state). See the [module docs](crate::sync) for
/// tokio's `Notify`, which works on the loop too and across OS threads.
///
/// # Examples
///
/// ```
/// use sock::sched::{Executor, sync::Notify};
///
/// let ex = Executor::new();
/// let notify = Notify::new();
/// let waiter = ex.spawn({
///     let notify = notify.clone();
///     async move {
///         notify.notified().await;
///         "woken"
///     }
/// });
/// ex.poll(Some(std::time::Duration::ZERO)); // it waits
/// notify.notify_one();
/// assert_eq!(ex.run(waiter.join()).unwrap(), "woken");
/// ```
#[derive(Clone, Default)]
pub struct Notify {
    /// The permit, the call count and the queue, shared by clones and futures.
    state: Rc<State>,
}

/// A notify's shared state.
#[derive(Default)]
struct State {
    /// A `notify_one` that found nobody waiting.
    permit: Cell<bool>,
    /// Calls of `notify_waiters` so far.
    broadcasts: Cell<u64>,
    /// Waiting futures.
    queue: WaitQueue,
}

/// The future of [`Notify::notified`].
///
/// # Examples
///
/// See [`Notify`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified {
    /// The notify.
    state: Rc<State>,
    /// `broadcasts` when the future was made: a later `notify_waiters` wakes it.
    broadcasts: u64,
    /// Its place in the queue, once it waits.
    ticket: Option<Ticket>,
}

impl Notify {
    /// A notify with no permit and nobody waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = sock::sched::sync::Notify::new();
    /// notify.notify_one(); // leaves a permit for the next waiter
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for a notification: a `notify_one` (or the permit one left), or a
    /// `notify_waiters` called after this future was made.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, sync::Notify};
    ///
    /// let ex = Executor::new();
    /// let notify = Notify::new();
    /// notify.notify_one(); // nobody waits: a permit is kept
    /// ex.run(notify.notified()); // takes it at once
    /// ```
    pub fn notified(&self) -> Notified {
        Notified {
            state: self.state.clone(),
            broadcasts: self.state.broadcasts.get(),
            ticket: None,
        }
    }

    /// Wakes the oldest waiting thread; with nobody waiting, leaves a permit for the next
    /// `notified()` (one at most).
    ///
    /// # Examples
    ///
    /// See [`Notify`].
    pub fn notify_one(&self) {
        if !self.state.queue.wake_one() {
            self.state.permit.set(true);
        }
    }

    /// Wakes every thread waiting now (every `Notified` made before this call), and
    /// leaves no permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, sync::Notify};
    ///
    /// let ex = Executor::new();
    /// let shutdown = Notify::new();
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| ex.spawn({
    ///         let shutdown = shutdown.clone();
    ///         async move { shutdown.notified().await }
    ///     }))
    ///     .collect();
    /// ex.poll(Some(std::time::Duration::ZERO)); // all three wait
    /// shutdown.notify_waiters();
    /// ex.start();
    /// assert!(waiters.iter().all(|t| t.is_finished()));
    /// ```
    pub fn notify_waiters(&self) {
        let state = &self.state;
        state.broadcasts.set(state.broadcasts.get() + 1);
        state.queue.wake_all();
    }
}

impl Future for Notified {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(ticket) = &self.ticket {
            if ticket.granted() == Granted::No {
                ticket.set_waker(cx.waker());
                return Poll::Pending;
            }
            self.ticket = None;
            return Poll::Ready(());
        }
        let state = &self.state;
        if state.broadcasts.get() != self.broadcasts || state.permit.get() {
            if !crate::coop::spend(cx) {
                return Poll::Pending;
            }
            if state.broadcasts.get() == self.broadcasts {
                state.permit.set(false);
            }
            self.broadcasts = state.broadcasts.get();
            return Poll::Ready(());
        }
        self.ticket = Some(state.queue.push(cx.waker()));
        Poll::Pending
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            if self.state.queue.leave(ticket) == Granted::One {
                // Woken by `notify_one` but never ran: the wake-up goes to the next.
                let notify = Notify {
                    state: self.state.clone(),
                };
                notify.notify_one();
            }
        }
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &self.state.permit.get())
            .field("waiting", &self.state.queue.len())
            .finish()
    }
}

impl fmt::Debug for Notified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

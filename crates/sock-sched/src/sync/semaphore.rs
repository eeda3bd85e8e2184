//! [`Semaphore`]: a counting semaphore for the threads of one loop, fair (first come,
//! first served), with permits given back on drop.
//!
//! A released permit goes straight to the oldest waiter (see [`WaitQueue`]) rather than
//! back to the count, so a newcomer can never overtake a thread already waiting: the
//! count is above zero only while nobody waits, which is also why
//! [`try_acquire`](Semaphore::try_acquire) never jumps the queue.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::queue::{Granted, Ticket, WaitQueue};

/// A counting semaphore for the threads of a loop: bounds how many do something at once
/// (connections served, requests in flight, files open).
///
/// `!Send`: it lives on one OS thread, like the loop's threads, and costs no atomics.
/// Clones share the same permits. Fair: waiting threads get permits in the order they
/// asked. A waiting [`acquire`](Semaphore::acquire) that is dropped (its thread
/// cancelled, a deadline passed) leaves the queue; if a permit had already been handed
/// to it, the permit goes to the next waiter, so no wake-up is lost. For a semaphore
/// shared by several OS threads, use `tokio::sync::Semaphore`, which works on the loop too
/// (see the [module docs](crate::sync)).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use sock::sched::{Executor, ThreadSet, sleep, sync::Semaphore};
///
/// let ex = Executor::new();
/// let busy = Rc::new(Cell::new(0));
/// let most = Rc::new(Cell::new(0));
/// ex.run(async {
///     let limit = Semaphore::new(2);
///     let mut set = ThreadSet::new();
///     for _ in 0..6 {
///         let (limit, busy, most) = (limit.clone(), busy.clone(), most.clone());
///         set.spawn(async move {
///             let _permit = limit.acquire().await;
///             busy.set(busy.get() + 1);
///             most.set(most.get().max(busy.get()));
///             sleep(Duration::from_millis(1)).await;
///             busy.set(busy.get() - 1);
///         });
///     }
///     while set.join_next().await.is_some() {}
/// });
/// assert_eq!(most.get(), 2);
/// ```
#[derive(Clone)]
pub struct Semaphore {
    /// The count and the queue, shared by clones, permits and waiting acquires.
    state: Rc<State>,
}

/// A semaphore's shared state.
struct State {
    /// Permits free; above zero only while the queue is empty.
    permits: Cell<usize>,
    /// Waiting acquires.
    queue: WaitQueue,
}

/// A permit of a [`Semaphore`]; dropping it gives the permit back (to the oldest
/// waiter, if any).
///
/// # Examples
///
/// ```
/// let s = sock::sched::sync::Semaphore::new(1);
/// let permit = s.try_acquire().unwrap();
/// assert_eq!(s.available_permits(), 0);
/// drop(permit);
/// assert_eq!(s.available_permits(), 1);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct Permit {
    /// The semaphore it came from.
    state: Rc<State>,
}

/// The future of [`Semaphore::acquire`]: a [`Permit`] once one is free and it is this
/// future's turn.
///
/// # Examples
///
/// See [`Semaphore`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire {
    /// The semaphore.
    state: Rc<State>,
    /// Its place in the queue, once it waits.
    ticket: Option<Ticket>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::sched::sync::Semaphore::new(3);
    /// assert_eq!(s.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            state: Rc::new(State {
                permits: Cell::new(permits),
                queue: WaitQueue::default(),
            }),
        }
    }

    /// Waits for a permit, behind every thread already waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Executor, sync::Semaphore};
    ///
    /// let ex = Executor::new();
    /// let s = Semaphore::new(1);
    /// let permit = ex.run(s.acquire());
    /// assert_eq!(s.available_permits(), 0);
    /// drop(permit);
    /// ```
    pub fn acquire(&self) -> Acquire {
        Acquire {
            state: self.state.clone(),
            ticket: None,
        }
    }

    /// A permit if one is free now (never ahead of a waiting thread: while threads wait,
    /// none is free).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::sched::sync::Semaphore::new(1);
    /// let held = s.try_acquire();
    /// assert!(held.is_some());
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit> {
        self.state.take_free().then(|| self.state.permit())
    }

    /// Permits free now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::sched::sync::Semaphore::new(2).available_permits(), 2);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.permits.get()
    }

    /// Adds `n` permits (handed to waiting threads first, oldest first).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock::sched::sync::Semaphore::new(0);
    /// s.add_permits(2);
    /// assert_eq!(s.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        for _ in 0..n {
            self.state.release();
        }
    }

    /// How many acquires are waiting for a permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sched::{Executor, sync::Semaphore};
    ///
    /// let ex = Executor::new();
    /// let s = Semaphore::new(0);
    /// let waiter = ex.spawn({
    ///     let s = s.clone();
    ///     async move { drop(s.acquire().await) }
    /// });
    /// ex.poll(Some(Duration::ZERO));
    /// assert_eq!(s.waiting(), 1);
    /// waiter.cancel();
    /// assert_eq!(s.waiting(), 0);
    /// ```
    pub fn waiting(&self) -> usize {
        self.state.queue.len()
    }
}

impl State {
    /// Takes a free permit if there is one.
    fn take_free(&self) -> bool {
        let free = self.permits.get();
        if free == 0 {
            return false;
        }
        self.permits.set(free - 1);
        true
    }

    /// A permit of this semaphore (already counted out).
    fn permit(self: &Rc<Self>) -> Permit {
        Permit {
            state: self.clone(),
        }
    }

    /// Gives a permit back: to the oldest waiter, or to the count if none waits.
    fn release(&self) {
        if !self.queue.wake_one() {
            self.permits.set(self.permits.get() + 1);
        }
    }
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        if let Some(ticket) = &self.ticket {
            if ticket.granted() == Granted::No {
                ticket.set_waker(cx.waker());
                return Poll::Pending;
            }
            self.ticket = None; // the permit it was granted is now the caller's
            return Poll::Ready(self.state.permit());
        }
        if self.state.permits.get() > 0 {
            if !crate::coop::spend(cx) {
                return Poll::Pending;
            }
            self.state.take_free();
            return Poll::Ready(self.state.permit());
        }
        self.ticket = Some(self.state.queue.push(cx.waker()));
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            if self.state.queue.leave(ticket) != Granted::No {
                self.state.release(); // granted but never taken: pass it on
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.state.release();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

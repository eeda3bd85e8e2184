//! [`WaitQueue`]: the first-in, first-out queue of waiting futures that [`Semaphore`] and
//! [`Notify`] share.
//!
//! A waiting future holds a [`Ticket`]: its place in the queue and a cell the waker of
//! the queue writes into. Waking a waiter *grants* it — takes it out of the queue, marks
//! its ticket, wakes its task — so what it was woken for (a permit, a notification)
//! is already its own when it runs, and nobody can take it in between. A future dropped
//! while still queued leaves the queue; one dropped after it was granted gives back what
//! it was granted (its owner passes it on), so a cancelled waiter never swallows a
//! wake-up. Keys grow by one per waiter, so the map's order is arrival order.
//!
//! [`Semaphore`]: super::Semaphore
//! [`Notify`]: super::Notify

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Waker;

/// Waiting futures in arrival order.
#[derive(Default)]
pub(crate) struct WaitQueue {
    /// The key of the next waiter.
    next_key: Cell<u64>,
    /// The waiters not granted yet, by key (arrival order).
    waiters: RefCell<BTreeMap<u64, Rc<Waiter>>>,
}

/// How a waiter was woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Granted {
    /// Still waiting.
    No,
    /// Alone, by [`WaitQueue::wake_one`].
    One,
    /// With every other waiter, by [`WaitQueue::wake_all`].
    All,
}

/// One waiter's shared cell.
struct Waiter {
    /// Whether (and how) it was granted.
    granted: Cell<Granted>,
    /// The task to wake.
    waker: Cell<Option<Waker>>,
}

/// A waiting future's place in a [`WaitQueue`].
pub(crate) struct Ticket {
    /// Its key in the queue.
    key: u64,
    /// The cell shared with the queue.
    waiter: Rc<Waiter>,
}

impl WaitQueue {
    /// Queues a waiter woken through `waker`.
    pub(crate) fn push(&self, waker: &Waker) -> Ticket {
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        let waiter = Rc::new(Waiter {
            granted: Cell::new(Granted::No),
            waker: Cell::new(Some(waker.clone())),
        });
        self.waiters.borrow_mut().insert(key, waiter.clone());
        Ticket { key, waiter }
    }

    /// Grants the oldest waiter; `false` if none is waiting.
    pub(crate) fn wake_one(&self) -> bool {
        let first = self.waiters.borrow_mut().pop_first();
        match first {
            Some((_, waiter)) => {
                waiter.grant(Granted::One);
                true
            }
            None => false,
        }
    }

    /// Grants every waiter.
    pub(crate) fn wake_all(&self) {
        let all = std::mem::take(&mut *self.waiters.borrow_mut());
        for waiter in all.into_values() {
            waiter.grant(Granted::All);
        }
    }

    /// Takes a dropped future's ticket out of the queue (if it is still waiting); says
    /// whether it had been granted, so the caller can pass the grant on.
    pub(crate) fn leave(&self, ticket: Ticket) -> Granted {
        let granted = ticket.waiter.granted.get();
        if granted == Granted::No {
            self.waiters.borrow_mut().remove(&ticket.key);
        }
        granted
    }

    /// Waiters not granted yet.
    pub(crate) fn len(&self) -> usize {
        self.waiters.borrow().len()
    }
}

impl Waiter {
    /// Marks it granted and wakes its task (no borrow of the queue is held).
    fn grant(&self, how: Granted) {
        self.granted.set(how);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl Ticket {
    /// Whether (and how) the waiter was granted.
    pub(crate) fn granted(&self) -> Granted {
        self.waiter.granted.get()
    }

    /// Makes `waker` the one to wake (a future may move between tasks).
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let old = self.waiter.waker.take();
        let new = match old {
            Some(old) if old.will_wake(waker) => old,
            _ => waker.clone(),
        };
        self.waiter.waker.set(Some(new));
    }
}

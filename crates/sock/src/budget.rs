//! Cooperative fairness: a task whose socket is always ready yields after a budget.
//!
//! Edge-triggered sockets that stay ready would let one task run forever without
//! returning to the loop. Each ready operation spends one unit of the running task's
//! budget; when it is spent the operation wakes its own task and returns `Pending` once,
//! so the others (and the poller, and the timers) get their turn. The budget belongs to
//! a task, recognised by its waker; it refills when another task runs an operation or
//! when the loop polls the reactor.

use std::cell::{Cell, RefCell};
use std::task::{Context, Waker};

/// Ready operations a task may run before it yields to the loop.
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(BUDGET) };
    static OWNER: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

/// Refills the budget (the loop is about to poll the reactor).
pub(crate) fn refill() {
    LEFT.with(|l| l.set(BUDGET));
}

/// Spends one unit for the task of `cx`. Returns false when the task must yield now; it
/// has then been woken so it runs again after the others.
pub(crate) fn spend(cx: &Context<'_>) -> bool {
    let same_task = OWNER.with(|o| {
        let mut o = o.borrow_mut();
        match &*o {
            Some(w) if w.will_wake(cx.waker()) => true,
            _ => {
                *o = Some(cx.waker().clone());
                false
            }
        }
    });
    if !same_task {
        refill();
    }
    LEFT.with(|l| match l.get() {
        0 => {
            l.set(BUDGET);
            cx.waker().wake_by_ref();
            false
        }
        n => {
            l.set(n - 1);
            true
        }
    })
}

//! Per-OS-thread state: the loop being run right now ("entered") and the thread's default
//! loop (`make_current`).
//!
//! A wake on the thread that is running the task's loop pushes straight onto the local run
//! queue; any other wake goes through the loop's thread-safe remote queue.

use std::cell::RefCell;
use std::rc::Rc;

use crate::executor::{Executor, Inner};
use crate::task::WakeRef;

thread_local! {
    /// The loop currently running on this thread (inside `run`/`poll`/`start`).
    static ENTERED: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
    /// The thread's default loop.
    static DEFAULT: RefCell<Option<Executor>> = const { RefCell::new(None) };
}

/// Restores the previously entered loop when dropped (also on unwind).
pub(crate) struct EnterGuard {
    /// What was entered before.
    previous: Option<Rc<Inner>>,
}

/// Marks `inner` as the loop running on this thread until the guard drops.
pub(crate) fn enter(inner: &Rc<Inner>) -> EnterGuard {
    let previous = ENTERED.with(|e| e.replace(Some(inner.clone())));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = ENTERED.try_with(|e| e.replace(previous));
    }
}

/// The loop running on this thread, if any.
pub(crate) fn entered() -> Option<Rc<Inner>> {
    ENTERED.with(|e| e.borrow().clone())
}

/// Runs `f` on the loop running on this thread, if any, without making a handle (no
/// reference count moves). `f` must not enter or leave a loop.
pub(crate) fn with_entered<R>(f: impl FnOnce(&Rc<Inner>) -> R) -> Option<R> {
    ENTERED.with(|e| e.borrow().as_ref().map(f))
}

/// The address of the loop running on this thread, if any (no handle made).
#[inline]
pub(crate) fn entered_id() -> Option<usize> {
    ENTERED.with(|e| e.borrow().as_ref().map(|inner| Rc::as_ptr(inner) as usize))
}

/// Queues `header` locally if its loop is running on this thread; gives it back otherwise.
pub(crate) fn push_local(header: WakeRef) -> Result<(), WakeRef> {
    let mut header = Some(header);
    let _ = ENTERED.try_with(|e| {
        if let Some(inner) = &*e.borrow() {
            if let Some(header) = header.take_if(|h| inner.owns(h)) {
                inner.push_ready(header);
            }
        }
    });
    header.map_or(Ok(()), Err)
}

/// The thread's default loop, if one was made current.
pub(crate) fn default_executor() -> Option<Executor> {
    DEFAULT.with(|d| d.borrow().clone())
}

/// Makes `executor` the thread's default loop.
pub(crate) fn set_default(executor: Executor) {
    let previous = DEFAULT.with(|d| d.replace(Some(executor)));
    drop(previous);
}

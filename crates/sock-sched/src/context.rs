//! Per-OS-thread state: the loop being run right now ("entered") and the thread's default
//! loop (`make_current`).
//!
//! A wake on the thread that is running the task's loop pushes straight onto the local run
//! queue; any other wake goes through the loop's thread-safe remote queue.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::Rc;

use crate::executor::{Executor, Inner};
use crate::task::WakeRef;

thread_local! {
    /// The loop currently running on this thread (inside `run`/`poll`/`start`).
    static ENTERED: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
    /// `ENTERED`'s loop as a plain pointer (null for none), for the local wake of every
    /// task and the own-loop checks: no borrow, and no destructor state to check (it has
    /// no destructor). The [`EnterGuard`] that set it holds a reference to the loop, so
    /// it never dangles, even if a guard were leaked.
    static ENTERED_PTR: Cell<*const Inner> = const { Cell::new(ptr::null()) };
    /// The thread's default loop.
    static DEFAULT: RefCell<Option<Executor>> = const { RefCell::new(None) };
}

/// Restores the previously entered loop when dropped (also on unwind).
pub(crate) struct EnterGuard {
    /// What was entered before.
    previous: Option<Rc<Inner>>,
    /// The loop entered: keeps `ENTERED_PTR` valid while it points there.
    _entered: Rc<Inner>,
}

/// Marks `inner` as the loop running on this thread until the guard drops.
pub(crate) fn enter(inner: &Rc<Inner>) -> EnterGuard {
    let previous = ENTERED.with(|e| e.replace(Some(inner.clone())));
    ENTERED_PTR.with(|p| p.set(Rc::as_ptr(inner)));
    EnterGuard {
        previous,
        _entered: inner.clone(),
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let raw = previous.as_ref().map_or(ptr::null(), Rc::as_ptr);
        // `ENTERED` keeps `previous` alive while the pointer names it. During the
        // thread's teardown `ENTERED` may be gone: then `previous` drops here (perhaps
        // the last handle to its loop), so the pointer must not name it.
        let kept = ENTERED.try_with(|e| e.replace(previous)).is_ok();
        ENTERED_PTR.with(|p| p.set(if kept { raw } else { ptr::null() }));
    }
}

/// Runs `f` on the loop running on this thread, if any, without making a handle (no
/// reference count moves, no borrow of `ENTERED`); `None` when none runs.
#[inline]
pub(crate) fn with_entered<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    let raw = ENTERED_PTR.with(Cell::get);
    // SAFETY: a non-null pointer was set by the live `EnterGuard` that holds a
    // reference to that loop (a guard dropped restores its predecessor's pointer,
    // which that predecessor's guard keeps alive), and the loop is only used on this
    // thread, within `f`.
    (!raw.is_null()).then(|| f(unsafe { &*raw }))
}

/// The loop running on this thread, if any.
pub(crate) fn entered() -> Option<Rc<Inner>> {
    ENTERED.with(|e| e.borrow().clone())
}

/// The address of the loop running on this thread, if any (no handle made).
#[inline]
pub(crate) fn entered_id() -> Option<usize> {
    let raw = ENTERED_PTR.with(Cell::get);
    (!raw.is_null()).then_some(raw as usize)
}

/// Queues `header` locally if its loop is running on this thread; gives it back otherwise.
#[inline(always)]
pub(crate) fn push_local(header: WakeRef) -> Result<(), WakeRef> {
    // Two tests and the push: no `Option` to move the entry through (and no drop of an
    // emptied one), which kept this out of line in every wake.
    let raw = ENTERED_PTR.with(Cell::get);
    if raw.is_null() {
        return Err(header);
    }
    // SAFETY: as in `with_entered`: a non-null pointer names the loop a live
    // `EnterGuard` keeps alive, used only on this thread, for this call.
    let inner = unsafe { &*raw };
    if !inner.owns(&header) {
        return Err(header);
    }
    inner.push_ready(header);
    Ok(())
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

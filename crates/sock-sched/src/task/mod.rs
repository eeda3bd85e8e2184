//! Tasks: the owner-thread state of a task ([`Core`], [`Extras`], [`flag`]s) and, in
//! [`raw`], the single allocation that holds it with the future and the waker's counts,
//! carved from the loop's [`CellPool`] (`pool.rs`).
//!
//! A plain spawned task is one allocation plus a slab slot: everything rarely used (name,
//! environment, join waker, `on_finish` callbacks, coroutine mailbox) lives in [`Extras`],
//! allocated on first use.

mod list;
mod pool;
pub(crate) mod raw;
mod run_queue;

use std::any::Any;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::Waker;

pub(crate) use list::TaskList;
pub(crate) use pool::CellPool;
pub(crate) use raw::{TaskPtr, TaskRef, Typed, WakeRef, prefetch_waker};
pub(crate) use run_queue::RunQueue;

/// A caught panic.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Task state bits.
pub(crate) mod flag {
    /// Counted alive: queued or polled at least once (a `newthread` is not, until resumed).
    pub(crate) const STARTED: u8 = 1;
    /// Being polled right now (it is on the call stack).
    pub(crate) const RUNNING: u8 = 2;
    /// Finished: its future returned or panicked, or it was cancelled.
    pub(crate) const DONE: u8 = 4;
    /// Parked in `suspend`/`yield_`/`transfer`, waiting to be resumed.
    pub(crate) const SUSPENDED: u8 = 8;
    /// The last local handle is gone: future, output and extras are dropped.
    pub(crate) const RELEASED: u8 = 16;
    /// Finished by a panic (with [`DONE`]).
    pub(crate) const PANICKED: u8 = 32;
    /// Finished by cancellation (with [`DONE`]).
    pub(crate) const CANCELLED: u8 = 64;
    /// Cancelled while running: the loop cancels it once its current poll returns.
    pub(crate) const CANCEL: u8 = 128;
}

/// The owner-thread state of a task. Only ever touched on the loop's OS thread.
pub(crate) struct Core {
    /// The task's unique id within its loop.
    pub(crate) id: u64,
    /// The task's key in the loop's slab.
    pub(crate) key: u32,
    /// [`flag`] bits.
    flags: Cell<u8>,
    /// Live `Thread`/`ThreadRef` handles; with none left, a panic surfaces from the loop.
    pub(crate) handles: Cell<u32>,
    /// Live [`TaskRef`]s (task list entry, handles, the current-task slot, queue lookups).
    pub(crate) local: Cell<u32>,
    /// Set while a wake for the task sits in a run queue; the one field other threads
    /// touch (atomically, through a waker).
    pub(crate) scheduled: AtomicBool,
    /// Rarely used state, allocated on first use. Taken out while in use, so a nested
    /// access would see none: the helpers below never run user code while holding it.
    extras: Cell<Option<Box<Extras>>>,
}

/// Per-task state that plain spawned tasks never allocate.
#[derive(Default)]
pub(crate) struct Extras {
    /// The name given through the builder.
    pub(crate) name: Option<Arc<str>>,
    /// Waker of the task joining this one.
    pub(crate) join_waker: Option<Waker>,
    /// Callbacks to run once when the task finishes, told how it ended.
    pub(crate) on_finish: Vec<crate::finish::OnFinish>,
    /// Typed per-thread values.
    pub(crate) env: crate::env::Env,
    /// The value passed in by the last resume/transfer, not yet taken.
    pub(crate) inbox: crate::value::Value,
    /// The value passed out by the last `yield_`, not yet taken by the resumer.
    pub(crate) outbox: crate::value::Value,
    /// The thread's `tracing` span, made on its first poll.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<tracing::Span>,
}

impl Core {
    /// The core of a new task.
    pub(crate) fn new(id: u64, key: u32, extras: Option<Box<Extras>>) -> Self {
        Self {
            id,
            key,
            flags: Cell::new(0),
            handles: Cell::new(0),
            local: Cell::new(0),
            scheduled: AtomicBool::new(false),
            extras: Cell::new(extras),
        }
    }

    /// Every flag at once, for a path that tests several and then writes them back
    /// with [`set_bits`](Core::set_bits): one load instead of one per test.
    #[inline]
    pub(crate) fn bits(&self) -> u8 {
        self.flags.get()
    }

    /// Replaces every flag (see [`bits`](Core::bits)).
    #[inline]
    pub(crate) fn set_bits(&self, bits: u8) {
        self.flags.set(bits);
    }

    /// Whether any of the `bits` is set.
    pub(crate) fn is(&self, bits: u8) -> bool {
        self.flags.get() & bits != 0
    }

    /// Sets `bits`.
    pub(crate) fn set(&self, bits: u8) {
        self.flags.set(self.flags.get() | bits);
    }

    /// Clears `bits`.
    pub(crate) fn clear(&self, bits: u8) {
        self.flags.set(self.flags.get() & !bits);
    }

    /// Runs `f` on the extras, allocating them if needed. `f` must not run user code.
    pub(crate) fn extras<R>(&self, f: impl FnOnce(&mut Extras) -> R) -> R {
        let mut extras = self.extras.take().unwrap_or_default();
        let result = f(&mut extras);
        self.extras.set(Some(extras));
        result
    }

    /// Runs `f` on the extras if they were ever allocated. `f` must not run user code.
    pub(crate) fn with_extras<R>(&self, f: impl FnOnce(&mut Extras) -> R) -> Option<R> {
        let mut extras = self.extras.take()?;
        let result = f(&mut extras);
        self.extras.set(Some(extras));
        Some(result)
    }

    /// Takes the extras out (to drop them, outside any borrow).
    pub(crate) fn take_extras(&self) -> Option<Box<Extras>> {
        self.extras.take()
    }
}

//! The task: a spawned future plus its bookkeeping, and the thread-safe waker header.
//!
//! A task lives in two allocations. The `Rc`'d [`TaskCell`] holds everything `!Send`: the
//! future (boxed and pinned), its output or panic, state flags, and lazily allocated
//! [`Extras`] (name, environment, join waker, `on_finish` callbacks, coroutine mailbox) so a
//! plain spawned task pays nothing for them. The `Arc`'d [`Header`] is the `Send + Sync`
//! part a [`Waker`] points at: the task's slab key and id, a "scheduled" flag so a task
//! sits in the run queue at most once, and the loop's [`Shared`] remote queue.
//!
//! No `RefCell` borrow is held while a future is polled: the boxed future is moved out of
//! the cell for the poll and put back afterwards, so a task may freely reach its own
//! handle (or any other task's) while it runs.

use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use crate::context;
use crate::executor::Shared;
use crate::thread::JoinError;

/// A caught panic.
pub(crate) type Payload = Box<dyn Any + Send>;

/// The `Send + Sync` part of a task that its wakers point at.
pub(crate) struct Header {
    /// The task's unique id within its loop.
    pub(crate) id: u64,
    /// The task's key in the loop's slab.
    pub(crate) key: usize,
    /// Set while the task is queued, so a burst of wakes queues it once.
    scheduled: AtomicBool,
    /// The loop's remote wake queue, for wakes from other OS threads.
    shared: Arc<Shared>,
}

impl Header {
    /// A header for a task not yet queued.
    pub(crate) fn new(id: u64, key: usize, shared: Arc<Shared>) -> Self {
        Self {
            id,
            key,
            scheduled: AtomicBool::new(false),
            shared,
        }
    }

    /// Whether this task belongs to the loop with this remote queue.
    pub(crate) fn shares(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// Marks the task queued; false if it already was.
    pub(crate) fn mark_scheduled(&self) -> bool {
        !self.scheduled.swap(true, Ordering::AcqRel)
    }

    /// Marks the task no longer queued (done right before it is polled).
    pub(crate) fn clear_scheduled(&self) {
        self.scheduled.store(false, Ordering::Release);
    }
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        if self.mark_scheduled() {
            if let Err(header) = context::push_local(self) {
                header.shared.push_remote(header.clone());
            }
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.mark_scheduled() {
            if let Err(header) = context::push_local(self.clone()) {
                header.shared.push_remote(header.clone());
            }
        }
    }
}

/// Task state bits.
pub(crate) mod flag {
    /// Counted alive: queued or polled at least once (a `newthread` is not, until resumed).
    pub(crate) const STARTED: u8 = 1;
    /// Being polled right now (it is on the call stack).
    pub(crate) const RUNNING: u8 = 2;
    /// Finished: its future returned or panicked.
    pub(crate) const DONE: u8 = 4;
    /// Parked in `suspend`/`yield_`/`transfer`, waiting to be resumed.
    pub(crate) const SUSPENDED: u8 = 8;
}

/// The non-generic part of a task cell.
pub(crate) struct Core {
    /// The task's unique id within its loop.
    pub(crate) id: u64,
    /// The task's key in the loop's slab.
    pub(crate) key: usize,
    /// The waker handed to the future (points at the task's [`Header`]).
    pub(crate) waker: Waker,
    /// [`flag`] bits.
    flags: Cell<u8>,
    /// Live `Thread` handles; with none left, a panic surfaces from the loop instead.
    pub(crate) handles: Cell<u32>,
    /// Rarely used state, allocated on first use.
    extras: RefCell<Option<Box<Extras>>>,
}

/// Per-task state that plain spawned tasks never allocate.
#[derive(Default)]
pub(crate) struct Extras {
    /// The name given through the builder.
    pub(crate) name: Option<Arc<str>>,
    /// Waker of the task joining this one.
    pub(crate) join_waker: Option<Waker>,
    /// Callbacks to run once when the task finishes.
    pub(crate) on_finish: Vec<Box<dyn FnOnce()>>,
    /// Typed per-thread values.
    pub(crate) env: crate::env::Env,
    /// The value passed in by the last resume/transfer, not yet taken.
    pub(crate) inbox: crate::value::Value,
    /// The value passed out by the last `yield_`, not yet taken by the resumer.
    pub(crate) outbox: crate::value::Value,
}

impl Core {
    /// The core of a new task.
    pub(crate) fn new(id: u64, key: usize, waker: Waker, extras: Option<Box<Extras>>) -> Self {
        let (flags, handles) = (Cell::new(0), Cell::new(0));
        Self {
            id,
            key,
            waker,
            flags,
            handles,
            extras: RefCell::new(extras),
        }
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

    /// The extras, allocated if needed. Keep the borrow short: never across user code.
    pub(crate) fn extras(&self) -> RefMut<'_, Extras> {
        RefMut::map(self.extras.borrow_mut(), |e| {
            &mut **e.get_or_insert_with(Box::default)
        })
    }

    /// Runs `f` on the extras if they were ever allocated.
    pub(crate) fn with_extras<R>(&self, f: impl FnOnce(&mut Extras) -> R) -> Option<R> {
        self.extras.borrow_mut().as_deref_mut().map(f)
    }
}

/// A task as the loop sees it, whatever its future.
pub(crate) trait Task {
    /// The non-generic state.
    fn core(&self) -> &Core;

    /// Polls the future once with panics caught; `Ready` once it finished or panicked.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<()>;

    /// Drops the future without running it further (loop teardown, dropped `newthread`).
    fn cancel(&self);

    /// Takes the caught panic, if the task panicked and nobody took it yet.
    fn take_panic(&self) -> Option<Payload>;

    /// Drops the output (nobody can join any more).
    fn discard_output(&self);
}

/// A task as a `Thread<T>` handle sees it.
pub(crate) trait JoinSlot<T>: Task {
    /// Takes the output if the task is done.
    fn take_output(&self) -> Option<Result<T, JoinError>>;
}

/// The future's life: pending, being polled, finished, output taken.
enum Stage<F: Future> {
    /// Not finished; the future is here between polls.
    Pending(Pin<Box<F>>),
    /// Moved out for a poll (or dropped by `cancel`).
    Running,
    /// Finished: the output or the caught panic.
    Done(Result<F::Output, Payload>),
    /// The output was taken (by a join) or discarded.
    Taken,
}

/// A task with a concrete future.
pub(crate) struct TaskCell<F: Future> {
    /// The non-generic state.
    core: Core,
    /// The future, then its output.
    stage: RefCell<Stage<F>>,
}

impl<F: Future> TaskCell<F> {
    /// A cell owning `future`.
    pub(crate) fn new(core: Core, future: F) -> Self {
        Self {
            core,
            stage: RefCell::new(Stage::Pending(Box::pin(future))),
        }
    }
}

impl<F: Future> Task for TaskCell<F> {
    fn core(&self) -> &Core {
        &self.core
    }

    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut future = match std::mem::replace(&mut *self.stage.borrow_mut(), Stage::Running) {
            Stage::Pending(future) => future,
            other => {
                *self.stage.borrow_mut() = other;
                return Poll::Ready(());
            }
        };
        let result = match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => {
                *self.stage.borrow_mut() = Stage::Pending(future);
                return Poll::Pending;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(payload),
        };
        drop_quietly(future);
        *self.stage.borrow_mut() = Stage::Done(result);
        Poll::Ready(())
    }

    fn cancel(&self) {
        let stage = std::mem::replace(&mut *self.stage.borrow_mut(), Stage::Taken);
        drop(stage);
    }

    fn take_panic(&self) -> Option<Payload> {
        let mut stage = self.stage.borrow_mut();
        match std::mem::replace(&mut *stage, Stage::Taken) {
            Stage::Done(Err(payload)) => Some(payload),
            other => {
                *stage = other;
                None
            }
        }
    }

    fn discard_output(&self) {
        let mut stage = self.stage.borrow_mut();
        if matches!(*stage, Stage::Done(_)) {
            let output = std::mem::replace(&mut *stage, Stage::Taken);
            drop(stage);
            drop(output);
        }
    }
}

impl<F: Future> JoinSlot<F::Output> for TaskCell<F> {
    fn take_output(&self) -> Option<Result<F::Output, JoinError>> {
        let mut stage = self.stage.borrow_mut();
        match std::mem::replace(&mut *stage, Stage::Taken) {
            Stage::Done(Ok(output)) => Some(Ok(output)),
            Stage::Done(Err(payload)) => Some(Err(JoinError::panicked(payload))),
            Stage::Taken => Some(Err(JoinError::cancelled())),
            other => {
                *stage = other;
                None
            }
        }
    }
}

/// Drops a finished future; a panic in its destructor is dropped too (the task already
/// has its result, and there is nobody to give the second panic to).
fn drop_quietly<F: Future>(future: Pin<Box<F>>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(future))) {
        drop(payload);
    }
}

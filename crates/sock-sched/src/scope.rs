//! Scoped threads: a future that borrows from the caller's stack frame, run as an ordinary
//! thread of the loop — what lets [`Executor::run`] take non-`'static` futures.
//!
//! # How it stays sound
//!
//! The future is spawned with its lifetime erased ([`Executor::spawn_unchecked`]): it
//! lives in a normal task, is polled by the loop, resumed, suspended, has an environment
//! and `on_finish` callbacks like any thread. What makes the erasure sound is that
//! [`Executor::scoped`] drops the future — and an output nobody took — before it returns
//! or unwinds, from a guard that lives on its own stack frame (so, unlike a handle, it
//! cannot be leaked with `mem::forget`):
//!
//! * finished, output taken (the usual `run`): nothing is left to drop;
//! * finished, output not taken (unwinding from the loop after the thread finished): the
//!   output is dropped; a caught panic is kept for the next `run`/`poll`/`start`, as for
//!   any thread whose last handle goes unjoined (its payload is `'static`);
//! * not finished (unwinding: another thread's panic, a panicking `on_finish` or timer
//!   callback): the thread is cancelled — marked finished, its future dropped in place as
//!   its current thread, its `on_finish` callbacks run.
//!
//! After that the task only holds `'static` state, so handles the future stored away
//! (`current()` kept in a thread-local, say) stay valid: the thread is finished, resuming
//! it panics as for any finished thread, wakes are ignored.
//!
//! The guard cannot meet the thread *running*: the thread is polled only from inside
//! `scoped` (by the loop, or resumed by code the loop runs — its handle exists nowhere
//! before), and a panic cannot leave a poll without being caught (see `task::raw`). Were
//! it ever running, the future could be neither dropped nor left behind, so the process
//! aborts.

use std::future::Future;

use crate::executor::Executor;
use crate::task::flag;
use crate::thread::Thread;

/// Owns a scoped thread; dropping it drops the thread's future and unread output.
struct ScopeGuard<T> {
    /// The thread; its future may borrow what outlives the guard, and nothing else.
    thread: Thread<T>,
}

impl Executor {
    /// Spawns `future` as a thread of this loop, queued to run, and calls `body` with its
    /// handle; the future and its output may borrow anything that outlives this call.
    ///
    /// Before it returns or unwinds, the thread has finished and its output was taken
    /// (by `body`) or dropped, or it was cancelled (see the module docs).
    pub(crate) fn scoped<F: Future, R>(
        &self,
        future: F,
        body: impl FnOnce(&Thread<F::Output>) -> R,
    ) -> R {
        // SAFETY: the guard drops the thread's future and output before this frame ends,
        // by return or unwind, so they never outlive what they borrow (module docs).
        let thread = unsafe { self.spawn_unchecked(future, None) };
        let guard = ScopeGuard { thread };
        body(&guard.thread)
    }
}

impl<T> Drop for ScopeGuard<T> {
    fn drop(&mut self) {
        let task = &self.thread.task;
        if task.core().is(flag::RUNNING) {
            // Unreachable (module docs); the future must not outlive this frame.
            std::process::abort();
        }
        if !self.thread.is_finished() {
            self.thread.exec.inner.cancel(task);
            return;
        }
        let panic = task.take_panic();
        task.discard_output();
        if let Some(payload) = panic {
            self.thread.exec.inner.defer_panic(payload);
        }
    }
}

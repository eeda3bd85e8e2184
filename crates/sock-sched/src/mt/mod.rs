//! The multi-threaded flavour: a [`Pool`] of OS threads that all wait on one shared
//! kernel poller and run `Send` tasks — the scheduler of `sock`'s shared-poller mode
//! (the seed's `sock.epoll_fd([fd])` / `sock.iocp([h])`).
//!
//! # How it works
//!
//! Any OS thread that calls [`Pool::start`] becomes a *worker*. Workers wait in
//! [`SharedPark::park`] on one kernel poller (an epoll fd, an IOCP handle); the kernel
//! hands each event to one waiting worker, which wakes the task waiting for it. A task
//! woken on a worker is queued on *that worker's* local run queue and runs there: a task
//! runs on whichever thread dequeued its event. The kernel is the load balancer; there is
//! no work stealing.
//!
//! - **Task state machine.** Tasks are `async-task` tasks: a wake while the task runs
//!   only marks it to be polled again once the running poll returns, so no task is ever
//!   polled by two threads at once, however many threads wake it concurrently.
//! - **Remote wakes.** A wake or spawn from a thread that is not a worker of the pool
//!   goes to the pool's injector queue, and one [`Sentinel::Wake`] is posted to the
//!   poller (coalesced: at most one in flight); the worker that dequeues it drains the
//!   injector a batch at a time, posting another wake if more is left.
//! - **Timers** are per worker: a [`sleep`] registers in the timer list of the worker
//!   that first polls it; that worker fires it (the task may have moved on to another
//!   thread meanwhile — the wake then queues it on the firing worker). A worker waits no
//!   longer than its own next deadline. Cancelled timers are dropped lazily. A worker
//!   that leaves hands its timers to the next one to start.
//! - **Shutdown.** [`Pool::stop`] posts one [`Sentinel::Stop`] per worker. A batch
//!   dequeue may take several sentinels at once, so a worker that took `k` stops of its
//!   generation keeps one and re-posts `k - 1`; a worker that joined after the stop
//!   re-posts stops of an older generation while workers of that generation remain.
//!   No worker is left waiting.
//! - **Host-driven.** A host loop that waits on the poller itself calls
//!   [`Pool::poll`]: this thread is a worker for one bounded step (run what is ready,
//!   wait at most the given time, take *every* queued event —
//!   [`SharedPark::park_drained`] — and run what they woke), then hands its leftovers
//!   to the injector and its timers to the pool. [`Pool::next_deadline`] says when the
//!   host must call again without an event.
//!
//! This module waits only through [`SharedPark`] and reads time only through a
//! [`Clock`](crate::Clock); it has no OS code, and its tests run under miri.
//!
//! # Examples
//!
//! See [`Pool`] (workers on a park without I/O) and [`SharedPark`].

mod join;
mod pool;
mod timer;
mod worker;

#[cfg(test)]
mod tests;

pub use join::JoinHandle;
pub use pool::{Pool, Sentinel, SharedPark, spawn};
pub use timer::{Sleep, sleep, sleep_until};
pub use worker::{is_worker, now};

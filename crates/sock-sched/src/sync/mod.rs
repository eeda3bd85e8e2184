//! Synchronisation between the threads of one loop: [`Semaphore`] (bounded concurrency,
//! fair) and [`Notify`] (wake one or all).
//!
//! Both are `!Send` and use no atomics or locks: a loop's threads all run on one OS
//! thread, so plain cells suffice. Both are cancel-safe — a waiting future that is
//! dropped (its thread cancelled, a deadline passed) leaves its queue and passes on any
//! wake-up it was given — and both wake in first-come, first-served order.
//!
//! # tokio's `sync` works here too
//!
//! tokio's synchronisation primitives do not need a tokio runtime: their futures wait and
//! wake through the standard [`Waker`](std::task::Waker), which is all a sock loop asks
//! of a future. So `tokio::sync::{mpsc, oneshot, watch, broadcast, Mutex, RwLock,
//! Semaphore, Notify}` work in the threads of a loop — between threads of one loop, and
//! across OS threads (a send from another OS thread wakes the loop through its remote
//! wake queue). Use them for channels, for values crossing OS threads, or when the
//! `Send` versions are wanted; depend on tokio with only that feature:
//! `tokio = { version = "1", default-features = false, features = ["sync"] }`. (The
//! workspace's integration tests hold this to account: `tests/tests/toolkit.rs` runs
//! tokio's `mpsc` and `Semaphore` inside `sock::run`.) The types here are the lighter
//! choice when everything stays on one loop.
//!
//! # Examples
//!
//! ```
//! use sock::sched::Executor;
//! use sock::sched::sync::{Notify, Semaphore};
//!
//! let ex = Executor::new();
//! let permits = Semaphore::new(1);
//! let ready = Notify::new();
//! let worker = ex.spawn({
//!     let (permits, ready) = (permits.clone(), ready.clone());
//!     async move {
//!         ready.notified().await;
//!         let _permit = permits.acquire().await;
//!         "worked"
//!     }
//! });
//! ready.notify_one();
//! assert_eq!(ex.run(worker.join()).unwrap(), "worked");
//! ```

mod notify;
mod queue;
mod semaphore;

pub use notify::{Notified, Notify};
pub use semaphore::{Acquire, Permit, Semaphore};

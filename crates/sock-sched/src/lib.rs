//! `sock-sched`: coroutine threads, timers, sleep jobs and loop control: a single-threaded
//! scheduler without OS code.
//!
//! A *thread* is a task: a `!Send` future spawned on a loop ([`Executor`]), one loop per OS
//! thread. The loop waits only through a [`Park`] (a reactor in the `sock` facade, a
//! condition variable by default, a [`ManualPark`] in tests) and reads time only through a
//! [`Clock`], so everything here is deterministic under test. Wakers work from any OS
//! thread: a remote wake goes through a thread-safe queue and unparks the loop.
//!
//! For servers: [`ThreadRef::cancel`] ends a thread from outside, a [`ThreadSet`] joins a
//! group in completion order and cancels it on drop, [`sync`] has a fair [`Semaphore`]
//! and [`Notify`], and a [`PanicPolicy`] decides whether a thread's unjoined panic ends
//! the loop's `run` or only the thread.
//!
//! [`Semaphore`]: sync::Semaphore
//! [`Notify`]: sync::Notify
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sock_sched::{Executor, sleep, spawn};
//!
//! let ex = Executor::new();
//! let total = ex.run(async {
//!     let a = spawn(async { sleep(Duration::from_millis(2)).await; 40 });
//!     let b = spawn(async { 2 });
//!     a.join().await.unwrap() + b.join().await.unwrap()
//! });
//! assert_eq!(total, 42);
//! ```
//!
//! The examples of the items below are written as a user of the facade [`sock`] reads
//! them, where this crate is `sock::sched` and the everyday names (`Thread`, `sleep`,
//! `suspend`, …) are at the root, `sock::`; with this crate alone, read `sock_sched`
//! for both.
//!
//! [`sock`]: https://docs.rs/sock

#![doc(test(attr(deny(warnings))))]

mod api;
mod builder;
mod clock;
mod context;
pub mod coop;
mod coro;
mod env;
mod executor;
mod finish;
mod generator;
mod hint;
mod metrics;
pub mod mt;
mod park;
mod scope;
mod set;
pub mod sync;
mod task;
mod thread;
mod time;
mod trace;
mod value;

pub use api::{clock, current, next_deadline, poll, run, spawn, start, stop, try_current};
pub use builder::Builder;
pub use clock::{Clock, ManualClock, ManualPark, MonotonicClock};
pub use coop::yield_now;
pub use coro::{Suspend, newthread, suspend, thread, transfer, yield_};
pub use env::{env, remove_env, set_env, with_env};
pub use executor::Executor;
pub use finish::{Outcome, PanicPolicy};
pub use generator::{Co, CoYield, Generator, Resume, cowrap};
pub use metrics::SchedMetrics;
pub use park::{Park, ThreadPark, Unpark, Unparker};
pub use set::ThreadSet;
pub use thread::{Join, JoinError, Thread, ThreadRef};
pub use time::callback::{TimerHandle, run_after, run_at, run_every};
pub use time::job::{JobSleep, SleepJob};
pub use time::sleep::{Sleep, sleep, sleep_until};
pub use time::timers::MissedTick;
pub use value::Value;

/// The README's example, compiled and run as a doctest (and not shown in these docs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

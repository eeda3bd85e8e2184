//! The scheduler: the `sock-sched` crate, whole.
//!
//! Threads, coroutine control, timers and sleep jobs are at the crate root already;
//! this module adds what a loop is made of — the [`Executor`], its [`Park`] and
//! [`Clock`] (a [`ManualClock`] for deterministic tests), the cooperative budget
//! ([`coop`]) and the multi-threaded pool under [`SharedLoop`](crate::shared::SharedLoop)
//! ([`mt`]).
//!
//! The loop control functions here ([`run`], [`spawn`], [`start`], …) drive a plain
//! `sock-sched` loop that waits on a condition variable: no socket can wait on it. The
//! root's functions of the same names make the thread's loop the reactor-backed one;
//! use those with sockets.
//!
//! # Examples
//!
//! A loop of its own with a manual clock: time moves only when told to.
//!
//! ```
//! use std::time::Duration;
//! use sock::sched::{Clock, Executor, ManualClock, ManualPark};
//!
//! let clock = ManualClock::new();
//! let ex = Executor::with_park(ManualPark::new(clock.clone()), clock.clone());
//! let t0 = clock.now();
//! let slept = ex.spawn(async { sock::sleep(Duration::from_secs(60)).await });
//! ex.start(); // parks until the sleep is due: the manual park advances the clock
//! assert!(slept.is_finished());
//! assert!(clock.now() - t0 >= Duration::from_secs(60));
//! ```

#[doc(inline)]
pub use sock_sched::*;

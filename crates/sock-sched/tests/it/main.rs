//! Integration tests of `sock-sched` through its public API.

mod support;

mod coro_generator;
mod coro_threads;
mod loop_control;
mod loop_coop;
mod loop_panics;
mod loop_run;
mod sync_notify;
mod sync_semaphore;
mod thread_cancel;
mod thread_env;
mod thread_set;
mod time_timers;

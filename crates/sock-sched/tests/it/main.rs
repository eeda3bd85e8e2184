//! Integration tests of `sock-sched` through its public API.

mod support;

mod coro_generator;
mod coro_threads;
mod loop_control;
mod loop_coop;
mod loop_panics;
mod loop_run;
mod thread_env;
mod time_timers;

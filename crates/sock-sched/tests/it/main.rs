//! Integration tests of `sock-sched` through its public API.

mod support;

mod loop_control;
mod loop_panics;

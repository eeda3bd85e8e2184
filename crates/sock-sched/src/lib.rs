//! `sock-sched`: coroutine threads, timers, sleep jobs and loop control: a single-threaded scheduler without OS code.
//!
//! This crate is being built up; see the workspace `ARCHITECTURE.md`.

#![doc(test(attr(deny(warnings))))]

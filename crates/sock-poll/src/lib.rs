//! `sock-poll`: readiness reactor on mio: registrations, per-direction waiters, cross-thread waker.
//!
//! This crate is being built up; see the workspace `ARCHITECTURE.md`.

#![doc(test(attr(deny(warnings))))]

//! `sock`: coroutine-style async sockets on epoll/kqueue/IOCP: the facade.
//!
//! This crate is being built up; see the workspace `ARCHITECTURE.md`.

#![doc(test(attr(deny(warnings))))]

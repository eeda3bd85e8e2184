//! `sock-poll-shared`: a raw kernel poller (epoll fd / IOCP handle) that several OS threads share.
//!
//! This crate is being built up; see the workspace `ARCHITECTURE.md`.

#![doc(test(attr(deny(warnings))))]

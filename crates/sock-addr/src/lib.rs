//! `sock-addr`: getaddrinfo address lookup with every flag, and an off-loop resolver.
//!
//! This crate is being built up; see the workspace `ARCHITECTURE.md`.

#![doc(test(attr(deny(warnings))))]

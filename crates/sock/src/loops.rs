//! Loops per thread, the default threading mode (`DESIGN.md` §3): each OS thread runs
//! its own [`Loop`](crate::Loop) with a private poller and `!Send` threads.
//! [`spawn_loops`] starts N of them; a [`Handle`] lets any OS thread spawn `Send` work
//! on one ([`RemoteJoin`] awaits it from anywhere); a [`SharedListener`] spreads one
//! listening socket's connections over the loops, each of which accepts through its
//! [`LoopListener`].
//!
//! The other mode, several OS threads on one kernel poller running `Send` tasks, is
//! [`sock::shared`](crate::shared).
//!
//! # Examples
//!
//! See [`SharedListener`]: one listener, two loops, each serving what it accepts.

pub use crate::multi::{
    Handle, LoopListener, LoopThreads, RemoteJoin, SharedListener, spawn_loops,
};

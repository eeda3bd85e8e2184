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
//! Three join handles, one per place a thread can run, because what each can offer
//! differs: a [`Thread`](crate::Thread) is a thread of *this* loop (`!Send`; resume,
//! cancel, `on_finish`, the seed's coroutine control); a [`RemoteJoin`] is a thread of
//! *another* loop, awaited or joined from anywhere (`Send`; a panic comes back as
//! `Err`, as `std::thread::JoinHandle::join` gives it); a shared loop's task is
//! `sock::sched::mt::JoinHandle` (`Send`; it may run on any worker, so it has no
//! coroutine control).
//!
//! # Examples
//!
//! See [`SharedListener`]: one listener, two loops, each serving what it accepts.

pub use crate::multi::{
    Handle, LoopListener, LoopThreads, RemoteJoin, SharedListener, spawn_loops,
};

//! The task toolkit a server needs: groups of threads ([`ThreadSet`]), bounded
//! concurrency ([`Semaphore`]), wake-ups ([`Notify`]), blocking work off the loop
//! ([`spawn_blocking`]), and what a panic does to the loop ([`PanicPolicy`]).
//!
//! Cancelling one thread is [`ThreadRef::cancel`](crate::task::ThreadRef::cancel) (alias
//! `abort`): its future, and the socket operation it waits in, are dropped at once; the
//! socket stays usable. Its `on_finish` callbacks are told the [`Outcome`].
//!
//! `ThreadSet`, `Semaphore` and `Notify` are `sock-sched`'s, for the threads of one loop:
//! `!Send`, no atomics. tokio's `sync` module works on the loop as well (channels,
//! `Mutex`, the `Send` versions of these; it needs no tokio runtime, only
//! `features = ["sync"]`): see [`sock::sched::sync`](crate::sched::sync).
//!
//! After the example, [Coming from tokio](#coming-from-tokio) gives sock's name for
//! each of tokio's — runtime, tasks, time, sync, sockets, I/O traits, hyper — and says
//! which primitives of other crates work on a sock loop and which need a tokio runtime.
//!
//! # Examples
//!
//! A server that serves at most two connections at once, keeps its connection threads
//! in a set (cancelled together when the server stops), hashes off the loop, and
//! survives a handler's panic:
//!
//! ```
//! use std::time::Duration;
//! use sock::task::{PanicPolicy, Semaphore, ThreadSet, spawn_blocking};
//! use sock::{Expires, Family};
//!
//! sock::Loop::current().set_panic_policy(PanicPolicy::Isolate);
//! sock::run(async {
//!     let server = sock::tcp(Family::INET)?;
//!     server.listen("127.0.0.1", 0)?;
//!     let port = server.local_addr()?.port();
//!     let accept_loop = sock::spawn(async move {
//!         let limit = Semaphore::new(2);
//!         let mut connections = ThreadSet::new();
//!         loop {
//!             let permit = limit.acquire().await;
//!             let Ok(conn) = server.accept().await else { break };
//!             connections.spawn(async move {
//!                 let _permit = permit; // one of two slots, until this thread ends
//!                 let mut buf = [0u8; 64];
//!                 let n = conn.recv(&mut buf).await?;
//!                 let bytes = buf[..n].to_vec();
//!                 let sum = spawn_blocking(move || bytes.iter().map(|&b| u64::from(b)).sum::<u64>())
//!                     .timeout(Duration::from_secs(5))
//!                     .await?;
//!                 conn.send(sum.to_string().as_bytes()).await
//!             });
//!             while connections.try_join_next().is_some() {} // reap the finished
//!         }
//!     });
//!     let client = sock::tcp(Family::INET)?;
//!     client.connect("127.0.0.1", port).timeout(Duration::from_secs(5)).await?;
//!     client.send(b"abc").await?;
//!     let mut buf = [0u8; 16];
//!     let n = client.recv(&mut buf).timeout(Duration::from_secs(5)).await?;
//!     assert_eq!(&buf[..n], b"294");
//!     accept_loop.cancel(); // the listener and every connection thread go with it
//!     Ok::<(), sock::Error>(())
//! })?;
//! # Ok::<(), sock::Error>(())
//! ```
//!
#![doc = include_str!("guide.md")]

use std::future::Future;

#[doc(inline)]
pub use sock_sched::sync::{Acquire, Notified, Notify, Permit, Semaphore};
#[doc(inline)]
pub use sock_sched::{
    Builder, Co, CoYield, Generator, Join, JoinError, Resume, Suspend, ThreadRef, Value, cowrap,
    env, remove_env, set_env, suspend, transfer, try_current, with_env, yield_,
};

pub use crate::metrics::Metrics;
pub use crate::scope::Scoped;

#[doc(inline)]
pub use sock_sched::{Outcome, PanicPolicy, ThreadSet};

pub use crate::blocking::{
    BLOCKING_THREADS, Blocking, BlockingStats, blocking_stats, spawn_blocking,
};

/// Creates a thread that does not run until resumed (the seed's `sock.newthread(f)`):
/// [`ThreadRef::resume`] starts it, or the loop does once it is woken.
///
/// # Examples
///
/// ```
/// let t = sock::task::newthread(async { 3 });
/// assert!(!t.is_started());
/// t.resume(());
/// assert!(t.is_finished());
/// ```
#[doc(alias = "sock.newthread")]
pub fn newthread<F>(fut: F) -> crate::Thread<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    sock_sched::newthread(fut)
}

//! `sock`: coroutine-style async sockets on epoll/kqueue/IOCP.
//!
//! A Rust take on luapower's `sock`: tasks ("threads") on a single-threaded loop per OS
//! thread, sockets whose every blocking call takes an absolute deadline, coroutine
//! control (resume/suspend/transfer, generators), timers and interruptible sleeps,
//! address lookup with every `getaddrinfo` knob — and no hidden threads.
//!
//! ```
//! use std::time::Duration;
//! use sock::{Expires, Family};
//!
//! sock::run(async {
//!     let server = sock::tcp(Family::INET)?;
//!     server.listen("127.0.0.1", 0)?;
//!     let port = server.local_addr()?.port();
//!     sock::thread(async move {
//!         let conn = server.accept().await?;
//!         let mut buf = [0u8; 64];
//!         let n = conn.recv(&mut buf).await?;
//!         conn.send(&buf[..n]).await
//!     });
//!     let client = sock::tcp(Family::INET)?;
//!     client.connect("127.0.0.1", port).timeout(Duration::from_secs(5)).await?;
//!     client.send(b"echo").await?;
//!     let mut buf = [0u8; 4];
//!     client.recvn(&mut buf).timeout(Duration::from_secs(5)).await?;
//!     assert_eq!(&buf, b"echo");
//!     Ok::<(), sock::Error>(())
//! })?;
//! # Ok::<(), sock::Error>(())
//! ```
//!
//! [`task`] has the toolkit a server needs beside that: thread sets, a fair semaphore,
//! `Notify`, `spawn_blocking` with deadlines, and a panic policy that keeps a loop
//! serving when one thread panics; its docs end with a guide for readers [coming from
//! tokio](task#coming-from-tokio).
//!
//! The layers are crates of their own: [`addr`] (`sock-addr`), `sock-poll`,
//! `sock-poll-shared` and [`sched`] (`sock-sched`); this crate puts them together, and
//! every example in these docs uses the paths it gives them (`sock::`, `sock::addr::`,
//! `sock::sched::`).

#![doc(test(attr(deny(warnings))))]

pub mod addr;
mod batch;
mod blocking;
mod common;
mod compat;
mod control;
mod dgram;
mod error;
mod eyeballs;
mod half;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod loops;
mod metrics;
mod multi;
mod oneshot;
mod op;
mod opt;
pub mod os;
mod pollio;
mod raw;
mod recv_flags;
mod recv_with;
mod runtime;
pub mod sched;
mod scope;
pub mod shared;
#[cfg(feature = "sim")]
pub mod sim;

/// A fault point of a simulated run; without the `sim` feature it is the constant
/// `false` and costs nothing (with it, `sock::sim::buggify()` at the call site).
///
/// # Examples
///
/// ```
/// let short = if sock::buggify!() { 1 } else { 4096 }; // a rare short read, simulated
/// assert_eq!(short, 4096); // never on a real loop
/// ```
#[cfg(not(feature = "sim"))]
#[macro_export]
macro_rules! buggify {
    () => {
        false
    };
}
mod socket;
mod target;
pub mod task;
mod tcp;
pub mod time;
mod timer;
mod trace;
mod transfer;

#[cfg_attr(unix, path = "sys/unix.rs")]
#[cfg_attr(windows, path = "sys/windows.rs")]
mod sys;

#[doc(inline)]
pub use sock_addr::{Family, Flags, SockAddr};

pub use control::{
    Thread, clock, current, poll, run, sleep, spawn, start, stop, thread, yield_now,
};
pub use dgram::{Udp, raw, udp};
pub use error::{Error, ErrorKind, Result};
pub use metrics::metrics;
pub use op::{Deadline, Expires, Op};
pub use runtime::Loop;
pub use scope::{deadline, timeout};
pub use tcp::{Shutdown, Tcp, tcp};

/// The README's example, compiled and run as a doctest (and not shown in these docs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

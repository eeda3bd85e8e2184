//! `sock-poll`: the readiness reactor of a sock loop, on mio.
//!
//! One [`Reactor`] per loop (per OS thread). Sockets register once, edge-triggered, and get
//! a [`Registration`]: an I/O operation tries its syscall first and only on `WouldBlock`
//! clears the direction's readiness and parks its task with [`Registration::poll_ready`].
//! [`Reactor::poll`] waits for events (the timeout rounded **up** to the millisecond, so a
//! short wait never turns into a busy loop), marks the directions ready and wakes the
//! waiting tasks. Tokens carry a generation: an event meant for a slot that was freed and
//! reused is dropped. An [`Unparker`] wakes a blocked `poll` from any OS thread.
//!
//! This crate runs no tasks and keeps no timers; `sock-sched` does that and waits through
//! the reactor.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sock_poll::{Direction, Reactor};
//!
//! let reactor = Reactor::new()?;
//! let mut listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! let reg = reactor.register(&mut listener, mio::Interest::READABLE)?;
//! let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
//! while !reg.is_ready(Direction::Read) {
//!     reactor.poll(Some(Duration::from_secs(5)))?;
//! }
//! let (_conn, _peer) = listener.accept()?;
//! reg.deregister(&mut listener)?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![doc(test(attr(deny(warnings))))]

#[cfg_attr(
    any(target_os = "linux", target_os = "android"),
    path = "sys/exclusive_linux.rs"
)]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android")),
    path = "sys/exclusive_other.rs"
)]
mod exclusive;
#[cfg(feature = "faults")]
pub mod faults;
mod reactor;
mod registration;
mod slot;
mod token;
mod unparker;

#[cfg_attr(unix, path = "sys/unix.rs")]
#[cfg_attr(windows, path = "sys/windows.rs")]
mod sys;

pub use reactor::{Reactor, ReactorMetrics};
pub use registration::{Closed, Direction, Registration, Wait};
/// Rounds a timeout up to whole milliseconds (the resolution of the OS wait); one
/// function for both pollers.
pub use sock_poll_shared::round_up_to_millis;
pub use unparker::Unparker;

/// The README's example, compiled and run as a doctest (and not shown in these docs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! `sock-poll-shared`: a raw kernel poller (epoll fd / IOCP handle) that several OS threads share.
//!
//! A [`Poller`] is one kernel poller that any number of OS threads wait on at once
//! ([`Poller::wait`]); the kernel hands each event to one waiting thread, so it is the
//! load balancer. Its raw handle can be given to another thread, which adopts it
//! ([`Poller::lookup`], or the `unsafe` [`Poller::from_raw`] for a handle made outside
//! this crate): the seed's `sock.epoll_fd([fd])` / `sock.iocp([h])`. Any thread can
//! [`post`](Poller::post) a packet (a `u64` key) that exactly one waiting thread
//! dequeues, and [`wake`](Poller::wake) one waiter.
//!
//! - **Linux**: an epoll fd. Sockets are added with [`Poller::add`] and flags mio cannot
//!   pass ([`os::linux::Flags::EXCLUSIVE`], `ONESHOT`); [`os::linux::ctl`] does the same
//!   on *any* epoll fd (`sock-poll` uses it on a loop's private poller for a shared
//!   listener). Posted packets are kept in memory and announced through a semaphore
//!   eventfd registered level-triggered, so like IOCP packets each is taken by exactly
//!   one thread, and one `wait` may take several.
//! - **Windows**: an I/O completion port. Sockets are associated with
//!   `Poller::associate` (for life: a socket belongs to one port); their overlapped
//!   completions come out of `wait` with the `OVERLAPPED` pointer, byte count and status.
//!   Posted packets are `PostQueuedCompletionStatus` packets with a null `OVERLAPPED`.
//!
//! No mio here: mio can neither adopt a poller handed over from another thread nor let
//! several threads wait on one. This crate runs no tasks; `sock` builds its shared-poller
//! mode on it.
//!
//! # Examples
//!
//! A thread waits on a poller that another thread posts to:
//!
//! ```
//! use sock_poll_shared::{Events, Poller};
//!
//! let poller = Poller::new()?;
//! let p = poller.clone();
//! let waiter = std::thread::spawn(move || {
//!     let mut events = Events::with_capacity(8);
//!     loop {
//!         p.wait(&mut events, None).unwrap();
//!         if let Some(e) = events.iter().find(|e| e.is_posted()) {
//!             return e.key();
//!         }
//!     }
//! });
//! poller.post(7)?;
//! assert_eq!(waiter.join().unwrap(), 7);
//! # Ok::<(), std::io::Error>(())
//! ```

#![doc(test(attr(deny(warnings))))]

mod event;
pub mod os;
mod poller;
mod registry;

#[cfg_attr(any(target_os = "linux", target_os = "android"), path = "sys/linux.rs")]
#[cfg_attr(windows, path = "sys/windows.rs")]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", windows)),
    path = "sys/unsupported.rs"
)]
mod sys;

pub use event::{Event, Events};
pub use poller::{Poller, round_up_to_millis};
pub use sys::RawPoller;

/// The README's example, compiled and run as a doctest (and not shown in these docs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

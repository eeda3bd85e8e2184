//! The platform half of the shared-poller mode's sockets: how a socket is registered
//! in the shared poller, how an event reaches its waiting task, and the syscalls.
//!
//! The backends (epoll readiness on Linux, overlapped I/O on a completion port on
//! Windows, none elsewhere yet) give the same `pub(crate)` items: `Table` (the registrations of one
//! shared loop), `dispatch` (apply one dequeued event; false if it is not sock's but a host's) and `SharedIo` (one registered
//! socket with `poll_accept`/`poll_connect`/`poll_send`/`poll_recv` for TCP,
//! `poll_recv_from`/`poll_send_to` for UDP, `clear_waiter` and `rewait` for an
//! operation dropped or moved to another task, `close`). Each backend's `*_level.rs`
//! adds the poll-level side: `claims`, `poll_ready`/`poll_readable_dgram`, `poll_flush`,
//! `poll_send_level`/`poll_send_vectored`/`poll_send_to_level`, `poll_recv_uninit` and
//! the `try_` calls that never park.

#[cfg_attr(any(target_os = "linux", target_os = "android"), path = "sys/linux.rs")]
#[cfg_attr(windows, path = "sys/windows.rs")]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", windows)),
    path = "sys/other.rs"
)]
mod imp;

pub(crate) use imp::{SharedIo, Table, dispatch, new_socket};
pub(crate) use sock_poll::Direction as Dir;

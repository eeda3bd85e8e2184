//! Platform-only API: epoll flags and raw `epoll_ctl` (Linux), nothing extra on Windows
//! beyond [`Poller::associate`](crate::Poller).
//!
//! # Examples
//!
#![cfg_attr(
    any(target_os = "linux", target_os = "android"),
    doc = "See [`linux::ctl`]: a listener added with `EPOLLEXCLUSIVE`."
)]
#![cfg_attr(windows, doc = "See [`Poller::associate`](crate::Poller::associate).")]
#![cfg_attr(
    not(any(target_os = "linux", target_os = "android", windows)),
    doc = "None: this platform has no shared poller."
)]

/// Linux: epoll flags mio cannot pass, and raw `epoll_ctl` on any epoll fd.
///
/// # Examples
///
/// See [`ctl`](linux::ctl).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod linux {
    pub use crate::sys::{CtlOp, Flags, ctl};
}

//! Platform-only API: epoll flags and raw `epoll_ctl` (Linux), nothing extra on Windows
//! beyond [`Poller::associate`](crate::Poller).

/// Linux: epoll flags mio cannot pass, and raw `epoll_ctl` on any epoll fd.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod linux {
    pub use crate::sys::{CtlOp, Flags, ctl};
}

//! Unix: the reactor's kernel poller as a raw fd (epoll on Linux, kqueue elsewhere).

use std::os::fd::{AsRawFd, RawFd};

use crate::Reactor;

impl AsRawFd for Reactor {
    /// The epoll/kqueue fd: readable when the reactor has events, for a host loop that
    /// waits on it.
    fn as_raw_fd(&self) -> RawFd {
        self.poll_cell().borrow().as_raw_fd()
    }
}

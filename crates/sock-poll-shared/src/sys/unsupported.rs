//! Platforms without epoll or IOCP (the BSDs, macOS): no shared poller; `Poller::new`
//! reports `Unsupported`. A kqueue can be shared too, but nothing here does it yet.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::event::Events;

/// The raw handle of a poller (a kqueue fd, were it supported).
///
/// # Examples
///
/// See [`Poller::as_raw`](crate::Poller::as_raw).
pub type RawPoller = RawFd;

/// The backend's event buffer entry.
pub(crate) type RawEvent = u64;

/// No backend state: nothing can be made.
pub(crate) struct Sys {
    /// Never constructed.
    never: std::convert::Infallible,
}

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "a shared kernel poller needs epoll (Linux) or IOCP (Windows)",
    )
}

impl Sys {
    pub(crate) fn new() -> io::Result<Sys> {
        Err(unsupported())
    }

    pub(crate) unsafe fn adopt(_raw: RawFd) -> io::Result<Sys> {
        Err(unsupported())
    }

    pub(crate) fn raw(&self) -> RawFd {
        match self.never {}
    }

    pub(crate) fn post(&self, _key: u64) -> io::Result<()> {
        match self.never {}
    }

    pub(crate) fn wait(&self, _events: &mut Events, _timeout: Option<Duration>) -> io::Result<()> {
        match self.never {}
    }
}

pub(crate) fn raw_key(raw: RawFd) -> usize {
    raw as usize
}

pub(crate) fn check_open(_raw: RawFd) -> io::Result<()> {
    Err(unsupported())
}

pub(crate) fn is_readable(_flags: u32) -> bool {
    false
}

pub(crate) fn is_writable(_flags: u32) -> bool {
    false
}

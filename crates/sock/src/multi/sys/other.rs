//! Platforms without a shared-poller socket backend yet (the BSDs, macOS): the shared
//! loop runs tasks and timers, but registering a socket reports `Unsupported`
//! (`sock-poll-shared` has no kqueue backend yet).

use std::io;
use std::task::{Context, Poll, Waker};

use sock_poll_shared::{Event, Poller};

use super::Dir;
use crate::error::Result;

#[path = "other_level.rs"]
mod level;

/// No registrations on this platform.
pub(crate) struct Table;

impl Table {
    pub(crate) fn new() -> Table {
        Table
    }

    /// Sockets registered: not counted by this backend (it keeps no table).
    pub(crate) fn len(&self) -> usize {
        0
    }
}

/// Nothing is registered, so no event is sock's.
pub(crate) fn dispatch(_table: &Table, _event: &Event) -> bool {
    false
}

/// A plain socket (registering it fails anyway).
pub(crate) fn new_socket(
    domain: socket2::Domain,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> io::Result<socket2::Socket> {
    socket2::Socket::new(domain, ty, protocol)
}

/// Never made: `register` fails.
pub(crate) struct SharedIo {
    /// Never constructed.
    never: std::convert::Infallible,
}

impl SharedIo {
    pub(crate) fn register(
        _socket: socket2::Socket,
        _poller: &Poller,
        _table: &std::sync::Arc<Table>,
    ) -> io::Result<SharedIo> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "sockets of a SharedLoop need epoll (Linux) or IOCP (Windows)",
        ))
    }

    pub(crate) fn socket(&self) -> &socket2::Socket {
        match self.never {}
    }

    pub(crate) fn poll_recv(&self, _cx: &Context<'_>, _buf: &mut [u8]) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_recv_flags(
        &self,
        _cx: &Context<'_>,
        _buf: &mut [u8],
        _os: i32,
    ) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_recv_from_flags(
        &self,
        _cx: &Context<'_>,
        _buf: &mut [u8],
        _os: i32,
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        match self.never {}
    }

    pub(crate) fn poll_send(&self, _cx: &Context<'_>, _buf: &[u8]) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_recv_from(
        &self,
        _cx: &Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<Result<(usize, socket2::SockAddr)>> {
        match self.never {}
    }

    pub(crate) fn poll_send_to(
        &self,
        _cx: &Context<'_>,
        _buf: &[u8],
        _to: Option<&socket2::SockAddr>,
    ) -> Poll<Result<usize>> {
        match self.never {}
    }

    pub(crate) fn poll_accept(&self, _cx: &Context<'_>) -> Poll<Result<socket2::Socket>> {
        match self.never {}
    }

    pub(crate) fn poll_connect(
        &self,
        _addr: &socket2::SockAddr,
        _started: &mut bool,
        _cx: &Context<'_>,
    ) -> Poll<Result<()>> {
        match self.never {}
    }

    pub(crate) fn clear_waiter(&self, _dir: Dir, _waker: &Waker) {
        match self.never {}
    }

    pub(crate) fn rewait(&self, _dir: Dir, _old: &Waker, _new: &Waker) {
        match self.never {}
    }

    pub(crate) fn close(&self) {
        match self.never {}
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self.never {}
    }
}

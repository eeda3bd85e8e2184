//! Unix-domain sockets on a simulated loop: what a [`Tcp`](crate::Tcp) or
//! [`Udp`](crate::Udp) made with [`Family::UNIX`] routes to the world's unix model
//! (`unix.rs`) instead of the TCP/UDP one.
//!
//! A unix socket enters the world (and takes its descriptor) at its `bind`, or at its
//! first `connect` or send when unbound; from then on a stream is kept as
//! `State::Tcp(id)` and a datagram socket as `State::Udp(id, None)` (its peer lives
//! in the world), so the stream and datagram paths of `socket.rs` find its id. The
//! addresses convert as the OS path's do: a path, or for an unbound local or peer
//! address the same "path is empty" error; a datagram from an unbound sender comes from
//! the unnamed address.

use std::io;
use std::net::Shutdown;

use sock_addr::{Family, SockAddr};

use super::{SimSocket, State};
use crate::error::{Error, ErrorKind, Result};
use crate::sim::SocketId;

impl SimSocket {
    /// Whether this is a unix-domain socket.
    pub(super) fn is_unix(&self) -> bool {
        self.family == Family::UNIX
    }

    /// `bind` to a path: the socket enters the world now.
    pub(super) fn unix_bind(&self, addr: &SockAddr) -> Result<()> {
        let path = unix_path(addr)?;
        let id = self.unix_id()?;
        self.world(|w, _| w.unix_bind(id, path).map_err(Error::from))
    }

    /// The bound path (the listener's, for an accepted stream).
    pub(super) fn unix_local_addr(&self) -> Result<SockAddr> {
        let path = match self.id() {
            Some(id) => self.world(|w, _| Ok(w.unix_local_path(id)))?,
            None => None,
        };
        Ok(SockAddr::unix(path.unwrap_or_default())?)
    }

    /// The peer's path.
    pub(super) fn unix_peer_addr(&self) -> Result<SockAddr> {
        let id = self.id().ok_or(ErrorKind::NotConnected)?;
        if !self.world(|w, _| Ok(w.unix_is_connected(id)))? {
            return Err(ErrorKind::NotConnected.into());
        }
        let path = self.world(|w, _| Ok(w.unix_peer_path(id)))?;
        Ok(SockAddr::unix(path.unwrap_or_default())?)
    }

    /// `listen`: binds first with `bind` unless bound, then listens (`backlog` clamped
    /// to 0..=4096, as Linux clamps to `somaxconn`).
    pub(super) fn unix_listen(
        &self,
        backlog: i32,
        bind: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let bound = match self.id() {
            Some(id) => self.world(|w, _| Ok(w.unix_local_path(id)))?.is_some(),
            None => false,
        };
        if !bound {
            bind()?;
        }
        let id = self.unix_id()?;
        let backlog = backlog.clamp(0, 4096) as usize;
        self.world(|w, _| w.unix_listen(id, backlog).map_err(Error::from))
    }

    /// Starts a stream connect to a path (its outcome: `stream_connect_result`).
    pub(super) fn unix_start_connect(&self, addr: &SockAddr) -> Result<()> {
        let path = unix_path(addr)?;
        let id = self.unix_id()?;
        self.world(|w, _| w.unix_connect(id, path).map_err(unix_error))
    }

    /// `shutdown` in the model: the other end of a stream sees it too. An unconnected
    /// socket may be shut down as well (Linux says `Ok`).
    pub(super) fn unix_shutdown(&self, how: Shutdown) -> Result<()> {
        let id = self.unix_id()?;
        let read = how != Shutdown::Write;
        let write = how != Shutdown::Read;
        self.world(|w, _| w.unix_shutdown(id, read, write).map_err(Error::from))
    }

    /// `connect` of a datagram socket: sends go to `addr` by default.
    pub(super) fn unix_connect_dgram(&self, addr: &SockAddr) -> Result<()> {
        let path = unix_path(addr)?;
        let id = self.unix_id()?;
        self.world(|w, _| w.unix_connect_dgram(id, path).map_err(unix_error))
    }

    /// Dissolves a datagram socket's association (`connect` to `AF_UNSPEC`).
    pub(super) fn unix_dissolve(&self) -> Result<()> {
        if let Some(id) = self.id() {
            self.world(|w, _| {
                w.unix_disconnect(id);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// One datagram to `to`, or to the connected peer.
    pub(super) fn unix_send_to(&self, buf: &[u8], to: Option<&SockAddr>) -> Result<usize> {
        let path = to.map(unix_path).transpose()?;
        let id = self.unix_id()?;
        self.world(|w, _| w.unix_send_to(id, buf, path).map_err(unix_error))
    }

    /// The next datagram with its source (left queued with `peek`); one longer than
    /// `buf` is `MessageTooLong` with `buf.len()` bytes transferred, or with `trunc`
    /// its real length.
    pub(super) fn unix_recv_from(
        &self,
        buf: &mut [u8],
        peek: bool,
        trunc: bool,
    ) -> Result<(usize, SockAddr)> {
        let id = self.unix_id()?;
        let (n, len, from) = self.world(|w, _| Ok(w.unix_recv_from(id, buf, peek)?))?;
        let from = match from {
            Some(path) => SockAddr::unix(path)?,
            None => crate::sys::unnamed_unix_addr(),
        };
        match (n < len, trunc) {
            (_, true) => Ok((len, from)),
            (false, false) => Ok((n, from)),
            (true, false) => Err(Error::from(ErrorKind::MessageTooLong).with_transferred(n)),
        }
    }

    /// The socket's id in the world, entering it (unbound) first if it is not there.
    fn unix_id(&self) -> Result<SocketId> {
        if let Some(id) = self.id() {
            return Ok(id);
        }
        let stream = self.tcp;
        let id = self.world(|w, host| Ok(w.unix_socket(host, stream)?))?;
        *self.state.borrow_mut() = match stream {
            true => State::Tcp(id),
            false => State::Udp(id, None),
        };
        Ok(id)
    }
}

/// The path of a unix address, or `InvalidInput` (an IP address).
fn unix_path(addr: &SockAddr) -> Result<&std::path::Path> {
    addr.as_unix_path()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "not a unix socket path"))
}

/// A unix model error as sock reports the OS's: the model's `NotFound` is the kernel's
/// `ENOENT`, a `NotFound` error whose source is the io error `NotFound`.
fn unix_error(kind: ErrorKind) -> Error {
    match kind {
        ErrorKind::NotFound => Error::from(io::Error::new(
            io::ErrorKind::NotFound,
            "no such file or directory",
        )),
        kind => kind.into(),
    }
}

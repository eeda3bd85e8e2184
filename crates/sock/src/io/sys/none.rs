//! No kernel copy path on this platform: [`Pipe::new`] fails and copies use their buffer.

use std::io;

use socket2::SockRef;

/// A pipe that cannot be made.
pub(crate) enum Pipe {}

impl Pipe {
    /// Always `Unsupported`.
    pub(crate) fn new(_size: usize) -> io::Result<Pipe> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Never called: there is no pipe.
    pub(crate) fn fill(&self, _from: &SockRef<'_>, _len: usize) -> io::Result<usize> {
        match *self {}
    }

    /// Never called: there is no pipe.
    pub(crate) fn drain(&self, _to: &SockRef<'_>, _len: usize) -> io::Result<usize> {
        match *self {}
    }
}

//! Platforms without `EPOLLEXCLUSIVE` (Windows, the BSDs, macOS): an "exclusive"
//! registration is an ordinary one, so every loop sharing a listener wakes for each
//! connection; one accepts it, the others find nothing and wait again.

use std::io;

use mio::Interest;
use mio::event::Source;

use crate::{Reactor, Registration};

impl Reactor {
    /// Registers `source` for a listener shared by several loops. Linux registers it
    /// with `EPOLLEXCLUSIVE` so a connection wakes one loop; this platform has no such
    /// flag, so this is [`register`](Reactor::register) and every loop wakes.
    ///
    /// # Errors
    ///
    /// As [`register`](Reactor::register).
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// std_listener.set_nonblocking(true)?;
    /// let mut listener = mio::net::TcpListener::from_std(std_listener);
    /// let reg = reactor.register_exclusive(&mut listener, mio::Interest::READABLE)?;
    /// reg.deregister(&mut listener)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register_exclusive<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        self.register(source, interest)
    }
}

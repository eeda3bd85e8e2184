//! Linux: registering a source with `EPOLLEXCLUSIVE` in a loop's private epoll fd, for
//! a listener shared by several loops (each connection wakes one loop, not all).
//!
//! mio cannot pass the flag, so the source is registered through mio first (mio then
//! knows it and `deregister` works as usual), and the kernel registration is replaced
//! by a raw `EPOLL_CTL_DEL` + `EPOLL_CTL_ADD` with `EPOLLIN | EPOLLEXCLUSIVE | EPOLLET`
//! (`EPOLL_CTL_MOD` may not set the flag). Nothing is lost in between: `EPOLL_CTL_ADD`
//! reports a connection that is already waiting.

use std::io;
use std::os::fd::AsRawFd;

use mio::Interest;
use mio::event::Source;
use sock_poll_shared::os::linux::{CtlOp, Flags, ctl};

use crate::{Reactor, Registration};

impl Reactor {
    /// Registers `source` like [`register`](Reactor::register), but with
    /// `EPOLLEXCLUSIVE`: when the same socket (or a `dup` of it) is registered this way
    /// in several loops, an event wakes one of them (Linux may wake a few; never all).
    /// Meant for a listening socket shared by loops on several OS threads.
    ///
    /// Linux only honours the flag for readable/writable readiness, so the registration
    /// reports neither read-closed nor priority events. On other platforms this is
    /// [`register`](Reactor::register) (every loop wakes; the docs of `sock`'s shared
    /// listener say what that means).
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock_poll::{Direction, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// std_listener.set_nonblocking(true)?;
    /// let addr = std_listener.local_addr()?;
    /// let mut listener = mio::net::TcpListener::from_std(std_listener);
    /// let reg = reactor.register_exclusive(&mut listener, mio::Interest::READABLE)?;
    /// reg.clear_ready(Direction::Read);
    /// let _client = std::net::TcpStream::connect(addr)?;
    /// while !reg.is_ready(Direction::Read) {
    ///     reactor.poll(Some(Duration::from_secs(5)))?;
    /// }
    /// reg.deregister(&mut listener)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register_exclusive<S: Source + AsRawFd + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        let reg = self.register(source, interest)?;
        let (epfd, fd) = (self.as_raw_fd(), source.as_raw_fd());
        let key = reg.token().0 as u64;
        ctl(epfd, CtlOp::Delete, fd, Flags::EDGE, key)?;
        ctl(epfd, CtlOp::Add, fd, exclusive_flags(interest), key)?;
        Ok(reg)
    }
}

/// The epoll flags of an exclusive registration for `interest`.
fn exclusive_flags(interest: Interest) -> Flags {
    let mut flags = Flags::EXCLUSIVE | Flags::EDGE;
    if interest.is_readable() {
        flags = flags | Flags::READABLE;
    }
    if interest.is_writable() {
        flags = flags | Flags::WRITABLE;
    }
    flags
}

//! Platform-only public API: the raw shared poller of the shared-poller mode, handed
//! between OS threads as the seed does it (`sock.epoll_fd([fd])`, `sock.iocp([h])`).
//!
//! # Examples
//!
#![cfg_attr(
    unix,
    doc = "See [`unix::epoll_fd`]: a second OS thread joins the loop"
)]
#![cfg_attr(
    windows,
    doc = "See [`windows::iocp`]: a second OS thread joins the loop"
)]
//! whose poller it was handed.

/// Linux: the shared epoll fd.
///
/// # Examples
///
/// See [`epoll_fd`](unix::epoll_fd).
#[cfg(unix)]
pub mod unix {
    use std::io;
    use std::os::fd::RawFd;

    use crate::multi::SharedLoop;

    /// The epoll fd of this thread's current [`SharedLoop`] (made on first use): give
    /// it to another thread, which joins with [`set_epoll_fd`]. The seed's
    /// `sock.epoll_fd()`.
    ///
    /// # Panics
    ///
    /// If the OS refuses a new epoll fd.
    ///
    /// # Examples
    ///
    /// ```
    /// let fd = sock::os::unix::epoll_fd();
    /// std::thread::spawn(move || {
    ///     sock::os::unix::set_epoll_fd(fd).unwrap();
    ///     assert_eq!(sock::os::unix::epoll_fd(), fd); // same poller, same loop
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    #[doc(alias = "sock.epoll_fd")]
    pub fn epoll_fd() -> RawFd {
        SharedLoop::current().as_raw()
    }

    /// Makes the shared loop whose epoll fd is `fd` this thread's current one (the
    /// seed's `sock.epoll_fd(fd)`); then `SharedLoop::current().start()` makes this
    /// thread one of its workers.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] if `fd` is closed; [`io::ErrorKind::InvalidInput`] if
    /// it is open but not a shared epoll fd of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// use std::os::fd::AsRawFd;
    /// let err = sock::os::unix::set_epoll_fd(l.as_raw_fd()).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "sock.epoll_fd")]
    pub fn set_epoll_fd(fd: RawFd) -> io::Result<()> {
        SharedLoop::adopt(fd)?.make_current();
        Ok(())
    }
}

/// Windows: the shared I/O completion port.
///
/// # Examples
///
/// See [`iocp`](windows::iocp).
#[cfg(windows)]
pub mod windows {
    use std::io;
    use std::os::windows::io::RawHandle;

    use crate::multi::SharedLoop;

    /// The completion port of this thread's current [`SharedLoop`] (made on first use):
    /// give it to another thread, which joins with [`set_iocp`]. The seed's `sock.iocp()`.
    ///
    /// # Panics
    ///
    /// If the OS refuses a new completion port.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = sock::os::windows::iocp() as usize;
    /// std::thread::spawn(move || {
    ///     sock::os::windows::set_iocp(h as _).unwrap();
    ///     assert_eq!(sock::os::windows::iocp() as usize, h);
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    #[doc(alias = "sock.iocp")]
    pub fn iocp() -> RawHandle {
        SharedLoop::current().as_raw()
    }

    /// Makes the shared loop whose completion port is `handle` this thread's current
    /// one (the seed's `sock.iocp(h)`).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] if `handle` is closed; [`io::ErrorKind::InvalidInput`]
    /// if it is open but not a shared completion port of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = sock::os::windows::iocp();
    /// sock::os::windows::set_iocp(h)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "sock.iocp")]
    pub fn set_iocp(handle: RawHandle) -> io::Result<()> {
        SharedLoop::adopt(handle)?.make_current();
        Ok(())
    }
}

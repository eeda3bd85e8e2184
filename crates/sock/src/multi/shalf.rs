//! A [`SharedTcp`]'s read and write halves, as the loop mode's (`half.rs`):
//! [`SharedTcp::split`] borrows them, [`SharedTcp::into_split`] owns them. Owned halves
//! are `Send`, so a reader task and a writer task — on any workers of the loop — each
//! hold the half it uses (one waiter per direction, as ever). The halves are views of
//! one socket: closing it, or dropping its last handle, closes it for both.

use std::io::IoSlice;
use std::task::{Context, Poll};

use sock_sched::mt;

use super::stcp::SharedTcp;
use crate::error::Result;
use crate::op::Op;
use crate::tcp::Shutdown;

/// The reading half of a borrowed [`SharedTcp`]; see [`SharedTcp::split`].
#[derive(Debug, Clone, Copy)]
pub struct SharedReadHalf<'a>(&'a SharedTcp);

/// The writing half of a borrowed [`SharedTcp`]; see [`SharedTcp::split`].
#[derive(Debug, Clone, Copy)]
pub struct SharedWriteHalf<'a>(&'a SharedTcp);

/// The reading half of a [`SharedTcp`], owned (`Send`); see [`SharedTcp::into_split`].
#[derive(Debug)]
pub struct SharedOwnedReadHalf(SharedTcp);

/// The writing half of a [`SharedTcp`], owned (`Send`); see [`SharedTcp::into_split`].
#[derive(Debug)]
pub struct SharedOwnedWriteHalf(SharedTcp);

impl SharedTcp {
    /// Borrows the socket as a read half and a write half.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::Family;
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let echoed = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     let (r, w) = conn.split();
    ///     client.send(b"ping").await?;
    ///     let mut buf = [0u8; 4];
    ///     r.recvn(&mut buf).await?;
    ///     w.send(&buf).await?;
    ///     client.recvn(&mut buf).await?;
    ///     Ok::<_, sock::Error>(buf)
    /// })?;
    /// assert_eq!(&echoed, b"ping");
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn split(&self) -> (SharedReadHalf<'_>, SharedWriteHalf<'_>) {
        (SharedReadHalf(self), SharedWriteHalf(self))
    }

    /// Splits the socket into owned halves, for a reader task and a writer task that
    /// may run on different workers.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use sock::Family;
    /// use sock::sched::mt;
    /// use sock::shared::{SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let echoed = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let (r, w) = server.accept().await?.into_split();
    ///     let echo = mt::spawn(async move {
    ///         let mut buf = [0u8; 4];
    ///         r.recvn(&mut buf).await?;
    ///         w.send(&buf).await
    ///     });
    ///     client.send(b"pong").await?;
    ///     let mut buf = [0u8; 4];
    ///     client.recvn(&mut buf).await?;
    ///     echo.await?;
    ///     Ok::<_, sock::Error>(buf)
    /// })?;
    /// assert_eq!(&echoed, b"pong");
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn into_split(self) -> (SharedOwnedReadHalf, SharedOwnedWriteHalf) {
        (
            SharedOwnedReadHalf(self.clone()),
            SharedOwnedWriteHalf(self),
        )
    }
}

/// The read methods of a half, delegated to its socket.
macro_rules! read_half {
    ($ty:ty) => {
        impl $ty {
            /// See [`SharedTcp::recv`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::recv`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::split`].
            pub fn recv<'b>(
                &'b self,
                buf: &'b mut [u8],
            ) -> impl Op<Output = Result<usize>, Timer = mt::Sleep> + Send + 'b {
                self.0.recv(buf)
            }

            /// See [`SharedTcp::recvn`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::recvn`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::split`].
            pub fn recvn<'b>(
                &'b self,
                buf: &'b mut [u8],
            ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + 'b {
                self.0.recvn(buf)
            }

            /// See [`SharedTcp::readable`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::readable`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::readable`].
            pub fn readable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
                self.0.readable()
            }

            /// See [`SharedTcp::poll_recv`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_recv`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_recv`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::poll_recv`].
            pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
                self.0.poll_recv(cx, buf)
            }

            /// See [`SharedTcp::poll_readable`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_readable`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_readable`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::readable`].
            pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
                self.0.poll_readable(cx)
            }

            /// See [`SharedTcp::try_recv`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::try_recv`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::try_recv`].
            pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize> {
                self.0.try_recv(buf)
            }
        }
    };
}

/// The write methods of a half, delegated to its socket.
macro_rules! write_half {
    ($ty:ty) => {
        impl $ty {
            /// See [`SharedTcp::send`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::send`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::split`].
            pub fn send<'b>(
                &'b self,
                buf: &'b [u8],
            ) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + 'b {
                self.0.send(buf)
            }

            /// See [`SharedTcp::writable`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::writable`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::writable`].
            pub fn writable(&self) -> impl Op<Output = Result<()>, Timer = mt::Sleep> + Send + '_ {
                self.0.writable()
            }

            /// See [`SharedTcp::poll_send`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_send`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_send`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::poll_recv`].
            pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
                self.0.poll_send(cx, buf)
            }

            /// See [`SharedTcp::poll_send_vectored`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_send`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_send`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::poll_send_vectored`].
            pub fn poll_send_vectored(
                &self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<Result<usize>> {
                self.0.poll_send_vectored(cx, bufs)
            }

            /// See [`SharedTcp::poll_writable`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_writable`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_writable`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::writable`].
            pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
                self.0.poll_writable(cx)
            }

            /// See [`SharedTcp::poll_flush`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::poll_flush`].
            ///
            /// # Panics
            ///
            /// As [`SharedTcp::poll_flush`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::poll_flush`].
            pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
                self.0.poll_flush(cx)
            }

            /// See [`SharedTcp::try_send`].
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::try_send`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::writable`].
            pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
                self.0.try_send(buf)
            }

            /// Shuts the writing direction down: the peer reads EOF once the data sent
            /// is in. (After poll-level sends on Windows, flush first.)
            ///
            /// # Errors
            ///
            /// As [`SharedTcp::shutdown`].
            ///
            /// # Examples
            ///
            /// See [`SharedTcp::shutdown`].
            pub fn shutdown_write(&self) -> Result<()> {
                self.0.shutdown(Shutdown::Write)
            }
        }
    };
}

read_half!(SharedReadHalf<'_>);
read_half!(SharedOwnedReadHalf);
write_half!(SharedWriteHalf<'_>);
write_half!(SharedOwnedWriteHalf);

impl<'a> SharedReadHalf<'a> {
    /// The socket this half is a view of.
    ///
    /// # Examples
    ///
    /// See [`SharedTcp::split`].
    pub fn as_tcp(&self) -> &'a SharedTcp {
        self.0
    }
}

impl<'a> SharedWriteHalf<'a> {
    /// The socket this half is a view of.
    ///
    /// # Examples
    ///
    /// See [`SharedTcp::split`].
    pub fn as_tcp(&self) -> &'a SharedTcp {
        self.0
    }
}

impl SharedOwnedReadHalf {
    /// The socket both halves are views of.
    ///
    /// # Examples
    ///
    /// See [`SharedTcp::into_split`].
    pub fn as_tcp(&self) -> &SharedTcp {
        &self.0
    }
}

impl SharedOwnedWriteHalf {
    /// The socket both halves are views of.
    ///
    /// # Examples
    ///
    /// See [`SharedTcp::into_split`].
    pub fn as_tcp(&self) -> &SharedTcp {
        &self.0
    }
}

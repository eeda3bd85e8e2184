//! A stream's read and write halves: [`Tcp::split`] borrows them, [`Tcp::into_split`]
//! owns them, so a reader task and a writer task each hold the half it uses (one
//! waiter per direction, as ever). The halves are views of one socket: closing or
//! dropping the last handle closes it for both.

use std::io::IoSlice;
use std::task::{Context, Poll};

use crate::error::Result;
use crate::op::Op;
use crate::tcp::{Shutdown, Tcp};

/// The reading half of a borrowed [`Tcp`]; see [`Tcp::split`].
#[derive(Debug, Clone, Copy)]
pub struct ReadHalf<'a>(&'a Tcp);

/// The writing half of a borrowed [`Tcp`]; see [`Tcp::split`].
#[derive(Debug, Clone, Copy)]
pub struct WriteHalf<'a>(&'a Tcp);

/// The reading half of a [`Tcp`], owned; see [`Tcp::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf(Tcp);

/// The writing half of a [`Tcp`], owned; see [`Tcp::into_split`].
#[derive(Debug)]
pub struct OwnedWriteHalf(Tcp);

impl Tcp {
    /// Borrows the socket as a read half and a write half.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let l = sock::tcp(sock::Family::INET)?;
    ///     l.listen("127.0.0.1", 0)?;
    ///     let c = sock::tcp(sock::Family::INET)?;
    ///     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    ///     let s = l.accept().await?;
    ///     let (r, w) = s.split();
    ///     c.send(b"ping").await?;
    ///     let mut buf = [0u8; 4];
    ///     r.recvn(&mut buf).await?;
    ///     w.send(&buf).await?;
    ///     c.recvn(&mut buf).await?;
    ///     assert_eq!(&buf, b"ping");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the socket into owned halves, for a reader task and a writer task.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let l = sock::tcp(sock::Family::INET)?;
    ///     l.listen("127.0.0.1", 0)?;
    ///     let c = sock::tcp(sock::Family::INET)?;
    ///     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    ///     let (r, w) = l.accept().await?.into_split();
    ///     let echo = sock::spawn(async move {
    ///         let mut buf = [0u8; 4];
    ///         r.recvn(&mut buf).await?;
    ///         w.send(&buf).await
    ///     });
    ///     c.send(b"pong").await?;
    ///     let mut buf = [0u8; 4];
    ///     c.recvn(&mut buf).await?;
    ///     echo.join().await.unwrap()?;
    ///     assert_eq!(&buf, b"pong");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (OwnedReadHalf(self.clone()), OwnedWriteHalf(self))
    }
}

/// The read methods of a half, delegated to its socket.
macro_rules! read_half {
    ($ty:ty) => {
        impl $ty {
            /// See [`Tcp::recv`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::recv`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::split`].
            pub fn recv<'b>(&'b self, buf: &'b mut [u8]) -> impl Op<Output = Result<usize>> + 'b {
                self.0.recv(buf)
            }

            /// See [`Tcp::recvn`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::recvn`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::split`].
            pub fn recvn<'b>(&'b self, buf: &'b mut [u8]) -> impl Op<Output = Result<()>> + 'b {
                self.0.recvn(buf)
            }

            /// See [`Tcp::readable`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::readable`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::readable`].
            pub fn readable(&self) -> impl Op<Output = Result<()>> + '_ {
                self.0.readable()
            }

            /// See [`Tcp::poll_recv`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::recv`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::poll_recv`].
            pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
                self.0.poll_recv(cx, buf)
            }

            /// See [`Tcp::try_recv`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::try_recv`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::try_recv`].
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
            /// See [`Tcp::send`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::send`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::split`].
            pub fn send<'b>(&'b self, buf: &'b [u8]) -> impl Op<Output = Result<()>> + 'b {
                self.0.send(buf)
            }

            /// See [`Tcp::writable`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::writable`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::writable`].
            pub fn writable(&self) -> impl Op<Output = Result<()>> + '_ {
                self.0.writable()
            }

            /// See [`Tcp::poll_send`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::send`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::poll_recv`].
            pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
                self.0.poll_send(cx, buf)
            }

            /// See [`Tcp::poll_send_vectored`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::send`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::poll_recv`].
            pub fn poll_send_vectored(
                &self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<Result<usize>> {
                self.0.poll_send_vectored(cx, bufs)
            }

            /// See [`Tcp::try_send`].
            ///
            /// # Errors
            ///
            /// As [`Tcp::try_send`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::writable`].
            pub fn try_send(&self, buf: &[u8]) -> Result<usize> {
                self.0.try_send(buf)
            }

            /// Shuts the writing direction down: the peer reads EOF once the data sent is in.
            ///
            /// # Errors
            ///
            /// As [`Tcp::shutdown`].
            ///
            /// # Examples
            ///
            /// See [`Tcp::shutdown`].
            pub fn shutdown_write(&self) -> Result<()> {
                self.0.shutdown(Shutdown::Write)
            }
        }
    };
}

read_half!(ReadHalf<'_>);
read_half!(OwnedReadHalf);
write_half!(WriteHalf<'_>);
write_half!(OwnedWriteHalf);

impl<'a> ReadHalf<'a> {
    /// The socket this half is a view of.
    ///
    /// # Examples
    ///
    /// See [`Tcp::split`].
    pub fn as_tcp(&self) -> &'a Tcp {
        self.0
    }
}

impl<'a> WriteHalf<'a> {
    /// The socket this half is a view of.
    ///
    /// # Examples
    ///
    /// See [`Tcp::split`].
    pub fn as_tcp(&self) -> &'a Tcp {
        self.0
    }
}

impl OwnedReadHalf {
    /// The socket both halves are views of.
    ///
    /// # Examples
    ///
    /// See [`Tcp::into_split`].
    pub fn as_tcp(&self) -> &Tcp {
        &self.0
    }
}

impl OwnedWriteHalf {
    /// The socket both halves are views of.
    ///
    /// # Examples
    ///
    /// See [`Tcp::into_split`].
    pub fn as_tcp(&self) -> &Tcp {
        &self.0
    }
}

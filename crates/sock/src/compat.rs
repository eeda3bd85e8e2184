//! The ecosystem's I/O traits on sock streams, each behind its own feature (off by
//! default, so the default dependency graph does not grow): `futures-io`'s
//! `AsyncRead`/`AsyncWrite` and tokio's (`tokio-io`, tokio with no runtime feature).
//! They implement for [`Tcp`] and its halves over the poll-level calls, with no
//! allocation and no buffer copy; flushing is a no-op (nothing is buffered) and closing
//! shuts the writing direction down. The macros serve the shared-poller mode's
//! `SharedTcp` and its halves too (`multi/scompat.rs`), through
//! [`LevelStream`](crate::pollio::LevelStream): there a flush waits for the send a
//! Windows socket has in flight, and closing flushes first.

#[cfg(any(feature = "futures-io", feature = "tokio-io"))]
use crate::{
    Tcp,
    io::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf},
};

/// `futures_io::AsyncRead` for a type whose stream (`Tcp` or `SharedTcp`) is `$tcp`
/// (with `self` as `$s`).
#[cfg(feature = "futures-io")]
macro_rules! futures_read {
    ($ty:ty, |$s:ident| $tcp:expr) => {
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($tcp.poll_recv(cx, buf))
            }
        }
    };
}
#[cfg(feature = "futures-io")]
pub(crate) use futures_read;

/// `futures_io::AsyncWrite` likewise.
#[cfg(feature = "futures-io")]
macro_rules! futures_write {
    ($ty:ty, |$s:ident| $tcp:expr) => {
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($tcp.poll_send(cx, buf))
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($tcp.poll_send_vectored(cx, bufs))
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($crate::pollio::LevelStream::level_flush($tcp, cx))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                $crate::pollio::to_io_shutdown($crate::pollio::LevelStream::level_close($tcp, cx))
            }
        }
    };
}
#[cfg(feature = "futures-io")]
pub(crate) use futures_write;

#[cfg(feature = "futures-io")]
futures_read!(Tcp, |s| s);
#[cfg(feature = "futures-io")]
futures_write!(Tcp, |s| s);
#[cfg(feature = "futures-io")]
futures_read!(OwnedReadHalf, |s| s.as_tcp());
#[cfg(feature = "futures-io")]
futures_write!(OwnedWriteHalf, |s| s.as_tcp());
#[cfg(feature = "futures-io")]
futures_read!(ReadHalf<'_>, |s| s.as_tcp());
#[cfg(feature = "futures-io")]
futures_write!(WriteHalf<'_>, |s| s.as_tcp());

/// tokio's `AsyncRead`, reading into the `ReadBuf`'s unfilled part without zeroing it.
#[cfg(feature = "tokio-io")]
macro_rules! tokio_read {
    ($ty:ty, |$s:ident| $tcp:expr) => {
        impl ::tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::tokio::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                // SAFETY: `recv` only writes initialized bytes into the unfilled part,
                // and `assume_init`/`advance` below cover exactly the `n` it wrote.
                let unfilled = unsafe { buf.unfilled_mut() };
                let recv = $crate::pollio::LevelStream::level_recv_uninit($tcp, cx, unfilled);
                let n = ::std::task::ready!($crate::pollio::to_io(recv))?;
                // SAFETY: the first `n` bytes of the unfilled part were written by recv.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}
#[cfg(feature = "tokio-io")]
pub(crate) use tokio_read;

/// A write trait shaped like tokio's `AsyncWrite` (tokio's, and `hyper::rt::Write`,
/// which has the same methods) for a type whose stream (`Tcp` or `SharedTcp`) is `$tcp`
/// (with `self` as `$s`): sends through the poll-level calls, vectored; flushing waits
/// for what the stream took to be with the kernel (a no-op for `Tcp`); shutting down
/// flushes, then shuts the writing direction.
#[cfg(any(feature = "tokio-io", feature = "hyper"))]
macro_rules! shutdown_write {
    ($trait:path, $ty:ty, |$s:ident| $tcp:expr) => {
        impl $trait for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($tcp.poll_send(cx, buf))
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($tcp.poll_send_vectored(cx, bufs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                $crate::pollio::to_io($crate::pollio::LevelStream::level_flush($tcp, cx))
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                $crate::pollio::to_io_shutdown($crate::pollio::LevelStream::level_close($tcp, cx))
            }
        }
    };
}
#[cfg(any(feature = "tokio-io", feature = "hyper"))]
pub(crate) use shutdown_write;

#[cfg(feature = "tokio-io")]
tokio_read!(Tcp, |s| s);
#[cfg(feature = "tokio-io")]
shutdown_write!(tokio::io::AsyncWrite, Tcp, |s| s);
#[cfg(feature = "tokio-io")]
tokio_read!(OwnedReadHalf, |s| s.as_tcp());
#[cfg(feature = "tokio-io")]
shutdown_write!(tokio::io::AsyncWrite, OwnedWriteHalf, |s| s.as_tcp());
#[cfg(feature = "tokio-io")]
tokio_read!(ReadHalf<'_>, |s| s.as_tcp());
#[cfg(feature = "tokio-io")]
shutdown_write!(tokio::io::AsyncWrite, WriteHalf<'_>, |s| s.as_tcp());

//! hyper on sock (feature `hyper`, off by default): `hyper::rt::Read`/`Write` for
//! [`Tcp`] (TCP and unix-domain streams) and its halves, an [`Executor`] that spawns
//! hyper's background tasks on the current loop, and a [`Timer`] whose sleeps are
//! `Send + Sync` as hyper requires.
//!
//! The I/O impls sit on the poll-level calls, as the `futures-io`/`tokio-io` ones do:
//! no allocation and no copy per call, reads go into hyper's uninitialized buffer,
//! flushing is a no-op (nothing is buffered) and shutdown closes the writing direction.
//!
//! hyper's connection futures are `!Send` here (a sock socket belongs to its loop), so
//! everything runs on one loop: serve a connection with `sock::spawn`, and give hyper's
//! builders `Executor` (HTTP/2 spawns a task per stream) and `Timer` (header-read
//! timeouts, keep-alive pings).
//!
//! ```
//! use sock::hyper::{Executor, Timer};
//!
//! let mut h1 = ::hyper::server::conn::http1::Builder::new();
//! h1.timer(Timer).header_read_timeout(std::time::Duration::from_secs(5));
//! let h2 = ::hyper::server::conn::http2::Builder::new(Executor);
//! # let _ = (h1, h2);
//! ```

use std::future::Future;

use ::hyper::rt::Write;

use crate::compat::shutdown_write;
use crate::{
    Tcp,
    io::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf},
};

mod timer;

pub use timer::{Sleep, Timer};

/// Spawns hyper's background futures (HTTP/2 connection and stream tasks) as threads
/// of the calling OS thread's loop; the futures need not be `Send`.
///
/// # Panics
///
/// `execute` panics off a loop thread, as [`spawn`](crate::spawn) does.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor as _;
///
/// sock::run(async {
///     let (tx, rx) = std::sync::mpsc::channel();
///     sock::hyper::Executor.execute(async move { tx.send(7).unwrap() });
///     sock::sleep(std::time::Duration::from_millis(1)).await;
///     assert_eq!(rx.try_recv(), Ok(7));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Executor;

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, fut: F) {
        // The handle is dropped: the thread runs on, detached.
        drop(crate::spawn(fut));
    }
}

/// `hyper::rt::Read` for a type whose stream (`Tcp` or `SharedTcp`) is `$tcp` (with
/// `self` as `$s`).
macro_rules! hyper_read {
    ($ty:ty, |$s:ident| $tcp:expr) => {
        impl ::hyper::rt::Read for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                mut buf: ::hyper::rt::ReadBufCursor<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $s = self.get_mut();
                // SAFETY: `recv` only writes initialized bytes into the unfilled part,
                // so no initialized byte becomes uninitialized.
                let unfilled = unsafe { buf.as_mut() };
                let recv = $crate::pollio::LevelStream::level_recv_uninit($tcp, cx, unfilled);
                let n = ::std::task::ready!($crate::pollio::to_io(recv))?;
                // SAFETY: recv initialized the first `n` bytes of the unfilled part.
                unsafe { buf.advance(n) };
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}
pub(crate) use hyper_read;

hyper_read!(Tcp, |s| s);
shutdown_write!(Write, Tcp, |s| s);
hyper_read!(OwnedReadHalf, |s| s.as_tcp());
shutdown_write!(Write, OwnedWriteHalf, |s| s.as_tcp());
hyper_read!(ReadHalf<'_>, |s| s.as_tcp());
shutdown_write!(Write, WriteHalf<'_>, |s| s.as_tcp());

#[cfg(test)]
mod tests;

//! The ecosystem's I/O traits on [`SharedTcp`] and its halves, behind the loop mode's
//! features and through its macros (`compat.rs`, `hyper.rs`): `futures-io`'s
//! `AsyncRead`/`AsyncWrite`, tokio's (`tokio-io`) and `hyper::rt::Read`/`Write`
//! (`hyper`). They sit on the poll-level calls (`spoll.rs`), with no allocation per
//! call. Flushing waits for what the socket took to be with the kernel (on Windows,
//! for the send in flight; elsewhere at once), and closing (`poll_close`,
//! `poll_shutdown`) flushes, then shuts the writing direction down.

use std::mem::MaybeUninit;
use std::task::{Context, Poll};

use super::stcp::SharedTcp;
use crate::error::Result;
use crate::pollio::LevelStream;

impl LevelStream for SharedTcp {
    fn level_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize>> {
        self.poll_recv_uninit(cx, buf)
    }

    fn level_flush(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_flush(cx)
    }

    fn level_close(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_shutdown_write(cx)
    }
}

#[cfg(feature = "futures-io")]
mod futures_io_impls {
    use super::super::shalf::{
        SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedReadHalf, SharedWriteHalf,
    };
    use super::SharedTcp;
    use crate::compat::{futures_read, futures_write};

    futures_read!(SharedTcp, |s| s);
    futures_write!(SharedTcp, |s| s);
    futures_read!(SharedOwnedReadHalf, |s| s.as_tcp());
    futures_write!(SharedOwnedWriteHalf, |s| s.as_tcp());
    futures_read!(SharedReadHalf<'_>, |s| s.as_tcp());
    futures_write!(SharedWriteHalf<'_>, |s| s.as_tcp());
}

#[cfg(feature = "tokio-io")]
mod tokio_io_impls {
    use super::super::shalf::{
        SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedReadHalf, SharedWriteHalf,
    };
    use super::SharedTcp;
    use crate::compat::{shutdown_write, tokio_read};

    tokio_read!(SharedTcp, |s| s);
    shutdown_write!(::tokio::io::AsyncWrite, SharedTcp, |s| s);
    tokio_read!(SharedOwnedReadHalf, |s| s.as_tcp());
    shutdown_write!(::tokio::io::AsyncWrite, SharedOwnedWriteHalf, |s| s
        .as_tcp());
    tokio_read!(SharedReadHalf<'_>, |s| s.as_tcp());
    shutdown_write!(::tokio::io::AsyncWrite, SharedWriteHalf<'_>, |s| s.as_tcp());
}

#[cfg(feature = "hyper")]
mod hyper_impls {
    use super::super::shalf::{
        SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedReadHalf, SharedWriteHalf,
    };
    use super::SharedTcp;
    use crate::compat::shutdown_write;
    use crate::hyper::hyper_read;

    hyper_read!(SharedTcp, |s| s);
    shutdown_write!(::hyper::rt::Write, SharedTcp, |s| s);
    hyper_read!(SharedOwnedReadHalf, |s| s.as_tcp());
    shutdown_write!(::hyper::rt::Write, SharedOwnedWriteHalf, |s| s.as_tcp());
    hyper_read!(SharedReadHalf<'_>, |s| s.as_tcp());
    shutdown_write!(::hyper::rt::Write, SharedWriteHalf<'_>, |s| s.as_tcp());
}

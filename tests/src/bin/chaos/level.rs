//! Stream I/O through the poll-level calls and the I/O traits (every [`Via`] but
//! `Op`), written once for both modes over [`ReadSide`]/[`WriteSide`] (a stream or
//! its half) and the mode's [`Clock`].
//!
//! These calls have no deadline of their own: a planned deadline becomes a scope
//! deadline around the call (the mode's `deadline`), which the poll-level calls obey
//! like the operations do. A send here is a loop of partial writes whose count the
//! tester keeps itself, so a send dropped or failed mid-way reports exactly what went;
//! a receive is one read.

use std::future::{Future, poll_fn};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sock::ErrorKind;
use sock::io::{OwnedReadHalf, OwnedWriteHalf};
use sock::sched::mt;
use sock::shared::{SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedTcp};

use crate::endpoint::{Outcome, cancel, race_ms};
use crate::plan::{Cut, Span, Via, Wait};
use crate::report::violation;

/// A mode's clock, sleep and scope deadlines.
pub(crate) trait Clock: 'static {
    /// Now, on the mode's clock.
    fn now() -> Instant;

    /// The mode's sleep.
    fn sleep(ms: u64) -> impl Future<Output = ()>;

    /// The mode's `deadline(t, fut)`.
    fn deadline<T, F: Future<Output = sock::Result<T>>>(
        t: Instant,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>>;

    /// The mode's `timeout(d, fut)`.
    fn timeout<T, F: Future<Output = sock::Result<T>>>(
        d: Duration,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>>;
}

/// The loop mode's: `sock::clock`, `sock::sleep`, `sock::deadline`/`timeout`.
#[derive(Debug)]
pub(crate) struct LoopClock;

impl Clock for LoopClock {
    fn now() -> Instant {
        sock::clock()
    }

    fn sleep(ms: u64) -> impl Future<Output = ()> {
        sock::sleep(Duration::from_millis(ms))
    }

    fn deadline<T, F: Future<Output = sock::Result<T>>>(
        t: Instant,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>> {
        sock::deadline(t, fut)
    }

    fn timeout<T, F: Future<Output = sock::Result<T>>>(
        d: Duration,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>> {
        sock::timeout(d, fut)
    }
}

/// The shared mode's: the monotonic clock, `mt::sleep`, `sock::shared::deadline`/
/// `timeout`.
#[derive(Debug)]
pub(crate) struct SharedClock;

impl Clock for SharedClock {
    fn now() -> Instant {
        Instant::now()
    }

    fn sleep(ms: u64) -> impl Future<Output = ()> {
        mt::sleep(Duration::from_millis(ms))
    }

    fn deadline<T, F: Future<Output = sock::Result<T>>>(
        t: Instant,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>> {
        sock::shared::deadline(t, fut)
    }

    fn timeout<T, F: Future<Output = sock::Result<T>>>(
        d: Duration,
        fut: F,
    ) -> impl Future<Output = sock::Result<T>> {
        sock::shared::timeout(d, fut)
    }
}

/// The absolute deadline of `wait` from `now`.
pub(crate) fn deadline_of(wait: Wait, now: Instant) -> Option<Instant> {
    let ms = |n: u64| Some(now + Duration::from_millis(n));
    match wait {
        Wait::Unbounded => None,
        Wait::Past => Some(now.checked_sub(Duration::from_millis(5)).unwrap_or(now)),
        Wait::Now | Wait::Zero => Some(now),
        Wait::Tiny => ms(1),
        Wait::Ms(n) => ms(u64::from(n)),
        Wait::Large => ms(3000),
    }
}

/// Runs `fut` under the scope deadline `span` says, from now.
pub(crate) fn scoped<C: Clock, T, F: Future<Output = sock::Result<T>>>(
    span: Span,
    fut: F,
) -> impl Future<Output = sock::Result<T>> {
    let d = Duration::from_millis(u64::from(span.ms));
    let at = C::now() + d;
    async move {
        match span.absolute {
            true => C::deadline(at, fut).await,
            false => C::timeout(d, fut).await,
        }
    }
}

/// The reading calls of a stream or its read half.
pub(crate) trait ReadSide {
    /// `poll_recv`.
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<sock::Result<usize>>;
    /// `try_recv`.
    fn try_recv(&self, buf: &mut [u8]) -> sock::Result<usize>;
    /// `readable()`.
    fn readable(&self) -> impl Future<Output = sock::Result<()>> + '_;
}

/// The writing calls of a stream or its write half.
pub(crate) trait WriteSide {
    /// `poll_send`.
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<sock::Result<usize>>;
    /// `try_send`.
    fn try_send(&self, buf: &[u8]) -> sock::Result<usize>;
    /// `writable()`.
    fn writable(&self) -> impl Future<Output = sock::Result<()>> + '_;
}

/// [`ReadSide`] for types with the inherent calls of that name.
macro_rules! read_side {
    ($($ty:ty),*) => {$(
        impl ReadSide for $ty {
            fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<sock::Result<usize>> {
                <$ty>::poll_recv(self, cx, buf)
            }
            fn try_recv(&self, buf: &mut [u8]) -> sock::Result<usize> {
                <$ty>::try_recv(self, buf)
            }
            fn readable(&self) -> impl Future<Output = sock::Result<()>> + '_ {
                <$ty>::readable(self)
            }
        }
    )*};
}

/// [`WriteSide`] likewise.
macro_rules! write_side {
    ($($ty:ty),*) => {$(
        impl WriteSide for $ty {
            fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<sock::Result<usize>> {
                <$ty>::poll_send(self, cx, buf)
            }
            fn try_send(&self, buf: &[u8]) -> sock::Result<usize> {
                <$ty>::try_send(self, buf)
            }
            fn writable(&self) -> impl Future<Output = sock::Result<()>> + '_ {
                <$ty>::writable(self)
            }
        }
    )*};
}

read_side!(sock::Tcp, OwnedReadHalf, SharedTcp, SharedOwnedReadHalf);
write_side!(sock::Tcp, OwnedWriteHalf, SharedTcp, SharedOwnedWriteHalf);

/// A stream with both I/O trait families (futures-io and tokio-io).
pub(crate) trait TraitIo:
    futures_lite::AsyncRead
    + futures_lite::AsyncWrite
    + tokio::io::AsyncRead
    + tokio::io::AsyncWrite
    + Unpin
{
}

impl<T> TraitIo for T where
    T: futures_lite::AsyncRead
        + futures_lite::AsyncWrite
        + tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + Unpin
{
}

/// Sends all of `buf` through `via` under `cut`: on `t` for the trait vias when there
/// is one (a whole stream), else on `w` (a half takes `Poll` for the trait vias).
pub(crate) async fn send<C: Clock, W: WriteSide, T: TraitIo>(
    via: Via,
    w: &W,
    mut t: Option<T>,
    buf: &[u8],
    cut: Cut,
) -> Outcome {
    let done = AtomicUsize::new(0);
    let all = async {
        while done.load(Relaxed) < buf.len() {
            let rest = &buf[done.load(Relaxed)..];
            let n = write_some(via, w, t.as_mut(), rest).await?;
            if n == 0 {
                violation(format!("a {}-byte {via:?} write moved 0 bytes", rest.len()));
                return Err(sock::Error::from(ErrorKind::Other));
            }
            done.fetch_add(n, Relaxed);
        }
        Ok(buf.len())
    };
    bounded::<C, _>(cut, &done, all).await
}

/// One partial write.
async fn write_some<W: WriteSide, T: TraitIo>(
    via: Via,
    w: &W,
    t: Option<&mut T>,
    rest: &[u8],
) -> sock::Result<usize> {
    match (via, t) {
        (Via::Futures, Some(t)) => AsyncWriteExt::write(t, rest).await.map_err(from_io),
        (Via::Tokio, Some(t)) => tokio::io::AsyncWriteExt::write(t, rest)
            .await
            .map_err(from_io),
        (Via::Try, _) => loop {
            match w.try_send(rest) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => w.writable().await?,
                r => return r,
            }
        },
        _ => poll_fn(|cx| w.poll_send(cx, rest)).await,
    }
}

/// One receive into `buf` through `via` under `cut` (`t` as in [`send`]).
pub(crate) async fn recv<C: Clock, R: ReadSide, T: TraitIo>(
    via: Via,
    r: &R,
    t: Option<T>,
    buf: &mut [u8],
    cut: Cut,
) -> Outcome {
    let done = AtomicUsize::new(0);
    let one = async {
        let n = read_some(via, r, t, buf).await?;
        done.store(n, Relaxed);
        Ok(n)
    };
    bounded::<C, _>(cut, &done, one).await
}

/// One read.
async fn read_some<R: ReadSide, T: TraitIo>(
    via: Via,
    r: &R,
    t: Option<T>,
    buf: &mut [u8],
) -> sock::Result<usize> {
    match (via, t) {
        (Via::Futures, Some(mut t)) => AsyncReadExt::read(&mut t, buf).await.map_err(from_io),
        (Via::Tokio, Some(mut t)) => tokio::io::AsyncReadExt::read(&mut t, buf)
            .await
            .map_err(from_io),
        (Via::Try, _) => loop {
            match r.try_recv(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => r.readable().await?,
                res => return res,
            }
        },
        _ => poll_fn(|cx| r.poll_recv(cx, buf)).await,
    }
}

/// Shuts writing down through the I/O traits' `close` (futures-io) or `shutdown`
/// (tokio), with a 3 s scope deadline against a hang.
pub(crate) async fn close_write<C: Clock, T: TraitIo>(via: Via, mut t: T) -> sock::Result<()> {
    let close = async {
        match via {
            Via::Tokio => tokio::io::AsyncWriteExt::shutdown(&mut t).await,
            _ => AsyncWriteExt::close(&mut t).await,
        }
        .map_err(from_io)
    };
    C::timeout(Duration::from_secs(3), close).await
}

/// Runs `fut` under `cut`'s deadline (a scope) and cancellation; the bytes moved are
/// `done`'s, however it ended.
async fn bounded<C: Clock, F>(cut: Cut, done: &AtomicUsize, fut: F) -> Outcome
where
    F: Future<Output = sock::Result<usize>>,
{
    let race = C::sleep(race_ms(cut.cancel));
    let (how, n) = (cut.cancel, || done.load(Relaxed));
    let out = match deadline_of(cut.wait, C::now()) {
        None => cancel(fut, how, race, |_| n(), |&n| n).await,
        Some(t) => cancel(C::deadline(t, fut), how, race, |_| n(), |&n| n).await,
    };
    match out {
        Outcome::Failed { kind, .. } => Outcome::Failed {
            kind,
            moved: done.load(Relaxed),
        },
        out => out,
    }
}

/// The `sock::Error` inside an `io::Error` from the I/O traits (its kind intact), or
/// one made from it.
fn from_io(e: io::Error) -> sock::Error {
    if !e.get_ref().is_some_and(|i| i.is::<sock::Error>()) {
        return sock::Error::from(e);
    }
    let inner = e.into_inner().expect("checked: it has an inner error");
    *inner
        .downcast::<sock::Error>()
        .expect("checked: the inner error is a sock::Error")
}

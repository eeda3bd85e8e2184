//! [`Endpoint`]: one socket of a scenario, whatever the mode, with every operation
//! already cut by its planned deadline and cancellation; and the [`Outcome`] it gives.
//!
//! The writer and reader tasks are written once, generic over `Endpoint`. The loop mode
//! ([`crate::loop_ep`]) boxes `!Send` futures over `Tcp`/`Udp`; the shared mode
//! ([`crate::shared_ep`]) boxes `Send` futures over `SharedTcp`/`SharedUdp`, so the
//! same generic task is `Send` exactly when the mode needs it.
//!
//! An operation abandoned mid-way is asked how far it got before it is dropped, through
//! the `progress` function given to [`cancel`]: that count is what the sender continues
//! from, so a dishonest one shows up at the receiver.

use std::future::{Future, poll_fn};
use std::net::Shutdown;
use std::pin::pin;
use std::task::Poll;

use sock::{ErrorKind, io::OptValue};

use crate::plan::Cancel;

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It finished: bytes moved (one datagram, a whole send, one read; 0 = EOF).
    Done(usize),
    /// It failed after moving `moved` bytes (`Error::transferred`).
    Failed {
        /// The error's kind.
        kind: ErrorKind,
        /// Bytes moved before the failure.
        moved: usize,
    },
    /// It was dropped before finishing, having moved this many bytes.
    Dropped(usize),
}

impl Outcome {
    /// The outcome of a finished operation whose success moved `size(&value)` bytes.
    pub(crate) fn of<T>(r: sock::Result<T>, size: impl Fn(&T) -> usize) -> Outcome {
        match r {
            Ok(v) => Outcome::Done(size(&v)),
            Err(e) => Outcome::Failed {
                kind: e.kind(),
                moved: e.transferred(),
            },
        }
    }

    /// Bytes moved, however it ended.
    pub(crate) fn moved(self) -> usize {
        match self {
            Outcome::Done(n) | Outcome::Dropped(n) => n,
            Outcome::Failed { moved, .. } => moved,
        }
    }

    /// Whether it failed with `kind`.
    pub(crate) fn is(self, kind: ErrorKind) -> bool {
        matches!(self, Outcome::Failed { kind: k, .. } if k == kind)
    }
}

/// A socket of a scenario, its operations cut as planned; its futures are boxed, and
/// `Send` in the shared mode.
pub(crate) trait Endpoint: Clone + 'static {
    /// The mode's boxed future.
    type Fut<'a, T: 'a>: Future<Output = T> + 'a;

    /// The shared-poller mode (its `close` keeps the fd until the last handle goes).
    const SHARED: bool;

    /// The mode's clock, sleep and scope deadlines.
    type Clock: crate::level::Clock;

    /// Sends all of `buf` (a stream) or `buf` as one datagram.
    fn send<'a>(&'a self, buf: &'a [u8], cut: crate::plan::Cut) -> Self::Fut<'a, Outcome>;

    /// One receive (one datagram).
    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: crate::plan::Cut) -> Self::Fut<'a, Outcome>;

    /// Exactly `buf.len()` bytes (streams).
    fn recvn<'a>(&'a self, buf: &'a mut [u8], cut: crate::plan::Cut) -> Self::Fut<'a, Outcome>;

    /// Waits until a read would not block (loop-mode streams; else `Unsupported`).
    fn readable(&self, cut: crate::plan::Cut) -> Self::Fut<'_, Outcome>;

    /// The mode's sleep.
    fn pause(ms: u64) -> Self::Fut<'static, ()>;

    /// Suspends the running thread until resumed (loop mode; else a no-op).
    fn suspend() -> Self::Fut<'static, ()>;

    /// Shuts a stream down (a write half's `Write` shutdown also drops the half).
    fn shutdown(&self, how: Shutdown) -> sock::Result<()>;

    /// Shuts writing down at the end of the plan: through the I/O traits' `close` or
    /// `shutdown` for those vias (whole streams), else [`shutdown`](Endpoint::shutdown).
    fn close_write(&self, via: crate::plan::Via) -> Self::Fut<'_, sock::Result<()>>;

    /// The reader's and the writer's endpoint: the read and write halves
    /// (`into_split`) of a stream, two handles of a datagram socket.
    fn into_halves(self) -> (Self, Self);

    /// Closes the socket for every handle.
    fn close(&self);

    /// Whether it was closed.
    fn is_closed(&self) -> bool;

    /// Sets an option by name.
    fn setopt(&self, name: &str, value: OptValue) -> sock::Result<()>;

    /// Reads an option by name.
    fn getopt(&self, name: &str) -> sock::Result<OptValue>;
}

/// Awaits `op` as `how` says: to the end, or dropped when `race` (a sleep) finishes
/// first, or after one poll. A dropped operation reports `progress(&op)` bytes.
pub(crate) async fn cancel<O, T>(
    op: O,
    how: Cancel,
    race: impl Future<Output = ()>,
    progress: impl Fn(&O) -> usize,
    size: impl Fn(&T) -> usize,
) -> Outcome
where
    O: Future<Output = sock::Result<T>>,
{
    let mut op = pin!(op);
    let mut race = pin!(race);
    let once = how == Cancel::PollOnce;
    poll_fn(|cx| {
        if let Poll::Ready(r) = op.as_mut().poll(cx) {
            return Poll::Ready(Outcome::of(r, &size));
        }
        let give_up = match how {
            Cancel::Never => false,
            Cancel::PollOnce => once,
            Cancel::Race(_) => race.as_mut().poll(cx).is_ready(),
        };
        match give_up {
            true => Poll::Ready(Outcome::Dropped(progress(&op))),
            false => Poll::Pending,
        }
    })
    .await
}

/// The race's sleep length of `how`, in ms (0 when there is no race).
pub(crate) fn race_ms(how: Cancel) -> u64 {
    match how {
        Cancel::Race(ms) => u64::from(ms),
        _ => 0,
    }
}

/// The datagram endpoint's operations, the same in both modes: written once here and
/// expanded inside each mode's `impl Endpoint`, where `drive` and `unsupported` are the
/// mode's own and `self.sock`/`self.to` its socket and destination.
macro_rules! dgram_ops {
    () => {
        fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> Self::Fut<'a, Outcome> {
            match &self.to {
                Some(to) => Box::pin(drive(self.sock.send_to(buf, to), cut, |&n| n)),
                None => Box::pin(drive(self.sock.send(buf), cut, |&n| n)),
            }
        }

        fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> Self::Fut<'a, Outcome> {
            Box::pin(drive(self.sock.recv(buf), cut, |&n| n))
        }

        fn recvn<'a>(&'a self, _buf: &'a mut [u8], _cut: Cut) -> Self::Fut<'a, Outcome> {
            Box::pin(unsupported())
        }

        fn readable(&self, _cut: Cut) -> Self::Fut<'_, Outcome> {
            Box::pin(unsupported())
        }

        fn shutdown(&self, _how: Shutdown) -> sock::Result<()> {
            Err(sock::Error::from(ErrorKind::Unsupported))
        }

        fn close_write(&self, _via: Via) -> Self::Fut<'_, sock::Result<()>> {
            Box::pin(std::future::ready(self.shutdown(Shutdown::Write)))
        }

        fn into_halves(self) -> (Self, Self) {
            (self.clone(), self)
        }
    };
}

pub(crate) use dgram_ops;

//! The copy operations: [`Copy`] (one way) and [`CopyBidirectional`] (both ways, each
//! direction a [`Pump`] of its own, polled in turn by the one task awaiting the copy).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Copied;
use super::idle::Idle;
use super::pump::{DEFAULT_BUFFER, Pump, Step};
use crate::error::{Error, Result};
use crate::op::Op;
use crate::socket::Core;

/// [`copy`](super::copy): every byte from a reader to a writer, then the EOF.
///
/// An [`Op`]: `.timeout(d)`/`.expires(t)` bound the whole copy, and
/// [`Error::transferred`] says how many bytes were written before a failure. Await it
/// through `&mut` to read [`copied`](Copy::copied) after a failure too.
///
/// # Examples
///
/// See [`copy`](super::copy).
#[must_use = "futures do nothing unless awaited"]
pub struct Copy<'a> {
    /// The one direction, with the two sockets' waiters.
    pump: Pump<'a>,
    /// The idle deadline, if any.
    idle: Option<Idle>,
}

impl<'a> Copy<'a> {
    /// A copy from `from` to `to`.
    pub(crate) fn new(from: &'a Core, to: &'a Core) -> Copy<'a> {
        Copy {
            pump: Pump::new(DEFAULT_BUFFER, from, to),
            idle: None,
        }
    }

    /// Fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) once no byte has
    /// been read or written for `limit` (a silent peer), whatever the whole copy's
    /// deadline.
    ///
    /// # Examples
    ///
    /// See [`copy_bidirectional`](super::copy_bidirectional).
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.idle = Some(Idle::new(limit));
        self
    }

    /// The size of the buffer (allocated once, on the first poll); 64 KiB unless set.
    ///
    /// # Panics
    ///
    /// If `size` is 0, or the copy was already polled.
    ///
    /// # Examples
    ///
    /// See [`copy`](super::copy).
    pub fn buffer_size(mut self, size: usize) -> Self {
        self.pump.set_size(size);
        self
    }

    /// Leaves the writer open at the reader's EOF instead of shutting its writing
    /// direction down (tokio's `copy` does not forward the EOF; sock's does unless
    /// told so).
    ///
    /// # Examples
    ///
    /// See [`copy`](super::copy).
    pub fn keep_open(mut self) -> Self {
        self.pump.set_forward_eof(false);
        self
    }

    /// Bytes written so far (after the copy ended, in success or failure, all of them).
    ///
    /// # Examples
    ///
    /// See [`copy`](super::copy).
    pub fn copied(&self) -> u64 {
        self.pump.moved()
    }

    /// The error of a failed step, with what failed and the bytes moved.
    fn fail(&self, (step, e): (Step, Error)) -> Error {
        let moved = usize::try_from(self.copied()).unwrap_or(usize::MAX);
        e.context(format!("copy: {}", step.name()))
            .with_transferred(moved)
    }
}

impl Future for Copy<'_> {
    type Output = Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<u64>> {
        let this = &mut *self;
        let r = this.pump.poll(cx);
        let progressed = this.pump.take_progress();
        match r {
            Poll::Ready(Ok(())) => return Poll::Ready(Ok(this.copied())),
            Poll::Ready(Err(failed)) => return Poll::Ready(Err(this.fail(failed))),
            Poll::Pending => {}
        }
        poll_idle(&mut this.idle, progressed, cx)
            .map(|e| Err(e.context("copy").with_transferred(this.transferred())))
    }
}

impl Op for Copy<'_> {
    type Timer = sock_sched::Sleep;

    fn transferred(&self) -> usize {
        usize::try_from(self.copied()).unwrap_or(usize::MAX)
    }

    fn name(&self) -> &'static str {
        "copy"
    }
}

/// [`copy_bidirectional`](super::copy_bidirectional): both ways at once, each EOF
/// forwarded, until both directions are done.
///
/// An [`Op`]: `.timeout(d)`/`.expires(t)` bound the whole copy, and
/// [`Error::transferred`] is the bytes moved both ways before a failure; await it
/// through `&mut` to read [`copied`](CopyBidirectional::copied), each way, after a
/// failure too.
///
/// # Examples
///
/// See [`copy_bidirectional`](super::copy_bidirectional).
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBidirectional<'a> {
    /// From `a` to `b` (a's read waiter, b's write waiter).
    a_to_b: Pump<'a>,
    /// From `b` to `a` (b's read waiter, a's write waiter).
    b_to_a: Pump<'a>,
    /// The idle deadline, if any.
    idle: Option<Idle>,
}

impl<'a> CopyBidirectional<'a> {
    /// A copy between `a` and `b`.
    pub(crate) fn new(a: &'a Core, b: &'a Core) -> CopyBidirectional<'a> {
        CopyBidirectional {
            a_to_b: Pump::new(DEFAULT_BUFFER, a, b),
            b_to_a: Pump::new(DEFAULT_BUFFER, b, a),
            idle: None,
        }
    }

    /// Fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) once no byte has
    /// moved either way for `limit`, whatever the whole copy's deadline.
    ///
    /// # Examples
    ///
    /// See [`copy_bidirectional`](super::copy_bidirectional).
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.idle = Some(Idle::new(limit));
        self
    }

    /// The size of each direction's buffer (allocated once, on the first poll); 64 KiB
    /// unless set.
    ///
    /// # Panics
    ///
    /// If `size` is 0, or the copy was already polled.
    ///
    /// # Examples
    ///
    /// See [`copy_bidirectional`](super::copy_bidirectional).
    pub fn buffer_size(mut self, size: usize) -> Self {
        self.a_to_b.set_size(size);
        self.b_to_a.set_size(size);
        self
    }

    /// Bytes moved each way so far (after the copy ended, in success or failure, all
    /// of them).
    ///
    /// # Examples
    ///
    /// See [`copy_bidirectional`](super::copy_bidirectional).
    pub fn copied(&self) -> Copied {
        Copied {
            a_to_b: self.a_to_b.moved(),
            b_to_a: self.b_to_a.moved(),
        }
    }

    /// Polls one direction unless it is done; `Err` if it failed.
    fn poll_pump(&mut self, cx: &mut Context<'_>, a_to_b: bool) -> Result<()> {
        let (pump, way) = match a_to_b {
            true => (&mut self.a_to_b, "a->b"),
            false => (&mut self.b_to_a, "b->a"),
        };
        match pump.poll(cx) {
            Poll::Ready(Err((step, e))) => {
                let e = e.context(format!("copy {way}: {}", step.name()));
                Err(e.with_transferred(self.transferred()))
            }
            _ => Ok(()),
        }
    }
}

impl Future for CopyBidirectional<'_> {
    type Output = Result<Copied>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Copied>> {
        let this = &mut *self;
        this.poll_pump(cx, true)?;
        this.poll_pump(cx, false)?;
        if this.a_to_b.is_done() && this.b_to_a.is_done() {
            return Poll::Ready(Ok(this.copied()));
        }
        let progressed = this.a_to_b.take_progress() | this.b_to_a.take_progress();
        poll_idle(&mut this.idle, progressed, cx).map(|e| {
            let e = e.context("copy_bidirectional");
            Err(e.with_transferred(this.transferred()))
        })
    }
}

impl Op for CopyBidirectional<'_> {
    type Timer = sock_sched::Sleep;

    fn transferred(&self) -> usize {
        let Copied { a_to_b, b_to_a } = self.copied();
        usize::try_from(a_to_b.saturating_add(b_to_a)).unwrap_or(usize::MAX)
    }

    fn name(&self) -> &'static str {
        "copy_bidirectional"
    }
}

/// A copy awaited through `&mut` is an operation too, so a deadline can bound it and
/// the copy stays there to say what it moved.
impl Op for &mut Copy<'_> {
    type Timer = sock_sched::Sleep;

    fn transferred(&self) -> usize {
        (**self).transferred()
    }

    fn name(&self) -> &'static str {
        "copy"
    }
}

/// See the `impl Op for &mut Copy`.
impl Op for &mut CopyBidirectional<'_> {
    type Timer = sock_sched::Sleep;

    fn transferred(&self) -> usize {
        (**self).transferred()
    }

    fn name(&self) -> &'static str {
        "copy_bidirectional"
    }
}

/// The idle deadline of a copy that is waiting: notes a move, then polls the timer.
fn poll_idle(idle: &mut Option<Idle>, progressed: bool, cx: &mut Context<'_>) -> Poll<Error> {
    let Some(idle) = idle else {
        return Poll::Pending;
    };
    if progressed {
        idle.touch();
    }
    idle.poll(cx)
}

impl std::fmt::Debug for Copy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copy")
            .field("copied", &self.copied())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CopyBidirectional<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyBidirectional")
            .field("copied", &self.copied())
            .finish_non_exhaustive()
    }
}

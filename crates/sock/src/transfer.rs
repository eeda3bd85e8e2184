//! Whole transfers made of several syscalls — `send` (every byte), `recvn` (a full
//! buffer), a `WAITALL` receive (a full buffer or the peer's end) — written once for
//! both threading modes.
//!
//! Each mode supplies one *step* ([`Step`]): a poll of one syscall's worth over the
//! rest of the buffer, waits and fairness included (the loop mode's `Waiter`, over
//! `Core::poll_stream`; the shared mode's `Parking`). The loops here count what moved,
//! so an error (and a deadline's timeout, through
//! [`Op::transferred`](crate::Op::transferred)) says how many bytes went, and a peer
//! that ends a `recvn` early is the same error in both modes. [`SendAll`] and
//! [`RecvN`] are the two operations, one type each for both modes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::error::{Error, ErrorKind, Result};
use crate::op::Op;
use crate::timer::ModeTimer;

/// One syscall's worth of a stream transfer in one mode, parking on would-block: the
/// waiter registration of one direction of one socket.
pub(crate) trait Step: Unpin {
    /// The mode's timer, for the operations' deadlines.
    type Timer: ModeTimer;

    /// Sends some of `buf`.
    fn poll_send(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>>;

    /// Receives into `buf`; `Ok(0)` when the peer ended its side.
    fn poll_recv(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>>;
}

/// `send`: every byte of `buf`, across as many syscalls and waits as it takes.
pub(crate) struct SendAll<'a, S> {
    /// The write side's step.
    step: S,
    /// What to send.
    buf: &'a [u8],
    /// Bytes of `buf` sent so far.
    sent: usize,
}

impl<'a, S: Step> SendAll<'a, S> {
    pub(crate) fn new(step: S, buf: &'a [u8]) -> SendAll<'a, S> {
        SendAll { step, buf, sent: 0 }
    }
}

impl<S: Step> Future for SendAll<'_, S> {
    type Output = Result<()>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        let step = &mut this.step;
        poll_send_all(cx, this.buf, &mut this.sent, |cx, rest| {
            step.poll_send(cx, rest)
        })
    }
}

impl<S: Step> Op for SendAll<'_, S> {
    type Timer = S::Timer;

    fn name(&self) -> &'static str {
        "send"
    }

    fn transferred(&self) -> usize {
        self.sent
    }
}

/// `recvn`: exactly `buf.len()` bytes.
pub(crate) struct RecvN<'a, S> {
    /// The read side's step.
    step: S,
    /// What to fill.
    buf: &'a mut [u8],
    /// Bytes of `buf` filled so far.
    got: usize,
}

impl<'a, S: Step> RecvN<'a, S> {
    pub(crate) fn new(step: S, buf: &'a mut [u8]) -> RecvN<'a, S> {
        RecvN { step, buf, got: 0 }
    }
}

impl<S: Step> Future for RecvN<'_, S> {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = &mut *self;
        let step = &mut this.step;
        poll_fill(cx, this.buf, &mut this.got, |cx, rest| {
            step.poll_recv(cx, rest)
        })
    }
}

impl<S: Step> Op for RecvN<'_, S> {
    type Timer = S::Timer;

    fn name(&self) -> &'static str {
        "recvn"
    }

    fn transferred(&self) -> usize {
        self.got
    }
}

/// Sends all of `buf`, `*sent` bytes of which are gone already.
#[inline(always)]
fn poll_send_all(
    cx: &mut Context<'_>,
    buf: &[u8],
    sent: &mut usize,
    mut step: impl FnMut(&mut Context<'_>, &[u8]) -> Poll<Result<usize>>,
) -> Poll<Result<()>> {
    while *sent < buf.len() {
        match ready!(step(cx, &buf[*sent..])) {
            Ok(n) => *sent += n,
            Err(e) => return Poll::Ready(Err(e.with_transferred(*sent))),
        }
    }
    Poll::Ready(Ok(()))
}

/// Fills `buf`, `*got` bytes of which have arrived already; a peer that ends its side
/// first is [`ErrorKind::Eof`] with the bytes that came.
fn poll_fill(
    cx: &mut Context<'_>,
    buf: &mut [u8],
    got: &mut usize,
    mut step: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<Result<usize>>,
) -> Poll<Result<()>> {
    while *got < buf.len() {
        match ready!(step(cx, &mut buf[*got..])) {
            Ok(0) => {
                let e = Error::new(ErrorKind::Eof, "the peer closed before all bytes arrived");
                return Poll::Ready(Err(e.with_transferred(*got)));
            }
            Ok(n) => *got += n,
            Err(e) => return Poll::Ready(Err(e.with_transferred(*got))),
        }
    }
    Poll::Ready(Ok(()))
}

/// One receive into `buf[*got..]`, or with `waitall` receives until `buf` is full or
/// the peer ended its side: the bytes received (`Ok(0)` only for an ended peer and
/// nothing received).
pub(crate) fn poll_receive(
    cx: &mut Context<'_>,
    buf: &mut [u8],
    got: &mut usize,
    waitall: bool,
    mut step: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<Result<usize>>,
) -> Poll<Result<usize>> {
    loop {
        match ready!(step(cx, &mut buf[*got..])) {
            Ok(0) => return Poll::Ready(Ok(*got)),
            Ok(n) => *got += n,
            Err(e) => return Poll::Ready(Err(e.with_transferred(*got))),
        }
        if !waitall || *got == buf.len() {
            return Poll::Ready(Ok(*got));
        }
    }
}

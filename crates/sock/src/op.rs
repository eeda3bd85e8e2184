//! Operation futures and absolute deadlines: `s.recv(&mut buf).expires(t).await`.
//!
//! Every blocking socket call returns a future implementing [`Op`], which can say how
//! many bytes it has moved so far. [`Expires`] wraps any `Op` with an absolute deadline
//! (the seed's `expires`): the timer is created only if the operation actually parks, and
//! on expiry the operation is dropped — which forgets its waiter, so nothing stays
//! registered — and fails with [`ErrorKind::Timeout`] carrying the bytes already moved.
//! The socket stays usable.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock_poll::Direction;

use crate::error::{Error, ErrorKind, Result};
use crate::socket::Core;

/// A socket operation: a future that knows how many bytes it has moved so far.
pub trait Op: Future {
    /// Bytes sent or received so far (0 for operations that move no bytes).
    fn transferred(&self) -> usize {
        0
    }
}

/// Adds deadlines to every [`Op`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{Expires, ErrorKind, Family};
///
/// sock::run(async {
///     let udp = sock::udp(Family::INET)?;
///     udp.bind("127.0.0.1", 0)?;
///     let mut buf = [0u8; 16];
///     // Nobody sends: the receive gives up after 10 ms.
///     let err = udp.recv(&mut buf).timeout(Duration::from_millis(10)).await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::Timeout);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
pub trait Expires: Op + Sized {
    /// Fails with [`ErrorKind::Timeout`] if not done by the absolute time `deadline`
    /// (the seed's `expires`). A deadline already past still lets an operation that can
    /// complete without waiting complete.
    fn expires(self, deadline: Instant) -> Deadline<Self> {
        Deadline {
            op: Box::pin(self),
            deadline,
            timer: None,
        }
    }

    /// Fails with [`ErrorKind::Timeout`] if not done within `d` from now.
    fn timeout(self, d: Duration) -> Deadline<Self> {
        let deadline = crate::clock().checked_add(d).unwrap_or_else(far_future);
        self.expires(deadline)
    }

    /// Like [`expires`](Expires::expires), with no deadline for `None`.
    fn expires_opt(self, deadline: Option<Instant>) -> Deadline<Self> {
        self.expires(deadline.unwrap_or_else(far_future))
    }
}

impl<T: Op> Expires for T {}

fn far_future() -> Instant {
    crate::clock() + Duration::from_secs(86_400 * 365 * 30)
}

/// An [`Op`] with a deadline; see [`Expires`].
#[must_use = "futures do nothing unless awaited"]
pub struct Deadline<O: Op> {
    op: Pin<Box<O>>,
    deadline: Instant,
    timer: Option<Pin<Box<sock_sched::Sleep>>>,
}

impl<O, T> Future for Deadline<O>
where
    O: Op<Output = Result<T>>,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Poll::Ready(r) = self.op.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(sock_sched::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let moved = self.op.transferred();
                Poll::Ready(Err(Error::from(ErrorKind::Timeout).with_transferred(moved)))
            }
        }
    }
}

impl<O, T> Op for Deadline<O>
where
    O: Op<Output = Result<T>>,
{
    fn transferred(&self) -> usize {
        self.op.transferred()
    }
}

/// A single-syscall operation (recv, send of a datagram, accept, …): retries `f` until
/// it does not block. Forgets its waiter when dropped while parked.
pub(crate) struct IoOp<'a, F> {
    core: &'a Core,
    dir: Direction,
    f: F,
    parked: bool,
}

impl<'a, F> IoOp<'a, F> {
    pub(crate) fn new(core: &'a Core, dir: Direction, f: F) -> IoOp<'a, F> {
        IoOp {
            core,
            dir,
            f,
            parked: false,
        }
    }
}

impl<F, T> Future for IoOp<'_, F>
where
    F: FnMut(socket2::SockRef<'_>) -> std::io::Result<T> + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        let r = this.core.poll_io(this.dir, cx, &mut this.f);
        this.parked = r.is_pending();
        r
    }
}

impl<F, T> Op for IoOp<'_, F> where F: FnMut(socket2::SockRef<'_>) -> std::io::Result<T> + Unpin {}

impl<F> Drop for IoOp<'_, F> {
    fn drop(&mut self) {
        if self.parked {
            self.core.clear_waiter(self.dir);
        }
    }
}

//! What the sockets of the shared-poller mode ([`SharedTcp`](super::SharedTcp),
//! [`SharedUdp`](super::SharedUdp)) share: opening one in a loop's poller, the parked
//! wait of one direction, and the operation futures that take a deadline.
//!
//! An operation is a [`SharedOp`]: `s.recv(&mut buf).expires(t).await`. The deadline's
//! timer is one of the worker running the task; an operation it cuts short forgets its
//! waiter, and the backends keep what the kernel finishes later for the next operation.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use sock_addr::Family;
use sock_sched::{coop, mt};

use super::shared::SharedLoop;
use super::sys::{self, Dir};
use crate::error::{Error, ErrorKind, Result};
use crate::scope::{self, Mode};

/// A new socket of `family`, `ty` and `protocol`, registered in `lp`'s poller
/// (datagram sockets get the loop mode's UDP setup first: no ICMP resets on Windows).
pub(super) fn open_io(
    lp: &SharedLoop,
    family: Family,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> Result<sys::SharedIo> {
    let domain = socket2::Domain::from(family.as_raw());
    let socket = sys::new_socket(domain, ty, protocol)?;
    if ty == socket2::Type::DGRAM {
        crate::sys::prepare_udp(&socket)?;
    }
    Ok(sys::SharedIo::register(socket, lp.poller(), lp.table())?)
}

/// The registration of one operation as the waiter of one direction: the waker it
/// parked with, if it is parked.
///
/// A future may be polled by one task and then moved to another (polled once in A,
/// awaited in B), so when the operation that parked polls again from another task its
/// registration moves there; a *different* operation of another task still meets the
/// backend's "two tasks wait" panic. Dropped while parked, it forgets its own waiter,
/// never one another task's operation registered since (waiters are told apart by
/// task, `Waker::will_wake`, as the backends' panic does). Keeping the waker costs one
/// clone per park.
pub(super) struct Parking<'a> {
    /// The socket.
    io: &'a sys::SharedIo,
    /// The direction the operation waits on.
    dir: Dir,
    /// The waker the operation parked with; `None` while it is not parked.
    waker: Option<Waker>,
}

impl<'a> Parking<'a> {
    pub(super) fn new(io: &'a sys::SharedIo, dir: Dir) -> Parking<'a> {
        Parking {
            io,
            dir,
            waker: None,
        }
    }

    /// Polls the operation `f` for the task of `cx`, moving the registration to that
    /// task first if the operation parked in another.
    pub(super) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&'a sys::SharedIo, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if let Some(old) = &self.waker {
            if !old.will_wake(cx.waker()) {
                self.io.rewait(self.dir, old, cx.waker());
                self.waker = None;
            }
        }
        let r = f(self.io, cx);
        if r.is_ready() {
            self.waker = None;
        } else {
            check_worker();
            if self.waker.is_none() {
                self.waker = Some(cx.waker().clone());
                super::count_parked();
            }
        }
        r
    }
}

/// Panics unless this thread is a worker of a shared loop: only its workers take the
/// shared poller's events, so a task parked anywhere else would hang silently.
fn check_worker() {
    if !mt::is_worker() {
        panic!(
            "sock: a SharedTcp or SharedUdp was awaited outside a worker of its SharedLoop \
             (in a loop-mode task or another executor); its events come only to the loop's \
             workers: await it in a task of that SharedLoop (SharedLoop::spawn or run)"
        );
    }
}

impl Drop for Parking<'_> {
    fn drop(&mut self) {
        if let Some(waker) = &self.waker {
            self.io.clear_waiter(self.dir, waker);
        }
    }
}

/// A parked wait on one direction: polls `f` until it does not block; forgets its
/// waiter if dropped while parked.
pub(super) struct IoWait<'a, F> {
    /// The socket, and the waiter registration.
    parking: Parking<'a>,
    /// One try of the operation.
    f: F,
}

impl<'a, F> IoWait<'a, F> {
    pub(super) fn new<T>(io: &'a sys::SharedIo, dir: Dir, f: F) -> Self
    where
        F: FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>> + Unpin,
    {
        IoWait {
            parking: Parking::new(io, dir),
            f,
        }
    }
}

impl<F, T> Future for IoWait<'_, F>
where
    F: FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>> + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if scope::mode() == Mode::Normal && !coop::spend(cx) {
            return Poll::Pending;
        }
        let this = &mut *self;
        let f = &mut this.f;
        this.parking.poll(cx, |io, cx| f(io, cx))
    }
}

/// An operation of a [`SharedTcp`](crate::SharedTcp) or a
/// [`SharedUdp`](crate::SharedUdp): a future that can take a deadline.
///
/// # Examples
///
/// See [`SharedLoop`].
#[must_use = "futures do nothing unless awaited"]
pub struct SharedOp<O> {
    /// The operation.
    op: O,
}

/// An operation made of several steps (accept and register, connect to each address,
/// receive once, one datagram); it moves no bytes that a timeout would have to report.
///
/// # Examples
///
/// See [`SharedOp::expires`] (an `accept`, one of these, timing out).
pub struct SharedFuture<'a, T>(Pin<Box<dyn Future<Output = T> + Send + 'a>>);

/// Wraps an async operation.
pub(super) fn boxed<'a, T>(
    f: impl Future<Output = T> + Send + 'a,
) -> SharedOp<SharedFuture<'a, T>> {
    SharedOp::new(SharedFuture(Box::pin(f)))
}

impl<T> fmt::Debug for SharedFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFuture").finish_non_exhaustive()
    }
}

impl<T> Future for SharedFuture<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.0.as_mut().poll(cx)
    }
}

/// What a shared operation has moved so far (for timeouts).
///
/// # Examples
///
/// See [`transferred`](SharedProgress::transferred).
pub trait SharedProgress {
    /// Bytes moved so far: what the [`ErrorKind::Timeout`] of a
    /// [`SharedDeadline`] reports as [`Error::transferred`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::time::Duration;
    /// use sock::{Family, SharedLoop, SharedTcp};
    ///
    /// let lp = SharedLoop::new()?;
    /// let (got, moved) = lp.run(async {
    ///     let server = SharedTcp::new(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = SharedTcp::new(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"half").await?; // 4 of the 8 bytes the server waits for
    ///     let mut buf = [0u8; 8];
    ///     let err = conn.recvn(&mut buf).timeout(Duration::from_millis(20)).await.unwrap_err();
    ///     Ok::<_, sock::Error>((buf, err.transferred()))
    /// })?;
    /// assert_eq!((&got[..4], moved), (&b"half"[..], 4));
    /// # Ok::<(), sock::Error>(())
    /// ```
    fn transferred(&self) -> usize {
        0
    }
}

impl<T> SharedProgress for SharedFuture<'_, T> {}

impl<O> SharedOp<O> {
    pub(super) fn new(op: O) -> SharedOp<O> {
        SharedOp { op }
    }
}

impl<O: Future + Unpin> SharedOp<O> {
    /// Fails with [`ErrorKind::Timeout`] (carrying the bytes moved) if not done by
    /// `deadline`; the timer is one of the running worker's.
    ///
    /// # Examples
    ///
    /// ```
    /// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
    /// use std::time::Duration;
    ///
    /// let lp = sock::SharedLoop::new()?;
    /// let kind = lp.run(async {
    ///     let server = sock::SharedTcp::new(sock::Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let err = server.accept().timeout(Duration::from_millis(5)).await.unwrap_err();
    ///     Ok::<_, sock::Error>(err.kind())
    /// })?;
    /// assert_eq!(kind, sock::ErrorKind::Timeout);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn expires(self, deadline: Instant) -> SharedDeadline<O> {
        SharedDeadline {
            op: self.op,
            sleep: Box::pin(mt::sleep_until(deadline)),
            deadline,
        }
    }

    /// Fails with [`ErrorKind::Timeout`] if not done within `d` from now.
    ///
    /// # Examples
    ///
    /// See [`expires`](SharedOp::expires).
    pub fn timeout(self, d: Duration) -> SharedDeadline<O> {
        self.expires(Instant::now() + d)
    }
}

impl<O: Future + Unpin> Future for SharedOp<O> {
    type Output = O::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O::Output> {
        Pin::new(&mut self.op).poll(cx)
    }
}

/// A [`SharedOp`] with a deadline.
///
/// # Examples
///
/// See [`SharedOp::expires`].
#[must_use = "futures do nothing unless awaited"]
pub struct SharedDeadline<O> {
    /// The operation.
    op: O,
    /// The timer (armed on first poll, only if the operation parks).
    sleep: Pin<Box<mt::Sleep>>,
    /// When it gives up.
    deadline: Instant,
}

impl<O, T> Future for SharedDeadline<O>
where
    O: Future<Output = Result<T>> + SharedProgress + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Poll::Ready(r) = Pin::new(&mut self.op).poll(cx) {
            return Poll::Ready(r);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // As in loop mode: one last try past the deadline, whatever the fairness budget
        // says, so a ready operation completes and a timeout means "would block".
        let op = &mut self.op;
        if let Poll::Ready(r) = scope::with_mode(Mode::LastTry, || Pin::new(&mut *op).poll(cx)) {
            return Poll::Ready(r);
        }
        let moved = self.op.transferred();
        crate::metrics::deadline_expired("shared operation");
        let err = Error::from(ErrorKind::Timeout).with_transferred(moved);
        Poll::Ready(Err(err))
    }
}

impl<O> fmt::Debug for SharedDeadline<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedDeadline")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<O> fmt::Debug for SharedOp<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedOp").finish_non_exhaustive()
    }
}

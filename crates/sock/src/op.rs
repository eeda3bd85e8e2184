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
use crate::scope::{self, Mode, Timed};
use crate::socket::{Core, Waiter};
use crate::timer::ModeTimer;

/// A socket operation: a future that knows how many bytes it has moved so far.
///
/// # Examples
///
/// See [`Expires`] (every `Op` can take a deadline) and [`transferred`](Op::transferred).
pub trait Op: Future {
    /// The timer a deadline on this operation arms if it waits: [`sock::time::Sleep`](crate::time::Sleep)
    /// for the loop mode's operations (the thread's loop fires it), `sock::sched::mt::Sleep`
    /// for the shared-poller mode's (the worker running the task fires it, and the
    /// operation stays `Send`). Both read their mode's clock.
    type Timer: ModeTimer;

    /// Bytes sent or received so far (0 for operations that move no bytes); a timeout
    /// reports it as [`Error::transferred`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::{Expires, Family};
    ///
    /// sock::run(async {
    ///     let server = sock::tcp(Family::INET)?;
    ///     server.listen("127.0.0.1", 0)?;
    ///     let client = sock::tcp(Family::INET)?;
    ///     client.connect_to(&server.local_addr()?).await?;
    ///     let conn = server.accept().await?;
    ///     client.send(b"half").await?; // 4 of the 8 bytes asked for
    ///     let mut buf = [0u8; 8];
    ///     let err = conn.recvn(&mut buf).timeout(Duration::from_millis(20)).await.unwrap_err();
    ///     assert_eq!((err.transferred(), &buf[..4]), (4, &b"half"[..]));
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    fn transferred(&self) -> usize {
        0
    }

    /// The operation's name (`"recv"`, `"connect"`, …), for its errors.
    fn name(&self) -> &'static str {
        "operation"
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
    /// complete without waiting complete: before failing, the operation asks the OS one
    /// last time, whatever the readiness hints and the fairness budget say, so a
    /// `Timeout` means the OS answered "would block" at the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::{ErrorKind, Expires, Family};
    ///
    /// sock::run(async {
    ///     let udp = sock::udp(Family::INET)?;
    ///     udp.bind("127.0.0.1", 0)?;
    ///     udp.send_to(b"to self", &udp.local_addr()?).await?;
    ///     let mut buf = [0u8; 16];
    ///     // Already past, yet the datagram waiting in the queue is received.
    ///     assert_eq!(udp.recv(&mut buf).expires(sock::clock()).await?, 7);
    ///     let deadline = sock::clock() + Duration::from_millis(10);
    ///     let err = udp.recv(&mut buf).expires(deadline).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Timeout);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    fn expires(self, deadline: Instant) -> Deadline<Self> {
        Deadline {
            op: self,
            timed: Timed::new(deadline),
        }
    }

    /// Fails with [`ErrorKind::Timeout`] if not done within `d` from now.
    ///
    /// # Examples
    ///
    /// See [`Expires`].
    fn timeout(self, d: Duration) -> Deadline<Self> {
        let now = Self::Timer::now();
        self.expires(now.checked_add(d).unwrap_or_else(|| far_future(now)))
    }

    /// Like [`expires`](Expires::expires), with no deadline for `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Expires, Family};
    ///
    /// sock::run(async {
    ///     let udp = sock::udp(Family::INET)?;
    ///     udp.bind("127.0.0.1", 0)?;
    ///     udp.send_to(b"x", &udp.local_addr()?).await?;
    ///     let mut buf = [0u8; 4];
    ///     let no_deadline: Option<std::time::Instant> = None; // e.g. from a config
    ///     assert_eq!(udp.recv(&mut buf).expires_opt(no_deadline).await?, 1);
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    fn expires_opt(self, deadline: Option<Instant>) -> Deadline<Self> {
        self.expires(deadline.unwrap_or_else(|| far_future(Self::Timer::now())))
    }
}

impl<T: Op> Expires for T {}

/// An instant so far after `now` that it never comes (for overflowing durations).
pub(crate) fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365 * 30)
}

/// An [`Op`] with a deadline; see [`Expires`].
///
/// # Examples
///
/// See [`Expires::expires`].
#[must_use = "futures do nothing unless awaited"]
pub struct Deadline<O: Op> {
    /// The operation, pinned with the `Deadline` (structurally: never moved out,
    /// dropped in place; `Deadline` has no `Drop` and no manual `Unpin`).
    op: O,
    /// Its deadline and timer (not pinned).
    timed: Timed<O::Timer>,
}

impl<O, T> Future for Deadline<O>
where
    O: Op<Output = Result<T>>,
{
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // SAFETY: `op` is structurally pinned (see the field): it is only reached as
        // `Pin<&mut O>` and never moved; `timed` is not pinned and `Unpin`.
        let (mut op, timed) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.op), &mut this.timed)
        };
        // Past the deadline the operation gets one last try that asks the OS whatever
        // the readiness hint and the fairness budget say, so an operation that can
        // complete without waiting completes, and a timeout means "would block".
        match timed.poll(cx, Mode::LastTry, |cx| op.as_mut().poll(cx)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(r)) => Poll::Ready(r),
            Poll::Ready(None) => {
                let (moved, name) = (op.transferred(), op.name());
                crate::metrics::deadline_expired(name);
                let err = Error::from(ErrorKind::Timeout).context(name);
                Poll::Ready(Err(err.with_transferred(moved)))
            }
        }
    }
}

/// An operation that is a poll-level call (e.g. `writable`): it keeps no waiter of its
/// own (the socket's poll-level claim does).
pub(crate) struct PollOp<F>(pub(crate) F);

impl<F, T> Future for PollOp<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Result<T>> + Unpin,
{
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        (self.0)(cx)
    }
}

impl<F, T> Op for PollOp<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Result<T>> + Unpin,
{
    type Timer = sock_sched::Sleep;
    fn name(&self) -> &'static str {
        "writable"
    }
}

/// An operation made of several steps (a lookup, then a connect or a send), boxed; it
/// reports no partial transfer. A loop-mode operation.
pub(crate) struct Boxed<'a, T>(
    pub(crate) &'static str,
    pub(crate) Pin<Box<dyn Future<Output = Result<T>> + 'a>>,
);

impl<T> Future for Boxed<'_, T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.1.as_mut().poll(cx)
    }
}

impl<T> Op for Boxed<'_, T> {
    type Timer = sock_sched::Sleep;
    fn name(&self) -> &'static str {
        self.0
    }
}

/// [`Boxed`] of the shared-poller mode: `Send`, with the worker's timer.
pub(crate) struct SendBoxed<'a, T>(
    pub(crate) &'static str,
    pub(crate) Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>,
);

impl<T> Future for SendBoxed<'_, T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.1.as_mut().poll(cx)
    }
}

impl<T> Op for SendBoxed<'_, T> {
    type Timer = sock_sched::mt::Sleep;
    fn name(&self) -> &'static str {
        self.0
    }
}

/// `$real`, or on an open simulated socket `$sim_op` with `$sim` bound to the
/// simulated socket (`sim/socket.rs`): one [`Either`] type for both; without the `sim`
/// feature, `$real` alone.
macro_rules! sim_or {
    ($core:expr, |$sim:ident| $sim_op:expr, $real:expr) => {{
        #[cfg(feature = "sim")]
        let op = match $core.sim_open() {
            Some($sim) => $crate::op::Either::Right($sim_op),
            None => $crate::op::Either::Left($real),
        };
        #[cfg(not(feature = "sim"))]
        let op = $real;
        op
    }};
}

pub(crate) use sim_or;

/// One of two operations with the same output, picked when the call is made (a send
/// to resolved addresses, or one that looks its address up first).
pub(crate) enum Either<A, B> {
    /// The first kind.
    Left(A),
    /// The second kind.
    Right(B),
}

impl<A, B> Future for Either<A, B>
where
    A: Future + Unpin,
    B: Future<Output = A::Output> + Unpin,
{
    type Output = A::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<A::Output> {
        match self.get_mut() {
            Either::Left(a) => Pin::new(a).poll(cx),
            Either::Right(b) => Pin::new(b).poll(cx),
        }
    }
}

impl<A, B> Op for Either<A, B>
where
    A: Op + Unpin,
    B: Op<Output = A::Output, Timer = A::Timer> + Unpin,
{
    type Timer = A::Timer;
    fn name(&self) -> &'static str {
        match self {
            Either::Left(a) => a.name(),
            Either::Right(b) => b.name(),
        }
    }

    fn transferred(&self) -> usize {
        match self {
            Either::Left(a) => a.transferred(),
            Either::Right(b) => b.transferred(),
        }
    }
}

/// A single-syscall operation (recv, send of a datagram, accept, …): retries `f` until
/// it does not block. Forgets its waiter when dropped while parked.
///
/// With a [`Backoff`] it waits on a timer instead of readiness after `WouldBlock`: for
/// sends whose readiness the kernel does not track (an unconnected unix datagram socket
/// is reported writable whatever the receiver's queue holds, so parking on readiness
/// would spin).
pub(crate) struct IoOp<'a, F> {
    waiter: Waiter<'a>,
    f: F,
    backoff: Option<Backoff>,
    /// What the operation is called in its errors.
    name: &'static str,
}

impl<'a, F> IoOp<'a, F> {
    pub(crate) fn new(core: &'a Core, dir: Direction, f: F) -> IoOp<'a, F> {
        IoOp {
            waiter: Waiter::new(core, dir),
            f,
            backoff: None,
            name: "operation",
        }
    }

    /// The socket the operation is on.
    #[cfg(feature = "sim")]
    pub(crate) fn core(&self) -> &'a Core {
        self.waiter.core
    }

    /// The same operation, called `name` in its errors.
    pub(crate) fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// An operation that retries on a timer (see [`Backoff`]) when `backoff`.
    pub(crate) fn with_backoff(core: &'a Core, dir: Direction, f: F, backoff: bool) -> Self {
        let mut op = IoOp::new(core, dir, f);
        op.backoff = backoff.then(Backoff::default);
        op
    }
}

impl<F, T> Future for IoOp<'_, F>
where
    F: FnMut(socket2::SockRef<'_>) -> std::io::Result<T> + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        match &mut this.backoff {
            None => {
                let Waiter { core, dir, wait } = &mut this.waiter;
                core.poll_io(*dir, cx, wait, &mut this.f)
            }
            Some(backoff) => backoff.poll(this.waiter.core, cx, &mut this.f),
        }
    }
}

impl<F, T> Op for IoOp<'_, F>
where
    F: FnMut(socket2::SockRef<'_>) -> std::io::Result<T> + Unpin,
{
    type Timer = sock_sched::Sleep;
    fn name(&self) -> &'static str {
        self.name
    }
}

/// Retrying a would-block syscall on a timer: 1 ms after the first `WouldBlock`,
/// doubling up to 16 ms ([`next_backoff`]), so a send that readiness cannot wake neither spins
/// nor waits long once the receiver drains.
#[derive(Default)]
pub(crate) struct Backoff {
    /// The armed timer, after a `WouldBlock`.
    sleep: Option<sock_sched::Sleep>,
    /// The wait after the next `WouldBlock`.
    next: Duration,
}

/// The next wait of a timer backoff after `last` (start from `Duration::ZERO`): 1 ms,
/// doubling up to 16 ms. Every place that waits out a condition readiness cannot report
/// uses it: [`Backoff`], a unix connect to a full listener queue, a shared-mode unix
/// datagram send.
pub(crate) fn next_backoff(last: Duration) -> Duration {
    (last * 2).clamp(Duration::from_millis(1), Duration::from_millis(16))
}

impl Backoff {
    fn poll<T>(
        &mut self,
        core: &Core,
        cx: &mut Context<'_>,
        f: impl FnMut(socket2::SockRef<'_>) -> std::io::Result<T>,
    ) -> Poll<Result<T>> {
        let mode = scope::mode();
        if let Some(sleep) = &mut self.sleep {
            if mode == Mode::Normal && Pin::new(sleep).poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        match core.try_now(f) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            r => return Poll::Ready(r.map_err(Error::from)),
        }
        if mode == Mode::Expired {
            return Poll::Ready(Err(scope::expired()));
        }
        self.next = next_backoff(self.next);
        let sleep = self.sleep.insert(sock_sched::sleep(self.next));
        match Pin::new(sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

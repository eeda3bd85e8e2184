//! Scope deadlines: one deadline over every socket operation a future awaits —
//! `sock::timeout(d, async { connect; send; recvn })` — as Trio's cancel scopes and Go's
//! contexts do, for sock's I/O.
//!
//! A [`Scoped`] future polls the future it wraps; while that future is pending it keeps
//! one timer for the scope's deadline. When the timer fires, the scope polls the future
//! once more in *expired* mode: every socket operation polled then asks the OS one last
//! time (ignoring readiness hints and the fairness budget) and, where the OS says "would
//! block", fails with [`ErrorKind::Timeout`] carrying the bytes it had moved, instead of
//! parking — so the future sees the error where it awaited, and its `?` ends it. If the
//! future is still pending after that (it waits on something that is not a socket, a
//! join or a sleep), the scope drops it and fails with `Timeout` itself.
//!
//! Scopes nest: the earliest deadline wins (an inner scope's mode can only escalate the
//! outer one's). An operation's own [`expires`](crate::Expires::expires) still applies
//! inside a scope: whichever deadline comes first ends the operation. Threads spawned
//! inside a scope do not inherit it: they are separate tasks that may outlive it; pass
//! them the deadline if they should share it.
//!
//! The mode is a thread-local set only while the scope polls its future, so an
//! operation reads it with one thread-local access.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock_sched::coop;

use crate::error::{Error, ErrorKind, Result};
use crate::op::far_future;
use crate::timer::ModeTimer;

/// How the operation being polled should treat a would-block result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    /// Trust readiness hints; park on would-block.
    Normal,
    /// An operation's own deadline passed: ask the OS once whatever the hints say,
    /// then park (the [`Deadline`](crate::Deadline) reports the timeout).
    LastTry,
    /// A scope's deadline passed: ask the OS once, and fail with `Timeout` on
    /// would-block instead of parking.
    Expired,
}

thread_local! {
    /// The mode of the operation being polled on this thread.
    static MODE: Cell<Mode> = const { Cell::new(Mode::Normal) };
}

/// The mode of the operation being polled.
#[inline]
pub(crate) fn mode() -> Mode {
    MODE.with(Cell::get)
}

/// Runs `f` in `mode`, or in the outer mode if that is stronger; restores it after
/// (also on unwind).
pub(crate) fn with_mode<R>(mode: Mode, f: impl FnOnce() -> R) -> R {
    struct Restore(Mode);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.with(|m| m.set(self.0));
        }
    }
    let outer = MODE.with(|m| m.replace(mode.max(m.get())));
    let _restore = Restore(outer);
    f()
}

/// A deadline's timer, armed only once the future it bounds waits, and the rule both
/// per-operation deadlines and scopes follow: poll the future; while it waits, poll the
/// timer; once the timer fires, poll the future once more in `mode` (which asks the OS
/// whatever the hints say). `Ready(None)` means the deadline ended it.
pub(crate) struct Timed<S> {
    /// When it gives up.
    pub(crate) deadline: Instant,
    /// Armed on the first poll that waits (the mode's timer; `Unpin`: no box).
    timer: Option<S>,
}

impl<S: ModeTimer> Timed<S> {
    pub(crate) fn new(deadline: Instant) -> Timed<S> {
        Timed {
            deadline,
            timer: None,
        }
    }

    /// See [`Timed`]. Inline, in the caller's codegen unit: an operation that
    /// completes at once (the usual case) costs its own poll and one test.
    #[inline]
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        mode: Mode,
        mut fut: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<Option<T>> {
        if let Poll::Ready(out) = fut(cx) {
            return Poll::Ready(Some(out));
        }
        self.poll_timer(cx, mode, fut)
    }

    /// [`poll`](Timed::poll) once the operation is pending: the timer, and the last
    /// try when it is due.
    #[inline]
    fn poll_timer<T>(
        &mut self,
        cx: &mut Context<'_>,
        mode: Mode,
        mut fut: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<Option<T>> {
        let due = match &mut self.timer {
            Some(timer) => Pin::new(timer).poll(cx).is_ready(),
            // A yield for fairness, not a wait (the task is woken already): no timer,
            // only the clock says whether the deadline has passed.
            None if coop::is_spent() => S::now() >= self.deadline,
            None => Pin::new(self.timer.insert(S::until(self.deadline)))
                .poll(cx)
                .is_ready(),
        };
        if !due {
            return Poll::Pending;
        }
        match with_mode(mode, || fut(cx)) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending => Poll::Ready(None),
        }
    }
}

/// The error of an operation a scope's deadline ended (counted in the loop's metrics).
pub(crate) fn expired() -> Error {
    crate::metrics::deadline_expired("scope");
    Error::new(
        ErrorKind::Timeout,
        "the deadline of the enclosing sock::timeout/deadline scope passed",
    )
}

/// Puts the absolute deadline `t` on every socket operation `fut` awaits (see the
/// module docs): each fails with [`ErrorKind::Timeout`] once `t` has passed, and so
/// does the scope if `fut` is still waiting on something else then.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// sock::run(async {
///     let server = sock::tcp(sock::Family::INET)?;
///     server.listen("127.0.0.1", 0)?;
///     let port = server.local_addr()?.port();
///     let client = sock::tcp(sock::Family::INET)?;
///     let t = sock::clock() + Duration::from_millis(50);
///     // connect + send + receive under one deadline; the server never answers.
///     let err = sock::deadline(t, async {
///         client.connect("127.0.0.1", port).await?;
///         client.send(b"ping").await?;
///         let mut buf = [0u8; 4];
///         client.recvn(&mut buf).await
///     })
///     .await
///     .unwrap_err();
///     assert_eq!(err.kind(), sock::ErrorKind::Timeout);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
pub fn deadline<F, T>(t: Instant, fut: F) -> Scoped<F>
where
    F: Future<Output = Result<T>>,
{
    scoped(t, fut)
}

/// [`deadline`] at `d` from now.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// sock::run(async {
///     let udp = sock::udp(sock::Family::INET)?;
///     udp.bind("127.0.0.1", 0)?;
///     let mut buf = [0u8; 8];
///     let r = sock::timeout(Duration::from_millis(10), async { udp.recv(&mut buf).await }).await;
///     assert_eq!(r.unwrap_err().kind(), sock::ErrorKind::Timeout);
///     Ok::<(), sock::Error>(())
/// })?;
/// # Ok::<(), sock::Error>(())
/// ```
pub fn timeout<F, T>(d: Duration, fut: F) -> Scoped<F>
where
    F: Future<Output = Result<T>>,
{
    let now = crate::clock();
    deadline(now.checked_add(d).unwrap_or_else(|| far_future(now)), fut)
}

/// A future under a scope deadline; see [`deadline`].
///
/// # Examples
///
/// See [`deadline`] and [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Scoped<F, S = sock_sched::Sleep> {
    /// The future the deadline applies to, pinned with the `Scoped` (structurally:
    /// never moved out, dropped in place; `Scoped` has no `Drop` and no manual `Unpin`).
    fut: F,
    /// The scope's deadline and timer (not pinned): the loop's, or with
    /// [`shared::deadline`](crate::shared::deadline) the worker's.
    timed: Timed<S>,
}

/// A scope whose timer is the mode's `S` (see [`ModeTimer`]).
pub(crate) fn scoped<F, S: ModeTimer>(t: Instant, fut: F) -> Scoped<F, S> {
    Scoped {
        fut,
        timed: Timed::new(t),
    }
}

impl<F, T, S> Future for Scoped<F, S>
where
    F: Future<Output = Result<T>>,
    S: ModeTimer,
{
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // SAFETY: `fut` is structurally pinned (see the field): it is only reached as
        // `Pin<&mut F>` and never moved; `timed` is not pinned and `Unpin`.
        let (mut fut, timed) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.fut), &mut this.timed)
        };
        timed
            .poll(cx, Mode::Expired, |cx| fut.as_mut().poll(cx))
            .map(|out| out.unwrap_or_else(|| Err(expired())))
    }
}

impl<F, S> std::fmt::Debug for Scoped<F, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("deadline", &self.timed.deadline)
            .finish_non_exhaustive()
    }
}

//! [`Claims`]: the poll-level calls' hold on a shared socket's waiters, one per
//! direction — the shared-poller mode's form of the loop mode's `Core::poll_level`.
//!
//! A poll-level call (`poll_recv`, `poll_send`, `poll_readable`, …) keeps no future,
//! so the waker it parked with is kept with the socket instead, where every clone and
//! half finds it. A later poll-level call from another task moves that registration to
//! its own task (`SharedIo::rewait`), so the latest caller's waker replaces an earlier
//! one, as `AsyncRead` users expect; an operation future of another task that waits on
//! the same direction still meets the backend's "two tasks wait" panic, as two waiters
//! would, and so does a poll-level call while another task's operation waits. Otherwise
//! a call follows [`Parking`]: the fairness budget first, `Timeout` instead of parking
//! past a scope's deadline, a panic when it would park off a worker of its loop.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::io::{Parking, check_worker};
use super::sys::{Dir, SharedIo};
use crate::error::Result;
use crate::scope::{self, Mode};

/// The waker the poll-level calls of each direction last parked with.
#[derive(Default)]
pub(crate) struct Claims {
    /// Reads (index 0) and writes (index 1); `None` while no poll-level call is parked.
    wakers: [Mutex<Option<Waker>>; 2],
}

impl Claims {
    /// Polls `f`, one poll-level call on `dir` of `io`, for the task of `cx`: the
    /// registration an earlier poll-level call left moves to this task first.
    pub(crate) fn poll<T>(
        &self,
        io: &SharedIo,
        dir: Dir,
        cx: &mut Context<'_>,
        f: impl FnOnce(&SharedIo, &Context<'_>) -> Poll<Result<T>>,
    ) -> Poll<Result<T>> {
        if !Parking::may_try(cx) {
            return Poll::Pending;
        }
        let mut claim = self.lock(dir);
        if let Some(old) = claim.take_if(|old| !old.will_wake(cx.waker())) {
            io.rewait(dir, &old, cx.waker());
        }
        let r = f(io, cx);
        if r.is_ready() {
            *claim = None;
        } else if scope::mode() == Mode::Expired {
            io.clear_waiter(dir, cx.waker());
            *claim = None;
            return Poll::Ready(Err(scope::expired()));
        } else {
            check_worker();
            if claim.is_none() {
                *claim = Some(cx.waker().clone());
                super::count_parked();
            }
        }
        r
    }

    fn lock(&self, dir: Dir) -> MutexGuard<'_, Option<Waker>> {
        let i = match dir {
            Dir::Read => 0,
            Dir::Write => 1,
        };
        self.wakers[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

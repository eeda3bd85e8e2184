//! [`Idle`]: a copy's idle deadline — it fails once no byte has moved either way for
//! the limit.
//!
//! Moving the timer on every chunk would cost a timer-wheel cancel and insert per read.
//! Instead a poll that moved bytes only notes the loop's clock, and the one timer is
//! moved lazily: when it fires, the copy is idle only if nothing moved since the time
//! it was armed for; otherwise it is re-armed at the last move plus the limit. A busy
//! copy so re-arms at most once per limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock_sched::Sleep;

use crate::error::{Error, ErrorKind};

/// The idle deadline of one copy.
pub(crate) struct Idle {
    /// How long the copy may move nothing.
    limit: Duration,
    /// When a byte last moved (or the copy started).
    last: Instant,
    /// Fires at `last + limit` as of when it was armed; re-armed lazily.
    timer: Sleep,
}

impl Idle {
    /// An idle deadline of `limit`, counted from now.
    pub(crate) fn new(limit: Duration) -> Idle {
        let now = crate::clock();
        Idle {
            limit,
            last: now,
            timer: Sleep::until(add(now, limit)),
        }
    }

    /// Notes that bytes moved now.
    pub(crate) fn touch(&mut self) {
        self.last = crate::clock();
    }

    /// `Ready` with the timeout error once nothing has moved for the limit; else
    /// `Pending`, with the timer armed.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        loop {
            if Pin::new(&mut self.timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = add(self.last, self.limit);
            if due <= crate::clock() {
                let message = format!("no byte moved either way for {:?}", self.limit);
                return Poll::Ready(Error::new(ErrorKind::Timeout, message));
            }
            self.timer.reset(due);
        }
    }
}

/// `t + d`, or a time far beyond any copy for a limit too large to add.
fn add(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .unwrap_or_else(|| t + Duration::from_secs(86_400 * 365 * 30))
}

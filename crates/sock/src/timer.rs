//! The timer a deadline arms, one per threading mode, behind one trait.
//!
//! A deadline (an operation's [`expires`](crate::Expires::expires) or a scope's
//! [`deadline`](crate::deadline)) arms a timer only once what it bounds waits, and that
//! timer must belong to whoever runs the task: in loop mode the thread's loop
//! ([`sock::time::Sleep`](crate::time::Sleep): a slab entry, no allocation, `!Send`), in the
//! shared-poller mode the worker running the task ([`mt::Sleep`]: `Send`, so the
//! operation stays `Send`). Each operation names its mode's timer
//! ([`Op::Timer`](crate::Op::Timer)), so one [`Deadline`](crate::Deadline) type serves
//! both modes and a loop-mode deadline costs what it did.

use std::future::Future;
use std::time::Instant;

use sock_sched::mt;

/// A timer of one threading mode: `sock::time::Sleep` (loop mode) or `sock::sched::mt::Sleep`
/// (shared-poller mode). Not implementable outside sock: a deadline relies on a timer
/// never firing early and on the mode's clock.
///
/// # Examples
///
/// Used through [`Op::Timer`](crate::Op::Timer); see [`Expires`](crate::Expires).
pub trait ModeTimer: Future<Output = ()> + Unpin + sealed::Sealed {
    /// A timer that fires at `deadline` (armed on its first poll that waits).
    #[doc(hidden)]
    fn until(deadline: Instant) -> Self;

    /// The mode's current time, which `timeout(d)` counts from.
    #[doc(hidden)]
    fn now() -> Instant;
}

impl ModeTimer for sock_sched::Sleep {
    fn until(deadline: Instant) -> Self {
        sock_sched::Sleep::until(deadline)
    }

    fn now() -> Instant {
        sock_sched::clock()
    }
}

impl ModeTimer for mt::Sleep {
    fn until(deadline: Instant) -> Self {
        mt::sleep_until(deadline)
    }

    fn now() -> Instant {
        mt::now()
    }
}

/// Keeps [`ModeTimer`] to sock's two timers.
mod sealed {
    /// Implemented by the timers of the two modes only.
    pub trait Sealed {}
    impl Sealed for sock_sched::Sleep {}
    impl Sealed for sock_sched::mt::Sleep {}
}

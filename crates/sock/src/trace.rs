//! The `tracing` feature's events, in one place. With the feature on, each function
//! here emits one event (target `sock`); with it off, each is an empty inline function,
//! so the instrumented paths compile to what they were. The per-thread span lives in
//! `sock-sched` (its own `tracing` feature, which this one turns on).
//!
//! | event | level | where |
//! |---|---|---|
//! | a connection shed under `EMFILE` | warn | `accept` (`sys::accept`) |
//! | out of fds (`EMFILE`/`ENFILE`/`WSAEMFILE`) | warn | any OS error turned into `sock::Error` |
//! | connection reset (`ECONNRESET`) | debug | any OS error turned into `sock::Error` |
//! | a deadline ended an operation or scope | debug | `Deadline` (both modes), scopes |
//! | a lookup still pending at its deadline | warn | `connect`/`sendto` by host name |

use std::future::Future;
use std::io;

use crate::error::ErrorKind;

/// Declares each event twice: emitting with the feature, empty without.
macro_rules! events {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block)*) => {
        $(
            $(#[$doc])*
            #[cfg(feature = "tracing")]
            pub(crate) fn $name($($arg: $ty),*) $body

            $(#[$doc])*
            #[cfg(not(feature = "tracing"))]
            #[inline(always)]
            pub(crate) fn $name($(_: $ty),*) {}
        )*
    };
}

events! {
    /// `accept` reset and dropped a pending connection: the process is out of fds.
    #[allow(dead_code)] // called by sys/unix.rs; Windows has no fd limit to shed for
    fn accept_shed() {
        tracing::warn!(
            target: "sock",
            "accept: out of file descriptors; a pending connection was reset and dropped"
        );
    }

    /// A deadline ended the operation `op` (or a scope) with `Timeout`.
    fn deadline_expired(op: &'static str) {
        tracing::debug!(target: "sock", op, "deadline expired");
    }

    /// An OS error of kind `kind` became a `sock::Error`: resets and running out of fds
    /// are reported.
    fn os_error(e: &io::Error, kind: ErrorKind) {
        match kind {
            ErrorKind::ConnectionReset => {
                tracing::debug!(target: "sock", error = %e, "connection reset by peer");
            }
            ErrorKind::TooManyOpenFiles => {
                tracing::warn!(target: "sock", error = %e, "out of file descriptors");
            }
            _ => {}
        }
    }
}

/// A lookup of `host` was still pending when its operation's deadline passed.
#[cfg(feature = "tracing")]
fn resolver_timeout(host: &str) {
    tracing::warn!(target: "sock", host, "name lookup still pending at the deadline");
}

/// `fut`, a lookup of `host`, watched for its deadline: polled past the deadline and
/// still pending, it reports [`resolver_timeout`] (with the feature; `fut` itself
/// without).
#[cfg(feature = "tracing")]
pub(crate) fn lookup<'a, F>(host: &'a str, fut: F) -> impl Future<Output = F::Output> + 'a
where
    F: Future + 'a,
{
    let mut fut = Box::pin(fut);
    std::future::poll_fn(move |cx| {
        let polled = fut.as_mut().poll(cx);
        if polled.is_pending() && crate::scope::mode() != crate::scope::Mode::Normal {
            resolver_timeout(host);
        }
        polled
    })
}

/// `fut` itself: without the `tracing` feature nothing watches a lookup.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn lookup<F: Future>(_host: &str, fut: F) -> F {
    fut
}

//! [`Endpoint`] for the loop mode: `Tcp` and `Udp` (unix ones too), `!Send` futures.

use std::cell::Cell;
use std::future::Future;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Op, SockAddr, Tcp, Udp, io::OptValue};

use crate::endpoint::{Endpoint, Outcome, cancel, race_ms};
use crate::plan::{Cut, Wait};

/// A boxed loop-mode future.
pub(crate) type LocalFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A stream socket of the loop mode.
#[derive(Clone, Debug)]
pub(crate) struct LoopStream(pub(crate) Tcp);

/// A datagram socket of the loop mode and where it sends (`None`: connected).
#[derive(Clone, Debug)]
pub(crate) struct LoopDgram {
    /// The socket.
    pub(crate) sock: Udp,
    /// The peer's address for `sendto`, unless connected.
    pub(crate) to: Option<SockAddr>,
}

/// The absolute deadline of `wait` on the loop's clock.
pub(crate) fn deadline(wait: Wait) -> Option<Instant> {
    let now = sock::clock();
    match wait {
        Wait::Unbounded => None,
        Wait::Past => Some(now.checked_sub(Duration::from_millis(5)).unwrap_or(now)),
        Wait::Now | Wait::Zero => Some(now),
        Wait::Tiny => Some(now + Duration::from_millis(1)),
        Wait::Ms(ms) => Some(now + Duration::from_millis(u64::from(ms))),
        Wait::Large => Some(now + Duration::from_secs(3)),
    }
}

/// Runs a loop-mode operation under `cut`.
pub(crate) async fn drive<O, T>(op: O, cut: Cut, size: impl Fn(&T) -> usize) -> Outcome
where
    O: Op<Output = sock::Result<T>>,
{
    let race = sock::sleep(Duration::from_millis(race_ms(cut.cancel)));
    let (op, seen) = Tracked::new(op);
    match deadline(cut.wait) {
        None => cancel(op, cut.cancel, race, |_| seen.get(), size).await,
        Some(t) => cancel(op.expires(t), cut.cancel, race, |_| seen.get(), size).await,
    }
}

/// An operation that notes how far it got after each poll, so the count is known when
/// it is dropped inside a wrapper that does not pass it on (a `sock::Deadline` need
/// not).
/// A count only changes in a poll, so the last one noted is exact.
struct Tracked<O> {
    /// The operation.
    op: Pin<Box<O>>,
    /// Its count after its last poll.
    seen: Rc<Cell<usize>>,
}

impl<O: Op> Tracked<O> {
    /// Wraps `op`; the cell shows its count.
    fn new(op: O) -> (Tracked<O>, Rc<Cell<usize>>) {
        let seen = Rc::new(Cell::new(0));
        let op = Box::pin(op);
        (
            Tracked {
                op,
                seen: seen.clone(),
            },
            seen,
        )
    }
}

impl<O: Op> Future for Tracked<O> {
    type Output = O::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O::Output> {
        let r = self.op.as_mut().poll(cx);
        self.seen.set(self.op.transferred());
        r
    }
}

impl<O: Op> Op for Tracked<O> {
    type Timer = O::Timer;

    fn transferred(&self) -> usize {
        self.op.transferred()
    }
}

/// The parts both loop-mode endpoints share.
macro_rules! loop_common {
    () => {
        const SHARED: bool = false;

        type Fut<'a, T: 'a> = LocalFut<'a, T>;

        fn pause(ms: u64) -> LocalFut<'static, ()> {
            Box::pin(sock::sleep(Duration::from_millis(ms)))
        }

        fn suspend() -> LocalFut<'static, ()> {
            Box::pin(async {
                sock::task::suspend().await;
            })
        }

        fn close(&self) {
            let _ = self.sock().close();
        }

        fn is_closed(&self) -> bool {
            self.sock().is_closed()
        }

        fn setopt(&self, name: &str, value: OptValue) -> sock::Result<()> {
            self.sock().setopt(name, value)
        }

        fn getopt(&self, name: &str) -> sock::Result<OptValue> {
            self.sock().getopt(name)
        }
    };
}

impl LoopStream {
    /// The socket.
    fn sock(&self) -> &Tcp {
        &self.0
    }
}

impl Endpoint for LoopStream {
    loop_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        Box::pin(drive(self.0.send(buf), cut, move |_| buf.len()))
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        Box::pin(drive(self.0.recv(buf), cut, |&n| n))
    }

    fn recvn<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        let len = buf.len();
        Box::pin(drive(self.0.recvn(buf), cut, move |_| len))
    }

    fn readable(&self, cut: Cut) -> LocalFut<'_, Outcome> {
        Box::pin(drive(self.0.readable(), cut, |_| 0))
    }

    fn shutdown(&self, how: Shutdown) -> sock::Result<()> {
        self.0.shutdown(how)
    }
}

impl LoopDgram {
    /// The socket.
    fn sock(&self) -> &Udp {
        &self.sock
    }
}

impl Endpoint for LoopDgram {
    loop_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        match &self.to {
            Some(to) => Box::pin(drive(self.sock.send_to(buf, to), cut, |&n| n)),
            None => Box::pin(drive(self.sock.send(buf), cut, |&n| n)),
        }
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        Box::pin(drive(self.sock.recv(buf), cut, |&n| n))
    }

    fn recvn<'a>(&'a self, _buf: &'a mut [u8], _cut: Cut) -> LocalFut<'a, Outcome> {
        Box::pin(unsupported())
    }

    fn readable(&self, _cut: Cut) -> LocalFut<'_, Outcome> {
        Box::pin(unsupported())
    }

    fn shutdown(&self, _how: Shutdown) -> sock::Result<()> {
        Err(sock::Error::from(ErrorKind::Unsupported))
    }
}

/// The outcome of an operation the endpoint does not have.
pub(crate) async fn unsupported() -> Outcome {
    Outcome::Failed {
        kind: ErrorKind::Unsupported,
        moved: 0,
    }
}

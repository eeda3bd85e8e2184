//! [`Endpoint`] for the shared-poller mode: `SharedTcp` and `SharedUdp`, `Send` futures.
//!
//! Only single-step operations are ever dropped here (the planner sees to it), so a
//! dropped one has moved nothing by construction; the operations are the same [`Op`]s
//! as the loop mode's, with the worker's timer.

use std::future::Future;
use std::net::Shutdown;
use std::pin::Pin;
use std::time::{Duration, Instant};

use sock::sched::mt;
use sock::{
    ErrorKind, Expires, Op, SockAddr,
    io::OptValue,
    shared::{SharedTcp, SharedUdp},
};

use crate::endpoint::{Endpoint, Outcome, cancel, race_ms};
use crate::loop_ep::unsupported;
use crate::plan::{Cut, Wait};

/// A boxed shared-mode future.
pub(crate) type SendFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stream socket of the shared mode.
#[derive(Clone, Debug)]
pub(crate) struct SharedStream(pub(crate) SharedTcp);

/// A datagram socket of the shared mode and where it sends (`None`: connected).
#[derive(Clone, Debug)]
pub(crate) struct SharedDgram {
    /// The socket.
    pub(crate) sock: SharedUdp,
    /// The peer's address for `send_to`, unless connected.
    pub(crate) to: Option<SockAddr>,
}

/// The absolute deadline of `wait` (the shared loop's clock is the monotonic one).
fn deadline(wait: Wait) -> Option<Instant> {
    let now = Instant::now();
    match wait {
        Wait::Unbounded => None,
        Wait::Past => Some(now.checked_sub(Duration::from_millis(5)).unwrap_or(now)),
        Wait::Now | Wait::Zero => Some(now),
        Wait::Tiny => Some(now + Duration::from_millis(1)),
        Wait::Ms(ms) => Some(now + Duration::from_millis(u64::from(ms))),
        Wait::Large => Some(now + Duration::from_secs(3)),
    }
}

/// Runs a shared-mode operation under `cut`.
async fn drive<O, T>(op: O, cut: Cut, size: impl Fn(&T) -> usize) -> Outcome
where
    O: Op<Output = sock::Result<T>, Timer = mt::Sleep> + Unpin,
{
    let race = mt::sleep(Duration::from_millis(race_ms(cut.cancel)));
    match deadline(cut.wait) {
        None => cancel(op, cut.cancel, race, |_| 0, size).await,
        Some(t) => cancel(op.expires(t), cut.cancel, race, |_| 0, size).await,
    }
}

/// The parts both shared-mode endpoints share.
macro_rules! shared_common {
    () => {
        const SHARED: bool = true;

        type Fut<'a, T: 'a> = SendFut<'a, T>;

        fn pause(ms: u64) -> SendFut<'static, ()> {
            Box::pin(mt::sleep(Duration::from_millis(ms)))
        }

        fn suspend() -> SendFut<'static, ()> {
            Box::pin(async {})
        }

        fn close(&self) {
            self.sock().close();
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

impl SharedStream {
    /// The socket.
    fn sock(&self) -> &SharedTcp {
        &self.0
    }
}

impl Endpoint for SharedStream {
    shared_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> SendFut<'a, Outcome> {
        Box::pin(drive(self.0.send(buf), cut, move |_| buf.len()))
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> SendFut<'a, Outcome> {
        Box::pin(drive(self.0.recv(buf), cut, |&n| n))
    }

    fn recvn<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> SendFut<'a, Outcome> {
        let len = buf.len();
        Box::pin(drive(self.0.recvn(buf), cut, move |_| len))
    }

    fn readable(&self, _cut: Cut) -> SendFut<'_, Outcome> {
        Box::pin(unsupported())
    }

    fn shutdown(&self, how: Shutdown) -> sock::Result<()> {
        self.0.shutdown(how)
    }
}

impl SharedDgram {
    /// The socket.
    fn sock(&self) -> &SharedUdp {
        &self.sock
    }
}

impl Endpoint for SharedDgram {
    shared_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> SendFut<'a, Outcome> {
        match &self.to {
            Some(to) => Box::pin(drive(self.sock.send_to(buf, to), cut, |&n| n)),
            None => Box::pin(drive(self.sock.send(buf), cut, |&n| n)),
        }
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> SendFut<'a, Outcome> {
        Box::pin(drive(self.sock.recv(buf), cut, |&n| n))
    }

    fn recvn<'a>(&'a self, _buf: &'a mut [u8], _cut: Cut) -> SendFut<'a, Outcome> {
        Box::pin(unsupported())
    }

    fn readable(&self, _cut: Cut) -> SendFut<'_, Outcome> {
        Box::pin(unsupported())
    }

    fn shutdown(&self, _how: Shutdown) -> sock::Result<()> {
        Err(sock::Error::from(ErrorKind::Unsupported))
    }
}

//! [`Endpoint`] for the shared-poller mode: `SharedTcp` (or its owned halves) and
//! `SharedUdp`, `Send` futures.
//!
//! Only single-step operations are ever dropped here (the planner sees to it), so a
//! dropped one has moved nothing by construction; the operations are the same [`Op`]s
//! as the loop mode's, with the worker's timer.

use std::future::Future;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sock::sched::mt;
use sock::{
    ErrorKind, Expires, Op, SockAddr,
    io::OptValue,
    shared::{SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedTcp, SharedUdp},
};

use crate::endpoint::{Endpoint, Outcome, cancel, race_ms};
use crate::level::{self, SharedClock, deadline_of};
use crate::loop_ep::{dropped_half, unsupported};
use crate::plan::{Cut, Via, Wait};

/// A boxed shared-mode future.
pub(crate) type SendFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stream socket of the shared mode, whole or one of its owned halves.
#[derive(Clone, Debug)]
pub(crate) struct SharedStream {
    /// The socket (options, close, and what a half does not have).
    tcp: SharedTcp,
    /// Which part of it this endpoint moves bytes through.
    half: SharedHalf,
}

/// Which part of a shared-mode stream an endpoint moves bytes through.
#[derive(Clone, Debug)]
enum SharedHalf {
    /// The whole stream.
    Whole,
    /// The read half (the reader's).
    Read(Arc<SharedOwnedReadHalf>),
    /// The write half (the writer's), `None` once dropped after a write shutdown.
    Write(Arc<Mutex<Option<Arc<SharedOwnedWriteHalf>>>>),
}

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
    deadline_of(wait, Instant::now())
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

        type Clock = SharedClock;

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
    /// The whole stream `tcp`.
    pub(crate) fn new(tcp: SharedTcp) -> SharedStream {
        SharedStream {
            tcp,
            half: SharedHalf::Whole,
        }
    }

    /// The socket.
    fn sock(&self) -> &SharedTcp {
        &self.tcp
    }

    /// The write half, unless dropped (`None`: whole).
    fn write_half(&self) -> Option<Option<Arc<SharedOwnedWriteHalf>>> {
        match &self.half {
            SharedHalf::Write(w) => Some(lock(w).clone()),
            _ => None,
        }
    }

    /// Sends all of `buf` through the write half.
    fn send_half<'a>(
        &'a self,
        w: Option<Arc<SharedOwnedWriteHalf>>,
        buf: &'a [u8],
        cut: Cut,
    ) -> SendFut<'a, Outcome> {
        let Some(w) = w else {
            return Box::pin(dropped_half());
        };
        Box::pin(async move {
            match cut.via {
                Via::Op => drive(w.send(buf), cut, move |_| buf.len()).await,
                via => level::send::<SharedClock, _, SharedTcp>(via, &*w, None, buf, cut).await,
            }
        })
    }
}

/// The write half's slot, locked (a poisoned lock is as good: the slot is one swap).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Endpoint for SharedStream {
    shared_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> SendFut<'a, Outcome> {
        if let Some(w) = self.write_half() {
            return self.send_half(w, buf, cut);
        }
        match cut.via {
            Via::Op => Box::pin(drive(self.tcp.send(buf), cut, move |_| buf.len())),
            via => {
                let t = Some(self.tcp.clone());
                Box::pin(level::send::<SharedClock, _, _>(
                    via, &self.tcp, t, buf, cut,
                ))
            }
        }
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> SendFut<'a, Outcome> {
        match (&self.half, cut.via) {
            (SharedHalf::Read(r), Via::Op) => Box::pin(drive(r.recv(buf), cut, |&n| n)),
            (SharedHalf::Read(r), via) => {
                let r = r.clone();
                Box::pin(async move {
                    level::recv::<SharedClock, _, SharedTcp>(via, &*r, None, buf, cut).await
                })
            }
            (_, Via::Op) => Box::pin(drive(self.tcp.recv(buf), cut, |&n| n)),
            (_, via) => {
                let t = Some(self.tcp.clone());
                Box::pin(level::recv::<SharedClock, _, _>(
                    via, &self.tcp, t, buf, cut,
                ))
            }
        }
    }

    fn recvn<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> SendFut<'a, Outcome> {
        let len = buf.len();
        match &self.half {
            SharedHalf::Read(r) => Box::pin(drive(r.recvn(buf), cut, move |_| len)),
            _ => Box::pin(drive(self.tcp.recvn(buf), cut, move |_| len)),
        }
    }

    fn readable(&self, _cut: Cut) -> SendFut<'_, Outcome> {
        Box::pin(unsupported())
    }

    fn shutdown(&self, how: Shutdown) -> sock::Result<()> {
        match (&self.half, how) {
            (SharedHalf::Write(w), Shutdown::Write) => {
                let Some(half) = lock(w).take() else {
                    return self.tcp.shutdown(how);
                };
                half.shutdown_write()
            }
            _ => self.tcp.shutdown(how),
        }
    }

    fn close_write(&self, via: Via) -> SendFut<'_, sock::Result<()>> {
        match via {
            Via::Futures | Via::Tokio if self.write_half().is_none() => {
                Box::pin(level::close_write::<SharedClock, _>(via, self.tcp.clone()))
            }
            _ => Box::pin(std::future::ready(self.shutdown(Shutdown::Write))),
        }
    }

    fn into_halves(self) -> (SharedStream, SharedStream) {
        let (r, w) = self.tcp.clone().into_split();
        let read = SharedStream {
            tcp: self.tcp.clone(),
            half: SharedHalf::Read(Arc::new(r)),
        };
        let write = SharedStream {
            tcp: self.tcp,
            half: SharedHalf::Write(Arc::new(Mutex::new(Some(Arc::new(w))))),
        };
        (read, write)
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
    crate::endpoint::dgram_ops!();
}

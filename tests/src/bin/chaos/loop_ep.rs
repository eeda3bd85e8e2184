//! [`Endpoint`] for the loop mode: `Tcp` (or its owned halves) and `Udp` (unix ones
//! too), `!Send` futures.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock::io::{OptValue, OwnedReadHalf, OwnedWriteHalf};
use sock::{ErrorKind, Expires, Op, SockAddr, Tcp, Udp};

use crate::endpoint::{Endpoint, Outcome, cancel, race_ms};
use crate::level::{self, LoopClock, deadline_of};
use crate::plan::{Cut, Via, Wait};

/// A boxed loop-mode future.
pub(crate) type LocalFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A stream socket of the loop mode, whole or one of its owned halves.
#[derive(Clone, Debug)]
pub(crate) struct LoopStream {
    /// The socket (options, close, and what a half does not have).
    tcp: Tcp,
    /// Which part of it this endpoint moves bytes through.
    half: LoopHalf,
}

/// Which part of a loop-mode stream an endpoint moves bytes through.
#[derive(Clone, Debug)]
enum LoopHalf {
    /// The whole stream.
    Whole,
    /// The read half (the reader's).
    Read(Rc<OwnedReadHalf>),
    /// The write half (the writer's), `None` once dropped after a write shutdown.
    Write(Rc<RefCell<Option<Rc<OwnedWriteHalf>>>>),
}

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
    deadline_of(wait, sock::clock())
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

        type Clock = LoopClock;

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
    /// The whole stream `tcp`.
    pub(crate) fn new(tcp: Tcp) -> LoopStream {
        LoopStream {
            tcp,
            half: LoopHalf::Whole,
        }
    }

    /// The socket.
    fn sock(&self) -> &Tcp {
        &self.tcp
    }

    /// The write half, unless dropped (`None`: whole).
    fn write_half(&self) -> Option<Option<Rc<OwnedWriteHalf>>> {
        match &self.half {
            LoopHalf::Write(w) => Some(w.borrow().clone()),
            _ => None,
        }
    }

    /// Sends all of `buf` through the write half.
    fn send_half<'a>(
        &'a self,
        w: Option<Rc<OwnedWriteHalf>>,
        buf: &'a [u8],
        cut: Cut,
    ) -> LocalFut<'a, Outcome> {
        let Some(w) = w else {
            return Box::pin(dropped_half());
        };
        Box::pin(async move {
            match cut.via {
                Via::Op => drive(w.send(buf), cut, move |_| buf.len()).await,
                via => level::send::<LoopClock, _, Tcp>(via, &*w, None, buf, cut).await,
            }
        })
    }
}

impl Endpoint for LoopStream {
    loop_common!();

    fn send<'a>(&'a self, buf: &'a [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        if let Some(w) = self.write_half() {
            return self.send_half(w, buf, cut);
        }
        match cut.via {
            Via::Op => Box::pin(drive(self.tcp.send(buf), cut, move |_| buf.len())),
            via => {
                let t = Some(self.tcp.clone());
                Box::pin(level::send::<LoopClock, _, _>(via, &self.tcp, t, buf, cut))
            }
        }
    }

    fn recv<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        match (&self.half, cut.via) {
            (LoopHalf::Read(r), Via::Op) => Box::pin(drive(r.recv(buf), cut, |&n| n)),
            (LoopHalf::Read(r), via) => {
                let r = r.clone();
                Box::pin(
                    async move { level::recv::<LoopClock, _, Tcp>(via, &*r, None, buf, cut).await },
                )
            }
            (_, Via::Op) => Box::pin(drive(self.tcp.recv(buf), cut, |&n| n)),
            (_, via) => {
                let t = Some(self.tcp.clone());
                Box::pin(level::recv::<LoopClock, _, _>(via, &self.tcp, t, buf, cut))
            }
        }
    }

    fn recvn<'a>(&'a self, buf: &'a mut [u8], cut: Cut) -> LocalFut<'a, Outcome> {
        let len = buf.len();
        match &self.half {
            LoopHalf::Read(r) => Box::pin(drive(r.recvn(buf), cut, move |_| len)),
            _ => Box::pin(drive(self.tcp.recvn(buf), cut, move |_| len)),
        }
    }

    fn readable(&self, cut: Cut) -> LocalFut<'_, Outcome> {
        match &self.half {
            LoopHalf::Read(r) => Box::pin(drive(r.readable(), cut, |_| 0)),
            _ => Box::pin(drive(self.tcp.readable(), cut, |_| 0)),
        }
    }

    fn shutdown(&self, how: Shutdown) -> sock::Result<()> {
        match (&self.half, how) {
            (LoopHalf::Write(w), Shutdown::Write) => {
                let Some(half) = w.borrow_mut().take() else {
                    return self.tcp.shutdown(how);
                };
                half.shutdown_write()
            }
            _ => self.tcp.shutdown(how),
        }
    }

    fn close_write(&self, via: Via) -> LocalFut<'_, sock::Result<()>> {
        match via {
            Via::Futures | Via::Tokio if self.write_half().is_none() => {
                Box::pin(level::close_write::<LoopClock, _>(via, self.tcp.clone()))
            }
            _ => Box::pin(std::future::ready(self.shutdown(Shutdown::Write))),
        }
    }

    fn into_halves(self) -> (LoopStream, LoopStream) {
        let (r, w) = self.tcp.clone().into_split();
        let read = LoopStream {
            tcp: self.tcp.clone(),
            half: LoopHalf::Read(Rc::new(r)),
        };
        let write = LoopStream {
            tcp: self.tcp,
            half: LoopHalf::Write(Rc::new(RefCell::new(Some(Rc::new(w))))),
        };
        (read, write)
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
    crate::endpoint::dgram_ops!();
}

/// The outcome of a send on a write half the writer dropped (after shutting writing
/// down): nothing moved, as a send after a write shutdown.
pub(crate) async fn dropped_half() -> Outcome {
    Outcome::Failed {
        kind: ErrorKind::Closed,
        moved: 0,
    }
}

/// The outcome of an operation the endpoint does not have.
pub(crate) async fn unsupported() -> Outcome {
    Outcome::Failed {
        kind: ErrorKind::Unsupported,
        moved: 0,
    }
}

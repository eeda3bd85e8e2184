//! What the sockets of the shared-poller mode ([`SharedTcp`](super::SharedTcp),
//! [`SharedUdp`](super::SharedUdp)) share: opening one in a loop's poller, the parked
//! wait of one direction, and the operation futures that take a deadline.
//!
//! An operation is an [`Op`](crate::Op) like the loop mode's, with the worker's timer:
//! `s.recv(&mut buf).expires(t).await`. The deadline's timer is one of the worker
//! running the task; an operation it cuts short forgets its waiter, and the backends
//! keep what the kernel finishes later for the next operation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use sock_addr::Family;
use sock_sched::{coop, mt};

use super::shared::SharedLoop;
use super::sys::{self, Dir};
use crate::error::Result;
use crate::op::{Op, SendBoxed};
use crate::scope::{self, Mode};

/// A new socket of `family`, `ty` and `protocol`, registered in `lp`'s poller
/// (datagram sockets get the loop mode's UDP setup first: no ICMP resets on Windows).
pub(super) fn open_io(
    lp: &SharedLoop,
    family: Family,
    ty: socket2::Type,
    protocol: Option<socket2::Protocol>,
) -> Result<sys::SharedIo> {
    #[cfg(feature = "sim")]
    crate::sim::socket::guard("a socket of the shared-poller mode");
    let domain = socket2::Domain::from(family.as_raw());
    let socket = sys::new_socket(domain, ty, protocol)?;
    if ty == socket2::Type::DGRAM {
        crate::sys::prepare_udp(&socket)?;
    }
    Ok(sys::SharedIo::register(socket, lp.poller(), lp.table())?)
}

/// The registration of one operation as the waiter of one direction: the waker it
/// parked with, if it is parked.
///
/// A future may be polled by one task and then moved to another (polled once in A,
/// awaited in B), so when the operation that parked polls again from another task its
/// registration moves there; a *different* operation of another task still meets the
/// backend's "two tasks wait" panic. Dropped while parked, it forgets its own waiter,
/// never one another task's operation registered since (waiters are told apart by
/// task, `Waker::will_wake`, as the backends' panic does). Keeping the waker costs one
/// clone per park.
pub(super) struct Parking<'a> {
    /// The socket.
    io: &'a sys::SharedIo,
    /// The direction the operation waits on.
    dir: Dir,
    /// The waker the operation parked with; `None` while it is not parked.
    waker: Option<Waker>,
}

impl<'a> Parking<'a> {
    pub(super) fn new(io: &'a sys::SharedIo, dir: Dir) -> Parking<'a> {
        Parking {
            io,
            dir,
            waker: None,
        }
    }

    /// Polls the operation `f` for the task of `cx`, moving the registration to that
    /// task first if the operation parked in another.
    ///
    /// Past a scope's deadline (`Mode::Expired`) an operation that would park forgets
    /// its waiter and fails with `Timeout` instead; its caller adds the bytes it moved.
    pub(super) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&'a sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>>,
    ) -> Poll<Result<T>> {
        if let Some(old) = &self.waker {
            if !old.will_wake(cx.waker()) {
                self.io.rewait(self.dir, old, cx.waker());
                self.waker = None;
            }
        }
        let r = f(self.io, cx);
        if r.is_ready() {
            self.waker = None;
        } else if scope::mode() == Mode::Expired {
            self.io.clear_waiter(self.dir, cx.waker());
            self.waker = None;
            return Poll::Ready(Err(scope::expired()));
        } else {
            check_worker();
            if self.waker.is_none() {
                self.waker = Some(cx.waker().clone());
                super::count_parked();
            }
        }
        r
    }

    /// Whether the operation may try now: outside a deadline's last try, only while the
    /// task's fairness budget lasts.
    pub(super) fn may_try(cx: &mut Context<'_>) -> bool {
        scope::mode() != Mode::Normal || coop::spend(cx)
    }
}

/// The shared mode's step of a whole transfer: one try, while the fairness budget lasts.
impl crate::transfer::Step for Parking<'_> {
    type Timer = mt::Sleep;

    fn poll_send(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        if !Parking::may_try(cx) {
            return Poll::Pending;
        }
        self.poll(cx, |io, cx| io.poll_send(cx, buf))
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        if !Parking::may_try(cx) {
            return Poll::Pending;
        }
        self.poll(cx, |io, cx| io.poll_recv(cx, buf))
    }
}

/// Panics unless this thread is a worker of a shared loop: only its workers take the
/// shared poller's events, so a task parked anywhere else would hang silently.
pub(super) fn check_worker() {
    if !mt::is_worker() {
        panic!(
            "sock: a SharedTcp or SharedUdp was awaited outside a worker of its SharedLoop \
             (in a loop-mode task or another executor); its events come only to the loop's \
             workers: await it in a task of that SharedLoop (SharedLoop::spawn or run)"
        );
    }
}

impl Drop for Parking<'_> {
    fn drop(&mut self) {
        if let Some(waker) = &self.waker {
            self.io.clear_waiter(self.dir, waker);
        }
    }
}

/// A parked wait on one direction: polls `f` until it does not block; forgets its
/// waiter if dropped while parked.
pub(super) struct IoWait<'a, F> {
    /// The socket, and the waiter registration.
    parking: Parking<'a>,
    /// One try of the operation.
    f: F,
    /// What the operation is called in its errors.
    name: &'static str,
}

impl<'a, F> IoWait<'a, F> {
    pub(super) fn new<T>(io: &'a sys::SharedIo, dir: Dir, name: &'static str, f: F) -> Self
    where
        F: FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>> + Unpin,
    {
        IoWait {
            parking: Parking::new(io, dir),
            f,
            name,
        }
    }
}

impl<F, T> Future for IoWait<'_, F>
where
    F: FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>> + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if !Parking::may_try(cx) {
            return Poll::Pending;
        }
        let this = &mut *self;
        let f = &mut this.f;
        this.parking.poll(cx, |io, cx| f(io, cx))
    }
}

impl<F, T> Op for IoWait<'_, F>
where
    F: FnMut(&sys::SharedIo, &mut Context<'_>) -> Poll<Result<T>> + Unpin,
{
    type Timer = mt::Sleep;

    fn name(&self) -> &'static str {
        self.name
    }
}

/// Wraps an operation of several steps, named `name` in its errors.
pub(super) fn boxed<'a, T>(
    name: &'static str,
    f: impl Future<Output = Result<T>> + Send + 'a,
) -> SendBoxed<'a, T> {
    SendBoxed(name, Box::pin(f))
}

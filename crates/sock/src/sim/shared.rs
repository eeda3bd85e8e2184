//! The shared-poller mode on a simulated host: a [`SharedLoop`] whose worker is a task
//! of the host's loop, and [`SharedTcp`](crate::shared::SharedTcp) /
//! [`SharedUdp`](crate::shared::SharedUdp) over the world's simulated sockets.
//!
//! The simulation runs on one OS thread, so a shared loop of a simulated host starts no
//! worker thread. It is a `sock-sched` [`Pool`] like the OS one, with a park that never
//! blocks (it hands back the sentinels posted to it) and a clock reading the host loop's
//! virtual time. Its worker is the *driver*, a task of the host's loop: it runs the
//! pool for one step ([`SharedLoop::poll`]), then waits until something is posted to
//! the pool (a task woken from outside, a spawn) or the pool's next timer is due, on the
//! host loop's own timer. So the host's park/drive loop (`backend.rs`) drives the
//! shared tasks as it drives the loop-mode ones, in the same deterministic order.
//!
//! A shared socket of a simulated loop holds a loop-mode [`Tcp`] / [`Udp`] of the host
//! (`socket.rs`'s simulated socket) instead of an OS socket, and its operations are
//! the loop-mode operations wrapped ([`Local`]) to be `Send` and to take the shared
//! mode's deadlines (`mt::Sleep`). `Send` is sound because every simulated value is
//! [`Bound`] to the simulation's thread: touched on another thread it panics, and
//! dropped on another thread it is leaked, never freed there.
//!
//! Several workers ([`Host::shared_loop_with_workers`](super::Host::shared_loop_with_workers))
//! are several drivers: each runs the pool as one of its workers in turn, all woken
//! by a post.
//!
//! The loop lives as long as its host's loop: when that closes (a `Sim::crash`, the
//! `Sim`'s drop) it drops the drivers, and a dropped driver closes the pool
//! ([`Pool::close`]): the tasks queued in it and those asleep on its timers are
//! dropped at once, and a task parked on a simulated socket is dropped where its
//! waker is woken or dropped (the drive loop's delivery, the `Sim`'s drop). Without
//! that, a task holding a clone of its loop (a listener's accept keeps one, to
//! register the connection) would keep the pool, which holds the task, and through
//! the pool's clock the host's executor, alive for good: a reference cycle.
//!
//! [`SharedLoop::start`] runs the simulation on the calling thread until
//! [`SharedLoop::stop`] (the workers are the drivers, given at creation); `run` stops
//! the loop when its future is done, as on the OS. Not simulated yet (it panics
//! saying so): the raw poller handle.
//! `spawn_loops` and `SharedListener` are `loops.rs`'s.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use sock_addr::{Family, Protocol, SockAddr, SocketType};
use sock_poll::Direction;
use sock_poll_shared::Poller;
use sock_sched::mt::{self, Pool, Sentinel, SharedPark};
use sock_sched::{Clock, Executor};

use super::backend::HostCtx;
use super::socket::SimSocket;
use crate::dgram::Udp;
use crate::error::{Error, Result};
use crate::multi::SharedLoop;
use crate::op::{Boxed, Op};
use crate::runtime::Loop;
use crate::tcp::Tcp;

thread_local! {
    /// The idle kernel poller every simulated shared loop of this thread carries (the
    /// loop type carries one for its socket table; it is never polled).
    static IDLE: OnceCell<Poller> = const { OnceCell::new() };
}

/// A value that is only touched on the thread that made it: `Send + Sync` whatever
/// `T` is, because every access checks the thread (and panics on another one), and a
/// drop on another thread leaks the value instead of running its destructor there.
pub(crate) struct Bound<T> {
    /// The thread that made it.
    owner: ThreadId,
    /// The value; dropped only on `owner`.
    value: ManuallyDrop<T>,
}

// SAFETY: the value is only reached through `get`/`get_mut`, which panic on any thread
// but `owner`, and `Drop` leaks it on another thread: it never leaves its thread.
unsafe impl<T> Send for Bound<T> {}

// SAFETY: as for `Send`: a shared `Bound` on another thread cannot reach the value.
unsafe impl<T> Sync for Bound<T> {}

impl<T> Bound<T> {
    /// `value`, bound to this thread.
    pub(crate) fn new(value: T) -> Bound<T> {
        Bound {
            owner: thread::current().id(),
            value: ManuallyDrop::new(value),
        }
    }

    /// The value.
    ///
    /// # Panics
    ///
    /// On another thread than the one that made it.
    pub(crate) fn get(&self) -> &T {
        self.check();
        &self.value
    }

    /// The value, mutably.
    ///
    /// # Panics
    ///
    /// As [`get`](Bound::get).
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.check();
        &mut self.value
    }

    /// Panics unless this is the owner thread.
    fn check(&self) {
        if thread::current().id() != self.owner {
            panic!(
                "sock::sim: a simulated shared loop or socket was used on another OS thread \
                 than the simulation's; a simulation runs on one thread"
            );
        }
    }
}

impl<T> Drop for Bound<T> {
    fn drop(&mut self) {
        if thread::current().id() == self.owner {
            // SAFETY: dropped once, here, on the owner thread; never used again.
            unsafe { ManuallyDrop::drop(&mut self.value) };
        }
    }
}

/// What a [`SharedLoop`] of a simulated host keeps beside its pool.
pub(crate) struct SimLoop {
    /// The host's loop, which runs the driver.
    host: Bound<Loop>,
    /// The host's simulation, for new sockets.
    ctx: Bound<HostCtx>,
    /// How many drivers work for the pool.
    workers: usize,
    /// Stops so far, and the `start` calls waiting for the next one.
    stops: Mutex<(u64, Vec<Waker>)>,
}

/// The park of a simulated pool: never blocks; a post wakes the driver.
#[derive(Default)]
struct ParkState {
    /// Sentinels posted and not handed back yet, how many posts came, and the waiting
    /// drivers' wakers.
    inner: Mutex<Posted>,
}

/// The posted state of a [`ParkState`].
#[derive(Default)]
struct Posted {
    /// Sentinels posted since the last park.
    sentinels: VecDeque<Sentinel>,
    /// Posts so far: a driver that saw fewer runs the pool again.
    posts: u64,
    /// The drivers waiting, by index.
    wakers: Vec<Option<Waker>>,
}

/// A driver's handle on its shared loop: dropped (with the driver, when the host loop
/// closes: a crash or the `Sim`'s drop), it closes the loop's pool, so the pool's
/// tasks are dropped with the host's own. They may hold the loop; left in the pool,
/// they would keep it, and through its clock the host's executor, alive for good.
struct Driven(SharedLoop);

/// The pool's handle on its [`ParkState`].
struct SimPark(Arc<ParkState>);

/// The pool's clock: the host loop's (virtual, maybe skewed) clock.
struct SimPoolClock(Bound<Executor>);

/// A loop-mode operation of a simulated socket as an operation of the shared mode:
/// `Send` (the future is [`Bound`]), its deadlines on the worker's timer, its output
/// mapped by `map`.
pub(crate) struct Local<F, M> {
    /// The operation.
    fut: Bound<Pin<Box<F>>>,
    /// Turns its output into the shared operation's.
    map: M,
}

/// The simulated socket of a shared socket: the host's loop-mode socket.
pub(crate) enum SimIo {
    /// A stream socket.
    Tcp(Bound<Tcp>),
    /// A datagram socket.
    Udp(Bound<Udp>),
}

/// A shared loop of `ctx`'s host, its driver spawned on `host` (that host's loop).
pub(crate) fn new_loop(ctx: HostCtx, host: Loop) -> SharedLoop {
    with_workers(ctx, host, 1)
}

/// A shared loop of `ctx`'s host with `workers` drivers on `host`.
fn with_workers(ctx: HostCtx, host: Loop, workers: usize) -> SharedLoop {
    let park = Arc::new(ParkState::default());
    park.lock().wakers.resize(workers, None);
    let clock = SimPoolClock(Bound::new(host.executor().clone()));
    let pool = Pool::with_clock(SimPark(park.clone()), clock);
    let idle = IDLE.with(|p| {
        p.get_or_init(|| {
            Poller::new().unwrap_or_else(|e| panic!("sock::sim: cannot make the idle poller: {e}"))
        })
        .clone()
    });
    let sim = SimLoop {
        host: Bound::new(host.clone()),
        ctx: Bound::new(ctx),
        workers,
        stops: Mutex::default(),
    };
    let lp = SharedLoop::simulated(pool, idle, sim);
    for i in 0..workers {
        // A dropped handle leaves the task running.
        drop(host.spawn(drive(Driven(lp.clone()), park.clone(), i)));
    }
    lp
}

/// A shared loop of the simulated host whose loop is `host`.
///
/// # Panics
///
/// If `host` is not a loop of a simulated host (a `Host` always is).
pub(crate) fn of_host(host: &Loop) -> SharedLoop {
    of_host_with(host, 1)
}

/// A shared loop of the simulated host whose loop is `host`, with `workers` workers.
///
/// # Panics
///
/// As [`of_host`]; if `workers` is 0.
pub(crate) fn of_host_with(host: &Loop, workers: usize) -> SharedLoop {
    assert!(
        workers > 0,
        "sock::sim: a shared loop needs at least one worker"
    );
    let ctx = Loop::parts_of(host.executor()).and_then(|p| p.sim.clone());
    let ctx = ctx.expect("a Host's loop is simulated");
    with_workers(ctx, host.clone(), workers)
}

/// Driver `me`: one step of the pool (as one of its workers), then a wait for a post
/// or the pool's next timer. Dropped with the host loop's tasks, it closes the pool.
async fn drive(lp: Driven, park: Arc<ParkState>, me: usize) {
    let lp = &lp.0;
    loop {
        let seen = park.lock().posts;
        lp.poll(Some(Duration::ZERO));
        let next = lp.next_deadline();
        if next.is_some_and(|t| t <= mt_now(lp)) {
            sock_sched::yield_now().await; // the host loop's other tasks first
            continue;
        }
        let mut sleep = next.map(sock_sched::Sleep::until);
        poll_fn(|cx| park.wait(cx, me, seen, sleep.as_mut())).await;
    }
}

/// The pool's time, read on the host loop.
fn mt_now(lp: &SharedLoop) -> Instant {
    lp.pool_now()
}

impl ParkState {
    /// The posted state.
    fn lock(&self) -> std::sync::MutexGuard<'_, Posted> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ready once something was posted after the driver `me` saw `seen` posts, or
    /// `sleep` fired; keeps the driver's waker otherwise.
    fn wait(
        &self,
        cx: &mut Context<'_>,
        me: usize,
        seen: u64,
        sleep: Option<&mut sock_sched::Sleep>,
    ) -> Poll<()> {
        let mut posted = self.lock();
        if posted.posts != seen {
            return Poll::Ready(());
        }
        if let Some(sleep) = sleep {
            if Pin::new(sleep).poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        posted.wakers[me] = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl SharedPark for SimPark {
    fn park(&self, _timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        let taken = std::mem::take(&mut self.0.lock().sentinels);
        taken.into_iter().for_each(sentinel);
    }

    fn post(&self, sentinel: Sentinel) {
        let wakers: Vec<Waker> = {
            let mut posted = self.0.lock();
            posted.sentinels.push_back(sentinel);
            posted.posts += 1;
            posted.wakers.iter_mut().filter_map(Option::take).collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Clock for SimPoolClock {
    fn now(&self) -> Instant {
        self.0.get().clock()
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.0.close_pool();
    }
}

impl SimLoop {
    /// Spawns `future` on `lp` and runs the host's loop (the whole simulation) until
    /// it finishes.
    ///
    /// # Panics
    ///
    /// If `lp`'s host loop was closed (see [`check_open`]).
    pub(crate) fn run<F>(&self, lp: &SharedLoop, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        check_open(lp);
        let task = lp.spawn(future);
        let out = self.host.get().run(task);
        lp.stop(); // as on the OS: a `start` elsewhere returns
        out
    }

    /// Runs the host's loop (the whole simulation) until [`stop`](SimLoop::stop).
    ///
    /// # Panics
    ///
    /// If `lp`'s host loop was closed (see [`check_open`]).
    pub(crate) fn start(&self, lp: &SharedLoop) {
        check_open(lp);
        let seen = self.lock_stops().0;
        self.host.get().run(poll_fn(|cx| {
            let mut stops = self.lock_stops();
            if stops.0 != seen {
                return Poll::Ready(());
            }
            stops.1.push(cx.waker().clone());
            Poll::Pending
        }));
    }

    /// Makes every `start` return.
    pub(crate) fn stop(&self) {
        let waiting = {
            let mut stops = self.lock_stops();
            stops.0 += 1;
            std::mem::take(&mut stops.1)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    fn lock_stops(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Waker>)> {
        self.stops.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this loop's host is the simulated host running on this thread now.
    pub(crate) fn is_running(&self) -> bool {
        let mine = self.ctx.get();
        super::socket::current_host()
            .is_some_and(|now| now.host == mine.host && now.shared.ptr_eq(&mine.shared))
    }

    /// How many drivers work for the pool (what `SharedLoop::workers` says).
    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    /// A new stream socket of the host.
    pub(crate) fn tcp(&self, family: Family) -> Result<SimIo> {
        let ctx = self.ctx.get().clone();
        let core = super::socket::open(ctx, family, SocketType::STREAM, Protocol::TCP)?;
        Ok(SimIo::Tcp(Bound::new(Tcp::from_core(core))))
    }

    /// A new datagram socket of the host.
    pub(crate) fn udp(&self, family: Family) -> Result<SimIo> {
        let ctx = self.ctx.get().clone();
        let core = super::socket::open(ctx, family, SocketType::DGRAM, Protocol::UDP)?;
        Ok(SimIo::Udp(Bound::new(Udp::from_core(core))))
    }
}

impl SimIo {
    /// A socket around `tcp`, a connection accepted on the host.
    pub(crate) fn accepted(tcp: Tcp) -> SimIo {
        SimIo::Tcp(Bound::new(tcp))
    }

    /// The stream socket.
    ///
    /// # Panics
    ///
    /// On another thread than the simulation's; for a datagram socket (never: the
    /// shared socket types keep their kind).
    pub(crate) fn tcp(&self) -> &Tcp {
        match self {
            SimIo::Tcp(t) => t.get(),
            SimIo::Udp(_) => unreachable!("a SharedTcp holds a simulated stream socket"),
        }
    }

    /// The datagram socket.
    ///
    /// # Panics
    ///
    /// As [`tcp`](SimIo::tcp).
    pub(crate) fn udp(&self) -> &Udp {
        match self {
            SimIo::Udp(u) => u.get(),
            SimIo::Tcp(_) => unreachable!("a SharedUdp holds a simulated datagram socket"),
        }
    }
}

/// The output map of an operation whose output stays as it is.
type Same<T> = fn(T) -> T;

impl SimIo {
    /// The simulated socket under the loop-mode one, or `Closed` once it is closed.
    fn socket(&self) -> Result<&SimSocket> {
        let core = match self {
            SimIo::Tcp(t) => t.get().core(),
            SimIo::Udp(u) => u.get().core(),
        };
        core.sim_open().ok_or_else(Error::closed)
    }

    /// Ready when `dir` may not block (a hint), else parks the task.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<Result<()>> {
        match self.socket() {
            Ok(s) => s.poll_ready(cx, dir),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// [`poll_ready`](SimIo::poll_ready) as an operation named `name`.
    pub(crate) fn ready(
        &self,
        name: &'static str,
        dir: Direction,
    ) -> Local<Boxed<'_, ()>, Same<Result<()>>> {
        local(Boxed(
            name,
            Box::pin(poll_fn(move |cx| self.poll_ready(cx, dir))),
        ))
    }

    /// One datagram if one is queued, with its source; `WouldBlock` otherwise.
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> Result<(usize, SockAddr)> {
        self.socket()?.udp_recv_from(buf)
    }

    /// One datagram to `to`, now.
    pub(crate) fn try_send_to(&self, buf: &[u8], to: &SockAddr) -> Result<usize> {
        self.socket()?.udp_send_to(buf, to)
    }
}

/// `op` as a shared-mode operation, with its output as it is.
pub(crate) fn local<F: Op>(op: F) -> Local<F, Same<F::Output>> {
    local_map(op, std::convert::identity)
}

/// `op` as a shared-mode operation, its output mapped by `map`.
pub(crate) fn local_map<F: Op, M>(op: F, map: M) -> Local<F, M> {
    Local {
        fut: Bound::new(Box::pin(op)),
        map,
    }
}

impl<F, M, T> Future for Local<F, M>
where
    F: Op,
    M: FnMut(F::Output) -> T + Unpin,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let out = std::task::ready!(this.fut.get_mut().as_mut().poll(cx));
        Poll::Ready((this.map)(out))
    }
}

impl<F, M, T> Op for Local<F, M>
where
    F: Op,
    M: FnMut(F::Output) -> T + Unpin,
{
    type Timer = mt::Sleep;

    fn name(&self) -> &'static str {
        self.fut.get().as_ref().get_ref().name()
    }

    fn transferred(&self) -> usize {
        self.fut.get().as_ref().get_ref().transferred()
    }
}

/// Panics if `lp`'s pool was closed with its host loop: the host crashed
/// (`Sim::crash`) or its `Sim` was dropped, and its tasks and drivers are gone.
#[track_caller]
fn check_open(lp: &SharedLoop) {
    assert!(
        !lp.is_pool_closed(),
        "sock::sim: this SharedLoop's host crashed (or its Sim was dropped), which dropped \
         its tasks; make a new shared loop of the host after Sim::restart"
    );
}

/// Panics: `what` has no simulated form yet.
#[cold]
#[track_caller]
pub(crate) fn not_simulated(what: &str) -> ! {
    panic!("sock::sim: {what} of the shared-poller mode is not simulated yet")
}

//! `spawn_loops` on a simulated host: N more loops of the host, with no OS thread,
//! each driven by a task of the host's own loop, in turn.
//!
//! A loop of [`spawn_loops`](crate::loops::spawn_loops) is an ordinary sock
//! [`Loop`] of the host (its sockets are the host's simulated ones, its clock the
//! host's virtual one) whose park never blocks: when it has nothing to do it returns,
//! and its unparker wakes the *driver*, a task of the host's loop that runs it once
//! ([`Loop::poll`]) and then waits for that unparker or the loop's next timer, on the
//! host loop's timer. So the host's park/drive loop (`backend.rs`) runs these loops as
//! it runs the host's own tasks, in a fixed order: one seed, one run. Each loop is
//! reached through its [`Handle`], as on the OS; a [`RemoteJoin`](crate::loops::RemoteJoin)
//! is awaited in a task (its blocking `join` would stop the simulation's one thread).
//!
//! A [`SharedListener`](crate::loops::SharedListener) bound on a simulated host is one
//! listening socket of the world; each loop that attaches gets another handle on it
//! (no `EPOLLEXCLUSIVE` here: every attached loop parked on it wakes for a connection,
//! the first to accept keeps it, as on Windows).
//!
//! Stopping a loop ([`Handle::stop`], dropping the `LoopThreads`) stops nothing here:
//! its tasks stay and run when woken, until the simulation is dropped.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use sock_addr::{Protocol, SockAddr, SocketType};
use sock_sched::{Clock, Executor, Park, Unparker};

use super::backend::HostCtx;
use crate::error::{Error, Result};
use crate::multi::{Handle, LoopThreads};
use crate::runtime::Loop;
use crate::socket::Core;
use crate::tcp::Tcp;

/// A handle on `listener`'s simulated listening socket for the loop running now (a
/// `SharedListener` attached to it): accepts take connections of the one world
/// socket; closing the handle leaves the socket open.
///
/// # Errors
///
/// `Closed` if the listener is closed.
pub(crate) fn attach(listener: &Tcp) -> Result<Tcp> {
    let sim = listener.core().sim_open().ok_or_else(Error::closed)?;
    let family = listener.family();
    let core = Core::simulated(sim.view(), family, SocketType::STREAM, Protocol::TCP);
    Ok(Tcp::from_core(core))
}

/// A listening socket of `ctx`'s host on `addr` (a `SharedListener`'s).
///
/// # Errors
///
/// As `Tcp::listen_to`.
pub(crate) fn listen(ctx: HostCtx, addr: &SockAddr) -> Result<Tcp> {
    let core = super::socket::open(ctx, addr.family(), SocketType::STREAM, Protocol::TCP)?;
    let tcp = Tcp::from_core(core);
    tcp.listen_to(addr)?;
    Ok(tcp)
}

/// The park of a loop of `spawn_loops` on a simulated host: never blocks.
struct SubPark {
    /// Where its unparker leaves the wake-up for the driver.
    notify: Arc<Notify>,
}

/// A wake-up for a driver, from any thread.
#[derive(Default)]
struct Notify {
    /// Whether one came since the driver last looked, and the driver's waker.
    state: Mutex<(bool, Option<Waker>)>,
}

/// The clock of such a loop: the host loop's.
struct HostClock(Executor);

/// `n` loops of `ctx`'s host, their drivers on `host` (that host's loop).
///
/// # Panics
///
/// If `n` is 0, as `spawn_loops` does.
pub(crate) fn spawn_loops(ctx: HostCtx, host: &Loop, n: usize) -> LoopThreads {
    assert!(
        n > 0,
        "sock: spawn_loops(0) makes no loop; ask for at least one"
    );
    let loops: Vec<Loop> = (0..n).map(|_| sub_loop(&ctx, host)).collect();
    let handles = loops.iter().map(Handle::new).collect();
    LoopThreads::simulated(handles, loops)
}

/// One more loop of `ctx`'s host, driven by a task of `host`.
fn sub_loop(ctx: &HostCtx, host: &Loop) -> Loop {
    let notify = Arc::new(Notify::default());
    let park = SubPark {
        notify: notify.clone(),
    };
    let clock = HostClock(host.executor().clone());
    let reactor = Loop::parts_of(host.executor())
        .expect("a host loop has its socket-layer parts")
        .reactor
        .clone();
    let owner = Loop::simulated(park, clock, ctx.clone(), reactor);
    owner.executor().set_resolution(Duration::from_nanos(1));
    let lp = owner.clone();
    // The driver owns the loop: it closes when the host loop drops the driver (the
    // simulation is dropped). A dropped task handle detaches.
    drop(host.spawn(drive(owner, notify)));
    lp
}

/// The driver: runs `lp` once, then waits for its unparker or its next timer.
async fn drive(lp: Loop, notify: Arc<Notify>) {
    loop {
        notify.take();
        if lp.poll(Some(Duration::ZERO)) {
            sock_sched::yield_now().await; // the host loop's other tasks first
            continue;
        }
        let next = lp.next_deadline();
        if next.is_some_and(|t| t <= lp.executor().clock()) {
            sock_sched::yield_now().await; // the host loop's other tasks first
            continue;
        }
        let mut sleep = next.map(sock_sched::Sleep::until);
        poll_fn(|cx| notify.wait(cx, sleep.as_mut())).await;
    }
}

impl Notify {
    /// Forgets a wake-up that came.
    fn take(&self) {
        self.lock().0 = false;
    }

    /// Ready once a wake-up came or `sleep` fired; keeps the waker otherwise.
    fn wait(&self, cx: &mut Context<'_>, sleep: Option<&mut sock_sched::Sleep>) -> Poll<()> {
        let mut state = self.lock();
        if state.0 {
            return Poll::Ready(());
        }
        if let Some(sleep) = sleep {
            if Pin::new(sleep).poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Records a wake-up and wakes the driver.
    fn wake(&self) {
        let waker = {
            let mut state = self.lock();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (bool, Option<Waker>)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Park for SubPark {
    fn park(&mut self, _timeout: Option<Duration>) {
        // Never blocks: the driver calls the loop again when there is something to do.
    }

    fn unparker(&self) -> Unparker {
        let notify = self.notify.clone();
        Unparker::new(move || notify.wake())
    }
}

impl Clock for HostClock {
    fn now(&self) -> Instant {
        self.0.clock()
    }
}

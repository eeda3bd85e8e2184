//! The simulation backend: [`Sim`] holds a [`World`] and one sock [`Loop`] per simulated
//! host, whose clock is the world's virtual time and whose park runs the world.
//!
//! A host loop is an ordinary `sock::Loop` (tasks, timers, `sock::sleep`, deadlines,
//! spawn and join are sock-sched's own) made with two parts of its own: a [`Clock`]
//! reading the world's virtual time, and a [`Park`] that, instead of waiting on the OS,
//! drives the whole simulation. When the loop that is running has nothing to do, its
//! park repeats, on this one OS thread:
//!
//! 1. wake the tasks parked on simulated sockets whose readiness changed
//!    ([`World::take_changed`]; with readiness faults on, some of those wake-ups are
//!    deferred and some spurious ones added, `spurious.rs`);
//! 2. return if its own loop has work now (a task woken, a timer due, an unpark);
//! 3. run once without blocking (`poll(Some(ZERO))`) every other host loop that has
//!    work (a task ready or woken from another loop, a timer due), and start over if
//!    any of them did something — the hosts due come from a queue of host deadlines
//!    (`timers.rs`), refreshed after each poll, so a round does not look at every host;
//! 4. otherwise, once no deferred wake-up is held, jump virtual time to the earliest of: the world's next event, any host
//!    loop's next timer, the end of the park's timeout — and start over;
//! 5. with none of those, the run is stuck: every task waits on something that can
//!    never happen. That panics with the seed and the last events of the log.
//!
//! No fixed ticks: the work is proportional to events and wake-ups, whatever virtual
//! time they span. The timer resolution of a host loop is 1 ns, so a deadline fires at
//! exactly its virtual instant. The world's event order is fixed by its seed; the host
//! loops run in host order, and each loop's tasks in their own (FIFO) order, so one seed
//! gives one run. Under the model checker (`explore.rs`) that order is a choice too: at
//! step 2, whether the other hosts with work run their pass first; at step 3, which of
//! the ready hosts runs next.
//!
//! The shared-poller mode's loops of a host are driven by a task of its loop
//! (`shared.rs`). Not simulated yet: parts of the shared-poller mode, and raw sockets
//! (the guard, `socket.rs`, panics on them). The host loops share one idle kernel
//! poller (the loop type carries one), made with the simulation and never polled.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::ops::{Deref, DerefMut};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use sock_poll::Reactor;
use sock_sched::{Clock, Park, Unparker};

use super::faults::HostClock;
use super::timers::{HostTimers, WokenHosts};
use super::{HostId, SocketId, World};
use crate::runtime::Loop;

/// How many events of the log a stuck run or a failed one prints.
const TAIL: usize = 20;

/// Drive-loop rounds in a row that neither ran a task nor moved time before the
/// simulation gives up (a loop that reports work due now but runs none).
const MAX_IDLE_ROUNDS: u32 = 10_000;

/// A simulation: a [`World`] and the sock loops of its hosts, on one OS thread.
///
/// Dropping it closes every host loop (their tasks are cancelled) and the shared loops
/// of the hosts ([`Host::shared_loop`]: their tasks are dropped too, so a task holding
/// its own loop frees it). When it is dropped
/// while the thread panics (a failed assertion in a test), it prints the seed and the
/// last events, so the run can be replayed with `SOCK_SEED`.
///
/// # Examples
///
/// An echo server on host `b`, a client on host `a`; the round trip costs 4 ms of
/// virtual time (the default link is 1 ms one way) and no wall-clock wait:
///
/// ```
/// use std::time::Duration;
/// use sock::sim::{Sim, World};
/// use sock::{Expires, Family};
///
/// let sim = Sim::new(World::new(7));
/// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
/// let b = sim.add_host("b", &["10.0.0.2".parse().unwrap()]);
/// b.spawn(async {
///     let server = sock::tcp(Family::INET)?;
///     server.listen("10.0.0.2", 7)?;
///     let conn = server.accept().await?;
///     let mut buf = [0u8; 4];
///     conn.recvn(&mut buf).await?;
///     conn.send(&buf).await
/// });
/// a.run(async {
///     let client = sock::tcp(Family::INET)?;
///     client.connect("10.0.0.2", 7).timeout(Duration::from_secs(5)).await?;
///     client.send(b"ping").await?;
///     let mut buf = [0u8; 4];
///     client.recvn(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<(), sock::Error>(())
/// })?;
/// assert_eq!(sim.world().now(), Duration::from_millis(4));
/// # Ok::<(), sock::Error>(())
/// ```
pub struct Sim {
    /// What the host loops' parks, clocks and sockets share (they hold it weakly).
    shared: Rc<Shared>,
}

/// A simulated host: its id in the world and its sock loop.
///
/// It dereferences to the [`Loop`]: `host.run(..)`, `host.spawn(..)` run code on the
/// host, where `sock::tcp`, `sock::udp`, `sock::sleep`, … use the simulation.
///
/// Make sockets, deadlines and scopes inside the host's tasks: made outside any run,
/// `sock::timeout(..)` or `sock::clock()` read the thread's own (real) loop's clock,
/// and a socket belongs to that loop.
///
/// # Examples
///
/// See [`Sim`].
#[derive(Clone, Debug)]
pub struct Host {
    /// The host's id in the world.
    id: HostId,
    /// The host's loop (a handle; the [`Sim`] owns the loop).
    lp: Loop,
}

/// A borrow of a simulation's world; see [`Sim::world`].
///
/// # Examples
///
/// See [`Sim::world`].
pub struct WorldMut<'a> {
    /// The borrow.
    world: RefMut<'a, World>,
    /// The host loops' clock, set to the world's time when the borrow ends.
    now: &'a Cell<Duration>,
}

/// What a simulation's parts share.
pub(crate) struct Shared {
    /// The world.
    world: RefCell<World>,
    /// The world's virtual time, as the host loops' clocks read it (kept equal to
    /// `World::now` whenever no borrow of the world is out).
    now: Rc<Cell<Duration>>,
    /// The instant virtual time zero maps to (read once, at creation).
    base: Instant,
    /// The host loops, owned: dropping the simulation closes them.
    hosts: RefCell<BTreeMap<HostId, HostLoop>>,
    /// The wakers of tasks parked on a simulated socket, per (socket, direction).
    waiters: RefCell<BTreeMap<(SocketId, usize), Vec<Waker>>>,
    /// The host loops' next deadlines, as the drive loop last read them.
    timers: RefCell<HostTimers>,
    /// Hosts woken from another loop since the drive loop last looked.
    woken: WokenHosts,
    /// The one idle kernel poller every host loop carries (never polled).
    reactor: Reactor,
    /// Drive-loop rounds and host-loop polls so far (see [`SimStats`]).
    counts: Cell<(u64, u64)>,
}

/// What driving a simulation has cost so far: see [`Sim::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Rounds of the drive loop (each delivers socket changes, runs the host loops
    /// that have work or moves virtual time).
    pub rounds: u64,
    /// Host loops run once (`poll`) by the drive loop.
    pub polls: u64,
    /// Host loops' next deadlines read by the drive loop.
    pub deadline_reads: u64,
}

/// The simulation a host loop belongs to, kept in the loop's socket-layer parts.
#[derive(Clone)]
pub(crate) struct HostCtx {
    /// The simulation (gone once the [`Sim`] is dropped).
    pub(crate) shared: Weak<Shared>,
    /// The loop's host.
    pub(crate) host: HostId,
}

/// A host loop as the drive loop keeps it.
#[derive(Clone)]
struct HostLoop {
    /// The loop (the owning handle, in [`Shared::hosts`]).
    lp: Loop,
    /// The host clock's skew (`faults.rs`), to map its deadlines to virtual time.
    skew: Arc<HostClock>,
}

/// The park of a host loop: runs the simulation until the loop has work.
struct SimPark {
    /// The simulation.
    shared: Weak<Shared>,
    /// The loop's host.
    host: HostId,
    /// Set by this park's unparker (a wake from another loop or thread).
    unparked: Arc<AtomicBool>,
    /// The drive loop's list of woken hosts, where this park's unparker adds its host:
    /// a task of this loop was woken from another loop, so it is worth polling.
    woken: WokenHosts,
}

/// The clock of a host loop: the world's virtual time after a fixed base instant,
/// skewed by the host's `ClockSkew` (on the scale of `faults.rs`'s
/// `CLOCK_EPOCH`: virtual zero reads `base + CLOCK_EPOCH` on a clock without skew).
struct SimClock {
    /// The world's time, as last published.
    now: Rc<Cell<Duration>>,
    /// The instant the clock epoch's zero maps to.
    base: Instant,
    /// The host's skew.
    skew: Arc<HostClock>,
    /// The last reading: a skew changed backwards holds the clock, never moves it back.
    /// `None` until the loop's first reading after its creation: the executor's origin,
    /// read when the loop is made, does not count, so a skew set before the host first
    /// runs (also one behind) applies from virtual time zero (timers count from the
    /// origin and saturate before it, so none fires early).
    last: Cell<Option<Instant>>,
    /// Whether the creation reading has been taken.
    made: Cell<bool>,
}

impl Sim {
    /// A simulation of `world` with no host loop yet.
    ///
    /// # Panics
    ///
    /// If the OS refuses the one (idle, never polled) kernel poller the host loops
    /// share: the loop type carries one.
    ///
    /// # Examples
    ///
    /// ```
    /// let sim = sock::sim::Sim::new(sock::sim::World::new(1));
    /// assert_eq!(sim.world().seed(), 1);
    /// ```
    pub fn new(world: World) -> Sim {
        let now = Rc::new(Cell::new(world.now()));
        let shared = Shared {
            world: RefCell::new(world),
            now,
            base: Instant::now(),
            hosts: RefCell::new(BTreeMap::new()),
            waiters: RefCell::new(BTreeMap::new()),
            timers: RefCell::default(),
            woken: WokenHosts::default(),
            reactor: Reactor::new()
                .unwrap_or_else(|e| panic!("sock::sim: cannot make the idle kernel poller: {e}")),
            counts: Cell::new((0, 0)),
        };
        Sim {
            shared: Rc::new(shared),
        }
    }

    /// Adds a host named `name` owning `addrs` to the world, with a sock loop whose
    /// sockets, clock and timers are the simulation's: the backend is chosen here, at
    /// loop creation, and code run on the loop needs no `cfg` of its own.
    ///
    /// # Panics
    ///
    /// As [`World::add_host`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let sim = sock::sim::Sim::new(sock::sim::World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// a.run(sock::sleep(Duration::from_secs(86_400))); // a virtual day, at once
    /// assert_eq!(sim.world().now(), Duration::from_secs(86_400));
    /// ```
    #[doc(alias = "simulated")]
    pub fn add_host(&self, name: &str, addrs: &[IpAddr]) -> Host {
        let (id, skew) = {
            let mut world = self.shared.world.borrow_mut();
            let id = world.add_host(name, addrs);
            (id, world.host_clock(id))
        };
        let park = SimPark {
            shared: Rc::downgrade(&self.shared),
            host: id,
            unparked: Arc::default(),
            woken: self.shared.woken.clone(),
        };
        let clock = SimClock {
            now: self.shared.now.clone(),
            base: self.shared.base,
            skew: skew.clone(),
            last: Cell::new(None),
            made: Cell::new(false),
        };
        let ctx = HostCtx {
            shared: Rc::downgrade(&self.shared),
            host: id,
        };
        let owner = Loop::simulated(park, clock, ctx, self.shared.reactor.clone());
        owner.executor().set_resolution(Duration::from_nanos(1));
        let lp = owner.clone();
        let host = HostLoop { lp: owner, skew };
        self.shared.hosts.borrow_mut().insert(id, host);
        Host { id, lp }
    }

    /// The world, borrowed: to read its time, log and hash, or to change links,
    /// partitions and faults between runs (or from a task).
    ///
    /// # Panics
    ///
    /// If the world is borrowed already (a [`WorldMut`] held across this call).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::{Sim, World};
    ///
    /// let sim = Sim::new(World::new(3));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = sim.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// sim.world().partition(a.id(), b.id(), true);
    /// let world = sim.world(); // one borrow at a time
    /// println!("seed {} hash {:x}", world.seed(), world.hash());
    /// ```
    pub fn world(&self) -> WorldMut<'_> {
        WorldMut {
            world: self.shared.world.borrow_mut(),
            now: &self.shared.now,
        }
    }

    /// Powers `host` off: [`World::crash`] (its sockets vanish without a FIN or an RST,
    /// nothing it is sent is answered), then its loop is closed: every task, timer and
    /// socket handle of it is dropped, as a power-off drops the programs. So are the
    /// tasks of the host's shared loops ([`Host::shared_loop`]): the queued and
    /// sleeping ones at once, those parked on a socket when the drive loop delivers
    /// the socket's end; those loops stay closed (`run` or `start` on one panics). The
    /// host's loop stays usable: after [`Sim::restart`], spawn the host's programs on it
    /// again, and make new shared loops (a fresh start: no task or timer survives).
    ///
    /// # Panics
    ///
    /// From a task of `host` itself, or while `host`'s `run` drives the simulation
    /// (crash it from another host's task, or between runs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Sim, World};
    /// use sock::{Expires, Family};
    ///
    /// let sim = Sim::new(World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = sim.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let server = b.spawn(async {
    ///     let l = sock::tcp(Family::INET)?;
    ///     l.listen("10.0.0.2", 80)?;
    ///     l.accept().await.map(drop)
    /// });
    /// sim.crash(&b);
    /// assert!(server.is_finished()); // the program went with the power
    /// sim.restart(&b);
    /// let err = a.run(async {
    ///     let c = sock::tcp(Family::INET)?;
    ///     c.connect("10.0.0.2", 80).timeout(Duration::from_secs(5)).await
    /// });
    /// assert_eq!(err.unwrap_err().kind(), sock::ErrorKind::ConnectionRefused);
    /// ```
    pub fn crash(&self, host: &Host) {
        self.shared.with_world(|w| w.crash(host.id));
        host.lp.close();
    }

    /// Powers a crashed `host` back on ([`World::restart`]): same addresses, no socket,
    /// an empty loop to spawn its programs on.
    ///
    /// # Examples
    ///
    /// See [`Sim::crash`].
    pub fn restart(&self, host: &Host) {
        self.shared.with_world(|w| w.restart(host.id));
    }
}

impl Sim {
    /// What driving the simulation has cost so far: rounds of the drive loop, host
    /// loops run, host deadlines read. They grow with the events and wake-ups of a
    /// run, not with the virtual time it spans nor (per round) with the host count.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Sim, World};
    ///
    /// let sim = Sim::new(World::new(1));
    /// let hosts: Vec<_> = (1..=50u8)
    ///     .map(|i| sim.add_host(&format!("h{i}"), &[[10, 0, 0, i].into()]))
    ///     .collect();
    /// hosts[0].run(sock::sleep(Duration::from_secs(3600))); // 49 hosts idle an hour
    /// let stats = sim.stats();
    /// assert!(stats.rounds < 10, "{stats:?}");
    /// assert_eq!(stats.polls, 0);
    /// ```
    #[doc(alias = "metrics")]
    pub fn stats(&self) -> SimStats {
        let (rounds, polls) = self.shared.counts.get();
        let deadline_reads = self.shared.timers.borrow().reads();
        SimStats {
            rounds,
            polls,
            deadline_reads,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(world) = self.shared.world.try_borrow() {
                eprintln!("{}", report(&world, "failed"));
            }
        }
        let hosts = std::mem::take(&mut *self.shared.hosts.borrow_mut());
        drop(hosts); // closes each loop (its tasks drop their sockets) and its shared loops
        // Outside the borrow: the last waker of a task of a (closed) shared loop drops
        // the task there, and its sockets, closing, wake their own waiters.
        let waiters = std::mem::take(&mut *self.shared.waiters.borrow_mut());
        drop(waiters);
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let world = self.shared.world.try_borrow();
        let mut d = f.debug_struct("Sim");
        if let Ok(world) = world {
            d.field("seed", &world.seed()).field("now", &world.now());
        }
        d.finish_non_exhaustive()
    }
}

impl Host {
    /// The host's id in the world (for [`World::partition`], [`World::set_link`], …).
    ///
    /// # Examples
    ///
    /// ```
    /// let sim = sock::sim::Sim::new(sock::sim::World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// assert_eq!(sim.world().host_name(a.id()), "a");
    /// ```
    pub fn id(&self) -> HostId {
        self.id
    }

    /// A loop of the shared-poller mode on this host ([`SharedLoop`]): no OS thread and
    /// no kernel wait; its tasks run on the simulation's thread, driven with the host's
    /// loop-mode tasks, and its sockets ([`SharedTcp`], [`SharedUdp`]) are the host's
    /// simulated ones. Each call makes another loop. [`SharedLoop::new`] called in a
    /// task of the host makes one too.
    ///
    /// [`SharedLoop`]: crate::shared::SharedLoop
    /// [`SharedLoop::new`]: crate::shared::SharedLoop::new
    /// [`SharedTcp`]: crate::shared::SharedTcp
    /// [`SharedUdp`]: crate::shared::SharedUdp
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Sim, World};
    /// use sock::{Expires, Family};
    ///
    /// let sim = Sim::new(World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let lp = a.shared_loop();
    /// let kind = lp.run(async {
    ///     let u = sock::shared::SharedUdp::new(Family::INET)?;
    ///     u.bind("10.0.0.1", 9)?;
    ///     let mut buf = [0u8; 8];
    ///     let e = u.recv(&mut buf).timeout(Duration::from_secs(3)).await.unwrap_err();
    ///     Ok::<_, sock::Error>(e.kind())
    /// })?;
    /// assert_eq!(kind, sock::ErrorKind::Timeout);
    /// assert_eq!(sim.world().now(), Duration::from_secs(3)); // virtual, exactly
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn shared_loop(&self) -> crate::shared::SharedLoop {
        super::shared::of_host(&self.lp)
    }

    /// [`shared_loop`](Host::shared_loop) with `workers` workers: what `workers` OS
    /// threads in [`SharedLoop::start`](crate::shared::SharedLoop::start) are on the OS.
    /// Here each is a task of the host's loop that runs the pool's batches in turn (in
    /// a fixed order: one seed, one run); a task runs on whichever took it.
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::{Sim, World};
    ///
    /// let sim = Sim::new(World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let lp = a.shared_loop_with_workers(3);
    /// assert_eq!(lp.workers(), 3);
    /// let lp2 = lp.clone();
    /// let sum = lp.run(async move {
    ///     let parts: Vec<_> = (1..=4).map(|i| lp2.spawn(async move { i * 10 })).collect();
    ///     let mut sum = 0;
    ///     for p in parts {
    ///         sum += p.await;
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 100);
    /// ```
    pub fn shared_loop_with_workers(&self, workers: usize) -> crate::shared::SharedLoop {
        super::shared::of_host_with(&self.lp, workers)
    }

    /// [`spawn_loops`](crate::loops::spawn_loops) on this host: `n` more loops of the
    /// host, with no OS thread, run in turn by the simulation (`sim/loops.rs`), each
    /// reached through its [`Handle`](crate::loops::Handle). `spawn_loops(n)` called in
    /// a task of the host does the same. Await a handle's
    /// [`RemoteJoin`](crate::loops::RemoteJoin) in a task: its blocking `join` would
    /// stop the simulation's one thread.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Sim, World};
    ///
    /// let sim = Sim::new(World::new(1));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let loops = a.spawn_loops(2);
    /// let naps = loops.handles().iter().map(|h| {
    ///     h.spawn_with(|| async {
    ///         sock::sleep(Duration::from_secs(5)).await; // on the loop's (virtual) clock
    ///         sock::clock()
    ///     })
    /// });
    /// let naps: Vec<_> = naps.collect();
    /// let woke = a.run(async move {
    ///     let mut woke = Vec::new();
    ///     for nap in naps {
    ///         woke.push(nap.await.expect("the nap"));
    ///     }
    ///     woke
    /// });
    /// assert_eq!(woke[0], woke[1]); // both at the same virtual instant
    /// assert_eq!(sim.world().now(), Duration::from_secs(5));
    /// ```
    pub fn spawn_loops(&self, n: usize) -> crate::loops::LoopThreads {
        let ctx = Loop::parts_of(self.lp.executor()).and_then(|p| p.sim.clone());
        let ctx = ctx.expect("a Host's loop is simulated");
        super::loops::spawn_loops(ctx, &self.lp, n)
    }
}

impl Deref for Host {
    type Target = Loop;

    fn deref(&self) -> &Loop {
        &self.lp
    }
}

impl Deref for WorldMut<'_> {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

impl DerefMut for WorldMut<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

impl Drop for WorldMut<'_> {
    fn drop(&mut self) {
        self.now.set(self.world.now());
    }
}

impl fmt::Debug for WorldMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.world, f)
    }
}

impl fmt::Debug for HostCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostCtx")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Runs `f` on the world, then publishes its time to the host clocks.
    ///
    /// # Panics
    ///
    /// While a [`WorldMut`] is held: a run needs the world.
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut world = self.world.try_borrow_mut().unwrap_or_else(|_| {
            panic!(
                "sock::sim: the world is borrowed (a WorldMut is held) while the simulation \
                 runs: drop it first"
            )
        });
        let r = f(&mut world);
        self.now.set(world.now());
        r
    }

    /// Makes `waker` wake when `socket`'s readiness changes (`dir`: 0 read, 1 write).
    pub(crate) fn park(&self, socket: SocketId, dir: usize, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        let list = waiters.entry((socket, dir)).or_default();
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }

    /// Wakes every task parked on `socket` (it changed, or was closed).
    pub(crate) fn wake_socket(&self, socket: SocketId) {
        let woken: Vec<Waker> = {
            let mut waiters = self.waiters.borrow_mut();
            let read = waiters.remove(&(socket, 0)).unwrap_or_default();
            let write = waiters.remove(&(socket, 1)).unwrap_or_default();
            read.into_iter().chain(write).collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// Wakes the tasks parked on one (socket, direction) entry (a spurious wake).
    fn wake_direction(&self, entry: (SocketId, usize)) {
        let woken = self.waiters.borrow_mut().remove(&entry).unwrap_or_default();
        woken.into_iter().for_each(Waker::wake);
    }

    /// Runs the simulation for host `me`'s park until its loop has work, `timeout`
    /// passes or it is unparked (see the module docs).
    fn drive(&self, me: HostId, timeout: Option<Duration>, unparked: &AtomicBool) {
        let until = timeout.map(|t| self.now.get().saturating_add(t));
        let mut idle = 0;
        self.refresh_all();
        loop {
            self.count(1, 0);
            if unparked.swap(false, Ordering::AcqRel) {
                return;
            }
            self.deliver();
            if until.is_some_and(|u| self.now.get() >= u) {
                return;
            }
            if self.has_work(me) {
                if self.others_first(me) {
                    self.poll_others(me);
                }
                return;
            }
            if self.poll_others(me) {
                idle = 0;
                continue;
            }
            if self.world.borrow().wakes_held() {
                idle += 1; // deferred wake-ups are delivered before time moves
                assert!(idle < MAX_IDLE_ROUNDS, "{}", self.spinning());
                continue;
            }
            let Some(next) = self.next_time(until) else {
                self.stuck();
            };
            idle = if next > self.now.get() { 0 } else { idle + 1 };
            assert!(idle < MAX_IDLE_ROUNDS, "{}", self.spinning());
            self.with_world(|w| w.run_until(next));
        }
    }

    /// Wakes the tasks parked on sockets whose readiness changed.
    fn deliver(&self) {
        let parked = || self.waiters.borrow().keys().copied().collect();
        let wakes = self.with_world(|w| {
            let changed = w.take_changed();
            w.readiness_round(changed, parked) // readiness faults (`spurious.rs`)
        });
        wakes.sockets.into_iter().for_each(|s| self.wake_socket(s));
        wakes
            .directions
            .into_iter()
            .for_each(|d| self.wake_direction(d));
    }

    /// Whether `host`'s loop has something to do now (a task ready, a timer due).
    fn has_work(&self, host: HostId) -> bool {
        let lp = self.hosts.borrow().get(&host).cloned();
        lp.is_some_and(|lp| self.is_due(&lp))
    }

    /// Whether `host` has a task ready or a timer due at its clock's current reading.
    fn is_due(&self, host: &HostLoop) -> bool {
        let now = self.base + host.skew.skew().local(self.now.get());
        host.lp.next_deadline().is_some_and(|d| d <= now)
    }

    /// `host`'s next deadline as an instant on the virtual timeline (`base` + virtual
    /// time), what the drive loop's queue orders hosts by.
    fn virtual_deadline(&self, host: &HostLoop) -> Option<Instant> {
        self.next_deadline(host).map(|d| self.base + d)
    }

    /// The virtual time of `host`'s next deadline (its own clock's reading mapped back).
    fn next_deadline(&self, host: &HostLoop) -> Option<Duration> {
        let local = host
            .lp
            .next_deadline()?
            .saturating_duration_since(self.base);
        Some(host.skew.skew().virtual_at(local))
    }

    /// Runs once without blocking every host loop but `me`'s that has work (a task
    /// ready or woken from another loop, a timer due), in host order; whether any did
    /// work. A host that gets work from one polled earlier in the pass runs in it too
    /// when it comes later in host order.
    fn poll_others(&self, me: HostId) -> bool {
        let now = self.base + self.now.get();
        let mut pending: BTreeSet<HostId> = self.timers.borrow().due(now).collect();
        let mut worked = false;
        let mut after = None;
        loop {
            pending.extend(self.woken.take());
            let eligible = pending.iter().copied();
            let eligible: Vec<HostId> = eligible
                .filter(|h| *h != me && after.is_none_or(|a| *h > a))
                .collect();
            let pick = self.world.borrow().pick_host(eligible.len()); // the model checker's
            let Some(&host) = eligible.get(pick) else {
                break;
            };
            pending.remove(&host);
            worked |= self.poll_host(host);
            after = Some(host);
            if self.timers.borrow().is_due(host, now) {
                pending.insert(host); // still has work: the next pass runs it again
            }
        }
        // Hosts left (earlier in order than the last one run): the next pass runs them.
        pending
            .into_iter()
            .filter(|h| *h != me)
            .for_each(|h| self.woken.push(h));
        worked
    }

    /// Whether the other host loops with work run their pass before `me`'s, which has
    /// work too: a choice point of the model checker (`explore.rs`) when another host
    /// is due or woken; never without one.
    fn others_first(&self, me: HostId) -> bool {
        let now = self.base + self.now.get();
        let due = self.timers.borrow().due(now).any(|h| h != me);
        (due || self.woken.any_but(me)) && self.world.borrow().pick_host(2) == 1
    }

    /// Runs `host`'s loop once without blocking and reads its next deadline again;
    /// whether it did work.
    fn poll_host(&self, host: HostId) -> bool {
        let lp = self.hosts.borrow().get(&host).cloned();
        let Some(h) = lp else { return false };
        self.count(0, 1);
        let worked = h.lp.poll(Some(Duration::ZERO));
        let next = self.virtual_deadline(&h);
        self.timers.borrow_mut().set(host, next);
        worked
    }

    /// Reads every host loop's next deadline again (when a park enters the drive loop:
    /// a task spawned from outside any loop arms no wake-up).
    fn refresh_all(&self) {
        let hosts = self.hosts.borrow();
        let mut timers = self.timers.borrow_mut();
        for (id, h) in hosts.iter() {
            timers.set(*id, self.virtual_deadline(h));
        }
    }

    /// Adds to the drive loop's counts of rounds and polls.
    fn count(&self, rounds: u64, polls: u64) {
        let (r, p) = self.counts.get();
        self.counts.set((r + rounds, p + polls));
    }

    /// The earliest of the world's next event, every host loop's next timer and
    /// `until`; `None` when there is none of them.
    fn next_time(&self, until: Option<Duration>) -> Option<Duration> {
        let event = self.world.borrow().next_event();
        let timers = self.timers.borrow().first();
        let timer = timers.map(|t| t.saturating_duration_since(self.base));
        [event, timer, until].into_iter().flatten().min()
    }

    /// Panics: every task waits and nothing is pending.
    fn stuck(&self) -> ! {
        let world = self.world.borrow();
        let what = "stuck: every task waits and no event or timer is pending";
        panic!("{}", report(&world, what));
    }

    /// The message of a drive loop that makes no progress.
    fn spinning(&self) -> String {
        let world = self.world.borrow();
        report(&world, "a host loop reports work due now but runs none")
    }
}

/// A failure report: what happened, where (virtual time, event index: events handled
/// so far, log length, hash), the seed (and model-checker schedule) to replay it, the
/// last events.
fn report(world: &World, what: &str) -> String {
    let seed = world.seed();
    let mut s = format!(
        "sock::sim: {what} at virtual {:?}, event {} (log entry {}, hash {:x})\n\
         seed {seed} (replay: SOCK_SEED={seed}){}; last events:\n",
        world.now(),
        world.processed(),
        world.log().entries().len(),
        world.hash(),
        replay_schedule(world),
    );
    for entry in world.log().tail(TAIL) {
        s.push_str(&format!("  {entry}\n"));
    }
    if let Some(swarm) = world.swarm_config() {
        s.push_str(swarm);
    }
    s
}

/// The model checker's part of a report's replay line: its schedule, if it chose.
fn replay_schedule(world: &World) -> String {
    match world.schedule_so_far() {
        Some(s) => format!(", schedule \"{s}\" (replay: {}={s})", super::SCHEDULE_ENV),
        None => String::new(),
    }
}

impl Park for SimPark {
    fn park(&mut self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) {
            return; // a look: the drive loop wakes simulated sockets' tasks itself
        }
        let shared = self.shared.upgrade().unwrap_or_else(|| {
            panic!("sock::sim: a host loop waits after its Sim was dropped; keep the Sim")
        });
        shared.drive(self.host, timeout, &self.unparked);
    }

    fn unparker(&self) -> Unparker {
        let (unparked, woken, host) = (self.unparked.clone(), self.woken.clone(), self.host);
        Unparker::new(move || {
            woken.push(host);
            unparked.store(true, Ordering::Release);
        })
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        let now = self.base + self.skew.skew().local(self.now.get());
        if !self.made.replace(true) {
            return now; // the executor's origin
        }
        let now = self.last.get().map_or(now, |last| now.max(last));
        self.last.set(Some(now));
        now
    }
}

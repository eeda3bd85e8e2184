//! The world: virtual time, the event queue, hosts and their addresses, timers, the
//! readiness-change record and the event log.
//!
//! Time never advances by ticks: [`World::step`] pops the earliest event (ordered by
//! virtual time, then by the sequence number it was queued with, so ties are
//! deterministic), jumps the clock to it and handles it. Work is proportional to events,
//! not to the virtual time covered.
//!
//! The host loops that run tasks on a world are `backend.rs`'s; DNS is `dns.rs`'s;
//! clogging, clock skew, crash/restart and scripted faults are `faults.rs`'s.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::dns::Dns;
use super::explore::{self, Chooser, Schedule};
use super::faults::{Fault, Faults};
use super::log::EventLog;
use super::net::{Link, Net, TcpFaults};
use super::raw::RawPacket;
use super::rng::Rng;
use super::route::{Icmp, Routes};
use super::tcp::{Segment, TcpSocket};
use super::udp::{Datagram, UdpSocket};
use super::unix::UnixSocket;
use super::{HostId, Readiness, SocketId, TimerId};
use crate::ErrorKind;

/// A simulated world of hosts on one virtual clock, every choice drawn from one seed.
#[derive(Debug)]
pub struct World {
    /// The seed the world was made with (printed for replay).
    seed: u64,
    /// Virtual time since the start; only [`World::step`] moves it, and only forward.
    pub(crate) now: Duration,
    /// The next sequence number: breaks ties between events at one instant.
    seq: u64,
    /// Pending events keyed by (time, sequence).
    queue: BTreeMap<EventKey, Event>,
    /// The one generator every random choice draws from.
    pub(crate) rng: Rng,
    /// Every processed event and the determinism hash.
    log: EventLog,
    /// Hosts, indexed by `HostId`.
    pub(crate) hosts: Vec<Host>,
    /// Which host owns each address.
    pub(crate) addrs: BTreeMap<IpAddr, HostId>,
    /// The fabric.
    pub(crate) net: Net,
    /// Every live socket of every host.
    pub(crate) sockets: BTreeMap<SocketId, Socket>,
    /// The next socket id.
    next_socket: u64,
    /// The next timer id.
    next_timer: u64,
    /// Events processed so far.
    processed: u64,
    /// Sockets touched since the last settle, with their readiness before.
    touched: BTreeMap<SocketId, Readiness>,
    /// Sockets whose readiness changed and that nobody has taken yet.
    changed: BTreeSet<SocketId>,
    /// Timers fired and not yet taken.
    fired: Vec<TimerId>,
    /// TCP segments sent into a cut direction, sent on at the repair in the order they
    /// were held: (from, to, segment, the sending socket whose order they keep).
    pub(crate) held: Vec<Held>,
    /// Name records and the resolver's latency and timeout.
    pub(crate) dns: Dns,
    /// The model checker's chooser among events due at one instant (`explore.rs`);
    /// without one the lowest sequence number runs first.
    chooser: Option<Chooser>,
    /// Clogs, clock skews, crashed hosts, the swarm configuration (`faults.rs`).
    pub(crate) faults: Faults,
    /// Answers for addresses nobody owns (`route.rs`).
    pub(crate) routes: Routes,
}

/// One host: a name, its addresses and its kernel's port tables.
#[derive(Debug)]
pub(crate) struct Host {
    /// The name it was added with; the log's host column.
    pub(crate) name: String,
    /// Its addresses, in the order given.
    pub(crate) addrs: Vec<IpAddr>,
    /// TCP ports in use and the socket holding each.
    pub(crate) tcp_ports: BTreeMap<u16, SocketId>,
    /// UDP ports in use and the socket holding each.
    pub(crate) udp_ports: BTreeMap<u16, SocketId>,
    /// Sockets its programs hold open (accepted, bound, listening or connecting).
    pub(crate) fds: usize,
    /// At most this many open at once; one more is `TooManyOpenFiles` (`EMFILE`).
    pub(crate) fd_limit: usize,
    /// Send and receive buffer capacities of new TCP sockets, in bytes.
    pub(crate) tcp_buffers: (usize, usize),
    /// The ephemeral range, inclusive.
    pub(crate) ephemeral: (u16, u16),
    /// Where the next ephemeral search starts.
    pub(crate) next_ephemeral: u16,
    /// Its filesystem's unix socket paths and the socket that bound each (kept after
    /// that socket closes, as the socket file is, until `World::unix_unlink`).
    pub(crate) unix_paths: BTreeMap<PathBuf, SocketId>,
}

/// A queued event's place: (virtual time, sequence number).
pub(crate) type EventKey = (Duration, u64);

/// A TCP segment held by a partition: (from, to, segment, the sending socket).
pub(crate) type Held = (HostId, HostId, Segment, Option<SocketId>);

/// A socket of either protocol.
#[derive(Debug)]
pub(crate) enum Socket {
    /// A TCP listener or connection.
    Tcp(Box<TcpSocket>),
    /// A UDP socket.
    Udp(UdpSocket),
    /// A unix-domain socket (`unix.rs`).
    Unix(Box<UnixSocket>),
}

/// Something that happens at a virtual instant.
#[derive(Debug)]
pub(crate) enum Event {
    /// A timer of a host fires.
    Timer(HostId, TimerId),
    /// A TCP packet arrives.
    Tcp(Segment),
    /// A datagram arrives.
    Udp(Datagram),
    /// A partitioned direction heals.
    Repair(HostId, HostId),
    /// A DNS answer arrives for a query (`dns.rs`).
    Dns(SocketId),
    /// A scheduled fault is applied (`faults.rs`).
    Fault(Fault),
    /// An ICMP error reaches the host whose packet drew it (`route.rs`).
    Icmp(Icmp),
    /// A packet of a raw socket, or the kernel's echo reply, arrives (`raw.rs`).
    Raw(RawPacket),
}

impl World {
    /// An empty world at virtual time zero whose every random choice follows `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// let world = sock::sim::World::new(42);
    /// assert_eq!(world.now(), std::time::Duration::ZERO);
    /// ```
    pub fn new(seed: u64) -> World {
        World {
            seed,
            now: Duration::ZERO,
            seq: 0,
            queue: BTreeMap::new(),
            rng: Rng::new(seed),
            log: EventLog::new(),
            hosts: Vec::new(),
            addrs: BTreeMap::new(),
            net: Net::default(),
            sockets: BTreeMap::new(),
            next_socket: 0,
            next_timer: 0,
            processed: 0,
            touched: BTreeMap::new(),
            changed: BTreeSet::new(),
            fired: Vec::new(),
            held: Vec::new(),
            dns: Dns::default(),
            chooser: None,
            faults: Faults::default(),
            routes: Routes::default(),
        }
    }

    /// A world whose seed is `SOCK_SEED` from the environment when it is set (to replay
    /// a printed failure), else `seed`.
    ///
    /// # Panics
    ///
    /// When `SOCK_SEED` is set but is not a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let world = sock::sim::World::from_env_or(42);
    /// if std::env::var_os("SOCK_SEED").is_none() {
    ///     assert_eq!(world.seed(), 42);
    /// }
    /// ```
    #[doc(alias = "SOCK_SEED")]
    pub fn from_env_or(seed: u64) -> World {
        World::new(env_seed().unwrap_or(seed))
    }

    /// A world whose seed is `SOCK_SEED` from the environment when it is set, else a
    /// fresh one (different each run: every failure report prints it for the replay).
    ///
    /// # Panics
    ///
    /// When `SOCK_SEED` is set but is not a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let world = sock::sim::World::from_env();
    /// println!("seed {}", world.seed());
    /// ```
    pub fn from_env() -> World {
        World::new(env_seed().unwrap_or_else(fresh_seed))
    }

    /// The seed this world was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Virtual time since the world's start.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Adds a host named `name` owning `addrs` — and, as every host does, its own
    /// loopback addresses (`127.0.0.0/8`, `::1`: giving them is allowed and changes
    /// nothing; their traffic never leaves the host).
    ///
    /// # Panics
    ///
    /// When an address other than a loopback one already belongs to a host, or `addrs`
    /// is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut world = sock::sim::World::new(1);
    /// let v4 = "10.0.0.1".parse().unwrap();
    /// let v6 = "fd00::1".parse().unwrap();
    /// let a = world.add_host("a", &[v4, v6]);
    /// assert_eq!(world.host_name(a), "a");
    /// ```
    pub fn add_host(&mut self, name: &str, addrs: &[IpAddr]) -> HostId {
        assert!(!addrs.is_empty(), "a host needs an address");
        let id = HostId(self.hosts.len());
        for addr in addrs.iter().filter(|a| !a.is_loopback()) {
            let old = self.addrs.insert(*addr, id);
            assert!(old.is_none(), "address {addr} already belongs to a host");
        }
        self.hosts.push(Host::new(name, addrs));
        id
    }

    /// Sets the ephemeral port range of `host` (inclusive); Linux's default is
    /// 32768–60999, the world's is 49152–65535.
    pub fn set_ephemeral_range(&mut self, host: HostId, first: u16, last: u16) {
        let h = &mut self.hosts[host.0];
        h.ephemeral = (first, last);
        h.next_ephemeral = first;
    }

    /// Sets how many sockets `host`'s programs may hold open (default 1,024, as
    /// `ulimit -n`); one more fails with `TooManyOpenFiles`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let _ = (a, b, SocketAddr::from(([0, 0, 0, 0], 0)));
    /// world.set_fd_limit(a, 1);
    /// let any = SocketAddr::from(([0, 0, 0, 0], 0));
    /// let u = world.udp_bind(a, any)?;
    /// assert_eq!(world.udp_bind(a, any), Err(sock::ErrorKind::TooManyOpenFiles));
    /// world.close(u);
    /// assert!(world.udp_bind(a, any).is_ok());
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn set_fd_limit(&mut self, host: HostId, limit: usize) {
        self.hosts[host.0].fd_limit = limit;
    }

    /// Closes a socket of either protocol, giving its descriptor back (a no-op for one
    /// already closed, also while its buffered bytes still drain).
    pub fn close(&mut self, socket: SocketId) {
        let host = match self.sockets.get(&socket) {
            Some(Socket::Tcp(s)) if s.is_orphan() => return,
            Some(Socket::Tcp(s)) => s.host,
            Some(Socket::Udp(s)) => s.host,
            Some(Socket::Unix(s)) => s.host,
            None => return,
        };
        self.hosts[host.0].fds -= 1;
        match self.sockets.get(&socket) {
            Some(Socket::Tcp(_)) => self.tcp_close(socket),
            Some(Socket::Unix(_)) => self.unix_close(socket),
            _ => self.udp_close(socket),
        }
    }

    /// Sets the link used between hosts with no link of their own.
    pub fn set_default_link(&mut self, link: Link) {
        self.net.default = link;
    }

    /// Sets the direction `from → to`.
    pub fn set_link(&mut self, from: HostId, to: HostId, link: Link) {
        self.net.links.insert((from, to), link);
    }

    /// Sets the faults drawn for each new TCP connection.
    pub fn set_tcp_faults(&mut self, faults: TcpFaults) {
        self.net.tcp_faults = faults;
    }

    /// Cuts `from → to` (one way); `both` cuts `to → from` as well.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let _ = (a, b, SocketAddr::from(([0, 0, 0, 0], 0)));
    /// use std::time::Duration;
    ///
    /// let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// world.tcp_listen(b, server, 8)?;
    /// world.partition(a, b, true);
    /// world.repair_at(a, b, Duration::from_millis(1500));
    /// let c = world.tcp_connect(a, server)?;
    /// world.run_until(Duration::from_secs(1));
    /// assert_eq!(world.tcp_connect_result(c), None); // no answer
    /// world.run_until(Duration::from_secs(4)); // SYNs go at 0 s, 1 s, 3 s, …
    /// assert_eq!(world.tcp_connect_result(c), Some(Ok(())));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn partition(&mut self, from: HostId, to: HostId, both: bool) {
        self.net.blocked.insert((from, to));
        if both {
            self.net.blocked.insert((to, from));
        }
        self.log_world(format!("partition {from:?}->{to:?} both={both}"));
    }

    /// Heals `from → to` and `to → from` at virtual time `at`.
    pub fn repair_at(&mut self, from: HostId, to: HostId, at: Duration) {
        self.schedule(at.max(self.now), Event::Repair(from, to));
    }

    /// Arms a timer of `host` firing at virtual time `at` (never earlier).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let _ = (a, b, SocketAddr::from(([0, 0, 0, 0], 0)));
    /// use std::time::Duration;
    ///
    /// let t = world.timer(a, Duration::from_secs(3600));
    /// world.run_until_idle(); // one event, however long the wait
    /// assert_eq!(world.take_fired(), vec![t]);
    /// assert_eq!(world.now(), Duration::from_secs(3600));
    /// assert_eq!(world.processed(), 1);
    /// ```
    pub fn timer(&mut self, host: HostId, at: Duration) -> TimerId {
        let id = TimerId(self.next_timer);
        self.next_timer += 1;
        self.schedule(at.max(self.now), Event::Timer(host, id));
        id
    }

    /// Handles the earliest pending event (of several at one instant, the lowest
    /// sequence number, or the model checker's pick), moving virtual time to it;
    /// `false` when no event is pending.
    pub fn step(&mut self) -> bool {
        let next = match self.chooser {
            None => self.queue.pop_first(),
            Some(_) => self.pop_chosen(),
        };
        let Some(((at, _), event)) = next else {
            return false;
        };
        self.now = at;
        self.processed += 1;
        self.handle(event);
        self.settle();
        true
    }

    /// Handles every event due at or before `t`, then sets the clock to `t`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let _ = (a, b, SocketAddr::from(([0, 0, 0, 0], 0)));
    /// use std::time::Duration;
    ///
    /// world.timer(a, Duration::from_secs(5));
    /// world.run_until(Duration::from_secs(2));
    /// assert_eq!((world.now(), world.processed()), (Duration::from_secs(2), 0));
    /// world.run_until(Duration::from_secs(5));
    /// assert_eq!(world.processed(), 1);
    /// ```
    pub fn run_until(&mut self, t: Duration) {
        while self.next_event().is_some_and(|at| at <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Handles events until none is pending.
    pub fn run_until_idle(&mut self) {
        while self.step() {}
    }

    /// When the earliest pending event is due.
    pub fn next_event(&self) -> Option<Duration> {
        self.queue.first_key_value().map(|((at, _), _)| *at)
    }

    /// How many events have been processed.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// The determinism hash of the event log so far.
    pub fn hash(&self) -> u64 {
        self.log.hash()
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Sockets whose readiness changed since the last call (the backend wakes their
    /// waiters), in id order.
    pub fn take_changed(&mut self) -> Vec<SocketId> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }

    /// Timers fired since the last call, in firing order.
    pub fn take_fired(&mut self) -> Vec<TimerId> {
        std::mem::take(&mut self.fired)
    }

    /// Whether `socket` is readable and writable now (both `false` once closed).
    pub fn readiness(&self, socket: SocketId) -> Readiness {
        match self.sockets.get(&socket) {
            Some(Socket::Tcp(s)) => s.readiness(),
            Some(Socket::Udp(s)) => s.readiness(),
            Some(Socket::Unix(_)) => self.unix_readiness(socket),
            None => Readiness::default(),
        }
    }

    /// The name of `host`.
    pub fn host_name(&self, host: HostId) -> &str {
        &self.hosts[host.0].name
    }

    /// Takes a descriptor of `host` for a new socket.
    ///
    /// # Errors
    ///
    /// `TooManyOpenFiles` when the host is at its limit.
    pub(crate) fn open_fd(&mut self, host: HostId) -> Result<(), ErrorKind> {
        let h = &mut self.hosts[host.0];
        if h.fds >= h.fd_limit {
            return Err(ErrorKind::TooManyOpenFiles);
        }
        h.fds += 1;
        Ok(())
    }

    /// Queues `event` at `at`, after every event already queued for that instant.
    pub(crate) fn schedule(&mut self, at: Duration, event: Event) -> EventKey {
        let key = (at, self.seq);
        self.queue.insert(key, event);
        self.seq += 1;
        key
    }

    /// Takes a pending event out of the queue (a no-op once it has run).
    pub(crate) fn cancel(&mut self, key: EventKey) {
        self.queue.remove(&key);
    }

    /// A fresh socket id.
    pub(crate) fn new_socket_id(&mut self) -> SocketId {
        self.next_socket += 1;
        SocketId(self.next_socket)
    }

    /// Logs `what` for `host` at the current time.
    pub(crate) fn record(&mut self, host: HostId, what: String) {
        let name = &self.hosts[host.0].name;
        self.log.push(self.now, name, what);
    }

    /// Logs `what` for no particular host.
    pub(crate) fn log_world(&mut self, what: String) {
        self.log.push(self.now, "world", what);
    }

    /// Remembers `socket`'s readiness before a change, once per settle.
    pub(crate) fn touch(&mut self, socket: SocketId) {
        if !self.touched.contains_key(&socket) {
            let before = self.readiness(socket);
            self.touched.insert(socket, before);
        }
    }

    /// Records `id` as changed: the backend wakes the tasks waiting on it.
    pub(crate) fn mark_changed(&mut self, id: SocketId) {
        self.changed.insert(id);
    }

    /// Records every touched socket whose readiness differs from before.
    pub(crate) fn settle(&mut self) {
        for (socket, before) in std::mem::take(&mut self.touched) {
            if self.readiness(socket) != before {
                self.changed.insert(socket);
            }
        }
    }

    /// Dispatches one event to its handler.
    fn handle(&mut self, event: Event) {
        match event {
            Event::Timer(host, id) => {
                self.record(host, format!("timer {}", id.0));
                self.fired.push(id);
            }
            Event::Tcp(segment) => self.tcp_deliver(segment),
            Event::Udp(datagram) => self.udp_arrive(datagram),
            Event::Repair(a, b) => self.repair(a, b),
            Event::Dns(id) => self.dns_arrive(id),
            Event::Fault(fault) => self.apply_fault(fault),
            Event::Icmp(icmp) => self.icmp_arrive(icmp),
            Event::Raw(packet) => self.raw_arrive(packet),
        }
    }

    /// Heals both directions between `a` and `b` and sends on the held TCP segments.
    fn repair(&mut self, a: HostId, b: HostId) {
        self.net.blocked.remove(&(a, b));
        self.net.blocked.remove(&(b, a));
        self.log_world(format!("repair {a:?}<->{b:?}"));
        self.release_held();
    }

    /// Whether `addr` may be bound on `host`: unspecified, loopback or one of its own.
    pub(crate) fn check_local(&self, host: HostId, addr: SocketAddr) -> Result<(), ErrorKind> {
        let ok = self.is_local(host, addr.ip());
        ok.then_some(()).ok_or(ErrorKind::AddressNotAvailable)
    }

    /// The source address `host` uses toward `to` (`route.rs`).
    pub(crate) fn source_ip(&self, host: HostId, to: IpAddr) -> IpAddr {
        self.source_for(host, to)
    }

    /// Makes the model checker's `chooser` pick among events due at one instant.
    pub(crate) fn set_chooser(&mut self, chooser: Chooser) {
        self.chooser = Some(chooser);
    }

    /// The picks of the model checker's chooser so far (`None` without one): the
    /// schedule that replays this run up to now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::sim::World::new(1).schedule_so_far(), None);
    /// ```
    pub fn schedule_so_far(&self) -> Option<Schedule> {
        self.chooser.as_ref().map(Chooser::schedule)
    }

    /// Takes the event the chooser picks among those due at the earliest instant.
    fn pop_chosen(&mut self) -> Option<(EventKey, Event)> {
        let candidates = explore::candidates(&self.queue);
        let pick = match (&self.chooser, candidates.len()) {
            (Some(chooser), n) if n > 1 => chooser.pick(n),
            _ => 0,
        };
        let key = *candidates.get(pick)?;
        self.queue.remove_entry(&key)
    }

    /// The model checker's pick among `count` ready host loops (`explore.rs`): 0, the
    /// drive loop's own order, without a chooser or with fewer than two.
    pub(crate) fn pick_host(&self, count: usize) -> usize {
        match (&self.chooser, count) {
            (Some(chooser), n) if n > 1 => chooser.pick(n),
            _ => 0,
        }
    }
}

/// `SOCK_SEED` from the environment, if set.
///
/// # Panics
///
/// When it is set but is not a number.
fn env_seed() -> Option<u64> {
    let text = std::env::var("SOCK_SEED").ok()?;
    let seed = text.trim().parse().unwrap_or_else(|_| {
        panic!("sock::sim: SOCK_SEED={text:?} is not a number (give the seed a failure printed)")
    });
    Some(seed)
}

/// A seed that differs from run to run (std's per-process hash keys).
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8)
}

impl Host {
    /// A host with no sockets and the default ephemeral range.
    fn new(name: &str, addrs: &[IpAddr]) -> Host {
        Host {
            name: name.to_string(),
            addrs: addrs.to_vec(),
            tcp_ports: BTreeMap::new(),
            udp_ports: BTreeMap::new(),
            fds: 0,
            fd_limit: 1024,
            tcp_buffers: (64 * 1024, 64 * 1024),
            ephemeral: (49152, 65535),
            next_ephemeral: 49152,
            unix_paths: BTreeMap::new(),
        }
    }

    /// Takes a free port from the ephemeral range of `ports`, searching from where the
    /// last search ended; `AddressNotAvailable` when every one is taken (as Linux's
    /// `connect` reports exhaustion).
    pub(crate) fn ephemeral_port(&mut self, tcp: bool) -> Result<u16, ErrorKind> {
        let (first, last) = self.ephemeral;
        let count = u32::from(last - first) + 1;
        let ports = if tcp {
            &self.tcp_ports
        } else {
            &self.udp_ports
        };
        for i in 0..count {
            let offset = (u32::from(self.next_ephemeral - first) + i) % count;
            let port = first + offset as u16;
            if !ports.contains_key(&port) {
                self.next_ephemeral = if port == last { first } else { port + 1 };
                return Ok(port);
            }
        }
        Err(ErrorKind::AddressNotAvailable)
    }
}

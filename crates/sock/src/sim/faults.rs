//! World-level faults beyond the fabric's: clogging, per-host clock skew, host crash and
//! restart, and scripted schedules of them ([`Fault`] at a virtual time).
//!
//! - **Clogging** delays, never drops: a packet put on a clogged direction (or sent by
//!   or to a clogged host) leaves when the clog ends, then pays the link's delay. Packets
//!   already on the wire when the clog starts are not held back. TCP's per-stream order
//!   is kept (a stream's segments never overtake each other).
//! - **Clock skew**: each host's loop clock reads `virtual + offset + virtual × drift`
//!   ([`ClockSkew`]), so a host's deadlines fire in its own time; the drive loop maps a
//!   host's deadline back to the first virtual instant its clock reaches it (never
//!   early by the host's clock). The world's own time and log stay virtual.
//! - **Crash** is a power-off: every socket of the host is gone at once, no FIN and no
//!   RST is sent; a crashed host answers nothing (SYNs and segments to it are lost, the
//!   peers' connects and reads run into their deadlines). After [`World::restart`] (same
//!   addresses, empty port tables) a segment for a connection the crash killed is
//!   answered with an RST, as a rebooted kernel does — also, once, for every connection
//!   whose peer sent to it while it was down (that peer's retransmission would draw it).
//! - **Schedules**: [`World::schedule_fault`] / [`World::script`] queue faults as
//!   events, ordered with every other event by (time, sequence).
//!
//! A crash at the world level takes a host's sockets (their operations then fail with
//! `Closed`); `Sim::crash` also drops the host loop's tasks and timers. Not modelled:
//! keepalive, a crashed host's queued outgoing packets (those already on the wire still
//! arrive).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::buggify::Buggify;
use super::spurious::Spurious;
use super::tcp::Segment;
use super::world::{Event, Socket};
use super::{HostId, SocketId, World};

/// Where every host clock's zero lies after the simulation's base instant, so a clock
/// set behind the virtual time still reads a valid `Instant` (a day's margin).
pub(crate) const CLOCK_EPOCH: Duration = Duration::from_secs(86_400);

/// A fault applied by the world at a virtual time ([`World::schedule_fault`]).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Cuts `from → to`, and `to → from` when `both` ([`World::partition`]).
    Partition {
        /// The sending side.
        from: HostId,
        /// The receiving side.
        to: HostId,
        /// Both directions.
        both: bool,
    },
    /// Heals both directions between two hosts.
    Repair(HostId, HostId),
    /// Clogs `from → to` for a while ([`World::clog`]).
    Clog {
        /// The sending side.
        from: HostId,
        /// The receiving side.
        to: HostId,
        /// How long, from the fault's time.
        duration: Duration,
    },
    /// Clogs everything a host sends and receives for a while ([`World::clog_host`]).
    ClogHost {
        /// The host.
        host: HostId,
        /// How long, from the fault's time.
        duration: Duration,
    },
    /// Powers a host off ([`World::crash`]).
    Crash(HostId),
    /// Powers a crashed host back on ([`World::restart`]).
    Restart(HostId),
    /// Sets a host's clock skew ([`World::set_clock_skew`]).
    Skew(HostId, ClockSkew),
}

/// How a host's clock differs from virtual time: it reads
/// `virtual + offset + virtual × drift_ppm / 1,000,000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockSkew {
    /// A fixed offset in nanoseconds (negative: the clock is behind); at most a day
    /// behind.
    pub offset_nanos: i64,
    /// How much faster the clock runs, in parts per million of virtual time (`1_000`:
    /// 0.1 % fast, `-1_000`: 0.1 % slow); above `-1_000_000`.
    pub drift_ppm: i64,
}

/// The world's state of these faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Clogged directions and when each unclogs.
    clogs: BTreeMap<(HostId, HostId), Duration>,
    /// Clogged hosts (both ways) and when each unclogs.
    host_clogs: BTreeMap<HostId, Duration>,
    /// Hosts powered off.
    down: BTreeSet<HostId>,
    /// TCP connections a crash killed, by the dead socket.
    dead: BTreeMap<SocketId, Dead>,
    /// Dead sockets that a peer sent to while their host was down.
    dead_hit: BTreeSet<SocketId>,
    /// Each host's clock skew, shared with its loop's clock.
    clocks: BTreeMap<HostId, Arc<HostClock>>,
    /// The swarm configuration drawn for this run, printed with failures (`swarm.rs`).
    pub(crate) swarm: Option<String>,
    /// Whether fault points fire, and which are activated (`buggify.rs`).
    pub(crate) buggify: Buggify,
    /// Readiness faults: spurious and deferred wake-ups (`spurious.rs`).
    pub(crate) spurious: Spurious,
}

/// A connection end a crash killed, which its peer may still send to.
#[derive(Clone, Copy, Debug)]
struct Dead {
    /// The crashed host it lived on.
    host: HostId,
    /// The peer's host.
    peer_host: HostId,
    /// The peer socket.
    peer: SocketId,
}

/// A host clock's skew, read by its loop's clock on every `now()`.
#[derive(Debug, Default)]
pub(crate) struct HostClock {
    /// [`ClockSkew::offset_nanos`].
    offset: AtomicI64,
    /// [`ClockSkew::drift_ppm`].
    drift_ppm: AtomicI64,
}

impl World {
    /// Clogs `from → to` until virtual time `until`: what is sent meanwhile leaves at
    /// `until` (delayed, not dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use std::time::Duration;
    /// use sock::sim::World;
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let any = SocketAddr::from(([0, 0, 0, 0], 0));
    /// let rx = world.udp_bind(b, SocketAddr::from(([10, 0, 0, 2], 53)))?;
    /// let tx = world.udp_bind(a, any)?;
    /// world.clog(a, b, Duration::from_secs(5));
    /// world.udp_send_to(tx, b"hi", SocketAddr::from(([10, 0, 0, 2], 53)))?;
    /// world.run_until_idle();
    /// assert_eq!(world.now(), Duration::from_millis(5001)); // the clog, then the link
    /// let mut buf = [0u8; 2];
    /// assert_eq!(world.udp_recv_from(rx, &mut buf)?.0, 2);
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn clog(&mut self, from: HostId, to: HostId, until: Duration) {
        let end = self.faults.clogs.entry((from, to)).or_default();
        *end = (*end).max(until);
        self.log_world(format!("clog {from:?}->{to:?} until {until:?}"));
    }

    /// Clogs everything `host` sends and receives until virtual time `until`.
    ///
    /// # Examples
    ///
    /// See [`World::clog`]; `world.clog_host(b, until)` holds `a`'s datagram the same.
    pub fn clog_host(&mut self, host: HostId, until: Duration) {
        let end = self.faults.host_clogs.entry(host).or_default();
        *end = (*end).max(until);
        self.log_world(format!("clog {host:?} until {until:?}"));
    }

    /// Sets `host`'s clock skew from now on (its loop's clock never goes back: a skew
    /// that would move it back holds it until virtual time catches up).
    ///
    /// # Panics
    ///
    /// When the offset is more than a day behind or `drift_ppm` is not above
    /// `-1_000_000` (a clock must move forward).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{ClockSkew, World};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// world.set_clock_skew(a, ClockSkew { offset_nanos: 5_000_000_000, drift_ppm: 0 });
    /// assert_eq!(world.host_time(a), Duration::from_secs(5));
    /// ```
    pub fn set_clock_skew(&mut self, host: HostId, skew: ClockSkew) {
        let day = CLOCK_EPOCH.as_nanos() as i64;
        assert!(
            skew.offset_nanos >= -day,
            "sock::sim: a clock more than a day behind"
        );
        assert!(
            skew.drift_ppm > -1_000_000,
            "sock::sim: a clock drift of -100 % or less"
        );
        let clock = self.host_clock(host);
        clock.offset.store(skew.offset_nanos, Ordering::Relaxed);
        clock.drift_ppm.store(skew.drift_ppm, Ordering::Relaxed);
        self.log_world(format!("skew {host:?} {skew}"));
    }

    /// `host`'s clock skew.
    pub fn clock_skew(&self, host: HostId) -> ClockSkew {
        self.faults
            .clocks
            .get(&host)
            .map_or_else(ClockSkew::default, |c| c.skew())
    }

    /// What `host`'s clock reads now (time since the world's start, skewed; saturating
    /// at zero for a clock behind).
    pub fn host_time(&self, host: HostId) -> Duration {
        let skew = self.clock_skew(host);
        skew.local(self.now).saturating_sub(CLOCK_EPOCH)
    }

    /// Powers `host` off: its sockets vanish without a FIN or an RST, its ports are
    /// free, and until [`World::restart`] nothing it is sent is answered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use sock::sim::World;
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// let listener = world.tcp_listen(b, server, 8)?;
    /// let c = world.tcp_connect(a, server)?;
    /// world.run_until_idle();
    /// world.tcp_accept(listener)?;
    /// world.crash(b);
    /// world.tcp_send(c, b"hello?")?; // lost: b is off
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_recv(c, &mut [0u8; 8]), Err(sock::ErrorKind::WouldBlock));
    /// world.restart(b); // the retransmission now draws an RST
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_recv(c, &mut [0u8; 8]), Err(sock::ErrorKind::ConnectionReset));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn crash(&mut self, host: HostId) {
        self.faults.down.insert(host);
        let ids: Vec<SocketId> = self.sockets_of(host);
        for id in ids {
            if let Some(Socket::Tcp(s)) = self.sockets.get(&id) {
                if let Some((peer, peer_host)) = s.peer_id().and_then(|p| self.peer_of(p)) {
                    let dead = Dead {
                        host,
                        peer_host,
                        peer,
                    };
                    self.faults.dead.insert(id, dead);
                }
            }
            self.touch(id);
            self.sockets.remove(&id);
            self.mark_changed(id);
        }
        let h = &mut self.hosts[host.0];
        h.tcp_ports.clear();
        h.udp_ports.clear();
        h.fds = 0;
        self.held.retain(|held| held.0 != host);
        self.log_world(format!("crash {host:?}"));
        self.settle();
    }

    /// Powers a crashed `host` back on, with the same addresses and no socket; the peers
    /// that sent to its dead connections while it was down get an RST now.
    pub fn restart(&mut self, host: HostId) {
        if !self.faults.down.remove(&host) {
            return;
        }
        self.log_world(format!("restart {host:?}"));
        let hit: Vec<SocketId> = std::mem::take(&mut self.faults.dead_hit)
            .into_iter()
            .filter(|id| self.dead_on(*id) == Some(host))
            .collect();
        hit.into_iter().for_each(|id| self.reset_dead(id));
    }

    /// Whether `host` is powered on.
    pub fn is_up(&self, host: HostId) -> bool {
        !self.faults.down.contains(&host)
    }

    /// Applies `fault` at virtual time `at` (now, if `at` has passed).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Fault, World};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// world.schedule_fault(Duration::from_secs(3), Fault::Crash(a));
    /// world.run_until(Duration::from_secs(2));
    /// assert!(world.is_up(a));
    /// world.run_until(Duration::from_secs(3));
    /// assert!(!world.is_up(a));
    /// ```
    pub fn schedule_fault(&mut self, at: Duration, fault: Fault) {
        self.schedule(at.max(self.now), Event::Fault(fault));
    }

    /// Schedules every `(virtual time, fault)` of a script.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Fault, World};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let s = Duration::from_secs;
    /// world.script([
    ///     (s(1), Fault::Partition { from: a, to: b, both: true }),
    ///     (s(2), Fault::Repair(a, b)),
    ///     (s(3), Fault::Crash(b)),
    ///     (s(4), Fault::Restart(b)),
    /// ]);
    /// world.run_until_idle();
    /// assert_eq!((world.now(), world.is_up(b)), (s(4), true));
    /// ```
    pub fn script(&mut self, faults: impl IntoIterator<Item = (Duration, Fault)>) {
        for (at, fault) in faults {
            self.schedule_fault(at, fault);
        }
    }

    /// Applies a scheduled fault now.
    pub(crate) fn apply_fault(&mut self, fault: Fault) {
        match fault {
            Fault::Partition { from, to, both } => self.partition(from, to, both),
            Fault::Repair(a, b) => self.repair_at(a, b, self.now),
            Fault::Clog { from, to, duration } => self.clog(from, to, self.now + duration),
            Fault::ClogHost { host, duration } => self.clog_host(host, self.now + duration),
            Fault::Crash(host) => self.crash(host),
            Fault::Restart(host) => self.restart(host),
            Fault::Skew(host, skew) => self.set_clock_skew(host, skew),
        }
    }

    /// When a packet put on `from → to` now arrives: after any clog ends, plus the
    /// link's delay.
    pub(crate) fn arrival(&mut self, from: HostId, to: HostId) -> Duration {
        let delay = self.net.delay(&mut self.rng, from, to);
        let f = &self.faults;
        let clogs = [
            f.clogs.get(&(from, to)),
            f.host_clogs.get(&from),
            f.host_clogs.get(&to),
        ];
        let start = clogs.into_iter().flatten().fold(self.now, |a, b| a.max(*b));
        start + delay
    }

    /// Delivers a TCP event unless a crash eats it: anything for a powered-off host is
    /// lost; a segment for a connection a crash killed draws an RST.
    pub(crate) fn tcp_deliver(&mut self, segment: Segment) {
        let to = match &segment {
            Segment::Syn { via, .. } => Some(via.1),
            Segment::Data { to, .. } | Segment::Fin { to } | Segment::Rst { to } => {
                if self.faults.dead.contains_key(to) {
                    return self.hit_dead(*to);
                }
                None
            }
            _ => None,
        };
        if to.is_some_and(|h| !self.is_up(h)) {
            return;
        }
        self.tcp_arrive(segment);
    }

    /// Whether `peer` is a socket a crash killed (a sender's window toward it is open:
    /// its bytes go out and draw the RST).
    pub(crate) fn is_dead(&self, peer: SocketId) -> bool {
        self.faults.dead.contains_key(&peer)
    }

    /// The shared skew of `host`'s clock (made on first use).
    pub(crate) fn host_clock(&mut self, host: HostId) -> Arc<HostClock> {
        self.faults.clocks.entry(host).or_default().clone()
    }

    /// A segment reached a dead socket: lost while its host is down (remembered for the
    /// restart), else answered with an RST.
    fn hit_dead(&mut self, dead: SocketId) {
        match self.dead_on(dead) {
            Some(host) if !self.is_up(host) => {
                self.faults.dead_hit.insert(dead);
            }
            _ => self.reset_dead(dead),
        }
    }

    /// Sends an RST from a dead socket's (restarted) host to its peer, once.
    fn reset_dead(&mut self, dead: SocketId) {
        let Some(d) = self.faults.dead.remove(&dead) else {
            return;
        };
        self.log_world(format!("rst from dead {dead:?}"));
        if !self.net.is_blocked(d.host, d.peer_host) {
            let at = self.arrival(d.host, d.peer_host);
            self.schedule(at, Event::Tcp(Segment::Rst { to: d.peer }));
        }
    }

    /// The host a dead socket lived on.
    fn dead_on(&self, dead: SocketId) -> Option<HostId> {
        self.faults.dead.get(&dead).map(|d| d.host)
    }

    /// A live TCP socket and its host.
    fn peer_of(&self, peer: SocketId) -> Option<(SocketId, HostId)> {
        match self.sockets.get(&peer) {
            Some(Socket::Tcp(s)) => Some((peer, s.host)),
            _ => None,
        }
    }

    /// Every socket of `host`, in id order.
    fn sockets_of(&self, host: HostId) -> Vec<SocketId> {
        let on = |s: &Socket| match s {
            Socket::Tcp(t) => t.host == host,
            Socket::Udp(u) => u.host == host,
            Socket::Unix(u) => u.host == host,
        };
        self.sockets
            .iter()
            .filter(|(_, s)| on(s))
            .map(|(id, _)| *id)
            .collect()
    }
}

impl ClockSkew {
    /// The local reading of virtual time `v`, on the clock epoch's scale.
    pub(crate) fn local(&self, v: Duration) -> Duration {
        let v = v.as_nanos() as i128;
        let drift = v * i128::from(self.drift_ppm) / 1_000_000;
        let local = CLOCK_EPOCH.as_nanos() as i128 + v + drift + i128::from(self.offset_nanos);
        Duration::from_nanos(local.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The first virtual instant whose local reading is at least `local` (on the epoch's
    /// scale): a deadline of the host maps to it, never early by the host's clock.
    pub(crate) fn virtual_at(&self, local: Duration) -> Duration {
        let x = local.as_nanos() as i128
            - CLOCK_EPOCH.as_nanos() as i128
            - i128::from(self.offset_nanos);
        if x <= 0 {
            return Duration::ZERO;
        }
        let rate = 1_000_000 + i128::from(self.drift_ppm);
        let mut v = Duration::from_nanos(((x * 1_000_000 + rate - 1) / rate) as u64);
        while self.local(v) < local {
            v += Duration::from_nanos(1);
        }
        while !v.is_zero() && self.local(v - Duration::from_nanos(1)) >= local {
            v -= Duration::from_nanos(1);
        }
        v
    }
}

impl fmt::Display for ClockSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.offset_nanos < 0 { "-" } else { "+" };
        let offset = Duration::from_nanos(self.offset_nanos.unsigned_abs());
        write!(f, "offset {sign}{offset:?} drift {}ppm", self.drift_ppm)
    }
}

impl HostClock {
    /// The skew now.
    pub(crate) fn skew(&self) -> ClockSkew {
        ClockSkew {
            offset_nanos: self.offset.load(Ordering::Relaxed),
            drift_ppm: self.drift_ppm.load(Ordering::Relaxed),
        }
    }
}

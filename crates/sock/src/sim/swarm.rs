//! Swarm mode: every fault parameter of a run drawn from its seed.
//!
//! Swarm testing (Groce et al., and FoundationDB's simulation) finds more bugs than
//! one fixed "everything a little" configuration: each run switches each kind of fault
//! on or off, and draws its strength, so some runs are calm but for one fault and some
//! are storms. [`Swarm::draw`] decides, each kind on with probability one half:
//!
//! | kind | strength |
//! |---|---|
//! | link latency (always) | 0–50 ms, plus uniform jitter up to the latency (when on) |
//! | datagram loss / duplication / reordering | 0–20 % / 0–10 % / 0–30 % |
//! | TCP resets / stalls per connection | 0–30 % / 0–50 %, stalls 10 ms–3 s, within 1 ms–2 s of its start |
//! | partitions | 1–3, one- or two-way, healed after 10 ms–half the horizon |
//! | clogs | 1–3 of a direction or (one in four) a whole host, 10 ms–2 s |
//! | clock skew | per host (one in two): offset within ±1 s, drift within ±1,000 ppm |
//! | `buggify` points | enabled for the run (`buggify.rs`) |
//! | readiness faults | spurious wakes 0–50 % of rounds, deferred wake-ups 0–50 % by 1–4 rounds, spurious changes 0–30 % of rounds (`spurious.rs`) |
//!
//! Crashes are not drawn (a workload must expect them): script them with
//! [`World::schedule_fault`]. The configuration is [`fmt::Display`]; once applied
//! ([`World::swarm`]) it is printed with `SOCK_SEED=` in every failure report, and the
//! same seed draws the same configuration.

use std::fmt;
use std::time::Duration;

use super::faults::{ClockSkew, Fault};
use super::net::{Link, TcpFaults};
use super::rng::Rng;
use super::spurious::ReadinessFaults;
use super::{HostId, World};

/// A run's fault configuration, drawn by [`Swarm::draw`].
#[derive(Clone, Debug, PartialEq)]
pub struct Swarm {
    /// The default link between hosts.
    pub link: Link,
    /// The faults drawn for each TCP connection.
    pub tcp: TcpFaults,
    /// Whether `buggify` points may fire in this run.
    pub buggify: bool,
    /// Partitions, repairs, clogs and skews, by virtual time.
    pub schedule: Vec<(Duration, Fault)>,
    /// Spurious and deferred wake-ups ([`World::set_readiness_faults`]), if on.
    pub readiness: Option<ReadinessFaults>,
}

impl Swarm {
    /// Draws a configuration for `hosts` over a run of about `horizon` of virtual time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{Rng, Swarm, World};
    ///
    /// let mut world = World::new(1);
    /// let hosts = [world.add_host("a", &["10.0.0.1".parse().unwrap()])];
    /// let one = Swarm::draw(&mut Rng::new(9), &hosts, Duration::from_secs(10));
    /// assert_eq!(one, Swarm::draw(&mut Rng::new(9), &hosts, Duration::from_secs(10)));
    /// println!("{one}");
    /// ```
    pub fn draw(rng: &mut Rng, hosts: &[HostId], horizon: Duration) -> Swarm {
        let link = draw_link(rng);
        let tcp = draw_tcp(rng);
        let buggify = rng.chance(0.5);
        let mut schedule = Vec::new();
        if hosts.len() >= 2 {
            draw_partitions(rng, hosts, horizon, &mut schedule);
            draw_clogs(rng, hosts, horizon, &mut schedule);
        }
        draw_skews(rng, hosts, &mut schedule);
        schedule.sort_by_key(|(at, _)| *at);
        let readiness = maybe(rng, |rng| Some(draw_readiness(rng)));
        Swarm {
            link,
            tcp,
            buggify,
            schedule,
            readiness,
        }
    }
}

impl World {
    /// Draws a [`Swarm`] configuration for every host from the world's generator and
    /// applies it ([`World::apply_swarm`]); call it once the hosts are added.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::World;
    ///
    /// let draw = |seed| {
    ///     let mut world = World::new(seed);
    ///     world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    ///     world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    ///     world.swarm(Duration::from_secs(10))
    /// };
    /// assert_eq!(draw(5), draw(5)); // one seed, one configuration
    /// println!("{}", draw(5));
    /// ```
    pub fn swarm(&mut self, horizon: Duration) -> Swarm {
        let hosts: Vec<HostId> = (0..self.hosts.len()).map(HostId).collect();
        let swarm = Swarm::draw(&mut self.rng, &hosts, horizon);
        self.apply_swarm(&swarm);
        swarm
    }

    /// Applies a configuration: the default link, the TCP faults, `buggify`, the
    /// readiness faults, the schedule; failure reports print it from now on.
    pub fn apply_swarm(&mut self, swarm: &Swarm) {
        self.set_default_link(swarm.link);
        self.set_tcp_faults(swarm.tcp);
        self.set_buggify(swarm.buggify);
        self.set_readiness_faults(swarm.readiness);
        self.script(swarm.schedule.iter().copied());
        self.faults.swarm = Some(swarm.to_string());
        self.log_world(format!("swarm {} faults", swarm.schedule.len()));
    }

    /// The swarm configuration applied to this world, as printed in failure reports.
    pub fn swarm_config(&self) -> Option<&str> {
        self.faults.swarm.as_deref()
    }
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (l, t) = (&self.link, &self.tcp);
        writeln!(
            f,
            "swarm: link latency {:?} jitter {:?} loss {:.3} dup {:.3} reorder {:.3}",
            l.latency, l.jitter, l.loss, l.duplicate, l.reorder
        )?;
        writeln!(
            f,
            "  tcp reset {:.2} stall {:.2} for {:?} within {:?}; buggify {}",
            t.reset,
            t.stall,
            t.stall_for,
            t.within,
            if self.buggify { "on" } else { "off" }
        )?;
        if let Some(r) = &self.readiness {
            writeln!(
                f,
                "  readiness: spurious wake {:.3} defer {:.3} by up to {} rounds, spurious change {:.3}",
                r.spurious_wake, r.defer, r.max_defer, r.spurious_change
            )?;
        }
        for (at, fault) in &self.schedule {
            writeln!(f, "  at {at:?}: {fault}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Partition { from, to, both } => {
                let arrow = if *both { "<->" } else { "->" };
                write!(f, "partition {}{arrow}{}", from.0, to.0)
            }
            Fault::Repair(a, b) => write!(f, "repair {}<->{}", a.0, b.0),
            Fault::Clog { from, to, duration } => {
                write!(f, "clog {}->{} for {duration:?}", from.0, to.0)
            }
            Fault::ClogHost { host, duration } => {
                write!(f, "clog host {} for {duration:?}", host.0)
            }
            Fault::Crash(host) => write!(f, "crash {}", host.0),
            Fault::Restart(host) => write!(f, "restart {}", host.0),
            Fault::Skew(host, skew) => write!(f, "skew {} {skew}", host.0),
        }
    }
}

/// The default link: latency always, the rest each on with probability one half.
fn draw_link(rng: &mut Rng) -> Link {
    let latency = millis(rng, 0, 50);
    Link {
        latency,
        jitter: maybe(rng, |r| {
            Duration::from_nanos(r.below(latency.as_nanos() as u64 + 1))
        }),
        loss: maybe(rng, |r| rate(r, 0.2)),
        duplicate: maybe(rng, |r| rate(r, 0.1)),
        reorder: maybe(rng, |r| rate(r, 0.3)),
    }
}

/// Per-connection resets and stalls, each on with probability one half, at times
/// drawn within 1 ms–2 s of the connection's start (a window as long as the run would
/// miss every short connection).
fn draw_tcp(rng: &mut Rng) -> TcpFaults {
    TcpFaults {
        reset: maybe(rng, |r| rate(r, 0.3)),
        stall: maybe(rng, |r| rate(r, 0.5)),
        stall_for: millis(rng, 10, 3000),
        within: millis(rng, 1, 2000),
    }
}

/// With probability one half: 1–3 partitions, each healed later.
fn draw_partitions(
    rng: &mut Rng,
    hosts: &[HostId],
    horizon: Duration,
    out: &mut Vec<(Duration, Fault)>,
) {
    if !rng.chance(0.5) {
        return;
    }
    for _ in 0..1 + rng.below(3) {
        let (from, to) = pair(rng, hosts);
        let at = within(rng, horizon);
        let both = rng.chance(0.5);
        let heal = at + Duration::from_millis(10) + within(rng, horizon / 2);
        out.push((at, Fault::Partition { from, to, both }));
        out.push((heal, Fault::Repair(from, to)));
    }
}

/// With probability one half: 1–3 clogs of a direction or a host.
fn draw_clogs(
    rng: &mut Rng,
    hosts: &[HostId],
    horizon: Duration,
    out: &mut Vec<(Duration, Fault)>,
) {
    if !rng.chance(0.5) {
        return;
    }
    for _ in 0..1 + rng.below(3) {
        let at = within(rng, horizon);
        let duration = millis(rng, 10, 2000);
        let fault = if rng.chance(0.25) {
            let host = hosts[rng.below(hosts.len() as u64) as usize];
            Fault::ClogHost { host, duration }
        } else {
            let (from, to) = pair(rng, hosts);
            Fault::Clog { from, to, duration }
        };
        out.push((at, fault));
    }
}

/// With probability one half: a skew for each host, each with probability one half.
fn draw_skews(rng: &mut Rng, hosts: &[HostId], out: &mut Vec<(Duration, Fault)>) {
    if !rng.chance(0.5) {
        return;
    }
    for &host in hosts {
        if rng.chance(0.5) {
            let offset_nanos = rng.below(2_000_000_001) as i64 - 1_000_000_000;
            let drift_ppm = rng.below(2001) as i64 - 1000;
            let skew = ClockSkew {
                offset_nanos,
                drift_ppm,
            };
            out.push((Duration::ZERO, Fault::Skew(host, skew)));
        }
    }
}

/// Readiness fault rates (when swarm mode switches them on).
fn draw_readiness(rng: &mut Rng) -> ReadinessFaults {
    ReadinessFaults {
        spurious_wake: rate(rng, 0.5),
        defer: rate(rng, 0.5),
        max_defer: 1 + rng.below(4) as u32,
        spurious_change: rate(rng, 0.3),
    }
}

/// `f`'s draw with probability one half, else the default (switched off).
fn maybe<T: Default>(rng: &mut Rng, f: impl FnOnce(&mut Rng) -> T) -> T {
    if rng.chance(0.5) {
        f(rng)
    } else {
        T::default()
    }
}

/// A probability in `0..=max`, in steps of 0.001.
fn rate(rng: &mut Rng, max: f64) -> f64 {
    let steps = (max * 1000.0) as u64;
    rng.below(steps + 1) as f64 / 1000.0
}

/// A duration of `lo..=hi` milliseconds.
fn millis(rng: &mut Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(lo + rng.below(hi - lo + 1))
}

/// A time in `0..horizon`.
fn within(rng: &mut Rng, horizon: Duration) -> Duration {
    Duration::from_nanos(rng.below(horizon.as_nanos() as u64))
}

/// Two different hosts (needs at least two).
fn pair(rng: &mut Rng, hosts: &[HostId]) -> (HostId, HostId) {
    let n = hosts.len() as u64;
    let a = rng.below(n);
    let b = (a + 1 + rng.below(n - 1)) % n;
    (hosts[a as usize], hosts[b as usize])
}

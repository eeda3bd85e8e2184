//! Readiness faults on a simulated loop, drawn from the world's seed: the simulated
//! counterpart of `sock_poll::faults` (whose hooks sit in the OS reactor, which a
//! simulated socket never registers with).
//!
//! Readiness is a hint and the world's answer is the verdict: a simulated operation
//! asks the world each time its task is polled and parks again on `WouldBlock`. These
//! faults check that, with [`World::set_readiness_faults`] on, at each round of the
//! drive loop (`backend.rs`), in this order and drawing from the world's generator:
//!
//! 1. each socket whose readiness really changed has its wake-up **deferred** with
//!    probability [`ReadinessFaults::defer`], by 1 to [`ReadinessFaults::max_defer`]
//!    drive rounds; a deferred wake-up is never lost, and virtual time does not move
//!    while one is held (so a deadline never fires because of the fault alone);
//! 2. with probability [`ReadinessFaults::spurious_wake`], the tasks parked on one
//!    direction of one socket (drawn among the parked ones) are woken although nothing
//!    changed;
//! 3. with probability [`ReadinessFaults::spurious_change`], one socket (drawn among
//!    the parked ones) is reported changed, both directions, although nothing did.
//!
//! Every injection is logged (so it is in [`World::hash`]); draws that inject nothing
//! are not logged, but they advance the generator, which every later logged choice
//! follows, so one seed still gives one run. [`World::readiness_fault_counts`] counts
//! the injections of each kind.

use std::fmt::Write as _;

use super::{SocketId, World};

/// Probabilities of the readiness faults of a world ([`World::set_readiness_faults`]):
/// wake-ups that lie (spurious or late, never lost), drawn from the world's seed, each
/// one written to the event log. A simulated operation woken for nothing asks the
/// world again and parks again.
///
/// # Examples
///
/// ```
/// let faults = sock::sim::ReadinessFaults::storm();
/// assert!(faults.defer > 0.0 && faults.max_defer >= 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReadinessFaults {
    /// Per drive round: probability the tasks parked on a direction of a socket are
    /// woken although nothing changed.
    pub spurious_wake: f64,
    /// Per real change: probability its wake-up is deferred.
    pub defer: f64,
    /// A deferred wake-up is delivered after 1 to this many drive rounds (at least 1).
    pub max_defer: u32,
    /// Per drive round: probability a socket is reported changed although it is not.
    pub spurious_change: f64,
}

/// How many readiness faults of each kind a world has injected; see
/// [`World::readiness_fault_counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadinessFaultCounts {
    /// Directions woken although nothing changed.
    pub spurious_wakes: u64,
    /// Real wake-ups deferred.
    pub deferred: u64,
    /// Sockets reported changed although nothing did.
    pub spurious_changes: u64,
}

/// The world's state of these faults.
#[derive(Debug, Default)]
pub(crate) struct Spurious {
    /// The probabilities; `None`: off.
    config: Option<ReadinessFaults>,
    /// Wake-ups held back: (socket, drive rounds left).
    held: Vec<(SocketId, u32)>,
    /// Injections so far.
    counts: ReadinessFaultCounts,
}

/// What a drive round wakes: whole sockets, and single (socket, direction) entries.
#[derive(Debug, Default)]
pub(crate) struct Wakes {
    /// Sockets whose every parked task wakes (changed, really or spuriously).
    pub(crate) sockets: Vec<SocketId>,
    /// (socket, direction index) entries whose parked tasks wake (spurious wakes).
    pub(crate) directions: Vec<(SocketId, usize)>,
}

impl ReadinessFaults {
    /// Heavy faults: a spurious wake in half the rounds, a third of the real wake-ups
    /// deferred by up to 3 rounds, a spurious change in a quarter of the rounds.
    ///
    /// # Examples
    ///
    /// See [`World::set_readiness_faults`].
    pub fn storm() -> ReadinessFaults {
        ReadinessFaults {
            spurious_wake: 0.5,
            defer: 0.33,
            max_defer: 3,
            spurious_change: 0.25,
        }
    }
}

impl World {
    /// Turns readiness faults on with `faults` (off by default), or off with `None`:
    /// see [`ReadinessFaults`] for what they inject. The probabilities are clamped
    /// to 0..=1 and `max_defer` to at least 1.
    ///
    /// # Examples
    ///
    /// A TCP echo still delivers every byte in order while wake-ups lie:
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::{ReadinessFaults, Sim, World};
    /// use sock::{Expires, Family};
    ///
    /// let sim = Sim::new(World::new(5));
    /// sim.world().set_readiness_faults(Some(ReadinessFaults::storm()));
    /// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let b = sim.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// b.spawn(async {
    ///     let l = sock::tcp(Family::INET)?;
    ///     l.listen("10.0.0.2", 7)?;
    ///     let c = l.accept().await?;
    ///     let mut buf = [0u8; 1000];
    ///     c.recvn(&mut buf).await?;
    ///     c.send(&buf).await
    /// });
    /// let back = a.run(async {
    ///     let c = sock::tcp(Family::INET)?;
    ///     c.connect("10.0.0.2", 7).timeout(Duration::from_secs(5)).await?;
    ///     let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    ///     c.send(&data).await?;
    ///     let mut back = vec![0u8; 1000];
    ///     c.recvn(&mut back).await?;
    ///     Ok::<_, sock::Error>(back == data)
    /// })?;
    /// assert!(back);
    /// println!("{:?}", sim.world().readiness_fault_counts());
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "spurious")]
    pub fn set_readiness_faults(&mut self, faults: Option<ReadinessFaults>) {
        let faults = faults.map(|f| ReadinessFaults {
            spurious_wake: f.spurious_wake.clamp(0.0, 1.0),
            defer: f.defer.clamp(0.0, 1.0),
            max_defer: f.max_defer.max(1),
            spurious_change: f.spurious_change.clamp(0.0, 1.0),
        });
        self.faults.spurious.config = faults;
        self.log_world(format!("readiness faults {faults:?}"));
    }

    /// The readiness faults in effect, if on.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut world = sock::sim::World::new(1);
    /// assert_eq!(world.readiness_faults(), None);
    /// world.set_readiness_faults(Some(sock::sim::ReadinessFaults::storm()));
    /// assert!(world.readiness_faults().is_some());
    /// ```
    pub fn readiness_faults(&self) -> Option<ReadinessFaults> {
        self.faults.spurious.config
    }

    /// How many readiness faults of each kind were injected so far.
    ///
    /// # Examples
    ///
    /// See [`World::set_readiness_faults`].
    pub fn readiness_fault_counts(&self) -> ReadinessFaultCounts {
        self.faults.spurious.counts
    }

    /// Whether deferred wake-ups are held: the drive loop delivers them before it
    /// moves virtual time.
    pub(crate) fn wakes_held(&self) -> bool {
        !self.faults.spurious.held.is_empty()
    }

    /// One drive round's wake-ups: the sockets that really `changed`, less those
    /// deferred now, plus deferred ones now due, plus spurious ones. `parked` lists
    /// the (socket, direction) entries tasks wait on (read only when faults are on).
    pub(crate) fn readiness_round(
        &mut self,
        changed: Vec<SocketId>,
        parked: impl FnOnce() -> Vec<(SocketId, usize)>,
    ) -> Wakes {
        let Some(config) = self.faults.spurious.config else {
            return Wakes {
                sockets: changed,
                directions: Vec::new(),
            };
        };
        let mut wakes = Wakes {
            sockets: self.release_deferred_wakes(),
            directions: Vec::new(),
        };
        for socket in changed {
            if self.rng.chance(config.defer) {
                self.defer_wake(socket, config.max_defer);
            } else {
                wakes.sockets.push(socket);
            }
        }
        let parked = parked();
        if let Some(entry) = self.pick_parked(config.spurious_wake, &parked) {
            self.faults.spurious.counts.spurious_wakes += 1;
            self.log_world(format!("spurious wake {:?} {}", entry.0, dir_name(entry.1)));
            wakes.directions.push(entry);
        }
        if let Some((socket, _)) = self.pick_parked(config.spurious_change, &parked) {
            self.faults.spurious.counts.spurious_changes += 1;
            self.log_world(format!("spurious change {socket:?}"));
            wakes.sockets.push(socket);
        }
        wakes
    }

    /// Counts down the held wake-ups; those due, to deliver now (logged).
    fn release_deferred_wakes(&mut self) -> Vec<SocketId> {
        let mut due = Vec::new();
        self.faults.spurious.held.retain_mut(|(socket, left)| {
            *left -= 1;
            if *left == 0 {
                due.push(*socket);
            }
            *left > 0
        });
        if !due.is_empty() {
            let mut what = String::from("deferred wake delivered");
            due.iter().for_each(|s| {
                let _ = write!(what, " {s:?}");
            });
            self.log_world(what);
        }
        due
    }

    /// Holds `socket`'s wake-up for 1..=`max` rounds (logged).
    fn defer_wake(&mut self, socket: SocketId, max: u32) {
        let rounds = 1 + self.rng.below(u64::from(max)) as u32;
        self.faults.spurious.counts.deferred += 1;
        self.faults.spurious.held.push((socket, rounds));
        self.log_world(format!("defer wake {socket:?} by {rounds} rounds"));
    }

    /// With probability `p`, one of `parked` drawn uniformly (nothing drawn when none).
    fn pick_parked(&mut self, p: f64, parked: &[(SocketId, usize)]) -> Option<(SocketId, usize)> {
        if parked.is_empty() || !self.rng.chance(p) {
            return None;
        }
        let i = self.rng.below(parked.len() as u64) as usize;
        Some(parked[i])
    }
}

/// A waiter-table direction index's name, for the log.
fn dir_name(dir: usize) -> &'static str {
    if dir == 0 { "read" } else { "write" }
}

//! `buggify` fault points: places in the user's own code where a simulated run may
//! take the rare path on purpose (a short read, an early timeout, a retry), FoundationDB
//! style.
//!
//! The choice, written down: a point (a call site, by file, line and column) is
//! *activated* for a run with probability [`BUGGIFY_ACTIVATE`] (25 %), decided from the
//! world's generator the first time the run reaches it; an activated point then fires
//! each time it is reached with probability [`BUGGIFY_FIRE`] (25 %). So most points are
//! quiet in a given run and a few fire often — a rare path gets hit many times in some
//! runs instead of once in a while in every run. Every decision and firing is drawn in
//! event order and logged, so one seed gives one set of firings.
//!
//! [`buggify`] is `false` on a real loop, on a simulated loop whose world has buggify
//! off ([`World::set_buggify`], drawn by swarm mode), and in a build without the `sim`
//! feature the [`buggify!`](crate::buggify!) macro is the constant `false`.

use std::collections::BTreeMap;
use std::panic::Location;

use super::socket::current_host;
use super::{HostId, World};

/// Probability a reached point is activated for the run (decided once per run).
pub const BUGGIFY_ACTIVATE: f64 = 0.25;

/// Probability an activated point fires each time it is reached.
pub const BUGGIFY_FIRE: f64 = 0.25;

/// The world's buggify state.
#[derive(Debug, Default)]
pub(crate) struct Buggify {
    /// Whether points may fire in this run.
    enabled: bool,
    /// Each point reached so far (file, line, column) and whether it is activated.
    points: BTreeMap<(&'static str, u32, u32), bool>,
}

/// Whether the fault point at the caller fires now: only on a simulated loop whose
/// world has buggify on; see the module docs for the probabilities.
///
/// # Panics
///
/// While the simulation's world is borrowed (a `WorldMut` held by the caller).
///
/// # Examples
///
/// ```
/// use sock::sim::{Sim, World};
///
/// assert!(!sock::sim::buggify()); // not on a simulated loop
/// let sim = Sim::new(World::new(3));
/// let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
/// sim.world().set_buggify(true);
/// let fired = a.run(async {
///     (0..100).filter(|_| sock::buggify!()).count() // one point, reached 100 times
/// });
/// assert!(fired == 0 || fired > 5); // quiet this run, or firing about a quarter
/// ```
#[track_caller]
pub fn buggify() -> bool {
    let at = Location::caller();
    let Some(ctx) = current_host() else {
        return false;
    };
    let Some(shared) = ctx.shared.upgrade() else {
        return false;
    };
    shared.with_world(|w| w.buggify_point(ctx.host, at))
}

/// `sock::sim::buggify()` at the macro's call site: whether this fault point fires now.
///
/// # Examples
///
/// See [`buggify`](crate::sim::buggify()).
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::sim::buggify()
    };
}

impl World {
    /// Turns `buggify` points on or off for this run (off by default; swarm mode draws
    /// it).
    ///
    /// # Examples
    ///
    /// See [`buggify`](crate::sim::buggify()).
    pub fn set_buggify(&mut self, enabled: bool) {
        self.faults.buggify.enabled = enabled;
    }

    /// Whether `buggify` points may fire in this run.
    pub fn buggify_enabled(&self) -> bool {
        self.faults.buggify.enabled
    }

    /// Whether the point at `at`, reached by `host`, fires now.
    pub(crate) fn buggify_point(&mut self, host: HostId, at: &'static Location<'static>) -> bool {
        if !self.faults.buggify.enabled {
            return false;
        }
        let key = (at.file(), at.line(), at.column());
        let active = match self.faults.buggify.points.get(&key) {
            Some(active) => *active,
            None => {
                let active = self.rng.chance(BUGGIFY_ACTIVATE);
                self.faults.buggify.points.insert(key, active);
                active
            }
        };
        let fired = active && self.rng.chance(BUGGIFY_FIRE);
        if fired {
            self.record(host, format!("buggify {}:{}:{}", key.0, key.1, key.2));
        }
        fired
    }
}

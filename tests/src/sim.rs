//! Setup shared by the simulation tests (`tests/tests/sim_*.rs`).

use std::net::IpAddr;

use sock::sim::{Host, Sim, World};

/// An address from text.
///
/// # Panics
///
/// If `s` is not an address literal.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("a literal address")
}

/// A simulation of `seed` (or `SOCK_SEED`) with hosts `a` (10.0.0.1) and `b` (10.0.0.2).
pub fn two_hosts(seed: u64) -> (Sim, Host, Host) {
    let sim = Sim::new(World::from_env_or(seed));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2")]);
    (sim, a, b)
}

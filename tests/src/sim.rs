//! Setup shared by the simulation tests (`tests/tests/sim_*.rs`).

use std::future::Future;
use std::net::IpAddr;

use sock::ErrorKind;
use sock::sim::{Host, Sim, World};

/// How many echo round trips the client of a swarm run makes ([`swarm_rounds`]).
pub const SWARM_ROUNDS: u8 = 5;

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

/// The client of a swarm run (`sim_faults.rs` in loop mode, `sim_shared.rs` in the
/// shared-poller mode): [`SWARM_ROUNDS`] echo round trips one after the other, round
/// `i` being `round_trip(i)`, which connects, sends `[i; 16]` and reads 16 bytes back
/// within its own deadline. Each round may fail under the seed's faults (none may
/// hang); the error kind of each round, `None` where the echo came back.
///
/// # Panics
///
/// If an echo comes back wrong.
pub async fn swarm_rounds<F, Fut>(mut round_trip: F) -> Vec<Option<ErrorKind>>
where
    F: FnMut(u8) -> Fut,
    Fut: Future<Output = sock::Result<[u8; 16]>>,
{
    let mut outcomes = Vec::new();
    for i in 0..SWARM_ROUNDS {
        let echo = round_trip(i).await;
        let echo = echo.map(|buf| assert_eq!(buf, [i; 16], "an echo came back wrong"));
        outcomes.push(echo.err().map(|e| e.kind()));
    }
    outcomes
}

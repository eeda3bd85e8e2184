//! The `sim_echo` example over many seeds: every echo exact or a clean error, the
//! faults really biting, and one seed giving one event-log hash.

use std::time::{Duration, Instant};

use sock_examples::sim_echo::{self, CLIENTS, ROUNDS};

/// A generous bound that only turns a hang into a failure.
const HANG: Duration = Duration::from_secs(120);

#[test]
fn two_hundred_seeds_echo_exactly_or_fail_cleanly() {
    let wall = Instant::now();
    let runs = sim_echo::run_seeds(0, 200).unwrap_or_else(|(seed, msg)| {
        panic!("seed {seed} failed:\n{msg}");
    });
    assert!(wall.elapsed() < HANG, "{:?}", wall.elapsed());
    assert_eq!(runs.len(), 200);
    let echoed: usize = runs.iter().map(|r| r.echoed).sum();
    let errors: usize = runs.iter().map(|r| r.errors).sum();
    assert_eq!(echoed + errors, 200 * CLIENTS * ROUNDS);
    assert!(
        errors > 0,
        "the seeded resets and cuts never failed an echo"
    );
    assert!(
        echoed > errors,
        "most echoes get through: {echoed} vs {errors}"
    );
    let stretched = runs
        .iter()
        .filter(|r| r.virtual_time > Duration::from_secs(5));
    assert!(stretched.count() > 0, "no stall or cut ever delayed a run");
}

#[test]
fn the_same_seed_gives_the_same_event_log_hash() {
    for seed in [3, 58, 1234] {
        let first = sim_echo::run_seed(seed).expect("the seed passes");
        let again = sim_echo::run_seed(seed).expect("the seed passes again");
        assert_eq!(first, again, "seed {seed}");
        assert!(first.events > 0);
    }
    let a = sim_echo::run_seed(3).unwrap().hash;
    let b = sim_echo::run_seed(4).unwrap().hash;
    assert_ne!(a, b, "the seed steers the faults");
}

#[test]
fn a_hundred_swarm_seeds_echo_exactly_or_fail_cleanly_and_replay() {
    let wall = Instant::now();
    let runs = sim_echo::run_seeds_with(0, 100, true).unwrap_or_else(|(seed, msg)| {
        panic!("swarm seed {seed} failed:\n{msg}");
    });
    assert!(wall.elapsed() < HANG, "{:?}", wall.elapsed());
    let echoed: usize = runs.iter().map(|r| r.echoed).sum();
    let errors: usize = runs.iter().map(|r| r.errors).sum();
    assert_eq!(echoed + errors, 100 * CLIENTS * ROUNDS);
    assert!(echoed > 0 && errors > 0, "{echoed} exact, {errors} errors");
    for seed in [0, 7, 42] {
        let again = sim_echo::run_seed_swarm(seed).expect("the seed passes again");
        assert_eq!(runs[seed as usize], again, "swarm seed {seed}");
    }
    assert_ne!(
        runs[1].hash,
        sim_echo::run_seed(1).unwrap().hash,
        "swarm draws its own"
    );
}

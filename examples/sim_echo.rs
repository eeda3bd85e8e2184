//! An echo server and clients on simulated hosts under seeded faults, over many seeds:
//! `sim_echo --seeds 1000 [--start S]`, or one seed: `sim_echo --seed S` (also
//! `SOCK_SEED=S sim_echo`); `--swarm` draws every fault parameter from each seed
//! (swarm mode). A failure prints `SOCK_SEED=<seed>`, the log tail (and the swarm
//! configuration), and exits with status 1.

use std::process::ExitCode;
use std::time::Instant;

use sock_examples::args::flag;
use sock_examples::sim_echo;

fn main() -> ExitCode {
    let (start, count) = seeds();
    let swarm = std::env::args().any(|a| a == "--swarm");
    let wall = Instant::now();
    match sim_echo::run_seeds_with(start, count, swarm) {
        Ok(runs) => {
            let secs = wall.elapsed().as_secs_f64();
            let echoed: usize = runs.iter().map(|r| r.echoed).sum();
            let errors: usize = runs.iter().map(|r| r.errors).sum();
            if let [one] = runs.as_slice() {
                println!(
                    "sim_echo: seed {} hash {:016x} events {}",
                    one.seed, one.hash, one.events
                );
            }
            println!(
                "sim_echo: {count} seeds from {start} passed: {echoed} echoes exact, {errors} clean errors, {secs:.2} s, {:.0} seeds/s",
                count as f64 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err((seed, msg)) => {
            eprintln!("{msg}");
            println!(
                "sim_echo: seed {seed} failed; replay: SOCK_SEED={seed} cargo run --release -p sock-examples --example sim_echo{}",
                if swarm { " -- --swarm" } else { "" }
            );
            ExitCode::FAILURE
        }
    }
}

/// The seeds to run: `SOCK_SEED` or `--seed S` alone, else `--seeds N` from `--start S`.
fn seeds() -> (u64, u64) {
    let number = |name: &str, text: String| -> u64 {
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} takes a number, got {text:?}"))
    };
    if let Ok(seed) = std::env::var("SOCK_SEED") {
        return (number("SOCK_SEED", seed), 1);
    }
    let one = flag("--seed", "");
    if !one.is_empty() {
        return (number("--seed", one), 1);
    }
    (
        number("--start", flag("--start", "0")),
        number("--seeds", flag("--seeds", "100")),
    )
}

//! `chaos`: `sock-tests`' randomized API-sequence tester for a bounded time, on fresh
//! seeds each run (the first seed comes from the clock and is printed, so any failure
//! replays with `chaos --replay SEED`). Each scenario runs in a child process under a
//! watchdog; the tester's docs (`tests/src/bin/chaos/main.rs`) hold the invariants.
//!
//! `cargo xtask chaos [ARGS...]` passes its arguments to the tester instead (e.g.
//! `--seeds 100000 --seconds 3600` for a long run, or `--replay SEED`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepResult};

/// Seconds the CI run lasts.
const SECS: &str = "180";

/// The build, killed with all it started past this.
const BUILD_LIMIT: Duration = Duration::from_secs(6 * 60);

/// The run, killed past this (the tester stops itself after its seconds).
const RUN_LIMIT: Duration = Duration::from_secs(10 * 60);

/// The `chaos` step; `args` replace the CI run's when given.
pub(crate) fn step(args: Vec<String>) -> Step {
    Step::new("chaos", move |project| run(project, args))
}

fn run(project: &Project, args: Vec<String>) -> StepResult {
    project
        .cargo()
        .timeout(BUILD_LIMIT)
        .args(["build", "--release", "-p", "sock-tests", "--bin", "chaos"])
        .run()?;
    let args = match args.is_empty() {
        true => ci_args(),
        false => args,
    };
    let exe = project.target_dir.join("release").join("chaos");
    let mut last = String::new();
    Cmd::new(exe)
        .args(&args)
        .timeout(RUN_LIMIT)
        .run_lines(|line| {
            println!("{line}");
            if line.starts_with("chaos: ") {
                last = line.to_string();
            }
        })?;
    Ok(last.trim_start_matches("chaos: ").to_string())
}

/// The CI run: 180 s, two jobs, seeds starting at a number from the clock.
fn ci_args() -> Vec<String> {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() % 1_000_000_000 * 1000);
    println!("chaos: seeds start at {start}");
    ["--seconds", SECS, "--jobs", "2", "--start-seed"]
        .into_iter()
        .map(String::from)
        .chain([start.to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_run_is_bounded_and_seeded_fresh() {
        let args = ci_args();
        assert_eq!(args[..4], ["--seconds", "180", "--jobs", "2"]);
        assert_eq!(args[4], "--start-seed");
        assert!(args[5].parse::<u64>().is_ok());
    }
}

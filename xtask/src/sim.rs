//! `sim`: the `sim_echo` example's workload (an echo server and clients on simulated
//! hosts under seeded faults, `sock::sim`) over many seeds, in release.
//!
//! `cargo xtask sim --seeds N [--start S] [--process] [--swarm]`: by default the seeds run one
//! after another in one process (the example's own `--seeds`); `--process` runs each
//! seed in a child process of its own (`sim_echo --seed S`), so a seed that crashes the
//! process or leaks state into the next is caught too, and runs the first seed twice to
//! check that two processes give it the same event-log hash. Either way it prints
//! seeds/s and, on a failure, the seed and the command that replays it. `--swarm` runs
//! the example in swarm mode (every fault parameter drawn from each seed). In `ci` it
//! runs 1,000 seeds in one process from a start taken from the clock (printed), then
//! the same seeds in swarm mode.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// The build, killed with all it started past this.
const BUILD_LIMIT: Duration = Duration::from_secs(6 * 60);

/// A whole in-process run, killed past this.
const RUN_LIMIT: Duration = Duration::from_secs(10 * 60);

/// One seed's child process, killed past this (a seed takes about a millisecond).
const SEED_LIMIT: Duration = Duration::from_secs(60);

/// Seeds the `ci` step runs.
const CI_SEEDS: u64 = 1000;

/// What to run: `--seeds N --start S --process`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SimArgs {
    /// How many seeds.
    pub(crate) seeds: u64,
    /// The first seed; `None` takes one from the clock.
    pub(crate) start: Option<u64>,
    /// Each seed in a child process of its own.
    pub(crate) process: bool,
    /// Swarm mode: the example's `--swarm`.
    pub(crate) swarm: bool,
}

/// The `sim` step.
pub(crate) fn step(args: SimArgs) -> Step {
    Step::new("sim", move |project| run(project, args))
}

/// The `ci` run: [`CI_SEEDS`] seeds in one process from a fresh start, then the same
/// seeds in swarm mode.
pub(crate) fn ci_step() -> Step {
    Step::new("sim", |project| {
        let start = Some(clock_start());
        let plain = SimArgs {
            seeds: CI_SEEDS,
            start,
            process: false,
            swarm: false,
        };
        let first = run(project, plain)?;
        let second = run(
            project,
            SimArgs {
                swarm: true,
                ..plain
            },
        )?;
        Ok(format!("{first}; {second}"))
    })
}

/// Parses `sim`'s arguments.
///
/// # Errors
///
/// An unknown flag, or a flag without its number.
pub(crate) fn parse(args: &[String]) -> Result<SimArgs, String> {
    let mut parsed = SimArgs {
        seeds: CI_SEEDS,
        start: Some(0),
        process: false,
        swarm: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--process" => parsed.process = true,
            "--swarm" => parsed.swarm = true,
            "--seeds" => parsed.seeds = number(flag, args.next())?,
            "--start" => parsed.start = Some(number(flag, args.next())?),
            other => {
                return Err(format!(
                    "`sim` takes --seeds N, --start S, --process, --swarm; got `{other}`"
                ));
            }
        }
    }
    Ok(parsed)
}

/// The number after `flag`.
fn number(flag: &str, value: Option<&String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("`{flag}` needs a number"))?;
    value
        .parse()
        .map_err(|_| format!("`{flag}` takes a number, got `{value}`"))
}

fn run(project: &Project, args: SimArgs) -> StepResult {
    project
        .cargo()
        .timeout(BUILD_LIMIT)
        .args([
            "build",
            "--release",
            "-p",
            "sock-examples",
            "--example",
            "sim_echo",
        ])
        .run()?;
    let exe = project
        .target_dir
        .join("release")
        .join("examples")
        .join("sim_echo");
    let start = args.start.unwrap_or_else(clock_start);
    println!("sim: {} seeds from {start}", args.seeds);
    let wall = Instant::now();
    match args.process {
        true => per_process(&exe, start, args)?,
        false => in_process(&exe, start, args)?,
    }
    let secs = wall.elapsed().as_secs_f64();
    let rate = args.seeds as f64 / secs.max(1e-9);
    let mode = match (args.process, args.swarm) {
        (true, true) => ", a process each, swarm",
        (true, false) => ", a process each",
        (false, true) => ", swarm",
        (false, false) => "",
    };
    let note = format!("{} seeds{mode}, {rate:.0} seeds/s", args.seeds);
    println!("sim: {note} ({secs:.1} s)");
    Ok(note)
}

/// The seeds one after another in one process (the example's `--seeds`).
/// A failure's note is the example's own `seed … failed; replay: …` line.
fn in_process(exe: &Path, start: u64, args: SimArgs) -> Result<(), StepError> {
    let mut failed = None;
    let result = Cmd::new(exe)
        .args([
            "--seeds",
            &args.seeds.to_string(),
            "--start",
            &start.to_string(),
        ])
        .args(swarm_flag(args.swarm))
        .timeout(RUN_LIMIT)
        .run_lines(|line| {
            println!("{line}");
            if line.contains("failed; replay:") {
                failed = Some(line.trim_start_matches("sim_echo: ").to_string());
            }
        });
    match (result, failed) {
        (Err(_), Some(line)) => Err(StepError::failed(line)),
        (result, _) => result,
    }
}

/// Each seed in its own child process; the first seed twice, whose hashes must agree.
fn per_process(exe: &Path, start: u64, args: SimArgs) -> Result<(), StepError> {
    let first = one_seed(exe, start, args.swarm)?;
    let again = one_seed(exe, start, args.swarm)?;
    if first != again {
        let why = format!("seed {start} differs between two processes:\n{first}\n{again}");
        return Err(StepError::failed(why));
    }
    for seed in start.saturating_add(1)..start.saturating_add(args.seeds) {
        one_seed(exe, seed, args.swarm)?;
    }
    Ok(())
}

/// Runs `seed` in a child process: its `seed … hash …` line.
fn one_seed(exe: &Path, seed: u64, swarm: bool) -> Result<String, StepError> {
    let out = Cmd::new(exe)
        .args(["--seed", &seed.to_string()])
        .args(swarm_flag(swarm))
        .quiet()
        .timeout(SEED_LIMIT)
        .read()
        .map_err(|e| replay(seed, swarm, e))?;
    let line = out.lines().find(|l| l.contains(" hash "));
    line.map(str::to_string)
        .ok_or_else(|| StepError::failed(format!("seed {seed}: no hash line in {out:?}")))
}

/// A failed seed's error, with the command that replays it.
fn replay(seed: u64, swarm: bool, error: StepError) -> StepError {
    let why = match error {
        StepError::Failed(why) | StepError::CannotRun(why) => why,
    };
    let command = replay_command(seed, swarm);
    println!("sim: seed {seed} failed; replay: {command}");
    StepError::failed(format!("seed {seed} failed ({why}); replay: {command}"))
}

/// The command that replays `seed`.
fn replay_command(seed: u64, swarm: bool) -> String {
    let tail = if swarm { " -- --swarm" } else { "" };
    format!("SOCK_SEED={seed} cargo run --release -p sock-examples --example sim_echo{tail}")
}

/// The example's arguments for swarm mode: `--swarm`, or none.
fn swarm_flag(swarm: bool) -> &'static [&'static str] {
    if swarm { &["--swarm"] } else { &[] }
}

/// A first seed that differs from run to run: from the clock.
fn clock_start() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() % 1_000_000_000 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<SimArgs, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse(&args)
    }

    #[test]
    fn flags_parse() {
        let want = SimArgs {
            seeds: 50,
            start: Some(7),
            process: true,
            swarm: true,
        };
        assert_eq!(
            parse_str("--seeds 50 --start 7 --process --swarm"),
            Ok(want)
        );
        assert_eq!(
            parse_str("").map(|a| (a.seeds, a.start)),
            Ok((1000, Some(0)))
        );
        assert!(parse_str("--seeds").unwrap_err().contains("needs a number"));
        assert!(
            parse_str("--seeds x")
                .unwrap_err()
                .contains("takes a number")
        );
        assert!(parse_str("--fast").unwrap_err().contains("`--fast`"));
    }

    #[test]
    fn the_replay_command_names_the_seed() {
        assert!(replay_command(58, false).starts_with("SOCK_SEED=58 cargo run"));
        assert!(replay_command(58, true).ends_with("sim_echo -- --swarm"));
    }
}

//! The supervisor: every case of every round, a line each, a summary at the end.

use std::path::Path;
use std::time::{Duration, Instant};

use sock_tests::harness::rng::seed_from_env;

use crate::cases::{Case, FAULTS, MODES};
use crate::supervise::{self, Size};
use crate::verdict;

/// The environment variable that replays a run.
const SEED_VAR: &str = "SOCK_FAULTS_SEED";

/// The command line of the supervisor.
#[derive(Debug)]
struct Options {
    /// No new round starts after this.
    budget: Duration,
    /// Rounds at most.
    rounds: u32,
    /// Only this round.
    round: Option<u32>,
    /// Only the cases whose name contains this.
    only: Option<String>,
    /// The size of each run.
    size: Size,
}

/// Totals over the runs.
#[derive(Debug, Default)]
struct Tally {
    runs: u32,
    failed: u32,
    injected: usize,
    rounds: u32,
}

/// Runs the campaign the arguments describe; `Err` when a case failed.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let seed = seed_from_env(SEED_VAR);
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    println!("faults: seed={seed} (replay: {SEED_VAR}={seed} cargo xtask faults)");
    let start = Instant::now();
    let mut tally = Tally::default();
    for round in rounds(&options) {
        if round > options.round.unwrap_or(0) && start.elapsed() > options.budget {
            break;
        }
        run_round(&exe, seed, round, &options, &mut tally);
    }
    let secs = start.elapsed().as_secs();
    let Tally {
        runs,
        failed,
        injected,
        rounds,
    } = tally;
    println!(
        "summary: seed={seed} rounds={rounds} runs={runs} failed={failed} \
         injected={injected} time={secs}s"
    );
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {runs} runs failed (seed {seed})")),
    }
}

/// The rounds to run: `--round R` alone, or `0..--rounds`.
fn rounds(options: &Options) -> std::ops::Range<u32> {
    match options.round {
        Some(r) => r..r + 1,
        None => 0..options.rounds,
    }
}

/// Every selected case of `round`, each in both modes.
fn run_round(exe: &Path, seed: u64, round: u32, options: &Options, tally: &mut Tally) {
    tally.rounds += 1;
    for fault in FAULTS {
        for mode in MODES {
            let case = Case::new(mode, fault, seed, round);
            let selected = options
                .only
                .as_ref()
                .is_none_or(|o| case.name().contains(o));
            if selected {
                run_case(exe, seed, round, &case, options.size, tally);
            }
        }
    }
}

/// One case: runs, judges, prints its line (and how to replay it if it failed).
fn run_case(exe: &Path, seed: u64, round: u32, case: &Case, size: Size, tally: &mut Tally) {
    let report = supervise::run(exe, case, size);
    let problems = verdict::problems(case, &report, size.clients);
    tally.runs += 1;
    tally.injected += report.injected;
    let head = format!("[{round}] {} when={}", case.name(), case.when);
    if problems.is_empty() {
        println!("{head}: ok — {}", verdict::note(&report));
        return report.forget_log();
    }
    tally.failed += 1;
    println!("{head}: FAILED — {}", verdict::note(&report));
    for problem in &problems {
        println!("    {problem}");
    }
    for line in &report.lines {
        println!("    | {line}");
    }
    println!("    strace log: {}", report.log.display());
    println!(
        "    replay: {SEED_VAR}={seed} cargo run --release -p sock-tests --bin faults -- \
         --only {} --round {round}",
        case.name()
    );
}

/// Parses the supervisor's flags.
fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        budget: Duration::from_secs(150),
        rounds: 20,
        round: None,
        only: None,
        size: Size {
            clients: 6,
            exchanges: 30,
        },
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: &String| text.parse::<u32>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--budget" => options.budget = Duration::from_secs(number(value()?)?.into()),
            "--rounds" => options.rounds = number(value()?)?,
            "--round" => options.round = Some(number(value()?)?),
            "--only" => options.only = Some(value()?.clone()),
            "--clients" => options.size.clients = number(value()?)?,
            "--exchanges" => options.size.exchanges = number(value()?)?,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    Ok(options)
}

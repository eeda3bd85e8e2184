//! Command-line parsing and the choice of mode.

use crate::parent::Options;
use crate::plan::Skips;
use crate::{child, heap, parent};

/// The usage text.
const USAGE: &str =
    "usage: chaos [--seeds N] [--seconds S] [--start-seed X] [--jobs J] [--skip LIST]
       chaos --replay SEED [--skip LIST]
       chaos --plan SEED [--skip LIST]
       chaos --heap [N] [--start-seed X] [--skip LIST]

  --seeds N        scenarios to run at most (default: no limit but the time)
  --seconds S      stop starting scenarios after S seconds (default 60)
  --start-seed X   the first seed (default 1)
  --jobs J         scenarios at a time, each in a child process (default 2)
  --replay SEED    run one scenario here, printing its plan
  --plan SEED      print a scenario's plan without running it
  --heap [N]       run N scenarios (default 1000) in this process, reporting the live heap
  --skip LIST      leave ingredients out (comma-separated): prepoll, urgent, exactfill,
                   burst, moved, flood, readable, unconnected, shared, abrupt, extras,
                   closedgram, via (poll-level and I/O-trait calls), halves, scope
                   (and selftest: not an ingredient, it adds a fake violation to every
                   scenario, for chaos's own tests of its reports)

While the fixes of the known bugs are pending, --skip prepoll,urgent,exactfill,burst,
moved,flood,readable,unconnected,closedgram leaves out every ingredient aimed at them.";

/// What to do.
#[derive(Debug)]
enum Action {
    /// Run scenarios in children.
    Parent(Options),
    /// Run one scenario here.
    Replay {
        /// Its seed.
        seed: u64,
        /// For a parent.
        child: bool,
        /// Ingredients left out.
        skips: Skips,
    },
    /// Print a plan.
    Plan {
        /// Its seed.
        seed: u64,
        /// Ingredients left out.
        skips: Skips,
    },
    /// Run many scenarios here, counting the heap.
    Heap {
        /// How many.
        count: u64,
        /// The first seed.
        start: u64,
        /// Ingredients left out.
        skips: Skips,
    },
}

/// Parses the arguments, runs, and gives the exit code.
pub(crate) fn main() -> i32 {
    let action = match parse(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("chaos: {e}\n{USAGE}");
            return 2;
        }
    };
    child::install_panic_hook();
    match action {
        Action::Parent(opts) => parent::run(&opts),
        Action::Replay { seed, child, skips } => child::replay(seed, child, &skips),
        Action::Plan { seed, skips } => {
            println!("{}", crate::plan::Plan::new(seed, &skips));
            0
        }
        Action::Heap {
            count,
            start,
            skips,
        } => heap::run(count, start, &skips),
    }
}

/// The action the arguments ask for.
fn parse(args: Vec<String>) -> Result<Action, String> {
    let mut opts = Options {
        seeds: u64::MAX,
        seconds: 60,
        start: 1,
        jobs: 2,
        skips: Skips::default(),
    };
    let (mut replay, mut heap, mut child, mut plan) = (None, None, false, None);
    let mut it = args.into_iter().peekable();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--seeds" => opts.seeds = number(&value()?)?,
            "--seconds" => opts.seconds = number(&value()?)?,
            "--start-seed" => opts.start = number(&value()?)?,
            "--jobs" => opts.jobs = number(&value()?)?.max(1) as usize,
            "--replay" => replay = Some(number(&value()?)?),
            "--child" => child = true,
            "--plan" => plan = Some(number(&value()?)?),
            "--skip" => opts.skips = skips(&value()?)?,
            "--heap" => {
                let n = it.next_if(|v| !v.starts_with("--"));
                heap = Some(n.map_or(Ok(1000), |n| number(&n))?);
            }
            "--help" | "-h" => return Err("help".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let skips = opts.skips.clone();
    Ok(match (replay, heap) {
        _ if plan.is_some() => Action::Plan {
            seed: plan.unwrap_or_default(),
            skips,
        },
        (Some(seed), _) => Action::Replay { seed, child, skips },
        (None, Some(count)) => Action::Heap {
            count,
            start: opts.start,
            skips,
        },
        (None, None) => Action::Parent(opts),
    })
}

/// A non-negative number.
fn number(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// A `--skip` list.
fn skips(text: &str) -> Result<Skips, String> {
    let names: Vec<String> = text.split(',').map(str::to_owned).collect();
    match names.iter().find(|n| !Skips::NAMES.contains(&n.as_str())) {
        Some(bad) => Err(format!("--skip: unknown ingredient {bad}")),
        None => Ok(Skips(names)),
    }
}

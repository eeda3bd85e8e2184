//! One scenario run in this process: `--replay SEED` (alone, or as the parent's child),
//! and each scenario of `--heap`.
//!
//! The scenario runs under `catch_unwind` with a panic hook that turns any panic (the
//! library's "two tasks wait", an assertion of the tester) into a violation. Open fds
//! are counted before and after: a scenario that leaves one open leaks it. Alone, the
//! process watches itself for hangs and spins; as a child, the parent does (and the
//! child only reports: its `op` lines, `violation` lines, and a `stats` line with its
//! CPU and wall time).

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use crate::paths::Paths;
use crate::plan::{Mode, Plan, Skips};
use crate::report::{self, MAIN, op, violation};
use crate::{scenario_loop, scenario_shared, watchdog};

/// How long a scenario may run before it counts as hung.
pub(crate) const LIMIT: Duration = Duration::from_secs(10);

/// Runs scenario `seed` alone (`child`: for the parent, which does the watching) and
/// gives the exit code: 0 clean, 1 violations.
pub(crate) fn replay(seed: u64, child: bool, skips: &Skips) -> i32 {
    let plan = Plan::new(seed, skips);
    report::set_echo(child);
    match child {
        true => println!("plan {}", plan.headline()),
        false => {
            println!("{plan}");
            watchdog::watch_self(LIMIT);
        }
    }
    let started = Instant::now();
    watchdog::watch(Some(seed));
    if skips.has("selftest") {
        violation("selftest: a violation injected by --skip selftest");
    }
    let violations = run_scenario(&plan);
    watchdog::watch(None);
    let (load, wall) = (watchdog::own_load(), started.elapsed());
    println!(
        "stats cpu_ms={} runnable_ms={} wall_ms={}",
        load.cpu.as_millis(),
        load.runnable.as_millis(),
        wall.as_millis()
    );
    if !child {
        summarize(&plan, &violations, skips);
    }
    i32::from(!violations.is_empty())
}

/// Prints the end of a standalone replay.
fn summarize(plan: &Plan, violations: &[String], skips: &Skips) {
    match violations.len() {
        0 => println!("chaos: {}: no violations", plan.headline()),
        n => {
            println!("chaos: {}: {n} violations", plan.headline());
            println!("replay: {}", replay_command(plan.seed, skips));
        }
    }
}

/// The command that replays `seed`.
pub(crate) fn replay_command(seed: u64, skips: &Skips) -> String {
    match skips.0.is_empty() {
        true => format!("chaos --replay {seed}"),
        false => format!("chaos --replay {seed} --skip {}", skips.0.join(",")),
    }
}

/// Runs `plan` in this process and gives its violations (fd leaks included).
pub(crate) fn run_scenario(plan: &Plan) -> Vec<String> {
    warm_up();
    report::clear_ops();
    let before = open_fds();
    let paths = Arc::new(Paths::new(plan.seed));
    let _ = panic::catch_unwind(AssertUnwindSafe(|| match plan.mode {
        Mode::Loop => scenario_loop::run(plan, &paths),
        Mode::Shared => scenario_shared::run(plan, &paths),
    }));
    drop(paths);
    op(MAIN, format_args!("count fds"));
    let after = open_fds();
    if after.len() != before.len() {
        let new: Vec<&String> = after.iter().filter(|fd| !before.contains(fd)).collect();
        violation(format!(
            "fds: {} open before the scenario, {} after{}; new: {new:?}",
            before.len(),
            after.len(),
            match report::has_panicked() {
                true => " (after a panic, which may strand tasks holding sockets)",
                false => "",
            }
        ));
    }
    report::take_violations()
}

/// Makes what lives as long as the thread before the first fd count: the loop (its
/// poller and waker) and the spare fd a listening socket reserves.
fn warm_up() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let r = sock::run(async {
            let s = sock::tcp(sock::Family::INET)?;
            s.listen("127.0.0.1", 0)
        });
        if let Err(e) = r {
            violation(format!("setup: warm-up failed: {e}"));
        }
    });
}

/// The open fds of this process, as `fd -> target` strings; not counted are the
/// files of `/proc` that this count and the watchdog thread open for a moment.
fn open_fds() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?;
            let name = e.file_name();
            let line = format!("{} -> {}", name.to_string_lossy(), target.display());
            (!target.starts_with("/proc")).then_some(line)
        })
        .collect()
}

/// Turns every panic into a violation (with the thread's name and the location).
pub(crate) fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        report::panicked(format!("panic in thread '{name}': {info}"));
    }));
}

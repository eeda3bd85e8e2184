//! The `chaos` tester's own smoke test: a replay prints its plan, its stats and a
//! verdict in the documented format and exits 0 when clean; the parent runs seeds in
//! children and sums them up; a violation is reported with the command that replays
//! it and a non-zero exit. Ingredients aimed at the bugs being fixed are skipped, so
//! the seeds here are clean with or without those fixes.

#![cfg(target_os = "linux")]

use std::process::{Command, Output};

/// The ingredients left out: each is aimed at a known bug.
const SKIP: &str = "prepoll,urgent,exactfill,burst,moved,flood,readable,unconnected,closedgram";

/// Runs `chaos` with `args`.
fn chaos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .output()
        .expect("the chaos binary runs")
}

/// Stdout as text.
fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_replay_prints_the_plan_stats_and_verdict() {
    let out = chaos(&["--replay", "7", "--skip", SKIP]);
    let stdout = text(&out);
    assert!(out.status.success(), "seed 7 failed:\n{stdout}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("plan seed=7 kind="), "{stdout}");
    assert!(stdout.contains("\n  a.writer: "), "{stdout}");
    assert!(stdout.contains("\nstats cpu_ms="), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("chaos: seed=7 kind="), "{stdout}");
    assert!(last.ends_with(": no violations"), "{stdout}");
}

#[test]
fn a_seed_names_one_plan() {
    let (a, b) = (chaos(&["--plan", "42"]), chaos(&["--plan", "42"]));
    assert!(a.status.success());
    assert_eq!(text(&a), text(&b));
    assert_ne!(text(&a), text(&chaos(&["--plan", "43"])));
}

#[test]
fn the_parent_runs_seeds_in_children_and_sums_up() {
    let out = chaos(&["--seeds", "3", "--start-seed", "11", "--skip", SKIP]);
    let stdout = text(&out);
    assert!(out.status.success(), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("chaos: 3 scenarios, 0 violations"),
        "{stdout}"
    );
}

#[test]
fn a_violation_names_its_replay_and_fails_the_run() {
    let skip = format!("{SKIP},selftest");
    let out = chaos(&["--seeds", "1", "--start-seed", "11", "--skip", &skip]);
    let stdout = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("chaos: violation in seed=11 kind="),
        "{stdout}"
    );
    assert!(
        stdout.contains("  selftest: a violation injected"),
        "{stdout}"
    );
    let replay = format!("  replay: chaos --replay 11 --skip {skip}");
    assert!(stdout.contains(&replay), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("chaos: 1 scenarios, 1 violations"),
        "{stdout}"
    );
}

#[test]
fn bad_arguments_are_refused_with_the_usage() {
    let out = chaos(&["--skip", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: chaos"));
}

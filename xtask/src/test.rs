//! `test`: the workspace's tests on the host, then its doctests.
//!
//! cargo-nextest runs the tests when it is installed (each test in its own process,
//! so a hung or crashing test is pinned down; `xtask/nextest.toml` kills a test after
//! three minutes); otherwise `cargo test --no-fail-fast`.
//! Either is killed after [`TIME_LIMIT`], so a hung test fails the step. Nextest does not
//! run doctests, so they are a step of their own.

use std::time::Duration;

use crate::project::Project;
use crate::step::{Step, StepResult};
use crate::toolchain;

/// A test run (build included) taking longer than this is killed with every process
/// it started: a hung test must fail the step, not stall CI. A fresh build and run
/// takes about a minute here; eight keep `ci` within its 25-minute budget even when
/// both this and `bench-smoke` hang.
const TIME_LIMIT: Duration = Duration::from_secs(8 * 60);

/// The outside programs the tests run: `curl` and `wrk` (the hyper_server example), `openssl`
/// (`s_client` against the tls_echo example), `getent` (sock-addr's cross-checks), `cc`
/// (netbench's C echo server, criterion's `alloca`) and `taskset` (netbench pins its
/// servers).
const TEST_NEEDS: [&str; 6] = ["curl", "wrk", "openssl", "getent", "cc", "taskset"];

/// The `test`, `doctest` and `stress` steps.
pub(crate) fn steps() -> Vec<Step> {
    vec![
        Step::new("test", run_tests).needs(&TEST_NEEDS),
        Step::new("doctest", run_doctests).needs(&["cc"]),
        Step::new("stress", run_stress),
    ]
}

/// Repetitions of the multi-threading stress suites in the `stress` step.
const STRESS_REPS: &str = "10";

/// The multi-threading stress suites at their full size (a release build: 4,000
/// connections × 50 round trips, 100k timers), [`STRESS_REPS`] times each, so a rare
/// race shows up here rather than in a user's program. About a minute on two cores.
fn run_stress(project: &Project) -> StepResult {
    let cargo = project.cargo().timeout(TIME_LIMIT);
    let suites = ["--test", "multi_loops", "--test", "multi_shared"];
    cargo
        .args(["test", "--release", "-p", "sock-tests"])
        .args(suites)
        .env("SOCK_STRESS_REPS", STRESS_REPS)
        .run()?;
    Ok(format!(
        "multi_loops + multi_shared, release, {STRESS_REPS} repetitions"
    ))
}

/// `cargo nextest run --workspace`, or `cargo test --workspace` without nextest.
fn run_tests(project: &Project) -> StepResult {
    let cargo = project.cargo().timeout(TIME_LIMIT);
    if toolchain::cargo_has("nextest") {
        let config = project.root.join("xtask/nextest.toml");
        let config = format!("xtask:{}", config.display());
        let cargo = cargo.args([
            "nextest",
            "run",
            "--workspace",
            "--tool-config-file",
            &config,
        ]);
        cargo.run()?;
        return Ok("cargo nextest".to_string());
    }
    cargo
        .args(["test", "--workspace", "--no-fail-fast"])
        .run()?;
    Ok("cargo test (cargo-nextest is not installed)".to_string())
}

/// `cargo test --workspace --doc`.
fn run_doctests(project: &Project) -> StepResult {
    let cargo = project.cargo().timeout(TIME_LIMIT);
    cargo.args(["test", "--workspace", "--doc"]).run()?;
    Ok(String::new())
}

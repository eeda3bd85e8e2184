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

/// The `test` and `doctest` steps.
pub(crate) fn steps() -> Vec<Step> {
    vec![
        Step::new("test", run_tests),
        Step::new("doctest", run_doctests),
    ]
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

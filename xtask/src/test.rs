//! `test`: the workspace's tests on the host, then its doctests.
//!
//! cargo-nextest runs the tests when it is installed (each test in its own process,
//! so a hung or crashing test is pinned down); otherwise `cargo test`. Nextest does not
//! run doctests, so they are a step of their own.

use crate::project::Project;
use crate::step::{Step, StepResult};
use crate::toolchain;

/// The `test` and `doctest` steps.
pub(crate) fn steps() -> Vec<Step> {
    vec![
        Step::new("test", run_tests),
        Step::new("doctest", run_doctests),
    ]
}

/// `cargo nextest run --workspace`, or `cargo test --workspace` without nextest.
fn run_tests(project: &Project) -> StepResult {
    if toolchain::cargo_has("nextest") {
        project
            .cargo()
            .args(["nextest", "run", "--workspace"])
            .run()?;
        return Ok("cargo nextest".to_string());
    }
    project.cargo().args(["test", "--workspace"]).run()?;
    Ok("cargo test (cargo-nextest is not installed)".to_string())
}

/// `cargo test --workspace --doc`.
fn run_doctests(project: &Project) -> StepResult {
    project
        .cargo()
        .args(["test", "--workspace", "--doc"])
        .run()?;
    Ok(String::new())
}

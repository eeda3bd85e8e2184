//! `fmt`: the code is formatted as `rustfmt.toml` says (`cargo fmt --all --check`).

use crate::project::Project;
use crate::step::{Step, StepResult};
use crate::toolchain;

/// The `fmt` step.
pub(crate) fn step() -> Step {
    Step::new("fmt", run)
}

/// Checks formatting without changing files; run `cargo fmt --all` to fix.
fn run(project: &Project) -> StepResult {
    toolchain::ensure_component("fmt", "rustfmt")?;
    project.cargo().args(["fmt", "--all", "--check"]).run()?;
    Ok(String::new())
}

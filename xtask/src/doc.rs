//! `doc`: rustdoc builds the workspace's docs without a warning (broken intra-doc
//! links, bare URLs, missing code-block endings…).

use crate::project::Project;
use crate::step::{Step, StepResult};

/// The `doc` step.
pub(crate) fn step() -> Step {
    Step::new("doc", run)
}

/// `cargo doc --workspace --no-deps` with `-D warnings` added to `RUSTDOCFLAGS`.
fn run(project: &Project) -> StepResult {
    let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
    flags.push_str(" -D warnings");
    let cargo = project.cargo().env("RUSTDOCFLAGS", flags.trim());
    cargo.args(["doc", "--workspace", "--no-deps"]).run()?;
    Ok(String::new())
}

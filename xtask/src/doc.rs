//! `doc`: rustdoc builds the workspace's docs without a warning (broken intra-doc
//! links, bare URLs, missing code-block endings…), and no example on the facade's
//! pages names a layer crate ([`paths`]).

mod paths;

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// The `doc` step.
pub(crate) fn step() -> Step {
    Step::new("doc", run)
}

/// `cargo doc --workspace --no-deps` with `-D warnings` added to `RUSTDOCFLAGS`, then
/// the facade's pages read for layer paths in examples.
fn run(project: &Project) -> StepResult {
    let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
    flags.push_str(" -D warnings");
    let cargo = project.cargo().env("RUSTDOCFLAGS", flags.trim());
    cargo.args(["doc", "--workspace", "--no-deps"]).run()?;
    let doc_dir = project.target_dir.join("doc");
    let (problems, pages) = paths::check(&doc_dir)
        .map_err(|e| StepError::failed(format!("reading {}: {e}", doc_dir.display())))?;
    for problem in &problems {
        println!("{problem}");
    }
    match problems.len() {
        0 => Ok(format!(
            "{pages} pages of sock name no layer crate in an example"
        )),
        n => Err(StepError::failed(format!(
            "{n} pages of sock have examples naming a layer crate"
        ))),
    }
}

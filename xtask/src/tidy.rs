//! `tidy`: the house rules of STYLE.md and ARCHITECTURE.md, as code.
//!
//! Every `.rs` file in the workspace (but `target*/` and hidden directories) is read
//! once, masked by a small lexer so strings and comments never count as code, and run
//! through each rule; then the crate manifests are checked for layering. Each rule is
//! a module whose docs state it precisely:
//!
//! - [`header`]: the first line is a `//!` summary (all files).
//! - [`safety`]: a `// SAFETY:` comment above every `unsafe {` and `unsafe impl` (all
//!   files).
//! - [`banned`]: no `dbg!`, `todo!`, `unimplemented!` outside test code (all files).
//! - [`platform`]: platform `cfg`s only in `sys/` and `os.rs`, plus the `lib.rs`
//!   module selection (library sources under `crates/` only).
//! - [`layering`]: which `sock*` crate may depend on which (`crates/*/Cargo.toml`).

mod banned;
mod header;
pub(crate) mod layering;
mod lexer;
mod platform;
mod safety;
mod walk;

use std::fmt;

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use walk::SourceFile;

/// The `tidy` step.
pub(crate) fn step() -> Step {
    Step::new("tidy", run)
}

/// A broken rule at a place in a file.
#[derive(Debug)]
pub(crate) struct Violation {
    /// Workspace-relative path.
    path: String,
    /// 1-based line.
    line: usize,
    /// What is wrong and, where useful, what to do.
    message: String,
}

impl Violation {
    /// A violation at `line` of `file`.
    fn new(file: &SourceFile, line: usize, message: impl Into<String>) -> Violation {
        Violation::at(&file.path, line, message)
    }

    /// A violation at `line` of the file at `path`.
    fn at(path: &str, line: usize, message: impl Into<String>) -> Violation {
        Violation {
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Runs every rule over the workspace and prints each violation.
fn run(project: &Project) -> StepResult {
    let read_error = |e: std::io::Error| StepError::failed(format!("reading sources: {e}"));
    let files = walk::rust_files(&project.root).map_err(read_error)?;
    let mut violations = Vec::new();
    for file in &files {
        check_file(file, &mut violations);
    }
    violations.extend(layering::check(project).map_err(read_error)?);
    violations.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    for violation in &violations {
        println!("{violation}");
    }
    match violations.len() {
        0 => Ok(format!(
            "{} files and the crate manifests follow the rules",
            files.len()
        )),
        n => Err(StepError::failed(format!(
            "{n} violations in {} files checked",
            files.len()
        ))),
    }
}

/// Runs the per-file rules over `file`.
fn check_file(file: &SourceFile, out: &mut Vec<Violation>) {
    header::check(file, out);
    safety::check(file, out);
    banned::check(file, out);
    platform::check(file, out);
}

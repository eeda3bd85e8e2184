//! `deps`: the default dependency graph of the `sock` facade does not grow.
//!
//! The ecosystem's crates (futures-io, tokio's I/O traits, …) come in only behind
//! optional features; this step lists the crates `sock` pulls in with its default
//! features (`cargo tree -p sock -e normal`, for the host) and fails when one is not in
//! [`ALLOWED`] — adding a crate to the default graph is then a deliberate edit here, with
//! its reason in the commit. README's "Dependencies" paragraph lists the same crates.

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// The crates `sock`'s default graph may hold: the workspace's own crates, the ones the
/// design names (mio, socket2, slab, thiserror, libc / windows-sys), and what those
/// pull in themselves.
const ALLOWED: &[&str] = &[
    "sock",
    "sock-addr",
    "sock-poll",
    "sock-poll-shared",
    "sock-sched",
    "mio",
    "socket2",
    "slab",
    "thiserror",
    "thiserror-impl",
    "libc",
    "windows-sys",
    "windows-targets",
    "windows-link",
    "async-task",
    "log",
    "proc-macro2",
    "quote",
    "syn",
    "unicode-ident",
];

/// The `deps` step.
pub(crate) fn step() -> Step {
    Step::new("deps", run)
}

fn run(project: &Project) -> StepResult {
    let tree = project
        .cargo()
        .args(["tree", "-p", "sock", "-e", "normal", "--prefix", "none"])
        .quiet()
        .read()?;
    let crates = crate_names(&tree);
    let extra: Vec<&str> = crates
        .iter()
        .copied()
        .filter(|name| !ALLOWED.contains(name))
        .collect();
    match extra.is_empty() {
        true => Ok(format!("{} crates, all allowed", crates.len())),
        false => Err(StepError::failed(format!(
            "sock's default dependency graph grew: {} (put it behind a feature, or add it \
             to xtask/src/deps.rs ALLOWED with the reason in the commit)",
            extra.join(", ")
        ))),
    }
}

/// The distinct crate names of `cargo tree --prefix none` output.
fn crate_names(tree: &str) -> Vec<&str> {
    let mut names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_first_word_once_each() {
        let tree = "sock v0.1.0 (/x)\nmio v1.2.4\nlibc v0.2.1\nmio v1.2.4 (*)\n";
        assert_eq!(crate_names(tree), ["libc", "mio", "sock"]);
    }

    #[test]
    fn tokio_is_not_allowed_by_default() {
        assert!(!ALLOWED.contains(&"tokio"));
        assert!(!ALLOWED.contains(&"futures-io"));
    }
}

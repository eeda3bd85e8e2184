//! `setup-tools`: the programs the tests drive from outside, installed with apt-get
//! when missing — `curl` and `wrk` (the http example's tests), `getent` (address
//! lookups cross-checked against the system), `unshare`/`taskset`/`prlimit` (network
//! namespaces, pinning, fd limits), `cc` (the C echo server of the benchmarks).

use crate::apt;
use crate::project::Project;
use crate::step::{Step, StepResult};

/// `(program, Debian package)` for every outside tool a test runs.
const TOOLS: [(&str, &str); 7] = [
    ("curl", "curl"),
    ("wrk", "wrk"),
    ("getent", "libc-bin"),
    ("unshare", "util-linux"),
    ("taskset", "util-linux"),
    ("prlimit", "util-linux"),
    ("cc", "gcc"),
];

/// The `setup-tools` step.
pub(crate) fn step() -> Step {
    Step::new("setup-tools", run)
}

fn run(_project: &Project) -> StepResult {
    apt::ensure(&TOOLS)?;
    Ok(format!("{} tools present", TOOLS.len()))
}

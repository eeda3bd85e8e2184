//! `setup-tools`: every outside program a later step runs, installed with apt-get when
//! missing, so `ci` does all its installing in one early step.
//!
//! The tests drive `curl` and `wrk` (the hyper_server example's tests), `openssl` (its
//! `s_client` against the tls_echo example), `getent` (address lookups cross-checked
//! against the system), `taskset` (netbench's pinning) and `cc` (the C echo server of
//! the benchmarks; also criterion's `alloca` build script); `icount` runs `valgrind`
//! (callgrind counts the instructions); `faults` runs its programs under `strace`.
//! `unshare`/`prlimit` come along with util-linux for hand runs. The Windows side needs
//! `x86_64-w64-mingw32-gcc` (clippy's check of `x86_64-pc-windows-gnu` already builds
//! criterion's C, and the tests link with it) and Wine (`setup-wine`, `wine-test`).
//!
//! Run alone, a command gets a `setup-tools` limited to the programs its steps lack
//! (see [`crate::needs::with_setup`]); `cargo xtask setup-tools` installs them all.

use crate::apt;
use crate::project::Project;
use crate::step::{Step, StepResult};

/// `(program, Debian package)` for every outside program a step runs.
const TOOLS: [(&str, &str); 13] = [
    ("curl", "curl"),
    ("openssl", "openssl"),
    ("strace", "strace"),
    ("wrk", "wrk"),
    ("getent", "libc-bin"),
    ("unshare", "util-linux"),
    ("taskset", "util-linux"),
    ("prlimit", "util-linux"),
    ("cc", "gcc"),
    ("valgrind", "valgrind"),
    ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
    ("wine64", "wine64"),
    ("wineserver", "wine64"),
];

/// The `setup-tools` step: every program of [`TOOLS`].
pub(crate) fn step() -> Step {
    let all: Vec<&'static str> = TOOLS.iter().map(|(program, _)| *program).collect();
    step_for(&all)
}

/// A `setup-tools` step for `programs` only, each of which [`installs`].
pub(crate) fn step_for(programs: &[&'static str]) -> Step {
    let tools: Vec<(&'static str, &'static str)> = TOOLS
        .into_iter()
        .filter(|(program, _)| programs.contains(program))
        .collect();
    let count = tools.len();
    let run = move |_: &Project| -> StepResult {
        apt::ensure(&tools)?;
        Ok(format!("{count} tools present"))
    };
    Step::new("setup-tools", run).provides(programs)
}

/// Whether `setup-tools` can install `program`.
pub(crate) fn installs(program: &str) -> bool {
    TOOLS.iter().any(|(name, _)| *name == program)
}

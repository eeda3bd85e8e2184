//! `miri`: the `unsafe` code that is not an OS call runs under miri, which catches
//! undefined behaviour and leaks: `sock-sched`'s one-allocation task (`task::raw`), the
//! pool its cells come from (`task::pool`), the multi-threaded pool's hand-offs
//! (`mt`) and `sock-poll`'s per-registration waiter cell (`slot`), as listed in
//! [`SUITES`]. Installs the nightly `miri` component first.

use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// `(package, test filter)` pairs run under miri: OS-free modules with `unsafe`.
const SUITES: [(&str, &str); 4] = [
    ("sock-sched", "raw::"),
    ("sock-sched", "pool::"),
    ("sock-sched", "mt::"),
    ("sock-poll", "slot::"),
];

/// The `miri` step.
pub(crate) fn step() -> Step {
    Step::new("miri", run).needs(&["rustup"]).scratch("miri")
}

fn run(project: &Project) -> StepResult {
    install()?;
    for (package, filter) in SUITES {
        let miri = project
            .cargo()
            .args([
                "+nightly", "miri", "test", "-p", package, "--lib", "--", filter,
            ])
            .env("MIRIFLAGS", "-Zmiri-strict-provenance");
        miri.timeout(Duration::from_secs(900)).run()?;
    }
    Ok(format!("{} suite(s) clean", SUITES.len()))
}

/// `rustup component add miri rust-src --toolchain nightly`, and miri's sysroot.
fn install() -> Result<(), StepError> {
    let add = Cmd::new("rustup").args([
        "component",
        "add",
        "miri",
        "rust-src",
        "--toolchain",
        "nightly",
    ]);
    add.timeout(Duration::from_secs(600))
        .run()
        .map_err(|_| StepError::cannot_run("rustup could not add miri to the nightly toolchain"))?;
    Cmd::new("cargo")
        .args(["+nightly", "miri", "setup"])
        .timeout(Duration::from_secs(900))
        .run()
}

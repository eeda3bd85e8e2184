//! `bench-smoke` and `bench`: criterion benchmarks, once each as a smoke test or for
//! real.
//!
//! Smoke mode passes `--test` to every bench binary. Criterion (`harness = false`)
//! then runs each benchmark function exactly once without measuring; libtest-harness
//! targets that cargo also builds in bench mode run their tests once.
//!
//! Both first build `loadgen` (`sock-netbench`, release): the `multi` bench drives its
//! servers with it from another process, and fails when it is missing.

use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// A smoke run (release build included) taking longer than this is killed with every
/// process it started: the libtest targets in it run the unit tests, which may hang.
const SMOKE_TIME_LIMIT: Duration = Duration::from_secs(8 * 60);

/// The `bench-smoke` step.
pub(crate) fn smoke_step() -> Step {
    Step::new("bench-smoke", run_smoke).needs(&["cc"])
}

/// `cargo bench -p sock-benches` with `args` passed through; true when it succeeds.
pub(crate) fn run(project: &Project, args: &[String]) -> bool {
    if let Err(error) = build_loadgen(project.cargo()) {
        eprintln!("xtask: bench: {error:?}");
        return false;
    }
    let cargo: Cmd = project
        .cargo()
        .args(["bench", "-p", "sock-benches"])
        .args(args);
    match cargo.run() {
        Ok(()) => true,
        Err(error) => {
            eprintln!("xtask: bench: {error:?}");
            false
        }
    }
}

/// `cargo bench --workspace --benches -- --test`.
fn run_smoke(project: &Project) -> StepResult {
    build_loadgen(project.cargo().timeout(SMOKE_TIME_LIMIT))?;
    let cargo = project.cargo().timeout(SMOKE_TIME_LIMIT);
    cargo
        .args(["bench", "--workspace", "--benches", "--", "--test"])
        .run()?;
    Ok("with loadgen for the multi bench".to_string())
}

/// `cargo build --release -p sock-netbench --bin loadgen` with `cargo`: the load
/// generator the `multi` bench finds beside its own binaries.
fn build_loadgen(cargo: Cmd) -> Result<(), StepError> {
    cargo
        .args([
            "build",
            "--release",
            "-p",
            "sock-netbench",
            "--bin",
            "loadgen",
        ])
        .run()
}

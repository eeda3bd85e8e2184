//! `fuzz`: every libFuzzer target of `tests/fuzz` runs for a minute; a crash fails.
//!
//! The targets (see `tests/fuzz/Cargo.toml`) cover what parses outside input: address and
//! port strings and lookup flags, raw `sockaddr` bytes, socket options by name and
//! datagram batches (the examples parse nothing by hand: HTTP is hyper's). cargo-fuzz
//! builds them with AddressSanitizer (LeakSanitizer included) on nightly; it is
//! installed with `cargo install cargo-fuzz --locked` when missing.
//!
//! The fuzz crate is no workspace member (root `Cargo.toml` excludes it): it needs
//! nightly and `libfuzzer-sys`, which the library crates do not. It builds into
//! `<target-dir>/fuzz`; each target's growing corpus lives in
//! `<target-dir>/fuzz/corpus/<target>` (not committed), seeded from
//! `tests/fuzz/corpus/<target>` when that exists, and a crashing input is written to
//! `<target-dir>/fuzz/artifacts/<target>/`, named in the step's output. Every target
//! runs even after one crashed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use crate::toolchain;

/// The fuzz targets, in `tests/fuzz/fuzz_targets/<name>.rs`.
const TARGETS: [&str; 4] = ["addr_strings", "sockaddr_raw", "options", "batch"];

/// How long each target runs (libFuzzer's `-max_total_time`), in seconds.
const SECONDS: u64 = 60;

/// One input taking longer than this many seconds is a failure (libFuzzer's `-timeout`):
/// every target finishes an input in milliseconds, so this is a hang.
const INPUT_TIMEOUT: u64 = 20;

/// The `fuzz` step.
pub(crate) fn step() -> Step {
    Step::new("fuzz", run)
        .needs(&["rustup", "cargo-fuzz"])
        .provides(&["cargo-fuzz"])
        .scratch("fuzz")
}

fn run(project: &Project) -> StepResult {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err(StepError::cannot_run(
            "the fuzz targets run on x86_64 Linux only",
        ));
    }
    toolchain::ensure_nightly(&[])?;
    install()?;
    let build = cargo_fuzz(project, "build").timeout(Duration::from_secs(15 * 60));
    build.run()?;
    let crashed: Vec<&str> = TARGETS
        .into_iter()
        .filter(|target| fuzz_one(project, target).is_err())
        .collect();
    match crashed.as_slice() {
        [] => Ok(format!("{} targets × {SECONDS} s, no crash", TARGETS.len())),
        _ => Err(StepError::failed(format!(
            "crashed: {}",
            crashed.join(", ")
        ))),
    }
}

/// `cargo install cargo-fuzz --locked` unless `cargo fuzz` already runs.
fn install() -> Result<(), StepError> {
    if toolchain::cargo_has("fuzz") {
        return Ok(());
    }
    let install = Cmd::new("cargo").args(["install", "cargo-fuzz", "--locked"]);
    install
        .timeout(Duration::from_secs(15 * 60))
        .run()
        .map_err(|_| StepError::cannot_run("`cargo install cargo-fuzz` failed"))
}

/// Runs `target` for [`SECONDS`] on its corpus.
fn fuzz_one(project: &Project, target: &str) -> Result<(), StepError> {
    let dirs = Dirs::new(project, target);
    dirs.create()?;
    let mut cargo = cargo_fuzz(project, "run").arg(target).arg(&dirs.corpus);
    if dirs.seeds.is_dir() {
        cargo = cargo.arg(&dirs.seeds);
    }
    let limit = Duration::from_secs(SECONDS + 120);
    cargo
        .arg("--")
        .arg(format!("-max_total_time={SECONDS}"))
        .arg(format!("-timeout={INPUT_TIMEOUT}"))
        .arg(format!("-artifact_prefix={}/", dirs.artifacts.display()))
        .timeout(limit)
        .run()
}

/// `cargo +nightly fuzz <command>` for the fuzz crate, building into the target dir.
fn cargo_fuzz(project: &Project, command: &str) -> Cmd {
    let fuzz_dir = project.root.join("tests/fuzz");
    let cargo = project.cargo().args(["+nightly", "fuzz", command]);
    cargo
        .arg("--fuzz-dir")
        .arg(&fuzz_dir)
        .arg("--target-dir")
        .arg(project.target_dir.join("fuzz"))
}

/// Where one target's inputs come from and its crashes go.
struct Dirs {
    /// The corpus libFuzzer grows (its first corpus directory).
    corpus: PathBuf,
    /// The committed seed inputs, read only.
    seeds: PathBuf,
    /// Where a crashing input is written.
    artifacts: PathBuf,
}

impl Dirs {
    /// The directories of `target`.
    fn new(project: &Project, target: &str) -> Dirs {
        let out = project.target_dir.join("fuzz");
        Dirs {
            corpus: out.join("corpus").join(target),
            seeds: project.root.join("tests/fuzz/corpus").join(target),
            artifacts: out.join("artifacts").join(target),
        }
    }

    /// Creates the corpus and artifact directories.
    fn create(&self) -> Result<(), StepError> {
        create_dir(&self.corpus)?;
        create_dir(&self.artifacts)
    }
}

/// `mkdir -p dir`, as a step error.
fn create_dir(dir: &Path) -> Result<(), StepError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StepError::failed(format!("creating {}: {e}", dir.display())))
}

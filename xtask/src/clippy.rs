//! `clippy`: lints denied as errors on the host and on the cross targets.
//!
//! The host check covers every target kind (`--all-targets`). The cross targets are
//! type-checked only — clippy never links — with every feature on, so they need their standard library (added
//! with `rustup target add` when missing) and, where a build script compiles C, that
//! target's C compiler (see [`C_COMPILERS`]); benches are left out there since nothing
//! runs them on those systems. This is what keeps
//! the `sys/` backends for Windows, macOS and FreeBSD compiling on a Linux machine.

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use crate::toolchain;

/// The cross targets checked besides the host.
pub(crate) const CROSS_TARGETS: [&str; 3] = [
    "x86_64-pc-windows-gnu",
    "x86_64-apple-darwin",
    "x86_64-unknown-freebsd",
];

/// Cross targets on which some dev-dependency cannot be type-checked; these get
/// `--lib` on the library crates under `crates/` only. Empty today: every
/// dev-dependency checks on all three targets.
pub(crate) const LIBS_ONLY_TARGETS: &[&str] = &[];

/// `(target, package)` pairs left out of a cross check, each because a build script
/// of its dependencies compiles C, which needs a macOS C toolchain this Linux machine
/// does not have: criterion 0.8 (a dev-dependency of `sock-benches`) through `alloca`,
/// and `ring` (rustls' crypto in `sock-examples`' tls_echo and `sock-netbench`'s TLS
/// bench). The packages' own code is portable (no macOS-only code) and is checked on
/// the other targets, FreeBSD's for the non-Linux Unix paths.
const EXCLUDED: &[(&str, &str)] = &[
    ("x86_64-apple-darwin", "sock-benches"),
    ("x86_64-apple-darwin", "sock-examples"),
    ("x86_64-apple-darwin", "sock-netbench"),
];

/// Clippy steps for `selection` (`host` or target triples); all four when empty.
pub(crate) fn steps(selection: &[String]) -> Vec<Step> {
    let everything: Vec<String> = std::iter::once("host")
        .chain(CROSS_TARGETS)
        .map(String::from)
        .collect();
    let chosen = if selection.is_empty() {
        &everything[..]
    } else {
        selection
    };
    chosen.iter().map(|target| step(target.clone())).collect()
}

/// The C compilers that build scripts of the checked packages run, per target. Clippy
/// does not link, but criterion's `alloca` dependency compiles C in its build script,
/// so every target that checks `sock-benches` needs one: the system `cc` for the host
/// and for FreeBSD (the cc crate's default there), mingw's gcc for Windows.
const C_COMPILERS: [(&str, &str); 3] = [
    ("host", "cc"),
    ("x86_64-pc-windows-gnu", "x86_64-w64-mingw32-gcc"),
    ("x86_64-unknown-freebsd", "cc"),
];

/// The step for one target.
fn step(target: String) -> Step {
    let name = format!("clippy {target}");
    let needs: Vec<&'static str> = C_COMPILERS
        .iter()
        .filter(|(t, _)| *t == target)
        .map(|(_, cc)| *cc)
        .collect();
    let step = match target.as_str() {
        "host" => Step::new(name, run_host),
        _ => Step::new(name, move |project| run_cross(project, &target)),
    };
    step.needs(&needs)
}

/// `cargo clippy --workspace --all-targets -- -D warnings` (the tests crate turns on
/// sock's `futures-io`, `tokio-io` and `tracing` features, so they are linted with
/// it), then the same with `--all-features` (the examples' `tracing` feature, sock-poll's
/// `faults`), then the facade and the scheduler alone with no feature: the build whose
/// `tracing` hooks compile to nothing.
fn run_host(project: &Project) -> StepResult {
    toolchain::ensure_component("clippy", "clippy")?;
    for selection in HOST_SELECTIONS {
        let cargo = project.cargo().arg("clippy").args(*selection);
        cargo.args(["--", "-D", "warnings"]).run()?;
    }
    Ok(format!("{} builds", HOST_SELECTIONS.len()))
}

/// The host's clippy runs: the workspace with the tests crate's features, with every
/// feature, and the libraries that have optional instrumentation with none.
const HOST_SELECTIONS: &[&[&str]] = &[
    &["--workspace", "--all-targets"],
    &["--workspace", "--all-targets", "--all-features"],
    &["-p", "sock", "-p", "sock-sched", "--lib"],
];

/// `cargo clippy --target <target>` on the workspace (or its libraries, see
/// [`LIBS_ONLY_TARGETS`]).
fn run_cross(project: &Project, target: &str) -> StepResult {
    toolchain::ensure_component("clippy", "clippy")?;
    toolchain::ensure_target(target)?;
    let cargo = project.cargo().args(["clippy", "--target", target]);
    let (cargo, note) = match LIBS_ONLY_TARGETS.contains(&target) {
        true => (
            cargo.args(library_packages(project)?).arg("--lib"),
            "libraries only",
        ),
        false => (
            cargo
                .args([
                    "--workspace",
                    "--all-features",
                    "--lib",
                    "--tests",
                    "--examples",
                ])
                .args(excluded(target)),
            match excluded(target).is_empty() {
                true => "",
                false => "sock-benches, sock-examples, sock-netbench left out (C in build scripts)",
            },
        ),
    };
    cargo.args(["--", "-D", "warnings"]).run()?;
    Ok(note.to_string())
}

/// `--exclude <package>` for the packages [`EXCLUDED`] on `target`.
fn excluded(target: &str) -> Vec<&'static str> {
    EXCLUDED
        .iter()
        .filter(|(t, _)| *t == target)
        .flat_map(|(_, package)| ["--exclude", package])
        .collect()
}

/// `-p <name>` for every package under `crates/`.
fn library_packages(project: &Project) -> Result<Vec<String>, StepError> {
    let names = crate::tidy::layering::crate_names(project)
        .map_err(|e| StepError::failed(format!("reading crates/*/Cargo.toml: {e}")))?;
    Ok(names
        .into_iter()
        .flat_map(|name| ["-p".to_string(), name])
        .collect())
}

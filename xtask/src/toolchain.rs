//! The Rust toolchain pieces steps need: cross targets' std, rustup components, the
//! nightly toolchain, programs on `PATH` (or where Debian puts Wine). Missing pieces are
//! installed with rustup when it is there.

use std::path::PathBuf;
use std::time::Duration;

use crate::cmd::Cmd;
use crate::step::StepError;

/// Makes sure the standard library for `target` is installed, adding it with
/// `rustup target add` when missing.
///
/// # Errors
///
/// `CannotRun` when it is missing and rustup is not available; `Failed` when rustup
/// cannot add it.
pub(crate) fn ensure_target(target: &str) -> Result<(), StepError> {
    if target_installed(target)? {
        return Ok(());
    }
    if !has_program("rustup") {
        let why = format!("the standard library for {target} is missing and rustup is not found");
        return Err(StepError::cannot_run(why));
    }
    Cmd::new("rustup").args(["target", "add", target]).run()
}

/// Makes sure `cargo <subcommand>` works, adding the rustup `component` if not.
///
/// # Errors
///
/// `CannotRun` when it is missing and rustup cannot add it.
pub(crate) fn ensure_component(subcommand: &str, component: &str) -> Result<(), StepError> {
    if cargo_has(subcommand) {
        return Ok(());
    }
    if has_program("rustup") {
        Cmd::new("rustup")
            .args(["component", "add", component])
            .run()?;
    }
    match cargo_has(subcommand) {
        true => Ok(()),
        false => Err(StepError::cannot_run(format!(
            "`cargo {subcommand}` is not installed"
        ))),
    }
}

/// Makes sure the nightly toolchain is installed (`--profile minimal` when it is not)
/// with `components` (`rustup component add`, which does nothing for those present).
///
/// # Errors
///
/// `CannotRun` when rustup cannot install the toolchain or a component.
pub(crate) fn ensure_nightly(components: &[&str]) -> Result<(), StepError> {
    let present = Cmd::new("rustc")
        .args(["+nightly", "--version"])
        .quiet()
        .succeeds();
    let cannot = |what: &str| StepError::cannot_run(format!("rustup could not install {what}"));
    if !present {
        let install = Cmd::new("rustup").args(["toolchain", "install", "nightly"]);
        install
            .args(["--profile", "minimal"])
            .timeout(Duration::from_secs(900))
            .run()
            .map_err(|_| cannot("the nightly toolchain"))?;
    }
    if components.is_empty() {
        return Ok(());
    }
    let add = Cmd::new("rustup")
        .args(["component", "add"])
        .args(components);
    add.args(["--toolchain", "nightly"])
        .timeout(Duration::from_secs(600))
        .run()
        .map_err(|_| cannot(&format!("{} for nightly", components.join(", "))))
}

/// Whether `cargo <subcommand> --version` runs.
pub(crate) fn cargo_has(subcommand: &str) -> bool {
    Cmd::new("cargo")
        .args([subcommand, "--version"])
        .quiet()
        .succeeds()
}

/// Whether `program` is a file in one of `PATH`'s directories.
pub(crate) fn has_program(program: &str) -> bool {
    find_program(program).is_some()
}

/// Where Debian puts programs that it leaves off `PATH`: Wine's 64-bit loader and
/// server live in `/usr/lib/wine` unless the `wine` package adds wrappers.
const OFF_PATH: [(&str, &[&str]); 2] = [
    ("wine64", &["/usr/lib/wine/wine64"]),
    (
        "wineserver",
        &["/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"],
    ),
];

/// The first `PATH` entry holding `program`, else its known place off `PATH`.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    on_path(program).or_else(|| off_path(program))
}

/// The first `PATH` entry holding `program`.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| file.is_file())
}

/// The first of `program`'s [`OFF_PATH`] places that exists.
fn off_path(program: &str) -> Option<PathBuf> {
    let (_, places) = OFF_PATH.iter().find(|(name, _)| *name == program)?;
    places.iter().map(PathBuf::from).find(|path| path.is_file())
}

/// Whether the sysroot has a `lib/rustlib/<target>/lib` directory (how rustc finds a
/// target's std, whoever installed it).
fn target_installed(target: &str) -> Result<bool, StepError> {
    let sysroot = Cmd::new("rustc")
        .args(["--print", "sysroot"])
        .quiet()
        .read()?;
    let libdir = PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(target)
        .join("lib");
    Ok(libdir.is_dir())
}

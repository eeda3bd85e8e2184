//! `setup-wine`: from Wine and mingw installed to a Wine prefix in which a Rust `.exe`
//! starts. Idempotent; a few seconds when done.
//!
//! Wine and mingw themselves come from `setup-tools`, which `ci` runs first (clippy's
//! Windows check needs mingw long before this step); `cargo xtask setup-wine` alone
//! runs that first too when they are missing. Then:
//!
//! 1. The Rust standard library for `x86_64-pc-windows-gnu` (`rustup target add`).
//! 2. The prefix `<target-dir>/wine-prefix`, made with `wineboot -i` once.
//! 3. A stand-in `bcryptprimitives.dll` exporting `ProcessPrng` (source in
//!    `xtask/wine/`), built with mingw and copied into the prefix's `system32`: Rust
//!    binaries import it and Wine 8 lacks it, so without it every `.exe` exits with
//!    status 53.
//! 4. A persistent `wineserver` and Wine's services started with stdio detached.
//! 5. A smoke program (`xtask/wine/smoke.rs`) built with `rustc` and run in the prefix,
//!    so a broken setup is reported here, not as a hundred failing tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use crate::toolchain;
use crate::wine::{WINDOWS_TARGET, Wine};

/// The mingw C compiler for 64-bit Windows.
pub(crate) const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";

/// The outside programs setup and the Windows tests run: Wine's loader and server,
/// and mingw (the stand-in DLL here, the linker of every Windows test binary).
pub(crate) const NEEDS: [&str; 3] = ["wine64", "wineserver", MINGW_GCC];

/// The stand-in DLL's sources, compiled into xtask so it needs no path at run time.
const DLL_SOURCE: &str = include_str!("../wine/bcryptprimitives.c");
const DLL_DEF: &str = include_str!("../wine/bcryptprimitives.def");

/// The smoke program's source.
const SMOKE_SOURCE: &str = include_str!("../wine/smoke.rs");

/// The `setup-wine` step.
pub(crate) fn step() -> Step {
    Step::new("setup-wine", run).needs(&NEEDS)
}

/// Whether setup has been done for this checkout: Wine found, prefix made, stand-in
/// DLL installed.
pub(crate) fn is_done(wine: &Wine) -> bool {
    wine.prefix.join(PREFIX_STAMP).is_file() && wine.system32().join(DLL_NAME).is_file()
}

/// The stand-in DLL's file name.
const DLL_NAME: &str = "bcryptprimitives.dll";

/// Written into the prefix once `wineboot -i` has succeeded there. (Wine's own
/// `system.reg` is no sign: a persistent wineserver writes it only when it exits.)
const PREFIX_STAMP: &str = "xtask-wineboot.done";

/// Runs the five setup stages in order.
fn run(project: &Project) -> StepResult {
    toolchain::ensure_target(WINDOWS_TARGET)?;
    let wine =
        Wine::locate(project).ok_or_else(|| StepError::failed("wine64 not found after install"))?;
    wine.start_server();
    init_prefix(&wine)?;
    install_dll(&wine)?;
    wine.start_services()?;
    let smoke = run_smoke(&wine)?;
    Ok(format!(
        "{}; {smoke}",
        project.relative(&wine.prefix).display()
    ))
}

/// Creates the prefix with `wineboot -i` unless that was done before.
fn init_prefix(wine: &Wine) -> Result<(), StepError> {
    let stamp = wine.prefix.join(PREFIX_STAMP);
    if stamp.is_file() {
        return Ok(());
    }
    create_dir(&wine.prefix)?;
    let boot = wine.run("wineboot").arg("-i");
    if !boot.timeout(Duration::from_secs(300)).succeeds() {
        return Err(StepError::failed(
            "`wineboot -i` failed to create the Wine prefix",
        ));
    }
    write(&stamp, "wineboot -i succeeded\n")
}

/// Builds the stand-in DLL (when its sources changed) and copies it into `system32`
/// (when the copy there differs).
fn install_dll(wine: &Wine) -> Result<(), StepError> {
    let built = build_dll(&wine.work_dir)?;
    let installed = wine.system32().join(DLL_NAME);
    if read(&built)? == std::fs::read(&installed).unwrap_or_default() {
        return Ok(());
    }
    std::fs::copy(&built, &installed).map(drop).map_err(|e| {
        StepError::failed(format!(
            "copying {DLL_NAME} into {}: {e}",
            installed.display()
        ))
    })
}

/// Compiles `bcryptprimitives.c` with mingw into `work_dir`, unless the DLL there was
/// built from the same sources (recorded in a stamp file beside it).
fn build_dll(work_dir: &Path) -> Result<PathBuf, StepError> {
    let dll = work_dir.join(DLL_NAME);
    let stamp = work_dir.join("bcryptprimitives.stamp");
    let sources = format!("{DLL_SOURCE}\n{DLL_DEF}");
    if dll.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == sources) {
        return Ok(dll);
    }
    create_dir(work_dir)?;
    let (c_file, def_file) = (
        work_dir.join("bcryptprimitives.c"),
        work_dir.join("bcryptprimitives.def"),
    );
    write(&c_file, DLL_SOURCE)?;
    write(&def_file, DLL_DEF)?;
    let gcc = Cmd::new(MINGW_GCC)
        .args(["-shared", "-O2", "-s", "-o"])
        .arg(&dll);
    gcc.arg(&c_file).arg(&def_file).arg("-ladvapi32").run()?;
    write(&stamp, &sources)?;
    Ok(dll)
}

/// Builds the smoke program for Windows and runs it in the prefix; returns its output.
fn run_smoke(wine: &Wine) -> Result<String, StepError> {
    let (source, exe) = (
        wine.work_dir.join("smoke.rs"),
        wine.work_dir.join("smoke.exe"),
    );
    if std::fs::read_to_string(&source).ok().as_deref() != Some(SMOKE_SOURCE) || !exe.is_file() {
        write(&source, SMOKE_SOURCE)?;
        let rustc = Cmd::new("rustc").args(["--edition", "2024", "--target", WINDOWS_TARGET]);
        rustc.arg("-o").arg(&exe).arg(&source).run()?;
    }
    let output = wine.run(&exe).timeout(Duration::from_secs(60)).read()?;
    let line = output.lines().find(|line| line.starts_with("smoke ok"));
    line.map(str::to_string)
        .ok_or_else(|| StepError::failed(format!("the smoke program ran but printed {output:?}")))
}

/// `std::fs::create_dir_all` with the path in the error.
fn create_dir(dir: &Path) -> Result<(), StepError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StepError::failed(format!("creating {}: {e}", dir.display())))
}

/// `std::fs::write` with the path in the error.
fn write(path: &Path, contents: &str) -> Result<(), StepError> {
    std::fs::write(path, contents)
        .map_err(|e| StepError::failed(format!("writing {}: {e}", path.display())))
}

/// `std::fs::read` with the path in the error.
fn read(path: &Path) -> Result<Vec<u8>, StepError> {
    std::fs::read(path).map_err(|e| StepError::failed(format!("reading {}: {e}", path.display())))
}

//! The Wine environment the Windows tests run in: where Wine is, the per-checkout
//! prefix, and how a command is started inside it.
//!
//! The prefix lives in `<target-dir>/wine-prefix`, so each checkout (and each
//! `CARGO_TARGET_DIR`) has its own and `cargo clean` resets it. Every Wine command gets
//! `WINEDEBUG=-all` (no fixme noise), an empty `DISPLAY` (no windows, no dialogs),
//! `mscoree`/`mshtml` disabled (no offer to download Mono or Gecko) and
//! `bcryptprimitives` forced to the native stand-in that `setup-wine` installs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::StepError;
use crate::toolchain;

/// The Rust target the Windows tests are built for.
pub(crate) const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// The DLL overrides every Wine command runs with.
const DLL_OVERRIDES: &str = "mscoree,mshtml=;bcryptprimitives=n";

/// How long one Windows test binary may run before the runner kills it.
const BINARY_TIMEOUT_SECS: u32 = 300;

/// Wine's binaries and this checkout's prefix.
pub(crate) struct Wine {
    /// The `wine64` loader.
    pub(crate) loader: PathBuf,
    /// The `wineserver` binary.
    server: PathBuf,
    /// `WINEPREFIX`: `<target-dir>/wine-prefix`.
    pub(crate) prefix: PathBuf,
    /// Scratch space for what setup builds: `<target-dir>/wine`.
    pub(crate) work_dir: PathBuf,
}

impl Wine {
    /// Finds Wine's binaries; `None` when Wine is not installed.
    pub(crate) fn locate(project: &Project) -> Option<Wine> {
        let loader = toolchain::find_program("wine64")?;
        let server = toolchain::find_program("wineserver")?;
        let prefix = project.target_dir.join("wine-prefix");
        let work_dir = project.target_dir.join("wine");
        Some(Wine {
            loader,
            server,
            prefix,
            work_dir,
        })
    }

    /// The prefix's `C:\windows\system32`.
    pub(crate) fn system32(&self) -> PathBuf {
        self.prefix.join("drive_c/windows/system32")
    }

    /// `wine64 <program>` inside the prefix; add arguments with [`Cmd::arg`].
    pub(crate) fn run(&self, program: impl AsRef<OsStr>) -> Cmd {
        self.env(Cmd::new(&self.loader).arg(program))
    }

    /// Starts a persistent `wineserver` and Wine's services with every stdio stream
    /// detached, so later test runs find them running and none of them holds a pipe
    /// (cargo and nextest wait for pipes to close, and would hang).
    ///
    /// # Errors
    ///
    /// `wine64 cmd /c exit` fails or takes over two minutes.
    pub(crate) fn start_services(&self) -> Result<(), StepError> {
        self.start_server();
        let boot = self
            .run("cmd")
            .args(["/c", "exit"])
            .timeout(Duration::from_secs(120));
        match boot.succeeds() {
            true => Ok(()),
            false => Err(StepError::failed(
                "`wine64 cmd /c exit` failed in the Wine prefix",
            )),
        }
    }

    /// Starts a persistent `wineserver` for the prefix, detached from our stdio; when
    /// one is already running this does nothing (and exits non-zero, which is fine).
    /// Stop it with `WINEPREFIX=<prefix> wineserver -k`.
    pub(crate) fn start_server(&self) {
        let _ = std::fs::create_dir_all(&self.prefix);
        let _ = self.env(Cmd::new(&self.server).arg("-p")).succeeds();
    }

    /// Writes the cargo runner script for [`WINDOWS_TARGET`] and returns its path: it
    /// runs an `.exe` in the prefix with stdin detached and a time limit, and appends a
    /// line `<exe> exited with status N` to [`failures`](Wine::failures) when the exit
    /// status is not 0 (cargo's own report of it goes to stderr, which a CI log's tail
    /// may cut; the step's note repeats these lines).
    ///
    /// # Errors
    ///
    /// The script cannot be written.
    pub(crate) fn write_runner(&self) -> Result<PathBuf, StepError> {
        let path = self.work_dir.join("runner.sh");
        let script = format!(
            "#!/bin/sh\n\
             # Written by `cargo xtask wine-test`: runs a Windows executable under Wine in\n\
             # this checkout's prefix; kills it after {BINARY_TIMEOUT_SECS} seconds.\n\
             export WINEPREFIX={prefix} WINEDEBUG=-all DISPLAY= WINEDLLOVERRIDES='{DLL_OVERRIDES}'\n\
             timeout -k 10 {BINARY_TIMEOUT_SECS} {loader} \"$@\" </dev/null\n\
             status=$?\n\
             if [ \"$status\" -ne 0 ]; then\n\
             \x20   echo \"${{1##*/}} exited with status $status\" >> {failures}\n\
             fi\n\
             exit \"$status\"\n",
            prefix = shell_quote(&self.prefix),
            loader = shell_quote(&self.loader),
            failures = shell_quote(&self.failures()),
        );
        std::fs::create_dir_all(&self.work_dir)
            .and_then(|()| std::fs::write(&path, script))
            .map_err(|e| StepError::failed(format!("writing {}: {e}", path.display())))?;
        Ok(path)
    }

    /// The file the runner appends a line to for each binary that exits non-zero.
    pub(crate) fn failures(&self) -> PathBuf {
        self.work_dir.join("failures.txt")
    }

    /// Adds the prefix and the quiet, headless settings to `cmd`.
    fn env(&self, cmd: Cmd) -> Cmd {
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("DISPLAY", "")
            .env("WINEDLLOVERRIDES", DLL_OVERRIDES)
    }
}

/// `path` in single quotes for `sh`.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

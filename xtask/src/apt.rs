//! Installing Debian packages a step needs: `apt-get install` for the programs that
//! are missing, as root, non-interactive, within ten minutes.

use std::time::Duration;

use crate::cmd::Cmd;
use crate::step::StepError;
use crate::toolchain;

/// Makes sure every `(program, package)` is there: installs the packages of the
/// missing programs (after one `apt-get update`). `CannotRun` when that needs apt-get
/// or root and neither is at hand.
pub(crate) fn ensure(needed: &[(&str, &str)]) -> Result<(), StepError> {
    let missing = missing_packages(needed);
    if missing.is_empty() {
        return Ok(());
    }
    let manual = format!(
        "apt-get install --no-install-recommends {}",
        missing.join(" ")
    );
    if !toolchain::has_program("apt-get") || !is_root() {
        return Err(StepError::cannot_run(format!(
            "missing tools; install them as root: {manual}"
        )));
    }
    apt_get(&["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(&missing);
    apt_get(&args)
}

/// The packages of the missing programs, each once (one package may bring several).
fn missing_packages<'a>(needed: &[(&str, &'a str)]) -> Vec<&'a str> {
    let mut missing = Vec::new();
    for (program, package) in needed {
        if !toolchain::has_program(program) && !missing.contains(package) {
            missing.push(*package);
        }
    }
    missing
}

/// `apt-get <args>`, non-interactive, within ten minutes.
fn apt_get(args: &[&str]) -> Result<(), StepError> {
    let apt = Cmd::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(args);
    apt.timeout(Duration::from_secs(600)).run()
}

/// Whether this process runs as root (`id -u` prints 0).
fn is_root() -> bool {
    Cmd::new("id")
        .arg("-u")
        .quiet()
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two missing programs of one package ask for it once, in order. (Only programs
    /// no machine has: the test also runs under Wine, where even `sh` is missing.)
    #[test]
    fn a_package_is_asked_for_once() {
        let needed = [
            ("no-such-loader-xtask", "wine64"),
            ("no-such-server-xtask", "wine64"),
            ("no-such-shell-xtask", "dash"),
        ];
        assert_eq!(missing_packages(&needed), ["wine64", "dash"]);
    }
}

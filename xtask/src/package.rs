//! `package`: the library crates package as they would be published.
//!
//! `cargo package` builds each crate under `crates/` into its `.crate` archive and
//! verifies it: the archive is unpacked and built on its own, its path dependencies on
//! the other `sock*` crates served from the archives just made and everything else
//! from crates.io (so the step reads the crates.io index; nothing else leaves the
//! machine). Before that, `cargo package --list` must show each crate's `README.md`,
//! `LICENSE-MIT` and `LICENSE-APACHE` (symlinks to the root files, which cargo packs
//! as copies): a checkout that lost its symlinks fails here, not on crates.io.
//!
//! The working tree may hold uncommitted changes (`--allow-dirty`): the step checks
//! what would be packaged, not whether it is committed. The crates that are not
//! published (`publish = false`: xtask, tests, benches, examples) are left out.

use std::time::Duration;

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use crate::tidy::layering;

/// Files every published crate must carry, beside its sources and manifest.
const REQUIRED: [&str; 3] = ["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Packaging and verifying every library crate takes about a minute on two cores (52 s;
/// the step always starts its verification builds afresh); a run past this is killed.
const TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The `package` step.
pub(crate) fn step() -> Step {
    Step::new("package", run)
        .scratch("package")
        .scratch("package-verify")
}

/// Checks each crate's file list, then packages and verifies them all in one call (so
/// each verification finds the archives of the crates it depends on).
fn run(project: &Project) -> StepResult {
    let names = layering::crate_names(project)
        .map_err(|e| StepError::failed(format!("reading crates/: {e}")))?;
    for name in &names {
        check_files(project, name)?;
    }
    let stale = forget_unpacked_archives(&names);
    // The verification builds see the packaged crates as registry crates, which cargo
    // counts as immutable: a `sock-poll 0.1.0` compiled by an earlier run would be linked
    // again although its sources changed. So they get a target directory of their own,
    // started afresh each time.
    let cache = project.target_dir.join("package-verify");
    if cache.exists() {
        std::fs::remove_dir_all(&cache)
            .map_err(|e| StepError::failed(format!("removing {}: {e}", cache.display())))?;
    }
    let packages = names.iter().flat_map(|name| ["-p", name.as_str()]);
    let cargo = project
        .cargo()
        .args(["package", "--allow-dirty", "--target-dir"]);
    let cargo = cargo.arg(&cache);
    cargo.args(packages).timeout(TIME_LIMIT).run()?;
    Ok(format!(
        "{} crates packaged and verified ({stale} stale unpacked copies removed first)",
        names.len()
    ))
}

/// Removes the unpacked copies of this workspace's crates that earlier `cargo package`
/// runs left in cargo's source cache; returns how many.
///
/// Verification serves the archives just made from a temporary local registry under
/// the target directory, and cargo unpacks each into `$CARGO_HOME/registry/src/<a
/// directory named after that registry's path>/NAME-VERSION` — once: an existing,
/// complete directory is used as it is. A checkout at a path packaged before (CI's
/// fresh clone goes to the same place each run) would then verify `sock` against the
/// `sock-sched` of the earlier run, same version, older code. Only the local registries'
/// directories are touched (crates.io's is named `index.crates.io-…`; local ones start
/// with `-`), and only the workspace's crate names.
fn forget_unpacked_archives(names: &[String]) -> usize {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else {
        return 0;
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return 0;
    };
    let mut removed = 0;
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for unpacked in crates.flatten() {
            let dir = unpacked.file_name().to_string_lossy().into_owned();
            if is_unpacked_copy_of(&dir, names) && std::fs::remove_dir_all(unpacked.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// Whether `dir` (`NAME-VERSION`) is an unpacked copy of one of `names`.
fn is_unpacked_copy_of(dir: &str, names: &[String]) -> bool {
    names.iter().any(|name| {
        dir.strip_prefix(name.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Fails unless `cargo package --list` for `name` holds every file of [`REQUIRED`].
fn check_files(project: &Project, name: &str) -> Result<(), StepError> {
    let list = project.cargo().quiet();
    let list = list.args(["package", "--list", "--allow-dirty", "-p", name]);
    let files = list.timeout(Duration::from_secs(120)).read()?;
    match missing(&files) {
        None => Ok(()),
        Some(file) => Err(StepError::failed(format!(
            "{name}: `{file}` would not be packaged (crates/{name}/{file} must link to the root file)"
        ))),
    }
}

/// The first file of [`REQUIRED`] not among the lines of `list`.
fn missing(list: &str) -> Option<&'static str> {
    REQUIRED
        .into_iter()
        .find(|file| !list.lines().any(|line| line.trim() == *file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_workspace_crates_unpacked_copies_are_picked() {
        let names = ["sock".to_string(), "sock-poll".to_string()];
        assert!(is_unpacked_copy_of("sock-0.1.0", &names));
        assert!(is_unpacked_copy_of("sock-poll-0.1.0", &names));
        assert!(!is_unpacked_copy_of("sock-sched-0.1.0", &names[..1]));
        assert!(!is_unpacked_copy_of("socket2-0.6.5", &names));
        assert!(!is_unpacked_copy_of("sock-poll", &names));
    }

    #[test]
    fn a_file_list_without_a_license_is_caught() {
        let full = "Cargo.toml\nLICENSE-APACHE\nLICENSE-MIT\nREADME.md\nsrc/lib.rs\n";
        assert_eq!(missing(full), None);
        let bare = "Cargo.toml\nREADME.md\nsrc/LICENSE-MIT\nsrc/lib.rs\n";
        assert_eq!(missing(bare), Some("LICENSE-MIT"));
    }
}

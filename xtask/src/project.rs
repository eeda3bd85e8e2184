//! The checkout xtask works on: its root, cargo's target directory, whether this is CI.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;

/// Where the workspace is and how the run is configured.
pub(crate) struct Project {
    /// The workspace root (the directory holding the root `Cargo.toml`).
    pub(crate) root: PathBuf,
    /// Cargo's target directory: `CARGO_TARGET_DIR`, a config's `build.target-dir`,
    /// or `<root>/target`, as `cargo metadata` reports it.
    pub(crate) target_dir: PathBuf,
    /// `CI` is set (and not `false`/`0`): steps that cannot run fail instead of skipping.
    pub(crate) ci: bool,
}

impl Project {
    /// Finds the workspace this xtask was built in and asks cargo for its target dir.
    ///
    /// # Errors
    ///
    /// `cargo metadata` fails or its output has no `target_directory`.
    pub(crate) fn discover() -> Result<Project, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask/ lives inside the workspace root")
            .to_path_buf();
        let target_dir = target_dir(&root)?;
        Ok(Project {
            root,
            target_dir,
            ci: ci_from_env(),
        })
    }

    /// A `cargo` command run from the workspace root.
    pub(crate) fn cargo(&self) -> Cmd {
        Cmd::new("cargo").current_dir(&self.root)
    }

    /// A path relative to the workspace root, for messages.
    pub(crate) fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// Reads `target_directory` out of `cargo metadata`'s JSON with a string search: the
/// value is a plain path, escaped only for `\` and `"`.
fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let json = Cmd::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .quiet()
        .read()
        .map_err(|e| format!("cargo metadata: {e:?}"))?;
    let key = "\"target_directory\":\"";
    let start = json
        .find(key)
        .ok_or("cargo metadata: no target_directory")?
        + key.len();
    let end = json[start..]
        .find("\",")
        .ok_or("cargo metadata: unterminated target_directory")?;
    Ok(PathBuf::from(
        json[start..start + end]
            .replace("\\\\", "\\")
            .replace("\\\"", "\""),
    ))
}

/// Whether the environment says this is a CI run.
fn ci_from_env() -> bool {
    std::env::var("CI").is_ok_and(|value| is_truthy(&value))
}

/// `CI=true`, `CI=1`, `CI=yes` count; empty, `false` and `0` do not.
fn is_truthy(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_values() {
        assert!(is_truthy("true") && is_truthy("1") && is_truthy("TRUE"));
        assert!(!is_truthy("") && !is_truthy("false") && !is_truthy("0"));
    }
}

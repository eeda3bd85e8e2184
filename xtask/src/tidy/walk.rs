//! Finds the workspace's Rust sources and reads them for the rules.

use std::io;
use std::path::{Path, PathBuf};

use super::lexer::{self, Masked};

/// One `.rs` file, read and masked.
pub(crate) struct SourceFile {
    /// The path from the workspace root, `/`-separated (`crates/sock/src/lib.rs`).
    pub(crate) path: String,
    /// The file's text.
    pub(crate) text: String,
    /// The text split into code and comments.
    pub(crate) masked: Masked,
}

impl SourceFile {
    /// A file from its workspace-relative `path` and its `text`.
    pub(crate) fn new(path: &str, text: String) -> SourceFile {
        let masked = lexer::mask(&text);
        SourceFile {
            path: path.to_string(),
            text,
            masked,
        }
    }

    /// The directories on the way to the file (`["crates", "sock", "src"]`).
    pub(crate) fn dirs(&self) -> Vec<&str> {
        let mut parts: Vec<&str> = self.path.split('/').collect();
        parts.pop();
        parts
    }

    /// The file's name (`lib.rs`).
    pub(crate) fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Every `.rs` file under `root`, sorted, skipping hidden directories and cargo
/// target directories (`target`, `target-*`).
///
/// # Errors
///
/// A directory or file cannot be read.
pub(crate) fn rust_files(root: &Path) -> io::Result<Vec<SourceFile>> {
    let mut paths = Vec::new();
    collect(root, &mut paths)?;
    paths.sort();
    paths.iter().map(|path| read(root, path)).collect()
}

/// Adds the `.rs` files under `dir` to `paths`, recursively.
fn collect(dir: &Path, paths: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let (path, name) = (entry.path(), entry.file_name());
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if !skipped_dir(&name) {
                collect(&path, paths)?;
            }
        } else if name.ends_with(".rs") {
            paths.push(path);
        }
    }
    Ok(())
}

/// Hidden directories and cargo's output.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name.starts_with("target-")
}

/// Reads `path` into a [`SourceFile`] named relative to `root`.
fn read(root: &Path, path: &Path) -> io::Result<SourceFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(SourceFile::new(&parts.join("/"), text))
}

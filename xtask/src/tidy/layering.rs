//! Rule: the crates under `crates/` depend on each other only as ARCHITECTURE.md's
//! codemap allows, checked from their `Cargo.toml` files.
//!
//! `sock-addr`, `sock-poll-shared` and `sock-sched` depend on no other `sock*` crate,
//! `sock-poll` only on `sock-poll-shared`, and only the facade `sock` on all four. A
//! crate missing from [`LAYERS`] is itself a violation, so a new crate gets a place in
//! the layering before it gets code. The rule reads `[dependencies]` and
//! `[build-dependencies]` (target-specific ones too, and `[dependencies.<name>]` tables
//! with `package =` renames); `[dev-dependencies]` are exempt, since tests and examples
//! may use an upper layer without changing the library graph.
//!
//! The manifests are read with simple line parsing: one `key = value` per line, which
//! is how these manifests are written (a multi-line inline table would be missed).

use std::io;
use std::path::Path;

use super::Violation;
use crate::project::Project;

/// Each library crate and the `sock*` crates it may depend on.
pub(crate) const LAYERS: [(&str, &[&str]); 5] = [
    ("sock-addr", &[]),
    ("sock-poll-shared", &[]),
    ("sock-sched", &[]),
    ("sock-poll", &["sock-poll-shared"]),
    (
        "sock",
        &["sock-addr", "sock-poll", "sock-poll-shared", "sock-sched"],
    ),
];

/// Reports layering violations in every `crates/*/Cargo.toml`.
///
/// # Errors
///
/// `crates/` or a manifest cannot be read.
pub(crate) fn check(project: &Project) -> io::Result<Vec<Violation>> {
    let mut out = Vec::new();
    for (path, text) in manifests(&project.root)? {
        check_manifest(&path, &text, &mut out);
    }
    Ok(out)
}

/// The package names of the crates under `crates/`.
///
/// # Errors
///
/// `crates/` or a manifest cannot be read.
pub(crate) fn crate_names(project: &Project) -> io::Result<Vec<String>> {
    let manifests = manifests(&project.root)?;
    Ok(manifests.iter().map(|(_, text)| parse(text).name).collect())
}

/// Checks one manifest (`path` as shown in messages) against [`LAYERS`].
fn check_manifest(path: &str, text: &str, out: &mut Vec<Violation>) {
    let manifest = parse(text);
    let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == manifest.name) else {
        let message = format!(
            "crate `{}` has no place in the layering (add it to LAYERS in xtask/src/tidy/layering.rs and to ARCHITECTURE.md)",
            manifest.name
        );
        return out.push(Violation::at(path, 1, message));
    };
    for (dep, line) in manifest.deps.iter().filter(|(dep, _)| is_sock_crate(dep)) {
        if !allowed.contains(&dep.as_str()) {
            let message = format!(
                "`{}` may not depend on `{dep}` (allowed: {allowed:?})",
                manifest.name
            );
            out.push(Violation::at(path, *line, message));
        }
    }
}

/// `sock` and `sock-*`.
fn is_sock_crate(name: &str) -> bool {
    name == "sock" || name.starts_with("sock-")
}

/// `(crates/<dir>/Cargo.toml, text)` for every crate directory, sorted.
fn manifests(root: &Path) -> io::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("crates"))? {
        let dir = entry?.path();
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            found.push((
                format!("crates/{name}/Cargo.toml"),
                std::fs::read_to_string(&manifest)?,
            ));
        }
    }
    found.sort();
    Ok(found)
}

/// What the rule needs from a manifest.
#[derive(Debug, Default, PartialEq, Eq)]
struct Manifest {
    /// `[package] name`.
    name: String,
    /// Normal and build dependencies: the package name and the line declaring it.
    deps: Vec<(String, usize)>,
}

/// The kind of table the parser is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `[package]`.
    Package,
    /// `[dependencies]`, `[build-dependencies]`, or a `[target.*.]` one.
    Deps,
    /// `[dependencies.<name>]`: the dependency at this index of `Manifest::deps`.
    Dep(usize),
    /// Anything else.
    Other,
}

/// Reads the package name and the dependencies, line by line.
fn parse(text: &str) -> Manifest {
    let mut manifest = Manifest::default();
    let mut table = Table::Other;
    for (index, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if let Some(header) = line.strip_prefix('[') {
            table = enter_table(
                header.trim_end_matches(']').trim(),
                index + 1,
                &mut manifest,
            );
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = unquote(key.trim());
        match table {
            Table::Package if key == "name" => manifest.name = unquote(value.trim()).to_string(),
            Table::Deps => manifest
                .deps
                .push((dependency_package(key, value), index + 1)),
            Table::Dep(at) if key == "package" => {
                manifest.deps[at].0 = unquote(value.trim()).to_string()
            }
            _ => {}
        }
    }
    manifest
}

/// Classifies a table header, recording `[dependencies.<name>]` as a dependency.
fn enter_table(header: &str, line: usize, manifest: &mut Manifest) -> Table {
    const KINDS: [&str; 2] = ["dependencies", "build-dependencies"];
    if header == "package" {
        return Table::Package;
    }
    for kind in KINDS {
        if header == kind || header.ends_with(&format!(".{kind}")) {
            return Table::Deps;
        }
        let inner = format!(".{kind}.");
        let name = header
            .strip_prefix(&inner[1..])
            .or_else(|| header.split_once(&inner).map(|(_, n)| n));
        if let Some(name) = name {
            manifest.deps.push((unquote(name).to_string(), line));
            return Table::Dep(manifest.deps.len() - 1);
        }
    }
    Table::Other
}

/// The package a `key = value` dependency line names: `package = "…"` inside the
/// value if present, else the key up to a `.` (`foo.workspace = true`).
fn dependency_package(key: &str, value: &str) -> String {
    let renamed = value.split_once("package").and_then(|(_, rest)| {
        let rest = rest
            .trim_start()
            .strip_prefix('=')?
            .trim_start()
            .strip_prefix('"')?;
        rest.split_once('"').map(|(name, _)| name)
    });
    renamed
        .unwrap_or_else(|| unquote(key.split('.').next().unwrap_or(key)))
        .to_string()
}

/// The line without a `#` comment (a `#` inside a quoted string is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (offset, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(open)) if c == open => quote = None,
            ('#', None) => return &line[..offset],
            _ => {}
        }
    }
    line
}

/// `"x"` or `'x'` → `x`.
fn unquote(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCK_POLL: &str = r#"
[package]
name = "sock-poll" # the reactor
version = "0.1.0"

[dependencies]
mio.workspace = true
sock-poll-shared = { workspace = true }

[target.'cfg(unix)'.dependencies]
libc.workspace = true

[dev-dependencies]
sock-sched.workspace = true
"#;

    fn violations(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        check_manifest("crates/x/Cargo.toml", text, &mut out);
        out.into_iter().map(|v| (v.line, v.message)).collect()
    }

    #[test]
    fn parses_names_and_dependency_tables() {
        let manifest = parse(SOCK_POLL);
        assert_eq!(manifest.name, "sock-poll");
        let deps: Vec<&str> = manifest
            .deps
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(deps, ["mio", "sock-poll-shared", "libc"]);
        assert_eq!(manifest.deps[1].1, 8);
    }

    #[test]
    fn allowed_layering_passes() {
        assert_eq!(violations(SOCK_POLL), []);
    }

    #[test]
    fn upward_and_sideways_dependencies_are_flagged() {
        let text = SOCK_POLL.replace("libc.workspace = true", "sock-sched.workspace = true");
        let found = violations(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 11);
        assert!(
            found[0]
                .1
                .contains("`sock-poll` may not depend on `sock-sched`")
        );
    }

    #[test]
    fn renames_and_dependency_tables_are_seen() {
        let text = "[package]\nname = \"sock-addr\"\n[dependencies]\npoll = { package = \"sock-poll\", path = \"../sock-poll\" }\n[build-dependencies.helper]\npackage = \"sock\"\n";
        let lines: Vec<usize> = violations(text).into_iter().map(|(line, _)| line).collect();
        assert_eq!(lines, [4, 5]);
    }

    #[test]
    fn unknown_crates_are_flagged() {
        let found = violations("[package]\nname = \"sock-extra\"\n");
        assert!(found[0].1.contains("has no place in the layering"));
    }
}

//! `features`: the `sock` facade's tests with no feature, each optional feature alone,
//! and all of them together.
//!
//! The workspace's `test` step builds `sock` once, with every feature some member turns
//! on (cargo unifies them), so a feature that only compiles beside another — or code
//! that only compiles with one on — would pass there. This step runs `cargo test -p
//! sock` (unit tests, integration tests, doctests) once per feature set, reading the
//! features from `crates/sock/Cargo.toml`, so a new feature is covered without an edit
//! here.

use std::time::Duration;

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// One `cargo test -p sock` run (build included) taking longer than this fails the step.
const TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// The `features` step.
pub(crate) fn step() -> Step {
    Step::new("features", run)
}

fn run(project: &Project) -> StepResult {
    let manifest = project.root.join("crates/sock/Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| StepError::failed(format!("reading {}: {e}", manifest.display())))?;
    let features = optional_features(&text);
    let mut sets: Vec<Vec<String>> = vec![Vec::new()];
    sets.extend(features.iter().map(|f| vec![f.clone()]));
    if features.len() > 1 {
        sets.push(features.clone());
    }
    for set in &sets {
        let cargo = project.cargo().timeout(TIME_LIMIT).args([
            "test",
            "-p",
            "sock",
            "--no-default-features",
        ]);
        let cargo = match set.is_empty() {
            true => cargo,
            false => cargo.args(["--features", &set.join(",")]),
        };
        cargo.run()?;
    }
    Ok(format!(
        "no feature, {} alone, all together",
        features.join(", ")
    ))
}

/// The features declared in a manifest's `[features]` table, `default` left out.
fn optional_features(manifest: &str) -> Vec<String> {
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features || line.starts_with('#') {
            continue;
        }
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if !name.is_empty() && name != "default" {
            names.push(name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_read_from_the_features_table_only() {
        let manifest = "[package]\nname = \"sock\"\n\n[features]\ndefault = []\n\
                        ## doc\nfutures-io = [\"dep:futures-io\"]\nhyper = [\"dep:hyper\"]\n\n\
                        [dependencies]\nmio = \"1\"\n";
        assert_eq!(optional_features(manifest), ["futures-io", "hyper"]);
    }
}

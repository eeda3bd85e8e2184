//! `soak`: the `echo_server` example under two minutes of connection churn through
//! `faultproxy`, then two more with the proxy's faults (delays, byte-by-byte writes,
//! connections dropped or reset mid-stream); `sock-tests`' `soak` program, whose docs
//! hold the design.
//!
//! Each soak passes when no frame came back changed, every failed connection is named
//! and explained by a fault of the proxy (none may fail in the plain churn), and the
//! server's memory and fds stayed flat from the warm-up to the end, its fds back to
//! their number before the load once it settled. `SOCK_SOAK_SEED=S` replays the
//! faults and payloads of a run.

use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// Seconds each soak churns.
const SECS: &str = "120";

/// The build, killed with all it started past this.
const BUILD_LIMIT: Duration = Duration::from_secs(6 * 60);

/// One soak, killed past this (its clients stop after [`SECS`]; every wait in it is
/// bounded).
const SOAK_LIMIT: Duration = Duration::from_secs(4 * 60);

/// The `soak` step.
pub(crate) fn step() -> Step {
    Step::new("soak", run)
}

/// Builds the programs, runs the churn soak and the fault soak (the second even if
/// the first failed); the note is both summaries.
fn run(project: &Project) -> StepResult {
    project
        .cargo()
        .timeout(BUILD_LIMIT)
        .args(["build", "--release", "-p", "sock-tests"])
        .args(["--bin", "soak", "--bin", "faultproxy"])
        .args(["-p", "sock-examples", "--example", "echo_server"])
        .run()?;
    let churn = soak(project, false);
    let faults = soak(project, true);
    match (churn, faults) {
        (Ok(churn), Ok(faults)) => Ok(format!("{churn}; {faults}")),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// One soak, with the proxy's faults or without; its summary, shortened.
fn soak(project: &Project, faults: bool) -> Result<String, StepError> {
    let release = project.target_dir.join("release");
    let mut summary = String::new();
    let mut cmd = Cmd::new(release.join("soak"))
        .arg("--server")
        .arg(release.join("examples").join("echo_server"))
        .arg("--proxy")
        .arg(release.join("faultproxy"))
        .args(["--duration", SECS])
        .timeout(SOAK_LIMIT);
    if faults {
        cmd = cmd.arg("--faults");
    }
    cmd.run_lines(|line| {
        println!("{line}");
        if let Some(rest) = line.strip_prefix("summary: ") {
            summary = short(rest);
        }
    })?;
    Ok(summary)
}

/// The words of a summary line that fit a table row.
fn short(summary: &str) -> String {
    let keep = [
        "soak=",
        "connections=",
        "failed=",
        "corrupted=",
        "rss_kib=",
        "fds=",
    ];
    let words = summary.split_whitespace();
    let kept: Vec<&str> = words
        .filter(|w| keep.iter().any(|k| w.starts_with(k)))
        .collect();
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_shortened_to_what_the_table_needs() {
        let line = "soak=churn seed=1 duration=120s connections=9 frames=50 failed=0 \
                    corrupted=0 rss_kib=2300->2300 fds=10->10 problems=0";
        assert_eq!(
            short(line),
            "soak=churn connections=9 failed=0 corrupted=0 rss_kib=2300->2300 fds=10->10"
        );
    }
}

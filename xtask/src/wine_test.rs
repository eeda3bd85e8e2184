//! `wine-test`: the workspace's tests built for `x86_64-pc-windows-gnu` and run under
//! Wine, so the Windows backends are exercised on a Linux machine.
//!
//! Plain `cargo test --target x86_64-pc-windows-gnu --no-fail-fast`, with a cargo
//! runner (`<target-dir>/wine/runner.sh`, passed with `--config`) that starts each test
//! binary with `wine64` in the prefix `setup-wine` made, stdin detached and a time
//! limit. One Wine process per test binary, not per test as with nextest, keeps Wine's
//! start-up cost low. Cargo also cross-runs the doctests through the same runner.
//! The step's note counts the `test result:` lines the binaries print.

use std::path::Path;
use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::setup_wine;
use crate::step::{Step, StepError, StepResult};
use crate::wine::{WINDOWS_TARGET, Wine};

/// The `setup-wine` and `wine-test` steps; `args` replace `--workspace --exclude xtask`
/// when given.
pub(crate) fn steps(args: Vec<String>) -> Vec<Step> {
    let test = Step::new("wine-test", move |project| run(project, &args))
        .needs(&setup_wine::NEEDS)
        .needs(&["sh", "timeout"]);
    vec![setup_wine::step(), test]
}

/// A Windows test run (build included) taking longer than this is killed.
const TIME_LIMIT: Duration = Duration::from_secs(8 * 60);

/// Builds and runs the Windows tests under Wine; the note (or the failure) says how
/// many tests passed and failed.
fn run(project: &Project, args: &[String]) -> StepResult {
    let wine = ready_wine(project)?;
    let runner = wine.write_runner()?;
    let _ = std::fs::remove_file(wine.failures());
    let mut totals = Totals::default();
    let result = test_command(project, &runner, args).run_lines(|line| {
        println!("{line}");
        totals.add(line);
    });
    match (result, totals.binaries) {
        (Ok(()), 0) => Err(StepError::failed(
            "no test binary reported a result under Wine",
        )),
        (Ok(()), _) => Ok(totals.note()),
        (Err(StepError::Failed(why)), _) => {
            let exits = std::fs::read_to_string(wine.failures()).unwrap_or_default();
            let exits = exits.lines().collect::<Vec<_>>().join("; ");
            Err(StepError::failed(format!(
                "{}; {exits}; {why}",
                totals.note()
            )))
        }
        (Err(error), _) => Err(error),
    }
}

/// The prefix `setup-wine` prepared, with its services running.
fn ready_wine(project: &Project) -> Result<Wine, StepError> {
    let not_ready = || StepError::cannot_run("Wine is not set up (see the setup-wine step)");
    let wine = Wine::locate(project)
        .filter(setup_wine::is_done)
        .ok_or_else(not_ready)?;
    wine.start_services()?;
    Ok(wine)
}

/// `cargo test --no-fail-fast --target x86_64-pc-windows-gnu` with the Wine runner,
/// on the workspace or on the packages `args` select.
fn test_command(project: &Project, runner: &Path, args: &[String]) -> Cmd {
    let config = runner_config(&runner.to_string_lossy());
    let cargo = project
        .cargo()
        .timeout(TIME_LIMIT)
        .args(["test", "--no-fail-fast"]);
    let cargo = cargo.args(["--target", WINDOWS_TARGET, "--config", &config]);
    match args.is_empty() {
        // xtask is a Linux host tool (its Windows build is never used, and its tests run
        // in the `test` step); under Wine it only added a binary that starts programs.
        true => cargo.args(["--workspace", "--exclude", "xtask"]),
        false => cargo.args(args),
    }
}

/// `target.x86_64-pc-windows-gnu.runner = ["sh", "<script>"]` for `cargo --config`.
fn runner_config(script: &str) -> String {
    let quoted = script.replace('\\', "\\\\").replace('"', "\\\"");
    format!("target.{WINDOWS_TARGET}.runner = [\"sh\", \"{quoted}\"]")
}

/// What the `test result:` lines add up to.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    /// Binaries (and doctest runs) that printed a result line.
    binaries: usize,
    /// Tests that passed.
    passed: usize,
    /// Tests that failed.
    failed: usize,
}

impl Totals {
    /// Adds one line of test output; lines other than `test result:` are ignored.
    fn add(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        self.binaries += 1;
        self.passed += count_before(rest, " passed");
        self.failed += count_before(rest, " failed");
    }

    /// The table note: `N tests passed (M failed) in B binaries`.
    fn note(&self) -> String {
        let Totals {
            binaries,
            passed,
            failed,
        } = self;
        format!("{passed} passed, {failed} failed in {binaries} test runs under Wine")
    }
}

/// The number just before `word` in `text` (`"3 passed"` → 3); 0 if absent.
fn count_before(text: &str, word: &str) -> usize {
    let Some(end) = text.find(word) else {
        return 0;
    };
    let digits = text[..end]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or("");
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_add_up() {
        let mut totals = Totals::default();
        totals.add("running 3 tests");
        totals.add("test result: ok. 3 passed; 0 failed; 0 ignored; finished in 0.01s");
        totals.add("test result: FAILED. 4 passed; 2 failed; 1 ignored; 0 measured");
        assert_eq!(
            totals,
            Totals {
                binaries: 2,
                passed: 7,
                failed: 2
            }
        );
    }

    #[test]
    fn runner_config_is_a_toml_array() {
        let config = runner_config("/a b/\"q\"/runner.sh");
        assert_eq!(
            config,
            r#"target.x86_64-pc-windows-gnu.runner = ["sh", "/a b/\"q\"/runner.sh"]"#
        );
    }
}

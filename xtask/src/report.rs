//! Runs a list of steps to the end, whatever fails, and prints the closing table.
//!
//! The table is the contract with whoever reads the log: one row per step with its
//! result and wall-clock seconds, then a line that is exactly `N passed, M failed`.
//! Skipped steps (possible only outside CI) are counted on a line of their own so the
//! last line keeps its fixed shape.
//!
//! Before a step runs, the programs it needs are looked for ([`needs::check`]); when
//! one is missing the step does not start and its row says which program, and which
//! earlier step should have installed it. That counts as "cannot run": a failure
//! under `CI=true`, a skip elsewhere.
//!
//! Each banner says how much disk is free where cargo builds, and under CI a passed
//! step's scratch directories ([`Step::scratch`]) are removed: the whole run must fit
//! on the machine it lands on, and a full disk fails a link far from its cause.

use std::io::Write;
use std::time::Instant;

use crate::cmd::Cmd;
use crate::needs::{self, Installed};
use crate::project::Project;
use crate::step::{Step, StepError};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One row of the table.
struct Row {
    /// The step's name.
    name: String,
    /// How it ended.
    outcome: Outcome,
    /// Wall-clock seconds it took.
    seconds: f64,
    /// The step's note, or the reason it failed or was skipped.
    note: String,
}

/// Runs every step in order, prints the table and returns whether nothing failed.
pub(crate) fn run_all(project: &Project, steps: Vec<Step>) -> bool {
    let total = steps.len();
    let mut rows = Vec::with_capacity(total);
    let mut installed = Installed::new();
    for (index, step) in steps.into_iter().enumerate() {
        let free = free_gib(&project.target_dir).map_or(String::new(), |gib| {
            format!(" ({gib:.1} GiB free in the target dir)")
        });
        banner(&format!("[{}/{total}] {}{free}", index + 1, step.name));
        let ready = needs::check(&step, &installed);
        needs::record(&mut installed, &step);
        rows.push(run_one(project, step, ready));
    }
    print!("{}", table(&rows));
    let _ = std::io::stdout().flush();
    rows.iter().all(|row| row.outcome != Outcome::Failed)
}

/// Runs one step unless it is not `ready` (a program it needs is missing), timing it
/// and classifying its result.
fn run_one(project: &Project, step: Step, ready: Result<(), StepError>) -> Row {
    let name = step.name.clone();
    let scratch = step.scratch.clone();
    let start = Instant::now();
    let result = ready.and_then(|()| step.run(project));
    if project.ci && result.is_ok() {
        remove_scratch(project, &scratch);
    }
    let seconds = start.elapsed().as_secs_f64();
    let (outcome, note) = match result {
        Ok(note) => (Outcome::Passed, note),
        Err(StepError::Failed(why)) => (Outcome::Failed, why),
        Err(StepError::CannotRun(why)) if project.ci => {
            (Outcome::Failed, format!("cannot run under CI: {why}"))
        }
        Err(StepError::CannotRun(why)) => (Outcome::Skipped, why),
    };
    if outcome != Outcome::Passed {
        println!("xtask: {name}: {} — {note}", label(outcome));
    }
    Row {
        name,
        outcome,
        seconds,
        note,
    }
}

/// Removes a passed step's scratch directories under the target dir.
fn remove_scratch(project: &Project, scratch: &[&str]) {
    for dir in scratch {
        let path = project.target_dir.join(dir);
        match std::fs::remove_dir_all(&path) {
            Ok(()) => println!("xtask: removed scratch dir {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => println!("xtask: could not remove {}: {e}", path.display()),
        }
    }
}

/// GiB free on the file system holding `path` (created first if missing), as `df`
/// reports it; `None` where `df` is missing or prints something unexpected.
fn free_gib(path: &std::path::Path) -> Option<f64> {
    if !cfg!(unix) {
        // No `df` to ask (and under Wine, where the unit tests run too, starting a
        // Unix program from a Windows one is a path better left untaken).
        return None;
    }
    std::fs::create_dir_all(path).ok()?;
    let out = Cmd::new("df").args(["-Pk"]).arg(path).quiet().read().ok()?;
    let kib: f64 = out
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// Prints a visible separator before a step's own output.
fn banner(title: &str) {
    println!("\n==> {title}");
    let _ = std::io::stdout().flush();
}

/// The table and the closing count lines, the last one `N passed, M failed`.
fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut out = format!(
        "\n{:width$}  {:7}  {:>8}  note\n",
        "step", "result", "seconds"
    );
    for row in rows {
        let note = row.note.lines().next().unwrap_or("");
        let (name, result, seconds) = (&row.name, label(row.outcome), row.seconds);
        out += &format!("{name:width$}  {result:7}  {seconds:>8.1}  {note}\n");
    }
    let count = |outcome| rows.iter().filter(|row| row.outcome == outcome).count();
    if count(Outcome::Skipped) > 0 {
        let skipped = count(Outcome::Skipped);
        out += &format!("{skipped} skipped (set CI=true to make that a failure)\n");
    }
    let (passed, failed) = (count(Outcome::Passed), count(Outcome::Failed));
    out + &format!("{passed} passed, {failed} failed\n")
}

/// The word in the result column.
fn label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn project(ci: bool) -> Project {
        Project {
            root: PathBuf::from("."),
            target_dir: PathBuf::from("target"),
            ci,
        }
    }

    fn steps() -> Vec<Step> {
        vec![
            Step::new("good", |_| Ok("fine".to_string())),
            Step::new("no-tool", |_| Err(StepError::cannot_run("frob not found"))),
        ]
    }

    #[test]
    fn a_step_that_cannot_run_is_skipped_outside_ci_and_fails_under_ci() {
        assert!(run_all(&project(false), steps()));
        assert!(!run_all(&project(true), steps()));
    }

    #[test]
    fn a_step_whose_program_is_missing_does_not_run() {
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = ran.clone();
        let needy = move || {
            let flag = flag.clone();
            Step::new("needy", move |_| Ok(format!("{}", flag.replace(true))))
                .needs(&["no-such-program-xtask"])
        };
        assert!(run_all(&project(false), vec![needy()]));
        assert!(!run_all(&project(true), vec![needy()]));
        assert!(!ran.get());
    }

    #[test]
    fn every_step_runs_after_a_failure() {
        let mut steps = vec![Step::new("bad", |_| Err(StepError::failed("broken")))];
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = ran.clone();
        steps.push(Step::new("after", move |_| {
            Ok(format!("{}", flag.replace(true)))
        }));
        assert!(!run_all(&project(false), steps));
        assert!(ran.get());
    }

    #[test]
    fn table_ends_with_the_counts_line() {
        let row = |name: &str, outcome| Row {
            name: name.to_string(),
            outcome,
            seconds: 1.25,
            note: "first line\nsecond line".to_string(),
        };
        let rows = [
            row("fmt", Outcome::Passed),
            row("clippy host", Outcome::Failed),
            row("wine", Outcome::Skipped),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.last(), Some(&"1 passed, 1 failed"));
        assert_eq!(lines[1], "step         result    seconds  note");
        assert_eq!(lines[3], "clippy host  FAILED        1.2  first line");
        assert_eq!(lines[5], "1 skipped (set CI=true to make that a failure)");
    }
}

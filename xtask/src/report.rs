//! Runs a list of steps to the end, whatever fails, and prints the closing table.
//!
//! The table is the contract with whoever reads the log: one row per step with its
//! result and wall-clock seconds, then a line that is exactly `N passed, M failed`.
//! Skipped steps (possible only outside CI) are counted on a line of their own so the
//! last line keeps its fixed shape.

use std::io::Write;
use std::time::Instant;

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
    for (index, step) in steps.into_iter().enumerate() {
        banner(&format!("[{}/{total}] {}", index + 1, step.name));
        rows.push(run_one(project, step));
    }
    print_table(&rows);
    rows.iter().all(|row| row.outcome != Outcome::Failed)
}

/// Runs one step, timing it and classifying its result.
fn run_one(project: &Project, step: Step) -> Row {
    let name = step.name.clone();
    let start = Instant::now();
    let result = step.run(project);
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

/// Prints a visible separator before a step's own output.
fn banner(title: &str) {
    println!("\n==> {title}");
    let _ = std::io::stdout().flush();
}

/// Prints the table and the closing count lines.
fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "\n{:width$}  {:7}  {:>8}  note",
        "step", "result", "seconds"
    );
    for row in rows {
        let note = row.note.lines().next().unwrap_or("");
        let (name, result, seconds) = (&row.name, label(row.outcome), row.seconds);
        println!("{name:width$}  {result:7}  {seconds:>8.1}  {note}");
    }
    let count = |outcome| rows.iter().filter(|row| row.outcome == outcome).count();
    if count(Outcome::Skipped) > 0 {
        println!(
            "{} skipped (set CI=true to make that a failure)",
            count(Outcome::Skipped)
        );
    }
    println!(
        "{} passed, {} failed",
        count(Outcome::Passed),
        count(Outcome::Failed)
    );
    let _ = std::io::stdout().flush();
}

/// The word in the result column.
fn label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
    }
}

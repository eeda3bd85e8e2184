//! What a running scenario tells the world: the current operation of each task, and
//! violations.
//!
//! Before each operation that may wait, a task records what it is about to do. In child
//! mode each record is also written to stdout as one line, `op task=<id> <label>
//! <operation>`, so the parent always knows the last operation of every task even after
//! it kills a hung child. Violations print at once as `violation <message>` lines and are
//! kept for the scenario's verdict. Records overwrite one reused string per task, so a
//! long `--heap` run allocates nothing here once warm.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Whether records are written to stdout (child mode).
static ECHO: AtomicBool = AtomicBool::new(false);

/// Records made so far: the progress the watchdog looks for.
static OPS: AtomicU64 = AtomicU64::new(0);

/// The last record of each task, by task id.
static LAST: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Whether a panic was reported since the last [`take_violations`].
static PANICKED: AtomicBool = AtomicBool::new(false);

/// The violations of the running scenario.
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A task of a scenario, as named in records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Task {
    /// Small number, stable for a plan: the parent's key.
    pub(crate) id: u8,
    /// Its role, e.g. `a.writer`.
    pub(crate) label: &'static str,
}

impl Task {
    /// Task `id`, named `label`.
    pub(crate) const fn new(id: u8, label: &'static str) -> Task {
        Task { id, label }
    }
}

/// The scenario's own set-up and checks.
pub(crate) const MAIN: Task = Task::new(0, "main");

/// The probes, run one after another.
pub(crate) const PROBE: Task = Task::new(20, "probe");

/// Makes records also go to stdout (child mode) or not.
pub(crate) fn set_echo(on: bool) {
    ECHO.store(on, Ordering::Relaxed);
}

/// Records that `task` is about to do `what`.
pub(crate) fn op(task: Task, what: fmt::Arguments<'_>) {
    OPS.fetch_add(1, Ordering::Relaxed);
    let mut last = lock(&LAST);
    let id = usize::from(task.id);
    if last.len() <= id {
        last.resize_with(id + 1, String::new);
    }
    let slot = &mut last[id];
    slot.clear();
    let _ = write!(slot, "{} {what}", task.label);
    if ECHO.load(Ordering::Relaxed) {
        let _ = writeln!(std::io::stdout().lock(), "op task={id} {slot}");
    }
}

/// Records made so far (by every task of every scenario of this process).
pub(crate) fn ops_made() -> u64 {
    OPS.load(Ordering::Relaxed)
}

/// Reports a broken invariant.
pub(crate) fn violation(message: impl fmt::Display) {
    let message = message.to_string().replace('\n', " / "); // one line per violation
    let _ = writeln!(std::io::stdout().lock(), "violation {message}");
    lock(&VIOLATIONS).push(message);
}

/// Reports a panic (from the panic hook).
pub(crate) fn panicked(message: impl fmt::Display) {
    PANICKED.store(true, Ordering::SeqCst);
    violation(message);
}

/// Whether a panic was reported since the last [`take_violations`].
pub(crate) fn has_panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Takes the violations reported since the last call.
pub(crate) fn take_violations() -> Vec<String> {
    PANICKED.store(false, Ordering::SeqCst);
    std::mem::take(&mut *lock(&VIOLATIONS))
}

/// The last record of every task that made one, as `task=<id> <record>` lines.
pub(crate) fn last_ops() -> Vec<String> {
    let last = lock(&LAST);
    let mut lines = Vec::new();
    for (id, record) in last.iter().enumerate() {
        if !record.is_empty() {
            lines.push(format!("task={id} {record}"));
        }
    }
    lines
}

/// Forgets the records (between scenarios of one process).
pub(crate) fn clear_ops() {
    lock(&LAST).iter_mut().for_each(String::clear);
}

/// Locks `m`, whatever a panicking task left behind.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

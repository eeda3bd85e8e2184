//! A step: one named check whose outcome becomes a row of the closing table.
//!
//! A step also says which outside programs it runs (`needs`) and which it installs
//! (`provides`), so that `report` can refuse to start a step whose tools are missing
//! and a unit test (in [`crate::needs`]) can check that `ci` installs every tool before
//! the first step that runs it.

use crate::project::Project;

/// What a step returns: a short note for the table (may be empty), or why it did
/// not pass.
pub(crate) type StepResult = Result<String, StepError>;

/// Why a step did not pass.
#[derive(Debug)]
pub(crate) enum StepError {
    /// The step ran and found a problem (a command failed, a rule was broken).
    Failed(String),
    /// The step could not run at all, e.g. a tool is missing and cannot be installed.
    /// A skip outside CI, a failure under `CI=true`.
    CannotRun(String),
}

impl StepError {
    /// A [`StepError::Failed`] with `message`.
    pub(crate) fn failed(message: impl Into<String>) -> StepError {
        StepError::Failed(message.into())
    }

    /// A [`StepError::CannotRun`] with `message`.
    pub(crate) fn cannot_run(message: impl Into<String>) -> StepError {
        StepError::CannotRun(message.into())
    }
}

/// A named unit of work in the table.
pub(crate) struct Step {
    /// The name in the table's first column.
    pub(crate) name: String,
    /// Outside programs the step (or what it builds and runs) starts, looked up on
    /// `PATH` before it runs; the Rust toolchain's own `cargo`/`rustc` are not listed.
    pub(crate) needs: Vec<&'static str>,
    /// Programs the step installs when they are missing.
    pub(crate) provides: Vec<&'static str>,
    /// Subdirectories of the target dir that only this step builds into; under CI
    /// they are removed once the step passes, so the run fits on a small disk.
    pub(crate) scratch: Vec<&'static str>,
    /// The work; runs at most once.
    work: Box<dyn FnOnce(&Project) -> StepResult>,
}

impl Step {
    /// A step called `name` that runs `work`.
    pub(crate) fn new(
        name: impl Into<String>,
        work: impl FnOnce(&Project) -> StepResult + 'static,
    ) -> Step {
        Step {
            name: name.into(),
            needs: Vec::new(),
            provides: Vec::new(),
            scratch: Vec::new(),
            work: Box::new(work),
        }
    }

    /// Declares the outside programs the step runs.
    pub(crate) fn needs(mut self, programs: &[&'static str]) -> Step {
        self.needs.extend(programs);
        self
    }

    /// Declares the programs the step installs.
    pub(crate) fn provides(mut self, programs: &[&'static str]) -> Step {
        self.provides.extend(programs);
        self
    }

    /// Declares a subdirectory of the target dir that only this step uses.
    pub(crate) fn scratch(mut self, dir: &'static str) -> Step {
        self.scratch.push(dir);
        self
    }

    /// Runs the step's work.
    pub(crate) fn run(self, project: &Project) -> StepResult {
        (self.work)(project)
    }
}

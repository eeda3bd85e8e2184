//! A step: one named check whose outcome becomes a row of the closing table.

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
            work: Box::new(work),
        }
    }

    /// Runs the step's work.
    pub(crate) fn run(self, project: &Project) -> StepResult {
        (self.work)(project)
    }
}

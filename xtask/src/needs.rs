//! What steps need from outside the Rust toolchain: the check made before each step,
//! the ordering rule `ci` is tested against, and the `setup-tools` a command run alone
//! gets.
//!
//! A step lists the programs it runs ([`Step::needs`]) and those it installs
//! ([`Step::provides`]). Three uses:
//!
//! - Before a step starts, [`check`] looks for each program it needs (on `PATH`, or
//!   where Debian puts Wine). A missing one keeps the step from running: it ends as
//!   [`StepError::CannotRun`] naming the program and the step that should have
//!   installed it — a failure under `CI=true`, a skip elsewhere, like any tool that
//!   cannot be had. So a wrong order reads as "`x86_64-w64-mingw32-gcc` is not on PATH
//!   and no earlier step installed it", not as a build script's C compiler error.
//! - The unit test below walks `ci::steps()` and fails when a step needs a program
//!   that is neither in `BASE` nor provided by an earlier step: the order that once
//!   checked Windows with clippy before mingw was installed no longer compiles green.
//! - A command run alone (`cargo xtask test`, `clippy`, `wine-test`, ...) gets a
//!   `setup-tools` step in front, limited to what its steps need and this machine
//!   lacks ([`with_setup`]).

use crate::setup_tools;
use crate::step::{Step, StepError};
use crate::toolchain;

/// Programs a fresh machine has before any step runs: the Rust toolchain (rustup,
/// cargo-nextest), gcc as `cc`, git, python3, and what Debian never leaves out (`sh`,
/// coreutils' `timeout`, `apt-get`). Not curl, wrk, strace, mingw or Wine. (Only the
/// ordering test reads it: at run time [`check`] looks at the machine itself.)
#[cfg(test)]
const BASE: [&str; 11] = [
    "rustup",
    "cargo",
    "rustc",
    "cargo-nextest",
    "gcc",
    "cc",
    "git",
    "python3",
    "sh",
    "timeout",
    "apt-get",
];

/// The programs earlier steps of a run installed: `(program, step name)`.
pub(crate) type Installed = Vec<(&'static str, String)>;

/// Records what `step` installs into `installed`.
pub(crate) fn record(installed: &mut Installed, step: &Step) {
    let by = |program: &&'static str| (*program, step.name.clone());
    installed.extend(step.provides.iter().map(by));
}

/// `Ok` when every program `step` needs is found or provided by `step` itself; else
/// `CannotRun` naming the first missing program and what should have installed it.
pub(crate) fn check(step: &Step, installed: &Installed) -> Result<(), StepError> {
    let own = |program: &&str| step.provides.contains(program);
    let missing = step.needs.iter().filter(|program| !own(program));
    match missing.copied().find(|program| !found(program)) {
        None => Ok(()),
        Some(program) => Err(StepError::cannot_run(why_missing(program, installed))),
    }
}

/// Whether `program` can be started here.
fn found(program: &str) -> bool {
    toolchain::find_program(program).is_some()
}

/// The message for a needed `program` that is not there.
fn why_missing(program: &str, installed: &Installed) -> String {
    let earlier = installed.iter().find(|(name, _)| *name == program);
    match earlier {
        Some((_, step)) => {
            format!("`{program}` is not on PATH although {step}, which installs it, ran earlier")
        }
        None if setup_tools::installs(program) => format!(
            "`{program}` is not on PATH and no earlier step installed it \
             (`cargo xtask setup-tools` does)"
        ),
        None => format!("`{program}` is not on PATH and no earlier step installed it"),
    }
}

/// One line per program some step needs that is neither in `BASE` nor provided by
/// the step itself or an earlier one.
#[cfg(test)]
fn ordering_problems(steps: &[Step]) -> Vec<String> {
    let mut provided: Vec<&str> = BASE.to_vec();
    let mut problems = Vec::new();
    for step in steps {
        provided.extend(&step.provides);
        let unmet = step.needs.iter().filter(|need| !provided.contains(need));
        problems.extend(unmet.map(|need| {
            format!(
                "{} needs `{need}`, which no earlier step provides",
                step.name
            )
        }));
    }
    problems
}

/// `steps`, preceded by a `setup-tools` for the programs they need, this machine
/// lacks, no step among them provides and `setup-tools` can install; unchanged when
/// there are none.
pub(crate) fn with_setup(steps: Vec<Step>) -> Vec<Step> {
    let missing = installable_missing(&steps, found);
    if missing.is_empty() {
        return steps;
    }
    let mut all = vec![setup_tools::step_for(&missing)];
    all.extend(steps);
    all
}

/// The programs [`with_setup`] installs, given what is `found` here.
fn installable_missing(steps: &[Step], found: impl Fn(&str) -> bool) -> Vec<&'static str> {
    let provided: Vec<&str> = steps.iter().flat_map(|s| s.provides.clone()).collect();
    let mut missing: Vec<&'static str> = Vec::new();
    for need in steps.iter().flat_map(|step| step.needs.iter().copied()) {
        let wanted = !found(need) && !provided.contains(&need) && !missing.contains(&need);
        if wanted && setup_tools::installs(need) {
            missing.push(need);
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bench, ci, clippy, doc, fmt, miri, test, tidy, wine_test};

    fn step(name: &str, needs: &[&'static str], provides: &[&'static str]) -> Step {
        Step::new(name, |_| Ok(String::new()))
            .needs(needs)
            .provides(provides)
    }

    #[test]
    fn ci_installs_every_program_before_the_first_step_that_runs_it() {
        assert_eq!(ordering_problems(&ci::steps()), Vec::<String>::new());
    }

    /// The order before issue 12: clippy's Windows check ran before anything installed
    /// mingw (then only `setup-wine`, at the end, did).
    #[test]
    fn the_order_that_checked_windows_before_installing_mingw_is_caught() {
        let mut old = vec![fmt::step(), tidy::step()];
        old.extend(clippy::steps(&[]));
        old.push(setup_tools::step());
        old.extend(test::steps());
        old.extend([doc::step(), bench::smoke_step(), miri::step()]);
        old.extend(wine_test::steps(Vec::new()));
        assert_eq!(
            ordering_problems(&old),
            [
                "clippy x86_64-pc-windows-gnu needs `x86_64-w64-mingw32-gcc`, \
              which no earlier step provides"
            ]
        );
    }

    #[test]
    fn a_step_may_install_what_it_needs_itself() {
        let steps = [step("self-reliant", &["frob"], &["frob"])];
        assert!(ordering_problems(&steps).is_empty());
    }

    #[test]
    fn a_missing_program_is_named_with_the_step_that_should_have_installed_it() {
        let needy = step("needy", &["no-such-program-xtask"], &[]);
        let Err(StepError::CannotRun(alone)) = check(&needy, &Vec::new()) else {
            panic!("a missing program must keep the step from running");
        };
        assert!(alone.contains("`no-such-program-xtask`") && alone.contains("no earlier step"));
        let installed = vec![("no-such-program-xtask", "setup-frob".to_string())];
        let Err(StepError::CannotRun(after)) = check(&needy, &installed) else {
            panic!("still missing after its installer ran");
        };
        assert!(after.contains("setup-frob, which installs it, ran earlier"));
        assert!(check(&step("easy", &["sh"], &[]), &Vec::new()).is_ok() || !cfg!(unix));
    }

    #[test]
    fn a_command_run_alone_installs_only_what_it_lacks() {
        let steps = [
            step("a", &["wrk", "curl", "no-such-program-xtask"], &[]),
            step("b", &["wrk", "wine64"], &[]),
            step("c", &["x86_64-w64-mingw32-gcc"], &[]),
        ];
        let nothing_here = installable_missing(&steps, |_| false);
        assert_eq!(
            nothing_here,
            ["wrk", "curl", "wine64", "x86_64-w64-mingw32-gcc"]
        );
        let only_curl = installable_missing(&steps, |p| p != "curl");
        assert_eq!(only_curl, ["curl"]);
        let provided = [step("setup", &[], &["curl"]), step("t", &["curl"], &[])];
        assert!(installable_missing(&provided, |_| false).is_empty());
    }
}

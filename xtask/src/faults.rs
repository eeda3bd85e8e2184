//! `faults`: syscall faults injected with `strace` into an echo server and its
//! clients, in both socket modes (`sock-tests`' `faults` program; its docs hold the
//! design).
//!
//! `accept4`, `recvfrom`/`recvmsg`, `sendto`/`sendmsg`, `epoll_wait` and `connect`
//! fail with `EINTR`, `EAGAIN`, `ECONNABORTED`, `ENOBUFS` or `ENOMEM` (the pairs a
//! kernel can produce) at random positions; each run must finish, not spin, lose or
//! change no byte of a connection that was not failed, retry `EINTR` silently, park on
//! `EAGAIN`, and name every other error by its kind. Every case runs once (about 30
//! s), then rounds at new positions while [`BUDGET_SECS`] last. The seed is printed
//! first; `SOCK_FAULTS_SEED=S cargo xtask faults` replays a run, and arguments go to
//! the program (`cargo xtask faults --only shared:sendto --round 2`).

use std::time::Duration;

use crate::project::Project;
use crate::step::{Step, StepResult};

/// No new round starts after this many seconds of runs.
const BUDGET_SECS: &str = "150";

/// The build and every run, killed with all it started past this (a hung run is
/// already killed by the program after a minute).
const TIME_LIMIT: Duration = Duration::from_secs(8 * 60);

/// The `faults` step; `args` go to the program after the default budget.
pub(crate) fn step(args: Vec<String>) -> Step {
    Step::new("faults", move |project| run(project, &args)).needs(&["strace"])
}

/// Builds and runs the program; the note is its summary line.
fn run(project: &Project, args: &[String]) -> StepResult {
    let mut summary = String::new();
    project
        .cargo()
        .timeout(TIME_LIMIT)
        .args([
            "run",
            "--release",
            "-p",
            "sock-tests",
            "--bin",
            "faults",
            "--",
        ])
        .args(["--budget", BUDGET_SECS])
        .args(args)
        .run_lines(|line| {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("summary: ") {
                summary = rest.to_string();
            }
        })?;
    Ok(summary)
}

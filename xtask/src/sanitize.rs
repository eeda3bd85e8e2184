//! `asan` and `tsan`: test suites under nightly Rust's sanitizers.
//!
//! - `asan` — AddressSanitizer with its LeakSanitizer over the facade and the scheduler:
//!   `sock`'s and `sock-sched`'s unit and integration tests and every `sock-tests` suite
//!   (see [`ASAN`]). std is not rebuilt: ASan needs no instrumented std to be right (an
//!   uninstrumented std only misses bugs inside std).
//! - `tsan` — ThreadSanitizer over the multi-threading suites: `sock-tests`'
//!   `multi_loops`, `multi_shared`, `shared_tcp` and `shared_udp`, and `sock-sched`'s `mt`
//!   unit tests (see [`TSAN`]). std is rebuilt with the sanitizer (`-Zbuild-std`, which
//!   needs the nightly `rust-src` component): TSan must see every atomic operation,
//!   std's included, or it reports races that are not there.
//!
//! Both build for the explicit target `x86_64-unknown-linux-gnu`, so `RUSTFLAGS` reach the
//! code under test but not build scripts and proc macros, and each has a target
//! directory of its own under `<target-dir>/sanitize/`, so neither rebuilds the other's
//! artefacts or the normal build's. Doctests are left out (rustdoc would need the flags
//! too, and they are plain single-threaded examples). Every command is killed once the
//! step has run for [`TIME_LIMIT`].
//!
//! Tests re-executing themselves in a child (`readiness`, `emfile`, `addr_netns`) or
//! forking (`op_rules`) pass under ASan: the children are the same instrumented binary,
//! so nothing is skipped. What LeakSanitizer reports and is known is suppressed by name in
//! [`LEAK_SUPPRESSIONS`], each with the reason; a new leak fails the step.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::project::Project;
use crate::step::{Step, StepError, StepResult};
use crate::toolchain;

/// The one target the sanitizers run on here (and what `-Zbuild-std` needs named).
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// A step (builds included) still running after this long is killed, with everything it
/// started. A fresh ASan build and run takes about two minutes here, TSan's (std
/// included) about four.
const TIME_LIMIT: Duration = Duration::from_secs(12 * 60);

/// One sanitizer: how to build for it and which tests run under it.
struct Sanitizer {
    /// The step's name, also its target directory under `<target-dir>/sanitize/`.
    name: &'static str,
    /// The value of `-Zsanitizer=`.
    flag: &'static str,
    /// Whether std is rebuilt with the sanitizer (`-Zbuild-std`).
    build_std: bool,
    /// The `cargo test` runs: selection arguments, then the test binaries' arguments.
    runs: &'static [(&'static [&'static str], &'static [&'static str])],
}

/// AddressSanitizer and LeakSanitizer over the facade and the scheduler.
const ASAN: Sanitizer = Sanitizer {
    name: "asan",
    flag: "address",
    build_std: false,
    runs: &[(
        &[
            "-p",
            "sock",
            "-p",
            "sock-sched",
            "-p",
            "sock-tests",
            "--lib",
            "--tests",
        ],
        &[],
    )],
};

/// ThreadSanitizer over the multi-threading suites.
const TSAN: Sanitizer = Sanitizer {
    name: "tsan",
    flag: "thread",
    build_std: true,
    runs: &[
        (
            &[
                "-p",
                "sock-tests",
                "--test",
                "multi_loops",
                "--test",
                "multi_shared",
                "--test",
                "shared_tcp",
                "--test",
                "shared_udp",
            ],
            &[],
        ),
        (&["-p", "sock-sched", "--lib"], &["mt::"]),
    ],
};

/// LeakSanitizer suppressions (`leak:` a function in the allocation's stack): the
/// leaks the suites are known to show, so the step fails on new ones only. LSan prints
/// how often each matched.
///
/// - Loop reference cycles. A task holds its loop strongly (a `ThreadRef` holds an
///   `Executor`; a shared-poller socket holds its `SharedLoop`), and the loop holds its
///   unfinished tasks, so a loop whose last outside handle is dropped while a task that
///   will never finish still holds such a reference is never freed, with its tasks,
///   timers and sockets. `coro_threads` leaves a `transfer` partner suspended forever
///   and a thread suspended after its second `yield_`; `multi_shared` leaves its
///   accept loop waiting after stopping the workers.
/// - Test code: `readiness`' unix cases pass their socket path as a `&'static str`
///   made with `Box::leak`.
const LEAK_SUPPRESSIONS: [&str; 6] = [
    "coro_threads::transfer_passes_values_in_order_through_100k_round_trips",
    "coro_threads::resume_from_inside_a_thread_polls_inline_and_nests",
    "multi_shared::sockets::four_threads_run_send_connection_tasks_on_one_kernel_poller",
    "multi_shared::sockets::client",
    "readiness::loop_unix_stream_recv_after_connect_times_out_quietly",
    "readiness::shared_unix_stream_recv_after_connect_times_out_quietly",
];

/// The `asan` step.
pub(crate) fn asan_step() -> Step {
    Step::new("asan", |project| run(project, &ASAN))
        .needs(&["rustup"])
        .scratch("sanitize/asan")
}

/// The `tsan` step.
pub(crate) fn tsan_step() -> Step {
    Step::new("tsan", |project| run(project, &TSAN))
        .needs(&["rustup"])
        .scratch("sanitize/tsan")
}

/// Installs what `sanitizer` needs, then runs each of its `cargo test` runs.
fn run(project: &Project, sanitizer: &Sanitizer) -> StepResult {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err(StepError::cannot_run(
            "the sanitizers run on x86_64 Linux only",
        ));
    }
    let deadline = Instant::now() + TIME_LIMIT;
    let components: &[&str] = if sanitizer.build_std {
        &["rust-src"]
    } else {
        &[]
    };
    toolchain::ensure_nightly(components)?;
    let dir = project.target_dir.join("sanitize");
    let suppressions = write_suppressions(&dir)?;
    for (selection, test_args) in sanitizer.runs {
        let left = deadline.saturating_duration_since(Instant::now());
        cargo_test(
            project,
            sanitizer,
            &dir,
            &suppressions,
            selection,
            test_args,
        )
        .timeout(left)
        .run()?;
    }
    Ok(format!("{} cargo test run(s) clean", sanitizer.runs.len()))
}

/// The `cargo +nightly test` command of one run.
fn cargo_test(
    project: &Project,
    sanitizer: &Sanitizer,
    dir: &Path,
    suppressions: &Path,
    selection: &[&str],
    test_args: &[&str],
) -> crate::cmd::Cmd {
    let target_dir = dir.join(sanitizer.name);
    let mut cargo = project.cargo().args(["+nightly", "test"]);
    if sanitizer.build_std {
        cargo = cargo.arg("-Zbuild-std");
    }
    let lsan = format!(
        "suppressions={}:print_suppressions=1",
        suppressions.display()
    );
    cargo
        .args(["--target", TRIPLE, "--no-fail-fast", "--target-dir"])
        .arg(&target_dir)
        .args(selection)
        .arg("--")
        .args(test_args)
        .env("RUSTFLAGS", format!("-Zsanitizer={}", sanitizer.flag))
        .env("LSAN_OPTIONS", lsan)
}

/// Writes [`LEAK_SUPPRESSIONS`] as an LSan suppressions file in `dir`; its path.
fn write_suppressions(dir: &Path) -> Result<PathBuf, StepError> {
    let path = dir.join("lsan-suppressions.txt");
    let text: String = LEAK_SUPPRESSIONS
        .iter()
        .map(|function| format!("leak:{function}\n"))
        .collect();
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| StepError::failed(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

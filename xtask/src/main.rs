//! `cargo xtask`: the project's automation, std-only.
//!
//! `cargo xtask ci` runs every check the project holds itself to and prints a
//! step / result / seconds table ending in `N passed, M failed`; each step also runs
//! alone (`cargo xtask help` lists them). Shaped like rust-analyzer's xtask: one module
//! per task, a tiny process helper instead of a shell, no dependencies so it builds in
//! seconds on a fresh clone.
//!
//! What each step runs, in `ci`'s order:
//!
//! - `fmt` — `cargo fmt --all --check`.
//! - `chaos` — the randomized API-sequence tester (`sock-tests`' `chaos`) for 3 minutes
//!   on fresh seeds; any violation prints its seed and fails.
//! - `sim` — the `sim_echo` example (an echo server and clients on `sock::sim`'s
//!   simulated hosts under faults drawn from the seed) over 1,000 seeds in release,
//!   from a start taken from the clock; a failure prints its seed and the command that
//!   replays it (see [`sim`]). `cargo xtask sim --seeds N [--start S] [--process]` runs
//!   it alone, `--process` each seed in its own child process.
//! - `deps` — `cargo tree -p sock -e normal`: the facade's default dependency graph
//!   holds only the allowed crates (the ecosystem's come in behind features).
//! - `features` — `cargo test -p sock` with no feature, each optional feature alone,
//!   and all together (the workspace's `test` step sees only their union).
//! - `tidy` — the house rules of `STYLE.md` and `ARCHITECTURE.md` as code (see
//!   [`tidy`]).
//! - `setup-tools` — `apt-get install`s every outside program a later step runs, when
//!   missing: `curl`, `wrk`, `openssl`, `getent`, `taskset`, `cc`, `strace`,
//!   `valgrind`, mingw (`x86_64-w64-mingw32-gcc`) and Wine (see [`setup_tools`]).
//! - `clippy` — `cargo clippy --workspace --all-targets -- -D warnings` on the host, and
//!   `cargo clippy --workspace --lib --tests --examples --target T -- -D warnings` for
//!   `x86_64-pc-windows-gnu`, `x86_64-apple-darwin` and `x86_64-unknown-freebsd`
//!   (installed with `rustup target add` when missing). Clippy only type-checks, so the
//!   cross targets need no linker, but the build scripts of criterion's `alloca` and of
//!   `ring` (rustls', in the examples) compile C: the Windows check needs mingw's gcc,
//!   and macOS (no C compiler here) leaves `sock-benches` and `sock-examples` out;
//!   benches are left out on all three because nothing runs them
//!   there. If a dev-dependency stops checking on a target, list that target in
//!   [`clippy::LIBS_ONLY_TARGETS`] and it is checked with `--lib` on the library crates.
//! - `test` — `cargo nextest run --workspace` (or `cargo test --workspace` when
//!   nextest is not installed; either way xtask's own unit tests included) and
//!   `doctest`, `cargo test --workspace --doc`. Nextest kills a test after three
//!   minutes (`xtask/nextest.toml`); every test, bench-smoke and Wine run is killed,
//!   with all it started, after eight, so a hang cannot stall CI.
//! - `stress` — the multi-threading stress suites (`sock-tests`' `multi_loops` and
//!   `multi_shared`) in release at their full size, 4,000 connections × 50 round trips,
//!   ten times each (`SOCK_STRESS_REPS=10`): the flake check.
//! - `doc` — `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-D warnings`, then
//!   the facade's pages are read for examples that name a layer crate instead of its
//!   `sock::` path (see [`doc`]).
//! - `package` — `cargo package` of the library crates: each archive carries its README
//!   and both license files, and builds on its own against crates.io (see [`package`]).
//! - `bench-smoke` — `cargo bench --workspace --benches -- --test`: every criterion
//!   benchmark runs once, untimed, so benches keep compiling and running.
//! - `icount` — instructions per operation of the hot paths (echo, accept+connect, UDP
//!   and batched UDP, deadlines that park and that do not, spawn+join, resume/transfer,
//!   timers, numeric lookup), counted under callgrind, sock beside tokio; fails when
//!   sock's grow by more than 2 % over `benches/icount-baseline.txt`.
//!   `cargo xtask icount --bless` rewrites the baseline: commit it with the reason
//!   (see [`icount`]).
//! - `miri` — sock-sched's OS-free `unsafe` code under miri (see [`miri`]).
//! - `asan` — the tests of `sock`, `sock-sched` and `sock-tests` under AddressSanitizer
//!   and LeakSanitizer (nightly; see [`sanitize`]).
//! - `tsan` — the multi-threading suites (`sock-tests`' `multi_loops`, `multi_shared`,
//!   `shared_tcp`, `shared_udp`; `sock-sched`'s `mt`) under ThreadSanitizer, std rebuilt
//!   with it (see [`sanitize`]). Each sanitizer step is killed after twelve minutes.
//! - `fuzz` — every cargo-fuzz target of `tests/fuzz` for 60 s, failing on a crash;
//!   installs cargo-fuzz when missing (see [`fuzz`]).
//! - `setup-wine` — prepares a Wine prefix under the target directory and makes Rust
//!   binaries start there (see [`setup_wine`]).
//! - `wine-test` — `cargo test --workspace` for `x86_64-pc-windows-gnu`, every test
//!   binary and the doctests run under Wine (see [`wine_test`]).
//!
//! Not part of `ci`: `bench [ARGS...]` runs `cargo bench -p sock-benches ARGS...` for
//! real numbers (criterion's own flags go after `--`); `icount --servers [--secs N]
//! [--conns C] [--only NAMES]` counts user-space instructions per echo round trip of the network
//! bench's servers under callgrind while its loadgen drives them (see
//! [`icount_servers`]; the counts depend on how many events each wait returns, so it
//! is no guard).
//!
//! Every step declares the outside programs it runs and those it installs (see
//! [`needs`]). A step whose program is missing does not start; its row names the
//! program. A command other than `ci` run alone gets a `setup-tools` step in front
//! for what its steps need and the machine lacks, so `cargo xtask test` or
//! `cargo xtask clippy` works on a fresh machine too.
//!
//! Under `CI=true` a step that cannot run (a missing tool that cannot be installed) is a
//! failure; elsewhere it is reported as skipped.

mod apt;
mod bench;
mod chaos;
mod ci;
mod clippy;
mod cmd;
mod deps;
mod doc;
mod faults;
mod features;
mod flags;
mod fmt;
mod fuzz;
mod icount;
mod icount_servers;
mod miri;
mod needs;
mod package;
mod process_tree;
mod project;
mod report;
mod sanitize;
mod setup_tools;
mod setup_wine;
mod sim;
mod soak;
mod step;
mod test;
mod tidy;
mod toolchain;
mod wine;
mod wine_test;

use std::process::ExitCode;

use crate::flags::Command;
use crate::project::Project;

fn main() -> ExitCode {
    let command = match flags::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("xtask: {message}\n\n{}", flags::HELP);
            return ExitCode::from(2);
        }
    };
    if let Command::Help = command {
        println!("{}", flags::HELP);
        return ExitCode::SUCCESS;
    }
    let project = match Project::discover() {
        Ok(project) => project,
        Err(message) => {
            eprintln!("xtask: {message}");
            return ExitCode::FAILURE;
        }
    };
    run(&project, command)
}

/// Runs `command`: a list of steps with a closing table, or a pass-through command.
/// A command other than `ci` first installs what its steps need and no step of it
/// does (`ci` orders its own `setup-tools`).
fn run(project: &Project, command: Command) -> ExitCode {
    let steps = match command {
        Command::Bench(args) => return exit_code(bench::run(project, &args)),
        Command::Ci => return exit_code(report::run_all(project, ci::steps())),
        Command::Fmt => vec![fmt::step()],
        Command::Clippy(targets) => clippy::steps(&targets),
        Command::Test => test::steps(),
        Command::Doc => vec![doc::step()],
        Command::Package => vec![package::step()],
        Command::BenchSmoke => vec![bench::smoke_step()],
        Command::Icount { bless } => vec![icount::step(bless)],
        Command::IcountServers(load) => vec![icount_servers::step(load)],
        Command::Tidy => vec![tidy::step()],
        Command::Deps => vec![deps::step()],
        Command::Features => vec![features::step()],
        Command::Chaos(args) => vec![chaos::step(args)],
        Command::Sim(args) => vec![sim::step(args)],
        Command::SetupWine => vec![setup_wine::step()],
        Command::SetupTools => vec![setup_tools::step()],
        Command::Miri => vec![miri::step()],
        Command::Faults(args) => vec![faults::step(args)],
        Command::Soak => vec![soak::step()],
        Command::Asan => vec![sanitize::asan_step()],
        Command::Tsan => vec![sanitize::tsan_step()],
        Command::Fuzz => vec![fuzz::step()],
        Command::WineTest(args) => wine_test::steps(args),
        Command::Help => Vec::new(),
    };
    exit_code(report::run_all(project, needs::with_setup(steps)))
}

/// Maps "everything passed" to the process exit status.
fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

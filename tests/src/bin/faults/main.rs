//! `faults`: syscall faults injected with `strace` into an echo server and its
//! clients, in the loop mode and the shared-poller mode (`cargo xtask faults`).
//!
//! ```text
//! faults [--budget SECS] [--rounds N] [--round R] [--only TEXT] [--clients N] [--exchanges N]
//! SOCK_FAULTS_SEED=S faults ...     replays run S
//! ```
//!
//! Each run starts this program again as `faults child ...` under
//! `strace -f --seccomp-bpf -e inject=SYSCALLS:error=ERRNO:when=FIRST+STEP`: one
//! process holding an echo server and six clients that send seeded random payloads and
//! check every byte of the echo (see [`exchange`]). The faults and what each must lead
//! to are in [`cases`]: `EINTR` is retried and never seen; `EAGAIN` parks until the
//! next event (the clients make one when they stall, as the kernel would after a real
//! `EAGAIN`); `ECONNABORTED`, `ENOBUFS`, `ENOMEM` surface by their kind's name
//! (`connection_aborted`, `out_of_memory`) exactly once per injection, counted in
//! strace's log, and fail at most the connection they hit — none at all for `accept4`.
//! Every run must also finish within a minute (no hang), use less than half a core
//! over the run and while idle after it (no spin, from `/proc/<pid>/stat`), and no
//! echoed byte may differ.
//!
//! `FIRST` and `STEP` are drawn for each round from the seed (printed first, taken
//! from `SOCK_FAULTS_SEED` when set): a failing case is replayed with the seed,
//! `--only` its name and `--round` its round. Round 0 runs every case; further rounds
//! (new positions) run while `--budget` (150 s) lasts, `--rounds` (20) at most.
//! Linux only: elsewhere it says so and exits.

#[cfg(target_os = "linux")]
mod campaign;
#[cfg(target_os = "linux")]
mod cases;
#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
mod exchange;
#[cfg(target_os = "linux")]
mod loop_mode;
#[cfg(target_os = "linux")]
mod shared_mode;
#[cfg(target_os = "linux")]
mod supervise;
#[cfg(target_os = "linux")]
mod verdict;

use std::process::ExitCode;

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("child") => child::main(&args[1..]),
        _ => campaign::main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("faults: {why}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("faults: strace fault injection runs on Linux only");
    ExitCode::SUCCESS
}

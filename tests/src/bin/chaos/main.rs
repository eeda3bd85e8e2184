//! `chaos`: a randomized API-sequence tester for sock (issue 18).
//!
//! Each scenario is drawn from a seed: a socket kind (TCP over 127.0.0.1 or ::1, UDP,
//! unix streams and datagrams), a threading mode (a `sock::run` loop, or a `SharedLoop`
//! with two workers), and per endpoint a writer and a reader task running random
//! sends and receives of 0 B to 4 MiB with deadlines past, zero, tiny and large,
//! cancelled mid-way or not, among shutdowns, closes (from other tasks and other OS
//! threads), resets, options valid and invalid, suspensions. A stream send or receive
//! moves its bytes through the operation, or `poll_send`/`poll_recv` in `poll_fn`, or
//! `writable()`/`readable()` then `try_send`/`try_recv`, or the futures-io or tokio-io
//! traits (`level.rs`); the reader and writer may own the read and write halves
//! (`into_split`, the write half dropped once it shut writing down); runs of steps go
//! under one scope deadline (`sock::timeout`/`deadline`, `sock::shared::…` in the
//! shared mode). These are drawn after the rest of the plan (`twist.rs`), so older
//! draws of a seed keep their meaning. Beside them callback
//! timers, sleep jobs, coroutine hand-overs and generators doing I/O; after them
//! targeted probes. The invariants — every byte counted as sent arrives in order,
//! `Error::transferred()` is exact, timers are never early nor late to cancel, no hang,
//! no spin, no fd leak, a flat heap — are checked as it goes and at the end.
//!
//! The parent runs each scenario in a child process (this program with `--replay SEED
//! --child`) and watches it; every violation prints the command that replays it, and a
//! replay draws the very same plan. See `chaos --help`, and `child.rs`, `parent.rs`,
//! `flow.rs` for how each part works.
//!
//! Linux only: it reads `/proc` for CPU time and open fds.

#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod endpoint;
#[cfg(target_os = "linux")]
mod extras;
#[cfg(target_os = "linux")]
mod flow;
#[cfg(target_os = "linux")]
mod heap;
#[cfg(target_os = "linux")]
mod level;
#[cfg(target_os = "linux")]
mod loop_ep;
#[cfg(target_os = "linux")]
mod options;
#[cfg(target_os = "linux")]
mod parent;
#[cfg(target_os = "linux")]
mod paths;
#[cfg(target_os = "linux")]
mod pattern;
#[cfg(target_os = "linux")]
mod plan;
#[cfg(target_os = "linux")]
mod probes;
#[cfg(target_os = "linux")]
mod reader;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod rng;
#[cfg(target_os = "linux")]
mod scenario_loop;
#[cfg(target_os = "linux")]
mod scenario_shared;
#[cfg(target_os = "linux")]
mod shared_ep;
#[cfg(target_os = "linux")]
mod twist;
#[cfg(target_os = "linux")]
mod watchdog;
#[cfg(target_os = "linux")]
mod writer;

/// Counts live heap bytes for `--heap`.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(cli::main());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("chaos: Linux only (it reads /proc for CPU time and open fds)");
}

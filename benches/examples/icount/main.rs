//! `icount`: the hot paths as deterministic workloads, for counting instructions under
//! callgrind (`cargo xtask icount`).
//!
//! `icount <runtime>:<bench> <iters>` (`sock:echo`, `tokio:echo`, ...) does its setup,
//! then `iters` iterations of the workload, then its teardown; `icount list` prints
//! one line per bench: its name, the iterations the harness runs, the runtimes it has.
//! The harness runs every workload with N and 2N iterations and takes
//! (I(2N) − I(N)) / N as the instructions per operation, so setup and teardown cancel.
//!
//! Every workload runs in one OS thread (one `sock::run`, one tokio `current_thread`
//! runtime): client and server are tasks of the same loop, over loopback, where the
//! kernel delivers a segment or datagram within the sending syscall. Nothing depends on
//! the wall clock: every deadline is an hour away and never fires. So each run executes
//! the same instructions, and a count that moves means the code moved.

mod sock_side;
mod tokio_side;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// One workload: its name, how many iterations the harness runs (N; it also runs 2N),
/// the sock side and the tokio counterpart where tokio has one.
struct Bench {
    /// The name in `<runtime>:<name>` and in the harness's table.
    name: &'static str,
    /// N: enough that the per-N residue of periodic work (fairness budgets, the
    /// reactor check every so many ticks) stays well under 1 %.
    iters: u64,
    /// The workload on sock.
    sock: fn(u64),
    /// The same workload on tokio, if tokio has the operation.
    tokio: Option<fn(u64)>,
}

/// Every bench, in the harness's table order.
const BENCHES: [Bench; 12] = [
    bench("echo", 2_000, sock_side::echo, Some(tokio_side::echo)),
    bench(
        "echo_timeout",
        2_000,
        sock_side::echo_timeout,
        Some(tokio_side::echo_timeout),
    ),
    bench(
        "accept_connect",
        500,
        sock_side::accept_connect,
        Some(tokio_side::accept_connect),
    ),
    bench("udp", 2_000, sock_side::udp, Some(tokio_side::udp)),
    bench(
        "udp_timeout_ready",
        2_000,
        sock_side::udp_timeout_ready,
        Some(tokio_side::udp_timeout_ready),
    ),
    bench("udp_batch32", 256, sock_side::udp_batch, None),
    bench(
        "spawn_join",
        10_000,
        sock_side::spawn_join,
        Some(tokio_side::spawn_join),
    ),
    bench(
        "resume",
        10_000,
        sock_side::resume,
        Some(tokio_side::round_trip),
    ),
    bench(
        "transfer",
        10_000,
        sock_side::transfer,
        Some(tokio_side::round_trip),
    ),
    bench(
        "run_after_cancel",
        10_000,
        sock_side::run_after_cancel,
        None,
    ),
    bench(
        "sleep_poll_drop",
        10_000,
        sock_side::sleep_poll_drop,
        Some(tokio_side::sleep_poll_drop),
    ),
    bench(
        "lookup_numeric",
        2_000,
        sock_side::lookup_numeric,
        Some(tokio_side::lookup_numeric),
    ),
];

/// The bytes every stream and datagram workload moves per message.
const MSG: [u8; 64] = [0x5a; 64];

/// A deadline that never fires while a workload runs.
const FAR: Duration = Duration::from_secs(3600);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [list] if list == "list" => print_list(),
        [which, iters] => run(which, iters),
        _ => usage(),
    }
}

/// A [`Bench`] (a `const fn` so the table stays one line per bench).
const fn bench(name: &'static str, iters: u64, sock: fn(u64), tokio: Option<fn(u64)>) -> Bench {
    Bench {
        name,
        iters,
        sock,
        tokio,
    }
}

/// Prints `name iters sock [tokio]` per bench.
fn print_list() {
    for b in &BENCHES {
        let tokio = if b.tokio.is_some() { " tokio" } else { "" };
        println!("{} {} sock{tokio}", b.name, b.iters);
    }
}

/// Runs `<runtime>:<name>` for `iters` iterations.
fn run(which: &str, iters: &str) {
    let Ok(iters) = iters.parse::<u64>() else {
        usage()
    };
    let Some((runtime, name)) = which.split_once(':') else {
        usage()
    };
    let Some(b) = BENCHES.iter().find(|b| b.name == name) else {
        usage()
    };
    let workload = match runtime {
        "sock" => Some(b.sock),
        "tokio" => b.tokio,
        _ => None,
    };
    match workload {
        Some(workload) => workload(iters),
        None => usage(),
    }
}

/// Says how to call this and exits with status 2.
fn usage() -> ! {
    let names: Vec<&str> = BENCHES.iter().map(|b| b.name).collect();
    eprintln!("usage: icount list | icount <sock|tokio>:<bench> <iters>");
    eprintln!("benches: {}", names.join(" "));
    std::process::exit(2)
}

/// Polls `f` once with a no-op waker and drops it.
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

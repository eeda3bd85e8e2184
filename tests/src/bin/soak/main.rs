//! `soak`: the `echo_server` example under continuous connection churn through
//! `faultproxy`, for minutes (`cargo xtask soak` runs it twice: plain, then with
//! `--faults`).
//!
//! ```text
//! soak --server PATH --proxy PATH [--faults] [--duration SECS] [--warmup SECS] [--clients N]
//! SOCK_SOAK_SEED=S soak ...     replays the proxy's faults and the clients' payloads
//! ```
//!
//! The echo server and the proxy are child processes; the clients are threads here
//! (see [`client`]) that open a connection, exchange 1–11 checksummed frames
//! (`sock_tests::harness::frame`), close, and start over, for `--duration` (120 s).
//! The run passes when (see [`verdict`]) no frame came back changed, every failed
//! connection has a name and a fault of the proxy that explains it (none may fail
//! without `--faults`), and the server's resident memory and open fds, read from
//! `/proc/<pid>` after `--warmup` (20 s) and at the end of the load, stayed flat —
//! and its fds are back to their number before the load once the clients stopped.
//! Linux only (the readings come from `/proc`): elsewhere it says so and exits.

mod client;
mod run;
mod verdict;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    if !cfg!(target_os = "linux") {
        eprintln!("soak: reads the server's memory and fds from /proc: Linux only");
        return ExitCode::SUCCESS;
    }
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("soak: {why}");
            return ExitCode::from(2);
        }
    };
    match run::soak(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("soak: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
#[derive(Debug)]
struct Options {
    /// The echo server to run (the `echo_server` example).
    server: PathBuf,
    /// The `faultproxy` program.
    proxy: PathBuf,
    /// Whether the proxy injects faults.
    faults: bool,
    /// How long the clients churn.
    duration: Duration,
    /// When the first sample of the server is taken.
    warmup: Duration,
    /// Client threads.
    clients: u32,
}

/// Parses the flags.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        server: PathBuf::new(),
        proxy: PathBuf::new(),
        faults: false,
        duration: Duration::from_secs(120),
        warmup: Duration::from_secs(20),
        clients: 8,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let secs = |v: String| v.parse().map(Duration::from_secs);
        match flag.as_str() {
            "--server" => options.server = value()?.into(),
            "--proxy" => options.proxy = value()?.into(),
            "--faults" => options.faults = true,
            "--duration" => options.duration = secs(value()?).map_err(|e| e.to_string())?,
            "--warmup" => options.warmup = secs(value()?).map_err(|e| e.to_string())?,
            "--clients" => options.clients = value()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if options.server.as_os_str().is_empty() || options.proxy.as_os_str().is_empty() {
        return Err("--server PATH and --proxy PATH are needed".into());
    }
    Ok(options)
}

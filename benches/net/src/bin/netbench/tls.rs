//! The TLS bulk comparison: `tls_bulk --runtime sock` against `--runtime tokio`, in turn
//! in every repetition, `--tls-bytes` each, the server thread pinned to the servers' CPU
//! and the client thread to loadgen's.
//!
//! `tls_bulk` runs both ends in one process (see its docs) and reports the transfer's
//! wall time and each thread's CPU time over it; the *other* share is the two CPUs'
//! busy time over the process's whole life (start, key generation and handshake
//! included, a few ms) less the process's own CPU time, from `getrusage(RUSAGE_CHILDREN)`
//! across its `wait`.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::options::Options;
use crate::procfs;
use crate::report;
use crate::results::{self, CpuUse, TlsResult, TlsRun};

/// The runtimes compared, in table order.
pub(crate) const RUNTIMES: [&str; 2] = ["sock", "tokio"];
/// The one every TLS ratio is taken to.
pub(crate) const BASELINE: &str = "tokio";

/// How long one run may take: this plus a second per 10 MB.
const LIMIT: Duration = Duration::from_secs(60);

/// Every repetition of both runtimes (if `tls` runs).
pub(crate) fn phase(options: &Options) -> Vec<TlsResult> {
    let binary = options.bin_dir.join("tls_bulk");
    let missing = match binary.is_file() {
        true => None,
        false => Some(format!("missing: {} not built", binary.display())),
    };
    let mut results: Vec<TlsResult> = RUNTIMES
        .iter()
        .map(|&r| TlsResult::new(r, missing.clone()))
        .collect();
    if !options.runs("tls") || missing.is_some() {
        return results;
    }
    for rep in 1..=options.reps {
        eprintln!("tls, repetition {rep}/{}", options.reps);
        for r in &mut results {
            match tls_once(options, &binary, r.runtime) {
                Ok(run) => {
                    let rate = report::number(run.mb_per_sec);
                    let cpu = results::cpu_note(run.cpu);
                    eprintln!("  {:>11}: {rate} MB/s{cpu}", r.runtime);
                    r.runs.push(run);
                }
                Err(err) => r.fail(err),
            }
        }
    }
    results
}

/// One `tls_bulk` run on `runtime`, pinned with `taskset` to the two CPUs.
fn tls_once(options: &Options, binary: &Path, runtime: &str) -> Result<TlsRun, String> {
    let (server_cpu, client_cpu) = (options.server_cpu, options.client_cpu);
    let cpus = [server_cpu, client_cpu];
    let cpus = &cpus[..if server_cpu == client_cpu { 1 } else { 2 }];
    let mask: Vec<String> = cpus.iter().map(usize::to_string).collect();
    let mut command = Command::new("taskset");
    command.args(["-c", &mask.join(",")]).arg(binary);
    command.args([
        "--runtime",
        runtime,
        "--bytes",
        &options.tls_bytes.to_string(),
    ]);
    command.args(["--server-cpu", &server_cpu.to_string()]);
    command.args(["--client-cpu", &client_cpu.to_string()]);
    let before = machine_sample(cpus);
    let start = Instant::now();
    let limit = LIMIT + Duration::from_secs(options.tls_bytes / 10_000_000);
    let line = run_with_limit(&mut command, limit)?;
    let after = machine_sample(cpus);
    let field = |key| results::field(&line, key);
    let secs = field("seconds")?;
    let (server, client) = (field("server_cpu_s")?, field("client_cpu_s")?);
    let whole = start.elapsed().as_secs_f64();
    let cpu = before
        .zip(after)
        .map(|((busy0, own0), (busy1, own1))| CpuUse {
            server: server / secs,
            client: client / secs,
            other: ((busy1 - busy0) - (own1 - own0)).max(0.0) / whole,
        });
    let text = |key| {
        sock_netbench::json_field(&line, key)
            .unwrap_or("?")
            .to_owned()
    };
    Ok(TlsRun {
        mb_per_sec: field("mb_per_sec")?,
        cpu,
        cipher: format!("{}, {}", text("version"), text("suite")),
    })
}

/// The CPUs' busy seconds and this process's waited-for children's CPU seconds.
fn machine_sample(cpus: &[usize]) -> Option<(f64, f64)> {
    let busy = procfs::cpus_busy_seconds(cpus).ok()?;
    Some((busy, sock_netbench::children_cpu_seconds().ok()?))
}

/// Runs `command` to its end within `limit` (killed past it); returns its last stdout
/// line, or its stderr as the error when it fails.
fn run_with_limit(command: &mut Command, limit: Duration) -> Result<String, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("starting tls_bulk: {err}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < limit => thread::sleep(Duration::from_millis(10)),
            _ => return Err(kill(child, limit)),
        }
    };
    let stdout = read_all(child.stdout.take());
    match status.success() {
        true => stdout
            .lines()
            .last()
            .map(str::to_owned)
            .ok_or_else(|| "no output".to_owned()),
        false => Err(format!(
            "{status}: {}",
            read_all(child.stderr.take()).trim()
        )),
    }
}

/// Kills a run that outlived `limit`; says so.
fn kill(mut child: Child, limit: Duration) -> String {
    let _ = child.kill();
    let _ = child.wait();
    format!("tls_bulk did not finish within {limit:?}")
}

/// What a finished child wrote to a pipe (small: one line, or an error message).
fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}

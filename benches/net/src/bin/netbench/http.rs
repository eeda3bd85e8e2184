//! The hyper comparison: `hyper_sock` against `hyper_tokio`, each pinned to the servers'
//! CPU, under `wrk` (one thread, `--http-conns` keep-alive connections, `--latency`)
//! pinned to loadgen's CPU; requests/s, p50/p99 latency and CPU use per run.
//!
//! wrk is the load generator here (loadgen speaks no HTTP): the usual tool for this
//! comparison, C over epoll, parsing answers with a state machine. It does not check
//! bodies; the readiness probe checks one, and wrk's socket errors or non-2xx answers
//! fail the run. Its `-d` takes whole seconds, so the window is `--duration` rounded up.
//! wrk's CPU is read from `getrusage(RUSAGE_CHILDREN)` across its `wait` (it is gone
//! from `/proc` by then); the server's from `/proc/PID/stat`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use sock_netbench::Transport;

use crate::options::Options;
use crate::procfs;
use crate::report;
use crate::results::{self, CpuUse, HttpRun, ServerResult};
use crate::servers::{Running, ServerSpec};

/// The servers compared, in table order.
pub(crate) const SERVERS: [&str; 2] = ["hyper_sock", "hyper_tokio"];
/// The one every hyper ratio is taken to.
pub(crate) const BASELINE: &str = "hyper_tokio";

/// An empty result per hyper server, noting missing binaries.
pub(crate) fn results(options: &Options) -> Vec<ServerResult> {
    SERVERS
        .iter()
        .map(|name| ServerResult::new(ServerSpec::new(name, &options.bin_dir)))
        .collect()
}

/// Every repetition of wrk against each hyper server in turn (if `http` runs).
pub(crate) fn phase(options: &Options, log_dir: &Path, results: &mut [ServerResult]) {
    let mut available = results
        .iter_mut()
        .filter(|r| r.missing.is_none())
        .peekable();
    if !options.runs("http") || available.peek().is_none() {
        return;
    }
    if let Err(why) = check_wrk() {
        available.for_each(|r| r.fail(why.clone()));
        return;
    }
    let mut running = start_all(options, log_dir, results);
    for rep in 1..=options.reps {
        eprintln!("hyper, repetition {rep}/{}", options.reps);
        for (i, server) in &mut running {
            record(&mut results[*i], wrk_once(options, server));
        }
    }
}

/// Starts every hyper server that was built; ones that fail to start are noted.
fn start_all(
    options: &Options,
    log_dir: &Path,
    results: &mut [ServerResult],
) -> Vec<(usize, Running)> {
    let mut running = Vec::new();
    for (i, r) in results.iter_mut().enumerate() {
        if r.missing.is_some() {
            continue;
        }
        match Running::start(&r.spec, Transport::Tcp, options.server_cpu, log_dir) {
            Ok(server) => running.push((i, server)),
            Err(err) => r.fail(format!("http server: {err}")),
        }
    }
    running
}

/// Keeps a run's numbers (and shows them), or its failure.
fn record(r: &mut ServerResult, outcome: Result<HttpRun, String>) {
    match outcome {
        Ok(run) => {
            let rate = report::number(run.requests_per_sec);
            let p99 = report::number(run.p99_us);
            let cpu = results::cpu_note(run.cpu);
            eprintln!(
                "  {:>11}: {rate} requests/s, p99 {p99} µs{cpu}",
                r.spec.name
            );
            r.http.push(run);
        }
        Err(err) => r.fail(format!("wrk: {err}")),
    }
}

/// Fails unless `wrk` runs.
fn check_wrk() -> Result<(), String> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => Err("wrk not found (cargo xtask setup-tools installs it)".to_owned()),
    }
}

/// The seconds wrk runs for: `--duration` rounded up to whole seconds (wrk's unit).
pub(crate) fn wrk_seconds(options: &Options) -> u64 {
    options.duration.as_secs_f64().ceil().max(1.0) as u64
}

/// One wrk run against `server`, with the CPU use around it.
fn wrk_once(options: &Options, server: &mut Running) -> Result<HttpRun, String> {
    if !server.alive() {
        return Err("the server process has exited".to_owned());
    }
    let cpus = [options.server_cpu, options.client_cpu];
    let cpus = &cpus[..if cpus[0] == cpus[1] { 1 } else { 2 }];
    let before = Sample::now(server.pid(), cpus);
    let start = Instant::now();
    let output = Command::new("taskset")
        .args(["-c", &options.client_cpu.to_string(), "wrk", "-t1"])
        .arg(format!("-c{}", options.http_conns))
        .arg(format!("-d{}s", wrk_seconds(options)))
        .arg("--latency")
        .arg(format!("http://{}/", server.addr))
        .output()
        .map_err(|err| format!("starting wrk: {err}"))?;
    let after = Sample::now(server.pid(), cpus);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "exited with {}: {}{}",
            output.status,
            said.trim(),
            text.trim()
        ));
    }
    let parsed = parse_wrk(&text)?;
    let cpu = before
        .zip(after)
        .map(|(b, a)| a.since(b, start.elapsed().as_secs_f64()));
    Ok(HttpRun { cpu, ..parsed })
}

/// CPU seconds used so far by the server, by this process's waited-for children, and on
/// the CPUs in all.
#[derive(Clone, Copy)]
struct Sample {
    /// The server process.
    server: f64,
    /// Children that have exited and been waited for (wrk, once it has).
    children: f64,
    /// Everything on the server's and wrk's CPUs.
    cpus: f64,
}

impl Sample {
    /// Reads the three counters now; `None` if any is unreadable.
    fn now(server: u32, cpus: &[usize]) -> Option<Self> {
        Some(Self {
            server: procfs::cpu_seconds(server).ok()?,
            children: sock_netbench::children_cpu_seconds().ok()?,
            cpus: procfs::cpus_busy_seconds(cpus).ok()?,
        })
    }

    /// CPU use over `secs` since `before`.
    fn since(self, before: Self, secs: f64) -> CpuUse {
        CpuUse::over(
            self.server - before.server,
            self.children - before.children,
            self.cpus - before.cpus,
            secs,
        )
    }
}

/// Reads wrk's report: `Requests/sec:`, the 50 % and 99 % rows of its latency
/// distribution; its socket errors or non-2xx answers are an error.
fn parse_wrk(text: &str) -> Result<HttpRun, String> {
    let bad = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Socket errors:") || l.starts_with("Non-2xx"));
    if let Some(line) = bad {
        return Err(line.to_owned());
    }
    let requests_per_sec = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output: {}", text.trim()))?;
    Ok(HttpRun {
        requests_per_sec,
        p50_us: percentile(text, "50%")?,
        p99_us: percentile(text, "99%")?,
        cpu: None,
    })
}

/// A row of wrk's latency distribution (`99%  1.23ms`), in microseconds.
fn percentile(text: &str, row: &str) -> Result<f64, String> {
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(row))
        .map(str::trim)
        .ok_or_else(|| format!("no {row} latency in wrk's output (--latency)"))?;
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        _ => return Err(format!("unknown latency unit in {value:?}")),
    };
    number
        .parse::<f64>()
        .map(|n| n * scale)
        .map_err(|_| format!("bad latency {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wrk 4.1's report, trimmed of nothing.
    const REPORT: &str = "Running 5s test @ http://127.0.0.1:7081/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms    3.12ms  43.39ms   98.61%
    Req/Sec    62.35k     3.02k   66.71k    80.00%
  Latency Distribution
     50%  355.00us
     75%  410.00us
     90%  480.00us
     99%    1.50ms
  310226 requests in 5.00s, 38.76MB read
Requests/sec:  62000.95
Transfer/sec:      7.75MB
";

    #[test]
    fn reads_rate_and_percentiles() {
        let run = parse_wrk(REPORT).unwrap();
        assert_eq!(run.requests_per_sec, 62000.95);
        assert_eq!(run.p50_us, 355.0);
        assert_eq!(run.p99_us, 1500.0);
    }

    #[test]
    fn socket_errors_and_bad_answers_fail_the_run() {
        let errors = REPORT.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec",
        );
        assert!(parse_wrk(&errors).unwrap_err().contains("read 3"));
        let non_2xx = REPORT.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 9\nRequests/sec",
        );
        assert!(parse_wrk(&non_2xx).is_err());
        assert!(parse_wrk("Running 5s test").is_err());
    }
}

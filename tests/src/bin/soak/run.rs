//! The soak's course: start the server and the proxy, sample the server, churn,
//! sample again, stop, let the server settle, collect the proxy's fault lines, judge.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sock_tests::harness::child::{Child, Line};
use sock_tests::harness::procfs;
use sock_tests::harness::rng::seed_from_env;

use crate::Options;
use crate::client::{self, FRAMES, Totals};
use crate::verdict::{self, Outcome, Sample};

/// The environment variable that replays a soak.
const SEED_VAR: &str = "SOCK_SOAK_SEED";

/// How long the children get to start, and to say their last words.
const START_LIMIT: Duration = Duration::from_secs(20);

/// How long the server gets, after the load, to close every connection.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// A progress line this often.
const PROGRESS: Duration = Duration::from_secs(20);

/// Runs one soak as `options` says; `Err` when it found a problem.
pub(crate) fn soak(options: &Options) -> Result<(), String> {
    let seed = seed_from_env(SEED_VAR);
    let kind = if options.faults { "faults" } else { "churn" };
    println!("soak {kind}: seed={seed} (replay: {SEED_VAR}={seed})");
    let mut server = start(Command::new(&options.server).args(["--addr", "127.0.0.1:0"]))?;
    let server_port = listening_port(&mut server)?;
    let pid = server.id();
    let before = sample(pid)?;
    let mut proxy = start(&mut proxy_command(options, server_port, seed))?;
    let proxy_port: u16 = proxy
        .value("port", Instant::now() + START_LIMIT)?
        .parse()
        .map_err(|e| format!("faultproxy's port: {e}"))?;
    let proxy_addr = SocketAddr::from(([127, 0, 0, 1], proxy_port));
    let (totals, warm, end) = load(options, proxy_addr, seed, pid)?;
    let settled = settle(pid, before.fds);
    let proxy_lines = last_words(proxy);
    server.end(Duration::ZERO, None);
    let outcome = Outcome {
        kind,
        seed,
        clients: options.clients,
        duration: options.duration,
        totals,
        samples: [before, warm, end, settled?],
        proxy_lines,
    };
    verdict::judge(&outcome)
}

/// Starts a child.
fn start(command: &mut Command) -> Result<Child, String> {
    Child::spawn(command).map_err(|e| format!("cannot start {command:?}: {e}"))
}

/// The port of `echo_server listening on 127.0.0.1:PORT`.
fn listening_port(server: &mut Child) -> Result<u16, String> {
    let deadline = Instant::now() + START_LIMIT;
    loop {
        let Line::Text(text) = server.line(deadline) else {
            return Err("the echo server did not say where it listens".into());
        };
        if let Some(addr) = text.strip_prefix("echo_server listening on ") {
            let port = addr.rsplit(':').next().unwrap_or_default();
            return port.parse().map_err(|e| format!("{text:?}: {e}"));
        }
    }
}

/// `faultproxy` forwarding to the server's port.
fn proxy_command(options: &Options, server_port: u16, seed: u64) -> Command {
    let mut command = Command::new(&options.proxy);
    command
        .args(["--upstream", &format!("127.0.0.1:{server_port}")])
        .args(["--seed", &seed.to_string()]);
    if options.faults {
        command.arg("--faults");
    }
    command
}

/// The server's memory and fds now.
fn sample(pid: u32) -> Result<Sample, String> {
    let rss_kib = procfs::rss_kib(pid).map_err(|e| format!("server memory: {e}"))?;
    let fds = procfs::fd_count(pid).map_err(|e| format!("server fds: {e}"))?;
    Ok(Sample { rss_kib, fds })
}

/// Runs the clients for `options.duration`, sampling the server after the warm-up
/// and at the end; everything the clients saw.
fn load(
    options: &Options,
    proxy: SocketAddr,
    seed: u64,
    pid: u32,
) -> Result<(Totals, Sample, Sample), String> {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let until = start + options.duration;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..options.clients)
            .map(|i| {
                let stop = &stop;
                s.spawn(move || client::run(i, proxy, seed, stop, until))
            })
            .collect();
        let samples = watch(start, options, pid);
        stop.store(true, Ordering::Relaxed);
        let mut totals = Totals::default();
        for worker in workers {
            totals.add(worker.join().map_err(|_| "a client thread panicked")?);
        }
        let (warm, end) = samples?;
        Ok((totals, warm, end))
    })
}

/// While the clients run: progress lines, the warm-up sample, the end sample.
fn watch(start: Instant, options: &Options, pid: u32) -> Result<(Sample, Sample), String> {
    let mut warm = None;
    let mut next = start + PROGRESS.min(options.warmup);
    let until = start + options.duration;
    while next < until {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let now = sample(pid)?;
        let secs = start.elapsed().as_secs();
        let frames = FRAMES.load(Ordering::Relaxed);
        println!(
            "  t={secs}s frames={frames} server rss={}KiB fds={}",
            now.rss_kib, now.fds
        );
        if warm.is_none() && start.elapsed() >= options.warmup {
            warm = Some(now);
        }
        next += PROGRESS;
    }
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    let end = sample(pid)?;
    Ok((warm.unwrap_or(end), end))
}

/// The server's sample once its fds are back to `fds` (or [`SETTLE_LIMIT`] passed).
fn settle(pid: u32, fds: usize) -> Result<Sample, String> {
    let until = Instant::now() + SETTLE_LIMIT;
    loop {
        let now = sample(pid)?;
        if now.fds <= fds || Instant::now() >= until {
            return Ok(now);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ends the proxy and returns all it printed (fault lines, its stats).
fn last_words(mut proxy: Child) -> Vec<String> {
    proxy.close_stdin();
    let deadline = Instant::now() + START_LIMIT;
    let mut lines = Vec::new();
    while let Line::Text(text) = proxy.line(deadline) {
        lines.push(text);
    }
    proxy.end(Duration::from_secs(1), None);
    lines
}

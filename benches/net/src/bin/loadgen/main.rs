//! Load generator for the echo servers: round trips/s with p50/p99 latency over N
//! connections with D requests in flight, bulk MB/s, UDP packets/s, or N idle connections.
//!
//! Prints one JSON line per run (parsed by the `netbench` driver). Cheap by design: raw mio
//! (epoll) on one thread, shared buffers, no allocation per message, UDP datagrams moved
//! in batches. See `--help`.

mod control;
mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use control::{Control, print_line, wait_for_eof};
use sock_netbench::{Args, JsonLine};
use tcp::EchoLoad;
use udp::UdpLoad;

/// What `--help` prints.
const USAGE: &str = "usage: loadgen --addr HOST:PORT [MODE] [OPTIONS]
modes:
  (default)     echo: --conns N connections, --depth D messages in flight on each,
                --size BYTES messages (64), for --duration SECS (5); prints round trips/s
                and p50/p99/max latency
  --bulk        one connection, --bytes N (1 GiB) written in --chunk BYTES (65536) writes
                while the echo is read back and checked; prints MB/s (10^6 bytes)
  --udp         --conns N connected UDP sockets, --depth D datagrams of --size BYTES (64)
                in flight on each, for --duration SECS, received up to 64 per recvmmsg
                and sent up to 64 per call, as one buffer the kernel cuts into datagrams
                (UDP_SEGMENT; --no-gso: by sendmmsg); prints packets/s, lost, late and
                its own calls per datagram
  --idle N      opens N connections (one round trip each), prints a ready line and holds
                them until stdin closes or --hold SECS (60) pass
options:
  --control     print {\"event\":\"ready\"} after connecting, wait for a line on stdin to
                start, and for stdin to close before exiting (used by netbench)
every echoed byte is checked; a wrong byte, a closed connection or a server that stops
answering ends the run with an error (exit status 1)";

/// What to run.
enum Mode {
    /// Round trips over `conns` connections.
    Echo,
    /// One connection, `bytes` streamed through.
    Bulk,
    /// Datagrams over `conns` sockets.
    Udp,
    /// `conns` idle connections.
    Idle,
}

/// The parsed command line.
struct Config {
    /// The server.
    addr: SocketAddr,
    /// What to run.
    mode: Mode,
    /// Connections (or UDP sockets).
    conns: usize,
    /// Messages in flight per connection.
    depth: usize,
    /// Bytes per message.
    size: usize,
    /// Length of the timed window.
    duration: Duration,
    /// Bytes to stream in bulk mode.
    bytes: u64,
    /// Bytes per write in bulk mode.
    chunk: usize,
    /// Longest time idle connections are held.
    hold: Duration,
    /// Whether to hand-shake with a driver on stdin.
    control: bool,
    /// Whether UDP sends may use segmentation offload.
    gso: bool,
}

fn main() {
    let result = sock_netbench::require_linux("loadgen").and_then(|()| {
        let config = parse(Args::from_env())?;
        sock_netbench::raise_nofile_limit().map_err(|err| format!("RLIMIT_NOFILE: {err}"))?;
        run(&config).map_err(|err| err.to_string())
    });
    if let Err(err) = result {
        eprintln!("loadgen: {err}");
        std::process::exit(1);
    }
}

/// Parses and checks the flags.
fn parse(mut args: Args) -> Result<Config, String> {
    if args.flag("--help") || args.flag("-h") {
        return Err(USAGE.to_owned());
    }
    let idle: Option<usize> = args.value("--idle")?;
    let mode = match (args.flag("--bulk"), args.flag("--udp"), idle.is_some()) {
        (false, false, false) => Mode::Echo,
        (true, false, false) => Mode::Bulk,
        (false, true, false) => Mode::Udp,
        (false, false, true) => Mode::Idle,
        _ => return Err("choose at most one of --bulk, --udp and --idle".to_owned()),
    };
    let config = Config {
        mode,
        conns: idle.or(args.value("--conns")?).unwrap_or(1),
        depth: args.value("--depth")?.unwrap_or(1),
        size: args.value("--size")?.unwrap_or(64),
        duration: seconds(args.value("--duration")?.unwrap_or(5.0))?,
        bytes: args.value("--bytes")?.unwrap_or(1 << 30),
        chunk: args.value("--chunk")?.unwrap_or(65536),
        hold: seconds(args.value("--hold")?.unwrap_or(60.0))?,
        control: args.flag("--control"),
        gso: !args.flag("--no-gso"),
        addr: args
            .value("--addr")?
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
    };
    args.finish()?;
    if config.addr.port() == 0 {
        return Err(format!("--addr HOST:PORT is required\n{USAGE}"));
    }
    check(&config)?;
    Ok(config)
}

/// A duration from a number of seconds, bounded to an hour.
fn seconds(secs: f64) -> Result<Duration, String> {
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(format!(
            "durations must be within (0, 3600] seconds, not {secs}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Rejects loads outside sane bounds.
fn check(config: &Config) -> Result<(), String> {
    let min_size = match config.mode {
        Mode::Udp => 12,
        _ => 1,
    };
    let checks = [
        (
            config.conns >= 1 && config.conns <= 100_000,
            "--conns must be 1..=100000",
        ),
        (
            config.depth >= 1 && config.depth <= 4096,
            "--depth must be 1..=4096",
        ),
        (
            config.size >= min_size && config.size <= 65_000,
            "--size must be 1..=65000 (12.. for --udp)",
        ),
        (
            config.bytes >= 1 && config.bytes <= 1 << 36,
            "--bytes must be 1..=64 GiB",
        ),
        (
            config.chunk >= 1 && config.chunk <= 1 << 24,
            "--chunk must be 1..=16 MiB",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, msg)) => Err((*msg).to_owned()),
        None => Ok(()),
    }
}

/// Runs the chosen mode and prints its line.
fn run(config: &Config) -> io::Result<()> {
    let control = Control::new(config.control);
    match config.mode {
        Mode::Echo => run_echo(config, &control),
        Mode::Bulk => run_bulk(config, &control),
        Mode::Udp => run_udp(config, &control),
        Mode::Idle => run_idle(config),
    }
}

/// Echo mode.
fn run_echo(config: &Config, control: &Control) -> io::Result<()> {
    let mut load = EchoLoad::new(config.size as u64, 65536)?;
    load.connect(config.addr, config.conns, true)?;
    control.ready()?;
    let report = load.run_timed(config.depth, config.duration)?;
    let secs = report.elapsed.as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "echo")
        .num("conns", config.conns as f64)
        .num("depth", config.depth as f64)
        .num("size", config.size as f64)
        .num("seconds", secs)
        .num("round_trips", report.round_trips as f64)
        .num("rt_per_sec", report.round_trips as f64 / secs)
        .num("p50_us", micros(report.p50_ns))
        .num("p99_us", micros(report.p99_ns))
        .num("max_us", micros(report.max_ns))
        .num("served", report.served as f64);
    print_line(&line.finish())?;
    control.finish()
}

/// Bulk mode.
fn run_bulk(config: &Config, control: &Control) -> io::Result<()> {
    let mut load = EchoLoad::new(config.bytes, config.chunk)?;
    load.connect(config.addr, 1, false)?;
    control.ready()?;
    let elapsed = load.run_once(Duration::from_secs(600))?;
    let secs = elapsed.as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "bulk")
        .num("bytes", config.bytes as f64)
        .num("chunk", config.chunk as f64)
        .num("seconds", secs)
        .num("mb_per_sec", config.bytes as f64 / 1e6 / secs);
    print_line(&line.finish())?;
    control.finish()
}

/// UDP mode.
fn run_udp(config: &Config, control: &Control) -> io::Result<()> {
    let mut load = UdpLoad::connect(config.addr, config.conns, config.size, config.gso)?;
    control.ready()?;
    let report = load.run_timed(config.depth, config.duration)?;
    let secs = report.elapsed.as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "udp")
        .num("sockets", config.conns as f64)
        .num("depth", config.depth as f64)
        .num("size", config.size as f64)
        .str("send", if report.segmented { "gso" } else { "sendmmsg" })
        .num("seconds", secs)
        .num("packets", report.packets as f64)
        .num("packets_per_sec", report.packets as f64 / secs)
        .num("p50_us", micros(report.p50_ns))
        .num("p99_us", micros(report.p99_ns))
        .num("lost", report.lost as f64)
        .num("late", report.late as f64)
        .num("served", report.served as f64)
        .num("calls", report.calls as f64)
        .num(
            "calls_per_datagram",
            report.calls as f64 / report.served.max(1) as f64,
        );
    print_line(&line.finish())?;
    control.finish()
}

/// Idle mode: open, report ready, hold.
fn run_idle(config: &Config) -> io::Result<()> {
    let mut load = EchoLoad::new(config.size as u64, 65536)?;
    load.connect(config.addr, config.conns, true)?;
    let line = JsonLine::new()
        .str("event", "ready")
        .str("mode", "idle")
        .num("conns", config.conns as f64);
    print_line(&line.finish())?;
    wait_for_eof(config.hold);
    Ok(())
}

/// Nanoseconds as microseconds with two decimals.
fn micros(ns: u64) -> f64 {
    (ns as f64 / 10.0).round() / 100.0
}

//! The driver's command line.

use std::path::PathBuf;
use std::time::Duration;

use sock_netbench::Args;

/// What `--help` prints.
pub(crate) const USAGE: &str = "usage: netbench [--quick] [OPTIONS]
Runs every echo server (sock's example, sock through futures-io, tokio current_thread and
multi_thread, smol, mio, C epoll) pinned to one CPU against loadgen pinned to another,
over loopback; then hyper on sock against hyper on tokio under wrk, and TLS bulk through
tokio-rustls on sock and on tokio; writes RESULTS.md and ratios.svg. Build first (from the
workspace root):
  cargo build --release -p sock-netbench -p sock-examples --bins --examples
or pass --build to have netbench run cargo itself. A server whose binary is missing is
reported as missing and the comparison runs without it.
options:
  --quick             1 s windows, 1 repetition (default: 5 s, 3 repetitions)
  --duration SECS     length of each timed window
  --reps N            repetitions of each throughput measurement
  --conns LIST        echo connection counts, comma-separated (1,64,1024)
  --servers LIST      subset of sock,sock_batch,sock_fio,tokio_ct,tokio_mt,smol,mio,
                      c_epoll
  --bulk-bytes N      bytes streamed in the bulk run (1073741824)
  --udp-sockets N     client UDP sockets (1)
  --udp-depth D       datagrams in flight on each client UDP socket (64)
  --idle N            idle connections for the memory measurement (9000)
  --http-conns N      wrk's connections against the hyper servers (64)
  --tls-bytes N       bytes sent through TLS in each TLS run (1073741824)
  --syscalls TOOL     auto, perf, strace or none (auto: perf if it can count
                      raw_syscalls:sys_enter here, else strace, else none)
  --server-cpu N      CPU the servers are pinned to (0)
  --client-cpu N      CPU loadgen is pinned to (1)
  --bin-dir DIR       where the release binaries are (default: netbench's own directory)
  --out DIR           where RESULTS.md and ratios.svg go (default: benches/net)
  --build             run the cargo build above first
  --skip LIST         parts to leave out: echo,bulk,udp,syscalls,idle,http,tls
  --only LIST         the parts to run, the others left out (--only udp,syscalls: the UDP
                      table and its syscall counts); not with --skip
syscalls are counted for the echo and UDP workloads that run; http needs wrk on the PATH
(cargo xtask setup-tools installs it)";

/// Every setting of one driver run.
pub(crate) struct Options {
    /// The arguments as given, for the report.
    pub(crate) command: String,
    /// Whether `--quick` was given.
    pub(crate) quick: bool,
    /// Length of each timed window.
    pub(crate) duration: Duration,
    /// Repetitions of each throughput measurement.
    pub(crate) reps: usize,
    /// Echo connection counts.
    pub(crate) conns: Vec<usize>,
    /// Server names to run, in table order.
    pub(crate) servers: Vec<String>,
    /// Bytes streamed in the bulk run.
    pub(crate) bulk_bytes: u64,
    /// Client UDP sockets.
    pub(crate) udp_sockets: usize,
    /// Datagrams in flight per client UDP socket.
    pub(crate) udp_depth: usize,
    /// Idle connections for the memory measurement.
    pub(crate) idle: usize,
    /// wrk's connections against the hyper servers.
    pub(crate) http_conns: usize,
    /// Bytes sent in each TLS run.
    pub(crate) tls_bytes: u64,
    /// `auto`, `perf`, `strace` or `none`.
    pub(crate) syscalls: String,
    /// CPU for the servers.
    pub(crate) server_cpu: usize,
    /// CPU for loadgen.
    pub(crate) client_cpu: usize,
    /// Where the release binaries are.
    pub(crate) bin_dir: PathBuf,
    /// Where the report goes.
    pub(crate) out_dir: PathBuf,
    /// Whether to run cargo build first.
    pub(crate) build: bool,
    /// Parts to leave out.
    pub(crate) skip: Vec<String>,
}

/// Every server the driver knows, in table order.
pub(crate) const ALL_SERVERS: [&str; 8] = [
    "sock",
    "sock_batch",
    "sock_fio",
    "tokio_ct",
    "tokio_mt",
    "smol",
    "mio",
    "c_epoll",
];
/// A server's fixed position in `ALL_SERVERS` (its colour in the chart).
pub(crate) fn colour_of(name: &str) -> usize {
    ALL_SERVERS.iter().position(|&n| n == name).unwrap_or(0)
}

/// Every part of a run.
const PARTS: [&str; 7] = ["echo", "bulk", "udp", "syscalls", "idle", "http", "tls"];

impl Options {
    /// Parses the driver's flags.
    pub(crate) fn parse(mut args: Args, command: String) -> Result<Self, String> {
        if args.flag("--help") || args.flag("-h") {
            return Err(USAGE.to_owned());
        }
        let quick = args.flag("--quick");
        let secs: f64 = args
            .value("--duration")?
            .unwrap_or(if quick { 1.0 } else { 5.0 });
        if !(secs > 0.0 && secs <= 60.0) {
            return Err("--duration must be within (0, 60] seconds".to_owned());
        }
        let options = Self {
            command,
            quick,
            duration: Duration::from_secs_f64(secs),
            reps: args.value("--reps")?.unwrap_or(if quick { 1 } else { 3 }),
            conns: list(args.value("--conns")?, "1,64,1024")?,
            servers: names(args.value("--servers")?, &ALL_SERVERS, "--servers")?,
            bulk_bytes: args.value("--bulk-bytes")?.unwrap_or(1 << 30),
            udp_sockets: args.value("--udp-sockets")?.unwrap_or(1),
            udp_depth: args.value("--udp-depth")?.unwrap_or(64),
            idle: args.value("--idle")?.unwrap_or(9000),
            http_conns: args.value("--http-conns")?.unwrap_or(64),
            tls_bytes: args.value("--tls-bytes")?.unwrap_or(1 << 30),
            syscalls: args
                .value("--syscalls")?
                .unwrap_or_else(|| "auto".to_owned()),
            server_cpu: args.value("--server-cpu")?.unwrap_or(0),
            client_cpu: args.value("--client-cpu")?.unwrap_or(1),
            bin_dir: args.value("--bin-dir")?.map_or_else(default_bin_dir, Ok)?,
            out_dir: args
                .value("--out")?
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
            build: args.flag("--build"),
            skip: skipped(args.value("--skip")?, args.value("--only")?)?,
        };
        args.finish()?;
        options.check()?;
        Ok(options)
    }

    /// Whether part `name` (echo, bulk, udp, syscalls, idle, http, tls) runs.
    pub(crate) fn runs(&self, name: &str) -> bool {
        !self.skip.iter().any(|part| part == name)
    }

    /// Rejects loads outside the bounds loadgen accepts.
    fn check(&self) -> Result<(), String> {
        let checks = [
            ((1..=20).contains(&self.reps), "--reps must be 1..=20"),
            (
                self.conns.iter().all(|n| (1..=20_000).contains(n)),
                "--conns must be 1..=20000",
            ),
            (
                (1..=1 << 36).contains(&self.bulk_bytes),
                "--bulk-bytes must be 1..=64 GiB",
            ),
            (
                (1..=4096).contains(&self.udp_sockets),
                "--udp-sockets must be 1..=4096",
            ),
            (
                (1..=4096).contains(&self.udp_depth),
                "--udp-depth must be 1..=4096",
            ),
            (
                (1..=20_000).contains(&self.idle),
                "--idle must be 1..=20000",
            ),
            (
                (1..=10_000).contains(&self.http_conns),
                "--http-conns must be 1..=10000",
            ),
            (
                (1..=1 << 36).contains(&self.tls_bytes),
                "--tls-bytes must be 1..=64 GiB",
            ),
            (
                ["auto", "perf", "strace", "none"].contains(&self.syscalls.as_str()),
                "--syscalls must be auto, perf, strace or none",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, msg)) => Err((*msg).to_owned()),
            None => Ok(()),
        }
    }
}

/// The parts to leave out, from `--skip LIST` or as the complement of `--only LIST`.
fn skipped(skip: Option<String>, only: Option<String>) -> Result<Vec<String>, String> {
    match (skip, only) {
        (Some(_), Some(_)) => Err("give --skip or --only, not both".to_owned()),
        (None, Some(only)) => {
            let kept = names(Some(only), &PARTS, "--only")?;
            let left_out = PARTS.iter().filter(|part| !kept.iter().any(|k| k == *part));
            Ok(left_out.map(|&part| part.to_owned()).collect())
        }
        (skip, None) => names(Some(skip.unwrap_or_default()), &PARTS, "--skip"),
    }
}

/// A comma-separated list of numbers, `default` when absent.
fn list(value: Option<String>, default: &str) -> Result<Vec<usize>, String> {
    let text = value.unwrap_or_else(|| default.to_owned());
    text.split(',')
        .map(|n| n.trim().parse().map_err(|_| format!("not a number: {n:?}")))
        .collect()
}

/// A comma-separated subset of `known` (all of it when absent), in `known`'s order.
fn names(value: Option<String>, known: &[&str], flag: &str) -> Result<Vec<String>, String> {
    let Some(text) = value else {
        return Ok(known.iter().map(|&n| n.to_owned()).collect());
    };
    let given: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = given.iter().find(|n| !known.contains(n)) {
        return Err(format!(
            "{flag}: unknown name {bad:?} (known: {})",
            known.join(",")
        ));
    }
    Ok(known
        .iter()
        .filter(|n| given.contains(n))
        .map(|&n| n.to_owned())
        .collect())
}

/// The directory netbench itself runs from: where cargo put the other release binaries.
fn default_bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|err| format!("locating netbench: {err}"))?;
    exe.parent()
        .map(PathBuf::from)
        .ok_or_else(|| "netbench has no parent directory; pass --bin-dir".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let args = Args::new(args.iter().copied().chain(["--bin-dir", "."]));
        Options::parse(args, String::new())
    }

    #[test]
    fn only_runs_the_parts_named() {
        let options = parse(&["--only", "udp,syscalls"]).unwrap();
        let runs: Vec<&str> = PARTS.into_iter().filter(|p| options.runs(p)).collect();
        assert_eq!(runs, ["udp", "syscalls"]);
        assert!(parse(&["--only", "udp", "--skip", "echo"]).is_err());
        assert!(parse(&["--only", "tcp"]).is_err());
    }
}

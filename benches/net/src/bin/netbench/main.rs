//! `netbench`: the one command that runs every echo server against `loadgen` and writes
//! `RESULTS.md` and `ratios.svg`.
//!
//! It builds nothing but the C server (`cc -O2`, cheap) unless `--build` is given; it
//! expects the release binaries beside itself. Phases, each server in turn inside every
//! repetition so slow drift on a shared machine hits all servers alike:
//!
//! 1. TCP: all servers up at once (idle ones cost nothing), echo at each connection count,
//!    then bulk, then one counted echo run per count with `perf`/`strace` attached (when
//!    echo runs).
//! 2. UDP: all servers up with `--udp`, packets/s, then one counted run each.
//! 3. Idle memory: one fresh server at a time, VmRSS before and with the idle connections;
//!    for sock's server also its live heap bytes (it counts its allocations, and answers
//!    on stdout each line written to its stdin: `--heap-report`).
//! 4. hyper: `hyper_sock` and `hyper_tokio` up at once, `wrk` against each in turn
//!    ([`http`]).
//! 5. TLS bulk: `tls_bulk` on sock and on tokio in turn ([`tls`]).
//!
//! A missing binary or a failed run is recorded and reported; the rest goes on.

mod chart;
mod heap;
mod http;
mod load;
mod options;
mod procfs;
mod report;
mod results;
mod servers;
mod syscalls;
mod tls;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use sock_netbench::{Args, Transport};

use load::Load;
use options::Options;
use report::{BASELINE, Report};
use results::{CpuUse, IdleMemory, ServerResult, SyscallRun, TlsResult, Workload};
use servers::{Running, ServerSpec};
use syscalls::{Counter, Counts, Tool};

fn main() {
    let command = std::iter::once("netbench".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let result = sock_netbench::require_linux("netbench")
        .and_then(|()| Options::parse(Args::from_env(), command))
        .and_then(run);
    if let Err(err) = result {
        eprintln!("netbench: {err}");
        std::process::exit(1);
    }
}

/// One driver run from start to written report.
fn run(options: Options) -> Result<(), String> {
    check_taskset()?;
    if options.build {
        cargo_build()?;
    }
    let loadgen = options.bin_dir.join("loadgen");
    let echoes = ["echo", "bulk", "udp", "idle"]
        .iter()
        .any(|&p| options.runs(p));
    if echoes && !loadgen.is_file() {
        return Err(format!(
            "{} not found; build first:\n{}",
            loadgen.display(),
            options::USAGE
        ));
    }
    let log_dir = options.bin_dir.join("netbench-logs");
    fs::create_dir_all(&log_dir).map_err(|err| format!("{}: {err}", log_dir.display()))?;
    let c_built = match options.servers.iter().any(|s| s == "c_epoll") {
        true => servers::build_c_server(&options.bin_dir),
        false => Ok(()),
    };
    let tool = match options.runs("syscalls") {
        true => Tool::choose(&options.syscalls),
        false => Err("not counted (--skip syscalls)".to_owned()),
    };
    let mut bench = Bench {
        results: results_for(&options, c_built),
        http: http::results(&options),
        tls: Vec::new(),
        options: &options,
        loadgen,
        log_dir,
        tool,
    };
    bench.tcp_phase();
    bench.udp_phase();
    bench.idle_phase();
    http::phase(&options, &bench.log_dir, &mut bench.http);
    bench.tls = tls::phase(&options);
    bench.write_outputs()
}

/// An empty result per server, noting the missing ones.
fn results_for(options: &Options, c_built: Result<(), String>) -> Vec<ServerResult> {
    let mut results: Vec<ServerResult> = options
        .servers
        .iter()
        .map(|name| ServerResult::new(ServerSpec::new(name, &options.bin_dir)))
        .collect();
    for r in &mut results {
        if let (Err(why), "c_epoll") = (&c_built, r.spec.name) {
            r.missing = Some(format!("missing: {why}"));
        }
        if let Some(why) = &r.missing {
            eprintln!("{}: {why}", r.spec.name);
        }
    }
    results
}

/// The state of a driver run.
struct Bench<'a> {
    /// The settings.
    options: &'a Options,
    /// The loadgen binary.
    loadgen: PathBuf,
    /// Where server and loadgen logs go.
    log_dir: PathBuf,
    /// The syscall counter, or why there is none.
    tool: Result<Tool, String>,
    /// Results, one per server, in table order.
    results: Vec<ServerResult>,
    /// The hyper servers' results.
    http: Vec<ServerResult>,
    /// The TLS runs, one entry per runtime.
    tls: Vec<TlsResult>,
}

impl Bench<'_> {
    /// Echo, bulk and counted echo runs against all TCP servers.
    fn tcp_phase(&mut self) {
        let o = self.options;
        let counting = o.runs("echo") && o.runs("syscalls") && self.tool.is_ok();
        if !(o.runs("echo") || o.runs("bulk") || counting) {
            return;
        }
        let mut servers = self.start_all(Transport::Tcp);
        if o.runs("echo") {
            for &conns in &o.conns {
                for rep in 1..=o.reps {
                    eprintln!("echo, {conns} connections, repetition {rep}/{}", o.reps);
                    servers
                        .iter_mut()
                        .for_each(|(i, s)| self.echo_once(*i, s, conns));
                }
            }
        }
        if o.runs("bulk") {
            for rep in 1..=o.reps {
                eprintln!("bulk, repetition {rep}/{}", o.reps);
                servers.iter_mut().for_each(|(i, s)| self.bulk_once(*i, s));
            }
        }
        if counting {
            for &conns in &o.conns {
                eprintln!("syscalls, echo at {conns} connections");
                let args = self.echo_args(conns);
                let workload = Workload::Echo(conns);
                servers
                    .iter_mut()
                    .for_each(|(i, s)| self.count_once(*i, s, &args, workload));
            }
        }
    }

    /// Packets/s and a counted run against all UDP servers.
    fn udp_phase(&mut self) {
        if !self.options.runs("udp") {
            return;
        }
        let mut servers = self.start_all(Transport::Udp);
        for rep in 1..=self.options.reps {
            eprintln!("udp, repetition {rep}/{}", self.options.reps);
            servers.iter_mut().for_each(|(i, s)| self.udp_once(*i, s));
        }
        if self.options.runs("syscalls") && self.tool.is_ok() {
            eprintln!("syscalls, udp");
            let args = self.udp_args();
            servers
                .iter_mut()
                .for_each(|(i, s)| self.count_once(*i, s, &args, Workload::Udp));
        }
    }

    /// Idle-connection memory, one fresh server at a time.
    fn idle_phase(&mut self) {
        if !self.options.runs("idle") {
            return;
        }
        eprintln!("memory with {} idle connections", self.options.idle);
        if let Err(why) = self.check_nofile() {
            self.results
                .iter_mut()
                .filter(|r| r.missing.is_none())
                .for_each(|r| r.fail(why.clone()));
            return;
        }
        for i in 0..self.results.len() {
            if self.results[i].missing.is_some() {
                continue;
            }
            match self.idle_once(&self.results[i].spec) {
                Ok(memory) => {
                    let heap = memory
                        .heap_per_conn()
                        .map_or(String::new(), |h| format!(", heap {h:.0} bytes/conn"));
                    eprintln!(
                        "  {}: RSS {:.0} bytes/conn{heap}",
                        self.results[i].spec.name,
                        memory.bytes_per_conn()
                    );
                    self.results[i].idle = Some(memory);
                }
                Err(err) => self.results[i].fail(format!("idle memory: {err}")),
            }
        }
    }

    /// Raises this process's descriptor limit (servers and loadgen inherit it) and checks
    /// that it fits the idle connections.
    fn check_nofile(&self) -> Result<(), String> {
        let need = self.options.idle as u64 + 64;
        match sock_netbench::raise_nofile_limit() {
            Ok(limit) if limit >= need => Ok(()),
            Ok(limit) => Err(format!(
                "idle memory: RLIMIT_NOFILE hard limit {limit} < {need}; raise it (ulimit -Hn) or lower --idle"
            )),
            Err(err) => Err(format!("idle memory: raising RLIMIT_NOFILE: {err}")),
        }
    }

    /// Starts every available server; ones that fail to start are noted and left out.
    fn start_all(&mut self, transport: Transport) -> Vec<(usize, Running)> {
        let mut running = Vec::new();
        for (i, r) in self.results.iter_mut().enumerate() {
            if r.missing.is_some() {
                continue;
            }
            match Running::start(&r.spec, transport, self.options.server_cpu, &self.log_dir) {
                Ok(server) => running.push((i, server)),
                Err(err) => r.fail(format!("{transport:?} server: {err}")),
            }
        }
        running
    }

    /// One echo run at `conns` connections.
    fn echo_once(&mut self, i: usize, server: &mut Running, conns: usize) {
        let outcome = self
            .measure(server, &self.echo_args(conns), false)
            .and_then(|m| results::echo_run(&m.line, m.cpu));
        let r = &mut self.results[i];
        match outcome {
            Ok(run) => {
                let (rate, p99) = (report::number(run.rt_per_sec), report::number(run.p99_us));
                eprintln!("  {:>9}: {rate} round trips/s, p99 {p99} µs", r.spec.name);
                r.echo.entry(conns).or_default().push(run);
            }
            Err(err) => r.fail(format!("echo at {conns} connections: {err}")),
        }
    }

    /// One bulk run.
    fn bulk_once(&mut self, i: usize, server: &mut Running) {
        let args = ["--bulk", "--bytes", &self.options.bulk_bytes.to_string()].map(str::to_owned);
        let outcome = self
            .measure(server, &args, false)
            .and_then(|m| results::bulk_run(&m.line, m.cpu));
        let r = &mut self.results[i];
        match outcome {
            Ok(run) => {
                eprintln!(
                    "  {:>9}: {} MB/s",
                    r.spec.name,
                    report::number(run.mb_per_sec)
                );
                r.bulk.push(run);
            }
            Err(err) => r.fail(format!("bulk: {err}")),
        }
    }

    /// One UDP run.
    fn udp_once(&mut self, i: usize, server: &mut Running) {
        let outcome = self
            .measure(server, &self.udp_args(), false)
            .and_then(|m| results::udp_run(&m.line, m.cpu));
        let r = &mut self.results[i];
        match outcome {
            Ok(run) => {
                let rate = report::number(run.packets_per_sec);
                let cpu = run.cpu.map_or(String::new(), |c| {
                    format!(
                        ", CPU {:.0} % / loadgen {:.0} %",
                        c.server * 100.0,
                        c.client * 100.0
                    )
                });
                eprintln!(
                    "  {:>9}: {rate} packets/s, {} lost{cpu}",
                    r.spec.name, run.lost
                );
                r.udp.push(run);
            }
            Err(err) => r.fail(format!("udp: {err}")),
        }
    }

    /// One run with the syscall counter attached to the server.
    fn count_once(&mut self, i: usize, server: &mut Running, args: &[String], workload: Workload) {
        let outcome = self.measure(server, args, true).and_then(|m| {
            Ok(SyscallRun {
                served: results::field(&m.line, "served")?,
                counts: m.counts.ok_or("no counts")?,
            })
        });
        let r = &mut self.results[i];
        match outcome {
            Ok(run) => {
                eprintln!(
                    "  {:>9}: {:.2} syscalls per round trip",
                    r.spec.name,
                    run.per_op()
                );
                r.syscalls.insert(workload, run);
            }
            Err(err) => r.fail(format!("syscalls, {workload:?}: {err}")),
        }
    }

    /// Runs loadgen with `args` against `server`, optionally counting the server's
    /// syscalls over the timed window; returns what loadgen printed and measured.
    fn measure(
        &self,
        server: &mut Running,
        args: &[String],
        count: bool,
    ) -> Result<Measured, String> {
        if !server.alive() {
            return Err("the server process has exited".to_owned());
        }
        let log = self.log_dir.join("loadgen.log");
        let cpu = self.options.client_cpu;
        let mut load = Load::start(&self.loadgen, cpu, server.addr, args, &log)?;
        load.ready()?;
        let counter = match (count, &self.tool) {
            (true, Ok(tool)) => {
                let output = self.log_dir.join("syscalls.txt");
                Some(Counter::attach(*tool, server.pid(), &output)?)
            }
            _ => None,
        };
        let cpus = [self.options.server_cpu, self.options.client_cpu];
        let cpus = &cpus[..if cpus[0] == cpus[1] { 1 } else { 2 }];
        let before = CpuReading::now(server.pid(), load.pid(), cpus);
        let start = Instant::now();
        load.go()?;
        let line = load.result(self.options.duration)?;
        let after = CpuReading::now(server.pid(), load.pid(), cpus);
        let cpu = after.and_then(|after| after.since(before, start.elapsed()));
        let counts = counter.map(Counter::stop).transpose()?;
        load.finish()?;
        Ok(Measured { line, counts, cpu })
    }

    /// Memory of a fresh server before and with the idle connections open: VmRSS, and
    /// live heap bytes if the server reports them.
    fn idle_once(&self, spec: &ServerSpec) -> Result<IdleMemory, String> {
        let o = self.options;
        let mut server = Running::start_reporting_heap(spec, o.server_cpu, &self.log_dir)?;
        thread::sleep(Duration::from_millis(300));
        let before_kb = procfs::vm_rss_kb(server.pid())?;
        let heap_before = server.heap_live_bytes().transpose()?;
        let args = [
            "--idle".to_owned(),
            o.idle.to_string(),
            "--hold".to_owned(),
            "300".to_owned(),
        ];
        let log = self.log_dir.join("loadgen.log");
        let mut load = Load::start(&self.loadgen, o.client_cpu, server.addr, &args, &log)?;
        load.ready()?;
        thread::sleep(Duration::from_millis(500));
        let after_kb = procfs::vm_rss_kb(server.pid())?;
        let heap_after = server.heap_live_bytes().transpose()?;
        load.finish()?;
        Ok(IdleMemory {
            before_kb,
            after_kb,
            heap: heap_before.zip(heap_after),
            conns: o.idle,
        })
    }

    /// loadgen's flags for an echo run.
    fn echo_args(&self, conns: usize) -> Vec<String> {
        let secs = self.options.duration.as_secs_f64().to_string();
        [
            "--conns",
            &conns.to_string(),
            "--depth",
            "1",
            "--size",
            "64",
            "--duration",
            &secs,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// loadgen's flags for a UDP run.
    fn udp_args(&self) -> Vec<String> {
        let o = self.options;
        let mut args = self.echo_args(o.udp_sockets);
        args.insert(0, "--udp".to_owned());
        let depth = args
            .iter()
            .position(|a| a == "--depth")
            .expect("echo_args sets --depth");
        args[depth + 1] = o.udp_depth.to_string();
        args
    }

    /// Writes `RESULTS.md` and `ratios.svg` and prints the markdown.
    fn write_outputs(&self) -> Result<(), String> {
        let report = Report {
            options: self.options,
            results: &self.results,
            http: &self.http,
            tls: &self.tls,
            tool: &self.tool,
            date: procfs::utc_now(),
            machine: procfs::machine(),
        };
        let markdown = report.markdown();
        let title = format!(
            "Ratio to tokio current_thread, medians (higher is better) — {}",
            report.date
        );
        let names: Vec<String> = self.results.iter().map(legend_name).collect();
        let legend: Vec<(&str, usize)> = names
            .iter()
            .zip(&self.results)
            .map(|(name, r)| (name.as_str(), options::colour_of(r.spec.name)))
            .collect();
        let svg = chart::svg(&title, &legend, &self.ratio_groups());
        let out_dir = &self.options.out_dir;
        fs::create_dir_all(out_dir).map_err(|err| format!("{}: {err}", out_dir.display()))?;
        write(&out_dir.join("RESULTS.md"), &markdown)?;
        write(&out_dir.join("ratios.svg"), &svg)?;
        update_readme(&out_dir.join("README.md"), &markdown)?;
        println!("{markdown}");
        eprintln!(
            "wrote {}/RESULTS.md and ratios.svg",
            self.options.out_dir.display()
        );
        Ok(())
    }

    /// The chart's groups: echo at each connection count, bulk, UDP.
    fn ratio_groups(&self) -> Vec<chart::Group> {
        let Some(base) = self.results.iter().find(|r| r.spec.name == BASELINE) else {
            return Vec::new();
        };
        let mut metrics: Vec<(String, Metric)> = Vec::new();
        for &conns in &self.options.conns {
            metrics.push((
                format!("echo N={conns}"),
                Box::new(move |r| Some(r.echo_rate(conns)?.median)),
            ));
        }
        metrics.push(("bulk".to_owned(), Box::new(|r| Some(r.bulk_rate()?.median))));
        metrics.push(("UDP".to_owned(), Box::new(|r| Some(r.udp_rate()?.median))));
        metrics
            .into_iter()
            .filter_map(|(label, metric)| {
                let b = metric(base)?;
                let bars = self.results.iter().enumerate();
                let bars = bars
                    .filter_map(|(slot, r)| Some((slot, metric(r)? / b)))
                    .collect();
                Some(chart::Group { label, bars })
            })
            .collect()
    }
}

/// What one loadgen run gave.
struct Measured {
    /// loadgen's result line.
    line: String,
    /// The server's syscalls over the window, when counted.
    counts: Option<Counts>,
    /// Server and loadgen CPU use over the window, when readable.
    cpu: Option<CpuUse>,
}

/// CPU seconds used so far: by the server, by loadgen, and on their two CPUs in all.
#[derive(Clone, Copy)]
struct CpuReading {
    /// The server process.
    server: f64,
    /// The loadgen process.
    client: f64,
    /// Everything on the server's and loadgen's CPUs, steal included.
    cpus: f64,
}

impl CpuReading {
    /// Reads the three counters now; `None` if any is unreadable.
    fn now(server: u32, client: u32, cpus: &[usize]) -> Option<Self> {
        Some(Self {
            server: procfs::cpu_seconds(server).ok()?,
            client: procfs::cpu_seconds(client).ok()?,
            cpus: procfs::cpus_busy_seconds(cpus).ok()?,
        })
    }

    /// CPU use over `elapsed` between two readings.
    fn since(self, before: Option<Self>, elapsed: Duration) -> Option<CpuUse> {
        let before = before?;
        Some(CpuUse::over(
            self.server - before.server,
            self.client - before.client,
            self.cpus - before.cpus,
            elapsed.as_secs_f64(),
        ))
    }
}

/// One number per server for a chart group, `None` when it was not measured.
type Metric = Box<dyn Fn(&ServerResult) -> Option<f64>>;

/// A server's legend entry: its name, marked when it did not run.
fn legend_name(r: &ServerResult) -> String {
    match r.missing {
        Some(_) => format!("{} (missing)", r.spec.name),
        None => r.spec.name.to_owned(),
    }
}

/// Writes a file, naming it in the error.
fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Marks the README region the results are copied into.
const README_BEGIN: &str = "<!-- netbench results: begin -->";
/// See `README_BEGIN`.
const README_END: &str = "<!-- netbench results: end -->";

/// Replaces the region between the markers in the README (if it has them) with the
/// results, headings one level down; a README without the markers is left alone.
fn update_readme(path: &Path, markdown: &str) -> Result<(), String> {
    let Ok(readme) = fs::read_to_string(path) else {
        return Ok(());
    };
    let (Some(begin), Some(end)) = (readme.find(README_BEGIN), readme.find(README_END)) else {
        return Ok(());
    };
    if end < begin {
        return Ok(());
    }
    let demoted: Vec<String> = markdown
        .lines()
        .map(|line| match line.starts_with('#') {
            true => format!("#{line}"),
            false => line.to_owned(),
        })
        .collect();
    let head = &readme[..begin + README_BEGIN.len()];
    let updated = format!("{head}\n{}\n{}", demoted.join("\n").trim(), &readme[end..]);
    write(path, &updated)
}

/// Fails unless `taskset` runs.
fn check_taskset() -> Result<(), String> {
    let ok = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    match ok {
        true => Ok(()),
        false => Err("taskset not found (apt-get install util-linux)".to_owned()),
    }
}

/// `cargo build --release` of the harness and of sock's example (which may not exist yet).
fn cargo_build() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let build = |args: &[&str]| {
        eprintln!("cargo {}", args.join(" "));
        Command::new(&cargo)
            .args(args)
            .current_dir(&root)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !build(&["build", "--release", "-p", "sock-netbench", "--bins"]) {
        return Err("cargo build of sock-netbench failed".to_owned());
    }
    if !build(&[
        "build",
        "--release",
        "-p",
        "sock-examples",
        "--example",
        "echo_server",
    ]) {
        eprintln!("sock's echo_server example did not build; running without it");
    }
    Ok(())
}

//! `icount --servers`: user-space instructions per echo round trip of the network
//! bench's servers, counted by callgrind while the bench's load generator drives them.
//!
//! The servers are the network bench's own (`benches/net/`): sock's `echo_server`
//! example, tokio current_thread, smol, raw mio and the C epoll server. Each runs
//! under `valgrind --tool=callgrind` (collecting from the start), pinned to CPU 0;
//! `loadgen` runs outside valgrind, pinned to CPU 1, with `--conns` connections ×
//! 64-byte messages, one in flight per connection, for `--secs` seconds and again for
//! twice that, each on a fresh server. The server is then stopped with `SIGTERM`, on
//! which callgrind writes its totals. Per round trip is
//! (I(long) − I(short)) / (R(long) − R(short)), where R is the round trips loadgen
//! counts as served (the window and the drain of those in flight): start-up, the
//! connections' setup and teardown and the probe that finds the server ready appear
//! in both runs and cancel, as in the in-process `icount`.
//!
//! What it is not: a CI step or a guard. A server under valgrind runs some 50 times
//! slower than natively, so every wait returns many events at once, and how many
//! depends on the machine's other load. Over four runs on a 2-CPU machine, busy and
//! quiet, sock's, tokio's, mio's and C's counts moved by under 1 %, smol's by 20 %.
//! They compare the servers with each other in the same run; the in-process
//! workloads of [`crate::icount`] are the deterministic ones.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;
use crate::icount::parse_total;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// The release builds of the servers and loadgen may compile tokio, smol and hyper
/// from scratch.
const BUILD_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// How long a server under valgrind may take to answer its first probe.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// How long a server may take to exit (and callgrind to write its file) on `SIGTERM`.
const EXIT_LIMIT: Duration = Duration::from_secs(60);

/// Beyond its window, how long loadgen may take to connect and drain.
const LOAD_SLACK: Duration = Duration::from_secs(120);

/// The servers measured: name in the table, what it is, binary under `target/release`
/// (`echo_epoll` is compiled into the step's own directory instead).
const SERVERS: [(&str, &str, &str); 5] = [
    ("sock", "sock (`echo_server`)", "examples/echo_server"),
    ("tokio_ct", "tokio current_thread", "echo_tokio_ct"),
    ("smol", "smol (async-io + LocalExecutor)", "echo_smol"),
    ("mio", "raw mio, edge-triggered", "echo_mio"),
    ("c_epoll", "C, edge-triggered epoll", "echo_epoll"),
];

/// Every server of `SERVERS`, as a `ServerLoad::only` mask.
const ALL: u8 = (1 << SERVERS.len()) - 1;

/// The server every ratio is to.
const REFERENCE: &str = "tokio_ct";

/// The load: `cargo xtask icount --servers [--secs N] [--conns C]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerLoad {
    /// The short run's seconds of load; the long run has twice as many.
    pub(crate) secs: u32,
    /// Connections, each with one 64-byte message in flight.
    pub(crate) conns: u32,
    /// The servers measured: bit `i` is `SERVERS[i]` (`--only a,b`; all by default).
    pub(crate) only: u8,
}

impl Default for ServerLoad {
    fn default() -> Self {
        ServerLoad {
            secs: 4,
            conns: 64,
            only: ALL,
        }
    }
}

/// Parses the flags after `--servers`.
pub(crate) fn parse(args: &[String]) -> Result<ServerLoad, String> {
    let mut load = ServerLoad::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("`{flag}` needs a value"));
        match flag.as_str() {
            "--secs" => load.secs = number(flag, value?, 300)?,
            "--conns" => load.conns = number(flag, value?, 10_000)?,
            "--only" => load.only = servers(value?)?,
            _ => {
                return Err(format!(
                    "`icount --servers` takes --secs, --conns and --only, not `{flag}`"
                ));
            }
        }
    }
    Ok(load)
}

/// `names` (`sock,tokio_ct`) as a mask of `SERVERS`.
fn servers(names: &str) -> Result<u8, String> {
    let mut mask = 0;
    for name in names.split(',') {
        let Some(i) = SERVERS.iter().position(|(n, ..)| *n == name) else {
            let known: Vec<&str> = SERVERS.iter().map(|(n, ..)| *n).collect();
            return Err(format!(
                "`--only` takes servers among {}, not `{name}`",
                known.join(", ")
            ));
        };
        mask |= 1 << i;
    }
    Ok(mask)
}

/// `value` as a whole number within `1..=max`.
fn number(flag: &str, value: &str, max: u32) -> Result<u32, String> {
    match value.parse() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("`{flag}` must be within 1..={max}, got `{value}`")),
        Err(_) => Err(format!("`{flag}` wants a whole number, got `{value}`")),
    }
}

/// The step.
pub(crate) fn step(load: ServerLoad) -> Step {
    let step = Step::new("icount-servers", move |project| run(project, load));
    step.needs(&["valgrind", "taskset", "cc"])
}

/// One server's two runs.
#[derive(Debug)]
struct Measured {
    /// The server's name.
    name: &'static str,
    /// What it is.
    label: &'static str,
    /// The short run's instructions and served round trips.
    short: Run,
    /// The long run's.
    long: Run,
}

/// One run under callgrind.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// The server's instructions, by callgrind's totals.
    instructions: u64,
    /// The round trips loadgen counted as served.
    served: u64,
}

impl Measured {
    /// Instructions per round trip between the two runs; `None` if the long run
    /// served no more round trips than the short one.
    fn per_round_trip(&self) -> Option<f64> {
        let trips = self.long.served.checked_sub(self.short.served)?;
        let instructions = self.long.instructions as f64 - self.short.instructions as f64;
        (trips > 0).then(|| instructions / trips as f64)
    }
}

/// Builds the servers and loadgen, measures each server, prints the table.
fn run(project: &Project, load: ServerLoad) -> StepResult {
    let release = build(project)?;
    let out_dir = project.target_dir.join("icount-servers");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| StepError::failed(format!("{}: {e}", out_dir.display())))?;
    let c_server = build_c_server(project, &out_dir)?;
    let loadgen = release.join("loadgen");
    let mut measured = Vec::new();
    let chosen = SERVERS
        .iter()
        .enumerate()
        .filter(|(i, _)| load.only & (1 << i) != 0);
    for (_, &(name, label, binary)) in chosen {
        let binary = match name {
            "c_epoll" => c_server.clone(),
            _ => release.join(binary),
        };
        let server = Server {
            name,
            binary: &binary,
            out_dir: &out_dir,
        };
        let short = server.measure(&loadgen, load, load.secs)?;
        let long = server.measure(&loadgen, load, 2 * load.secs)?;
        measured.push(Measured {
            name,
            label,
            short,
            long,
        });
    }
    print!("{}", table(&measured, load));
    Ok(summary(&measured))
}

/// The step's note: sock's count per round trip and its ratio to tokio's.
fn summary(measured: &[Measured]) -> String {
    let per = |name: &str| {
        let m = measured.iter().find(|m| m.name == name)?;
        m.per_round_trip()
    };
    match (per("sock"), per(REFERENCE)) {
        (Some(sock), Some(tokio)) => format!(
            "sock {} instructions per round trip, {:.2}x tokio_ct's {}",
            thousands(sock.round() as u64),
            sock / tokio,
            thousands(tokio.round() as u64)
        ),
        (Some(sock), None) => format!(
            "sock {} instructions per round trip",
            thousands(sock.round() as u64)
        ),
        _ => "sock served no more round trips in the long run, or was not measured".to_string(),
    }
}

/// `cargo build --release` of loadgen, the Rust servers and sock's `echo_server`;
/// the release directory.
fn build(project: &Project) -> Result<PathBuf, StepError> {
    let bins = ["loadgen", "echo_tokio_ct", "echo_smol", "echo_mio"];
    let bin_args = bins.iter().flat_map(|bin| ["--bin", bin]);
    let cargo = project.cargo().timeout(BUILD_TIME_LIMIT);
    let cargo = cargo
        .args(["build", "--release", "-p", "sock-netbench"])
        .args(bin_args);
    let cargo = cargo.args(["-p", "sock-examples", "--example", "echo_server"]);
    cargo.run()?;
    Ok(project.target_dir.join("release"))
}

/// `cc -O2 -g` of the bench's C server into `out_dir`; its path.
fn build_c_server(project: &Project, out_dir: &Path) -> Result<PathBuf, StepError> {
    let source = project.root.join("benches/net/c/echo_epoll.c");
    let binary = out_dir.join("echo_epoll");
    let cc = Cmd::new("cc")
        .args(["-O2", "-g", "-Wall", "-o"])
        .arg(&binary)
        .arg(&source);
    cc.run()?;
    Ok(binary)
}

/// One server binary and where its callgrind files go.
struct Server<'a> {
    /// Its name, for the files.
    name: &'static str,
    /// Its binary.
    binary: &'a Path,
    /// Where the callgrind out files and logs go.
    out_dir: &'a Path,
}

impl Server<'_> {
    /// Starts the server under callgrind, loads it for `secs`, stops it, and reads
    /// its instructions and loadgen's served round trips.
    fn measure(&self, loadgen: &Path, load: ServerLoad, secs: u32) -> Result<Run, StepError> {
        let out = self.out_dir.join(format!("{}.{secs}s.out", self.name));
        let _ = std::fs::remove_file(&out);
        let mut server = self.start(&out)?;
        server.wait_ready()?;
        let served = run_load(loadgen, server.addr, load.conns, secs)?;
        server.stop()?;
        let text = std::fs::read_to_string(&out)
            .map_err(|e| StepError::failed(format!("{}: {e}", out.display())))?;
        let instructions = parse_total(&text)
            .ok_or_else(|| StepError::failed(format!("{}: no `totals:` line", out.display())))?;
        println!(
            "  {:<9} {secs:>5} s: {instructions:>14} instructions, {served:>9} round trips",
            self.name
        );
        Ok(Run {
            instructions,
            served,
        })
    }

    /// `taskset -c 0 valgrind -q --tool=callgrind BINARY --addr ADDR`, its output in
    /// a log beside `out`.
    fn start(&self, out: &Path) -> Result<Running, StepError> {
        let addr = free_addr()?;
        let log_path = out.with_extension("log");
        let log = File::create(&log_path)
            .map_err(|e| StepError::failed(format!("{}: {e}", log_path.display())))?;
        let mut command = pinned(0);
        command.args(["valgrind", "-q", "--tool=callgrind"]);
        command.arg(format!("--callgrind-out-file={}", out.display()));
        command.arg(self.binary).arg("--addr").arg(addr.to_string());
        let stderr = log
            .try_clone()
            .map_err(|e| StepError::failed(format!("{}: {e}", log_path.display())))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|e| StepError::failed(format!("starting valgrind: {e}")))?;
        Ok(Running {
            child,
            addr,
            log: log_path,
        })
    }
}

/// `taskset -c CPU` when the machine has a CPU for the server and one for loadgen,
/// else nothing in front (the command runs unpinned).
fn pinned(cpu: usize) -> Command {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    match cpus >= 2 {
        true => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpu.to_string());
            command
        }
        false => Command::new("env"),
    }
}

/// A loopback address whose port was free a moment ago.
fn free_addr() -> Result<SocketAddr, StepError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| StepError::failed(format!("finding a free port: {e}")))
}

/// `loadgen --addr ADDR --conns C --duration SECS` pinned to CPU 1; the round trips
/// it counts as served.
fn run_load(loadgen: &Path, addr: SocketAddr, conns: u32, secs: u32) -> Result<u64, StepError> {
    let pin = pinned(1);
    let mut cmd = Cmd::new(pin.get_program()).args(pin.get_args());
    cmd = cmd.arg(loadgen).args(["--addr", &addr.to_string()]);
    cmd = cmd.args([
        "--conns",
        &conns.to_string(),
        "--duration",
        &secs.to_string(),
    ]);
    let line = cmd
        .quiet()
        .timeout(Duration::from_secs(secs.into()) + LOAD_SLACK)
        .read()?;
    json_number(&line, "served")
        .map(|served| served as u64)
        .ok_or_else(|| StepError::failed(format!("loadgen: no `served` in `{}`", line.trim())))
}

/// The number after `"key":` in loadgen's one-line JSON.
fn json_number(line: &str, key: &str) -> Option<f64> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// A server under valgrind, killed when dropped unless it was stopped.
struct Running {
    /// valgrind, which runs the server in its own process.
    child: Child,
    /// Where the server listens.
    addr: SocketAddr,
    /// valgrind's and the server's output.
    log: PathBuf,
}

impl Running {
    /// Probes until the server echoes a byte, failing if it exits or
    /// [`READY_LIMIT`] passes.
    fn wait_ready(&mut self) -> Result<(), StepError> {
        let start = Instant::now();
        while start.elapsed() < READY_LIMIT {
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(StepError::failed(format!(
                    "server exited at start ({status}): {}",
                    said.trim()
                )));
            }
            if echoes(self.addr) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(StepError::failed(format!(
            "server not answering on {} after {READY_LIMIT:?}",
            self.addr
        )))
    }

    /// Sends `SIGTERM` and waits for the exit, on which callgrind writes its file.
    fn stop(&mut self) -> Result<(), StepError> {
        let pid = self.child.id().to_string();
        let kill = Cmd::new("sh").args(["-c", &format!("kill -TERM {pid}")]);
        kill.quiet().run()?;
        let start = Instant::now();
        while start.elapsed() < EXIT_LIMIT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Err(StepError::failed(format!(
            "server still running {EXIT_LIMIT:?} after SIGTERM"
        )))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether the server at `addr` accepts a connection and echoes one byte.
fn echoes(addr: SocketAddr) -> bool {
    let timeout = Duration::from_millis(500);
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"?")?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte)?;
        Ok(&byte == b"?")
    };
    probe().unwrap_or(false)
}

/// The markdown table: server, instructions per round trip, ratio to tokio
/// current_thread, and the two runs' round trips.
fn table(measured: &[Measured], load: ServerLoad) -> String {
    let reference = measured
        .iter()
        .find(|m| m.name == REFERENCE)
        .and_then(Measured::per_round_trip);
    let mut out = format!(
        "\nuser-space instructions per round trip, {} connections × 64 B, \
         {} s and {} s of load\n\n",
        load.conns,
        load.secs,
        2 * load.secs
    );
    out += "| server | instructions per round trip | × tokio_ct | round trips served (short / long) |\n";
    out += "|---|---:|---:|---:|\n";
    for m in measured {
        let per = m.per_round_trip();
        let per_text = per.map_or("—".to_string(), |p| thousands(p.round() as u64));
        let ratio = match (per, reference) {
            (Some(p), Some(r)) => format!("{:.2}", p / r),
            _ => "—".to_string(),
        };
        out += &format!(
            "| {} | {per_text} | {ratio} | {} / {} |\n",
            m.label,
            thousands(m.short.served),
            thousands(m.long.served)
        );
    }
    out
}

/// `n` with commas between thousands.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_set_the_load_and_bad_ones_are_errors() {
        assert_eq!(parse(&[]), Ok(ServerLoad::default()));
        let load = parse(&args("--secs 8 --conns 16")).unwrap();
        assert_eq!(
            load,
            ServerLoad {
                secs: 8,
                conns: 16,
                only: ALL
            }
        );
        let load = parse(&args("--only sock,mio")).unwrap();
        assert_eq!(load.only, 0b1001);
        assert!(
            parse(&args("--only nginx"))
                .unwrap_err()
                .contains("c_epoll")
        );
        assert!(
            parse(&args("--secs"))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(parse(&args("--secs 0")).unwrap_err().contains("within"));
        assert!(
            parse(&args("--conns 1.5"))
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            parse(&args("--conns 20000"))
                .unwrap_err()
                .contains("within")
        );
        assert!(
            parse(&args("--bless"))
                .unwrap_err()
                .contains("--secs, --conns and --only")
        );
    }

    #[test]
    fn loadgen_lines_give_their_numbers() {
        let line = r#"{"mode":"echo","conns":64,"round_trips":1200,"served":1264}"#;
        assert_eq!(json_number(line, "served"), Some(1264.0));
        assert_eq!(json_number(line, "conns"), Some(64.0));
        assert_eq!(json_number(line, "missing"), None);
    }

    #[test]
    fn the_difference_of_two_runs_is_per_round_trip() {
        let run = |instructions, served| Run {
            instructions,
            served,
        };
        let m = |name, short, long| Measured {
            name,
            label: name,
            short,
            long,
        };
        let rows = [
            m("tokio_ct", run(1_000_000, 1_000), run(2_000_000, 2_000)),
            m("sock", run(700_000, 1_000), run(1_200_000, 2_000)),
            m("mio", run(700_000, 1_000), run(800_000, 1_000)),
        ];
        assert_eq!(rows[0].per_round_trip(), Some(1_000.0));
        assert_eq!(rows[2].per_round_trip(), None);
        let text = table(&rows, ServerLoad::default());
        assert!(text.contains("| tokio_ct | 1,000 | 1.00 | 1,000 / 2,000 |"));
        assert!(text.contains("| sock | 500 | 0.50 |"));
        assert!(text.contains("| mio | — | — |"));
        let note = "sock 500 instructions per round trip, 0.50x tokio_ct's 1,000";
        assert_eq!(summary(&rows), note);
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

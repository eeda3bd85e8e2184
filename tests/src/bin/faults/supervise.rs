//! One run: the child under `strace -f` with one fault injected, its lines collected
//! into a [`Report`], its CPU time read from `/proc` during the run and while idle
//! after it, and the injections counted in strace's log.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sock_tests::harness::child::{Child, Line, word};
use sock_tests::harness::procfs;

use crate::cases::{Case, Expect};

/// A run that has not said `done` by then hangs: it is killed and fails.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// How long the idle server is watched after the clients finished.
const IDLE: Duration = Duration::from_millis(500);

/// How long a client waits before it nudges, when the fault is `EAGAIN`.
const STALL_MS: u64 = 200;

/// The size of each run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Size {
    /// Concurrent clients.
    pub(crate) clients: u32,
    /// Payloads each client sends and checks.
    pub(crate) exchanges: u32,
}

/// An error the server met, or the one that ended a client.
#[derive(Debug)]
pub(crate) struct Surfaced {
    /// The child's line saying so.
    pub(crate) line: String,
    /// The error kind's name.
    pub(crate) name: String,
    /// The OS error code, 0 when there was none.
    pub(crate) errno: i32,
}

/// What one run showed.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Why the run did not finish, if it did not.
    pub(crate) hang: Option<String>,
    /// Calls strace failed on purpose.
    pub(crate) injected: usize,
    /// Every error named by the server or a client, in order.
    pub(crate) surfaced: Vec<Surfaced>,
    /// Clients that exchanged everything.
    pub(crate) clients_ok: u32,
    /// Lines of clients that failed.
    pub(crate) failed: Vec<String>,
    /// Lines of clients that got a wrong byte.
    pub(crate) corrupt: Vec<String>,
    /// Stalls the clients answered with a nudge or a retry.
    pub(crate) stalls: u64,
    /// From the child's first line to `done`.
    pub(crate) wall: Duration,
    /// The child's CPU time over `wall`.
    pub(crate) cpu_share: f64,
    /// Its CPU time over the idle time after `done`.
    pub(crate) idle_share: f64,
    /// Every line the child printed.
    pub(crate) lines: Vec<String>,
    /// strace's log of the traced syscalls, its injections marked `(INJECTED)`.
    pub(crate) log: PathBuf,
}

impl Report {
    /// Deletes strace's log (kept until then for a run that failed).
    pub(crate) fn forget_log(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Runs `case` with the child program `exe` at `size`.
pub(crate) fn run(exe: &Path, case: &Case, size: Size) -> Report {
    let log = log_path();
    let mut report = Report {
        log: log.clone(),
        ..Report::default()
    };
    if let Err(why) = run_traced(exe, case, size, &log, &mut report) {
        report.hang = Some(why);
    }
    let strace_log = std::fs::read_to_string(&log).unwrap_or_default();
    report.injected = strace_log.matches("(INJECTED)").count();
    report
}

/// Starts the child under strace, reads its lines until `done`, measures it, ends it.
fn run_traced(
    exe: &Path,
    case: &Case,
    size: Size,
    log: &Path,
    report: &mut Report,
) -> Result<(), String> {
    let deadline = Instant::now() + RUN_LIMIT;
    let mut child = Child::spawn(&mut strace(exe, case, size, log))
        .map_err(|e| format!("cannot start strace (apt-get install strace): {e}"))?;
    let pid = match child.value("pid", deadline).map(|p| p.parse::<u32>()) {
        Ok(Ok(pid)) => pid,
        other => {
            child.end(Duration::ZERO, None);
            return Err(format!("no pid from the child: {other:?}"));
        }
    };
    let (began, cpu_at_start) = (Instant::now(), procfs::cpu_time(pid));
    let finished = collect(&mut child, deadline, report);
    report.wall = began.elapsed();
    if let (Ok(()), Ok(start)) = (&finished, cpu_at_start) {
        measure(pid, start, report);
        while let Line::Text(late) = child.line(Instant::now()) {
            report.lines.push(late.clone());
            take_line(late, report); // a poke connection's, accepted after `done`
        }
    }
    child.end(Duration::from_secs(5), Some(pid));
    finished
}

/// The strace command line running the child with the case's fault.
fn strace(exe: &Path, case: &Case, size: Size, log: &Path) -> Command {
    let stall_ms = match case.fault.expect {
        Expect::Parks => STALL_MS,
        _ => 0,
    };
    let mut command = Command::new("strace");
    command
        .args(["-f", "-qq", "--seccomp-bpf", "-o"])
        .arg(log)
        .args(["-e", &format!("trace={}", case.fault.syscalls)])
        .args(["-e", &case.inject()])
        .arg(exe)
        .args(["child", case.mode])
        .arg(case.payload_seed.to_string())
        .arg(size.clients.to_string())
        .arg(size.exchanges.to_string())
        .arg(stall_ms.to_string());
    command
}

/// Reads the child's lines into `report` until `done`.
fn collect(child: &mut Child, deadline: Instant, report: &mut Report) -> Result<(), String> {
    loop {
        let text = match child.line(deadline) {
            Line::Text(text) => text,
            Line::Closed => return Err("the child exited before `done`".into()),
            Line::TimedOut => return Err(format!("no `done` within {RUN_LIMIT:?}")),
        };
        if text == "done" {
            return Ok(());
        }
        report.lines.push(text.clone());
        take_line(text, report);
    }
}

/// Files one line of the child's output.
fn take_line(text: String, report: &mut Report) {
    let stalls = word(&text, "stalls").and_then(|s| s.parse::<u64>().ok());
    report.stalls += stalls.unwrap_or(0);
    match word(&text, "result") {
        Some("ok") => report.clients_ok += 1,
        Some("corrupt") => report.corrupt.push(text),
        Some(_) => {
            report.failed.push(text.clone());
            surface(text, report);
        }
        None => surface(text, report),
    }
}

/// Files a line naming an error (`name=… errno=…`).
fn surface(text: String, report: &mut Report) {
    let Some(name) = word(&text, "name").map(str::to_string) else {
        return;
    };
    let errno = word(&text, "errno")
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    report.surfaced.push(Surfaced {
        line: text,
        name,
        errno,
    });
}

/// The child's CPU share over the run (its CPU time was `start` when the run began),
/// and over [`IDLE`] after it.
fn measure(pid: u32, start: Duration, report: &mut Report) {
    let Ok(done) = procfs::cpu_time(pid) else {
        return;
    };
    std::thread::sleep(IDLE);
    let idle = procfs::cpu_time(pid).map_or(Duration::ZERO, |now| now.saturating_sub(done));
    let busy = done.saturating_sub(start);
    report.cpu_share = busy.as_secs_f64() / report.wall.as_secs_f64().max(0.001);
    report.idle_share = idle.as_secs_f64() / IDLE.as_secs_f64();
}

/// A fresh path for strace's log.
fn log_path() -> PathBuf {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let name = format!("sock-faults-{}-{n}.strace", std::process::id());
    std::env::temp_dir().join(name)
}

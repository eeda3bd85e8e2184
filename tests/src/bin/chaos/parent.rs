//! The parent: runs scenarios in child processes, `--jobs` at a time, and watches them.
//!
//! Each child is this program again with `--replay SEED --child`. A thread per child
//! reads its stdout and keeps only the last `op` line of each task and the `violation`
//! lines (bounded), so the parent holds nothing that grows with the run. Every 25 ms the
//! parent samples each child's CPU time from `/proc/<pid>/stat` (and its runnable time
//! from the threads' `schedstat`, and its progress from the `op` lines; see
//! `watchdog.rs`): a child past its time limit hangs, one busy more than half of a
//! window's wall time without starting operations spins; either is killed and reported
//! with its last operation per task. A child's exit code and lines
//! give the verdict otherwise. Every violation ends with the command that replays it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::child::{LIMIT, replay_command};
use crate::plan::Skips;
use crate::report::lock;
use crate::watchdog::{self, EVERY, Load, Meter, Verdict};

/// What the parent was asked to do.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Scenarios to run at most.
    pub(crate) seeds: u64,
    /// Seconds to run at most.
    pub(crate) seconds: u64,
    /// The first seed.
    pub(crate) start: u64,
    /// Children at a time.
    pub(crate) jobs: usize,
    /// Ingredients left out.
    pub(crate) skips: Skips,
}

/// How often the parent looks for children that exited (and starts the next ones);
/// their CPU is sampled every [`EVERY`].
const TICK: Duration = Duration::from_millis(5);

/// Lines kept of a child's other output.
const KEPT_LINES: usize = 40;

/// What a child has said so far.
#[derive(Debug, Default)]
struct Said {
    /// Its plan's headline.
    plan: String,
    /// The last `op` line of each task, by task id.
    ops: Vec<String>,
    /// Violations and other lines (the first [`KEPT_LINES`]).
    lines: Vec<String>,
    /// `op` lines read so far.
    progress: u64,
}

/// A running child.
struct Running {
    /// Its seed.
    seed: u64,
    /// The process.
    child: Child,
    /// Its CPU samples.
    meter: Meter,
    /// What it said.
    said: Arc<Mutex<Said>>,
    /// The thread reading its stdout.
    reader: Option<JoinHandle<()>>,
}

/// Runs the scenarios and gives the exit code: 0 if no violation.
pub(crate) fn run(opts: &Options) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("chaos: cannot find my own executable: {e}");
            return 2;
        }
    };
    let mut run = Run::new(opts, exe);
    let mut tick = 0u64;
    loop {
        run.start_more();
        if run.running.is_empty() {
            break;
        }
        thread::sleep(TICK);
        tick += 1;
        run.reap(tick % (EVERY.as_millis() / TICK.as_millis()) as u64 == 0);
        run.note();
    }
    println!(
        "chaos: {} scenarios, {} violations ({:.1} scenarios/s)",
        run.done,
        run.bad,
        run.rate()
    );
    i32::from(run.bad > 0)
}

/// The state of a parent's run.
struct Run<'a> {
    /// What was asked.
    opts: &'a Options,
    /// This program, to run as the children.
    exe: std::path::PathBuf,
    /// When the run started.
    started: Instant,
    /// The next seed to start.
    next: u64,
    /// The children running.
    running: Vec<Running>,
    /// Scenarios finished.
    done: u64,
    /// Scenarios with violations.
    bad: u64,
    /// When progress was last noted on stderr.
    noted: Instant,
}

impl<'a> Run<'a> {
    /// A run that has started nothing yet.
    fn new(opts: &'a Options, exe: std::path::PathBuf) -> Run<'a> {
        let started = Instant::now();
        Run {
            opts,
            exe,
            started,
            next: opts.start,
            running: Vec::new(),
            done: 0,
            bad: 0,
            noted: started,
        }
    }

    /// Starts children up to `--jobs`, while seeds and time are left.
    fn start_more(&mut self) {
        let end = self.opts.start.saturating_add(self.opts.seeds);
        let stop_at = self.started + Duration::from_secs(self.opts.seconds);
        while self.running.len() < self.opts.jobs && self.next < end && Instant::now() < stop_at {
            match spawn(&self.exe, self.next, &self.opts.skips) {
                Ok(r) => self.running.push(r),
                Err(e) => eprintln!("chaos: cannot start seed {}: {e}", self.next),
            }
            self.next += 1;
        }
    }

    /// Collects the children that finished (or were killed), reporting violations.
    fn reap(&mut self, sample: bool) {
        let (mut done, mut bad) = (0, 0);
        self.running.retain_mut(|r| match check(r, sample) {
            None => true,
            Some(verdict) => {
                done += 1;
                bad += u64::from(!verdict.is_empty());
                report(r, &verdict, &self.opts.skips);
                false
            }
        });
        self.done += done;
        self.bad += bad;
    }

    /// Notes progress on stderr every 10 s.
    fn note(&mut self) {
        if self.noted.elapsed() >= Duration::from_secs(10) {
            self.noted = Instant::now();
            let (done, bad, rate) = (self.done, self.bad, self.rate());
            eprintln!("chaos: {done} scenarios, {bad} violations so far ({rate:.1}/s)");
        }
    }

    /// Scenarios per second so far.
    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64()
    }
}

/// Starts the child for `seed` and the thread that reads it.
fn spawn(exe: &std::path::Path, seed: u64, skips: &Skips) -> std::io::Result<Running> {
    let mut cmd = Command::new(exe);
    cmd.args(["--replay", &seed.to_string(), "--child"]);
    if !skips.0.is_empty() {
        cmd.args(["--skip", &skips.0.join(",")]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let said = Arc::new(Mutex::new(Said::default()));
    let out = child.stdout.take().expect("stdout is piped");
    let reader = {
        let said = said.clone();
        thread::spawn(move || read_child(out, &said))
    };
    Ok(Running {
        seed,
        child,
        meter: Meter::new(LIMIT + Duration::from_secs(2)),
        said,
        reader: Some(reader),
    })
}

/// Reads a child's lines until it exits.
fn read_child(out: ChildStdout, said: &Mutex<Said>) {
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { return };
        let mut s = lock(said);
        if let Some(rest) = line.strip_prefix("op task=") {
            s.progress += 1;
            let (id, record) = rest.split_once(' ').unwrap_or((rest, ""));
            let id: usize = id.parse().unwrap_or(0).min(63);
            if s.ops.len() <= id {
                s.ops.resize_with(id + 1, String::new);
            }
            s.ops[id].clear();
            s.ops[id].push_str(record);
        } else if let Some(rest) = line.strip_prefix("plan ") {
            s.plan = rest.to_owned();
        } else if s.lines.len() < KEPT_LINES {
            s.lines.push(line);
        }
    }
}

/// Looks at a child (and, if `sample`, samples its load): `None` while it runs fine,
/// else the violations of its scenario (empty if it passed). A hung or spinning child
/// is killed here.
fn check(r: &mut Running, sample: bool) -> Option<Vec<String>> {
    if let Ok(Some(status)) = r.child.try_wait() {
        return Some(finished(r, status));
    }
    if !sample {
        return None;
    }
    let load = Load {
        ops: lock(&r.said).progress,
        ..watchdog::load_of(&r.child.id().to_string())?
    };
    match r.meter.sample(Instant::now(), load) {
        Verdict::Fine => None,
        verdict => {
            let _ = r.child.kill();
            let _ = r.child.wait();
            join_reader(r);
            let mut out = vec![format!(
                "killed by the watchdog: {}",
                watchdog::describe(verdict)
            )];
            out.extend(violation_lines(&lock(&r.said)));
            Some(out)
        }
    }
}

/// The violations of a child that exited with `status`.
fn finished(r: &mut Running, status: std::process::ExitStatus) -> Vec<String> {
    join_reader(r);
    let said = lock(&r.said);
    let mut out = violation_lines(&said);
    if !status.success() && out.is_empty() {
        out.push(format!("the child exited with {status}"));
    }
    out
}

/// The `violation` lines a child printed.
fn violation_lines(said: &Said) -> Vec<String> {
    said.lines
        .iter()
        .filter_map(|l| l.strip_prefix("violation ").map(str::to_owned))
        .collect()
}

/// Waits for the reader thread (the child's stdout has closed or will).
fn join_reader(r: &mut Running) {
    if let Some(t) = r.reader.take() {
        let _ = t.join();
    }
}

/// Prints a scenario's violations, the last operation of each task, and the replay
/// command.
fn report(r: &Running, violations: &[String], skips: &Skips) {
    if violations.is_empty() {
        return;
    }
    let said = lock(&r.said);
    let plan = match said.plan.is_empty() {
        true => format!("seed={}", r.seed),
        false => said.plan.clone(),
    };
    println!("chaos: violation in {plan}");
    for v in violations {
        println!("  {v}");
    }
    for (id, record) in said.ops.iter().enumerate() {
        if !record.is_empty() {
            println!("  last op task={id} {record}");
        }
    }
    println!("  replay: {}", replay_command(r.seed, skips));
}

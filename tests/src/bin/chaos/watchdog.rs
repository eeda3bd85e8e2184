//! Hang and spin detection from CPU-time samples, for the parent watching a child and
//! for a process watching itself (`--replay` alone, `--heap`).
//!
//! A sample is a process's [`Load`]: CPU time (`utime + stime` of `/proc/<pid>/stat`, all
//! threads), runnable time (on a CPU or waiting for one: the sum of each thread's
//! `/proc/<pid>/task/<tid>/schedstat`) and the operations its tasks have started (their
//! `op` records). A [`Meter`] keeps the samples of the last window: the process spins
//! when, over a whole window, it was runnable more than half the wall time and on a CPU
//! more than a quarter of it, and its tasks started fewer than three operations: busy
//! without progress, a loop that retries without parking — a frozen loop, or one
//! operation spinning inside. (On a shared, busy machine a spinning process waits for a
//! CPU much of the time, so CPU time alone under-reads it; a scenario that is busy
//! moving megabytes, in a debug build say, starts operations all the while.) It hangs
//! when the scenario runs past its limit.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::report::{self, lock};

/// The window over which CPU use is judged.
pub(crate) const WINDOW: Duration = Duration::from_millis(300);

/// How often samples are taken.
pub(crate) const EVERY: Duration = Duration::from_millis(25);

/// A process's use of the CPUs, and its progress, so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Load {
    /// On a CPU.
    pub(crate) cpu: Duration,
    /// On a CPU or waiting in a run queue for one.
    pub(crate) runnable: Duration,
    /// Operations its tasks started.
    pub(crate) ops: u64,
}

impl Load {
    /// The load between `earlier` and `self`.
    fn since(self, earlier: Load) -> Load {
        Load {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            runnable: self.runnable.saturating_sub(earlier.runnable),
            ops: self.ops.saturating_sub(earlier.ops),
        }
    }

    /// Whether this load over `wall` is a spin.
    pub(crate) fn is_spin(self, wall: Duration) -> bool {
        self.runnable * 2 > wall && self.cpu * 4 > wall && self.ops < 3
    }
}

/// What the samples say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing wrong.
    Fine,
    /// Ran past its limit.
    Hang(Duration),
    /// This load in the last `wall`.
    Spin {
        /// The load in the window.
        load: Load,
        /// The window's wall time.
        wall: Duration,
    },
}

/// The samples of one watched scenario.
#[derive(Debug)]
pub(crate) struct Meter {
    /// When the scenario started.
    start: Instant,
    /// Past this, it hangs.
    limit: Duration,
    /// (time, load so far) of the last window.
    samples: VecDeque<(Instant, Load)>,
}

impl Meter {
    /// A meter for a scenario starting now, allowed `limit`.
    pub(crate) fn new(limit: Duration) -> Meter {
        Meter {
            start: Instant::now(),
            limit,
            samples: VecDeque::new(),
        }
    }

    /// Adds the sample `load` (so far) taken at `now`, and judges.
    pub(crate) fn sample(&mut self, now: Instant, load: Load) -> Verdict {
        self.samples.push_back((now, load));
        while self.samples.len() > 2 && now - self.samples[1].0 >= WINDOW {
            self.samples.pop_front();
        }
        if now - self.start > self.limit {
            return Verdict::Hang(now - self.start);
        }
        let (t0, l0) = self.samples[0];
        let (wall, used) = (now - t0, load.since(l0));
        match wall >= WINDOW && used.is_spin(wall) {
            true => Verdict::Spin { load: used, wall },
            false => Verdict::Fine,
        }
    }
}

/// The CPU use of process `pid` (a number, or `self`) so far, if it is still there
/// (its progress is the caller's to fill in).
pub(crate) fn load_of(pid: &str) -> Option<Load> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let cpu = cpu_from_stat(&stat)?;
    let mut runnable = Duration::ZERO;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let text = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        let (on_cpu, waiting) = (fields.next().unwrap_or(0), fields.next().unwrap_or(0));
        runnable += Duration::from_nanos(on_cpu + waiting);
    }
    Some(Load {
        cpu,
        runnable,
        ops: 0,
    })
}

/// This process's load so far.
pub(crate) fn own_load() -> Load {
    let load = load_of("self").unwrap_or_default();
    Load {
        ops: report::ops_made(),
        ..load
    }
}

/// `utime + stime` from a `/proc/<pid>/stat` line (fields 14 and 15; the command name
/// in parentheses may hold spaces, so fields are counted after its `)`).
fn cpu_from_stat(text: &str) -> Option<Duration> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = ticks_per_second();
    Some(Duration::from_micros((utime + stime) * 1_000_000 / ticks))
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 nearly everywhere).
fn ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        // SAFETY: sysconf has no preconditions; it only reads a system constant.
        let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if n > 0 { n as u64 } else { 100 }
    })
}

/// The scenario a self-watching process is running: its seed, or `u64::MAX` between
/// scenarios.
static WATCHED: AtomicU64 = AtomicU64::new(u64::MAX);

/// When the watched scenario started (reset by [`watch`]).
static SINCE: Mutex<Option<Instant>> = Mutex::new(None);

/// Starts watching this process (once): a thread that ends the process with a report
/// when the scenario being run (see [`watch`]) hangs or spins.
pub(crate) fn watch_self(limit: Duration) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        thread::Builder::new()
            .name("chaos-watchdog".into())
            .spawn(move || self_watch_loop(limit))
            .expect("a thread for the watchdog");
    });
}

/// Marks the start of scenario `seed` (or, with `None`, the end of one).
pub(crate) fn watch(seed: Option<u64>) {
    *lock(&SINCE) = seed.map(|_| Instant::now());
    WATCHED.store(seed.unwrap_or(u64::MAX), Ordering::SeqCst);
}

/// The self-watching thread's loop.
fn self_watch_loop(limit: Duration) {
    let mut current = (u64::MAX, None::<Meter>);
    loop {
        thread::sleep(EVERY);
        let seed = WATCHED.load(Ordering::SeqCst);
        if seed != current.0 {
            current = (seed, (seed != u64::MAX).then(|| Meter::new(limit)));
        }
        let Some(meter) = current.1.as_mut() else {
            continue;
        };
        let verdict = meter.sample(Instant::now(), own_load());
        if verdict != Verdict::Fine {
            die(seed, verdict);
        }
    }
}

/// Reports a hang or spin of scenario `seed` with every task's last operation, and
/// ends the process.
fn die(seed: u64, verdict: Verdict) -> ! {
    report::violation(describe(verdict));
    for line in report::last_ops() {
        println!("  last op {line}");
    }
    println!("replay: chaos --replay {seed}");
    std::process::exit(3);
}

/// A verdict in words.
pub(crate) fn describe(verdict: Verdict) -> String {
    match verdict {
        Verdict::Fine => "fine".into(),
        Verdict::Hang(t) => format!("hang: the scenario ran {t:.1?} (limit exceeded)"),
        Verdict::Spin { load, wall } => format!(
            "spin: runnable {:.0?} (on a CPU {:.0?}) of {wall:.0?}, {} operations started \
             (busy without progress: a loop that does not park)",
            load.runnable, load.cpu, load.ops
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_window_is_a_spin_and_an_idle_one_is_not() {
        let mut m = Meter::new(Duration::from_secs(10));
        let t = m.start;
        let ms = Duration::from_millis;
        let load = |n| Load {
            cpu: ms(n),
            runnable: ms(n),
            ops: 7,
        };
        assert_eq!(m.sample(t, load(0)), Verdict::Fine);
        assert_eq!(m.sample(t + ms(400), load(50)), Verdict::Fine);
        let spin = Verdict::Spin {
            load: Load {
                ops: 0,
                ..load(350)
            },
            wall: ms(400),
        };
        assert_eq!(m.sample(t + ms(800), load(400)), spin);
        let busy = Load {
            ops: 20,
            ..load(800)
        };
        assert_eq!(
            m.sample(t + ms(1200), busy),
            Verdict::Fine,
            "progress is no spin"
        );
    }

    #[test]
    fn stat_lines_parse_even_with_odd_names() {
        let line = "42 (a b) c) S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        let want = Duration::from_micros(300 * 1_000_000 / ticks_per_second());
        assert_eq!(cpu_from_stat(line), Some(want));
    }
}

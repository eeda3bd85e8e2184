//! Counting a server's syscalls for a window: `perf stat` on the syscall tracepoints, or
//! `strace -c -f` as the fallback.
//!
//! Either tool is attached to the server's PID (all its threads) after loadgen has
//! connected and stopped with `SIGINT` once loadgen has printed its result, so the count
//! covers the timed window and the drain of the messages in flight, not connection setup or
//! teardown. `perf` counts in the kernel and barely slows the server; `strace` stops it at
//! every syscall, so its counts are right but the server runs far slower while counted
//! (which can change how many events each `epoll_wait` returns) — prefer perf.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

/// Syscalls broken out by name when perf is the tool (those the kernel has tracepoints for).
const BREAKDOWN: [&str; 18] = [
    "read",
    "write",
    "readv",
    "writev",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "recvmmsg",
    "sendmmsg",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl",
    "futex",
    "accept4",
    "sched_yield",
    "io_uring_enter",
];
/// How long a tool is given to attach before loadgen starts.
const ATTACH_DELAY: Duration = Duration::from_millis(400);

/// Which tool counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tool {
    /// `perf stat -e raw_syscalls:sys_enter -e syscalls:sys_enter_*`.
    Perf,
    /// `strace -c -f`.
    Strace,
}

impl Tool {
    /// The tool asked for (`auto` tries perf, then strace); `None` for `none` or when
    /// nothing works, with the reason.
    pub(crate) fn choose(requested: &str) -> Result<Tool, String> {
        let perf = perf_works();
        let strace = strace_works();
        match requested {
            "perf" if perf => Ok(Tool::Perf),
            "strace" if strace => Ok(Tool::Strace),
            "auto" if perf => Ok(Tool::Perf),
            "auto" if strace => Ok(Tool::Strace),
            "none" => Err("not counted (--syscalls none)".to_owned()),
            _ => Err(format!(
                "not counted: {requested} unavailable (apt-get install linux-perf or strace; perf \
                 needs tracepoints: perf_event_paranoid <= 1 or root)"
            )),
        }
    }

    /// How the report describes the tool.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Tool::Perf => "`perf stat -e raw_syscalls:sys_enter -p PID` (kernel tracepoint counts)",
            Tool::Strace => "`strace -c -f -p PID` (exact counts; slows the server while attached)",
        }
    }
}

/// A server's syscall counts over a window.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counts {
    /// All syscalls.
    pub(crate) total: u64,
    /// Nonzero counts by syscall name, largest first.
    pub(crate) by_name: Vec<(String, u64)>,
}

/// A counting tool attached to a process.
pub(crate) struct Counter {
    /// The tool's process.
    child: Child,
    /// Which tool.
    tool: Tool,
    /// Where it writes its counts.
    output: PathBuf,
}

impl Counter {
    /// Attaches `tool` to process `pid`, writing to `output`, and gives it time to attach.
    pub(crate) fn attach(tool: Tool, pid: u32, output: &Path) -> Result<Self, String> {
        let _ = fs::remove_file(output);
        let mut command = match tool {
            Tool::Perf => perf_command(pid, output),
            Tool::Strace => strace_command(pid, output),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("starting {tool:?}: {err}"))?;
        thread::sleep(ATTACH_DELAY);
        Ok(Self {
            child,
            tool,
            output: output.to_owned(),
        })
    }

    /// Stops the tool with `SIGINT` and reads its counts.
    pub(crate) fn stop(mut self) -> Result<Counts, String> {
        sock_netbench::interrupt(self.child.id()).map_err(|err| format!("stopping: {err}"))?;
        let status = self.child.wait().map_err(|err| format!("waiting: {err}"))?;
        let text = fs::read_to_string(&self.output)
            .map_err(|err| format!("{:?} wrote nothing ({status}): {err}", self.tool))?;
        let counts = match self.tool {
            Tool::Perf => parse_perf(&text),
            Tool::Strace => parse_strace(&text),
        };
        counts.ok_or_else(|| format!("cannot read {:?} output: {}", self.tool, text.trim()))
    }
}

/// `perf stat` in CSV mode on the total and the broken-out tracepoints that exist here.
fn perf_command(pid: u32, output: &Path) -> Command {
    let mut command = Command::new("perf");
    command.args(["stat", "-x", ",", "-o"]).arg(output);
    command.args(["-e", "raw_syscalls:sys_enter"]);
    let available = available_tracepoints();
    for name in BREAKDOWN {
        let event = format!("syscalls:sys_enter_{name}");
        if available.contains(&format!("{event}\n")) {
            command.arg("-e").arg(event);
        }
    }
    command.arg("-p").arg(pid.to_string());
    command
}

/// `strace -c -f` attached to every thread of `pid`.
fn strace_command(pid: u32, output: &Path) -> Command {
    let mut command = Command::new("strace");
    command.args(["-c", "-f", "-o"]).arg(output);
    command.arg("-p").arg(pid.to_string());
    command
}

/// The kernel's tracepoint list, each line ending in a newline; empty when unreadable.
fn available_tracepoints() -> String {
    [
        "/sys/kernel/tracing/available_events",
        "/sys/kernel/debug/tracing/available_events",
    ]
    .iter()
    .find_map(|path| fs::read_to_string(path).ok())
    .unwrap_or_default()
}

/// Parses `perf stat -x ,` output: `count,unit,event,...` per line.
fn parse_perf(text: &str) -> Option<Counts> {
    let mut counts = Counts::default();
    let mut saw_total = false;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(value), Some(event)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u64>() else {
            continue;
        };
        if *event == "raw_syscalls:sys_enter" {
            counts.total = value;
            saw_total = true;
        } else if let Some(name) = event.strip_prefix("syscalls:sys_enter_") {
            counts.by_name.push((name.to_owned(), value));
        }
    }
    saw_total.then(|| sorted(counts))
}

/// Parses the `strace -c` table: `% time seconds usecs/call calls [errors] syscall`.
fn parse_strace(text: &str) -> Option<Counts> {
    let mut counts = Counts::default();
    let mut saw_total = false;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 5 || fields[0].parse::<f64>().is_err() {
            continue;
        }
        let (Ok(calls), Some(&name)) = (fields[3].parse::<u64>(), fields.last()) else {
            continue;
        };
        if name == "total" {
            counts.total = calls;
            saw_total = true;
        } else {
            counts.by_name.push((name.to_owned(), calls));
        }
    }
    saw_total.then(|| sorted(counts))
}

/// Drops zero counts and sorts the rest, largest first.
fn sorted(mut counts: Counts) -> Counts {
    counts.by_name.retain(|(_, n)| *n > 0);
    counts
        .by_name
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// Whether `perf stat` can count the syscall tracepoint here.
fn perf_works() -> bool {
    let output = Command::new("perf")
        .args([
            "stat",
            "-x",
            ",",
            "-e",
            "raw_syscalls:sys_enter",
            "--",
            "true",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output();
    let Ok(output) = output else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stderr);
    output.status.success() && parse_perf(&text).is_some_and(|c| c.total > 0)
}

/// Whether `strace` is installed.
fn strace_works() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_csv_gives_total_and_breakdown() {
        let text = "# started on Mon\n\n1234,,raw_syscalls:sys_enter,100,100.00,,\n\
                    600,,syscalls:sys_enter_read,100,100.00,,\n0,,syscalls:sys_enter_futex,1,1,,\n\
                    <not counted>,,syscalls:sys_enter_write,0,0,,\n";
        let counts = parse_perf(text).unwrap();
        assert_eq!(counts.total, 1234);
        assert_eq!(counts.by_name, vec![("read".to_owned(), 600)]);
    }

    #[test]
    fn strace_table_gives_total_with_and_without_errors_column() {
        let text = "% time     seconds  usecs/call     calls    errors syscall\n\
                    ------ ----------- ----------- --------- --------- ----------------\n \
                    60.00    0.006000           3      2000           write\n \
                    40.00    0.004000           2      2100       100 read\n\
                    ------ ----------- ----------- --------- --------- ----------------\n\
                    100.00    0.010000           2      4100       100 total\n";
        let counts = parse_strace(text).unwrap();
        assert_eq!(counts.total, 4100);
        assert_eq!(counts.by_name[0], ("read".to_owned(), 2100));
        assert_eq!(counts.by_name[1], ("write".to_owned(), 2000));
    }

    #[test]
    fn output_without_a_total_is_rejected() {
        assert!(parse_perf("12,,syscalls:sys_enter_read,1,1,,\n").is_none());
        assert!(parse_strace("nothing here\n").is_none());
    }
}

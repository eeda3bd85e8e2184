//! Whether a soak passed, and its report: frames intact, every failure named and
//! explained by a fault of the proxy, the server's memory and fds flat.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use sock_tests::harness::child::word;

use crate::client::Totals;

/// Memory growth allowed between the warm-up and the end sample: this, or a tenth of
/// the warm-up figure if more (allocator noise; a leak per connection is far more
/// over a soak's tens of thousands of connections).
const RSS_SLACK_KIB: u64 = 2048;

/// The server's memory and fds at one moment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) rss_kib: u64,
    pub(crate) fds: usize,
}

/// Everything a soak saw.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// `churn` or `faults`.
    pub(crate) kind: &'static str,
    pub(crate) seed: u64,
    pub(crate) clients: u32,
    pub(crate) duration: Duration,
    pub(crate) totals: Totals,
    /// Before the load, after the warm-up, at the end of the load, settled after it.
    pub(crate) samples: [Sample; 4],
    /// The proxy's output: fault lines, errors, its stats.
    pub(crate) proxy_lines: Vec<String>,
}

/// Prints the report; `Err` with the problems if there are any.
pub(crate) fn judge(outcome: &Outcome) -> Result<(), String> {
    let problems = problems(outcome);
    report(outcome, problems.len());
    for problem in &problems {
        println!("    {problem}");
    }
    match problems.len() {
        0 => Ok(()),
        n => Err(format!("{n} problems (seed {})", outcome.seed)),
    }
}

/// What is wrong, if anything.
fn problems(outcome: &Outcome) -> Vec<String> {
    let totals = &outcome.totals;
    let mut found: Vec<String> = totals
        .corrupt
        .iter()
        .map(|c| format!("corrupted: {c}"))
        .collect();
    if totals.frames == 0 {
        found.push("no frame was echoed".into());
    }
    let errors = outcome
        .proxy_lines
        .iter()
        .filter(|l| l.starts_with("error"));
    found.extend(errors.map(|l| format!("proxy: {l}")));
    unexplained(outcome, &mut found);
    flat(outcome, &mut found);
    found
}

/// Failures without a name, or without a fault of the proxy on their connection
/// (named by its number, or by its port when cut before its first frame).
fn unexplained(outcome: &Outcome, found: &mut Vec<String>) {
    let faults = outcome
        .proxy_lines
        .iter()
        .filter(|l| l.starts_with("fault"));
    let mut ids = HashSet::new();
    let mut ports = HashSet::new();
    for line in faults {
        match word(line, "conn") {
            Some("-") | None => ports.insert(word(line, "port").unwrap_or_default().to_string()),
            Some(id) => ids.insert(id.to_string()),
        };
    }
    for f in &outcome.totals.failures {
        let explained = ids.contains(&f.conn.to_string()) || ports.contains(&f.port.to_string());
        if f.name == "other" || f.name == "timeout" || !explained {
            found.push(format!(
                "{} failure: connection {} (port {}) {} failed with {} after {} frames",
                if explained { "unnamed" } else { "unexplained" },
                f.conn,
                f.port,
                f.op,
                f.name,
                f.frames
            ));
        }
    }
}

/// The server's memory and fds: flat from the warm-up to the end, fds back to the
/// number before the load once it settled.
fn flat(outcome: &Outcome, found: &mut Vec<String>) {
    let [before, warm, end, settled] = outcome.samples;
    let slack = RSS_SLACK_KIB.max(warm.rss_kib / 10);
    if end.rss_kib > warm.rss_kib + slack {
        found.push(format!(
            "server memory grew: {} KiB after the warm-up, {} KiB at the end (slack {slack})",
            warm.rss_kib, end.rss_kib
        ));
    }
    let in_flight = outcome.clients as usize;
    if end.fds > warm.fds + in_flight {
        found.push(format!(
            "server fds grew: {} after the warm-up, {} at the end ({in_flight} connections may be open)",
            warm.fds, end.fds
        ));
    }
    if settled.fds > before.fds {
        found.push(format!(
            "server fds leaked: {} before the load, {} after it settled",
            before.fds, settled.fds
        ));
    }
}

/// The report's lines.
fn report(outcome: &Outcome, problems: usize) {
    let t = &outcome.totals;
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &t.failures {
        *names.entry(f.name).or_default() += 1;
    }
    let named: Vec<String> = names.iter().map(|(n, c)| format!("{n}x{c}")).collect();
    let [before, warm, end, settled] = outcome.samples;
    let stats = outcome.proxy_lines.iter().find(|l| l.starts_with("stats"));
    println!(
        "  clients: connections={} frames={} failed={} [{}] corrupted={}",
        t.connections,
        t.frames,
        t.failures.len(),
        named.join(" "),
        t.corrupt.len()
    );
    println!("  proxy: {}", stats.map_or("(no stats)", String::as_str));
    println!(
        "  server rss KiB: before {} | after warm-up {} | at end {} | settled {}",
        before.rss_kib, warm.rss_kib, end.rss_kib, settled.rss_kib
    );
    println!(
        "  server fds: before {} | after warm-up {} | at end {} | settled {}",
        before.fds, warm.fds, end.fds, settled.fds
    );
    println!(
        "summary: soak={} seed={} duration={}s connections={} frames={} failed={} \
         corrupted={} rss_kib={}->{} fds={}->{} problems={problems}",
        outcome.kind,
        outcome.seed,
        outcome.duration.as_secs(),
        t.connections,
        t.frames,
        t.failures.len(),
        t.corrupt.len(),
        warm.rss_kib,
        end.rss_kib,
        before.fds,
        settled.fds
    );
}

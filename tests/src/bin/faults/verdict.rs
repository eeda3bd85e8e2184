//! Whether a run passed: no hang, no spin, no corrupted byte, and errors exactly as
//! the fault's [`Expect`] says.

use crate::cases::{Case, Expect};
use crate::supervise::Report;

/// A process using this share of one core, or more, over a run or while idle spins.
const SPIN_SHARE: f64 = 0.5;

/// The kinds a connection may fail with when its peer failed (on purpose).
const KNOCK_ON: [&str; 2] = ["eof", "connection_reset"];

/// The problems of the run `report` of `case` with `clients` clients; none when it
/// passed.
pub(crate) fn problems(case: &Case, report: &Report, clients: u32) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(why) = &report.hang {
        found.push(format!(
            "did not finish (a hang, or the run could not start): {why}"
        ));
        return found;
    }
    let told = report.clients_ok as usize + report.failed.len() + report.corrupt.len();
    if told != clients as usize {
        found.push(format!("{told} of {clients} clients reported"));
    }
    spin(report, &mut found);
    found.extend(report.corrupt.iter().map(|l| format!("corrupted: {l}")));
    unnamed(report, &mut found);
    match case.fault.expect {
        Expect::Retried => silent(report, &mut found),
        Expect::Parks => {
            silent(report, &mut found);
            explained_stalls(case, report, clients, &mut found);
        }
        Expect::Surfaces(kind) => surfaces(case, kind, report, &mut found),
    }
    found
}

/// A CPU share of half a core or more, over the run or while idle.
fn spin(report: &Report, found: &mut Vec<String>) {
    let (run, idle) = (report.cpu_share, report.idle_share);
    if run >= SPIN_SHARE {
        found.push(format!("spin: {:.0}% of a core over the run", run * 100.0));
    }
    if idle >= SPIN_SHARE {
        found.push(format!("spin: {:.0}% of a core while idle", idle * 100.0));
    }
}

/// Errors that surfaced without a kind of their own (`other`: an `EINTR` or
/// `EAGAIN` that leaked out), or as a timeout (a wait that never ended).
fn unnamed(report: &Report, found: &mut Vec<String>) {
    for s in &report.surfaced {
        let leaked = s.errno == libc::EINTR || s.errno == libc::EAGAIN;
        if s.name == "other" || s.name == "timeout" || leaked {
            found.push(format!(
                "surfaced as {} (errno {}): {}",
                s.name, s.errno, s.line
            ));
        }
    }
}

/// `Retried` and `Parks`: nothing may surface and every client must finish.
fn silent(report: &Report, found: &mut Vec<String>) {
    for s in &report.surfaced {
        found.push(format!("should not surface: {}", s.line));
    }
}

/// `Parks`: each stall is explained by an injection (a fake `EAGAIN` leaves one
/// operation parked until the client's nudge); more stalls than injections can
/// explain mean a wakeup was lost. A fake `EAGAIN` on a read or write parks one
/// connection, so it explains one stall; on `accept` it parks the listener with every
/// connection queued behind it (no new edge comes until the nudge's connection), so it
/// explains a stall of each client.
fn explained_stalls(case: &Case, report: &Report, clients: u32, found: &mut Vec<String>) {
    let per_injection = match case.fault.syscalls {
        "accept4" => u64::from(clients),
        _ => 1,
    };
    let explained = report.injected as u64 * per_injection;
    if report.stalls > explained {
        found.push(format!(
            "{} stalls, only {explained} explained by {} injections ({per_injection} each)",
            report.stalls, report.injected
        ));
    }
}

/// `Surfaces(kind)`: `kind` once per injection, only knock-on failures besides;
/// a failed accept costs no client, other failures one client each at most.
fn surfaces(case: &Case, kind: &str, report: &Report, found: &mut Vec<String>) {
    let named = report.surfaced.iter().filter(|s| s.name == kind).count();
    if named != report.injected {
        found.push(format!(
            "{} injected, `{kind}` surfaced {named} times",
            report.injected
        ));
    }
    let stray = report.surfaced.iter().filter(|s| s.name != kind);
    for s in stray.filter(|s| !KNOCK_ON.contains(&s.name.as_str())) {
        found.push(format!("unexpected error: {}", s.line));
    }
    let allowed = match case.fault.syscalls {
        "accept4" => 0,
        _ => report.injected,
    };
    if report.failed.len() > allowed {
        found.push(format!(
            "{} clients failed, {allowed} may: {:?}",
            report.failed.len(),
            report.failed
        ));
    }
}

/// One line on a run that passed.
pub(crate) fn note(report: &Report) -> String {
    let mut names: Vec<&str> = report.surfaced.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    format!(
        "injected {}, surfaced [{}], clients {} ok {} failed, stalls {}, cpu {:.0}% idle {:.0}%, {:.1}s",
        report.injected,
        names.join(" "),
        report.clients_ok,
        report.failed.len(),
        report.stalls,
        report.cpu_share * 100.0,
        report.idle_share * 100.0,
        report.wall.as_secs_f64()
    )
}

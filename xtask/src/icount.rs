//! `icount`: instructions per operation of the hot paths, counted by callgrind, held
//! to a committed baseline.
//!
//! Throughput swings ±15 % from run to run on a shared machine; the instructions a
//! workload executes do not. The workloads are the `icount` example of
//! `sock-benches` (`benches/examples/icount/`): each runs in one OS thread, over
//! loopback, with no timer that could fire, so a run executes the same instructions
//! every time. `icount list` names them with their iteration count N; each runs under
//! `valgrind --tool=callgrind` with N and with 2N iterations, and
//! (I(2N) − I(N)) / N is its cost per operation: process start, setup and teardown
//! appear in both runs and cancel.
//!
//! sock's numbers are compared with [`BASELINE`] (`name instructions` lines) and the
//! step fails when one grew by more than [`MAX_GROWTH`] %, or has no baseline; tokio's
//! counterparts are printed beside them for the ratio, never guarded (they are not
//! ours to keep). `cargo xtask icount --bless` rewrites the baseline from this run:
//! commit it with the reason the counts moved.
//!
//! What it does not do: count the kernel's work (callgrind sees user space only, so a
//! change that adds a syscall shows as its user-side cost), or say where instructions
//! went — run callgrind on the example by hand and read it with `callgrind_annotate`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::project::Project;
use crate::step::{Step, StepError, StepResult};

/// The committed counts, relative to the workspace root.
const BASELINE: &str = "benches/icount-baseline.txt";

/// The growth over the baseline, in percent, that fails the step.
const MAX_GROWTH: f64 = 2.0;

/// The release build of the example may compile tokio and criterion from scratch.
const BUILD_TIME_LIMIT: Duration = Duration::from_secs(20 * 60);

/// One run under callgrind takes seconds; a hang must not stall CI.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The lines [`bless`](run) writes above the counts.
const BASELINE_HEADER: &str = "\
# Instructions per operation of sock's hot paths, counted by callgrind over the
# workloads of benches/examples/icount/ (see xtask/src/icount.rs for the method).
# `cargo xtask icount` fails when one grows by more than 2 % over its line here;
# `cargo xtask icount --bless` rewrites this file: commit it with the reason.
";

/// The `icount` step; with `bless`, it rewrites the baseline instead of checking it.
pub(crate) fn step(bless: bool) -> Step {
    Step::new("icount", move |project| run(project, bless)).needs(&["valgrind"])
}

/// One workload as `icount list` names it.
#[derive(Debug, PartialEq)]
struct Bench {
    /// The name in the table and the baseline.
    name: String,
    /// N: the smaller of the two runs' iteration counts.
    iters: u64,
    /// Whether the example has a tokio counterpart.
    tokio: bool,
}

/// One measured bench.
#[derive(Debug)]
struct Measured {
    /// The bench's name.
    name: String,
    /// sock's instructions per operation.
    sock: f64,
    /// tokio's, where it has the workload.
    tokio: Option<f64>,
}

/// Builds the example, measures every bench, then checks or rewrites the baseline.
fn run(project: &Project, bless: bool) -> StepResult {
    let exe = build(project)?;
    let out_dir = project.target_dir.join("icount");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| StepError::failed(format!("{}: {e}", out_dir.display())))?;
    let list = Cmd::new(&exe).arg("list").quiet().read()?;
    let benches = parse_list(&list).map_err(StepError::failed)?;
    println!(
        "valgrind -q --tool=callgrind {} <runtime>:<bench> <N and 2N>",
        exe.display()
    );
    let measured = benches
        .iter()
        .map(|bench| measure(&exe, &out_dir, bench))
        .collect::<Result<Vec<_>, _>>()?;
    let path = project.root.join(BASELINE);
    if bless {
        return write_baseline(&path, &measured);
    }
    check(&path, &measured)
}

/// `cargo build --release -p sock-benches --example icount`; the binary's path.
fn build(project: &Project) -> Result<PathBuf, StepError> {
    let cargo = project.cargo().timeout(BUILD_TIME_LIMIT);
    let args = [
        "build",
        "--release",
        "-p",
        "sock-benches",
        "--example",
        "icount",
    ];
    cargo.args(args).run()?;
    let exe = format!("icount{}", std::env::consts::EXE_SUFFIX);
    Ok(project.target_dir.join("release/examples").join(exe))
}

/// Parses `icount list`: `name iters sock [tokio]` per line.
fn parse_list(text: &str) -> Result<Vec<Bench>, String> {
    let parse = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [name, iters, "sock", rest @ ..] = words.as_slice() else {
            return Err(format!("icount list: bad line `{line}`"));
        };
        let iters = iters
            .parse()
            .map_err(|_| format!("icount list: bad N in `{line}`"))?;
        let tokio = match rest {
            [] => false,
            ["tokio"] => true,
            _ => return Err(format!("icount list: bad runtimes in `{line}`")),
        };
        Ok(Bench {
            name: name.to_string(),
            iters,
            tokio,
        })
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(parse)
        .collect()
}

/// sock's count and tokio's, where the bench has one; each printed as it is known.
fn measure(exe: &Path, out_dir: &Path, bench: &Bench) -> Result<Measured, StepError> {
    let sock = per_op(exe, out_dir, &format!("sock:{}", bench.name), bench.iters)?;
    let tokio = match bench.tokio {
        true => Some(per_op(
            exe,
            out_dir,
            &format!("tokio:{}", bench.name),
            bench.iters,
        )?),
        false => None,
    };
    let name = bench.name.clone();
    Ok(Measured { name, sock, tokio })
}

/// (I(2N) − I(N)) / N for `workload`, to a tenth of an instruction (as the baseline
/// keeps it).
fn per_op(exe: &Path, out_dir: &Path, workload: &str, iters: u64) -> Result<f64, StepError> {
    let once = instructions(exe, out_dir, workload, iters)?;
    let twice = instructions(exe, out_dir, workload, 2 * iters)?;
    let per_op = ((twice as f64 - once as f64) / iters as f64 * 10.0).round() / 10.0;
    println!("  {workload:<26} {per_op:>10.1} instr/op   (N = {iters}: {once} → {twice})");
    Ok(per_op)
}

/// The instructions `icount <workload> <iters>` executes, by callgrind's count.
fn instructions(exe: &Path, out_dir: &Path, workload: &str, iters: u64) -> Result<u64, StepError> {
    let out = out_dir.join(format!("{}.{iters}.out", workload.replace(':', ".")));
    let out_arg = format!("--callgrind-out-file={}", out.display());
    let valgrind = Cmd::new("valgrind").args(["-q", "--tool=callgrind", &out_arg]);
    let valgrind = valgrind.arg(exe).arg(workload).arg(iters.to_string());
    valgrind.quiet().timeout(RUN_TIME_LIMIT).run()?;
    let text = std::fs::read_to_string(&out)
        .map_err(|e| StepError::failed(format!("{}: {e}", out.display())))?;
    parse_total(&text)
        .ok_or_else(|| StepError::failed(format!("{}: no `totals:` line", out.display())))
}

/// The total of a callgrind out file: its `totals:` line, else its `summary:` line.
pub(crate) fn parse_total(text: &str) -> Option<u64> {
    let line = |key: &str| {
        let value = text.lines().find_map(|l| l.strip_prefix(key))?;
        value.split_whitespace().next()?.parse().ok()
    };
    line("totals:").or_else(|| line("summary:"))
}

/// Writes this run's sock counts as the new baseline and shows them.
fn write_baseline(path: &Path, measured: &[Measured]) -> StepResult {
    print!("{}", table(measured, &[]));
    let lines: String = measured
        .iter()
        .map(|m| format!("{} {:.1}\n", m.name, m.sock))
        .collect();
    std::fs::write(path, format!("{BASELINE_HEADER}{lines}"))
        .map_err(|e| StepError::failed(format!("{}: {e}", path.display())))?;
    Ok(format!(
        "wrote {BASELINE}: commit it with the reason the counts moved"
    ))
}

/// Compares sock's counts with the baseline at `path`: fails on growth over
/// [`MAX_GROWTH`] % and on a bench the baseline does not list.
fn check(path: &Path, measured: &[Measured]) -> StepResult {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let baseline = parse_baseline(&text).map_err(StepError::failed)?;
    print!("{}", table(measured, &baseline));
    let problems = regressions(measured, &baseline);
    if problems.is_empty() {
        let n = measured.len();
        let improved = improvements(measured, &baseline);
        return Ok(format!(
            "{n} benches within {MAX_GROWTH} % of the baseline{improved}"
        ));
    }
    for problem in &problems {
        println!("icount: {problem}");
    }
    let why = format!(
        "{}; `cargo xtask icount --bless` if intended",
        problems.join("; ")
    );
    Err(StepError::failed(why))
}

/// `name instructions` lines; `#` starts a comment.
fn parse_baseline(text: &str) -> Result<Vec<(String, f64)>, String> {
    let content = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim());
    let parse = |line: &str| match line.split_whitespace().collect::<Vec<_>>()[..] {
        [name, count] => match count.parse::<f64>() {
            Ok(count) => Ok((name.to_string(), count)),
            Err(_) => Err(format!("{BASELINE}: bad count in `{line}`")),
        },
        _ => Err(format!(
            "{BASELINE}: expected `name instructions`, got `{line}`"
        )),
    };
    content.filter(|line| !line.is_empty()).map(parse).collect()
}

/// The baseline's count for `name`.
fn baseline_of(baseline: &[(String, f64)], name: &str) -> Option<f64> {
    baseline
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, count)| *count)
}

/// Growth of `now` over `base`, in percent.
fn delta(now: f64, base: f64) -> f64 {
    (now - base) / base * 100.0
}

/// One line per bench that grew by more than [`MAX_GROWTH`] % or has no baseline.
fn regressions(measured: &[Measured], baseline: &[(String, f64)]) -> Vec<String> {
    let problem = |m: &Measured| match baseline_of(baseline, &m.name) {
        None => Some(format!("{} has no baseline", m.name)),
        Some(base) if delta(m.sock, base) > MAX_GROWTH => Some(format!(
            "{} regressed {:+.1} % ({base:.1} → {:.1} instructions per operation)",
            m.name,
            delta(m.sock, base),
            m.sock
        )),
        Some(_) => None,
    };
    measured.iter().filter_map(problem).collect()
}

/// `"; a, b improved over 2 %: --bless"` when some did, else empty: a lower baseline
/// keeps the gain from being spent unnoticed.
fn improvements(measured: &[Measured], baseline: &[(String, f64)]) -> String {
    let improved = |m: &&Measured| {
        baseline_of(baseline, &m.name).is_some_and(|b| delta(m.sock, b) < -MAX_GROWTH)
    };
    let names: Vec<&str> = measured.iter().filter(improved).map(|m| &*m.name).collect();
    match names.is_empty() {
        true => String::new(),
        false => format!(
            "; {} improved over {MAX_GROWTH} %: --bless",
            names.join(", ")
        ),
    }
}

/// The table: bench, sock and tokio per operation, their ratio, baseline, delta.
fn table(measured: &[Measured], baseline: &[(String, f64)]) -> String {
    let mut out = format!(
        "\n{:<18}  {:>13}  {:>14}  {:>10}  {:>8}  {:>8}\n",
        "bench", "sock instr/op", "tokio instr/op", "sock/tokio", "baseline", "delta"
    );
    for m in measured {
        let tokio = m.tokio.map_or("—".to_string(), |t| format!("{t:.1}"));
        let ratio = m
            .tokio
            .map_or("—".to_string(), |t| format!("{:.2}×", m.sock / t));
        let base = baseline_of(baseline, &m.name);
        let base_text = base.map_or("—".to_string(), |b| format!("{b:.1}"));
        let delta = base.map_or("—".to_string(), |b| format!("{:+.2} %", delta(m.sock, b)));
        out += &format!(
            "{:<18}  {:>13.1}  {tokio:>14}  {ratio:>10}  {base_text:>8}  {delta:>8}\n",
            m.name, m.sock
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &str, sock: f64, tokio: Option<f64>) -> Measured {
        Measured {
            name: name.to_string(),
            sock,
            tokio,
        }
    }

    #[test]
    fn the_list_names_each_bench_with_its_runtimes() {
        let list = parse_list("echo 2000 sock tokio\nrun_after 10000 sock\n\n").unwrap();
        assert_eq!(
            list,
            [
                Bench {
                    name: "echo".into(),
                    iters: 2000,
                    tokio: true
                },
                Bench {
                    name: "run_after".into(),
                    iters: 10000,
                    tokio: false
                },
            ]
        );
        assert!(parse_list("echo many sock").is_err());
        assert!(parse_list("echo 10 tokio").is_err());
        assert!(parse_list("echo 10 sock smol").is_err());
    }

    #[test]
    fn the_total_comes_from_the_out_file() {
        let out = "version: 1\nevents: Ir\nsummary: 421755\nfn=main\n1 5\ntotals: 421755\n";
        assert_eq!(parse_total(out), Some(421_755));
        assert_eq!(parse_total("events: Ir\nsummary: 12\n"), Some(12));
        assert_eq!(parse_total("events: Ir\n"), None);
    }

    #[test]
    fn growth_over_two_percent_or_no_baseline_fails() {
        let text = format!("{BASELINE_HEADER}echo 4000\nudp 800 # a comment\n");
        let baseline = parse_baseline(&text).unwrap();
        assert_eq!(baseline_of(&baseline, "udp"), Some(800.0));
        let within = [
            measured("echo", 4079.0, Some(4400.0)),
            measured("udp", 700.0, None),
        ];
        assert!(regressions(&within, &baseline).is_empty());
        assert_eq!(
            improvements(&within, &baseline),
            "; udp improved over 2 %: --bless"
        );
        let grown = [measured("echo", 4081.0, None), measured("new", 1.0, None)];
        let problems = regressions(&grown, &baseline);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("echo regressed +2.0 %"));
        assert_eq!(problems[1], "new has no baseline");
        assert!(parse_baseline("echo").is_err() && parse_baseline("echo x").is_err());
    }

    #[test]
    fn the_table_shows_the_ratio_and_the_delta() {
        let rows = [
            measured("echo", 4022.0, Some(4437.0)),
            measured("udp", 836.0, None),
        ];
        let text = table(&rows, &[("echo".to_string(), 4000.0)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].starts_with("echo") && lines[2].ends_with("0.91×    4000.0   +0.55 %"));
        assert_eq!(lines[1].split_whitespace().nth(3), Some("tokio"));
        assert!(lines[3].ends_with("—         —         —"));
    }
}

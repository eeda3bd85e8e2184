//! The command line: `cargo xtask <command> [args]`, parsed by hand (std-only).

/// What `cargo xtask help` prints.
pub(crate) const HELP: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci                  every step below (but bench), then a step/result/seconds table
  fmt                 cargo fmt --all --check
  clippy [TARGET...]  clippy -D warnings on the host and the cross targets
                      (TARGET: host, or a target triple; default: all four)
  test                nextest (or cargo test) on the workspace, then the doctests
  doc                 cargo doc --workspace --no-deps with RUSTDOCFLAGS=-D warnings,
                      then no example on sock's pages names a layer crate
  package             cargo package (and verify) the library crates
  bench-smoke         every criterion benchmark once, in --test mode
  icount [--bless]    instructions per operation of the hot paths under callgrind,
                      sock beside tokio; fails when sock's grow over 2 % above
                      benches/icount-baseline.txt (--bless rewrites it: commit it
                      with the reason)
  icount --servers [--secs N] [--conns C] [--only sock,tokio_ct,...]
                      user-space instructions per echo round trip of the network
                      bench's servers (sock's echo_server, tokio current_thread, smol,
                      raw mio, C epoll), each under callgrind while loadgen (outside
                      valgrind) drives C connections (64) x 64 B for N s (4) and 2N s;
                      prints a table with the ratio to tokio. Not a CI step: the counts
                      depend on how many events each wait returns, so they move
                      between runs (smol's by up to 20 %)
  bench [ARGS...]     cargo bench -p sock-benches [ARGS...] (criterion's own flags after --)
  chaos [ARGS...]     the randomized API-sequence tester, 180 s on fresh seeds (ARGS go
                      to the tester instead, e.g. --replay SEED or --seeds N --seconds S)
  sim [--seeds N] [--start S] [--process] [--swarm]
                      the sim_echo example (echo under seeded faults on sock::sim)
                      over N seeds (default 1,000 from 0) in release, each in its own
                      process with --process; prints seeds/s and a failure's replay
  deps                the facade's default dependency graph holds only allowed crates
  features            cargo test -p sock with no feature, each feature alone, all together
  tidy                house rules: //! headers, SAFETY comments, banned macros,
                      platform cfgs only in sys/ and os.rs, crate layering
  setup-tools         apt-get every outside program a step runs (curl, wrk, openssl,
                      mingw, Wine, ...); other commands run it first for what they lack
  miri                the OS-free unsafe code (sock-sched's raw task) under miri
  faults [ARGS...]    syscall faults injected with strace into an echo server and its
                      clients, both socket modes (~3 min; ARGS go to the program,
                      e.g. --only shared:sendto --round 2)
  soak                the echo_server example under 2 min of connection churn through
                      a proxy, then 2 min with the proxy's faults
  asan                AddressSanitizer + LeakSanitizer over sock's, sock-sched's and
                      sock-tests' tests (nightly)
  tsan                ThreadSanitizer over the multi-threading suites (nightly, build-std)
  fuzz                every cargo-fuzz target of tests/fuzz for 60 s (installs cargo-fuzz)
  setup-wine          prepare a Wine prefix for the Windows tests (idempotent)
  wine-test [ARGS...] cargo test --target x86_64-pc-windows-gnu under Wine
                      (ARGS replace --workspace --exclude xtask, e.g. -p sock-sched)
  help                this text

environment:
  CI=true             a step that cannot run fails instead of being skipped
  CARGO_TARGET_DIR    honoured; the Wine prefix lives in <target-dir>/wine-prefix
  SOCK_FAULTS_SEED    replays a faults run (its seed is printed first)
  SOCK_SOAK_SEED      replays a soak's faults and payloads";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Every step, in order.
    Ci,
    /// `cargo fmt --check`.
    Fmt,
    /// Clippy on the given targets (`host` or triples); empty means all.
    Clippy(Vec<String>),
    /// Tests and doctests.
    Test,
    /// Rustdoc with warnings denied.
    Doc,
    /// `cargo package` of the library crates.
    Package,
    /// Criterion benches once each in test mode.
    BenchSmoke,
    /// Instruction counts against the baseline; `bless` rewrites the baseline.
    Icount {
        /// Rewrite `benches/icount-baseline.txt` instead of checking it.
        bless: bool,
    },
    /// Instructions per echo round trip of the network bench's servers under load.
    IcountServers(crate::icount_servers::ServerLoad),
    /// Real benchmark runs, arguments passed through to `cargo bench`.
    Bench(Vec<String>),
    /// The house rules.
    Tidy,
    /// The facade's default dependency graph.
    Deps,
    /// The facade's tests per feature set.
    Features,
    /// The randomized tester, with its arguments.
    Chaos(Vec<String>),
    /// The simulated echo workload over many seeds.
    Sim(crate::sim::SimArgs),
    /// The Wine prefix.
    SetupWine,
    /// The outside programs the steps run.
    SetupTools,
    /// OS-free `unsafe` code under miri.
    Miri,
    /// Syscall fault injection, with arguments for the program.
    Faults(Vec<String>),
    /// The churn and fault soaks.
    Soak,
    /// The facade's and the scheduler's tests under AddressSanitizer.
    Asan,
    /// The multi-threading suites under ThreadSanitizer.
    Tsan,
    /// Every fuzz target for a minute.
    Fuzz,
    /// The Windows tests under Wine, with optional `cargo test` selection arguments.
    WineTest(Vec<String>),
    /// Print [`HELP`].
    Help,
}

/// Parses the arguments after the program name.
///
/// # Errors
///
/// An unknown command, or arguments given to a command that takes none.
pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let Some(name) = args.next() else {
        return Ok(Command::Help);
    };
    let rest: Vec<String> = args.collect();
    let command = match name.as_str() {
        "clippy" => return Ok(Command::Clippy(rest)),
        "bench" => return Ok(Command::Bench(rest)),
        "wine-test" => return Ok(Command::WineTest(rest)),
        "icount" => return icount(rest),
        "faults" => return Ok(Command::Faults(rest)),
        "ci" => Command::Ci,
        "fmt" => Command::Fmt,
        "test" => Command::Test,
        "doc" => Command::Doc,
        "package" => Command::Package,
        "bench-smoke" => Command::BenchSmoke,
        "tidy" => Command::Tidy,
        "deps" => Command::Deps,
        "features" => Command::Features,
        "chaos" => return Ok(Command::Chaos(rest)),
        "sim" => return crate::sim::parse(&rest).map(Command::Sim),
        "setup-wine" => Command::SetupWine,
        "setup-tools" => Command::SetupTools,
        "miri" => Command::Miri,
        "soak" => Command::Soak,
        "asan" => Command::Asan,
        "tsan" => Command::Tsan,
        "fuzz" => Command::Fuzz,
        "help" | "-h" | "--help" => Command::Help,
        other => return Err(format!("unknown command `{other}`")),
    };
    match rest.first() {
        Some(extra) => Err(format!("`{name}` takes no arguments, got `{extra}`")),
        None => Ok(command),
    }
}

/// `icount` with no argument, `--bless`, or `--servers` and its flags.
fn icount(rest: Vec<String>) -> Result<Command, String> {
    match rest.as_slice() {
        [] => Ok(Command::Icount { bless: false }),
        [bless] if bless == "--bless" => Ok(Command::Icount { bless: true }),
        [servers, flags @ ..] if servers == "--servers" => {
            crate::icount_servers::parse(flags).map(Command::IcountServers)
        }
        [other, ..] => Err(format!(
            "`icount` takes only `--bless` or `--servers`, got `{other}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse_str("ci"), Ok(Command::Ci));
        assert_eq!(parse_str("bench-smoke"), Ok(Command::BenchSmoke));
        assert_eq!(parse_str("icount"), Ok(Command::Icount { bless: false }));
        assert_eq!(
            parse_str("icount --bless"),
            Ok(Command::Icount { bless: true })
        );
        assert_eq!(
            parse_str("icount --servers --secs 8"),
            Ok(Command::IcountServers(crate::icount_servers::ServerLoad {
                secs: 8,
                ..Default::default()
            }))
        );
        assert_eq!(parse_str("soak"), Ok(Command::Soak));
        assert_eq!(
            parse_str("faults --only shared:sendto"),
            Ok(Command::Faults(vec![
                "--only".into(),
                "shared:sendto".into()
            ]))
        );
        assert_eq!(parse_str("tsan"), Ok(Command::Tsan));
        assert!(matches!(parse_str("sim --seeds 5 --process"), Ok(Command::Sim(a)) if a.process));
        assert_eq!(parse_str(""), Ok(Command::Help));
        assert_eq!(
            parse_str("clippy host x86_64-apple-darwin"),
            Ok(Command::Clippy(vec![
                "host".into(),
                "x86_64-apple-darwin".into()
            ]))
        );
        assert_eq!(
            parse_str("bench -- --save-baseline main"),
            Ok(Command::Bench(vec![
                "--".into(),
                "--save-baseline".into(),
                "main".into()
            ]))
        );
    }

    #[test]
    fn bad_command_lines_are_errors() {
        assert!(
            parse_str("frobnicate")
                .unwrap_err()
                .contains("unknown command")
        );
        assert!(
            parse_str("icount --save")
                .unwrap_err()
                .contains("only `--bless`")
        );
        assert!(
            parse_str("fmt --fix")
                .unwrap_err()
                .contains("takes no arguments")
        );
    }
}

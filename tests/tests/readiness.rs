//! Readiness is a hint, the syscall is the verdict (`DESIGN.md` §1): the regression
//! tests of issue 11, in both threading modes (loop mode: `sock::run`, `sock::tcp`,
//! `sock::udp`; shared-poller mode: `SharedLoop`, `SharedTcp`, `SharedUdp`).
//!
//! An event must only wake a waiter: the `EPOLLOUT|EPOLLHUP` epoll reports for a fresh,
//! unconnected socket, or the `EPOLLERR` of an ICMP port-unreachable, must leave no mark
//! that makes a later operation retry a would-block syscall without parking (a frozen
//! loop at 100 % CPU), and a connect's outcome must come from the socket (`SO_ERROR`,
//! the peer address), never from readiness alone. So each scenario ends in an operation
//! with nothing to do: it must give `Timeout` at its deadline while the process spends
//! well under half that time on the CPU.
//!
//! A frozen loop spins inside the operation and never reaches its deadline, and a
//! spinning thread cannot be stopped, so every scenario runs in a child process — this
//! test binary re-executed for that one test — which the parent kills after
//! [`WATCHDOG`], reporting the CPU time it burnt. The blackholed connects run in a
//! network namespace of their own, where a veth whose neighbour never answers swallows
//! the SYNs (no internet needed); where namespaces or iproute2's `ip` are missing the
//! test says so, and fails when `CI` is set (as `addr_netns` does).
//!
//! Linux only: the namespace, the CPU clocks and `/proc` are Linux's. `localhost` is
//! tried over IPv4 only: `/etc/hosts` need not name `::1` so. Unix streams are tried in
//! both modes (a `SharedTcp` of `Family::UNIX`).

#![cfg(target_os = "linux")]

use std::fmt::Debug;
use std::fs::File;
use std::future::Future;
use std::io;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sock::sched::mt;
use sock::{
    ErrorKind, Expires, Family,
    shared::{SharedTcp, SharedUdp},
};
use sock_tests::harness::netns;
use sock_tests::{PATIENCE, loopback, on_shared_loop};

/// The deadline of the final operation, which has nothing to do.
const QUIET: Duration = Duration::from_millis(200);
/// The deadline of a connect to a blackholed address.
const BLACKHOLE_DEADLINE: Duration = Duration::from_millis(300);
/// A loop turn: it delivers the events pending so far (a fresh socket's, an ICMP error's).
const TURN: Duration = Duration::from_millis(10);
/// How long a scenario may run before it counts as frozen (they take about a second).
const WATCHDOG: Duration = Duration::from_secs(15);
/// The environment variable that makes the re-executed binary run the scenario.
const CHILD_ENV: &str = "SOCK_READINESS_CHILD";

#[test]
fn loop_tcp_v4_recv_after_connect_times_out_quietly() {
    isolated("loop_tcp_v4_recv_after_connect_times_out_quietly", || {
        in_loop(loop_tcp(Family::INET, "127.0.0.1"))
    });
}

#[test]
fn loop_tcp_v4_recv_after_connect_to_localhost_times_out_quietly() {
    isolated(
        "loop_tcp_v4_recv_after_connect_to_localhost_times_out_quietly",
        || in_loop(loop_tcp(Family::INET, "localhost")),
    );
}

#[test]
fn loop_tcp_v6_recv_after_connect_times_out_quietly() {
    isolated("loop_tcp_v6_recv_after_connect_times_out_quietly", || {
        in_loop(loop_tcp(Family::INET6, "::1"))
    });
}

#[test]
fn loop_unix_stream_recv_after_connect_times_out_quietly() {
    isolated(
        "loop_unix_stream_recv_after_connect_times_out_quietly",
        || {
            let path = temp_path("loop-stream");
            in_loop(loop_tcp(Family::UNIX, leak(path.clone())));
            let _ = std::fs::remove_file(path);
        },
    );
}

#[test]
fn loop_udp_v4_refused_once_then_recv_times_out_quietly() {
    isolated(
        "loop_udp_v4_refused_once_then_recv_times_out_quietly",
        || in_loop(loop_udp(Family::INET)),
    );
}

#[test]
fn loop_udp_v6_refused_once_then_recv_times_out_quietly() {
    isolated(
        "loop_udp_v6_refused_once_then_recv_times_out_quietly",
        || in_loop(loop_udp(Family::INET6)),
    );
}

#[test]
fn loop_tcp_v4_connect_to_a_blackhole_times_out() {
    isolated("loop_tcp_v4_connect_to_a_blackhole_times_out", || {
        in_blackhole_namespace(|| in_loop(loop_blackhole(Family::INET)))
    });
}

#[test]
fn loop_tcp_v6_connect_to_a_blackhole_times_out() {
    isolated("loop_tcp_v6_connect_to_a_blackhole_times_out", || {
        in_blackhole_namespace(|| in_loop(loop_blackhole(Family::INET6)))
    });
}

/// The repro: a loop turn between the socket's creation and its connect, then
/// a `recv` with nothing to read (`host` is a path for [`Family::UNIX`]).
async fn loop_tcp(family: Family, host: &str) -> sock::Result<()> {
    let (l, port) = if family == Family::UNIX {
        let l = sock::tcp(family)?;
        l.listen(host, 0)?;
        (l, 0)
    } else {
        sock_tests::listener(family)
    };
    let c = sock::tcp(family)?;
    sock::sleep(TURN).await;
    c.connect(host, port).timeout(PATIENCE).await?;
    let _s = l.accept().timeout(PATIENCE).await?;
    let mut buf = [0u8; 8];
    times_out_quietly("recv", c.recv(&mut buf).timeout(QUIET)).await;
    Ok(())
}

/// A connected UDP socket whose datagram is refused (ICMP port-unreachable), with a
/// loop turn that delivers the error's event: the next `recv` reports the error, the
/// one after waits quietly.
async fn loop_udp(family: Family) -> sock::Result<()> {
    let u = sock::udp(family)?;
    u.bind(loopback(family), 0)?;
    let gone = sock::udp(family)?;
    gone.bind(loopback(family), 0)?;
    let port = gone.local_addr()?.port();
    drop(gone); // nobody listens there any more
    u.connect(loopback(family), port).await?;
    u.send(b"void").await?;
    sock::sleep(TURN).await; // the loop sees the ICMP error before any recv
    let mut buf = [0u8; 8];
    let first = u.recv(&mut buf).timeout(PATIENCE).await;
    assert_kind(&first, ErrorKind::ConnectionRefused, "the first recv");
    times_out_quietly("the second recv", u.recv(&mut buf).timeout(QUIET)).await;
    Ok(())
}

/// A connect whose SYNs go unanswered: `Timeout` at its deadline, not `Ok`.
async fn loop_blackhole(family: Family) -> sock::Result<()> {
    let c = sock::tcp(family)?;
    sock::sleep(TURN).await;
    let connect = c.connect(blackhole(family), 9).timeout(BLACKHOLE_DEADLINE);
    let waited = times_out_quietly("connect to a blackhole", connect).await;
    assert_waited_for_the_deadline(waited);
    Ok(())
}

#[test]
fn shared_tcp_v4_recv_after_connect_times_out_quietly() {
    isolated("shared_tcp_v4_recv_after_connect_times_out_quietly", || {
        on_shared_loop(shared_tcp(Family::INET, "127.0.0.1"))
    });
}

#[test]
fn shared_tcp_v4_recv_after_connect_to_localhost_times_out_quietly() {
    isolated(
        "shared_tcp_v4_recv_after_connect_to_localhost_times_out_quietly",
        || on_shared_loop(shared_tcp(Family::INET, "localhost")),
    );
}

#[test]
fn shared_tcp_v6_recv_after_connect_times_out_quietly() {
    isolated("shared_tcp_v6_recv_after_connect_times_out_quietly", || {
        on_shared_loop(shared_tcp(Family::INET6, "::1"))
    });
}

#[test]
fn shared_unix_stream_recv_after_connect_times_out_quietly() {
    isolated(
        "shared_unix_stream_recv_after_connect_times_out_quietly",
        || {
            let path = temp_path("shared-stream");
            on_shared_loop(shared_tcp(Family::UNIX, leak(path.clone())));
            let _ = std::fs::remove_file(path);
        },
    );
}

#[test]
fn shared_udp_v4_refused_once_then_recv_times_out_quietly() {
    isolated(
        "shared_udp_v4_refused_once_then_recv_times_out_quietly",
        || on_shared_loop(shared_udp(Family::INET)),
    );
}

#[test]
fn shared_udp_v6_refused_once_then_recv_times_out_quietly() {
    isolated(
        "shared_udp_v6_refused_once_then_recv_times_out_quietly",
        || on_shared_loop(shared_udp(Family::INET6)),
    );
}

#[test]
fn shared_tcp_v4_connect_to_a_blackhole_times_out() {
    isolated("shared_tcp_v4_connect_to_a_blackhole_times_out", || {
        in_blackhole_namespace(|| on_shared_loop(shared_blackhole(Family::INET)))
    });
}

#[test]
fn shared_tcp_v6_connect_to_a_blackhole_times_out() {
    isolated("shared_tcp_v6_connect_to_a_blackhole_times_out", || {
        in_blackhole_namespace(|| on_shared_loop(shared_blackhole(Family::INET6)))
    });
}

/// The repro on a shared loop (`host` is a path for [`Family::UNIX`]).
async fn shared_tcp(family: Family, host: &'static str) -> sock::Result<()> {
    let l = SharedTcp::new(family)?;
    let port = if family == Family::UNIX {
        l.listen(host, 0)?;
        0
    } else {
        l.listen(loopback(family), 0)?;
        l.local_addr()?.port()
    };
    let c = SharedTcp::new(family)?;
    mt::sleep(TURN).await;
    c.connect(host, port).timeout(PATIENCE).await?;
    let _s = l.accept().timeout(PATIENCE).await?;
    let mut buf = [0u8; 8];
    times_out_quietly("recv", c.recv(&mut buf).timeout(QUIET)).await;
    Ok(())
}

/// [`loop_udp`] on a shared loop.
async fn shared_udp(family: Family) -> sock::Result<()> {
    let u = SharedUdp::new(family)?;
    u.bind(loopback(family), 0)?;
    let gone = SharedUdp::new(family)?;
    gone.bind(loopback(family), 0)?;
    let to = gone.local_addr()?;
    drop(gone); // nobody listens there any more
    u.connect_to(&to)?;
    u.send(b"void").await?;
    mt::sleep(TURN).await; // the poller reports the ICMP error before any recv
    let mut buf = [0u8; 8];
    let first = u.recv(&mut buf).timeout(PATIENCE).await;
    assert_kind(&first, ErrorKind::ConnectionRefused, "the first recv");
    times_out_quietly("the second recv", u.recv(&mut buf).timeout(QUIET)).await;
    Ok(())
}

/// [`loop_blackhole`] on a shared loop.
async fn shared_blackhole(family: Family) -> sock::Result<()> {
    let c = SharedTcp::new(family)?;
    mt::sleep(TURN).await;
    let connect = c.connect(blackhole(family), 9).timeout(BLACKHOLE_DEADLINE);
    let waited = times_out_quietly("connect to a blackhole", connect).await;
    assert_waited_for_the_deadline(waited);
    Ok(())
}

/// Awaits `op`, which has nothing to do, and asserts that it gave `Timeout` and that
/// the process spent less than half the wait on the CPU; how long it waited.
async fn times_out_quietly<F, T>(what: &str, op: F) -> Duration
where
    F: Future<Output = sock::Result<T>>,
    T: Debug,
{
    let (started, cpu_before) = (Instant::now(), process_cpu_time());
    let r = op.await;
    let (wall, cpu) = (started.elapsed(), process_cpu_time() - cpu_before);
    println!("{what}: {r:?} after {wall:?}, {cpu:?} on the CPU");
    assert_kind(&r, ErrorKind::Timeout, what);
    assert!(
        cpu < wall / 2,
        "{what}: the wait burnt {cpu:?} of CPU in {wall:?}: something retries a \
         would-block syscall without parking"
    );
    wall
}

fn assert_kind<T: Debug>(r: &sock::Result<T>, kind: ErrorKind, what: &str) {
    match r {
        Err(e) if e.kind() == kind => {}
        other => panic!("{what}: expected {kind:?}, got {other:?}"),
    }
}

/// A connect to a blackhole fails at its deadline, not before (deadlines never fire
/// early; 10 ms of slack for the clocks), and not much after.
fn assert_waited_for_the_deadline(waited: Duration) {
    let early = BLACKHOLE_DEADLINE - Duration::from_millis(10);
    assert!(
        waited >= early,
        "the connect gave up after {waited:?}, before its deadline"
    );
    assert!(waited < PATIENCE, "the connect took {waited:?}");
}

/// The CPU time of this process (every thread: a shared loop's task may spin on
/// either worker).
fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`; the clock id is a constant Linux has.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime: {}", io::Error::last_os_error());
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `scenario` in a child process (this binary, running only test `name`), or,
/// in that child, runs it here.
///
/// # Panics
///
/// If the scenario failed, or froze: no result within [`WATCHDOG`].
fn isolated(name: &str, scenario: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        scenario();
        return;
    }
    println!("{}", run_child(name));
}

/// Re-executes this binary for test `name`; its output, asserting that it passed.
fn run_child(name: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let log_path =
        std::env::temp_dir().join(format!("sock-readiness-{}-{name}.log", std::process::id()));
    let log = File::create(&log_path).expect("create the child's log");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log handle"))
        .stderr(log)
        .spawn()
        .expect("re-execute the test binary");
    let status = wait_at_most(&mut child, WATCHDOG);
    let burnt = status.is_none().then(|| cpu_time_of(child.id()));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    match status {
        None => panic!(
            "{name} froze: no result within {WATCHDOG:?}, having burnt {} of CPU \
             (a loop retrying a would-block syscall?); killed it. Its output:\n{out}",
            burnt.map_or("an unknown amount".to_owned(), |t| format!("{t:?}"))
        ),
        Some(s) => assert!(s.success(), "{name} failed ({s}):\n{out}"),
    }
    assert!(out.contains("1 passed"), "the child ran no test:\n{out}");
    out
}

/// Waits for `child` to exit, for at most `limit`; its status, or `None` if still running.
fn wait_at_most(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// The CPU time (user + system) process `pid` has used, from `/proc/<pid>/stat`.
fn cpu_time_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name's closing parenthesis: state is 0, utime 11.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    // SAFETY: `sysconf` only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let total: u64 = fields.iter().sum();
    Duration::from_millis(total * 1000 / ticks)
}

/// Addresses on a veth link whose neighbour (a made-up MAC, entered by hand) is
/// nobody: SYNs sent there vanish.
fn blackhole(family: Family) -> &'static str {
    if family == Family::INET6 {
        "fd99::2"
    } else {
        "10.99.0.2"
    }
}

/// `ip` commands that make the blackhole in a fresh network namespace.
const BLACKHOLE_SETUP: &[&str] = &[
    "link set lo up",
    "link add sock-v0 type veth peer name sock-v1",
    "addr add 10.99.0.1/24 dev sock-v0",
    "-6 addr add fd99::1/64 dev sock-v0 nodad",
    "link set sock-v0 up",
    "link set sock-v1 up",
    "neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev sock-v0 nud permanent",
    "-6 neigh add fd99::2 lladdr 02:00:00:00:00:02 dev sock-v0 nud permanent",
];

/// Runs `scenario` in a new network namespace holding the [`blackhole`] addresses; if
/// none can be made, says so (and fails when `CI` is set).
fn in_blackhole_namespace(scenario: impl FnOnce()) {
    if netns::entered(enter_blackhole_namespace(), "cannot make the blackhole") {
        scenario()
    }
}

/// Moves this thread (and the threads and processes it starts) into a new network
/// namespace and builds the blackhole there.
fn enter_blackhole_namespace() -> io::Result<()> {
    netns::unshare_net()?;
    netns::ip_each(BLACKHOLE_SETUP)
}

/// Runs `scenario` on this thread's loop (the loop mode).
///
/// # Panics
///
/// If the scenario's I/O failed.
fn in_loop(scenario: impl Future<Output = sock::Result<()>>) {
    sock::run(scenario).expect("the scenario's I/O failed");
}

/// A fresh path for a unix socket.
fn temp_path(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("sock-readiness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_str().expect("a UTF-8 temp dir").to_owned()
}

/// A `'static` copy of `s` (the child process runs one scenario, then exits).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

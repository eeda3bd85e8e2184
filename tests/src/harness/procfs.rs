//! Readings of another process from Linux's `/proc`: CPU time (to catch a spinning
//! loop), resident memory and open fds (to catch a leak). Elsewhere they fail with
//! `NotFound`, as a missing `/proc/<pid>` does.

use std::io;
use std::time::Duration;

/// The CPU time (user + system, all threads, living and exited) process `pid` has
/// used: fields 14 and 15 of `/proc/<pid>/stat`, in clock ticks.
///
/// # Errors
///
/// The process is gone, or there is no `/proc`.
///
/// # Examples
///
/// ```
/// # if !cfg!(target_os = "linux") { return; }
/// let used = sock_tests::harness::procfs::cpu_time(std::process::id()).unwrap();
/// assert!(used < std::time::Duration::from_secs(3600));
/// ```
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces and parentheses: count after its end.
    let after_name = stat.rfind(')').map_or("", |end| &stat[end + 1..]);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let (Some(user), Some(system)) = (field(14), field(15)) else {
        return Err(io::Error::other(format!("unexpected /proc/{pid}/stat")));
    };
    let ticks = user + system;
    let per_second = clock_ticks_per_second();
    Ok(Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second))
}

/// The resident set size of process `pid` in KiB (`VmRSS` of `/proc/<pid>/status`).
///
/// # Errors
///
/// The process is gone, or there is no `/proc`.
///
/// # Examples
///
/// ```
/// # if !cfg!(target_os = "linux") { return; }
/// assert!(sock_tests::harness::procfs::rss_kib(std::process::id()).unwrap() > 0);
/// ```
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"));
    let kib = line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
    kib.ok_or_else(|| io::Error::other(format!("no VmRSS in /proc/{pid}/status")))
}

/// How many fds process `pid` has open (entries of `/proc/<pid>/fd`).
///
/// # Errors
///
/// The process is gone, or there is no `/proc`.
///
/// # Examples
///
/// ```
/// # if !cfg!(target_os = "linux") { return; }
/// assert!(sock_tests::harness::procfs::fd_count(std::process::id()).unwrap() >= 3);
/// ```
pub fn fd_count(pid: u32) -> io::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// `sysconf(_SC_CLK_TCK)`: the unit of the CPU times in `/proc/<pid>/stat`.
#[cfg(unix)]
fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// Linux's `USER_HZ` everywhere: there is no `/proc` to read with it anyway.
#[cfg(not(unix))]
fn clock_ticks_per_second() -> u64 {
    100
}

/// Lowers this process's soft fd limit to 256 and opens `/dev/null` until the process
/// is out of fds (`EMFILE`); the files give the fds back when dropped. For tests that
/// need a process with no fd left (each such test runs in a child process).
///
/// # Panics
///
/// If the limit cannot be read or set, or `/dev/null` fails with another error.
///
/// # Examples
///
/// ```no_run
/// let files = sock_tests::harness::procfs::fill_fds();
/// assert!(std::fs::File::open("/dev/null").is_err()); // out of fds
/// drop(files);
/// ```
#[cfg(unix)]
pub fn fill_fds() -> Vec<std::fs::File> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to fill.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0, "getrlimit");
    limit.rlim_cur = 256;
    // SAFETY: `limit` is a valid rlimit; lowering the soft limit is always allowed.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(set, 0, "setrlimit");
    let mut files = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => files.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return files,
            Err(e) => panic!("open /dev/null: {e}"),
        }
    }
}

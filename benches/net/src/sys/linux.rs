//! Linux: the file-descriptor limit, signals and the clock-tick rate, through libc.
//!
//! Same signatures as `sys/other.rs`; the harness runs only here (it needs `taskset`,
//! `/proc/PID/status` and `perf` or `strace`), and the other file explains so.

use std::io;

/// Does nothing on Linux: the harness runs here.
///
/// # Errors
///
/// Never on Linux; elsewhere, a message that `program` runs only on Linux.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")]
/// sock_netbench::require_linux("loadgen").unwrap();
/// ```
pub fn require_linux(program: &str) -> Result<(), String> {
    let _ = program;
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the new soft limit, so a
/// process can hold thousands of connections.
///
/// # Errors
///
/// When `getrlimit` or `setrlimit` fails.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(sock_netbench::raise_nofile_limit().unwrap() >= 1024);
/// ```
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit` read by the call; raising the soft limit up to
        // the hard one is always permitted.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

/// Sends `SIGINT` to process `pid` (how `perf stat` and `strace -c` are told to stop and
/// print their counts).
///
/// # Errors
///
/// When the process does not exist or may not be signalled, or `pid` is out of range.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// let mut child = std::process::Command::new("sleep").arg("10").spawn().unwrap();
/// sock_netbench::interrupt(child.id()).unwrap();
/// assert!(!child.wait().unwrap().success());
/// # }
/// ```
pub fn interrupt(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) takes plain integers; a positive pid addresses exactly one process.
    if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// How many clock ticks make a second: the unit of the CPU times in `/proc/PID/stat`.
///
/// # Errors
///
/// When `sysconf(_SC_CLK_TCK)` fails.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(sock_netbench::clock_ticks_per_second().unwrap() > 0);
/// ```
pub fn clock_ticks_per_second() -> io::Result<u64> {
    // SAFETY: sysconf(3) takes a plain integer name and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks)
        .ok()
        .filter(|&t| t > 0)
        .ok_or_else(io::Error::last_os_error)
}

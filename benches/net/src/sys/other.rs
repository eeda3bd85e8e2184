//! Not Linux: the harness does not run here (it needs `taskset`, `/proc/PID/status` and
//! `perf` or `strace`); every function says so.
//!
//! Same signatures as `sys/linux.rs`, so the package still checks on every target.

use std::io;

/// The error every function returns here.
fn linux_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the network benchmarks run on linux only",
    )
}

/// Always fails here: `program` runs only on Linux.
///
/// # Errors
///
/// Always, with a message naming `program`.
///
/// # Examples
///
/// ```
/// # #[cfg(not(target_os = "linux"))]
/// assert!(sock_netbench::require_linux("loadgen").is_err());
/// ```
pub fn require_linux(program: &str) -> Result<(), String> {
    Err(format!(
        "{program}: linux only (the network benchmarks need epoll, taskset and /proc)"
    ))
}

/// Always fails here: see `require_linux`.
///
/// # Errors
///
/// Always.
///
/// # Examples
///
/// ```
/// # #[cfg(not(target_os = "linux"))]
/// assert!(sock_netbench::raise_nofile_limit().is_err());
/// ```
pub fn raise_nofile_limit() -> io::Result<u64> {
    Err(linux_only())
}

/// Always fails here: see `require_linux`.
///
/// # Errors
///
/// Always.
///
/// # Examples
///
/// ```
/// # #[cfg(not(target_os = "linux"))]
/// assert!(sock_netbench::interrupt(1).is_err());
/// ```
pub fn interrupt(pid: u32) -> io::Result<()> {
    let _ = pid;
    Err(linux_only())
}

/// Always fails here: see `require_linux`.
///
/// # Errors
///
/// Always.
///
/// # Examples
///
/// ```
/// # #[cfg(not(target_os = "linux"))]
/// assert!(sock_netbench::clock_ticks_per_second().is_err());
/// ```
pub fn clock_ticks_per_second() -> io::Result<u64> {
    Err(linux_only())
}

//! Not Linux: the harness does not run here (it needs `taskset`, `/proc/PID/status` and
//! `perf` or `strace`); every function says so, but the datagram batches, which move one
//! datagram per call here.
//!
//! Same signatures as `sys/linux.rs`, so the package still checks on every target.

use std::io::{self, ErrorKind};

use mio::net::UdpSocket;

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
/// assert!(sock_netbench::pin_thread(0).is_err());
/// ```
pub fn pin_thread(cpu: usize) -> io::Result<()> {
    let _ = cpu;
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
/// assert!(sock_netbench::thread_cpu_seconds().is_err());
/// ```
pub fn thread_cpu_seconds() -> io::Result<f64> {
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
/// assert!(sock_netbench::children_cpu_seconds().is_err());
/// ```
pub fn children_cpu_seconds() -> io::Result<f64> {
    Err(linux_only())
}

/// Sends the datagrams laid out in `bytes` (slot `i` at `i * slot`, `lens[i]` long) one
/// `send` at a time; returns how many went.
///
/// # Errors
///
/// When the first could not be sent.
pub(crate) fn send_datagrams(
    socket: &UdpSocket,
    bytes: &[u8],
    slot: usize,
    lens: &[usize],
) -> io::Result<usize> {
    for (i, &len) in lens.iter().enumerate() {
        match socket.send(&bytes[i * slot..i * slot + len]) {
            Ok(_) => {}
            Err(_) if i > 0 => return Ok(i),
            Err(err) => return Err(err),
        }
    }
    Ok(lens.len())
}

/// Receives up to `lens.len()` waiting datagrams one `recv` at a time into `bytes` (slot
/// `i` at `i * slot`), storing each length in `lens`; returns how many came.
///
/// # Errors
///
/// When none was waiting (`WouldBlock`) or the socket failed.
pub(crate) fn recv_datagrams(
    socket: &UdpSocket,
    bytes: &mut [u8],
    slot: usize,
    lens: &mut [usize],
) -> io::Result<usize> {
    for (i, len) in lens.iter_mut().enumerate() {
        match socket.recv(&mut bytes[i * slot..(i + 1) * slot]) {
            Ok(n) => *len = n,
            Err(err) if i > 0 && err.kind() == ErrorKind::WouldBlock => return Ok(i),
            Err(err) => return Err(err),
        }
    }
    Ok(lens.len())
}

/// Always fails here: segmentation offload is Linux's.
///
/// # Errors
///
/// Always.
pub(crate) fn set_segment_size(socket: &UdpSocket, size: usize) -> io::Result<()> {
    let _ = (socket, size);
    Err(linux_only())
}

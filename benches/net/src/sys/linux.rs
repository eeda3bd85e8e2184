//! Linux: the file-descriptor limit, signals, the clock-tick rate, thread pinning, CPU
//! times and batched datagram calls (`sendmmsg`/`recvmmsg`), through libc.
//!
//! Same signatures as `sys/other.rs`; the harness runs only here (it needs `taskset`,
//! `/proc/PID/status` and `perf` or `strace`), and the other file explains so.

use std::io;
use std::os::fd::AsRawFd;
use std::{mem, ptr};

use mio::net::UdpSocket;

use crate::datagrams::MAX_BATCH;

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
/// use std::os::unix::process::{CommandExt, ExitStatusExt};
///
/// let mut sleep = std::process::Command::new("sleep");
/// sleep.arg("10");
/// // A job started in the background by a shell inherits SIGINT ignored: give the
/// // child the default action, so the signal ends it wherever this runs.
/// // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
/// unsafe {
///     sleep.pre_exec(|| {
///         libc::signal(libc::SIGINT, libc::SIG_DFL);
///         Ok(())
///     });
/// }
/// let mut child = sleep.spawn().unwrap();
/// sock_netbench::interrupt(child.id()).unwrap();
/// assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGINT));
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

/// Pins the calling thread to CPU `cpu` (`sched_setaffinity(2)` on the thread alone): what
/// `taskset` does for a whole process, for a benchmark that runs both ends in one.
///
/// # Errors
///
/// When `cpu` is out of range or not one this process may use.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")]
/// std::thread::spawn(|| sock_netbench::pin_thread(0).unwrap()).join().unwrap();
/// ```
pub fn pin_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cpu out of range",
        ));
    }
    // SAFETY: `cpu_set_t` is a plain bit array, valid all zeroes.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `cpu` was checked to be below `CPU_SETSIZE`, the set's size in bits.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    let size = mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid `cpu_set_t` of `size` bytes, read by the call; pid 0 is
    // the calling thread.
    if unsafe { libc::sched_setaffinity(0, size, &set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The CPU time (user + system) the calling thread has used, seconds
/// (`CLOCK_THREAD_CPUTIME_ID`).
///
/// # Errors
///
/// When `clock_gettime` fails.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(sock_netbench::thread_cpu_seconds().unwrap() >= 0.0);
/// ```
pub fn thread_cpu_seconds() -> io::Result<f64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec` for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9)
}

/// The CPU time (user + system) of this process's children that have exited and been
/// waited for, seconds (`getrusage(RUSAGE_CHILDREN)`): the difference across one
/// `wait` is that child's CPU time.
///
/// # Errors
///
/// When `getrusage` fails.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// let before = sock_netbench::children_cpu_seconds().unwrap();
/// std::process::Command::new("true").status().unwrap();
/// assert!(sock_netbench::children_cpu_seconds().unwrap() >= before);
/// # }
/// ```
pub fn children_cpu_seconds() -> io::Result<f64> {
    // SAFETY: `rusage` is plain integers, valid all zeroes.
    let mut usage: libc::rusage = unsafe { mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the duration of the call.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Ok(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// Sends the datagrams laid out in `bytes` (slot `i` at `i * slot`, `lens[i]` long) through
/// the connected `socket` with one `sendmmsg(2)`; returns how many went.
///
/// # Errors
///
/// When the first could not be sent.
///
/// # Panics
///
/// When there are more than `MAX_BATCH` datagrams or one lies outside `bytes`.
pub(crate) fn send_datagrams(
    socket: &UdpSocket,
    bytes: &[u8],
    slot: usize,
    lens: &[usize],
) -> io::Result<usize> {
    let mut iovecs = [iovec(ptr::null_mut(), 0); MAX_BATCH];
    for (i, &len) in lens.iter().enumerate() {
        // sendmmsg only reads through the pointer; `iovec` has no read-only variant.
        iovecs[i] = iovec(bytes[i * slot..i * slot + len].as_ptr().cast_mut(), len);
    }
    let mut headers = headers_for(&mut iovecs[..lens.len()]);
    // SAFETY: the first `lens.len()` headers each point at one iovec above, which points
    // into `bytes` (bounds checked by the slicing); all outlive the call, and the count
    // passed is that number of headers.
    let sent = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            lens.len() as libc::c_uint,
            0,
        )
    };
    usize::try_from(sent).map_err(|_| io::Error::last_os_error())
}

/// Receives up to `lens.len()` datagrams waiting on `socket` with one `recvmmsg(2)` into
/// `bytes` (slot `i` at `i * slot`), storing each length in `lens`; returns how many came.
///
/// # Errors
///
/// When none was waiting (`WouldBlock`) or the socket failed.
///
/// # Panics
///
/// When `lens` is longer than `MAX_BATCH` or `bytes` shorter than `lens.len()` slots.
pub(crate) fn recv_datagrams(
    socket: &UdpSocket,
    bytes: &mut [u8],
    slot: usize,
    lens: &mut [usize],
) -> io::Result<usize> {
    let mut iovecs = [iovec(ptr::null_mut(), 0); MAX_BATCH];
    let slots = bytes[..lens.len() * slot].chunks_mut(slot);
    for (entry, chunk) in iovecs.iter_mut().zip(slots) {
        *entry = iovec(chunk.as_mut_ptr(), slot);
    }
    let mut headers = headers_for(&mut iovecs[..lens.len()]);
    // SAFETY: the first `lens.len()` headers each point at one iovec above, which points at
    // a distinct `slot`-byte chunk of `bytes`, writable and alive for the call; the count
    // passed is that number of headers; a null timeout means none.
    let came = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr(),
            lens.len() as libc::c_uint,
            libc::MSG_DONTWAIT,
            ptr::null_mut(),
        )
    };
    let came = usize::try_from(came).map_err(|_| io::Error::last_os_error())?;
    for (len, header) in lens.iter_mut().zip(&headers[..came]) {
        *len = (header.msg_len as usize).min(slot);
    }
    Ok(came)
}

/// An `iovec` for `len` bytes at `base`.
fn iovec(base: *mut u8, len: usize) -> libc::iovec {
    libc::iovec {
        iov_base: base.cast(),
        iov_len: len,
    }
}

/// One `mmsghdr` per iovec, each naming no address (the sockets are connected).
///
/// # Panics
///
/// When there are more than `MAX_BATCH` iovecs.
fn headers_for(iovecs: &mut [libc::iovec]) -> [libc::mmsghdr; MAX_BATCH] {
    // SAFETY: `mmsghdr` is plain C data for which all-zero bytes are a valid value (null
    // pointers, zero lengths and flags).
    let mut headers: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    assert!(
        iovecs.len() <= MAX_BATCH,
        "at most {MAX_BATCH} datagrams a call"
    );
    for (header, iovec) in headers.iter_mut().zip(iovecs) {
        header.msg_hdr.msg_iov = iovec;
        header.msg_hdr.msg_iovlen = 1;
    }
    headers
}

/// Linux's `UDP_SEGMENT` socket option (`include/uapi/linux/udp.h`), absent from libc.
const UDP_SEGMENT: libc::c_int = 103;

/// Makes every send on `socket` longer than `size` bytes leave as one buffer the kernel
/// cuts into `size`-byte datagrams (UDP generic segmentation offload, Linux 4.18).
///
/// # Errors
///
/// When the kernel refuses the option.
pub(crate) fn set_segment_size(socket: &UdpSocket, size: usize) -> io::Result<()> {
    let size = libc::c_int::try_from(size)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "segment size out of range"))?;
    // SAFETY: setsockopt(2) reads `size_of::<c_int>()` bytes from `&size`, a live c_int.
    let done = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_UDP,
            UDP_SEGMENT,
            ptr::from_ref(&size).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match done {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

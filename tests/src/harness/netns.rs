//! Network namespaces for the Linux tests: small steps a test composes into the
//! network it needs (a new namespace, `lo` up, an address, a blackhole route, a private
//! `/etc/resolv.conf` or `/etc/hosts`), the rule for when they cannot be made, and the
//! re-execution of a test binary as a child for one test.
//!
//! `unshare` moves only the calling thread (and the threads it starts later) into the
//! new namespaces, so a test either enters them on a thread of its own, or, where the
//! whole process must be inside (the resolver's pool threads, a bind mount the C
//! library reads), in a child process made by [`run_self_as_child`]. Where namespaces
//! are unavailable (no privilege, no iproute2) a test says so and passes, except when
//! the `CI` environment variable is set: then it fails ([`entered`]).

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;

/// Moves this thread (and the threads it starts) into a new network namespace.
///
/// # Errors
///
/// What `unshare(2)` reports (`EPERM` without `CAP_SYS_ADMIN`).
pub fn unshare_net() -> io::Result<()> {
    // SAFETY: a plain syscall with no pointers; it changes only this thread's namespaces.
    check(unsafe { libc::unshare(libc::CLONE_NEWNET) })
}

/// Moves this thread into new network and mount namespaces, and makes every mount
/// private to the new one, so bind mounts made here ([`private_file`]) stay here.
///
/// # Errors
///
/// What `unshare(2)` or `mount(2)` reports.
pub fn unshare_net_and_mounts() -> io::Result<()> {
    // SAFETY: a plain syscall with no pointers; it changes only this thread's namespaces.
    check(unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) })?;
    mount(None, Path::new("/"), libc::MS_REC | libc::MS_PRIVATE)
}

/// Sets `IFF_UP` on `lo` (a new namespace starts with it down).
///
/// # Errors
///
/// What `socket(2)` or the `SIOCGIFFLAGS`/`SIOCSIFFLAGS` ioctls report.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain syscall with no pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: `fd` is a fresh socket nobody else owns; closed when `_sock` drops.
    let _sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `ifreq` is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `fd` is a socket and `req` a valid `ifreq` naming `lo`.
    check(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: `fd` is a socket and `req` a valid `ifreq` naming `lo`.
    check(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) })
}

/// Adds `addr` (with its prefix, `fe80::1/64`) to device `dev`; an IPv6 address
/// without duplicate address detection, so it is usable at once.
///
/// # Errors
///
/// If `ip` is missing or fails (its stderr).
pub fn add_address(addr: &str, dev: &str) -> io::Result<()> {
    match addr.contains(':') {
        true => ip(&["-6", "addr", "add", addr, "dev", dev, "nodad"]),
        false => ip(&["addr", "add", addr, "dev", dev]),
    }
}

/// Adds a blackhole route to `net` (`10.254.0.0/16`): connects there fail with
/// `EINVAL` at once.
///
/// # Errors
///
/// If `ip` is missing or fails (its stderr).
pub fn add_blackhole_route(net: &str) -> io::Result<()> {
    ip(&["route", "add", "blackhole", net])
}

/// Runs iproute2's `ip <args>`.
///
/// # Errors
///
/// If `ip` cannot be run, or fails: the command and its stderr.
pub fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let args = args.join(" ");
    Err(io::Error::other(format!("ip {args}: {}", stderr.trim())))
}

/// Runs `ip` once for each of `commands`, a command line each (`link set lo up`,
/// split at spaces), stopping at the first that fails.
///
/// # Errors
///
/// The first failing command's [`ip`] error.
pub fn ip_each(commands: &[&str]) -> io::Result<()> {
    commands
        .iter()
        .try_for_each(|line| ip(&line.split(' ').collect::<Vec<_>>()))
}

/// Sets `/proc/sys/<key>` (`net/ipv4/tcp_fastopen`) of this thread's network
/// namespace (`/proc/sys/net` is the writing thread's namespace's).
///
/// # Errors
///
/// What writing the file reports.
pub fn sysctl(key: &str, value: &str) -> io::Result<()> {
    std::fs::write(Path::new("/proc/sys").join(key), value)
}

/// Bind-mounts a private `/etc/resolv.conf` holding `contents` (needs
/// [`unshare_net_and_mounts`] first).
///
/// # Errors
///
/// What writing the temporary file or `mount(2)` reports.
pub fn private_resolv_conf(contents: &str) -> io::Result<()> {
    private_file(Path::new("/etc/resolv.conf"), contents)
}

/// Bind-mounts a private `/etc/hosts` holding `contents` (needs
/// [`unshare_net_and_mounts`] first).
///
/// # Errors
///
/// What writing the temporary file or `mount(2)` reports.
pub fn private_hosts(contents: &str) -> io::Result<()> {
    private_file(Path::new("/etc/hosts"), contents)
}

/// Bind-mounts a file holding `contents` over `target` (needs
/// [`unshare_net_and_mounts`] first, or the whole machine would see it).
///
/// # Errors
///
/// What writing the temporary file or `mount(2)` reports.
pub fn private_file(target: &Path, contents: &str) -> io::Result<()> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = std::env::temp_dir().join(format!("sock-netns-{}-{name}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    let mounted = mount(Some(&tmp), target, libc::MS_BIND);
    let _ = std::fs::remove_file(&tmp); // the bind mount keeps it alive
    mounted
}

/// The rule for namespaces: whether `setup` (the steps that made the namespace)
/// succeeded. If not, says so (`NAMESPACES UNAVAILABLE: <what> (<error>)`) and returns
/// false, so the test ends without running.
///
/// # Panics
///
/// If `setup` failed and the `CI` environment variable is set.
pub fn entered(setup: io::Result<()>, what: &str) -> bool {
    let Err(err) = setup else { return true };
    let msg = format!("NAMESPACES UNAVAILABLE: {what} ({err})");
    assert!(
        std::env::var_os("CI").is_none(),
        "{msg}; failing because CI is set"
    );
    println!("{msg}; this test did not run (set CI=true to make it fail)");
    false
}

/// Runs `scenario` on a thread of its own that `setup` first moved into new namespaces
/// (they end with the thread); if `setup` fails, the rule of [`entered`] with `what`.
///
/// # Panics
///
/// If the thread panicked: `scenario` failed, or `setup` did with `CI` set.
pub fn on_own_thread(
    setup: fn() -> io::Result<()>,
    what: &'static str,
    scenario: impl FnOnce() + Send + 'static,
) {
    let checked = std::thread::spawn(move || {
        if entered(setup(), what) {
            scenario();
        }
    });
    checked.join().expect("the namespace thread");
}

/// Whether this process is the child [`run_self_as_child`] made for `test`.
pub fn is_child(test: &str, env_key: &str) -> bool {
    std::env::var(env_key).as_deref() == Ok(test)
}

/// Re-executes this test binary for test `test` alone, with `env_key=test` set (see
/// [`is_child`]); returns its stdout and stderr.
///
/// # Panics
///
/// If the binary cannot be run, the child failed, or it ran no test.
pub fn run_self_as_child(test: &str, env_key: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(env_key, test)
        .output()
        .expect("re-execute the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{test} failed ({}):\n{text}",
        out.status
    );
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    text
}

/// `mount(2)` of `source` (none for a change of propagation) on `target`.
fn mount(source: Option<&Path>, target: &Path, flags: libc::c_ulong) -> io::Result<()> {
    let c = |p: &Path| CString::new(p.to_str().expect("UTF-8 path")).expect("no NUL");
    let source = source.map(c);
    let target = c(target);
    let src = source.as_ref().map_or(c"none".as_ptr(), |s| s.as_ptr());
    // SAFETY: NUL-terminated strings that outlive the call; null fstype and data are
    // allowed for bind mounts and changes of propagation.
    check(unsafe {
        libc::mount(
            src,
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    })
}

/// `-1` as the OS error, anything else as success.
fn check(res: libc::c_int) -> io::Result<()> {
    match res {
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(()),
    }
}

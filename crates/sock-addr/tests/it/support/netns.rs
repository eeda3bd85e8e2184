//! A private network + mount namespace for one test process: only `lo` (up), the
//! resolver pointed at 127.0.0.1, and optionally extra `/etc/hosts` lines, so lookups
//! that would ask a name server stay on this machine.

use std::ffi::CString;
use std::io;
use std::net::UdpSocket;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::{is_child, run_in_child};

/// Runs `body` in a fresh child process inside new namespaces (see the module docs),
/// with `hosts_extra` appended to the machine's `/etc/hosts`. `test` is the test's full
/// name (`module::function`), used to re-execute just this test.
///
/// Where namespaces are unavailable the child says so, and fails when `CI` is set.
pub(crate) fn run(test: &str, hosts_extra: &str, body: impl FnOnce()) {
    if !is_child(test) {
        let out = run_in_child(test);
        if out.contains("NAMESPACES UNAVAILABLE") {
            println!("{out}");
        }
        return;
    }
    match enter(hosts_extra) {
        Ok(()) => body(),
        Err(err) => unavailable(&err),
    }
}

fn unavailable(err: &io::Error) {
    let msg = format!(
        "NAMESPACES UNAVAILABLE: cannot create a network namespace ({err}); \
                       this test did not run"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg} (failing because CI is set)");
    }
    println!("{msg} (set CI=true to make this a failure)");
}

/// Enters new network and mount namespaces (this thread, and what it starts later).
fn enter(hosts_extra: &str) -> io::Result<()> {
    // SAFETY: plain syscall; affects only this thread's namespaces.
    check(unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) })?;
    mount(None, Path::new("/"), libc::MS_REC | libc::MS_PRIVATE)?;
    loopback_up()?;
    let resolv = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
    bind_file(resolv, Path::new("/etc/resolv.conf"))?;
    let hosts = std::fs::read_to_string("/etc/hosts")? + "\n" + hosts_extra;
    bind_file(&hosts, Path::new("/etc/hosts"))
}

fn check(res: libc::c_int) -> io::Result<()> {
    if res == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().expect("UTF-8 path")).expect("no NUL in path")
}

fn mount(source: Option<&Path>, target: &Path, flags: libc::c_ulong) -> io::Result<()> {
    let source = source.map(c_path);
    let target = c_path(target);
    let src = source.as_ref().map_or(c"none".as_ptr(), |s| s.as_ptr());
    // SAFETY: NUL-terminated strings; null fstype and data are allowed for these flags.
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

/// Writes `contents` to a temporary file and bind-mounts it over `target`.
fn bind_file(contents: &str, target: &Path) -> io::Result<()> {
    let name = target
        .file_name()
        .expect("file target")
        .to_string_lossy()
        .into_owned();
    let tmp: PathBuf =
        std::env::temp_dir().join(format!("sock-addr-{}-{name}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    let res = mount(Some(&tmp), target, libc::MS_BIND);
    let _ = std::fs::remove_file(&tmp); // the mount keeps the file alive
    res
}

/// Sets `IFF_UP` on `lo` (a new namespace starts with it down).
fn loopback_up() -> io::Result<()> {
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: `fd` is a fresh socket nobody else owns; closed when `_sock` drops.
    let _sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `ifreq` is plain data; all-zero is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `fd` is a socket and `req` a valid `ifreq` naming `lo`.
    check(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    check(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) })
}

/// Answers every DNS query on 127.0.0.1:53 with NXDOMAIN ("no such name") after
/// `delay`, from threads, so unknown names fail the way a real name server makes them
/// fail (and, with a delay, stay in flight for a while).
pub(crate) fn serve_nxdomain(delay: Duration) {
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:53").expect("bind the fake name server"));
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80; // QR: this is a response
            reply[3] = (reply[3] & 0x70) | 0x80 | 3; // RA, RCODE 3 = NXDOMAIN
            let sock = sock.clone();
            thread::spawn(move || {
                thread::sleep(delay);
                let _ = sock.send_to(&reply, peer);
            });
        }
    });
}

//! Linux: a copy's bytes moved socket → pipe → socket with `splice(2)`, never entering
//! user space.
//!
//! `splice` into a socket passes no `MSG_NOSIGNAL`: into a connection the peer reset it
//! fails with `EPIPE` *and* raises `SIGPIPE`, which kills a process that has not
//! ignored it (checked on Linux 6.x). So [`Pipe::drain`] blocks `SIGPIPE` on the
//! calling thread around the call and takes back the signal its own `EPIPE` raised,
//! leaving a `SIGPIPE` that was already pending alone, as sock's sends never raise one.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

use socket2::SockRef;

/// A non-blocking pipe, the kernel-side buffer of one direction of a copy.
pub(crate) struct Pipe {
    /// The end `drain` reads.
    read: OwnedFd,
    /// The end `fill` writes.
    write: OwnedFd,
}

impl Pipe {
    /// A non-blocking pipe of at least `size` bytes where the OS allows (the default
    /// 64 KiB otherwise).
    pub(crate) fn new(size: usize) -> io::Result<Pipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `pipe2` succeeded: both fds are open and owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        // SAFETY: `write` is an open pipe; F_SETPIPE_SZ takes an int. Failing (a size
        // over the user's limit) leaves the default size, which works too.
        unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, size) };
        Ok(Pipe { read, write })
    }

    /// Moves up to `len` bytes from `from` into the (empty) pipe; `Ok(0)` at EOF.
    pub(crate) fn fill(&self, from: &SockRef<'_>, len: usize) -> io::Result<usize> {
        splice(from.as_raw_fd(), self.write.as_raw_fd(), len)
    }

    /// Moves up to `len` of the bytes the pipe holds into `to`, without `SIGPIPE`.
    pub(crate) fn drain(&self, to: &SockRef<'_>, len: usize) -> io::Result<usize> {
        without_sigpipe(|| splice(self.read.as_raw_fd(), to.as_raw_fd(), len))
    }
}

/// One non-blocking `splice` from `from` to `to`.
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    // SAFETY: null offsets (both ends are a socket or a pipe); the fds are open for
    // the duration of the call (borrowed from their owners).
    let n = unsafe { libc::splice(from, ptr::null_mut(), to, ptr::null_mut(), len, flags) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Runs `f` with `SIGPIPE` blocked on this thread; a `SIGPIPE` that `f`'s `EPIPE`
/// raised is taken back before the mask is restored.
fn without_sigpipe(f: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
    let pipe = sigpipe_set();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `pipe` is an initialized set; `old` receives the previous mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &pipe, old.as_mut_ptr()) };
    let pending_before = sigpipe_pending();
    let r = f();
    if !pending_before
        && r.as_ref()
            .is_err_and(|e| e.raw_os_error() == Some(libc::EPIPE))
    {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `pipe` and `zero` are initialized; the signal, if pending, is ours.
        unsafe { libc::sigtimedwait(&pipe, ptr::null_mut(), &zero) };
    }
    // SAFETY: `old` was filled by the `pthread_sigmask` above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), ptr::null_mut()) };
    r
}

/// The set holding `SIGPIPE` alone.
fn sigpipe_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `sigemptyset` initializes the set; `sigaddset` adds a valid signal to it.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        set.assume_init()
    }
}

/// Whether a `SIGPIPE` is pending for this thread (or the process).
fn sigpipe_pending() -> bool {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `sigpending` fills the set; `sigismember` reads it.
    unsafe {
        libc::sigpending(set.as_mut_ptr());
        libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

//! The platform half of `sock::io`: a kernel path for a copy's bytes where the OS has
//! one (Linux: `splice(2)` through a pipe, `sys/linux.rs`), none elsewhere
//! (`sys/none.rs`, whose [`Pipe::new`] always fails, so copies take the buffer path).
//!
//! Both expose the same contract: `Pipe::new(size)` makes a non-blocking pipe of about
//! `size` bytes; `fill(from, len)` moves up to `len` bytes from a socket into the empty
//! pipe (`Ok(0)` at EOF); `drain(to, len)` moves up to `len` of the bytes the pipe
//! holds into a socket, never raising `SIGPIPE`. Each returns `WouldBlock` when the
//! socket is not ready, and the caller parks on the socket's readiness.

#[cfg(any(target_os = "linux", target_os = "android"))]
#[path = "sys/linux.rs"]
mod imp;

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[path = "sys/none.rs"]
mod imp;

pub(crate) use imp::Pipe;

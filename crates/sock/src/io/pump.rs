//! [`Pump`]: one direction of a copy — its buffer, the bytes it moved, its EOF
//! forwarding and its claims on the two sockets' waiters.
//!
//! A pump alternates: when its buffer is empty it reads into all of it, then writes
//! what it read until the buffer is empty again, so a reader faster than the writer
//! waits (the buffer is the only queue: no read ahead of a blocked writer). The buffer
//! is allocated on the first poll, once per copy; nothing is allocated per read.

use std::io::Read;
use std::task::{Context, Poll, ready};

use sock_poll::Direction;

use crate::error::Error;
use crate::socket::{Core, Waiter};
use crate::sys;
use crate::tcp::Shutdown;

/// The buffer size of a copy unless [`buffer_size`](super::Copy::buffer_size) says
/// otherwise: a loopback copy runs at the speed of a blocking `read`/`write` loop with
/// it (see `benches/examples/copy_splice.rs`), and many copies at once stay affordable.
pub(crate) const DEFAULT_BUFFER: usize = 64 * 1024;

/// The step of a pump that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Reading from the source.
    Recv,
    /// Writing to the destination.
    Send,
    /// Shutting the destination's writing direction down after the source's EOF.
    Shutdown,
}

impl Step {
    /// The step's name in an error's context.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Step::Recv => "recv",
            Step::Send => "send",
            Step::Shutdown => "shutdown",
        }
    }
}

/// One direction of a copy: from one socket's read side to another's write side.
pub(crate) struct Pump<'a> {
    /// The bytes read and not yet written are `buf[start..end]`; empty until the
    /// first poll allocates it.
    buf: Box<[u8]>,
    /// The size `buf` gets on the first poll.
    size: usize,
    /// The first byte of `buf` not yet written.
    start: usize,
    /// The end of the bytes read into `buf`.
    end: usize,
    /// Bytes written to the destination so far.
    moved: u64,
    /// The source said EOF.
    eof: bool,
    /// Finished: EOF seen, every byte written and the EOF forwarded (when asked to).
    done: bool,
    /// Forward the source's EOF as `shutdown(Write)` of the destination.
    forward_eof: bool,
    /// Some byte was read or written since [`take_progress`](Pump::take_progress).
    progressed: bool,
    /// The source's read waiter (forgotten when the pump is dropped).
    read: Waiter<'a>,
    /// The destination's write waiter (forgotten when the pump is dropped).
    write: Waiter<'a>,
}

impl<'a> Pump<'a> {
    /// A pump from `from` to `to` with a buffer of `size` bytes (allocated on the first
    /// poll).
    pub(crate) fn new(size: usize, from: &'a Core, to: &'a Core) -> Pump<'a> {
        Pump {
            buf: Box::default(),
            size,
            start: 0,
            end: 0,
            moved: 0,
            eof: false,
            done: false,
            forward_eof: true,
            progressed: false,
            read: Waiter::new(from, Direction::Read),
            write: Waiter::new(to, Direction::Write),
        }
    }

    /// Sets the buffer size.
    ///
    /// # Panics
    ///
    /// If `size` is 0, or the pump was already polled.
    pub(crate) fn set_size(&mut self, size: usize) {
        assert!(
            size > 0,
            "sock::io: a copy's buffer_size must be at least 1 byte"
        );
        assert!(
            self.buf.is_empty(),
            "sock::io: call buffer_size before the copy is first polled"
        );
        self.size = size;
    }

    /// Whether the source's EOF becomes `shutdown(Write)` of the destination.
    pub(crate) fn set_forward_eof(&mut self, forward: bool) {
        self.forward_eof = forward;
    }

    /// Bytes written to the destination so far.
    pub(crate) fn moved(&self) -> u64 {
        self.moved
    }

    /// Whether the pump is finished.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Whether a byte moved since the last call; clears the record.
    pub(crate) fn take_progress(&mut self) -> bool {
        std::mem::take(&mut self.progressed)
    }

    /// Moves bytes from `from` to `to` until both would block (`Pending`), the EOF is
    /// forwarded (`Ready(Ok)`), or a step fails.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), (Step, Error)>> {
        if self.buf.is_empty() {
            self.buf = vec![0; self.size].into_boxed_slice();
        }
        while !self.done {
            if self.start < self.end {
                ready!(self.poll_send(cx)).map_err(|e| (Step::Send, e))?;
            } else if self.eof {
                self.finish().map_err(|e| (Step::Shutdown, e))?;
            } else {
                ready!(self.poll_recv(cx)).map_err(|e| (Step::Recv, e))?;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// One read into the whole (empty) buffer.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let buf = &mut self.buf[..];
        let len = buf.len();
        let Waiter { core, wait, .. } = &mut self.read;
        #[cfg(feature = "sim")]
        if let Some(sim) = core.sim_open() {
            match ready!(sim.poll_recv_level(cx, buf))? {
                0 => self.eof = true,
                n => (self.start, self.end, self.progressed) = (0, n, true),
            }
            return Poll::Ready(Ok(()));
        }
        let read = |s: socket2::SockRef<'_>| (&*s).read(buf);
        match ready!(core.poll_stream(Direction::Read, cx, wait, len, read))? {
            0 => self.eof = true,
            n => (self.start, self.end, self.progressed) = (0, n, true),
        }
        Poll::Ready(Ok(()))
    }

    /// One write of what the buffer holds.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let rest = &self.buf[self.start..self.end];
        let send = |s: socket2::SockRef<'_>| s.send_with_flags(rest, sys::SEND_FLAGS);
        let len = rest.len();
        let Waiter { core, wait, .. } = &mut self.write;
        #[cfg(feature = "sim")]
        if let Some(sim) = core.sim_open() {
            let n = ready!(sim.poll_send_level(cx, rest))?;
            self.start += n;
            self.moved += n as u64;
            self.progressed = true;
            return Poll::Ready(Ok(()));
        }
        let n = ready!(core.poll_stream(Direction::Write, cx, wait, len, send))
            .map_err(|e| core.never_connected(e))?;
        self.start += n;
        self.moved += n as u64;
        self.progressed = true;
        Poll::Ready(Ok(()))
    }

    /// The source's EOF with every byte written: forwards it, and the pump is done.
    fn finish(&mut self) -> Result<(), Error> {
        self.done = true;
        #[cfg(feature = "sim")]
        if let Some(sim) = self.write.core.sim_open() {
            return match self.forward_eof {
                true => sim.shutdown(Shutdown::Write),
                false => Ok(()),
            };
        }
        if self.forward_eof {
            self.write.core.with(|s| s.shutdown(Shutdown::Write))?;
        }
        Ok(())
    }
}

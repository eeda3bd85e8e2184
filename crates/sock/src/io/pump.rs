//! [`Pump`]: one direction of a copy — where its bytes wait, the bytes it moved, its
//! EOF forwarding and its claims on the two sockets' waiters.
//!
//! A pump alternates: when it holds nothing it reads as much as it can hold, then
//! writes what it read until it holds nothing again, so a reader faster than the writer
//! waits (no read ahead of a blocked writer). The bytes wait in a buffer allocated on
//! the first poll, once per copy — or, where the OS can move them without user space
//! (Linux), in a pipe made on the first poll instead (see `sys`); nothing is allocated
//! per read.

use std::io::Read;
use std::task::{Context, Poll, ready};

use sock_poll::{Direction, Wait};

use super::sys::Pipe;
use crate::error::Error;
use crate::socket::Core;
use crate::sys;
use crate::tcp::Shutdown;

/// The buffer size of a copy unless [`buffer_size`](super::Copy::buffer_size) says
/// otherwise.
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

/// Where a pump's bytes wait between the read and the write.
enum Hold {
    /// Not polled yet: nothing allocated.
    Unstarted,
    /// A buffer in user space.
    Buffer(Box<[u8]>),
    /// A pipe: the bytes stay in the kernel (`splice`).
    Pipe(Pipe),
}

/// One direction of a copy: from one socket's read side to another's write side.
pub(crate) struct Pump {
    /// Where the bytes read and not yet written wait.
    hold: Hold,
    /// The size of the buffer (or pipe) made on the first poll.
    size: usize,
    /// Try a pipe before a buffer.
    splice: bool,
    /// Of the bytes read into `hold`, the first not yet written…
    start: usize,
    /// … and the end.
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
    /// The claim on the source's read waiter.
    read: Wait,
    /// The claim on the destination's write waiter.
    write: Wait,
}

impl Pump {
    /// A pump holding up to `size` bytes (allocated on the first poll).
    pub(crate) fn new(size: usize) -> Pump {
        Pump {
            hold: Hold::Unstarted,
            size,
            splice: true,
            start: 0,
            end: 0,
            moved: 0,
            eof: false,
            done: false,
            forward_eof: true,
            progressed: false,
            read: Wait::default(),
            write: Wait::default(),
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
        self.assert_unstarted("buffer_size");
        self.size = size;
    }

    /// Whether the pump may move its bytes through a pipe (`splice`).
    pub(crate) fn set_splice(&mut self, splice: bool) {
        self.assert_unstarted("user_space");
        self.splice = splice;
    }

    /// Panics if the pump was polled: its hold is made.
    fn assert_unstarted(&self, what: &str) {
        assert!(
            matches!(self.hold, Hold::Unstarted),
            "sock::io: call {what} before the copy is first polled"
        );
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
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        from: &Core,
        to: &Core,
    ) -> Poll<Result<(), (Step, Error)>> {
        if let Hold::Unstarted = self.hold {
            self.hold = self.make_hold();
        }
        while !self.done {
            if self.start < self.end {
                ready!(self.poll_send(cx, to)).map_err(|e| (Step::Send, e))?;
            } else if self.eof {
                self.finish(to).map_err(|e| (Step::Shutdown, e))?;
            } else {
                ready!(self.poll_recv(cx, from)).map_err(|e| (Step::Recv, e))?;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// A pipe where the OS has `splice` and one can be made, else a buffer.
    fn make_hold(&self) -> Hold {
        match self.splice.then(|| Pipe::new(self.size)) {
            Some(Ok(pipe)) => Hold::Pipe(pipe),
            _ => Hold::Buffer(vec![0; self.size].into_boxed_slice()),
        }
    }

    /// One read of as much as the (empty) hold takes.
    fn poll_recv(&mut self, cx: &mut Context<'_>, from: &Core) -> Poll<Result<(), Error>> {
        let (len, wait) = (self.size, &mut self.read);
        let n = match &mut self.hold {
            Hold::Buffer(buf) => {
                let read = |s: socket2::SockRef<'_>| (&*s).read(buf);
                ready!(from.poll_stream(Direction::Read, cx, wait, len, read))?
            }
            Hold::Pipe(pipe) => {
                let fill = |s: socket2::SockRef<'_>| pipe.fill(&s, len);
                match ready!(from.poll_io(Direction::Read, cx, wait, fill)) {
                    Err(e) if self.moved == 0 && is_unspliceable(&e) => {
                        self.hold = Hold::Buffer(vec![0; len].into_boxed_slice());
                        return Poll::Ready(Ok(())); // the buffer reads next
                    }
                    r => r?,
                }
            }
            Hold::Unstarted => unreachable!("the hold is made on the first poll"),
        };
        match n {
            0 => self.eof = true,
            n => (self.start, self.end, self.progressed) = (0, n, true),
        }
        Poll::Ready(Ok(()))
    }

    /// One write of what the hold holds.
    fn poll_send(&mut self, cx: &mut Context<'_>, to: &Core) -> Poll<Result<(), Error>> {
        let (wait, held) = (&mut self.write, self.end - self.start);
        let sent = match &self.hold {
            Hold::Buffer(buf) => {
                let rest = &buf[self.start..self.end];
                let send = |s: socket2::SockRef<'_>| s.send_with_flags(rest, sys::SEND_FLAGS);
                ready!(to.poll_stream(Direction::Write, cx, wait, held, send))
            }
            Hold::Pipe(pipe) => {
                let drain = |s: socket2::SockRef<'_>| pipe.drain(&s, held);
                ready!(to.poll_io(Direction::Write, cx, wait, drain))
            }
            Hold::Unstarted => unreachable!("the hold is made on the first poll"),
        };
        let n = sent.map_err(|e| to.never_connected(e))?;
        self.start += n;
        self.moved += n as u64;
        self.progressed = true;
        Poll::Ready(Ok(()))
    }

    /// The source's EOF with every byte written: forwards it, and the pump is done.
    fn finish(&mut self, to: &Core) -> Result<(), Error> {
        self.done = true;
        if self.forward_eof {
            to.with(|s| s.shutdown(Shutdown::Write))?;
        }
        Ok(())
    }

    /// Forgets the pump's waiters (the copy was dropped, finished or failed).
    pub(crate) fn forget(&mut self, from: &Core, to: &Core) {
        from.forget(Direction::Read, &mut self.read);
        to.forget(Direction::Write, &mut self.write);
    }
}

/// Whether a first `splice` failed because the socket cannot be spliced (`EINVAL`):
/// the copy then takes the buffer path.
fn is_unspliceable(e: &Error) -> bool {
    e.kind() == crate::ErrorKind::InvalidInput
}

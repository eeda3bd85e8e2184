//! The writer task of an endpoint: runs its planned steps over the [`Endpoint`], keeps
//! the flow's ledger, and checks each outcome against what the API promises.

use std::net::Shutdown;
use std::sync::Arc;

use sock::{ErrorKind, io::OptValue};

use crate::endpoint::{Endpoint, Outcome};
use crate::flow::Flow;
use crate::level;
use crate::options;
use crate::pattern::{self, END_SEQ, HEADER};
use crate::plan::{Cancel, Cut, Span, Steps, Via, Wait, WriteOp};
use crate::report::{Task, op, violation};

/// Runs `ops` on `ep` as `task`, writing `flow`.
pub(crate) async fn writer<E: Endpoint>(ep: E, steps: Steps<WriteOp>, flow: Arc<Flow>, task: Task) {
    let mut w = Writer {
        ep,
        flow,
        task,
        buf: Vec::new(),
        pos: 0,
        closed: false,
        shut: false,
        gave_up: false,
        scoped: false,
    };
    let ops = &steps.ops;
    let mut i = 0;
    while i < ops.len() {
        match steps.scope.filter(|s| s.from == i) {
            Some(span) => {
                let end = (i + span.len).min(ops.len());
                w.scoped(span, &ops[i..end]).await;
                i = end;
            }
            None => {
                w.step(ops[i]).await;
                i += 1;
            }
        }
    }
    w.finish(steps.finish).await;
}

/// A writer's state.
struct Writer<E> {
    /// Its socket.
    ep: E,
    /// The direction it writes.
    flow: Arc<Flow>,
    /// Its name in records.
    task: Task,
    /// The bytes of the current send (capacity reused).
    buf: Vec<u8>,
    /// Streams: the offset of the next byte; datagrams: the next sequence number.
    pos: u64,
    /// It closed (or reset) the socket itself.
    closed: bool,
    /// It shut writing down.
    shut: bool,
    /// A bounded send timed out on a flow cut short: the peer may have stopped reading
    /// for good, so the rest of the sends are skipped.
    gave_up: bool,
    /// Its steps run under a scope deadline now (a send may time out without one of
    /// its own).
    scoped: bool,
}

impl<E: Endpoint> Writer<E> {
    /// Runs `steps` under the scope deadline `span` (a suspension is skipped there: a
    /// scope that ends while the task is suspended would drop the suspension the
    /// resumer counts on).
    async fn scoped(&mut self, span: Span, steps: &[WriteOp]) {
        op(
            self.task,
            format_args!("scope {span:?} over {} steps", steps.len()),
        );
        self.scoped = true;
        let run = async {
            for &step in steps.iter().filter(|&&s| s != WriteOp::Suspend) {
                self.step(step).await;
            }
            Ok(())
        };
        let r = level::scoped::<E::Clock, (), _>(span, run).await;
        self.scoped = false;
        op(self.task, format_args!("scope ended: {r:?}"));
    }

    /// One planned step.
    async fn step(&mut self, step: WriteOp) {
        let task = self.task;
        match step {
            WriteOp::Send(..) if self.gave_up => {}
            WriteOp::Send(len, cut) if self.flow.kind.is_stream() => self.send(len, cut).await,
            WriteOp::Send(len, cut) => self.send_datagram(len, cut).await,
            WriteOp::Pause(ms) => {
                op(task, format_args!("pause {ms}ms"));
                E::pause(u64::from(ms)).await;
            }
            WriteOp::Yield => {
                op(task, format_args!("yield"));
                sock_tests::yield_now().await;
            }
            WriteOp::Suspend => {
                op(task, format_args!("suspend (until the resumer resumes it)"));
                E::suspend().await;
            }
            WriteOp::Shutdown(how) => self.shutdown(how),
            WriteOp::SetOpt(name, arg) => {
                op(task, format_args!("setopt {name} {arg:?}"));
                options::check_set(&self.ep, name, arg, self.closed, self.flow.kind);
            }
            WriteOp::GetOpt(name) => {
                op(task, format_args!("getopt {name}"));
                options::check_get(&self.ep, name, self.closed, self.flow.kind);
            }
            WriteOp::Close => self.close(false),
            WriteOp::Reset => self.close(true),
        }
    }

    /// Sends `len` bytes of the stream from the current offset.
    async fn send(&mut self, len: usize, cut: Cut) {
        self.buf.resize(len, 0);
        pattern::fill(self.flow.key, self.pos, &mut self.buf);
        op(
            self.task,
            format_args!("send {len} {} at {}", show(cut), self.pos),
        );
        let out = self.ep.send(&self.buf, cut).await;
        self.check_send(len, cut, out);
        let moved = out.moved().min(len) as u64;
        self.pos += moved;
        let short = (moved < len as u64).then(|| format!("{out:?} of a {len}-byte send"));
        self.flow.sent(self.pos, short);
        self.gave_up =
            self.flow.abrupt && matches!(cut.wait, Wait::Ms(_)) && out.is(ErrorKind::Timeout);
        self.back_off(cut, out).await;
    }

    /// Checks a stream send's outcome.
    fn check_send(&self, len: usize, cut: Cut, out: Outcome) {
        let name = self.flow.name;
        if out.moved() > len {
            violation(format!("{name}: a {len}-byte send reports {out:?}"));
        }
        match out {
            Outcome::Done(_) if len > 0 && (self.closed || self.shut) => violation(format!(
                "{name}: a {len}-byte send succeeded after this side's close/shutdown"
            )),
            Outcome::Failed { kind, moved } => self.check_failure(kind, moved, cut, len),
            _ => {}
        }
    }

    /// Checks a failed send against the writer's own state and the flow's.
    fn check_failure(&self, kind: ErrorKind, moved: usize, cut: Cut, len: usize) {
        let name = self.flow.name;
        if self.closed && kind != ErrorKind::Closed {
            violation(format!(
                "{name}: a send after close() failed with {kind}, not closed"
            ));
        }
        if (self.closed || self.shut) && moved != 0 {
            violation(format!(
                "{name}: a send after close/shutdown reports {moved} bytes moved"
            ));
        }
        let expected = kind == ErrorKind::Timeout
            || self.closed
            || self.shut
            || self.flow.abrupt
            || (kind == ErrorKind::MessageTooLong && !self.flow.kind.is_stream() && len > 1472);
        if !expected {
            violation(format!(
                "{name}: a {len}-byte send on a clean flow failed with {kind}"
            ));
        }
        if kind == ErrorKind::Timeout && cut.wait == Wait::Unbounded && !self.scoped {
            violation(format!(
                "{name}: a send without a deadline timed out ({})",
                show(cut)
            ));
        }
    }

    /// Sends datagram number `pos` of `len` bytes.
    async fn send_datagram(&mut self, len: usize, cut: Cut) {
        let seq = self.pos as u32;
        self.pos += 1;
        pattern::datagram(self.flow.key, seq, len, &mut self.buf);
        op(
            self.task,
            format_args!("send datagram seq={seq} len={len} {}", show(cut)),
        );
        let out = self.ep.send(&self.buf, cut).await;
        match out {
            Outcome::Done(n) if n == len => {
                if len >= HEADER {
                    self.flow.sent_seq(seq);
                }
            }
            Outcome::Done(n) => violation(format!(
                "{}: a {len}-byte datagram send reports {n} bytes",
                self.flow.name
            )),
            Outcome::Failed { kind, moved } => self.check_failure(kind, moved, cut, len),
            Outcome::Dropped(0) => {}
            Outcome::Dropped(n) => violation(format!(
                "{}: a dropped datagram send reports {n} bytes",
                self.flow.name
            )),
        }
        self.back_off(cut, out).await;
    }

    /// Shuts the stream down (datagram sockets have no shutdown: skipped).
    fn shutdown(&mut self, how: Shutdown) {
        if !self.flow.kind.is_stream() {
            return;
        }
        op(self.task, format_args!("shutdown {how:?}"));
        let r = self.ep.shutdown(how);
        let closed_err = r.as_ref().is_err_and(|e| e.kind() == ErrorKind::Closed);
        if self.closed && !E::SHARED && !closed_err {
            violation(format!(
                "{}: shutdown after close() gave {r:?}, not closed",
                self.flow.name
            ));
        }
        self.shut |= matches!(how, Shutdown::Write | Shutdown::Both);
    }

    /// Closes the socket, with a reset (`so_linger` 0) if `reset`.
    fn close(&mut self, reset: bool) {
        op(self.task, format_args!("close (reset: {reset})"));
        if reset {
            let r = self.ep.setopt("so_linger", OptValue::Int(0));
            if r.is_err() && !self.closed && !self.ep.is_closed() {
                violation(format!("{}: so_linger 0 failed: {r:?}", self.flow.name));
            }
        }
        self.ep.close();
        self.closed = true;
        if !self.ep.is_closed() {
            violation(format!(
                "{}: is_closed() is false after close()",
                self.flow.name
            ));
        }
    }

    /// Ends the flow: a stream shuts writing down (through `via`), a datagram flow sends
    /// its end marker.
    async fn finish(&mut self, via: Via) {
        self.flow.writer_done();
        if self.closed {
            op(self.task, format_args!("done (closed)"));
            return;
        }
        if self.flow.kind.is_stream() {
            op(
                self.task,
                format_args!("shutdown Write via {via:?} (end of plan)"),
            );
            let _ = self.ep.close_write(via).await;
            return;
        }
        pattern::datagram(self.flow.key, END_SEQ, HEADER, &mut self.buf);
        op(self.task, format_args!("send end datagram"));
        let cut = Cut {
            wait: Wait::Large,
            cancel: Cancel::Never,
            via: crate::plan::Via::Op,
        };
        let _ = self.ep.send(&self.buf, cut).await;
    }

    /// After an operation that gave up without waiting for the socket, sleeps 3 ms so a
    /// run of such operations is not a busy loop of the tester's own making.
    async fn back_off(&self, cut: Cut, out: Outcome) {
        if cut.is_impatient() && !matches!(out, Outcome::Done(_)) {
            E::pause(3).await;
        }
    }
}

/// A cut as written in records: `[wait,cancel]`.
pub(crate) fn show(cut: Cut) -> String {
    let ms;
    let wait = match cut.wait {
        Wait::Unbounded => "no deadline",
        Wait::Past => "past deadline",
        Wait::Now => "deadline now",
        Wait::Zero => "timeout 0",
        Wait::Tiny => "timeout 1ms",
        Wait::Ms(n) => {
            ms = format!("timeout {n}ms");
            &ms
        }
        Wait::Large => "timeout 3s",
    };
    match cut.cancel {
        Cancel::Never => format!("[{wait}]"),
        Cancel::Race(ms) => format!("[{wait}, dropped after {ms}ms]"),
        Cancel::PollOnce => format!("[{wait}, polled once]"),
    }
}

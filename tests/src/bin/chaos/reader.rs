//! The reader task of an endpoint: cycles through its planned receives until the flow
//! ends, checking every byte and datagram against the seeded streams.
//!
//! The reader may run inside a generator (loop mode): then after each chunk it yields
//! the chunk's size through its [`Pace`], and the consumer outside adds them up.

use std::future::{Future, Ready, poll_fn, ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use sock::ErrorKind;

use crate::endpoint::{Endpoint, Outcome};
use crate::flow::{End, Flow};
use crate::level;
use crate::pattern::{self, END_SEQ, Parsed};
use crate::plan::{Cut, ReadOp, Span, Steps, Wait};
use crate::report::{Task, op, violation};
use crate::writer::show;

/// What the reader does after each chunk it checked.
pub(crate) trait Pace {
    /// The future of [`chunk`](Pace::chunk).
    type Fut<'a>: Future<Output = ()> + 'a
    where
        Self: 'a;

    /// `n` more bytes were checked.
    fn chunk(&self, n: usize) -> Self::Fut<'_>;
}

/// Goes straight on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Direct;

impl Pace for Direct {
    type Fut<'a> = Ready<()>;

    fn chunk(&self, _n: usize) -> Ready<()> {
        ready(())
    }
}

/// Awaits `op` unless the flow's writer finishes first (a datagram never comes after
/// that but the end marker, and a closed writer sends none): `None` then, and the
/// receive is dropped.
async fn unless_done(flow: &Flow, op: impl Future<Output = Outcome>) -> Option<Outcome> {
    let mut op = pin!(op);
    poll_fn(|cx| {
        if let Poll::Ready(out) = op.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match flow.poll_writer_done(cx.waker()) {
            true => Poll::Ready(None),
            false => Poll::Pending,
        }
    })
    .await
}

/// Step `step` of the plan in the first pass through it, or in a later one: later
/// passes skip the pauses and receive at least 64 KiB at a time, so a reader whose plan
/// is slow (pauses, tiny buffers) still drains megabytes in a few hundred steps.
fn pass_step(step: ReadOp, first: bool) -> Option<ReadOp> {
    const FAST: usize = 64 * 1024;
    match (step, first) {
        (step, true) => Some(step),
        (ReadOp::Pause(_), false) => None,
        (ReadOp::Recv(len, cut), false) => Some(ReadOp::Recv(len.max(FAST), cut)),
        (ReadOp::RecvN(len, cut), false) => Some(ReadOp::RecvN(len.max(FAST), cut)),
        (step, false) => Some(step),
    }
}

/// Runs `ops` (cycled) on `ep` as `task`, reading `flow`, until the flow ends; gives
/// the bytes (streams) or datagrams checked.
pub(crate) async fn reader<E: Endpoint, P: Pace>(
    ep: E,
    steps: Steps<ReadOp>,
    flow: Arc<Flow>,
    task: Task,
    pace: P,
) -> u64 {
    let mut r = Reader {
        ep,
        flow,
        task,
        buf: Vec::new(),
        pos: 0,
        last_seq: None,
        scoped: false,
    };
    let ops = &steps.ops;
    let end = 'run: {
        if let Some(end) = r.first_pass(&steps, &pace).await {
            break 'run end;
        }
        loop {
            for &step in ops {
                let Some(step) = pass_step(step, false) else {
                    continue;
                };
                if let Some(end) = r.step(step, &pace).await {
                    break 'run end;
                }
            }
        }
    };
    op(task, format_args!("ended: {end:?} after {}", r.pos));
    r.flow.reader_end(end);
    r.pos
}

/// A reader's state.
struct Reader<E> {
    /// Its socket.
    ep: E,
    /// The direction it reads.
    flow: Arc<Flow>,
    /// Its name in records.
    task: Task,
    /// The receive buffer (capacity reused).
    buf: Vec<u8>,
    /// Streams: the offset of the next byte; datagrams: how many arrived.
    pos: u64,
    /// Datagrams: the last sequence number seen.
    last_seq: Option<u32>,
    /// Its steps run under a scope deadline now.
    scoped: bool,
}

impl<E: Endpoint> Reader<E> {
    /// The first pass through the plan, its span under its scope deadline; `Some`
    /// when the flow has ended.
    async fn first_pass(&mut self, steps: &Steps<ReadOp>, pace: &impl Pace) -> Option<End> {
        let ops = &steps.ops;
        let mut i = 0;
        while i < ops.len() {
            let Some(span) = steps.scope.filter(|s| s.from == i) else {
                if let Some(end) = self.step(ops[i], pace).await {
                    return Some(end);
                }
                i += 1;
                continue;
            };
            let to = (i + span.len).min(ops.len());
            if let Some(end) = self.scoped(span, &ops[i..to], pace).await {
                return Some(end);
            }
            i = to;
        }
        None
    }

    /// Runs `steps` under the scope deadline `span`; `Some` when the flow has ended.
    async fn scoped(&mut self, span: Span, steps: &[ReadOp], pace: &impl Pace) -> Option<End> {
        op(
            self.task,
            format_args!("scope {span:?} over {} steps", steps.len()),
        );
        self.scoped = true;
        let run = async {
            for &step in steps {
                if let Some(end) = self.step(step, pace).await {
                    return Ok(Some(end));
                }
            }
            Ok(None)
        };
        let r = level::scoped::<E::Clock, _, _>(span, run).await;
        self.scoped = false;
        op(self.task, format_args!("scope ended: {r:?}"));
        r.unwrap_or(None)
    }

    /// One planned step; `Some` when the flow has ended.
    async fn step(&mut self, step: ReadOp, pace: &impl Pace) -> Option<End> {
        let stream = self.flow.kind.is_stream();
        match step {
            ReadOp::Recv(len, cut) if stream => self.recv(len, cut, false, false, pace).await,
            ReadOp::RecvN(len, cut) => self.recv(len, cut, true, false, pace).await,
            ReadOp::Recv(len, cut) => self.recv_datagram(len, cut).await,
            ReadOp::Readable(cut) => self.readable(cut, pace).await,
            ReadOp::Pause(ms) => {
                op(self.task, format_args!("pause {ms}ms"));
                E::pause(u64::from(ms)).await;
                None
            }
        }
    }

    /// One stream receive of up to `len` bytes (exactly `len` if `exact`); `ready` says
    /// `readable()` just returned, so the receive must not find the socket empty.
    async fn recv(
        &mut self,
        len: usize,
        cut: Cut,
        exact: bool,
        ready: bool,
        pace: &impl Pace,
    ) -> Option<End> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        let what = if exact { "recvn" } else { "recv" };
        op(
            self.task,
            format_args!("{what} {len} {} at {}", show(cut), self.pos),
        );
        let buf = &mut self.buf[..len];
        let out = match exact {
            true => self.ep.recvn(buf, cut).await,
            false => self.ep.recv(buf, cut).await,
        };
        if !self.accept(out.moved().min(len)) {
            return Some(End::Corrupt);
        }
        pace.chunk(out.moved()).await;
        self.stream_outcome(len, cut, ready, out).await
    }

    /// Checks `n` fresh bytes at the front of the buffer and counts them.
    fn accept(&mut self, n: usize) -> bool {
        if let Some(i) = pattern::mismatch(self.flow.key, self.pos, &self.buf[..n]) {
            let at = self.pos + i as u64;
            violation(format!(
                "{}: byte {at} is {:#04x}, the stream has {:#04x} there ({})",
                self.flow.name,
                self.buf[i],
                pattern::byte_at(self.flow.key, at),
                self.flow.cuts_near(at)
            ));
            return false;
        }
        self.pos += n as u64;
        self.flow.received(self.pos);
        true
    }

    /// What a stream receive's outcome means for the flow.
    async fn stream_outcome(
        &mut self,
        len: usize,
        cut: Cut,
        ready: bool,
        out: Outcome,
    ) -> Option<End> {
        match out {
            Outcome::Done(0) if len > 0 => Some(End::Eof),
            Outcome::Done(_) => None,
            Outcome::Dropped(_) => {
                self.back_off(cut).await;
                None
            }
            Outcome::Failed {
                kind: ErrorKind::Timeout,
                ..
            } => {
                self.timed_out(cut, ready);
                self.back_off(cut).await;
                None
            }
            Outcome::Failed {
                kind: ErrorKind::Eof,
                ..
            } => Some(End::Eof),
            Outcome::Failed { kind, .. } => Some(End::Error(kind)),
        }
    }

    /// Checks a receive's timeout: never without a deadline, never right after
    /// `readable()` said a read would not block.
    fn timed_out(&self, cut: Cut, ready: bool) {
        if cut.wait == Wait::Unbounded && !self.scoped {
            violation(format!(
                "{}: a receive without a deadline timed out ({})",
                self.flow.name,
                show(cut)
            ));
        }
        if ready {
            violation(format!(
                "{}: readable() returned at offset {}, then a receive found nothing to read \
                 (a past-deadline recv timed out)",
                self.flow.name, self.pos
            ));
        }
    }

    /// `readable()`, then (if it says ready) a receive with a past deadline.
    async fn readable(&mut self, cut: Cut, pace: &impl Pace) -> Option<End> {
        op(
            self.task,
            format_args!("readable {} at {}", show(cut), self.pos),
        );
        match self.ep.readable(cut).await {
            Outcome::Done(_) => self.recv(65536, Cut::PAST, false, true, pace).await,
            Outcome::Failed {
                kind: ErrorKind::Timeout,
                ..
            }
            | Outcome::Dropped(_) => {
                self.back_off(cut).await;
                None
            }
            Outcome::Failed { kind, .. } => Some(End::Error(kind)),
        }
    }

    /// One datagram receive into a buffer of `len` bytes.
    async fn recv_datagram(&mut self, len: usize, cut: Cut) -> Option<End> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        op(
            self.task,
            format_args!("recv datagram {len} {} after {}", show(cut), self.pos),
        );
        let recv = self.ep.recv(&mut self.buf[..len], cut);
        let Some(out) = unless_done(&self.flow, recv).await else {
            return self.drain().await;
        };
        self.datagram_outcome(len, cut, out).await
    }

    /// What a datagram receive's outcome means for the flow.
    async fn datagram_outcome(&mut self, len: usize, cut: Cut, out: Outcome) -> Option<End> {
        let quiet = matches!(out, Outcome::Dropped(_)) || out.is(ErrorKind::Timeout);
        match out {
            Outcome::Done(n) => self.take(n, true),
            Outcome::Failed {
                kind: ErrorKind::MessageTooLong,
                moved,
            } => self.take(moved.min(len), false),
            _ if quiet && self.flow.is_writer_done() => self.drain().await,
            _ if quiet => {
                if out.is(ErrorKind::Timeout) {
                    self.timed_out(cut, false);
                }
                self.back_off(cut).await;
                None
            }
            Outcome::Failed { kind, .. } => Some(End::Error(kind)),
            Outcome::Dropped(_) => None,
        }
    }

    /// The writer is done: receives until the end datagram or 25 ms of silence.
    async fn drain(&mut self) -> Option<End> {
        let cut = Cut {
            wait: Wait::Ms(25),
            ..Cut::PLAIN
        };
        self.buf.resize(self.buf.len().max(1 << 18), 0);
        loop {
            op(self.task, format_args!("drain after {}", self.pos));
            match self.ep.recv(&mut self.buf[..1 << 18], cut).await {
                Outcome::Done(n) => {
                    if let Some(end) = self.take(n, true) {
                        return Some(end);
                    }
                }
                Outcome::Failed {
                    kind: ErrorKind::MessageTooLong,
                    moved,
                } => {
                    self.take(moved.min(1 << 18), false);
                }
                Outcome::Failed {
                    kind: ErrorKind::Timeout,
                    ..
                } => return Some(End::Quiet),
                Outcome::Failed { kind, .. } => return Some(End::Error(kind)),
                Outcome::Dropped(_) => {}
            }
        }
    }

    /// Checks a received datagram (`whole`, or its first `n` bytes); `Some` at the end
    /// marker.
    fn take(&mut self, n: usize, whole: bool) -> Option<End> {
        let name = self.flow.name;
        match pattern::parse(self.flow.key, &self.buf[..n], whole) {
            Parsed::Blank if !whole => self.flow.got_unknown(),
            Parsed::Blank => {}
            Parsed::Good { seq: END_SEQ, .. } => return Some(End::Eof),
            Parsed::Good { seq, .. } => {
                if let Some(last) = self.last_seq.filter(|&last| seq <= last) {
                    violation(format!(
                        "{name}: datagram seq {seq} arrived after seq {last} (repeated or reordered)"
                    ));
                }
                self.last_seq = Some(seq);
                self.flow.got_seq(seq);
            }
            Parsed::Bad(why) => violation(format!("{name}: {why}")),
        }
        self.pos += 1;
        None
    }

    /// After a receive that gave up without waiting, sleeps 3 ms (no busy loop of the
    /// tester's own making).
    async fn back_off(&self, cut: Cut) {
        if cut.is_impatient() {
            E::pause(3).await;
        }
    }
}

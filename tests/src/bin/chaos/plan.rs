//! A scenario's plan: everything random about it, drawn from its seed up front.
//!
//! The plan names the socket kind and threading mode, each endpoint's writer and reader
//! operations with their deadlines and cancellations, the side ingredients (timers,
//! sleep jobs, coroutines) and the targeted probes. Runtime decisions only follow the
//! plan, so a seed replays the same decisions whatever the timing; the plan prints on
//! replay. Parts are drawn from forked generators, so one part's draws never shift
//! another's, and a `--skip`ped ingredient is drawn and then dropped for the same
//! reason.

use std::fmt;
use std::net::Shutdown;

use crate::rng::Rng;
pub(crate) use crate::twist::{Span, Via};

/// The socket kind of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// TCP over 127.0.0.1.
    Tcp4,
    /// TCP over ::1.
    Tcp6,
    /// UDP over 127.0.0.1.
    Udp4,
    /// A unix-domain stream.
    UnixStream,
    /// Unix-domain datagrams.
    UnixDgram,
}

impl Kind {
    /// Every kind, in the planner's order.
    const ALL: [Kind; 5] = [
        Kind::Tcp4,
        Kind::Tcp6,
        Kind::Udp4,
        Kind::UnixStream,
        Kind::UnixDgram,
    ];

    /// Its short name in plans and reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tcp4 => "tcp4",
            Kind::Tcp6 => "tcp6",
            Kind::Udp4 => "udp4",
            Kind::UnixStream => "unix-stream",
            Kind::UnixDgram => "unix-dgram",
        }
    }

    /// A byte stream (else datagrams).
    pub(crate) fn is_stream(self) -> bool {
        matches!(self, Kind::Tcp4 | Kind::Tcp6 | Kind::UnixStream)
    }

    /// TCP proper (urgent data exists).
    pub(crate) fn is_tcp(self) -> bool {
        matches!(self, Kind::Tcp4 | Kind::Tcp6)
    }

    /// The address family.
    pub(crate) fn family(self) -> sock::Family {
        match self {
            Kind::Tcp4 | Kind::Udp4 => sock::Family::INET,
            Kind::Tcp6 => sock::Family::INET6,
            Kind::UnixStream | Kind::UnixDgram => sock::Family::UNIX,
        }
    }

    /// Whether the shared-poller mode has a socket of this kind (`SharedTcp` is TCP only;
    /// `SharedUdp` takes unix datagrams too).
    fn shared_ok(self) -> bool {
        self != Kind::UnixStream
    }

    /// The largest datagram the kind carries (with default buffers).
    pub(crate) fn max_datagram(self) -> usize {
        match self {
            Kind::UnixDgram => 200_000,
            _ => 65_507,
        }
    }
}

/// The threading mode of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One loop on this OS thread (`sock::run`), `!Send` tasks.
    Loop,
    /// A `SharedLoop` with two worker threads and `SharedTcp`/`SharedUdp`.
    Shared,
}

/// The deadline of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// No deadline.
    Unbounded,
    /// A deadline 5 ms in the past.
    Past,
    /// `.expires(clock())`.
    Now,
    /// `.timeout(Duration::ZERO)`.
    Zero,
    /// `.timeout(1 ms)`.
    Tiny,
    /// `.timeout(3 s)`: never reached by an operation that can finish.
    Large,
    /// `.timeout(n ms)`: the drain at the end of a datagram flow, the probes (never
    /// drawn).
    Ms(u16),
}

/// How an operation may be abandoned before it finishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Awaited to the end.
    Never,
    /// Raced against a sleep of this many ms, dropped if the sleep wins.
    Race(u8),
    /// Polled once, dropped if pending.
    PollOnce,
}

/// The deadline and cancellation of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Its deadline.
    pub(crate) wait: Wait,
    /// Whether it may be dropped mid-way.
    pub(crate) cancel: Cancel,
    /// Streams: the calls that move the bytes (drawn after the rest of the plan).
    pub(crate) via: Via,
}

impl Cut {
    /// Awaited to the end, without a deadline.
    pub(crate) const PLAIN: Cut = Cut {
        wait: Wait::Unbounded,
        cancel: Cancel::Never,
        via: Via::Op,
    };

    /// A deadline already past, awaited.
    pub(crate) const PAST: Cut = Cut {
        wait: Wait::Past,
        cancel: Cancel::Never,
        via: Via::Op,
    };

    /// Whether the operation may end without having waited for the socket.
    pub(crate) fn is_impatient(self) -> bool {
        matches!(self.wait, Wait::Past | Wait::Now | Wait::Zero) || self.cancel == Cancel::PollOnce
    }
}

/// A socket option value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptArg {
    /// A flag.
    Bool(bool),
    /// A number.
    Int(i32),
}

/// One step of an endpoint's writer task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteOp {
    /// Sends this many bytes (one datagram, or all of them on a stream).
    Send(usize, Cut),
    /// Sleeps this many ms.
    Pause(u8),
    /// Yields to the loop once.
    Yield,
    /// Suspends the task until the resumer task resumes it (loop mode).
    Suspend,
    /// Shuts the stream down.
    Shutdown(Shutdown),
    /// Sets an option by name.
    SetOpt(&'static str, OptArg),
    /// Reads an option by name.
    GetOpt(&'static str),
    /// Closes the socket (for every task using it).
    Close,
    /// `so_linger` 0, then close: the peer sees a reset.
    Reset,
}

/// One step of an endpoint's reader task (cycled until the flow ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadOp {
    /// One receive into a buffer of this size.
    Recv(usize, Cut),
    /// Exactly this many bytes (streams).
    RecvN(usize, Cut),
    /// Waits for read readiness, then checks a read would not block (loop-mode streams).
    Readable(Cut),
    /// Sleeps this many ms.
    Pause(u8),
}

/// How a loop-mode writer task is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// `sock::spawn`.
    Spawn,
    /// `sock::thread`: runs at once until it first waits.
    Thread,
    /// `sock::task::newthread`, started by `resume`.
    NewThread,
}

/// One endpoint of the scenario's connection (or datagram pair).
#[derive(Clone, Debug)]
pub(crate) struct EndPlan {
    /// "a" or "b".
    pub(crate) name: &'static str,
    /// `so_rcvbuf` and `so_sndbuf` set at creation.
    pub(crate) buffers: Option<(i32, i32)>,
    /// Datagrams: `connect_to` the peer (else `sendto` each datagram).
    pub(crate) connected: bool,
    /// The writer task's steps.
    pub(crate) writer: Vec<WriteOp>,
    /// The reader task's steps, cycled.
    pub(crate) reader: Vec<ReadOp>,
    /// Loop mode: the reader runs inside a `cowrap` generator that yields what it read.
    pub(crate) generator: bool,
    /// Loop mode: how the writer is started.
    pub(crate) start: Start,
    /// Closes the socket after this many ms from another task (loop mode) or another OS
    /// thread (shared mode).
    pub(crate) closer: Option<u8>,
    /// Streams: the writer owns the write half and the reader the read half
    /// (`into_split`); the writer drops its half after shutting writing down.
    pub(crate) halves: bool,
    /// Writer steps run under one scope deadline.
    pub(crate) writer_scope: Option<Span>,
    /// Reader steps (of the first pass) run under one scope deadline (streams).
    pub(crate) reader_scope: Option<Span>,
    /// Streams: how the writer shuts writing down at the end of its plan.
    pub(crate) finish: Via,
}

/// A task's steps, with the twists on them.
#[derive(Clone, Debug)]
pub(crate) struct Steps<T> {
    /// The steps.
    pub(crate) ops: Vec<T>,
    /// Steps run under one scope deadline.
    pub(crate) scope: Option<Span>,
    /// Writers: how writing is shut down at the end.
    pub(crate) finish: Via,
}

impl EndPlan {
    /// The writer task's steps.
    pub(crate) fn writer_steps(&self) -> Steps<WriteOp> {
        Steps {
            ops: self.writer.clone(),
            scope: self.writer_scope,
            finish: self.finish,
        }
    }

    /// The reader task's steps.
    pub(crate) fn reader_steps(&self) -> Steps<ReadOp> {
        Steps {
            ops: self.reader.clone(),
            scope: self.reader_scope,
            finish: Via::Op,
        }
    }

    /// Whether this endpoint shuts its reading down. Linux then keeps accepting bytes
    /// until the receive buffer is full and advertises a zero window for good; the
    /// peer's sends wait until the orphaned socket times out a minute later — a hang of
    /// the kernel's, not sock's.
    fn shuts_reading(&self) -> bool {
        self.writer
            .iter()
            .any(|op| matches!(op, WriteOp::Shutdown(Shutdown::Read | Shutdown::Both)))
    }

    /// Gives every send that would wait without end (or 3 s) a 250 ms deadline: the
    /// sends toward a peer that shut its reading down.
    fn bound_sends(&mut self) {
        for op in &mut self.writer {
            if let WriteOp::Send(_, cut) = op {
                if matches!(cut.wait, Wait::Unbounded | Wait::Large) {
                    cut.wait = Wait::Ms(250);
                }
            }
        }
    }

    /// Whether this endpoint ends its connection other than by a clean half-close, so
    /// bytes in flight either way may be lost (a reset, a close with unread data, a
    /// shutdown of reading).
    pub(crate) fn is_abrupt(&self) -> bool {
        self.closer.is_some()
            || self.writer.iter().any(|op| {
                matches!(
                    op,
                    WriteOp::Close
                        | WriteOp::Reset
                        | WriteOp::Shutdown(Shutdown::Read | Shutdown::Both)
                )
            })
    }
}

/// When a callback timer is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerStop {
    /// Not cancelled (one-shot timers only).
    Never,
    /// From inside its own callback at this tick.
    Inside(u8),
    /// From another task after this many ms.
    Outside(u8),
}

/// A side ingredient running beside the I/O (loop mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extra {
    /// `run_after` (or `run_every` with a period), stopped as said.
    Timer {
        /// Delay (or period) in ms.
        delay: u8,
        /// Periodic.
        every: bool,
        /// How it is cancelled.
        stop: TimerStop,
    },
    /// A `SleepJob` sleep, maybe woken early by another task.
    Job {
        /// The sleep's timeout in ms.
        sleep: u8,
        /// The wakeup's delay in ms.
        wake: Option<u8>,
    },
    /// A `newthread` resumed with values that it sums through `yield_`.
    Counter {
        /// Values sent in.
        rounds: u8,
    },
    /// Two threads handing a counter back and forth with `transfer`.
    Relay {
        /// Hand-overs.
        rounds: u8,
    },
}

/// A targeted ingredient, run alone after the chaos phase, each aimed at a class of bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// A raw peer sends bytes, one urgent byte (`MSG_OOB`), more bytes: the receiver must
    /// get all the ordinary bytes without waiting (a read stops short at the mark).
    Urgent {
        /// Bytes before the urgent one.
        before: usize,
        /// Bytes after it.
        after: usize,
        /// The receiver sets `so_oobinline`.
        inline: bool,
    },
    /// On a fresh socket, after a read that exactly filled its buffer and drained the
    /// socket, and (after every other probe) on a client polled before it connected,
    /// `readable()` must wait (a read would block).
    ExactFill {
        /// Bytes the peer sends.
        len: usize,
    },
    /// Receives with a past deadline from a socket holding `count` ready items: every
    /// one must succeed (the fairness budget must not turn into timeouts).
    ExpiredBurst {
        /// Items queued first.
        count: usize,
    },
    /// A receive polled once in one task, then finished in another.
    MovedOp,
    /// Unconnected unix datagrams to a receiver that never reads: once its queue is full
    /// a send must wait (not spin) until its deadline.
    UnixFlood {
        /// The waiting send's deadline in ms.
        wait: u16,
    },
}

/// A whole scenario.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The seed it was drawn from.
    pub(crate) seed: u64,
    /// Socket kind.
    pub(crate) kind: Kind,
    /// Threading mode.
    pub(crate) mode: Mode,
    /// Streams: the client socket is made, then the loop polls it, then it connects
    /// (a fresh socket's first event is a hang-up).
    pub(crate) pre_poll: bool,
    /// The two endpoints.
    pub(crate) ends: [EndPlan; 2],
    /// Side ingredients (loop mode).
    pub(crate) extras: Vec<Extra>,
    /// Targeted probes, run in order after the chaos phase.
    pub(crate) probes: Vec<Probe>,
}

/// Ingredients left out with `--skip` (their draws still happen).
#[derive(Clone, Debug, Default)]
pub(crate) struct Skips(pub(crate) Vec<String>);

impl Skips {
    /// Every name `--skip` takes.
    pub(crate) const NAMES: [&'static str; 16] = [
        "prepoll",
        "urgent",
        "exactfill",
        "burst",
        "moved",
        "flood",
        "readable",
        "unconnected",
        "shared",
        "abrupt",
        "extras",
        "closedgram",
        "selftest",
        "via",
        "halves",
        "scope",
    ];

    /// Whether `name` is skipped.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|s| s == name)
    }
}

impl Plan {
    /// The plan of `seed`.
    pub(crate) fn new(seed: u64, skips: &Skips) -> Plan {
        let mut rng = Rng::new(seed);
        let kind = Kind::ALL[rng.below(5) as usize];
        let shared = kind.shared_ok() && rng.chance(40) && !skips.has("shared");
        let mode = if shared { Mode::Shared } else { Mode::Loop };
        let pre_poll = rng.chance(25) && kind.is_stream() && !skips.has("prepoll");
        let ctx = Ctx { kind, mode, skips };
        let mut ends = [ctx.end("a", &mut rng.fork()), ctx.end("b", &mut rng.fork())];
        for i in 0..2 {
            if ends[1 - i].shuts_reading() {
                ends[i].bound_sends();
            }
        }
        let extras = ctx.extras(&mut rng.fork());
        let probes = ctx.probes(&mut rng.fork());
        crate::twist::draw(&mut ends, kind, skips, &mut rng.fork());
        Plan {
            seed,
            kind,
            mode,
            pre_poll,
            ends,
            extras,
            probes,
        }
    }

    /// One line naming the scenario.
    pub(crate) fn headline(&self) -> String {
        let mode = match self.mode {
            Mode::Loop => "loop",
            Mode::Shared => "shared",
        };
        format!("seed={} kind={} mode={mode}", self.seed, self.kind.name())
    }
}

/// What the planner draws against.
struct Ctx<'a> {
    /// Socket kind.
    kind: Kind,
    /// Threading mode.
    mode: Mode,
    /// Ingredients to drop.
    skips: &'a Skips,
}

impl Ctx<'_> {
    /// An endpoint's plan.
    fn end(&self, name: &'static str, rng: &mut Rng) -> EndPlan {
        let buffers = rng.chance(20).then(|| {
            let sizes = [(1, 1024), (1, 2048), (1, 4096), (1, 16384)];
            (self.rcvbuf(rng.pick(&sizes)), rng.pick(&sizes))
        });
        let connected = !rng.chance(50) || self.skips.has("unconnected");
        let writer = self.writer(&mut rng.fork());
        let reader = self.reader(&mut rng.fork());
        let generator = rng.chance(25) && self.mode == Mode::Loop;
        let start = rng.pick(&[
            (60, Start::Spawn),
            (25, Start::Thread),
            (15, Start::NewThread),
        ]);
        let closer = (rng.chance(8) && self.may_close()).then(|| rng.below(20) as u8);
        EndPlan {
            name,
            buffers,
            connected,
            writer,
            reader,
            generator,
            start,
            closer,
            halves: false,
            writer_scope: None,
            reader_scope: None,
            finish: Via::Op,
        }
    }

    /// A writer's steps.
    fn writer(&self, rng: &mut Rng) -> Vec<WriteOp> {
        let n = rng.size(3, if self.kind.is_stream() { 30 } else { 40 });
        let mut budget: usize = 8 << 20;
        let mut ops = Vec::with_capacity(n);
        while ops.len() < n {
            if let Some(op) = self.write_op(rng, &mut budget) {
                ops.push(op);
            }
        }
        ops
    }

    /// One writer step, or `None` when the draw is not possible here.
    fn write_op(&self, rng: &mut Rng, budget: &mut usize) -> Option<WriteOp> {
        let stream = self.kind.is_stream();
        let which = rng.pick(&[
            (60, 's'),
            (8, 'p'),
            (5, 'y'),
            (3, 'u'),
            (3, 'h'),
            (6, 'o'),
            (4, 'g'),
            (1, 'c'),
            (1, 'r'),
        ]);
        let abrupt_ok = !self.skips.has("abrupt");
        Some(match which {
            's' => {
                let len = self.send_len(rng).min(*budget);
                *budget -= len;
                WriteOp::Send(len, self.cut(rng, stream))
            }
            'p' => WriteOp::Pause(rng.range(0, 5) as u8),
            'y' => WriteOp::Yield,
            'u' if self.mode == Mode::Loop => WriteOp::Suspend,
            'h' if stream => {
                let how = rng.pick(&[
                    (6, Shutdown::Write),
                    (2, Shutdown::Read),
                    (2, Shutdown::Both),
                ]);
                (how == Shutdown::Write || abrupt_ok).then_some(WriteOp::Shutdown(how))?
            }
            'o' => {
                let (name, arg) = self.option(rng);
                WriteOp::SetOpt(name, arg)
            }
            'g' => WriteOp::GetOpt(self.option(rng).0),
            'c' if self.may_close() => WriteOp::Close,
            'r' if abrupt_ok && stream => WriteOp::Reset,
            _ => return None,
        })
    }

    /// Whether an endpoint may be closed before the end (`closedgram` keeps datagram
    /// sockets open: a closed one makes its peer's next send draw an ICMP error).
    fn may_close(&self) -> bool {
        !self.skips.has("abrupt") && (self.kind.is_stream() || !self.skips.has("closedgram"))
    }

    /// The size of one send: mostly small, sometimes up to 4 MiB (datagrams: sometimes
    /// empty, sometimes too long for the kind).
    fn send_len(&self, rng: &mut Rng) -> usize {
        if self.kind.is_stream() {
            let (lo, hi) = rng.pick(&[
                (4, (0, 0)),
                (30, (1, 64)),
                (30, (65, 4096)),
                (22, (4097, 65536)),
                (11, (65537, 1 << 20)),
                (3, ((1 << 20) + 1, 4 << 20)),
            ]);
            return rng.size(lo, hi);
        }
        let max = self.kind.max_datagram();
        let (lo, hi) = rng.pick(&[
            (5, (0, 0)),
            (45, (8, 64)),
            (30, (65, 1472)),
            (15, (1473, max)),
            (5, (max + 1, 4 << 20)),
        ]);
        rng.size(lo, hi)
    }

    /// A deadline and cancellation. The shared mode cannot say how far a send-all or
    /// receive-exactly got when dropped, so those are never dropped there.
    fn cut(&self, rng: &mut Rng, multi_step: bool) -> Cut {
        let wait = rng.pick(&[
            (40, Wait::Unbounded),
            (8, Wait::Past),
            (7, Wait::Now),
            (7, Wait::Zero),
            (18, Wait::Tiny),
            (20, Wait::Large),
        ]);
        let race = Cancel::Race(rng.range(1, 4) as u8);
        let cancel = rng.pick(&[(82, Cancel::Never), (10, race), (8, Cancel::PollOnce)]);
        let cancel = match self.mode == Mode::Shared && multi_step {
            true => Cancel::Never,
            false => cancel,
        };
        Cut {
            wait,
            cancel,
            via: Via::Op,
        }
    }

    /// An option by name with a value: valid ones, a wrong-kind value, an unknown name.
    fn option(&self, rng: &mut Rng) -> (&'static str, OptArg) {
        let flag = OptArg::Bool(rng.chance(50));
        let size = rng.pick(&[(1, 1024), (1, 4096), (1, 65536), (1, 1 << 20)]);
        rng.pick(&[
            (3, ("so_keepalive", flag)),
            (3, ("tcp_nodelay", flag)),
            (2, ("so_reuseaddr", flag)),
            (2, ("so_broadcast", flag)),
            (3, ("so_rcvbuf", OptArg::Int(self.rcvbuf(size)))),
            (3, ("so_sndbuf", OptArg::Int(size))),
            (1, ("ip_ttl", OptArg::Int(64))),
            (1, ("so_linger", OptArg::Int(5))),
            (1, ("so_type", OptArg::Int(1))),
            (2, ("so_bogus", flag)),
        ])
    }

    /// A receive buffer size for the kind. TCP gets 64 KiB at least: on loopback
    /// (MSS 64 KiB, window scale 10) a smaller `so_rcvbuf` set on an open connection
    /// can leave the receiver advertising a window below one segment forever — the
    /// kernel stalls the connection with data queued, a hang that is not sock's.
    fn rcvbuf(&self, size: i32) -> i32 {
        match self.kind.is_tcp() {
            true => size.max(65536),
            false => size,
        }
    }

    /// A reader's steps (at least one receive).
    fn reader(&self, rng: &mut Rng) -> Vec<ReadOp> {
        let n = rng.size(4, 12);
        let mut ops: Vec<ReadOp> = (0..n).filter_map(|_| self.read_op(rng)).collect();
        if !ops.iter().any(|op| matches!(op, ReadOp::Recv(..))) {
            ops.push(ReadOp::Recv(65536, Cut::PLAIN));
        }
        ops
    }

    /// One reader step, or `None` when the draw is not possible here.
    fn read_op(&self, rng: &mut Rng) -> Option<ReadOp> {
        let stream = self.kind.is_stream();
        let which = rng.pick(&[(70, 'r'), (15, 'n'), (5, 'e'), (10, 'p')]);
        let len = self.recv_len(rng);
        let cut = self.cut(rng, which == 'n');
        Some(match which {
            'r' => ReadOp::Recv(len, cut),
            'n' if stream => ReadOp::RecvN(len, cut),
            'e' if stream && self.mode == Mode::Loop && !self.skips.has("readable") => {
                ReadOp::Readable(cut)
            }
            'p' => ReadOp::Pause(rng.range(0, 3) as u8),
            _ => return None,
        })
    }

    /// A receive buffer's size (datagrams: mostly big enough for any datagram).
    fn recv_len(&self, rng: &mut Rng) -> usize {
        let ranges: &[(u64, (usize, usize))] = if self.kind.is_stream() {
            &[
                (30, (1, 64)),
                (30, (65, 4096)),
                (25, (4097, 65536)),
                (12, (65537, 1 << 20)),
                (3, ((1 << 20) + 1, 4 << 20)),
            ]
        } else {
            &[
                (60, (262_144, 262_144)),
                (25, (1, 2048)),
                (15, (2049, 65535)),
            ]
        };
        let (lo, hi) = rng.pick(ranges);
        rng.size(lo, hi)
    }

    /// Side ingredients (loop mode only: they use the loop's timers and coroutines).
    fn extras(&self, rng: &mut Rng) -> Vec<Extra> {
        let n = rng.below(4);
        let extras = (0..n).map(|_| self.extra(rng)).collect();
        match self.mode == Mode::Loop && !self.skips.has("extras") {
            true => extras,
            false => Vec::new(),
        }
    }

    /// One side ingredient.
    fn extra(&self, rng: &mut Rng) -> Extra {
        let delay = rng.range(0, 8) as u8;
        let inside = TimerStop::Inside(rng.range(1, 4) as u8);
        let outside = TimerStop::Outside(rng.range(0, 12) as u8);
        let stop = rng.pick(&[(1, TimerStop::Never), (2, inside), (2, outside)]);
        match rng.below(4) {
            0 => {
                let every = rng.chance(50) && stop != TimerStop::Never;
                let delay = if every { delay.max(1) } else { delay };
                Extra::Timer { delay, every, stop }
            }
            1 => Extra::Job {
                sleep: rng.range(0, 10) as u8,
                wake: rng.chance(60).then(|| rng.range(0, 10) as u8),
            },
            2 => Extra::Counter {
                rounds: rng.range(1, 20) as u8,
            },
            _ => Extra::Relay {
                rounds: rng.range(1, 50) as u8,
            },
        }
    }

    /// The probes, each drawn with its own chance where the kind and mode allow it.
    fn probes(&self, rng: &mut Rng) -> Vec<Probe> {
        let (kind, lp) = (self.kind, self.mode == Mode::Loop);
        let draws = [
            (
                "urgent",
                rng.chance(35) && kind.is_tcp() && lp,
                Probe::Urgent {
                    before: rng.size(1, 3000),
                    after: rng.size(1, 3000),
                    inline: rng.chance(50),
                },
            ),
            (
                "exactfill",
                rng.chance(35) && kind.is_stream() && lp,
                Probe::ExactFill {
                    len: rng.size(1, 60_000),
                },
            ),
            (
                "burst",
                rng.chance(30) && kind != Kind::UnixDgram,
                Probe::ExpiredBurst {
                    count: rng.size(130, 200),
                },
            ),
            ("moved", rng.chance(30), Probe::MovedOp),
            (
                "flood",
                rng.chance(40) && kind == Kind::UnixDgram,
                Probe::UnixFlood {
                    wait: rng.range(150, 300) as u16,
                },
            ),
        ];
        draws
            .into_iter()
            .filter(|(name, on, _)| *on && !self.skips.has(name))
            .map(|(_, _, probe)| probe)
            .collect()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan {} pre_poll={}", self.headline(), self.pre_poll)?;
        for end in &self.ends {
            write_end(f, end)?;
        }
        writeln!(f, "  extras: {}", list(&self.extras))?;
        write!(f, "  probes: {}", list(&self.probes))
    }
}

/// An endpoint's lines of the printed plan.
fn write_end(f: &mut fmt::Formatter<'_>, end: &EndPlan) -> fmt::Result {
    writeln!(
        f,
        "  {}: buffers={:?} connected={} generator={} start={:?} closer={:?}",
        end.name, end.buffers, end.connected, end.generator, end.start, end.closer
    )?;
    writeln!(
        f,
        "  {}: halves={} writer_scope={:?} reader_scope={:?} finish={:?}",
        end.name, end.halves, end.writer_scope, end.reader_scope, end.finish
    )?;
    writeln!(f, "  {}.writer: {}", end.name, list(&end.writer))?;
    writeln!(f, "  {}.reader: {}", end.name, list(&end.reader))
}

/// Items joined with " | ".
fn list<T: fmt::Debug>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    parts.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_names_one_plan() {
        let none = Skips::default();
        for seed in 0..50 {
            assert_eq!(
                Plan::new(seed, &none).to_string(),
                Plan::new(seed, &none).to_string()
            );
        }
    }

    #[test]
    fn a_skip_leaves_the_other_draws_alone() {
        let skips = Skips(vec!["burst".into()]);
        for seed in 0..200 {
            let (a, b) = (Plan::new(seed, &Skips::default()), Plan::new(seed, &skips));
            assert_eq!(a.ends[0].writer, b.ends[0].writer);
            assert!(
                !b.probes
                    .iter()
                    .any(|p| matches!(p, Probe::ExpiredBurst { .. }))
            );
        }
    }
}

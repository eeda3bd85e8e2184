//! The UDP load: N connected UDP sockets, each keeping D datagrams in flight, moved in
//! batches: received by `recvmmsg`, sent by UDP segmentation offload (or `sendmmsg`).
//!
//! A datagram carries its socket's index and a sequence number in its first 12 bytes and
//! pattern bytes after them, so every echoed byte is checked and each reply is matched to
//! the datagram it answers. UDP may drop datagrams: one unanswered for `LOSS_TIMEOUT` is
//! counted lost and replaced, and a reply arriving after that is counted late and ignored.
//!
//! Batches keep the load generator cheaper per datagram than the servers it measures (one
//! thread, one datagram per syscall, made it the bottleneck). On a readiness event a socket
//! is read up to `MAX_BATCH` datagrams per call; the replacements for a batch's answers
//! leave together in one call; the clock is read once per batch. With segmentation
//! (`UDP_SEGMENT`, the default on Linux) such a send is one buffer that the kernel cuts
//! into datagrams on the way, so the client's kernel builds and routes one packet per
//! batch; the server still receives separate datagrams of `size` bytes, the same as from
//! `sendmmsg` (`--no-gso`). A batch that comes back short of `MAX_BATCH` ends the reading
//! without a last call to see `WouldBlock`: every datagram queued on a UDP socket wakes
//! its epoll watchers again, so one that arrives later raises a new event (and the loss
//! scan reads a socket before giving up on it). How many datagrams are in flight is still
//! exactly N × D: batching changes only how they travel through the syscalls, and every
//! server gets the same load.

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use sock_netbench::{Datagrams, Histogram, MAX_BATCH, Pattern};

/// How long a datagram may go unanswered before it counts as lost.
const LOSS_TIMEOUT: Duration = Duration::from_millis(200);
/// How often datagrams in flight are checked against `LOSS_TIMEOUT`.
const SCAN_EVERY: Duration = Duration::from_millis(10);
/// Bytes of socket index and sequence number at the start of every datagram.
const HEADER: usize = 12;
/// Linux's `ENOBUFS`: the send queue is full, the datagram is dropped.
const ENOBUFS: i32 = 105;
/// How long the first datagram on every socket may take (retried on loss).
const PING_LIMIT: Duration = Duration::from_secs(5);
/// Most bytes one segmented send carries (under the 64 KiB limit of one UDP packet).
const SEGMENTED_BYTES: usize = 60_000;

/// One client socket and its datagrams in flight.
struct Peer {
    /// Connected to the server, registered readable.
    socket: UdpSocket,
    /// `(sequence number, when sent)` of each datagram in flight, oldest first.
    in_flight: VecDeque<(u64, Instant)>,
    /// The next sequence number to send.
    next_seq: u64,
}

/// What a timed UDP run measured.
pub(crate) struct UdpReport {
    /// Datagrams echoed within the window.
    pub(crate) packets: u64,
    /// Length of the window.
    pub(crate) elapsed: Duration,
    /// Median latency in the window, nanoseconds.
    pub(crate) p50_ns: u64,
    /// 99th percentile latency in the window, nanoseconds.
    pub(crate) p99_ns: u64,
    /// Datagrams given up on (window and drain).
    pub(crate) lost: u64,
    /// Replies that came after their datagram was given up on.
    pub(crate) late: u64,
    /// Datagrams the server echoed in the window and the drain after it.
    pub(crate) served: u64,
    /// Whether sends were segmented (else `sendmmsg`).
    pub(crate) segmented: bool,
    /// Send, receive and poll calls made in the window and the drain.
    pub(crate) calls: u64,
}

/// Which datagrams are replaced by new ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Lost ones only: every socket gets one answer.
    Ping,
    /// Answered and lost ones: the count in flight stays constant.
    Timed,
    /// None: the ones in flight come back or are given up on.
    Drain,
}

/// Everything but the `Poll`.
struct State {
    /// The client sockets, indexed by token.
    peers: Vec<Peer>,
    /// The byte pattern behind every payload.
    pattern: Pattern,
    /// Replies read by one receive call; a slot is one byte longer than a datagram, so a
    /// longer reply shows.
    incoming: Datagrams,
    /// Datagrams waiting for one send call, all for the same socket.
    outgoing: Datagrams,
    /// Whether sends go as one segmented buffer (else by `sendmmsg`).
    segmented: bool,
    /// Bytes per datagram, header included.
    size: usize,
    /// What happens to answered and lost datagrams.
    phase: Phase,
    /// Datagrams answered since the last reset.
    completed: u64,
    /// Datagrams given up on since the last reset.
    lost: u64,
    /// Late replies since the last reset.
    late: u64,
    /// Send, receive and poll calls since the last reset.
    calls: u64,
    /// Latencies of answered datagrams, nanoseconds.
    latencies: Histogram,
}

/// A set of UDP client sockets and the loop that drives them.
pub(crate) struct UdpLoad {
    /// The readiness poller.
    poll: Poll,
    /// Reused event buffer.
    events: Events,
    /// Sockets and counters.
    state: State,
}

impl UdpLoad {
    /// Opens `count` sockets connected to `addr`, each answered once before returning;
    /// `segment` asks for segmentation offload (used when two datagrams fit one send).
    pub(crate) fn connect(
        addr: SocketAddr,
        count: usize,
        size: usize,
        segment: bool,
    ) -> io::Result<Self> {
        let mut load = Self {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            state: State::new(count, size, segment),
        };
        for index in 0..count {
            load.open(addr, index)?;
        }
        load.ping()?;
        Ok(load)
    }

    /// Keeps `depth` datagrams in flight per socket for `duration`, then waits out the
    /// ones still in flight.
    pub(crate) fn run_timed(&mut self, depth: usize, duration: Duration) -> io::Result<UdpReport> {
        self.state.reset(Phase::Timed);
        let start = Instant::now();
        for index in 0..self.state.peers.len() {
            self.state.top_up(index, depth, start)?;
        }
        self.drive_until(start + duration)?;
        let elapsed = start.elapsed();
        let (packets, p50_ns, p99_ns) = self.state.window();
        self.state.phase = Phase::Drain;
        self.drive_until(Instant::now() + LOSS_TIMEOUT + SCAN_EVERY)?;
        self.state.expire(Instant::now() + LOSS_TIMEOUT)?;
        Ok(UdpReport {
            packets,
            elapsed,
            p50_ns,
            p99_ns,
            lost: self.state.lost,
            late: self.state.late,
            served: self.state.completed,
            segmented: self.state.segmented,
            calls: self.state.calls,
        })
    }

    /// Binds a socket of the server's family, connects it and registers it.
    fn open(&mut self, addr: SocketAddr, index: usize) -> io::Result<()> {
        let local = match addr {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        };
        let mut socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        if self.state.segmented {
            Datagrams::set_segment_size(&socket, self.state.size).map_err(|err| {
                let msg = format!("UDP_SEGMENT: {err} (--no-gso sends by sendmmsg)");
                io::Error::new(err.kind(), msg)
            })?;
        }
        self.poll
            .registry()
            .register(&mut socket, Token(index), Interest::READABLE)?;
        self.state.peers.push(Peer {
            socket,
            in_flight: VecDeque::new(),
            next_seq: 0,
        });
        Ok(())
    }

    /// One answered datagram per socket, resending lost ones, within `PING_LIMIT`.
    fn ping(&mut self) -> io::Result<()> {
        let start = Instant::now();
        for index in 0..self.state.peers.len() {
            self.state.top_up(index, 1, start)?;
        }
        let count = self.state.peers.len() as u64;
        while self.state.completed < count {
            if start.elapsed() > PING_LIMIT {
                let msg = format!("udp server did not answer within {PING_LIMIT:?}");
                return Err(io::Error::new(ErrorKind::TimedOut, msg));
            }
            self.drive_until(Instant::now() + SCAN_EVERY)?;
        }
        Ok(())
    }

    /// Handles events until `deadline`, expiring lost datagrams as it goes.
    fn drive_until(&mut self, deadline: Instant) -> io::Result<()> {
        let mut next_scan = Instant::now() + SCAN_EVERY;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            self.state.calls += 1;
            match self.poll.poll(&mut self.events, Some(left.min(SCAN_EVERY))) {
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                other => other?,
            }
            for event in &self.events {
                self.state.receive(event.token().0)?;
            }
            let now = Instant::now();
            if now >= next_scan {
                self.state.expire(now)?;
                next_scan = now + SCAN_EVERY;
            }
        }
        Ok(())
    }
}

impl State {
    /// Counters at zero and batches for `count` sockets sending `size`-byte datagrams,
    /// segmented if `segment` and two of them fit one send.
    fn new(count: usize, size: usize, segment: bool) -> Self {
        let per_send = (SEGMENTED_BYTES / size).min(MAX_BATCH);
        let segmented = segment && per_send >= 2;
        Self {
            peers: Vec::with_capacity(count),
            pattern: Pattern::new(),
            incoming: Datagrams::new(MAX_BATCH, size + 1),
            outgoing: Datagrams::new(if segmented { per_send } else { MAX_BATCH }, size),
            segmented,
            size,
            phase: Phase::Ping,
            completed: 0,
            lost: 0,
            late: 0,
            calls: 0,
            latencies: Histogram::new(),
        }
    }

    /// Resets the counters for a new window.
    fn reset(&mut self, phase: Phase) {
        self.phase = phase;
        self.completed = 0;
        self.lost = 0;
        self.late = 0;
        self.calls = 0;
        self.latencies = Histogram::new();
    }

    /// `(datagrams answered, p50, p99)` so far.
    fn window(&self) -> (u64, u64, u64) {
        let quantile = |q| self.latencies.quantile(q);
        (self.completed, quantile(0.50), quantile(0.99))
    }

    /// Sends `count` new datagrams on socket `index`, a batch per call.
    fn top_up(&mut self, index: usize, count: usize, now: Instant) -> io::Result<()> {
        for _ in 0..count {
            if self.outgoing.is_full() {
                self.flush(index)?;
            }
            self.queue(index, now);
        }
        self.flush(index)
    }

    /// Adds the next datagram of socket `index` to the outgoing batch.
    fn queue(&mut self, index: usize, now: Instant) {
        let peer = &mut self.peers[index];
        let seq = peer.next_seq;
        peer.next_seq += 1;
        peer.in_flight.push_back((seq, now));
        let datagram = self.outgoing.push(self.size);
        datagram[..4].copy_from_slice(&(index as u32).to_le_bytes());
        datagram[4..HEADER].copy_from_slice(&seq.to_le_bytes());
        let offset = seq * self.size as u64;
        self.pattern
            .fill(index as u64, offset, &mut datagram[HEADER..]);
    }

    /// Sends the outgoing batch on socket `index`; what a full socket buffer refuses is a
    /// loss found later.
    fn flush(&mut self, index: usize) -> io::Result<()> {
        let mut first = 0;
        while first < self.outgoing.len() {
            self.calls += 1;
            let socket = &self.peers[index].socket;
            let sent = match self.segmented {
                true => self.outgoing.send_segmented(socket, first),
                false => self.outgoing.send_from(socket, first),
            };
            match sent {
                Ok(sent) => first += sent,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) if is_transient(&err) => break,
                Err(err) => return Err(io::Error::new(err.kind(), format!("udp send: {err}"))),
            }
        }
        self.outgoing.clear();
        Ok(())
    }

    /// Reads the datagrams waiting on socket `index`, a batch per call, and replaces the
    /// answered ones in the timed phase.
    fn receive(&mut self, index: usize) -> io::Result<()> {
        loop {
            self.calls += 1;
            let count = match self.incoming.recv(&self.peers[index].socket) {
                Ok(count) => count,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(io::Error::new(err.kind(), format!("udp recv: {err}"))),
            };
            let now = Instant::now();
            let mut answered = 0;
            for slot in 0..count {
                answered += usize::from(self.answer(index, slot, now)?);
            }
            if self.phase == Phase::Timed {
                self.top_up(index, answered, now)?;
            }
            if count < self.incoming.capacity() {
                return Ok(());
            }
        }
    }

    /// Checks reply `slot` of the incoming batch, received at `now`, and completes its
    /// datagram; `false` if the datagram was already given up on.
    fn answer(&mut self, index: usize, slot: usize, now: Instant) -> io::Result<bool> {
        let reply = self.incoming.get(slot);
        let wrong = || io::Error::other(format!("socket {}: wrong datagram echoed", index + 1));
        if reply.len() != self.size || reply[..4] != (index as u32).to_le_bytes() {
            return Err(wrong());
        }
        let seq = u64::from_le_bytes(reply[4..HEADER].try_into().expect("8 bytes"));
        let offset = seq * self.size as u64;
        if !self.pattern.matches(index as u64, offset, &reply[HEADER..]) {
            return Err(wrong());
        }
        let in_flight = &mut self.peers[index].in_flight;
        let Some(sent) = in_flight.iter().position(|&(s, _)| s == seq) else {
            self.late += 1;
            return Ok(false);
        };
        let (_, sent) = in_flight.remove(sent).expect("the position was just found");
        let latency = u64::try_from(now.saturating_duration_since(sent).as_nanos());
        self.latencies.record(latency.unwrap_or(u64::MAX));
        self.completed += 1;
        Ok(true)
    }

    /// Gives up on datagrams sent before `now - LOSS_TIMEOUT`, after reading their socket
    /// once more, and replaces them unless draining.
    fn expire(&mut self, now: Instant) -> io::Result<()> {
        for index in 0..self.peers.len() {
            let overdue = |peer: &Peer| {
                let oldest = peer.in_flight.front();
                oldest.is_some_and(|&(_, sent)| now.saturating_duration_since(sent) >= LOSS_TIMEOUT)
            };
            if !overdue(&self.peers[index]) {
                continue;
            }
            self.receive(index)?;
            let in_flight = &mut self.peers[index].in_flight;
            let before = in_flight.len();
            in_flight.retain(|&(_, sent)| now.saturating_duration_since(sent) < LOSS_TIMEOUT);
            let expired = before - in_flight.len();
            self.lost += expired as u64;
            if self.phase != Phase::Drain {
                self.top_up(index, expired, now)?;
            }
        }
        Ok(())
    }
}

/// Whether a send error only means "not now" (the datagram counts as lost if never sent).
fn is_transient(err: &io::Error) -> bool {
    err.kind() == ErrorKind::WouldBlock || err.raw_os_error() == Some(ENOBUFS)
}

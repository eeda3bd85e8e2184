//! The UDP load: N connected UDP sockets, each keeping D datagrams in flight.
//!
//! A datagram carries its socket's index and a sequence number in its first 12 bytes and
//! pattern bytes after them, so every echoed byte is checked and each reply is matched to
//! the datagram it answers. UDP may drop datagrams: one unanswered for `LOSS_TIMEOUT` is
//! counted lost and replaced, and a reply arriving after that is counted late and ignored.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use sock_netbench::{Histogram, Pattern};

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

/// One client socket and its datagrams in flight.
struct Peer {
    /// Connected to the server, registered readable.
    socket: UdpSocket,
    /// `(sequence number, when sent)` of each datagram in flight.
    in_flight: Vec<(u64, Instant)>,
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
    /// Receive buffer, larger than any datagram.
    recv_buf: Vec<u8>,
    /// Send buffer, one datagram.
    datagram: Vec<u8>,
    /// What happens to answered and lost datagrams.
    phase: Phase,
    /// Datagrams answered since the last reset.
    completed: u64,
    /// Datagrams given up on since the last reset.
    lost: u64,
    /// Late replies since the last reset.
    late: u64,
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
    /// Opens `count` sockets connected to `addr`, each answered once before returning.
    pub(crate) fn connect(addr: SocketAddr, count: usize, size: usize) -> io::Result<Self> {
        let mut load = Self {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            state: State {
                peers: Vec::with_capacity(count),
                pattern: Pattern::new(),
                recv_buf: vec![0; 65536],
                datagram: vec![0; size],
                phase: Phase::Ping,
                completed: 0,
                lost: 0,
                late: 0,
                latencies: Histogram::new(),
            },
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
            for _ in 0..depth {
                self.state.send(index, start)?;
            }
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
        self.poll
            .registry()
            .register(&mut socket, Token(index), Interest::READABLE)?;
        self.state.peers.push(Peer {
            socket,
            in_flight: Vec::new(),
            next_seq: 0,
        });
        Ok(())
    }

    /// One answered datagram per socket, resending lost ones, within `PING_LIMIT`.
    fn ping(&mut self) -> io::Result<()> {
        let start = Instant::now();
        for index in 0..self.state.peers.len() {
            self.state.send(index, start)?;
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
    /// Resets the counters for a new window.
    fn reset(&mut self, phase: Phase) {
        self.phase = phase;
        self.completed = 0;
        self.lost = 0;
        self.late = 0;
        self.latencies = Histogram::new();
    }

    /// `(datagrams answered, p50, p99)` so far.
    fn window(&self) -> (u64, u64, u64) {
        let quantile = |q| self.latencies.quantile(q);
        (self.completed, quantile(0.50), quantile(0.99))
    }

    /// Sends the next datagram on socket `index`; a full socket buffer is a loss found later.
    fn send(&mut self, index: usize, now: Instant) -> io::Result<()> {
        let peer = &mut self.peers[index];
        let seq = peer.next_seq;
        peer.next_seq += 1;
        self.datagram[..4].copy_from_slice(&(index as u32).to_le_bytes());
        self.datagram[4..HEADER].copy_from_slice(&seq.to_le_bytes());
        let offset = seq * self.datagram.len() as u64;
        self.pattern
            .fill(index as u64, offset, &mut self.datagram[HEADER..]);
        peer.in_flight.push((seq, now));
        match peer.socket.send(&self.datagram) {
            Ok(_) => Ok(()),
            Err(err) if is_transient(&err) => Ok(()),
            Err(err) => Err(io::Error::new(err.kind(), format!("udp send: {err}"))),
        }
    }

    /// Reads every datagram waiting on socket `index`.
    fn receive(&mut self, index: usize) -> io::Result<()> {
        loop {
            let n = match self.peers[index].socket.recv(&mut self.recv_buf) {
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(io::Error::new(err.kind(), format!("udp recv: {err}"))),
            };
            self.answer(index, n)?;
        }
    }

    /// Checks a reply of `n` bytes in `recv_buf` and completes its datagram.
    fn answer(&mut self, index: usize, n: usize) -> io::Result<()> {
        let reply = &self.recv_buf[..n];
        let wrong = || io::Error::other(format!("socket {}: wrong datagram echoed", index + 1));
        if n != self.datagram.len() || reply[..4] != (index as u32).to_le_bytes() {
            return Err(wrong());
        }
        let seq = u64::from_le_bytes(reply[4..HEADER].try_into().expect("8 bytes"));
        let offset = seq * n as u64;
        if !self.pattern.matches(index as u64, offset, &reply[HEADER..]) {
            return Err(wrong());
        }
        let peer = &mut self.peers[index];
        let Some(slot) = peer.in_flight.iter().position(|&(s, _)| s == seq) else {
            self.late += 1;
            return Ok(());
        };
        let (_, sent) = peer.in_flight.swap_remove(slot);
        let now = Instant::now();
        let latency = u64::try_from(now.saturating_duration_since(sent).as_nanos());
        self.latencies.record(latency.unwrap_or(u64::MAX));
        self.completed += 1;
        match self.phase {
            Phase::Timed => self.send(index, now),
            Phase::Ping | Phase::Drain => Ok(()),
        }
    }

    /// Gives up on datagrams sent before `now - LOSS_TIMEOUT`.
    fn expire(&mut self, now: Instant) -> io::Result<()> {
        for index in 0..self.peers.len() {
            let in_flight = &mut self.peers[index].in_flight;
            let before = in_flight.len();
            in_flight.retain(|&(_, sent)| now.saturating_duration_since(sent) < LOSS_TIMEOUT);
            for _ in in_flight.len()..before {
                self.lost += 1;
                if self.phase != Phase::Drain {
                    self.send(index, now)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a send error only means "not now" (the datagram counts as lost if never sent).
fn is_transient(err: &io::Error) -> bool {
    err.kind() == ErrorKind::WouldBlock || err.raw_os_error() == Some(ENOBUFS)
}

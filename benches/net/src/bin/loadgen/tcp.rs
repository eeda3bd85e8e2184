//! The TCP load: N connections on one mio `Poll`, each keeping D messages in flight, every
//! echoed byte checked against the pattern.
//!
//! Each connection is a byte stream with three counters: bytes queued (messages issued ×
//! size), bytes written and bytes received. The oldest message in flight completes when the
//! received count passes its end; its latency is now minus the instant it was issued, and in
//! the timed phase a new one is issued at once, so the count in flight stays D. Because TCP
//! may merge or split messages, nothing relies on message boundaries — only on the counters.
//! Reads stop at a short read (the socket is drained; edge-triggered readiness brings a new
//! event for the next byte), which keeps the generator's own syscalls to a read, a write and a
//! share of `epoll_wait` per round trip.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sock_netbench::{Histogram, Pattern};

/// Connections opened (and pinged) per batch, so no listen backlog overflows.
const CONNECT_BATCH: usize = 100;
/// How long a batch of pings, or the drain after the timed phase, may take.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// One connection's stream and counters.
struct Conn {
    /// The socket, registered readable and writable once.
    stream: TcpStream,
    /// Which pattern stream this connection carries (its index).
    id: u64,
    /// Bytes of all messages issued so far.
    queued: u64,
    /// Bytes the kernel has taken.
    written: u64,
    /// Bytes echoed back and checked.
    received: u64,
    /// When each message in flight was issued, oldest first.
    issued_at: VecDeque<Instant>,
}

/// What a timed run measured.
pub(crate) struct TimedReport {
    /// Round trips completed before the deadline.
    pub(crate) round_trips: u64,
    /// Length of the timed window.
    pub(crate) elapsed: Duration,
    /// Median and 99th percentile latency in the window, nanoseconds.
    pub(crate) p50_ns: u64,
    /// See `p50_ns`.
    pub(crate) p99_ns: u64,
    /// The slowest round trip in the window, nanoseconds.
    pub(crate) max_ns: u64,
    /// Round trips the server served in the window and the drain after it.
    pub(crate) served: u64,
}

/// Everything but the `Poll`, so events can be handled while they are iterated.
struct State {
    /// The connections, indexed by token.
    conns: Vec<Conn>,
    /// The byte pattern every stream carries.
    pattern: Pattern,
    /// Shared read buffer.
    read_buf: Vec<u8>,
    /// Shared write buffer, refilled from the pattern before each write.
    write_buf: Vec<u8>,
    /// Bytes per message.
    size: u64,
    /// Whether a completed message is replaced by a new one.
    reissue: bool,
    /// Messages in flight over all connections.
    outstanding: u64,
    /// Messages completed since the counter was last reset.
    completed: u64,
    /// Latencies of completed messages, nanoseconds.
    latencies: Histogram,
}

/// A set of echo connections and the loop that drives them.
pub(crate) struct EchoLoad {
    /// The readiness poller all connections are registered with.
    poll: Poll,
    /// Reused event buffer.
    events: Events,
    /// Connections and counters.
    state: State,
}

impl EchoLoad {
    /// An empty load sending `size`-byte messages with writes of at most `chunk` bytes.
    pub(crate) fn new(size: u64, chunk: usize) -> io::Result<Self> {
        Ok(Self {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            state: State {
                conns: Vec::new(),
                pattern: Pattern::new(),
                read_buf: vec![0; chunk.max(64 * 1024)],
                write_buf: vec![0; chunk],
                size,
                reissue: false,
                outstanding: 0,
                completed: 0,
                latencies: Histogram::new(),
            },
        })
    }

    /// Opens `count` connections in batches; with `ping`, each batch completes one round
    /// trip per connection before the next opens (so the server has accepted them all).
    pub(crate) fn connect(&mut self, addr: SocketAddr, count: usize, ping: bool) -> io::Result<()> {
        for first in (0..count).step_by(CONNECT_BATCH) {
            for index in first..count.min(first + CONNECT_BATCH) {
                self.open(addr, index, count)?;
                if ping {
                    self.state.issue(index, Instant::now());
                    self.state.flush(index)?;
                }
            }
            self.settle(SETTLE_LIMIT)?;
        }
        Ok(())
    }

    /// Keeps `depth` messages in flight on every connection for `duration`, then lets the
    /// ones still in flight come back.
    pub(crate) fn run_timed(
        &mut self,
        depth: usize,
        duration: Duration,
    ) -> io::Result<TimedReport> {
        self.state.start_window(true);
        let start = Instant::now();
        for index in 0..self.state.conns.len() {
            (0..depth).for_each(|_| self.state.issue(index, start));
            self.state.flush(index)?;
        }
        let deadline = start + duration;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            self.turn(Some(left))?;
        }
        let report = self.state.window_report(start.elapsed());
        self.state.reissue = false;
        self.settle(SETTLE_LIMIT)?;
        Ok(TimedReport {
            served: self.state.completed,
            ..report
        })
    }

    /// Sends one message on every connection and waits for all of them (bulk mode: one
    /// message of the whole size). Returns how long it took.
    pub(crate) fn run_once(&mut self, limit: Duration) -> io::Result<Duration> {
        self.state.start_window(false);
        let start = Instant::now();
        for index in 0..self.state.conns.len() {
            self.state.issue(index, start);
            self.state.flush(index)?;
        }
        self.settle(limit)?;
        Ok(start.elapsed())
    }

    /// Connects connection `index` (of `count`) with a blocking connect, then registers it.
    fn open(&mut self, addr: SocketAddr, index: usize, count: usize) -> io::Result<()> {
        let context = |err: io::Error| {
            io::Error::new(
                err.kind(),
                format!("connection {} of {count} to {addr}: {err}", index + 1),
            )
        };
        let std_stream = std::net::TcpStream::connect(addr).map_err(context)?;
        std_stream.set_nodelay(true)?;
        std_stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std_stream);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut stream, Token(index), interest)?;
        self.state.conns.push(Conn {
            stream,
            id: index as u64,
            queued: 0,
            written: 0,
            received: 0,
            issued_at: VecDeque::new(),
        });
        Ok(())
    }

    /// Runs the loop until nothing is in flight.
    ///
    /// # Errors
    ///
    /// `TimedOut` when messages are still in flight after `limit`.
    fn settle(&mut self, limit: Duration) -> io::Result<()> {
        let start = Instant::now();
        while self.state.outstanding > 0 {
            if start.elapsed() > limit {
                let msg = format!(
                    "{} messages still unanswered after {limit:?}",
                    self.state.outstanding
                );
                return Err(io::Error::new(ErrorKind::TimedOut, msg));
            }
            self.turn(Some(Duration::from_millis(100)))?;
        }
        Ok(())
    }

    /// Waits for events once and handles them.
    fn turn(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Err(err) if err.kind() == ErrorKind::Interrupted => return Ok(()),
            other => other?,
        }
        for event in &self.events {
            self.state.service(event.token().0)?;
        }
        Ok(())
    }
}

impl State {
    /// Resets the counters and latencies for a new measured window.
    fn start_window(&mut self, reissue: bool) {
        self.completed = 0;
        self.latencies = Histogram::new();
        self.reissue = reissue;
    }

    /// The window's numbers so far.
    fn window_report(&self, elapsed: Duration) -> TimedReport {
        TimedReport {
            round_trips: self.completed,
            elapsed,
            p50_ns: self.latencies.quantile(0.50),
            p99_ns: self.latencies.quantile(0.99),
            max_ns: self.latencies.max(),
            served: self.completed,
        }
    }

    /// Queues one more message on connection `index` (written by the next `flush`).
    fn issue(&mut self, index: usize, now: Instant) {
        let conn = &mut self.conns[index];
        conn.queued += self.size;
        conn.issued_at.push_back(now);
        self.outstanding += 1;
    }

    /// Handles an event on connection `index`: read and check, complete, reissue, write.
    fn service(&mut self, index: usize) -> io::Result<()> {
        self.receive(index)?;
        self.complete(index, Instant::now());
        self.flush(index)
    }

    /// Reads until drained, checking every byte against the pattern.
    fn receive(&mut self, index: usize) -> io::Result<()> {
        let conn = &mut self.conns[index];
        loop {
            let n = match conn.stream.read(&mut self.read_buf) {
                Ok(0) => return Err(broken(index, "the server closed the connection")),
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(broken(index, &err.to_string())),
            };
            let data = &self.read_buf[..n];
            if conn.received + n as u64 > conn.written {
                return Err(broken(index, "more bytes echoed than were sent"));
            }
            if !self.pattern.matches(conn.id, conn.received, data) {
                let at = conn.received;
                return Err(broken(
                    index,
                    &format!("wrong bytes echoed near offset {at}"),
                ));
            }
            conn.received += n as u64;
            if n < self.read_buf.len() {
                return Ok(());
            }
        }
    }

    /// Completes every message whose last byte has come back; reissues when asked to.
    fn complete(&mut self, index: usize, now: Instant) {
        let conn = &mut self.conns[index];
        loop {
            let in_flight = conn.issued_at.len() as u64;
            let Some(&issued) = conn.issued_at.front() else {
                return;
            };
            let end_of_oldest = conn.queued - (in_flight - 1) * self.size;
            if conn.received < end_of_oldest {
                return;
            }
            conn.issued_at.pop_front();
            let latency = now.saturating_duration_since(issued).as_nanos();
            self.latencies
                .record(u64::try_from(latency).unwrap_or(u64::MAX));
            self.completed += 1;
            self.outstanding -= 1;
            if self.reissue {
                conn.queued += self.size;
                conn.issued_at.push_back(now);
                self.outstanding += 1;
            }
        }
    }

    /// Writes queued bytes until all are written or the socket is full.
    fn flush(&mut self, index: usize) -> io::Result<()> {
        let conn = &mut self.conns[index];
        while conn.written < conn.queued {
            let len = (conn.queued - conn.written).min(self.write_buf.len() as u64) as usize;
            let chunk = &mut self.write_buf[..len];
            self.pattern.fill(conn.id, conn.written, chunk);
            match conn.stream.write(chunk) {
                Ok(n) => conn.written += n as u64,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(broken(index, &err.to_string())),
            }
        }
        Ok(())
    }
}

/// An error naming the connection it happened on.
fn broken(index: usize, what: &str) -> io::Error {
    io::Error::other(format!("connection {}: {what}", index + 1))
}

//! The soak's clients: threads that open a connection through the proxy, exchange a
//! few checksummed frames (each read back whole and compared with what was sent),
//! close it, and open the next, until told to stop. Blocking std sockets: the
//! clients are not what is tested.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sock_tests::harness::frame::{self, HEADER, TRAILER};
use sock_tests::harness::rng::Rng;

/// A client stops after this many connections even if not told to: every loop is
/// bounded in count as well as in time.
const MAX_CONNECTIONS: u64 = 200_000;

/// The longest payload the clients send.
const MAX_PAYLOAD: u64 = 8 * 1024;

/// A connect, read or write that waits this long fails as `timeout`.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// A connection that ended early.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The connection's number (in its frames).
    pub(crate) conn: u64,
    /// Its local port (what the proxy names it by before its first frame).
    pub(crate) port: u16,
    /// The operation that failed.
    pub(crate) op: &'static str,
    /// The error's name, as sock names kinds (`eof`, `connection_reset`, …).
    pub(crate) name: &'static str,
    /// Frames echoed before.
    pub(crate) frames: u32,
}

/// What one client saw.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) connections: u64,
    pub(crate) frames: u64,
    pub(crate) failures: Vec<Failure>,
    /// A line per corrupted frame (or stray bytes after the last echo).
    pub(crate) corrupt: Vec<String>,
}

impl Totals {
    /// Adds `other` to these.
    pub(crate) fn add(&mut self, other: Totals) {
        self.connections += other.connections;
        self.frames += other.frames;
        self.failures.extend(other.failures);
        self.corrupt.extend(other.corrupt);
    }
}

/// Frames echoed so far by every client, for progress lines.
pub(crate) static FRAMES: AtomicU64 = AtomicU64::new(0);

/// How a connection ended, when not well.
enum End {
    Failed(Failure),
    Corrupt(String),
}

/// Client `index`: connections to `proxy` until `stop` is set or `until` passes.
pub(crate) fn run(
    index: u32,
    proxy: SocketAddr,
    seed: u64,
    stop: &AtomicBool,
    until: Instant,
) -> Totals {
    let mut rng = Rng::derive(seed, &format!("client {index}"));
    let mut totals = Totals::default();
    for n in 0..MAX_CONNECTIONS {
        if stop.load(Ordering::Relaxed) || Instant::now() >= until {
            break;
        }
        totals.connections += 1;
        let id = (u64::from(index) << 32) | n;
        match connection(id, proxy, &mut rng, &mut totals.frames) {
            Ok(()) => {}
            Err(End::Failed(failure)) => totals.failures.push(failure),
            Err(End::Corrupt(what)) => totals.corrupt.push(format!("connection {id}: {what}")),
        }
    }
    totals
}

/// One connection: a few frames, each echoed and checked, then a close (a quarter of
/// the time a half-close, whose EOF must come back).
fn connection(id: u64, proxy: SocketAddr, rng: &mut Rng, frames: &mut u64) -> Result<(), End> {
    let stream = TcpStream::connect_timeout(&proxy, IO_LIMIT)
        .map_err(|e| End::Failed(failure(id, 0, "connect", 0, &e)))?;
    let mut conn = Conn {
        id,
        port: stream.local_addr().map_or(0, |a| a.port()),
        stream,
        done: 0,
    };
    conn.configure();
    for sequence in 0..rng.range(1, 12) as u32 {
        conn.exchange(sequence, rng)?;
        *frames += 1;
        FRAMES.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(rng.range(2, 6)));
    }
    if rng.chance(25) {
        conn.half_close()?;
    }
    Ok(())
}

/// An open connection of a client.
struct Conn {
    id: u64,
    port: u16,
    stream: TcpStream,
    /// Frames echoed so far.
    done: u32,
}

impl Conn {
    /// `TCP_NODELAY`, and timeouts so nothing waits forever.
    fn configure(&self) {
        let _ = self.stream.set_nodelay(true);
        let _ = self.stream.set_read_timeout(Some(IO_LIMIT));
        let _ = self.stream.set_write_timeout(Some(IO_LIMIT));
    }

    /// The failure of `op` with `e`.
    fn failed(&self, op: &'static str, e: &io::Error) -> End {
        End::Failed(failure(self.id, self.port, op, self.done, e))
    }

    /// Sends frame `sequence` with a random payload and checks its echo.
    fn exchange(&mut self, sequence: u32, rng: &mut Rng) -> Result<(), End> {
        let mut payload = vec![0; rng.range(0, MAX_PAYLOAD) as usize];
        rng.fill(&mut payload);
        let sent = frame::encode(self.id, sequence, &payload);
        (&self.stream)
            .write_all(&sent)
            .map_err(|e| self.failed("send", &e))?;
        let back = self.read_frame()?;
        compare(self.id, &sent, &back).map_err(End::Corrupt)?;
        self.done += 1;
        Ok(())
    }

    /// Reads one frame: the header, then as many bytes as it announces.
    fn read_frame(&self) -> Result<Vec<u8>, End> {
        let mut stream = &self.stream;
        let mut head = [0u8; HEADER];
        stream
            .read_exact(&mut head)
            .map_err(|e| self.failed("recv", &e))?;
        let header = frame::header(&head)
            .map_err(|bad| End::Corrupt(format!("frame {}: header: {bad}", self.done)))?;
        let mut bytes = vec![0u8; HEADER + header.len + TRAILER];
        bytes[..HEADER].copy_from_slice(&head);
        stream
            .read_exact(&mut bytes[HEADER..])
            .map_err(|e| self.failed("recv", &e))?;
        Ok(bytes)
    }

    /// Shuts down the sending side and waits for the server's EOF (nothing else may
    /// come).
    fn half_close(&self) -> Result<(), End> {
        let mut stream = &self.stream;
        let fail = |e: io::Error| self.failed("half-close", &e);
        stream.shutdown(Shutdown::Write).map_err(fail)?;
        let mut extra = [0u8; 64];
        match stream.read(&mut extra).map_err(fail)? {
            0 => Ok(()),
            n => Err(End::Corrupt(format!("{n} bytes after the last echo"))),
        }
    }
}

/// Compares the echo with the frame sent; says how it differs.
fn compare(id: u64, sent: &[u8], back: &[u8]) -> Result<(), String> {
    if sent == back {
        return Ok(());
    }
    match frame::check(back) {
        Err(bad) => Err(format!("echo has a {bad}")),
        Ok(h) if h.connection != id => {
            Err(format!("echo is a frame of connection {}", h.connection))
        }
        Ok(h) => Err(format!(
            "echo is frame {} with a good checksum, not the one sent",
            h.sequence
        )),
    }
}

/// The failure of `op` on connection `id` with `e`, named as sock names kinds.
fn failure(id: u64, port: u16, op: &'static str, frames: u32, e: &io::Error) -> Failure {
    Failure {
        conn: id,
        port,
        op,
        name: name_of(e),
        frames,
    }
}

/// sock's name for an std error: a read or write timeout is `timeout` (std reports
/// `EAGAIN` for it), an early EOF `eof`, the rest by sock's own classification.
pub(crate) fn name_of(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timeout",
        io::ErrorKind::UnexpectedEof => "eof",
        kind => {
            let copy = e
                .raw_os_error()
                .map_or(io::Error::from(kind), io::Error::from_raw_os_error);
            sock::Error::from(copy).name()
        }
    }
}

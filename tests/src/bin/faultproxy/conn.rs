//! One proxied connection: the client's socket, the upstream one, a thread per
//! direction, and the cut.
//!
//! A cut is made once: a `fault conn=ID port=PORT kind=drop|rst dir=up|down at=N` line
//! (ID from the client's first frame, `-` before it came; PORT the client's), then
//! both sockets are shut down — for a reset after `SO_LINGER` 0 is set, and only
//! their reading side, so no FIN goes out before the RST their close sends. A thread
//! that finds the connection cut stops without a word; one that reads EOF passes the
//! half-close on.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sock_tests::harness::frame;
use sock_tests::harness::rng::Rng;

use crate::plan::{Cut, CutKind, Dir, Plan};

/// A read or write that waits this long ends the connection (no hang, whatever).
const IO_LIMIT: Duration = Duration::from_secs(60);

/// A bytewise connection writes this much of each chunk one byte at a time: the
/// headers of the frames in it are cut up, and the soak stays cheap enough for a
/// machine shared with others.
const BYTEWISE: usize = 256;

/// The proxy's counters.
pub(crate) struct Stats {
    pub(crate) connections: AtomicU64,
    whole_drops: AtomicU64,
    drops: AtomicU64,
    resets: AtomicU64,
    delayed: AtomicU64,
    bytewise: AtomicU64,
    upstream_failed: AtomicU64,
    aborted: AtomicU64,
}

/// The counters of this process.
pub(crate) static STATS: Stats = Stats {
    connections: AtomicU64::new(0),
    whole_drops: AtomicU64::new(0),
    drops: AtomicU64::new(0),
    resets: AtomicU64::new(0),
    delayed: AtomicU64::new(0),
    bytewise: AtomicU64::new(0),
    upstream_failed: AtomicU64::new(0),
    aborted: AtomicU64::new(0),
};

impl Stats {
    /// `connections=N whole_drops=N …`, the words of the `stats` line.
    pub(crate) fn line() -> String {
        let s = &STATS;
        let counters = [
            ("connections", &s.connections),
            ("whole_drops", &s.whole_drops),
            ("drops", &s.drops),
            ("resets", &s.resets),
            ("delayed", &s.delayed),
            ("bytewise", &s.bytewise),
            ("upstream_failed", &s.upstream_failed),
            ("aborted", &s.aborted),
        ];
        let words: Vec<String> = counters
            .iter()
            .map(|(name, n)| format!("{name}={}", n.load(Ordering::Relaxed)))
            .collect();
        words.join(" ")
    }
}

/// Adds one to `counter`.
fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Forwards `client` to `upstream` under `plan`, until both directions end.
pub(crate) fn run(client: TcpStream, upstream: &str, plan: Plan) {
    let port = client.peer_addr().map_or(0, |a| a.port());
    if plan
        .cut
        .is_some_and(|c| c.at == 0 && c.dir == Dir::Up && c.kind == CutKind::Drop)
    {
        println!("fault conn=- port={port} kind=drop dir=up at=0");
        count(&STATS.whole_drops);
        return; // dropped whole: closed before a byte moved or upstream was asked
    }
    let Ok(upstream) = TcpStream::connect(upstream) else {
        println!("error upstream-connect port={port}");
        return count(&STATS.upstream_failed);
    };
    let conn = Conn::new(client, upstream, port, plan);
    let mut rng = conn.plan.rng.clone();
    let (up, down) = (Rng::new(rng.next_u64()), Rng::new(rng.next_u64()));
    std::thread::scope(|s| {
        s.spawn(|| forward(&conn, Dir::Down, down));
        forward(&conn, Dir::Up, up);
    });
}

/// Both ends of a proxied connection and what is planned for it.
struct Conn {
    client: TcpStream,
    upstream: TcpStream,
    /// The client's port, to name the connection before its first frame came.
    port: u16,
    plan: Plan,
    /// Set once the connection was cut (or aborted).
    cut: AtomicBool,
    /// The first bytes the client sent (up to 12: the frame's magic and connection).
    first: Mutex<Vec<u8>>,
}

impl Conn {
    fn new(client: TcpStream, upstream: TcpStream, port: u16, plan: Plan) -> Conn {
        for s in [&client, &upstream] {
            let _ = s.set_nodelay(true);
            let _ = s.set_read_timeout(Some(IO_LIMIT));
            let _ = s.set_write_timeout(Some(IO_LIMIT));
        }
        if plan.delay_ms.is_some() {
            count(&STATS.delayed);
        }
        if plan.bytewise {
            count(&STATS.bytewise);
        }
        Conn {
            client,
            upstream,
            port,
            plan,
            cut: AtomicBool::new(false),
            first: Mutex::new(Vec::new()),
        }
    }

    /// The socket read and the socket written in direction `dir`.
    fn ends(&self, dir: Dir) -> (&TcpStream, &TcpStream) {
        match dir {
            Dir::Up => (&self.client, &self.upstream),
            Dir::Down => (&self.upstream, &self.client),
        }
    }

    /// Keeps the first 12 bytes the client sent.
    fn learn(&self, bytes: &[u8]) {
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        let room = 12usize.saturating_sub(first.len()).min(bytes.len());
        first.extend_from_slice(&bytes[..room]);
    }

    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Acquire)
    }

    /// Cuts the connection as `cut` says, once, and says so.
    fn cut(&self, cut: Cut) {
        if self.cut.swap(true, Ordering::AcqRel) {
            return;
        }
        let first = self.first.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let id = frame::connection_of(&first).map_or("-".to_string(), |c| c.to_string());
        let (kind, dir, at, port) = (cut.kind.name(), cut.dir.name(), cut.at, self.port);
        println!("fault conn={id} port={port} kind={kind} dir={dir} at={at}");
        let how = match cut.kind {
            CutKind::Drop => {
                count(&STATS.drops);
                Shutdown::Both
            }
            CutKind::Rst => {
                count(&STATS.resets);
                for s in [&self.client, &self.upstream] {
                    let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
                }
                Shutdown::Read
            }
        };
        let _ = self.client.shutdown(how);
        let _ = self.upstream.shutdown(how);
    }

    /// Ends both directions after an unplanned error (no fault line: the ends see
    /// EOF, and a failure that follows is the soak's to explain).
    fn abort(&self) {
        if !self.cut.swap(true, Ordering::AcqRel) {
            count(&STATS.aborted);
            let _ = self.client.shutdown(Shutdown::Both);
            let _ = self.upstream.shutdown(Shutdown::Both);
        }
    }
}

/// Copies direction `dir` until EOF, an error or the cut, delaying and fragmenting
/// as planned.
fn forward(conn: &Conn, dir: Dir, mut rng: Rng) {
    let (from, to) = conn.ends(dir);
    let cut = conn.plan.cut.filter(|c| c.dir == dir);
    let mut buf = vec![0u8; 16 * 1024];
    let mut moved = 0u64;
    loop {
        let read = (&*from).read(&mut buf);
        if conn.is_cut() {
            return;
        }
        let n = match read {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write); // pass the half-close on
                return;
            }
            Ok(n) => n,
            Err(_) => return conn.abort(),
        };
        if dir == Dir::Up {
            conn.learn(&buf[..n]);
        }
        let until_cut = cut.map_or(u64::MAX, |c| c.at.saturating_sub(moved));
        let chunk = &buf[..n.min(usize::try_from(until_cut).unwrap_or(usize::MAX))];
        pause(&mut rng, conn.plan.delay_ms);
        if write(to, chunk, conn.plan.bytewise).is_err() {
            return conn.abort();
        }
        moved += chunk.len() as u64;
        if let Some(c) = cut.filter(|c| moved >= c.at) {
            return conn.cut(c);
        }
    }
}

/// Sleeps up to `delay_ms`, when the plan delays.
fn pause(rng: &mut Rng, delay_ms: Option<u64>) {
    if let Some(max) = delay_ms {
        std::thread::sleep(Duration::from_millis(rng.range(0, max)));
    }
}

/// Writes `chunk` whole, or its first [`BYTEWISE`] bytes one per `write` (every
/// frame header split into single bytes) and then the rest.
fn write(mut to: &TcpStream, chunk: &[u8], bytewise: bool) -> std::io::Result<()> {
    let singles = if bytewise {
        chunk.len().min(BYTEWISE)
    } else {
        0
    };
    let (head, rest) = chunk.split_at(singles);
    head.chunks(1).try_for_each(|byte| to.write_all(byte))?;
    to.write_all(rest)
}

//! Out of fds: with `RLIMIT_NOFILE` at 64 and 200 clients (in a child process), the
//! accept loop neither spins nor stops serving: each failed accept sheds one pending
//! connection, accept calls stay bounded, and an existing connection keeps echoing —
//! in a loop (`Tcp`) and on a shared poller with two workers (`SharedTcp`, Linux).
//!
//! The plain accept loop of issue 11 (`Err(_) => continue`, no back-off) is measured in
//! a server child process of its own under the limit: while 200 clients hold it at its
//! limit its CPU time stays under 20 % of the wall time (an accept that finds no
//! connection waiting parks, even though Linux says `EMFILE` before it looks), clients
//! connected before the flood are still served, and new clients are served once the
//! flood lets go of its fds.
//!
//! One test binary of its own, because the limit applies to the whole process; the
//! cases take turns (`serial`).

#![cfg(unix)]

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family};
use sock_tests::PATIENCE;

const CLIENTS: usize = 200;
const CHILD_ENV: &str = "SOCK_EMFILE_CLIENT_PORT";

/// The child: 200 blocking clients that all stay open, then each says one byte and
/// waits for its echo. Prints `echoed=N failed=M`.
#[test]
fn emfile_client() {
    let Ok(port) = std::env::var(CHILD_ENV) else {
        return;
    };
    set_fd_limit(libc::rlim_t::MAX); // the parent's low limit was inherited: lift it to the hard one
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut conns = Vec::new();
    let (mut echoed, mut failed) = (0, 0);
    for _ in 0..CLIENTS {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(c) => conns.push(c),
            Err(_) => failed += 1,
        }
    }
    for c in &mut conns {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut b = [0u8; 1];
        match c.write_all(b"x").and_then(|()| c.read_exact(&mut b)) {
            Ok(()) if b == *b"x" => echoed += 1,
            _ => failed += 1,
        }
    }
    println!("echoed={echoed} failed={failed}");
}

/// Sets the soft fd limit (at most the hard one); returns the old soft limit.
fn set_fd_limit(soft: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    let old = lim.rlim_cur;
    lim.rlim_cur = soft.min(lim.rlim_max);
    // SAFETY: `lim` is a valid rlimit; a soft limit up to the hard one is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    old
}

/// One case at a time: each lowers the whole process's fd limit.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the 200 clients of `emfile_client` in a child process against `port`.
fn spawn_clients(port: u16) -> Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "emfile_client",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, port.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// How often the parent looks whether the clients are done.
const POLL_CHILD: Duration = Duration::from_millis(20);

/// Whether the clients still run; fails the test after a minute of waiting (`waited`
/// counts the [`POLL_CHILD`] pauses between calls).
fn still_running(child: &mut Child, waited: &mut Duration) -> bool {
    if child.try_wait().unwrap().is_some() {
        return false;
    }
    assert!(*waited < Duration::from_secs(60), "the clients hung");
    *waited += POLL_CHILD;
    true
}

/// How many of the ended child's clients got their echo.
fn echoed(mut child: Child) -> usize {
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    eprintln!("clients: {}", out.replace('\n', " "));
    out.split("echoed=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("child said: {out}"))
}

/// The assertions both cases share, on the accept counts and the clients' echoes.
fn check(ok: u32, emfile: u32, echoed: usize) {
    eprintln!("accepted={ok} emfile={emfile}");
    assert!(emfile > 0, "the fd limit was never hit (ok={ok})");
    assert!(
        ok + emfile < 2_000,
        "accept spun: {ok} accepted, {emfile} EMFILE"
    );
    assert!(
        echoed > 0 && echoed < CLIENTS,
        "echoed {echoed} of {CLIENTS} under a limit of 64"
    );
}

#[test]
fn accept_under_emfile_is_bounded_and_keeps_serving() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let _serial = serial();
    sock::run(async {
        let listener = sock::tcp(Family::INET).unwrap();
        listener.listen("127.0.0.1", 0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepts = Rc::new(Cell::new((0u32, 0u32))); // (ok, too many open files)
        let counts = accepts.clone();
        sock::thread(async move {
            loop {
                match listener.accept().await {
                    Ok(conn) => {
                        counts.set((counts.get().0 + 1, counts.get().1));
                        sock::thread(echo(conn));
                    }
                    Err(e) if e.kind() == ErrorKind::TooManyOpenFiles => {
                        counts.set((counts.get().0, counts.get().1 + 1));
                        sock::sleep(Duration::from_millis(1)).await;
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        // A connection made before the flood.
        let existing = sock::tcp(Family::INET).unwrap();
        existing
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();

        let old = set_fd_limit(64);
        let mut child = spawn_clients(port);
        let mut waited = Duration::ZERO;
        while still_running(&mut child, &mut waited) {
            sock::sleep(POLL_CHILD).await;
        }
        set_fd_limit(old);
        let (ok, emfile) = accepts.get();
        check(ok, emfile, echoed(child));
        existing.send(b"still here").await.unwrap();
        let mut buf = [0u8; 10];
        existing.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf, b"still here");
    });
}

async fn echo(conn: sock::Tcp) {
    let mut buf = [0u8; 64];
    while let Ok(n @ 1..) = conn.recv(&mut buf).await {
        if conn.send(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// The server child of the CPU cases runs this plain loop (`SOCK_EMFILE_SERVER` names
/// the mode), under an fd limit of 64, until its stdin closes.
const SERVER_ENV: &str = "SOCK_EMFILE_SERVER";
/// The server child's `RLIMIT_NOFILE`.
const SERVER_FD_LIMIT: libc::rlim_t = 64;
/// Clients connected before the flood, and clients that come after it.
const EARLY: usize = 3;
const LATE: usize = 5;
/// How long the flood holds the server at its fd limit while its CPU time is measured.
const HOLD: Duration = Duration::from_secs(1);
/// The most CPU time, as a share of the wall time, the flooded server may use.
const MAX_CPU_SHARE: f64 = 0.20;

/// The server child's accept results: connections, errors.
static ACCEPTED: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);

/// The server child: a plain accept loop under the fd limit, told what to do on stdin.
#[test]
fn emfile_server() {
    let Ok(mode) = std::env::var(SERVER_ENV) else {
        return;
    };
    set_fd_limit(SERVER_FD_LIMIT);
    obey_stdin();
    match mode.as_str() {
        "loop" => serve_in_a_loop(),
        #[cfg(target_os = "linux")]
        "shared" => shared::serve_on_a_shared_poller(),
        other => panic!("no server mode {other:?}"),
    }
}

/// The plain accept loop of issue 11: every error is ignored and the loop accepts again
/// at once, with no back-off.
fn serve_in_a_loop() {
    sock::run(async {
        let listener = sock::tcp(Family::INET).unwrap();
        listener.listen("127.0.0.1", 0).unwrap();
        announce(listener.local_addr().unwrap().port());
        loop {
            match listener.accept().await {
                Ok(conn) => {
                    ACCEPTED.fetch_add(1, Ordering::Relaxed);
                    sock::thread(echo(conn));
                }
                Err(_) => {
                    FAILED.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
        }
    })
}

/// Tells the test the server's port.
fn announce(port: u16) {
    println!("port={port}");
}

/// Answers the test on a thread of its own: `cpu` gets this process's CPU time so far;
/// the end of stdin (or anything else) gets the accept counts and ends the process. A
/// watchdog ends it after a minute in any case.
fn obey_stdin() {
    std::thread::spawn(|| {
        for line in std::io::stdin().lines() {
            match line.as_deref() {
                Ok("cpu") => println!("cpu_us={}", cpu_micros()),
                _ => break,
            }
        }
        let (ok, failed) = (
            ACCEPTED.load(Ordering::Relaxed),
            FAILED.load(Ordering::Relaxed),
        );
        println!("accepted={ok} failed={failed}");
        std::process::exit(0);
    });
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(60));
        eprintln!("server: no word from the test for a minute");
        std::process::exit(3);
    });
}

/// User plus system CPU time of this process, in microseconds (`getrusage`).
fn cpu_micros() -> u64 {
    // SAFETY: all-zero is a valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid `rusage` to fill.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    micros(usage.ru_utime) + micros(usage.ru_stime)
}

/// The test's side of a server child; killed if the test fails half-way.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
    port: u16,
}

impl Server {
    /// Starts the server child in `mode` and reads its port.
    fn spawn(mode: &str) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "emfile_server",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SERVER_ENV, mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut server = Server {
            child,
            stdin,
            out,
            port: 0,
        };
        server.port = server.read_value("port=").parse().unwrap();
        server
    }

    /// The value of the next word of the child's output that starts with `prefix` (the
    /// first such word may share its line with the test harness's `test ... `).
    fn read_value(&mut self, prefix: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the server ended before saying {prefix}");
            if let Some(value) = line.split_whitespace().find_map(|w| w.strip_prefix(prefix)) {
                return value.to_owned();
            }
        }
    }

    /// The server's CPU time so far.
    fn cpu(&mut self) -> Duration {
        writeln!(self.stdin.as_mut().unwrap(), "cpu").unwrap();
        Duration::from_micros(self.read_value("cpu_us=").parse().unwrap())
    }

    /// Ends the server (closes its stdin) and returns its accept counts.
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let mut rest = String::new();
        self.out.read_to_string(&mut rest).unwrap();
        let counts = rest.lines().find(|l| l.starts_with("accepted="));
        counts.unwrap_or("no counts").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that has had `msg` echoed by the server at `port`.
fn echoed_client(port: u16, msg: &[u8]) -> std::io::Result<TcpStream> {
    let addr = ([127, 0, 0, 1], port).into();
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    echo_on(&mut c, msg)?;
    Ok(c)
}

/// Sends `msg` on `c` and checks that it comes back.
fn echo_on(c: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    c.write_all(msg)?;
    let mut back = vec![0u8; msg.len()];
    c.read_exact(&mut back)?;
    match back == msg {
        true => Ok(()),
        false => Err(std::io::Error::other("echo differs")),
    }
}

/// A client served once the server has fds again (it may shed the first tries).
fn late_client(port: u16) -> TcpStream {
    let mut last = None;
    for _ in 0..20 {
        match echoed_client(port, b"late") {
            Ok(c) => return c,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("a client after the flood was never served: {last:?}");
}

/// 200 clients connected as fast as they go; those whose connect succeeded are kept
/// open (a connection the server sheds at once may report the reset instead).
fn flood(port: u16) -> Vec<TcpStream> {
    let addr = ([127, 0, 0, 1], port).into();
    (0..CLIENTS)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect()
}

/// How many of the flood's clients get an echo (the server kept about 60 of them).
fn flood_echoes(clients: &mut [TcpStream]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    for c in clients.iter_mut() {
        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = c.write_all(b"f");
    }
    let mut echoed = 0;
    for c in clients.iter_mut() {
        let mut b = [0u8; 1];
        if Instant::now() < deadline && c.read_exact(&mut b).is_ok() {
            echoed += 1;
        }
    }
    echoed
}

/// Floods the server and holds it at its limit for [`HOLD`]; returns its CPU time as a
/// share of the wall time from the flood's start, that time, and the flood's clients.
fn flood_and_measure(server: &mut Server) -> (f64, Duration, Vec<TcpStream>) {
    let (cpu0, wall0) = (server.cpu(), Instant::now());
    let clients = flood(server.port);
    std::thread::sleep(HOLD);
    let (cpu1, window) = (server.cpu(), wall0.elapsed());
    let share = (cpu1 - cpu0).as_secs_f64() / window.as_secs_f64();
    (share, window, clients)
}

/// One CPU case: early clients, the flood held for [`HOLD`] while the server's CPU
/// time is measured, then the early clients again and new ones after the flood.
fn plain_loop_under_emfile(mode: &str) {
    if std::env::var(CHILD_ENV).is_ok() || std::env::var(SERVER_ENV).is_ok() {
        return;
    }
    let _serial = serial(); // the other cases lower this process's limit: not now
    let mut server = Server::spawn(mode);
    let mut early: Vec<_> = (0..EARLY)
        .map(|_| echoed_client(server.port, b"early").unwrap())
        .collect();
    let (share, window, mut clients) = flood_and_measure(&mut server);
    let connected = clients.len();
    let echoed = flood_echoes(&mut clients);
    for c in &mut early {
        echo_on(c, b"still here").expect("an early client is still served");
    }
    drop(clients);
    let late: Vec<_> = (0..LATE).map(|_| late_client(server.port)).collect();
    let counts = server.finish();
    eprintln!(
        "{mode}: server CPU {:.1} % of {:?} at the limit; flood: {connected} connects saw no reset, \
         {echoed} echoed; {} late served; {counts}",
        share * 100.0,
        window,
        late.len()
    );
    assert!(
        share < MAX_CPU_SHARE,
        "the accept loop spun: {:.0} % CPU",
        share * 100.0
    );
    assert!(
        echoed > 0 && echoed < CLIENTS,
        "{echoed} flood clients echoed"
    );
}

#[test]
fn plain_accept_loop_parks_under_emfile() {
    plain_loop_under_emfile("loop");
}

/// The shared-poller mode: the accept runs on whichever of two workers dequeued the
/// listener's event; each keeps its own spare fd.
#[cfg(target_os = "linux")]
mod shared {
    use std::sync::Arc;
    use std::thread;

    use sock::sched::mt;
    use sock::{
        ErrorKind, Family,
        shared::{SharedLoop, SharedTcp},
    };
    use sock_tests::PATIENCE;

    use super::*;

    #[test]
    fn plain_shared_accept_loop_parks_under_emfile() {
        plain_loop_under_emfile("shared");
    }

    /// The server child's shared mode: the plain loop on two workers of a shared poller.
    pub(super) fn serve_on_a_shared_poller() {
        let lp = SharedLoop::new().unwrap();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let lp = lp.clone();
                thread::spawn(move || lp.start())
            })
            .collect();
        let listener = lp.tcp(Family::INET).unwrap();
        listener.listen("127.0.0.1", 0).unwrap();
        announce(listener.local_addr().unwrap().port());
        lp.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(conn) => {
                        ACCEPTED.fetch_add(1, Ordering::Relaxed);
                        mt::spawn(echo(conn)).detach();
                    }
                    Err(_) => {
                        FAILED.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
            }
        })
        .detach();
        for w in workers {
            w.join().unwrap();
        }
    }

    #[test]
    fn shared_accept_under_emfile_is_bounded_and_keeps_serving() {
        if std::env::var(CHILD_ENV).is_ok() {
            return;
        }
        let _serial = serial();
        let lp = SharedLoop::new().unwrap();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let lp = lp.clone();
                thread::spawn(move || lp.start())
            })
            .collect();
        let listener = lp.tcp(Family::INET).unwrap();
        listener.listen("127.0.0.1", 0).unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port();
        let counts = Arc::new((AtomicU32::new(0), AtomicU32::new(0))); // (ok, EMFILE)
        lp.spawn(accept_loop(listener, counts.clone())).detach();
        let existing = lp
            .spawn(async move {
                let c = SharedTcp::new(Family::INET)?;
                c.connect_to(&addr).timeout(PATIENCE).await?;
                Ok::<_, sock::Error>(c)
            })
            .join()
            .unwrap();

        let old = set_fd_limit(64);
        let mut child = spawn_clients(port);
        let mut waited = Duration::ZERO;
        while still_running(&mut child, &mut waited) {
            thread::sleep(POLL_CHILD);
        }
        set_fd_limit(old);
        let (ok, emfile) = (
            counts.0.load(Ordering::Relaxed),
            counts.1.load(Ordering::Relaxed),
        );
        check(ok, emfile, echoed(child));

        let back = lp
            .spawn(async move {
                existing.send(b"still here").await?;
                let mut buf = [0u8; 10];
                existing.recvn(&mut buf).timeout(PATIENCE).await?;
                Ok::<_, sock::Error>(buf)
            })
            .join()
            .unwrap();
        assert_eq!(&back, b"still here");
        lp.stop();
        for w in workers {
            w.join().unwrap();
        }
    }

    async fn accept_loop(listener: SharedTcp, counts: Arc<(AtomicU32, AtomicU32)>) {
        loop {
            match listener.accept().await {
                Ok(conn) => {
                    counts.0.fetch_add(1, Ordering::Relaxed);
                    mt::spawn(echo(conn)).detach();
                }
                Err(e) if e.kind() == ErrorKind::TooManyOpenFiles => {
                    counts.1.fetch_add(1, Ordering::Relaxed);
                    mt::sleep(Duration::from_millis(1)).await;
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }

    async fn echo(conn: SharedTcp) {
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = conn.recv(&mut buf).await {
            if conn.send(&buf[..n]).await.is_err() {
                break;
            }
        }
    }
}

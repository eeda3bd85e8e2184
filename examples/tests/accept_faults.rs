//! The echo server's accept loop under injected `accept4` failures (Linux, `strace
//! --inject`): after errors of one connection (`ECONNABORTED`, `EPROTO`, `ENOBUFS`,
//! `EPERM`) it goes on and serves 5 clients of 5; after a fatal one (`EBADF`) it stops.
//!
//! The server is the `echo_server` example's (`serve::listener` + `echo::serve`), run in
//! a child process: this test binary re-executed under `strace -f`, which fails every
//! other `accept4` call from the third on with the error (`when=3+2`). The clients come
//! one at a time, each costing an `accept4` that succeeds and one that finds nothing
//! more waiting, so from the second client on each one's connection is waiting when a
//! failure is injected; it stays queued and the next `accept4` finds it. The fatal case
//! fails the third call only. strace must be installed: without it the tests fail.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "SOCK_ACCEPT_FAULTS_SERVER";
const CLIENTS: usize = 5;

/// The child: the echo server on an ephemeral port; says `port=N`, and `stopped=KIND/CODE`
/// if the accept loop ends. Exits when its stdin closes.
#[test]
fn echo_server_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let result = sock::run(async {
        let listener = sock_examples::serve::listener("127.0.0.1", 0)?;
        println!("port={}", listener.local_addr()?.port());
        sock_examples::echo::serve(listener).await
    });
    match result {
        Ok(()) => println!("stopped=ok"),
        Err(e) => println!("stopped={}/{}", e.name(), e.raw_os_error().unwrap_or(0)),
    }
}

#[test]
fn echo_server_goes_on_after_per_connection_accept_errors() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    for error in ["ECONNABORTED", "EPROTO", "ENOBUFS", "EPERM"] {
        let mut server = Server::spawn(&format!("{error}:when=3+2"));
        let served = (0..CLIENTS).filter(|&i| client(server.port, i)).count();
        eprintln!(
            "accept4 failing on every other call with {error}: {served} of {CLIENTS} clients served"
        );
        assert_eq!(served, CLIENTS, "after {error} the server stopped serving");
        assert!(server.has_not_exited(), "after {error} the server exited");
    }
}

#[test]
fn echo_server_stops_on_a_fatal_accept_error() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let mut server = Server::spawn("EBADF:when=3");
    // Two connections reach the third accept4 whatever the order of events; whether the
    // first is echoed before the loop stops is a race (the stop ends the server), so only
    // the connections are made here.
    let addr = ([127, 0, 0, 1], server.port).into();
    let _first = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    let _second = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    let stopped = server.value("stopped=");
    eprintln!("accept4 failing with EBADF: the loop stopped with {stopped}");
    assert_eq!(stopped, "other/9", "EBADF is 9 on every Linux architecture");
}

/// One client: connects, sends a line, and checks that it comes back.
fn client(port: u16, i: usize) -> bool {
    let addr = ([127, 0, 0, 1], port).into();
    let attempt = || -> std::io::Result<()> {
        let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        let msg = format!("client {i}\n");
        c.write_all(msg.as_bytes())?;
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back)?;
        match back == msg.as_bytes() {
            true => Ok(()),
            false => Err(std::io::Error::other("echo differs")),
        }
    };
    attempt().map_err(|e| eprintln!("client {i}: {e}")).is_ok()
}

/// The echo server child under strace; ended when dropped.
struct Server {
    child: Child,
    /// Closed to end the child.
    stdin: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
    port: u16,
}

impl Server {
    /// Starts the child under `strace -f`, its `accept4` calls failing as `fault`
    /// says (`ERROR:when=…`, strace's syntax).
    fn spawn(fault: &str) -> Server {
        let exe = std::env::current_exe().unwrap();
        let inject = format!("inject=accept4:error={fault}");
        let mut child = Command::new("strace")
            .args(["-f", "-qq", "--seccomp-bpf", "-o", "/dev/null"])
            .args(["-e", "trace=accept4", "-e", &inject])
            .arg(exe)
            .args(["echo_server_child", "--exact", "--nocapture"])
            .args(["--test-threads=1"])
            .env(CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("strace must be installed (apt-get install strace): {e}"));
        let stdin = child.stdin.take();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut server = Server {
            child,
            stdin,
            out,
            port: 0,
        };
        server.port = server.value("port=").parse().unwrap();
        server
    }

    /// The value of the next word of the child's output that starts with `prefix` (it
    /// may share its line with the test harness's `test ... `).
    fn value(&mut self, prefix: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the server ended without saying {prefix}");
            if let Some(v) = line.split_whitespace().find_map(|w| w.strip_prefix(prefix)) {
                return v.to_owned();
            }
        }
    }

    /// Whether the server still runs, a moment after its last client.
    fn has_not_exited(&mut self) -> bool {
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

impl Drop for Server {
    /// Closes the child's stdin (it exits, and strace with it); kills strace if that
    /// takes more than 5 s.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

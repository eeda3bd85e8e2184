//! The echo server's claim, in heap bytes: an idle connection holds no buffer, so 200
//! idle connections cost at most 1 KiB of live heap each; and the same measurement sees
//! a 64 KiB buffer held per connection, so the check can fail.
//!
//! The server is the `echo_server` example's (`serve::listener`, `echo::serve`,
//! `heap::report_on_stdin`) in a child process: this test binary re-executed, its
//! global allocator the counting one, so the test's own connections are not counted.
//! As in netbench, one connection is served and closed before the first reading (the
//! buffer pool then already holds its buffer); then 200 connections each do one round
//! trip and stay open, silent, for the second. Linux only: the figure is measured
//! there (epoll); the other pollers' registrations are not.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sock::Tcp;
use sock_examples::heap::{self, Counting};

/// Counts the child server's heap.
#[global_allocator]
static ALLOC: Counting = Counting;

const CHILD_ENV: &str = "SOCK_IDLE_HEAP_SERVER";
const IDLE: usize = 200;
/// The claim: live heap per idle connection, at most.
const LIMIT: usize = 1024;
/// The buffer the control server holds per connection (the echo pool's size).
const HELD: usize = sock_examples::echo::BUF_SIZE;

/// The child: the echo server on an ephemeral port (`pooled`), or one whose connections
/// each hold a buffer (`held`); says `port=N`, answers heap questions on stdin, exits
/// when stdin closes.
#[test]
fn echo_server_child() {
    let Some(mode) = std::env::var(CHILD_ENV).ok() else {
        return;
    };
    let reporter = heap::report_on_stdin();
    thread::spawn(move || {
        let _ = reporter.join();
        std::process::exit(0);
    });
    sock::run(async move {
        let listener = sock_examples::serve::listener("127.0.0.1", 0)?;
        println!("port={}", listener.local_addr()?.port());
        match mode.as_str() {
            "held" => sock_examples::serve::accept_loop(listener, serve_holding_a_buffer).await,
            _ => sock_examples::echo::serve(listener).await,
        }
    })
    .unwrap();
}

#[test]
fn an_idle_connection_holds_at_most_1_kib_of_heap() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let per_conn = Server::spawn("pooled").heap_per_idle_connection();
    eprintln!("echo_server: {per_conn} heap bytes per idle connection ({IDLE} idle)");
    assert!(
        per_conn <= LIMIT,
        "{per_conn} B of heap per idle connection, more than {LIMIT} B"
    );
}

#[test]
fn a_buffer_held_per_connection_is_seen() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let per_conn = Server::spawn("held").heap_per_idle_connection();
    eprintln!("a {HELD} B buffer per connection: {per_conn} heap bytes per idle connection");
    assert!(
        per_conn > HELD,
        "{per_conn} B per connection: the held buffer was not counted"
    );
}

/// The echo example's connection, holding a buffer as long as it lives (as a server
/// that reads into its own buffer would).
async fn serve_holding_a_buffer(conn: Tcp) {
    let held = std::hint::black_box(vec![0u8; HELD]);
    sock_examples::echo::serve_conn(conn).await;
    drop(held);
}

/// The echo server child; ended when dropped.
struct Server {
    child: Child,
    /// One line asks for the heap count; closed to end the child.
    stdin: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
    port: u16,
}

impl Server {
    /// Starts the child in `mode` and reads its port.
    fn spawn(mode: &str) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["echo_server_child", "--exact", "--nocapture"])
            .args(["--test-threads=1"])
            .env(CHILD_ENV, mode)
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
        server.port = server.value("port=").parse().unwrap();
        server
    }

    /// Live heap growth per connection after `IDLE` connections each did one round
    /// trip and went silent.
    fn heap_per_idle_connection(&mut self) -> usize {
        drop(self.round_trip());
        let before = self.settled_heap();
        let idle: Vec<TcpStream> = (0..IDLE).map(|_| self.round_trip()).collect();
        let after = self.settled_heap();
        drop(idle);
        after.saturating_sub(before) / IDLE
    }

    /// A new connection that has had one 64-byte message echoed.
    fn round_trip(&self) -> TcpStream {
        let addr = ([127, 0, 0, 1], self.port).into();
        let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let msg = [b'x'; 64];
        c.write_all(&msg).unwrap();
        let mut back = [0u8; 64];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, msg, "the echo differs");
        c
    }

    /// The heap count once the server is quiet: two readings 50 ms apart agree (at
    /// most 5 s).
    fn settled_heap(&mut self) -> usize {
        let until = Instant::now() + Duration::from_secs(5);
        let mut last = self.heap();
        loop {
            thread::sleep(Duration::from_millis(50));
            let now = self.heap();
            if now == last || Instant::now() > until {
                return now;
            }
            last = now;
        }
    }

    /// The server's live heap bytes now.
    fn heap(&mut self) -> usize {
        let stdin = self.stdin.as_mut().expect("open until drop");
        writeln!(stdin, "?").unwrap();
        stdin.flush().unwrap();
        self.value(heap::REPORT).parse().unwrap()
    }

    /// The word after the next `key` in the child's output, or the rest of the word
    /// that starts with `key` (`port=N`); it may share its line with the test harness's
    /// `test ... `.
    fn value(&mut self, key: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the server ended without saying {key}");
            let mut words = line.split_whitespace();
            while let Some(w) = words.next() {
                match w.strip_prefix(key) {
                    Some("") => return words.next().unwrap_or_default().to_owned(),
                    Some(v) => return v.to_owned(),
                    None => {}
                }
            }
        }
    }
}

impl Drop for Server {
    /// Closes the child's stdin (it exits); kills it if that takes more than 5 s.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

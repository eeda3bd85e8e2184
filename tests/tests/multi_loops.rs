//! Loops per thread: a shared listener spread over 2 and 4 loops, `Handle`s and
//! `spawn_loops`, through the public API over loopback.
//!
//! The stress test is scaled: debug builds (the `test` step of `cargo xtask ci`) use
//! 1,000 connections × 10 round trips; release builds the acceptance numbers, 4,000
//! connections × 50 round trips, and `SOCK_STRESS_REPS` repeats it (the `stress` step,
//! CI's flake check: `SOCK_STRESS_REPS=10 cargo test --release -p sock-tests --test
//! multi_loops`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, ThreadId};

use sock::{
    Expires, Family, Tcp,
    loops::{Handle, SharedListener},
};
use sock_tests::PATIENCE;

/// (connections, round trips each).
fn scale() -> (usize, usize) {
    if cfg!(debug_assertions) {
        (1_000, 10)
    } else {
        (4_000, 50)
    }
}

fn reps() -> usize {
    std::env::var("SOCK_STRESS_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
}

/// Panics unless the calling task runs on `home`.
fn assert_on(home: ThreadId, what: &str) {
    assert_eq!(
        thread::current().id(),
        home,
        "{what} ran off its loop's thread"
    );
}

/// Echoes 64-byte messages until the peer closes; counts round trips.
async fn echo(conn: Tcp, home: ThreadId, trips: Arc<AtomicUsize>) -> sock::Result<()> {
    let mut buf = [0u8; 64];
    loop {
        assert_on(home, "a server task");
        match conn.recvn(&mut buf).await {
            Ok(()) => {}
            Err(e) if e.kind() == sock::ErrorKind::Eof && e.transferred() == 0 => return Ok(()),
            Err(e) => return Err(e),
        }
        assert_on(home, "a server task");
        conn.send(&buf).await?;
        trips.fetch_add(1, Ordering::Relaxed);
    }
}

/// Attaches this loop to `listener` and serves every connection it accepts.
async fn serve(listener: SharedListener, trips: Arc<AtomicUsize>) -> sock::Result<()> {
    let home = thread::current().id();
    let mine = listener.attach()?;
    loop {
        let conn = mine.accept().await?;
        assert_on(home, "an accept loop");
        let trips = trips.clone();
        sock::spawn(async move { echo(conn, home, trips).await.expect("echo") });
    }
}

/// One client: connects, runs `rounds` checked round trips, closes.
async fn client(port: u16, id: usize, rounds: usize) -> sock::Result<usize> {
    let home = thread::current().id();
    let c = sock::tcp(Family::INET)?;
    c.connect("127.0.0.1", port).timeout(PATIENCE).await?;
    let mut out = [0u8; 64];
    let mut back = [0u8; 64];
    for round in 0..rounds {
        out.fill((id + round) as u8);
        out[..8].copy_from_slice(&(id as u64).to_le_bytes());
        c.send(&out).timeout(PATIENCE).await?;
        c.recvn(&mut back).timeout(PATIENCE).await?;
        assert_eq!(out, back, "echo of client {id} round {round} corrupted");
        assert_on(home, "a client task");
    }
    c.close()?;
    Ok(rounds)
}

/// Runs the stress with `loops` server loops; returns (round trips, wake-ups, accepted).
fn stress(loops: usize) -> (usize, u64, u64) {
    let (conns, rounds) = scale();
    let listener = SharedListener::bind("127.0.0.1", 0).expect("bind");
    let port = listener.local_addr().unwrap().port();
    let servers = sock::loops::spawn_loops(loops).expect("server loops");
    let trips = Arc::new(AtomicUsize::new(0));
    for h in servers.handles() {
        let (l, t) = (listener.clone(), trips.clone());
        drop(h.spawn_with(move || serve(l, t)));
    }
    let clients = sock::loops::spawn_loops(2).expect("client loops");
    let joins: Vec<_> = (0..conns)
        .map(|i| {
            let h = &clients.handles()[i % 2];
            h.spawn_with(move || client(port, i, rounds))
        })
        .collect();
    let done: usize = joins
        .into_iter()
        .map(|j| j.join().expect("client task panicked").expect("client"))
        .sum();
    assert_eq!(done, conns * rounds, "a client round trip was lost");
    clients.join().expect("a client loop panicked");
    // Every server echo has answered before its client saw the reply.
    while trips.load(Ordering::Relaxed) < conns * rounds {
        thread::yield_now();
    }
    servers
        .join()
        .expect("a server loop panicked (a task ran off its thread?)");
    (done, listener.wakeups(), listener.accepted())
}

#[test]
fn two_loops_share_a_listener() {
    for _ in 0..reps() {
        let (conns, _) = scale();
        let (_, _, accepted) = stress(2);
        assert_eq!(
            accepted, conns as u64,
            "every connection accepted exactly once"
        );
    }
}

#[test]
fn four_loops_share_a_listener_with_one_wakeup_per_connection() {
    for _ in 0..reps() {
        let (conns, _) = scale();
        let (_, wakeups, accepted) = stress(4);
        assert_eq!(
            accepted, conns as u64,
            "every connection accepted exactly once"
        );
        let per_conn = wakeups as f64 / accepted as f64;
        println!("4 loops: {wakeups} wake-ups for {accepted} connections ({per_conn:.3} each)");
        // EPOLLEXCLUSIVE on Linux; every loop wakes elsewhere (documented).
        if cfg!(target_os = "linux") {
            assert!(
                per_conn <= 1.1,
                "{per_conn:.3} wake-ups per accepted connection"
            );
        }
    }
}

#[test]
fn a_handle_spawns_send_work_on_its_loop_from_another_thread() {
    let loops = sock::loops::spawn_loops(3).unwrap();
    for h in loops.handles() {
        let ran_on = h.spawn(async { thread::current().id() }).join().unwrap();
        assert_eq!(ran_on, h.thread_id());
    }
    // A handle is Send: it can travel to yet another thread and spawn from there.
    let h = loops.handles()[1].clone();
    let from_other = thread::spawn(move || h.spawn(async { 7 }).join().unwrap());
    assert_eq!(from_other.join().unwrap(), 7);
    loops.join().unwrap();
}

#[test]
fn a_panic_in_remote_work_reaches_the_joiner_not_the_loop() {
    let loops = sock::loops::spawn_loops(1).unwrap();
    let h = &loops.handles()[0];
    let r = h.spawn(async { panic!("remote boom") }).join();
    assert!(r.is_err());
    assert_eq!(h.spawn(async { 1 }).join().unwrap(), 1, "the loop survived");
    loops.join().unwrap();
}

#[test]
fn work_sent_to_a_gone_loop_reports_it() {
    let loops = sock::loops::spawn_loops(1).unwrap();
    let h = loops.handles()[0].clone();
    loops.join().unwrap();
    let r = h.spawn(async { 1 }).join();
    assert!(r.is_err(), "a stopped loop cannot run new work");
}

#[test]
fn dropping_every_handle_lets_start_return() {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = thread::spawn(move || {
        let lp = sock::Loop::current();
        tx.send(Handle::new(&lp)).unwrap();
        lp.start(); // returns once no handle (and no task) is left
    });
    let h = rx.recv().unwrap();
    assert_eq!(h.spawn(async { 2 }).join().unwrap(), 2);
    drop(h);
    t.join().unwrap();
}

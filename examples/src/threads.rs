//! The two multi-threading modes, each serving echo connections on loopback.
//!
//! **Loops per thread**: [`sock::loops::spawn_loops`] starts one loop per OS thread and a
//! [`sock::loops::SharedListener`] spreads one listening socket's connections over them — each
//! connection wakes one loop, which accepts it and keeps it; tasks stay `!Send`.
//!
//! **Shared poller**, the seed's `sock.epoll_fd()` / `sock.iocp()`: one kernel poller
//! whose raw handle is handed to other OS threads *as a plain number*; each adopts it
//! (`set_epoll_fd` / `set_iocp`) and works for it, and `Send` tasks run on whichever
//! thread dequeued their event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;

use sock::sched::mt;
use sock::{
    Expires, Family,
    loops::SharedListener,
    shared::{SharedLoop, SharedTcp},
};

/// A deadline for every operation: a hang becomes an error.
const PATIENCE: Duration = Duration::from_secs(10);

/// Bytes per echo message.
const MESSAGE: usize = 64;

/// How many round trips each OS thread served, by thread.
#[derive(Debug, Default, Clone)]
pub struct Tally(Arc<Mutex<HashMap<ThreadId, usize>>>);

impl Tally {
    fn count(&self) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *map.entry(thread::current().id()).or_default() += 1;
    }

    /// The counts, largest first.
    pub fn counts(&self) -> Vec<usize> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut counts: Vec<usize> = map.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts
    }
}

/// Loops per thread: `loops` server loops share one listener; `conns` clients on this
/// thread's loop make `rounds` round trips each. Returns the round trips each server
/// loop's thread served.
///
/// # Errors
///
/// Any socket error of the clients (the servers' errors end their connection only).
pub fn loops_per_thread(loops: usize, conns: usize, rounds: usize) -> sock::Result<Tally> {
    let listener = SharedListener::bind("127.0.0.1", 0)?;
    let port = listener.local_addr()?.port();
    let threads = sock::loops::spawn_loops(loops)?;
    let tally = Tally::default();
    for h in threads.handles() {
        let (l, tally) = (listener.clone(), tally.clone());
        drop(h.spawn_with(move || accept_loop(l, tally)));
    }
    let clients = sock::run(async move {
        let all: Vec<_> = (0..conns)
            .map(|_| sock::thread(loop_client(port, rounds)))
            .collect();
        for c in all {
            c.join().await.expect("a client panicked")?;
        }
        Ok::<(), sock::Error>(())
    });
    threads.join().expect("a server loop panicked");
    clients.map(|()| tally)
}

/// One server loop: accepts its share of connections and echoes each on a task of its
/// own (a `!Send` task: it never leaves this loop's thread). Errors of one connection
/// do not stop it (see [`crate::serve::on_error`]).
async fn accept_loop(listener: SharedListener, tally: Tally) -> sock::Result<()> {
    let mine = listener.attach()?;
    loop {
        let conn = match mine.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                crate::serve::on_error(e).await?;
                continue;
            }
        };
        let tally = tally.clone();
        sock::thread(async move {
            let mut buf = [0u8; MESSAGE];
            while conn.recvn(&mut buf).await.is_ok() {
                tally.count();
                if conn.send(&buf).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// A loop-mode client: connects and makes `rounds` checked round trips.
async fn loop_client(port: u16, rounds: usize) -> sock::Result<()> {
    let c = sock::tcp(Family::INET)?;
    c.connect("127.0.0.1", port).timeout(PATIENCE).await?;
    let mut back = [0u8; MESSAGE];
    for round in 0..rounds {
        let out = [round as u8; MESSAGE];
        c.send(&out).timeout(PATIENCE).await?;
        c.recvn(&mut back).timeout(PATIENCE).await?;
        assert_eq!(out, back, "the echo came back changed");
    }
    Ok(())
}

/// The raw handle of this thread's shared loop, as the plain number the seed passes.
#[cfg(unix)]
fn raw_poller() -> usize {
    sock::os::unix::epoll_fd() as usize
}

/// Adopts the shared poller numbered `raw` on this thread.
#[cfg(unix)]
fn adopt_poller(raw: usize) -> std::io::Result<()> {
    sock::os::unix::set_epoll_fd(raw as i32)
}

/// The raw handle of this thread's shared loop, as the plain number the seed passes.
#[cfg(windows)]
fn raw_poller() -> usize {
    sock::os::windows::iocp() as usize
}

/// Adopts the shared poller numbered `raw` on this thread.
#[cfg(windows)]
fn adopt_poller(raw: usize) -> std::io::Result<()> {
    sock::os::windows::set_iocp(raw as _)
}

/// Shared poller: `threads` OS threads adopt this thread's poller by its number; an
/// echo server and `conns` clients of `rounds` round trips run as `Send` tasks on them.
/// Returns the round trips each thread served.
///
/// # Errors
///
/// Any socket error of the server or the clients.
pub fn shared_poller(threads: usize, conns: usize, rounds: usize) -> sock::Result<Tally> {
    let lp = SharedLoop::current();
    let raw = raw_poller();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(move || {
                adopt_poller(raw).expect("adopt the shared poller");
                SharedLoop::current().start();
            })
        })
        .collect();
    while lp.workers() < threads {
        thread::yield_now();
    }
    let tally = Tally::default();
    let t = tally.clone();
    let done = lp
        .spawn(async move { shared_echo(t, conns, rounds).await })
        .join();
    lp.stop();
    for w in workers {
        w.join().expect("a worker panicked");
    }
    done.map(|()| tally)
}

/// The shared-poller work: a server task accepting `conns` connections (one echo task
/// each) and `conns` client tasks.
async fn shared_echo(tally: Tally, conns: usize, rounds: usize) -> sock::Result<()> {
    let server = SharedTcp::new(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let addr = server.local_addr()?;
    let served = mt::spawn(async move {
        let mut accepted = 0;
        while accepted < conns {
            match server.accept().timeout(PATIENCE).await {
                Ok(conn) => {
                    accepted += 1;
                    mt::spawn(shared_echo_conn(conn, tally.clone())).detach();
                }
                // One connection's error; the deadline (also a passing error) ends it.
                Err(e) if e.is_transient_accept() && !e.is_timeout() => {}
                Err(e) => return Err(e),
            }
        }
        Ok::<(), sock::Error>(())
    });
    let clients: Vec<_> = (0..conns)
        .map(|_| mt::spawn(shared_client(addr.clone(), rounds)))
        .collect();
    for c in clients {
        c.await?;
    }
    served.await
}

/// Echoes one connection of the shared-poller server.
async fn shared_echo_conn(conn: SharedTcp, tally: Tally) {
    let mut buf = [0u8; MESSAGE];
    while conn.recvn(&mut buf).await.is_ok() {
        tally.count();
        if conn.send(&buf).await.is_err() {
            break;
        }
    }
}

/// A shared-poller client: connects and makes `rounds` checked round trips.
async fn shared_client(addr: sock::SockAddr, rounds: usize) -> sock::Result<()> {
    let c = SharedTcp::new(Family::INET)?;
    c.connect_to(&addr).timeout(PATIENCE).await?;
    let mut back = [0u8; MESSAGE];
    for round in 0..rounds {
        let out = [round as u8; MESSAGE];
        c.send(&out).timeout(PATIENCE).await?;
        c.recvn(&mut back).timeout(PATIENCE).await?;
        assert_eq!(out, back, "the echo came back changed");
    }
    Ok(())
}

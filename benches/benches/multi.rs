//! Echo round trips/s over loopback with more than one OS thread serving: 1 loop, 2
//! loops sharing a listener (`EPOLLEXCLUSIVE`), the shared-poller mode with 2 threads,
//! and tokio's multi-thread runtime with 2 workers — in one run, each under the same
//! load from `loadgen` (the `sock-netbench` load generator) in another process.
//!
//! Not criterion: the load comes from another process, and the number is a rate over a
//! window. Build the generator first (`cargo build --release -p sock-netbench --bin
//! loadgen`); the bench finds it next to its own target directory or in `$LOADGEN`.
//! `cargo bench -p sock-benches --bench multi` runs 3 windows of 3 s per server with 64
//! connections; `-- --test` (the smoke mode of `cargo xtask bench-smoke`) one short
//! window each. Results: `crates/sock-poll-shared/BENCHMARKS.md`.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::thread;

use sock::{
    Family, Tcp,
    loops::SharedListener,
    shared::{SharedLoop, SharedTcp},
};

/// A running server: its address and how to stop it.
struct Server {
    addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
}

/// What one configuration starts.
type Start = fn() -> Server;

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let Some(loadgen) = find_loadgen() else {
        eprintln!(
            "multi: loadgen not found; build it with \
             `cargo build --release -p sock-netbench --bin loadgen` (or set LOADGEN)"
        );
        std::process::exit(1); // a bench that cannot run fails (`cargo xtask bench*` builds it)
    };
    let (windows, secs, conns) = if smoke { (1, 0.3, 8) } else { (3, 3.0, 64) };
    let configs: [(&str, Start); 4] = [
        ("sock, 1 loop", || loops(1)),
        ("sock, 2 loops + shared listener", || loops(2)),
        ("sock, shared poller, 2 threads", || shared(2)),
        ("tokio multi_thread, 2 workers", || tokio_mt(2)),
    ];
    println!("echo round trips/s, {conns} connections, 64 B, depth 1, {windows} x {secs} s");
    let mut base = None;
    for (name, start) in configs {
        let rates: Vec<f64> = (0..windows)
            .map(|_| {
                let server = start();
                let rate = run_loadgen(&loadgen, server.addr, conns, secs).expect("loadgen");
                (server.stop)();
                rate
            })
            .collect();
        let median = median(rates.clone());
        let base = *base.get_or_insert(median);
        println!(
            "{name:<34} {median:>10.0}  x{:.2} vs 1 loop   (windows: {})",
            median / base,
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `$LOADGEN`, else `loadgen` in the release directory of this bench's target dir.
fn find_loadgen() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOADGEN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?.parent()?; // target/release/deps/multi-…
    let name = format!("loadgen{}", std::env::consts::EXE_SUFFIX);
    let candidate = target.join("release").join(name);
    candidate.exists().then_some(candidate)
}

/// Runs the generator against `addr`; its round trips per second.
fn run_loadgen(loadgen: &PathBuf, addr: SocketAddr, conns: usize, secs: f64) -> io::Result<f64> {
    let out = Command::new(loadgen)
        .args(["--addr", &addr.to_string(), "--conns", &conns.to_string()])
        .args(["--duration", &secs.to_string()])
        .output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(io::Error::other(format!("loadgen failed: {err}")));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let field = line
        .split("\"rt_per_sec\":")
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .ok_or_else(|| io::Error::other(format!("no rt_per_sec in {line}")))?;
    field.trim().parse().map_err(io::Error::other)
}

/// Echoes until the peer closes.
async fn echo_loop(conn: Tcp) {
    let _ = conn.set_nodelay(true);
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.recv(&mut buf).await {
        if conn.send(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `n` loops on `n` threads sharing one listener.
fn loops(n: usize) -> Server {
    let listener = SharedListener::bind("127.0.0.1", 0).expect("bind");
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let threads = sock::loops::spawn_loops(n).expect("loops");
    for h in threads.handles() {
        let l = listener.clone();
        drop(h.spawn_with(move || async move {
            let mine = l.attach().expect("attach");
            while let Ok(conn) = mine.accept().await {
                sock::spawn(echo_loop(conn));
            }
        }));
    }
    Server {
        addr,
        stop: Box::new(move || threads.join().expect("a loop panicked")),
    }
}

/// Echoes until the peer closes (shared-poller mode).
async fn echo_shared(conn: SharedTcp) {
    let _ = conn.set_nodelay(true);
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.recv(&mut buf).await {
        if conn.send(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// One shared poller, `n` threads working for it.
fn shared(n: usize) -> Server {
    let lp = SharedLoop::new().expect("shared loop");
    let workers: Vec<_> = (0..n)
        .map(|_| {
            let lp = lp.clone();
            thread::spawn(move || lp.start())
        })
        .collect();
    let server = lp.tcp(Family::INET).expect("socket");
    server.listen("127.0.0.1", 0).expect("listen");
    let addr = server.local_addr().unwrap().as_socket().unwrap();
    lp.spawn(async move {
        while let Ok(conn) = server.accept().await {
            sock::sched::mt::spawn(echo_shared(conn)).detach();
        }
    })
    .detach();
    while lp.workers() < n {
        thread::yield_now();
    }
    Server {
        addr,
        stop: Box::new(move || {
            lp.stop();
            workers
                .into_iter()
                .for_each(|w| w.join().expect("a worker panicked"));
        }),
    }
}

/// tokio's multi-thread runtime with `n` workers.
fn tokio_mt(n: usize) -> Server {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let accept = async move {
                while let Ok((mut conn, _)) = listener.accept().await {
                    let _ = conn.set_nodelay(true);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        while let Ok(n @ 1..) = conn.read(&mut buf).await {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            };
            tokio::select! {
                _ = accept => {}
                _ = stop_rx => {}
            }
        });
        rt.shutdown_background();
    });
    let addr = rx.recv().expect("tokio server address");
    Server {
        addr,
        stop: Box::new(move || {
            let _ = stop_tx.send(());
            thread.join().expect("tokio thread");
        }),
    }
}

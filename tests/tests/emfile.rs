//! Out of fds: with `RLIMIT_NOFILE` at 64 and 200 clients (in a child process), the
//! accept loop neither spins nor stops serving: each failed accept sheds one pending
//! connection, accept calls stay bounded, and an existing connection keeps echoing —
//! in a loop (`Tcp`) and on a shared poller with two workers (`SharedTcp`, Linux).
//!
//! One test binary of its own, because the limit applies to the whole process; the two
//! cases take turns (`serial`).

#![cfg(unix)]

use std::cell::Cell;
use std::io::{Read, Write};
use std::process::Child;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

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

/// The shared-poller mode: the accept runs on whichever of two workers dequeued the
/// listener's event; each keeps its own spare fd.
#[cfg(target_os = "linux")]
mod shared {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::thread;

    use sock::sched::mt;
    use sock::{ErrorKind, Family, SharedLoop, SharedTcp};
    use sock_tests::PATIENCE;

    use super::*;

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

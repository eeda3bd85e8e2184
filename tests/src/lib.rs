//! Shared helpers for the workspace integration tests in `tests/tests/`, and
//! ([`harness`]) for the fault drivers in `src/bin/` (`faults`, `faultproxy`, `soak`).

use std::future::Future;
use std::thread;
use std::time::Duration;

use sock::{Expires, Family, Tcp, shared::SharedLoop};

pub mod alloc;
pub mod echo_checks;
pub mod harness;
pub mod sim;

/// A generous deadline for operations that should complete promptly; it only turns a
/// hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Runs `f` on a new shared loop with two workers — the calling thread (`run`) and one
/// more — so completions and tasks really cross threads; returns its output.
///
/// # Panics
///
/// If the loop cannot be made, the second worker panicked, or `f` failed.
pub fn on_shared_loop<F, T>(f: F) -> T
where
    F: Future<Output = sock::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let lp = SharedLoop::new().expect("shared loop");
    let helper = {
        let lp = lp.clone();
        thread::spawn(move || lp.start())
    };
    while lp.workers() < 1 {
        thread::yield_now(); // `run` stops the workers there are; this one must be one
    }
    let out = lp.run(f);
    helper.join().expect("the second worker panicked");
    out.expect("the test's I/O failed")
}

/// A listening TCP socket on an ephemeral loopback port of `family`.
///
/// # Panics
///
/// If the socket cannot be made (the test fails there).
pub fn listener(family: Family) -> (Tcp, u16) {
    let server = sock::tcp(family).expect("tcp socket");
    server
        .listen(loopback(family), 0)
        .expect("listen on loopback");
    let port = server.local_addr().expect("local addr").port();
    (server, port)
}

/// The loopback address of `family`.
pub fn loopback(family: Family) -> &'static str {
    if family == Family::INET6 {
        "::1"
    } else {
        "127.0.0.1"
    }
}

/// A connected pair (client, server side) on loopback; call inside a loop.
///
/// # Errors
///
/// Any error of listen/connect/accept.
pub async fn pair(family: Family) -> sock::Result<(Tcp, Tcp)> {
    let (server, port) = listener(family);
    let client = sock::tcp(family)?;
    let accept = sock::spawn(async move { server.accept().timeout(PATIENCE).await });
    client
        .connect(loopback(family), port)
        .timeout(PATIENCE)
        .await?;
    let conn = accept.join().await.expect("accept task")?;
    Ok((client, conn))
}

/// Yields once to the loop: returns `Pending` after waking itself.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

/// Asserts what a reader sees after its peer closed with unread data or `SO_LINGER` 0:
/// a reset. Under Wine (the Windows test run) `closesocket` sends FIN instead, so there
/// an orderly EOF is accepted too — a documented difference of that environment.
///
/// # Panics
///
/// When the result is neither (or, off Windows, not a reset).
pub fn assert_reset(got: sock::Result<usize>) {
    match got {
        Err(e) if e.kind() == sock::ErrorKind::ConnectionReset => {}
        Ok(0) if cfg!(windows) => {}
        other => panic!("expected connection_reset, got {other:?}"),
    }
}

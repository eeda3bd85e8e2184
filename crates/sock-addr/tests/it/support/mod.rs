//! Helpers: a std-only `block_on`, running a test body in a fresh child process, and
//! (Linux) a network namespace with its own resolver files, and `getent`.

#[cfg(target_os = "linux")]
pub(crate) mod getent;
#[cfg(target_os = "linux")]
pub(crate) mod netns;

use std::future::Future;
use std::pin::pin;
use std::process::Command;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread (any executor works for
/// `resolve`; this is the smallest one).
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// The environment variable that marks a re-executed child and names its test.
const CHILD_ENV: &str = "SOCK_ADDR_TEST_CHILD";

/// Whether this process is the child re-executed for test `name`.
pub(crate) fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// Re-executes this test binary to run only test `name` (whose body checks
/// [`is_child`]) in a fresh process, and asserts it passed. Returns its stdout.
pub(crate) fn run_in_child(name: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .output()
        .expect("re-executing the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child {name} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "child {name} ran no test:\n{stdout}\n{stderr}"
    );
    stdout
}

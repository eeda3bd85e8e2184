//! Signals interrupting the loop's wait (`EINTR`) change nothing: a handler installed
//! without `SA_RESTART` makes `epoll_wait` fail with `EINTR` many times while a receive
//! and a sleep are pending; both complete normally.

#![cfg(unix)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sock::{Expires, Family};
use sock_tests::{PATIENCE, pair};

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

fn install_handler_without_restart() {
    // SAFETY: a zeroed sigaction is valid; we set a plain handler (no SA_RESTART, so
    // blocking calls fail with EINTR) that only touches an atomic.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

#[test]
fn interrupted_waits_are_retried() {
    install_handler_without_restart();
    // SAFETY: pthread_self has no preconditions.
    let loop_thread = unsafe { libc::pthread_self() } as usize;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let killer = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            // SAFETY: the loop thread is alive until `stop` is set (it joins us after).
            unsafe { libc::pthread_kill(loop_thread as libc::pthread_t, libc::SIGUSR1) };
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let reader = sock::spawn(async move {
            let mut buf = [0u8; 5];
            client.recvn(&mut buf).timeout(PATIENCE).await.map(|()| buf)
        });
        sock::sleep(Duration::from_millis(150)).await; // interrupted many times
        server.send(b"after").await.unwrap();
        assert_eq!(&reader.join().await.unwrap().unwrap(), b"after");
    });
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    assert!(
        SIGNALS.load(Ordering::Relaxed) > 10,
        "the loop was hardly interrupted"
    );
}

//! A loop's lifetime: dropping the `Loop` that `Loop::new` returned closes it — tasks
//! that hold their own loop, their own `Thread` handle or a sibling's cannot keep it,
//! its poller or their sockets alive.

#![cfg(target_os = "linux")]

use std::time::Duration;

use sock::{Family, Loop};

/// Open fds of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// One loop whose task holds a clone of the loop, its own thread handle, and a socket
/// parked on a receive.
fn self_referencing_loop() {
    let lp = Loop::new().expect("a loop");
    let me = lp.clone();
    let _t = lp.spawn(async move {
        let _loop = me;
        let _thread = sock::current();
        let rx = sock::udp(Family::INET).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        let mut buf = [0u8; 8];
        let _ = rx.recv(&mut buf).await; // parks forever: nobody sends
    });
    lp.poll(Some(Duration::ZERO));
}

/// Both scenarios in one test: they count this process's fds, which a test running
/// beside them in the same process (plain `cargo test` runs tests in threads) would
/// disturb.
#[test]
fn loops_leave_no_fd_behind() {
    a_thousand_self_referencing_loops_leave_no_fd_behind();
    a_loop_dropped_after_a_detached_thread_panicked_leaves_no_fd_behind();
}

fn a_thousand_self_referencing_loops_leave_no_fd_behind() {
    std::thread::spawn(|| {
        self_referencing_loop(); // warm-up: lazily opened fds are not leaks
        let before = open_fds();
        for _ in 0..1000 {
            self_referencing_loop();
        }
        let after = open_fds();
        assert!(
            after <= before,
            "fds: {before} before, {after} after 1,000 loops"
        );
    })
    .join()
    .unwrap();
}

fn a_loop_dropped_after_a_detached_thread_panicked_leaves_no_fd_behind() {
    std::thread::spawn(|| {
        let once = || {
            let lp = Loop::new().expect("a loop");
            let me = lp.clone();
            lp.spawn(async move {
                let _loop = me;
                let _s = sock::tcp(Family::INET).unwrap();
                std::future::pending::<()>().await
            });
            lp.spawn(async { panic!("a detached thread panics") });
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                lp.run(sock::sleep(Duration::from_millis(1)))
            }));
            assert!(caught.is_err(), "the detached panic surfaces in run");
        };
        once();
        let before = open_fds();
        for _ in 0..20 {
            once();
        }
        let after = open_fds();
        assert!(after <= before, "fds: {before} before, {after} after");
    })
    .join()
    .unwrap();
}

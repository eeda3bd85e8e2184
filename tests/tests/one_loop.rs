//! One current loop per OS thread: whatever the first call on a thread is — the
//! scheduler's `Builder`, `set_env`, `sock::sched::spawn`, a socket, `run`, `start` —
//! every later call sees the same socket-aware loop.

use std::time::Duration;

use sock::{Expires, Family};
use sock_tests::PATIENCE;

/// Runs `f` on a fresh OS thread (a thread with no loop yet) and returns its output.
fn on_fresh_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .expect("the test thread panicked")
}

#[test]
fn a_thread_made_by_the_scheduler_builder_runs_under_start() {
    let done = on_fresh_thread(|| {
        let t = sock::sched::Builder::new().name("w").spawn(async { 1 });
        sock::start();
        t.is_finished()
    });
    assert!(done, "start() ran the loop the builder spawned into");
}

#[test]
fn an_environment_set_first_is_seen_inside_run() {
    let seen = on_fresh_thread(|| {
        sock::sched::set_env(5u32);
        sock::run(async { sock::sched::env::<u32>() })
    });
    assert_eq!(seen, Some(5));
}

#[test]
fn a_socket_after_scheduler_calls_parks_on_the_same_loop() {
    let got = on_fresh_thread(|| {
        let early = sock::sched::spawn(async { 2 });
        sock::sched::start();
        assert!(early.is_finished());
        sock::run(async {
            let rx = sock::udp(Family::INET)?;
            rx.bind("127.0.0.1", 0)?;
            let port = rx.local_addr()?.port();
            sock::spawn(async move {
                sock::sleep(Duration::from_millis(100)).await;
                let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                tx.send_to(b"late", ("127.0.0.1", port)).unwrap();
            });
            let mut buf = [0u8; 8];
            rx.recv(&mut buf).timeout(PATIENCE).await
        })
    });
    assert_eq!(got.expect("the datagram arrived while recv was parked"), 4);
}

#[test]
fn the_loop_of_a_socket_made_first_is_the_scheduler_current_loop() {
    let same = on_fresh_thread(|| {
        let _s = sock::udp(Family::INET).unwrap();
        sock::Loop::current()
            .executor()
            .ptr_eq(&sock::sched::Executor::current())
    });
    assert!(same);
}

#[test]
fn a_socket_awaited_in_another_loop_panics_with_advice() {
    let message = on_fresh_thread(|| {
        let a = sock::Loop::new().unwrap();
        let b = sock::Loop::new().unwrap();
        let rx = a.run(async {
            let rx = sock::udp(Family::INET).unwrap();
            rx.bind("127.0.0.1", 0).unwrap();
            rx
        });
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            b.run(async {
                let mut buf = [0u8; 8];
                let _ = rx.recv(&mut buf).timeout(Duration::from_secs(2)).await;
            })
        }));
        let payload = panicked.expect_err("awaiting in loop B must panic, not hang");
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default()
    });
    assert!(
        message.contains("outside the loop it was made in"),
        "{message:?}"
    );
}

#[test]
fn a_shared_socket_awaited_in_a_loop_mode_task_panics_with_advice() {
    let message = on_fresh_thread(|| {
        let lp = sock::shared::SharedLoop::new().unwrap();
        let udp = lp
            .run(async {
                let u = sock::shared::SharedUdp::new(Family::INET)?;
                u.bind("127.0.0.1", 0)?;
                Ok::<_, sock::Error>(u)
            })
            .unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sock::run(async {
                let mut buf = [0u8; 8];
                let _ = udp.recv(&mut buf).await; // nothing sent: it parks
            })
        }));
        let payload = panicked.expect_err("parking outside the shared loop must panic");
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default()
    });
    assert!(
        message.contains("outside a worker of its SharedLoop"),
        "{message:?}"
    );
}

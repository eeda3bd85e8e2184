//! `sock::run` and `Loop::run` with futures that borrow the caller's locals (sockets,
//! buffers), on real loopback sockets.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use sock::{Expires, Family, Loop};

/// Long enough for loopback; it only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(10);

/// A UDP socket bound to an ephemeral loopback port, and the port.
fn bound() -> (sock::Udp, u16) {
    let u = sock::udp(Family::INET).unwrap();
    u.bind("127.0.0.1", 0).unwrap();
    let port = u.local_addr().unwrap().port();
    (u, port)
}

#[test]
fn run_borrows_sockets_and_a_buffer() {
    let mut data = vec![1, 2, 3];
    let n = sock::run(async {
        data.push(4);
        data.len()
    });
    assert_eq!((n, data.iter().sum::<i32>()), (4, 10));

    let ((a, a_port), (b, _)) = (bound(), bound());
    let mut buf = [0u8; 16];
    let (n, from) = sock::run(async {
        b.send_to(b"borrowed", &("127.0.0.1", a_port))
            .await
            .unwrap();
        a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap()
    });
    assert_eq!(&buf[..n], b"borrowed");
    assert_eq!(from, b.local_addr().unwrap());
}

#[test]
fn a_loop_runs_twice_and_survives_a_panicking_run() {
    let lp = Loop::new().unwrap();
    let mut seen = Vec::new();
    lp.run(async { seen.push(sock::current().id()) });
    let name = String::from("second");
    let (id, len) = lp.run(async { (sock::current().id(), name.len()) });
    assert_eq!(len, 6);
    assert_ne!(seen[0], id, "each run is a new thread");

    let caught = catch_unwind(AssertUnwindSafe(|| {
        lp.run(async {
            seen.push(0);
            panic!("third");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(seen.len(), 2);
    assert_eq!(lp.run(async { seen.len() }), 2);
}

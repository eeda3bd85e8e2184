//! UDP over real loopback sockets, IPv4 and IPv6: sendto/recvnext, connect filtering
//! and dissolving, truncation, empty datagrams, deadlines.

use std::time::Duration;

use sock::{ErrorKind, Expires, Family};
use sock_tests::{PATIENCE, loopback};

fn bound(family: Family) -> sock::Udp {
    let u = sock::udp(family).unwrap();
    u.bind(loopback(family), 0).unwrap();
    u
}

#[test]
fn sendto_recvnext_v4_and_v6() {
    for family in [Family::INET, Family::INET6] {
        sock::run(async move {
            let (a, b) = (bound(family), bound(family));
            let port = a.local_addr().unwrap().port();
            assert_eq!(
                b.send_to(b"datagram", &(loopback(family), port))
                    .await
                    .unwrap(),
                8
            );
            let mut buf = [0u8; 64];
            let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(&buf[..n], b"datagram");
            assert_eq!(from, b.local_addr().unwrap());
            assert_eq!(from.family(), family);
        });
    }
}

#[test]
fn connect_filters_and_star_zero_dissolves() {
    sock::run(async {
        let (a, b, c) = (
            bound(Family::INET),
            bound(Family::INET),
            bound(Family::INET),
        );
        let a_port = a.local_addr().unwrap().port();
        let b_port = b.local_addr().unwrap().port();
        a.connect("127.0.0.1", b_port).await.unwrap();
        c.send_to(b"from c", &("127.0.0.1", a_port)).await.unwrap();
        b.send_to(b"from b", &("127.0.0.1", a_port)).await.unwrap();
        let mut buf = [0u8; 16];
        let n = a.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"from b",
            "connected socket let a stranger through"
        );
        a.send(b"to b").await.unwrap();
        let (n, _) = b.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"to b");

        a.connect("*", 0).await.unwrap();
        assert!(a.remote_addr().is_err());
        c.send_to(b"c again", &("127.0.0.1", a_port)).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"c again");
        assert_eq!(from, c.local_addr().unwrap());
    });
}

#[test]
fn truncated_datagram_is_reported() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let port = a.local_addr().unwrap().port();
        b.send_to(&[9u8; 100], &("127.0.0.1", port)).await.unwrap();
        let mut small = [0u8; 10];
        let err = a.recv_from(&mut small).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MessageTooLong);
        assert_eq!(err.transferred(), 10);
        assert_eq!(small, [9u8; 10]);
    });
}

#[test]
fn recv_reports_a_truncated_datagram_and_the_next_one_arrives_whole() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        b.connect_to(&a.local_addr().unwrap()).unwrap();
        b.send(&[7u8; 100]).await.unwrap();
        b.send(b"next").await.unwrap();
        let mut small = [0u8; 10];
        let err = a.recv(&mut small).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(
            (err.kind(), err.transferred()),
            (ErrorKind::MessageTooLong, 10)
        );
        assert_eq!(small, [7u8; 10]);
        let n = a.recv(&mut small).timeout(PATIENCE).await.unwrap();
        assert_eq!(&small[..n], b"next");
        b.send(&[5u8; 10]).await.unwrap(); // exactly the buffer: not truncated
        assert_eq!(a.recv(&mut small).timeout(PATIENCE).await.unwrap(), 10);
    });
}

#[test]
fn empty_datagrams_are_allowed() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let port = a.local_addr().unwrap().port();
        assert_eq!(b.send_to(b"", &("127.0.0.1", port)).await.unwrap(), 0);
        let mut buf = [0u8; 8];
        let (n, _) = a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn recv_deadline_times_out_and_socket_stays_usable() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let mut buf = [0u8; 8];
        let err = a
            .recv(&mut buf)
            .timeout(Duration::from_millis(20))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        let port = a.local_addr().unwrap().port();
        b.send_to(b"late", &("127.0.0.1", port)).await.unwrap();
        let n = a.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn oversized_datagram_is_message_too_long() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let port = a.local_addr().unwrap().port();
        let err = b
            .send_to(&vec![0u8; 70_000], &("127.0.0.1", port))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MessageTooLong);
    });
}

#[test]
fn batched_receive_and_send_move_many_datagrams() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let a_addr = a.local_addr().unwrap();
        let mut out = vec![sock::io::Datagram::with_capacity(256); 10];
        for (i, d) in out.iter_mut().enumerate() {
            let len = if i == 9 { 200 } else { i + 1 };
            d.set(&vec![i as u8; len], a_addr.clone());
        }
        let mut sent = 0;
        while sent < out.len() {
            sent += b.send_batch(&out[sent..]).timeout(PATIENCE).await.unwrap();
        }
        let mut inbox = vec![sock::io::Datagram::with_capacity(64); 16];
        let mut got = 0;
        while got < 10 {
            got += a
                .recv_batch(&mut inbox[got..])
                .timeout(PATIENCE)
                .await
                .unwrap();
        }
        for (i, d) in inbox[..9].iter().enumerate() {
            assert_eq!(d.data(), &vec![i as u8; i + 1][..]);
            assert_eq!(d.addr(), Some(&b.local_addr().unwrap()));
            assert!(!d.is_truncated());
        }
        assert!(
            inbox[9].is_truncated(),
            "a 200-byte datagram in a 64-byte slot is cut"
        );
        assert_eq!(inbox[9].data().len(), 64);

        let unaddressed = [sock::io::Datagram::with_capacity(8)];
        let e = b.send_batch(&unaddressed).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    });
}

#[test]
fn batched_sends_reach_ipv6_destinations() {
    sock::run(async {
        let (a, b) = (bound(Family::INET6), bound(Family::INET6));
        let mut out = vec![sock::io::Datagram::with_capacity(8); 3];
        for (i, d) in out.iter_mut().enumerate() {
            d.set(&[i as u8; 3], a.local_addr().unwrap());
        }
        // A batch may send fewer than asked (Windows sends one per call): go on until all.
        let mut sent = 0;
        while sent < 3 {
            let n = b.send_batch(&out[sent..]).timeout(PATIENCE).await.unwrap();
            assert!(n > 0, "a ready batch send sends something");
            sent += n;
        }
        let mut buf = [0u8; 8];
        for i in 0..3 {
            let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&[i as u8; 3][..], b.local_addr().unwrap())
            );
        }
    });
}

#[test]
fn connect_and_sendto_take_deadlines() {
    sock::run(async {
        let rx = sock::udp(Family::INET).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        let port = rx.local_addr().unwrap().port();
        let tx = sock::udp(Family::INET).unwrap();
        tx.connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let n = tx
            .send_to(b"hi", &("127.0.0.1", port))
            .timeout(PATIENCE)
            .await
            .unwrap();
        assert_eq!(n, 2);
        let mut buf = [0u8; 4];
        assert_eq!(
            rx.recv(&mut buf)
                .expires(sock::clock() + PATIENCE)
                .await
                .unwrap(),
            2
        );
    });
}

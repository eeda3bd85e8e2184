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
                b.sendto(loopback(family), port, b"datagram").await.unwrap(),
                8
            );
            let mut buf = [0u8; 64];
            let (n, from) = a.recvnext(&mut buf).timeout(PATIENCE).await.unwrap();
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
        c.sendto("127.0.0.1", a_port, b"from c").await.unwrap();
        b.sendto("127.0.0.1", a_port, b"from b").await.unwrap();
        let mut buf = [0u8; 16];
        let n = a.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"from b",
            "connected socket let a stranger through"
        );
        a.send(b"to b").await.unwrap();
        let (n, _) = b.recvnext(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"to b");

        a.connect("*", 0).await.unwrap();
        assert!(a.remote_addr().is_err());
        c.sendto("127.0.0.1", a_port, b"c again").await.unwrap();
        let (n, from) = a.recvnext(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"c again");
        assert_eq!(from, c.local_addr().unwrap());
    });
}

#[test]
fn truncated_datagram_is_reported() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let port = a.local_addr().unwrap().port();
        b.sendto("127.0.0.1", port, &[9u8; 100]).await.unwrap();
        let mut small = [0u8; 10];
        let err = a.recvnext(&mut small).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MessageTooLong);
        assert_eq!(err.transferred(), 10);
        assert_eq!(small, [9u8; 10]);
    });
}

#[test]
fn empty_datagrams_are_allowed() {
    sock::run(async {
        let (a, b) = (bound(Family::INET), bound(Family::INET));
        let port = a.local_addr().unwrap().port();
        assert_eq!(b.sendto("127.0.0.1", port, b"").await.unwrap(), 0);
        let mut buf = [0u8; 8];
        let (n, _) = a.recvnext(&mut buf).timeout(PATIENCE).await.unwrap();
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
        b.sendto("127.0.0.1", port, b"late").await.unwrap();
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
            .sendto("127.0.0.1", port, &vec![0u8; 70_000])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MessageTooLong);
    });
}

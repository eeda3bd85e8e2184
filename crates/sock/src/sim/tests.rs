//! Unit tests of the simulated world: determinism, the TCP and UDP semantics and the
//! cost of idle time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::*;
use crate::ErrorKind;

/// The address `10.0.0.<n>`.
fn ip(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
}

/// `ip:port`.
fn at(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// A world with hosts `a` (10.0.0.1, fd00::1) and `b` (10.0.0.2).
fn two_hosts(seed: u64) -> (World, HostId, HostId) {
    let mut w = World::new(seed);
    let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
    let a = w.add_host("a", &[ip(1), v6]);
    let b = w.add_host("b", &[ip(2)]);
    (w, a, b)
}

/// A listener on `b`:80, a connected client on `a` and the accepted server socket.
fn connected(w: &mut World, a: HostId, b: HostId) -> (SocketId, SocketId, SocketId) {
    let l = w.tcp_listen(b, at(ip(2), 80), 8).unwrap();
    let c = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.run_until(w.now() + Duration::from_millis(100));
    assert_eq!(w.tcp_connect_result(c), Some(Ok(())));
    let (s, peer) = w.tcp_accept(l).unwrap();
    assert_eq!(peer, w.tcp_local_addr(c).unwrap());
    (l, c, s)
}

/// Reads everything available from `s`.
fn drain(w: &mut World, s: SocketId) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = w.tcp_recv(s, &mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// A faulty run: UDP under loss, duplication, reordering and jitter, plus TCP traffic.
fn faulty_run(seed: u64) -> u64 {
    let (mut w, a, b) = two_hosts(seed);
    let link = Link {
        latency: Duration::from_millis(5),
        jitter: Duration::from_millis(5),
        loss: 0.2,
        duplicate: 0.1,
        reorder: 0.3,
    };
    w.set_default_link(link);
    let ua = w.udp_bind(a, at(ip(1), 0)).unwrap();
    let ub = w.udp_bind(b, at(ip(2), 53)).unwrap();
    for i in 0..50u8 {
        w.udp_send_to(ua, &[i], at(ip(2), 53)).unwrap();
    }
    let (_, c, s) = connected(&mut w, a, b);
    w.tcp_send(c, &[7; 3000]).unwrap();
    w.run_until_idle();
    assert_eq!(drain(&mut w, s), vec![7; 3000]);
    let mut buf = [0u8; 8];
    while w.udp_recv_from(ub, &mut buf).is_ok() {}
    w.hash()
}

#[test]
fn same_seed_same_hash_different_seed_different_hash() {
    assert_eq!(faulty_run(1), faulty_run(1));
    assert_ne!(faulty_run(1), faulty_run(2));
}

#[test]
fn ties_keep_the_order_they_were_queued_in() {
    let (mut w, a, b) = two_hosts(0);
    let t1 = w.timer(b, Duration::from_secs(1));
    let t2 = w.timer(a, Duration::from_secs(1));
    w.run_until_idle();
    assert_eq!(w.take_fired(), vec![t1, t2]);
    assert_eq!(w.now(), Duration::from_secs(1));
}

#[test]
fn tcp_echo_is_byte_exact() {
    let (mut w, a, b) = two_hosts(3);
    let (_, c, s) = connected(&mut w, a, b);
    let msg: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
    let (mut sent, mut echoed, mut back) = (0, Vec::new(), Vec::new());
    while back.len() < msg.len() {
        sent += w.tcp_send(c, &msg[sent..]).unwrap_or(0);
        echoed.extend(drain(&mut w, s));
        let n = w.tcp_send(s, &echoed).unwrap_or(0);
        echoed.drain(..n);
        back.extend(drain(&mut w, c));
        w.step();
    }
    assert_eq!(back, msg);
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let (mut w, a, b) = two_hosts(0);
    let _ = b;
    let c = w.tcp_connect(a, at(ip(2), 81)).unwrap();
    w.run_until_idle();
    assert_eq!(
        w.tcp_connect_result(c),
        Some(Err(ErrorKind::ConnectionRefused))
    );
    assert!(w.readiness(c).writable);
    assert!(w.take_changed().contains(&c));
}

#[test]
fn a_full_backlog_stalls_connect_until_accept_frees_a_slot() {
    let (mut w, a, b) = two_hosts(0);
    let l = w.tcp_listen(b, at(ip(2), 80), 1).unwrap();
    let c1 = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    let c2 = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.run_until(Duration::from_millis(500));
    assert_eq!(w.tcp_connect_result(c1), Some(Ok(())));
    assert_eq!(w.tcp_connect_result(c2), None);
    w.tcp_accept(l).unwrap();
    w.run_until(Duration::from_secs(2));
    assert_eq!(w.tcp_connect_result(c2), Some(Ok(())));
    assert!(w.tcp_accept(l).is_ok());
}

#[test]
fn a_full_send_buffer_refuses_until_the_peer_reads() {
    let (mut w, a, b) = two_hosts(0);
    w.set_tcp_buffers(a, 4, 4);
    w.set_tcp_buffers(b, 4, 4);
    let (_, c, s) = connected(&mut w, a, b);
    assert_eq!(w.tcp_send(c, b"12345678"), Ok(4));
    assert_eq!(w.tcp_send(c, b"5678"), Ok(4));
    assert_eq!(w.tcp_send(c, b"9"), Err(ErrorKind::WouldBlock));
    assert!(!w.readiness(c).writable);
    w.run_until_idle();
    assert_eq!(w.tcp_send(c, b"9"), Err(ErrorKind::WouldBlock));
    w.take_changed();
    assert_eq!(drain(&mut w, s), b"1234");
    assert!(w.readiness(c).writable);
    assert!(w.take_changed().contains(&c));
    w.run_until_idle();
    assert_eq!(drain(&mut w, s), b"5678");
}

#[test]
fn shutdown_write_gives_eof_and_the_peer_can_still_reply() {
    let (mut w, a, b) = two_hosts(0);
    let (_, c, s) = connected(&mut w, a, b);
    w.tcp_send(c, b"request").unwrap();
    w.tcp_shutdown_write(c).unwrap();
    assert_eq!(w.tcp_send(c, b"x"), Err(ErrorKind::Closed));
    w.run_until_idle();
    assert_eq!(drain(&mut w, s), b"request");
    assert_eq!(w.tcp_recv(s, &mut [0; 8]), Ok(0));
    w.tcp_send(s, b"reply").unwrap();
    w.run_until_idle();
    assert_eq!(drain(&mut w, c), b"reply");
}

#[test]
fn close_with_unread_data_resets_the_peer() {
    let (mut w, a, b) = two_hosts(0);
    let (_, c, s) = connected(&mut w, a, b);
    w.tcp_send(c, b"unread").unwrap();
    w.run_until_idle();
    w.close(s);
    w.run_until_idle();
    assert_eq!(w.tcp_recv(c, &mut [0; 8]), Err(ErrorKind::ConnectionReset));
    assert_eq!(w.tcp_send(c, b"x"), Err(ErrorKind::ConnectionReset));
}

#[test]
fn close_without_unread_data_sends_fin_and_later_data_is_reset() {
    let (mut w, a, b) = two_hosts(0);
    let (_, c, s) = connected(&mut w, a, b);
    w.close(s);
    w.run_until_idle();
    assert_eq!(w.tcp_recv(c, &mut [0; 8]), Ok(0));
    w.tcp_send(c, b"late").unwrap();
    w.run_until_idle();
    assert_eq!(w.tcp_send(c, b"x"), Err(ErrorKind::ConnectionReset));
}

#[test]
fn udp_truncation_and_oversize() {
    let (mut w, a, b) = two_hosts(0);
    let ua = w.udp_bind(a, at(ip(1), 0)).unwrap();
    let ub = w.udp_bind(b, at(ip(2), 9)).unwrap();
    let big = vec![1u8; MAX_DATAGRAM + 1];
    assert_eq!(
        w.udp_send_to(ua, &big, at(ip(2), 9)),
        Err(ErrorKind::MessageTooLong)
    );
    assert_eq!(w.udp_send_to(ua, &big[1..], at(ip(2), 9)), Ok(MAX_DATAGRAM));
    w.udp_send_to(ua, b"hello", at(ip(2), 9)).unwrap();
    w.udp_send_to(ua, b"hi", at(ip(2), 9)).unwrap();
    w.run_until_idle();
    let mut buf = [0u8; 4];
    assert_eq!(
        w.udp_recv_from(ub, &mut buf),
        Err(ErrorKind::MessageTooLong)
    );
    assert_eq!(
        w.udp_recv_from(ub, &mut buf),
        Err(ErrorKind::MessageTooLong)
    );
    assert_eq!(&buf, b"hell");
    let from = w.udp_local_addr(ua).unwrap();
    assert_eq!(w.udp_recv_from(ub, &mut buf), Ok((2, from)));
    assert_eq!(w.udp_recv_from(ub, &mut buf), Err(ErrorKind::WouldBlock));
}

#[test]
fn partition_gives_no_answer_and_repair_lets_connect_through() {
    let (mut w, a, b) = two_hosts(0);
    w.tcp_listen(b, at(ip(2), 80), 8).unwrap();
    w.partition(a, b, true);
    let lost = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.run_until(Duration::from_secs(200));
    assert_eq!(w.tcp_connect_result(lost), Some(Err(ErrorKind::Timeout)));
    let late = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.repair_at(a, b, Duration::from_secs(202));
    w.run_until(Duration::from_secs(201));
    assert_eq!(w.tcp_connect_result(late), None);
    w.run_until(Duration::from_secs(210));
    assert_eq!(w.tcp_connect_result(late), Some(Ok(())));
}

#[test]
fn one_way_partition_holds_stream_data_until_repair() {
    let (mut w, a, b) = two_hosts(0);
    let (_, c, s) = connected(&mut w, a, b);
    w.partition(a, b, false);
    w.tcp_send(c, b"held").unwrap();
    w.tcp_send(s, b"free").unwrap();
    w.run_until(Duration::from_secs(5));
    assert!(drain(&mut w, s).is_empty());
    assert_eq!(drain(&mut w, c), b"free");
    w.repair_at(a, b, Duration::from_secs(6));
    w.run_until_idle();
    assert_eq!(drain(&mut w, s), b"held");
}

#[test]
fn scheduled_reset_and_stall_faults() {
    let (mut w, a, b) = two_hosts(0);
    let (_, c, s) = connected(&mut w, a, b);
    let now = w.now();
    w.tcp_stall(c, now, now + Duration::from_secs(3));
    w.tcp_send(c, b"slow").unwrap();
    w.run_until(now + Duration::from_secs(2));
    assert!(drain(&mut w, s).is_empty());
    w.run_until(now + Duration::from_secs(3));
    assert_eq!(drain(&mut w, s), b"slow");
    w.tcp_reset_at(s, now + Duration::from_secs(4));
    w.run_until_idle();
    assert_eq!(w.tcp_recv(c, &mut [0; 4]), Err(ErrorKind::ConnectionReset));
    assert_eq!(w.tcp_recv(s, &mut [0; 4]), Err(ErrorKind::ConnectionReset));
}

#[test]
fn ephemeral_port_exhaustion_is_an_error() {
    let (mut w, a, b) = two_hosts(0);
    w.tcp_listen(b, at(ip(2), 80), 8).unwrap();
    w.set_ephemeral_range(a, 50000, 50001);
    w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.tcp_connect(a, at(ip(2), 80)).unwrap();
    assert_eq!(
        w.tcp_connect(a, at(ip(2), 80)),
        Err(ErrorKind::AddressNotAvailable)
    );
    assert_eq!(
        w.tcp_listen(b, at(ip(2), 80), 1),
        Err(ErrorKind::AddressInUse)
    );
    assert_eq!(
        w.tcp_listen(b, at(ip(1), 81), 1),
        Err(ErrorKind::AddressNotAvailable)
    );
}

#[test]
fn ipv6_addresses_route_to_their_host() {
    let (mut w, a, b) = two_hosts(0);
    let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
    let l = w.tcp_listen(a, at(v6, 443), 1).unwrap();
    let _ = b;
    let c = w.tcp_connect(a, at(v6, 443)).unwrap();
    w.run_until_idle();
    assert_eq!(w.tcp_connect_result(c), Some(Ok(())));
    assert!(w.tcp_accept(l).unwrap().1.is_ipv6());
}

#[test]
fn idle_hosts_cost_events_not_time() {
    let mut w = World::new(9);
    for i in 0..1000u32 {
        let addr = IpAddr::V4(Ipv4Addr::from(0x0a01_0000 + i));
        let host = w.add_host(&format!("h{i}"), &[addr]);
        w.timer(host, Duration::from_secs(u64::from(i) * 86));
    }
    w.run_until(Duration::from_secs(24 * 3600));
    assert_eq!(w.processed(), 1000);
    assert_eq!(w.take_fired().len(), 1000);
    assert_eq!(w.now(), Duration::from_secs(24 * 3600));
}

#[test]
fn held_segments_keep_their_order_over_a_jittery_link() {
    let (mut w, a, b) = two_hosts(5);
    let jittery = Link {
        jitter: Duration::from_millis(50),
        ..Link::DEFAULT
    };
    w.set_default_link(jittery);
    let (_, c, s) = connected(&mut w, a, b);
    w.partition(a, b, false);
    for i in 0..20u8 {
        w.tcp_send(c, &[i]).unwrap();
    }
    w.tcp_shutdown_write(c).unwrap();
    w.repair_at(a, b, w.now() + Duration::from_secs(1));
    w.run_until_idle();
    assert_eq!(drain(&mut w, s), (0..20).collect::<Vec<u8>>());
    assert_eq!(w.tcp_recv(s, &mut [0; 1]), Ok(0));
}

/// Found by the `sim_echo` example: a closed sender's data, held by a partition, came
/// out after its FIN at the repair (the order was the dropped socket's), so the peer
/// read a clean end of stream without the data.
#[test]
fn held_data_of_a_closed_sender_still_arrives_before_its_fin() {
    for seed in 0..20 {
        let (mut w, a, b) = two_hosts(seed);
        let jittery = Link {
            jitter: Duration::from_millis(50),
            ..Link::DEFAULT
        };
        w.set_default_link(jittery);
        let (_, c, s) = connected(&mut w, a, b);
        w.tcp_shutdown_write(c).unwrap();
        w.run_until_idle();
        w.partition(b, a, false);
        let reply: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        w.tcp_send(s, &reply).unwrap();
        w.tcp_shutdown_write(s).unwrap();
        w.close(s); // the peer's FIN is in: the socket is dropped at once
        w.repair_at(a, b, w.now() + Duration::from_secs(1));
        let got = read_to_eof(&mut w, c);
        let what = format!(
            "seed {seed}: {} of {} bytes before EOF",
            got.len(),
            reply.len()
        );
        assert!(got == reply, "{what}");
    }
}

/// Reads `s` event by event up to its end of stream, as a program would: what it read
/// before the end (bytes arriving later are never read).
fn read_to_eof(w: &mut World, s: SocketId) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..10_000 {
        match w.tcp_recv(s, &mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(ErrorKind::WouldBlock) => assert!(w.step(), "no end of stream"),
            Err(e) => panic!("{e:?}"),
        }
    }
    panic!("no end of stream after 10,000 reads");
}

#[test]
fn seeded_tcp_faults_reset_connections() {
    let (mut w, a, b) = two_hosts(11);
    w.set_tcp_faults(TcpFaults {
        reset: 1.0,
        within: Duration::from_secs(100),
        ..TcpFaults::default()
    });
    let (_, c, s) = connected(&mut w, a, b);
    w.run_until_idle();
    assert_eq!(w.tcp_recv(c, &mut [0; 1]), Err(ErrorKind::ConnectionReset));
    assert_eq!(w.tcp_recv(s, &mut [0; 1]), Err(ErrorKind::ConnectionReset));
}

#[test]
fn a_datagram_arrival_is_a_readiness_change() {
    let (mut w, a, b) = two_hosts(0);
    let ua = w.udp_bind(a, at(ip(1), 0)).unwrap();
    let ub = w.udp_bind(b, at(ip(2), 9)).unwrap();
    w.udp_send_to(ua, b"x", at(ip(2), 9)).unwrap();
    assert!(!w.readiness(ub).readable);
    w.run_until_idle();
    assert_eq!(w.take_changed(), vec![ub]);
    assert!(w.readiness(ub).readable);
    assert!(w.log().tail(1)[0].what.starts_with("udp recv"));
}

#[test]
fn the_fd_limit_is_too_many_open_files() {
    let (mut w, a, b) = two_hosts(0);
    w.set_fd_limit(b, 2);
    let l = w.tcp_listen(b, at(ip(2), 80), 8).unwrap();
    let u = w.udp_bind(b, at(ip(2), 53)).unwrap();
    assert_eq!(
        w.udp_bind(b, at(ip(2), 54)),
        Err(ErrorKind::TooManyOpenFiles)
    );
    let c = w.tcp_connect(a, at(ip(2), 80)).unwrap();
    w.run_until_idle();
    assert_eq!(w.tcp_connect_result(c), Some(Ok(())));
    assert_eq!(w.tcp_accept(l), Err(ErrorKind::TooManyOpenFiles));
    w.close(u);
    w.close(u);
    assert!(w.tcp_accept(l).is_ok());
    assert_eq!(
        w.udp_bind(b, at(ip(2), 53)),
        Err(ErrorKind::TooManyOpenFiles)
    );
}

/// Sends `n` numbered datagrams `a → b` over `link` and returns what `b` received.
fn udp_through(link: Link, n: u16) -> Vec<u16> {
    let (mut w, a, b) = two_hosts(21);
    w.set_default_link(link);
    let ua = w.udp_bind(a, at(ip(1), 0)).unwrap();
    let ub = w.udp_bind(b, at(ip(2), 9)).unwrap();
    for i in 0..n {
        w.udp_send_to(ua, &i.to_be_bytes(), at(ip(2), 9)).unwrap();
    }
    w.run_until_idle();
    let mut got = Vec::new();
    let mut buf = [0u8; 2];
    while let Ok((2, _)) = w.udp_recv_from(ub, &mut buf) {
        got.push(u16::from_be_bytes(buf));
    }
    got
}

#[test]
fn udp_loss_duplication_and_reordering_follow_the_link() {
    let lossy = Link {
        loss: 0.5,
        ..Link::DEFAULT
    };
    let lost = udp_through(lossy, 1000).len();
    assert!((400..600).contains(&lost), "{lost} of 1000 arrived");
    let doubled = Link {
        duplicate: 1.0,
        ..Link::DEFAULT
    };
    assert_eq!(udp_through(doubled, 100).len(), 200);
    let shuffled = Link {
        reorder: 0.5,
        ..Link::DEFAULT
    };
    let got = udp_through(shuffled, 100);
    assert_eq!(got.len(), 100);
    assert!(got.windows(2).any(|w| w[0] > w[1]), "nothing reordered");
    assert_eq!(
        udp_through(Link::DEFAULT, 100),
        (0..100).collect::<Vec<_>>()
    );
}

#[test]
fn hourly_timers_on_idle_hosts_cost_one_event_each() {
    let mut w = World::new(4);
    let hosts: Vec<HostId> = (0..1000u32)
        .map(|i| {
            w.add_host(
                &format!("h{i}"),
                &[IpAddr::V4(Ipv4Addr::from(0x0a02_0000 + i))],
            )
        })
        .collect();
    let mut owner = std::collections::BTreeMap::new();
    for &h in &hosts {
        owner.insert(w.timer(h, Duration::from_secs(3600)), h);
    }
    let day = Duration::from_secs(24 * 3600);
    while w.next_event().is_some_and(|t| t <= day) {
        w.step();
        for id in w.take_fired() {
            let h = owner[&id];
            owner.insert(w.timer(h, w.now() + Duration::from_secs(3600)), h);
        }
    }
    assert_eq!(w.processed(), 24 * 1000);
}

#[test]
fn closing_twice_while_draining_gives_the_descriptor_back_once() {
    let (mut w, a, b) = two_hosts(31);
    let (_l, c, _s) = connected(&mut w, a, b);
    w.set_fd_limit(a, 1);
    w.tcp_send(c, b"still in flight").unwrap();
    w.close(c); // an orphan now: it drains its bytes and FIN
    w.close(c); // the owner's second close must not give the fd back again
    assert!(w.udp_bind(a, at(ip(1), 0)).is_ok());
    assert_eq!(
        w.udp_bind(a, at(ip(1), 0)),
        Err(ErrorKind::TooManyOpenFiles),
        "one descriptor freed, not two"
    );
    w.run_until_idle();
}

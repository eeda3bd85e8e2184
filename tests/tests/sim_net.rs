//! Network realism of the simulation (`sock::sim`): the loopback addresses every host
//! owns, what the network answers for addresses nobody owns (silence, ICMP host
//! unreachable, no route) and ICMP port unreachable for a connected UDP socket —
//! through the ordinary sock API on simulated hosts.
//!
//! Every world's seed comes from `SOCK_SEED` when set.

use std::time::Duration;

use sock::sim::{ARP_TIMEOUT, Host, Sim, Unreachable, World};
use sock::{ErrorKind, Expires, Family, Shutdown};
use sock_tests::sim::{ip, two_hosts};

/// The deadline of the connects below: far past every answer the tests expect.
const WAIT: Duration = Duration::from_secs(30);

/// Spawns on `host` a TCP server on `addr:port` that answers every connection with
/// `reply` and closes it.
fn spawn_replier(host: &Host, addr: &'static str, port: u16, reply: &'static [u8]) {
    let server = host.run(async {
        let server = sock::tcp(Family::UNSPEC).expect("a simulated socket");
        server.listen(addr, port).expect("listen");
        server
    });
    host.spawn(async move {
        while let Ok(conn) = server.accept().await {
            conn.send(reply).await?;
            conn.close()?;
        }
        Ok::<(), sock::Error>(())
    });
}

/// Connects to `addr:port` and reads to the end of stream.
async fn fetch(addr: &str, port: u16) -> sock::Result<Vec<u8>> {
    let family = if addr.contains(':') {
        Family::INET6
    } else {
        Family::INET
    };
    let c = sock::tcp(family)?;
    c.connect(addr, port).timeout(WAIT).await?;
    c.shutdown(Shutdown::Write)?;
    c.recvall().timeout(WAIT).await
}

/// A TCP connect from the running host: its error kind and the virtual time it took.
async fn connect_error(addr: &str, port: u16) -> (ErrorKind, Duration) {
    let start = sock::clock();
    let c = sock::tcp(Family::INET).expect("a socket");
    let r = c.connect(addr, port).timeout(WAIT).await;
    (r.expect_err("no connection").kind(), sock::clock() - start)
}

#[test]
fn every_host_has_its_own_loopback() {
    let (_sim, a, b) = two_hosts(1);
    spawn_replier(&a, "127.0.0.1", 7, b"a over v4");
    spawn_replier(&b, "127.0.0.1", 7, b"b over v4");
    spawn_replier(&b, "::1", 8, b"b over v6");
    assert_eq!(a.run(fetch("127.0.0.1", 7)).expect("a's own"), b"a over v4");
    assert_eq!(b.run(fetch("127.0.0.1", 7)).expect("b's own"), b"b over v4");
    assert_eq!(b.run(fetch("::1", 8)).expect("b's own"), b"b over v6");
    // The whole of 127.0.0.0/8 is the host's own; nothing listens on a's port 8.
    let refused = a.run(connect_error("127.0.0.2", 8)).0;
    assert_eq!(refused, ErrorKind::ConnectionRefused);
    // b's server bound to 127.0.0.1 takes no connection from outside.
    let outside = a.run(connect_error("10.0.0.2", 7)).0;
    assert_eq!(outside, ErrorKind::ConnectionRefused);
}

#[test]
fn loopback_traffic_ignores_partitions_and_comes_from_loopback() {
    let (sim, a, b) = two_hosts(2);
    sim.world().partition(a.id(), b.id(), true);
    let (from, to) = a.run(async {
        let server = sock::udp(Family::INET6).expect("a socket");
        server.bind("::1", 9).expect("bind");
        let client = sock::udp(Family::INET6).expect("a socket");
        client.send_to(b"ping", &("::1", 9)).await.expect("send_to");
        let mut buf = [0u8; 8];
        let (n, from) = server
            .recv_from(&mut buf)
            .timeout(WAIT)
            .await
            .expect("recv");
        assert_eq!(&buf[..n], b"ping");
        (from, server.local_addr().expect("bound"))
    });
    assert_eq!(from.ip(), Some(ip("::1")), "{from}");
    assert_eq!(to.ip(), Some(ip("::1")));
}

#[test]
fn an_address_nobody_owns_is_silent_by_default() {
    let (sim, a, _b) = two_hosts(3);
    let (kind, took) = a.run(connect_error("10.0.0.9", 80));
    assert_eq!((kind, took), (ErrorKind::Timeout, WAIT));
    assert_eq!(sim.world().now(), WAIT);
}

#[test]
fn a_host_unreachable_rule_fails_the_connect_after_its_delay() {
    let (sim, a, _b) = two_hosts(4);
    sim.world()
        .set_unreachable(ip("10.0.0.0"), 24, Unreachable::Host(ARP_TIMEOUT));
    let far = Duration::from_millis(40);
    sim.world()
        .set_unreachable(ip("192.0.2.0"), 24, Unreachable::Host(far));
    let lan = a.run(connect_error("10.0.0.9", 80));
    assert_eq!(lan, (ErrorKind::HostUnreachable, ARP_TIMEOUT));
    let routed = a.run(connect_error("192.0.2.7", 80));
    assert_eq!(routed, (ErrorKind::HostUnreachable, far));
    // Outside both rules the default holds.
    assert_eq!(a.run(connect_error("10.0.1.9", 80)).0, ErrorKind::Timeout);
}

#[test]
fn the_longest_prefix_wins_and_owned_addresses_are_always_reached() {
    let (sim, a, b) = two_hosts(5);
    sim.world()
        .set_unreachable(ip("10.0.0.0"), 8, Unreachable::Network);
    sim.world()
        .set_unreachable(ip("10.0.0.0"), 24, Unreachable::Host(ARP_TIMEOUT));
    spawn_replier(&b, "10.0.0.2", 7, b"owned");
    assert_eq!(a.run(fetch("10.0.0.2", 7)).expect("b answers"), b"owned");
    let near = a.run(connect_error("10.0.0.9", 80)).0;
    assert_eq!(near, ErrorKind::HostUnreachable);
    let wider = a.run(connect_error("10.9.0.1", 80));
    assert_eq!(wider, (ErrorKind::NetworkUnreachable, Duration::ZERO));
}

#[test]
fn no_route_fails_connects_and_sends_at_once() {
    let (sim, a, _b) = two_hosts(6);
    sim.world().set_unowned(Unreachable::Network);
    let (tcp, took) = a.run(connect_error("192.0.2.1", 80));
    assert_eq!((tcp, took), (ErrorKind::NetworkUnreachable, Duration::ZERO));
    let (send_to, connect) = a.run(async {
        let u = sock::udp(Family::INET).expect("a socket");
        let send_to = u.send_to(b"x", &("192.0.2.1", 53)).await.map(drop);
        let connect = u.connect("192.0.2.1", 53).await;
        (send_to.unwrap_err().kind(), connect.unwrap_err().kind())
    });
    assert_eq!(send_to, ErrorKind::NetworkUnreachable);
    assert_eq!(connect, ErrorKind::NetworkUnreachable);
}

#[test]
fn a_host_without_an_address_of_the_family_has_no_route() {
    let sim = Sim::new(World::from_env_or(7));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2"), ip("fd00::2")]);
    spawn_replier(&b, "fd00::2", 7, b"v6");
    let r = a.run(fetch("fd00::2", 7));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::NetworkUnreachable);
    // Its own IPv6 loopback still works.
    spawn_replier(&a, "::1", 7, b"own v6");
    assert_eq!(a.run(fetch("::1", 7)).expect("loopback"), b"own v6");
}

/// A connected UDP socket of the running host sends to `addr:port`: its next receive's
/// error (`None`: nothing within the wait).
async fn connected_udp_error(addr: &str, port: u16) -> Option<ErrorKind> {
    let u = sock::udp(Family::INET).expect("a socket");
    u.connect(addr, port).await.expect("connect");
    u.send(b"anyone?").await.expect("send");
    let mut buf = [0u8; 8];
    let r = u.recv(&mut buf).timeout(Duration::from_secs(2)).await;
    r.err().map(|e| e.kind())
}

#[test]
fn a_closed_udp_port_answers_a_connected_socket_with_port_unreachable() {
    let (sim, a, b) = two_hosts(8);
    let refused = Some(ErrorKind::ConnectionRefused);
    assert_eq!(a.run(connected_udp_error("10.0.0.2", 53)), refused);
    // The ICMP takes the way back: cut, nothing is heard.
    sim.world().partition(b.id(), a.id(), false);
    let cut = a.run(connected_udp_error("10.0.0.2", 53));
    assert_eq!(cut, Some(ErrorKind::Timeout));
    sim.world().repair_at(a.id(), b.id(), Duration::ZERO);
    assert_eq!(a.run(connected_udp_error("10.0.0.2", 53)), refused);
    // A crashed host answers nothing; an address nobody owns neither.
    sim.world().crash(b.id());
    let down = a.run(connected_udp_error("10.0.0.2", 53));
    assert_eq!(down, Some(ErrorKind::Timeout));
    sim.world()
        .set_unreachable(ip("10.0.0.0"), 24, Unreachable::Host(ARP_TIMEOUT));
    // Host unreachable is a soft error for UDP: Linux does not report it.
    let soft = a.run(connected_udp_error("10.0.0.9", 53));
    assert_eq!(soft, Some(ErrorKind::Timeout));
}

//! Raw ICMP sockets (`sock::raw`) on real loopback and on simulated hosts: the same
//! ping, and the packets each socket receives, compared field by field.
//!
//! The real half needs `CAP_NET_RAW` (root on the CI); without it, it prints why and
//! skips. The simulated half always runs: echo replies from the target host's kernel,
//! every raw socket of the protocol getting a copy (the target's sees the request),
//! IPv4 packets with the IP header and ICMPv6 ones without, nothing from a partitioned,
//! crashed or unowned target before the deadline.

use std::net::IpAddr;
use std::time::Duration;

use sock::addr::Protocol;
use sock::sim::{Host, Sim, World};
use sock::{ErrorKind, Expires, Family, Udp};
use sock_tests::sim::{ip, two_hosts};

/// How long a ping waits for each packet: generous, only a hang fails on it.
const WAIT: Duration = Duration::from_secs(5);

/// At most this many packets are read per ping (bounded loops).
const MAX_PACKETS: usize = 8;

/// The payload every echo request carries.
const PAYLOAD: &[u8] = b"sock raw ping payload";

/// One received ICMP(v6) packet, as the test compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    /// Whether an IP header came in front of the message.
    header: bool,
    /// ICMP type.
    kind: u8,
    /// ICMP code.
    code: u8,
    /// The checksum field as received (the ICMPv6 one is the kernel's).
    sum: u16,
    /// Echo identifier.
    id: u16,
    /// Echo sequence number.
    seq: u16,
    /// Echo payload.
    payload: Vec<u8>,
}

/// The raw protocol of `family`'s ICMP.
fn icmp_of(family: Family) -> Protocol {
    if family == Family::INET6 {
        Protocol::ICMPV6
    } else {
        Protocol::ICMP
    }
}

/// An echo request of `family` (the ICMPv4 checksum is the sender's to fill in; the
/// kernel fills ICMPv6's).
fn echo_request(family: Family, id: u16, seq: u16) -> Vec<u8> {
    let kind = if family == Family::INET6 { 128 } else { 8 };
    let mut msg = vec![kind, 0, 0, 0];
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&seq.to_be_bytes());
    msg.extend_from_slice(PAYLOAD);
    if family == Family::INET {
        let sum = checksum(&msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    msg
}

/// The Internet checksum (RFC 1071): 0 over data carrying a valid one.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Parses a received packet of `family`: an IPv4 one must start with a header whose
/// protocol is ICMP and whose checksum holds, and carry a valid ICMP checksum.
fn parse(family: Family, bytes: &[u8]) -> Seen {
    let version = if family == Family::INET6 { 6 } else { 4 };
    let header = bytes[0] >> 4 == version;
    let msg = if header {
        let len = usize::from(bytes[0] & 0xf) * 4;
        assert_eq!(
            checksum(&bytes[..len]),
            0,
            "IPv4 header checksum: {bytes:?}"
        );
        assert_eq!(bytes[9], 1, "IPv4 protocol ICMP: {bytes:?}");
        let total = u16::from_be_bytes([bytes[2], bytes[3]]);
        assert_eq!(usize::from(total), bytes.len(), "IPv4 total length");
        &bytes[len..]
    } else {
        bytes
    };
    if family == Family::INET {
        assert_eq!(checksum(msg), 0, "ICMP checksum: {msg:?}");
    }
    Seen {
        header,
        kind: msg[0],
        code: msg[1],
        sum: u16::from_be_bytes([msg[2], msg[3]]),
        id: u16::from_be_bytes([msg[4], msg[5]]),
        seq: u16::from_be_bytes([msg[6], msg[7]]),
        payload: msg[8..].to_vec(),
    }
}

/// Reads the packets of echo `id` that `r` receives, with their sources, until an
/// echo reply (or `MAX_PACKETS`); `Timeout` when one wait passes `WAIT`.
async fn read_until_reply(r: &Udp, family: Family, id: u16) -> sock::Result<Vec<(Seen, IpAddr)>> {
    let reply = if family == Family::INET6 { 129 } else { 0 };
    let mut seen = Vec::new();
    for _ in 0..MAX_PACKETS {
        let got = read_one(r, family).await?;
        if got.0.id != id {
            continue; // another ping of this machine
        }
        let done = got.0.kind == reply;
        seen.push(got);
        if done {
            break;
        }
    }
    Ok(seen)
}

/// The next packet `r` receives, parsed, with its source; `Timeout` past `WAIT`.
async fn read_one(r: &Udp, family: Family) -> sock::Result<(Seen, IpAddr)> {
    let mut buf = [0u8; 1500];
    let (n, from) = r.recv_from(&mut buf).timeout(WAIT).await?;
    let from = from.as_socket().expect("an IP source").ip();
    Ok((parse(family, &buf[..n]), from))
}

/// Pings `target` from a fresh raw socket: the packets of this echo it receives.
async fn ping(family: Family, target: &str, id: u16) -> sock::Result<Vec<(Seen, IpAddr)>> {
    let r = sock::raw(family, icmp_of(family))?;
    r.send_to(&echo_request(family, id, 1), &(target, 0))
        .await?;
    read_until_reply(&r, family, id).await
}

/// The request and the reply a ping of echo `id` over `family` should see.
fn expected(family: Family, id: u16, header: bool) -> (Seen, Seen) {
    let (request, reply) = if family == Family::INET6 {
        (128, 129)
    } else {
        (8, 0)
    };
    let seen = |kind| Seen {
        header,
        kind,
        code: 0,
        sum: 0,
        id,
        seq: 1,
        payload: PAYLOAD.to_vec(),
    };
    (seen(request), seen(reply))
}

/// `seen` with the checksums zeroed, to compare with [`expected`] (real and simulated
/// packets are compared with theirs).
fn unsummed(seen: &[(Seen, IpAddr)]) -> Vec<(Seen, IpAddr)> {
    let zero = |(s, from): &(Seen, IpAddr)| {
        (
            Seen {
                sum: 0,
                ..s.clone()
            },
            *from,
        )
    };
    seen.iter().map(zero).collect()
}

/// A simulation whose hosts `a` and `b` have an IPv4 and an IPv6 address each.
fn dual_stack(seed: u64) -> (Sim, Host, Host) {
    let sim = Sim::new(World::from_env_or(seed));
    let a = sim.add_host("a", &[ip("10.0.0.1"), ip("fd00::1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2"), ip("fd00::2")]);
    (sim, a, b)
}

/// On a simulated host, pinging its own loopback: the socket sees its request, then
/// the reply, as a real one does on Linux.
fn sim_loopback(family: Family, target: &'static str) -> Vec<(Seen, IpAddr)> {
    let (_sim, a, _b) = dual_stack(71);
    a.run(ping(family, target, 0x5150))
        .expect("a simulated ping")
}

#[test]
fn a_ping_of_the_hosts_loopback_sees_request_then_reply() {
    for (family, target, header) in [
        (Family::INET, "127.0.0.1", true),
        (Family::INET6, "::1", false),
    ] {
        let seen = sim_loopback(family, target);
        let (request, reply) = expected(family, 0x5150, header);
        let from = ip(target);
        let want = vec![(request, from), (reply, from)];
        assert_eq!(unsummed(&seen), want, "{target}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn real_and_simulated_loopback_pings_agree() {
    for (family, target) in [(Family::INET, "127.0.0.1"), (Family::INET6, "::1")] {
        let id = (std::process::id() as u16) ^ 0x5a5a;
        let real = match sock::run(ping(family, target, id)) {
            Err(e) if e.kind() == ErrorKind::AccessDenied => {
                println!("skipped: a real raw socket needs CAP_NET_RAW (root): {e}");
                return;
            }
            r => r.expect("a real ping over loopback"),
        };
        let (_sim, a, _b) = dual_stack(72);
        let simulated = a.run(ping(family, target, id)).expect("a simulated ping");
        assert_eq!(real, simulated, "{target}: real vs simulated");
        let (request, reply) = expected(family, id, family == Family::INET);
        let want = vec![(request, ip(target)), (reply, ip(target))];
        assert_eq!(unsummed(&real), want, "{target}");
    }
}

#[test]
fn between_hosts_the_target_sees_the_request_and_the_sender_the_reply() {
    for (family, from, to) in [
        (Family::INET, "10.0.0.1", "10.0.0.2"),
        (Family::INET6, "fd00::1", "fd00::2"),
    ] {
        let (sim, a, b) = dual_stack(73);
        let watcher = b.run(async move { sock::raw(family, icmp_of(family)) });
        let watcher = watcher.expect("a raw socket on b");
        let seen = a.run(ping(family, to, 7)).expect("a ping of b");
        let (request, reply) = expected(family, 7, family == Family::INET);
        let want = vec![(reply, ip(to))];
        assert_eq!(unsummed(&seen), want, "{to}: a sees only the reply");
        let at_b = b.run(async move { read_one(&watcher, family).await });
        let at_b = unsummed(&[at_b.expect("b's copy")]);
        assert_eq!(at_b, vec![(request, ip(from))], "{to}");
        let link = sock::sim::Link::default().latency;
        assert!(sim.world().now() >= 2 * link, "a round trip of the link");
    }
}

#[test]
fn a_partitioned_crashed_or_unowned_target_answers_nothing() {
    let (sim, a, b) = two_hosts(74);
    sim.world().partition(a.id(), b.id(), true);
    let partitioned = a.run(ping(Family::INET, "10.0.0.2", 1)).unwrap_err();
    assert_eq!(partitioned.kind(), ErrorKind::Timeout);
    let unowned = a.run(ping(Family::INET, "10.0.0.99", 2)).unwrap_err();
    assert_eq!(unowned.kind(), ErrorKind::Timeout);

    let (sim, a, b) = two_hosts(75);
    sim.world().crash(b.id());
    let crashed = a.run(ping(Family::INET, "10.0.0.2", 3)).unwrap_err();
    assert_eq!(crashed.kind(), ErrorKind::Timeout);
    sim.world().restart(b.id());
    let seen = a
        .run(ping(Family::INET, "10.0.0.2", 4))
        .expect("b answers again");
    assert_eq!(seen.len(), 1, "the reply: {seen:?}");
}

#[test]
fn other_protocols_reach_raw_sockets_only() {
    let (_sim, a, b) = two_hosts(76);
    let proto = Protocol::from_raw(253); // for experimentation (RFC 3692)
    let watcher = b
        .run(async move { sock::raw(Family::INET, proto) })
        .expect("raw 253");
    let sender = a.run(async move {
        let r = sock::raw(Family::INET, proto)?;
        r.send_to(b"opaque", &("10.0.0.2", 0)).await?;
        Ok::<_, sock::Error>(r)
    });
    let sender = sender.expect("a send of protocol 253");
    let got = b.run(async move {
        let mut buf = [0u8; 64];
        let (n, from) = watcher.recv_from(&mut buf).timeout(WAIT).await?;
        Ok::<_, sock::Error>((buf[..n].to_vec(), from.as_socket().map(|s| s.ip())))
    });
    let (bytes, from) = got.expect("b's copy");
    assert_eq!(
        (&bytes[20..], bytes[9], from),
        (&b"opaque"[..], 253, Some(ip("10.0.0.1")))
    );
    let answer = a.run(async move {
        let mut buf = [0u8; 64];
        sender.recv(&mut buf).timeout(WAIT).await
    });
    assert_eq!(
        answer.unwrap_err().kind(),
        ErrorKind::Timeout,
        "nothing answers"
    );
}

#[test]
fn try_recv_and_deadlines_work_as_on_udp() {
    let (sim, a, _b) = two_hosts(77);
    a.run(async {
        let r = sock::raw(Family::INET, Protocol::ICMP)?;
        let mut buf = [0u8; 128];
        assert_eq!(
            r.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let start = sock::clock();
        let err = r
            .recv(&mut buf)
            .timeout(Duration::from_secs(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(
            sock::clock() - start,
            Duration::from_secs(3),
            "virtual time"
        );
        r.send_to(&echo_request(Family::INET, 9, 1), &("127.0.0.1", 0))
            .await?;
        sock::sleep(Duration::from_secs(1)).await;
        let n = r.try_recv(&mut buf)?; // the request's copy, queued by now
        assert_eq!(parse(Family::INET, &buf[..n]).kind, 8);
        let n = r.try_recv(&mut buf)?;
        assert_eq!(parse(Family::INET, &buf[..n]).kind, 0);
        r.close()
    })
    .expect("raw socket calls");
    assert!(sim.world().now() >= Duration::from_secs(4));
}

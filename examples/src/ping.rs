//! ICMP echo over a raw socket: build the request, send it, and wait for the matching
//! reply, skipping our own request (a raw ICMP socket on loopback sees both).

use std::time::{Duration, Instant};

use sock::{Expires, Family, addr::Protocol};

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;

/// Pings `host` (an IPv4 address) once with identifier `id` and sequence `seq`;
/// returns the round-trip time.
///
/// # Errors
///
/// [`sock::ErrorKind::AccessDenied`] without `CAP_NET_RAW`; [`sock::ErrorKind::Timeout`]
/// after `timeout` without a matching reply.
pub async fn ping(host: &str, id: u16, seq: u16, timeout: Duration) -> sock::Result<Duration> {
    let raw = sock::raw(Family::INET, Protocol::ICMP)?;
    let request = echo_request(id, seq, b"sock ping");
    let start = Instant::now();
    raw.send_to(&request, &(host, 0)).await?;
    let deadline = sock::clock() + timeout;
    let mut buf = [0u8; 1500];
    loop {
        let (n, _from) = raw.recv_from(&mut buf).expires(deadline).await?;
        if is_reply_to(&buf[..n], id, seq) {
            return Ok(start.elapsed());
        }
    }
}

/// An ICMP echo request with a correct checksum.
pub fn echo_request(id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![ECHO_REQUEST, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// Whether `packet` (an IPv4 datagram, as raw sockets deliver it) is the echo reply for
/// `id`/`seq`; our own request, also delivered on loopback, is not.
pub fn is_reply_to(packet: &[u8], id: u16, seq: u16) -> bool {
    let Some(&first) = packet.first() else {
        return false;
    };
    let ihl = usize::from(first & 0x0f) * 4;
    let Some(icmp) = packet.get(ihl..ihl + 8) else {
        return false;
    };
    icmp[0] == ECHO_REPLY && icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes()
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

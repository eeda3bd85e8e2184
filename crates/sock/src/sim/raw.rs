//! The raw-socket model: `sock::raw(family, protocol)` on a simulated host, as Linux
//! behaves for the packets the model knows.
//!
//! A raw socket is a `UdpSocket` of the world with a protocol number and port 0, so
//! its queue, readiness, receive, peek, deadlines and close are the datagram ones
//! (`udp.rs`). What differs is the wire: a `send_to` puts the caller's bytes (the
//! protocol's message, no IP header) on the link toward the host owning the address,
//! after the link's delay, subject to its loss, partitions, clogs and crashes; toward
//! an address nobody owns it is lost (`route.rs`), toward no route it fails with
//! `NetworkUnreachable`. Over IPv6 the ICMPv6 checksum is the kernel's (it fills it
//! in, as Linux does for `IPPROTO_ICMPV6`); over IPv4 it is the caller's.
//!
//! On arrival every raw socket of the destination host with the packet's protocol and
//! family (and bound to the destination address or none) gets a copy, as Linux hands
//! one to each: over IPv4 with a 20-byte IP header in front, over IPv6 the message
//! only. The source is the sender's address with port 0. Then the host's kernel
//! answers an ICMP echo request (type 8 over IPv4 with a valid checksum, type 128 over
//! IPv6) with an echo reply (type 0 / 129, the same identifier, sequence and payload)
//! back to the sender, which goes over the link like any packet. Nothing else is
//! answered: other protocols reach the raw sockets only.
//!
//! Known differences from Linux: the IPv4 header's identification is 0 (Linux's
//! counts); its flags are DF for a raw socket's packets and none for the kernel's
//! replies, as Linux sets them on loopback, whatever the path MTU; no IP options;
//! `IP_HDRINCL`, `ICMP_FILTER`/`ICMP6_FILTER` and the ICMP errors of an unowned
//! address are not modelled. A connected raw socket takes only
//! its peer's packets, as on Linux (the datagram receive's filter).

use std::net::{IpAddr, SocketAddr};

use super::route::{Route, Unreachable};
use super::udp::UdpSocket;
use super::world::{Event, Socket, World};
use super::{HostId, SocketId};
use crate::ErrorKind;

/// `IPPROTO_ICMP`.
const ICMP: u8 = 1;
/// `IPPROTO_ICMPV6`.
const ICMPV6: u8 = 58;
/// The IPv4 header the model writes: no options.
const IPV4_HEADER: usize = 20;
/// The TTL (IPv4) of every packet: Linux's default.
const TTL: u8 = 64;

/// A packet of a raw socket (or a kernel's echo reply) on the wire.
#[derive(Debug)]
pub(crate) struct RawPacket {
    /// The source address.
    src: IpAddr,
    /// The destination address.
    dst: IpAddr,
    /// The IP protocol number.
    protocol: u8,
    /// The protocol's message (no IP header).
    msg: Vec<u8>,
    /// Whether the IPv4 header carries DF (a raw socket's packet, not a reply).
    dont_fragment: bool,
    /// The sending host and the destination host.
    via: (HostId, HostId),
}

impl World {
    /// A raw socket of `protocol` on `host`, IPv6 when `v6`: in the world at once
    /// (it receives without a bind, as on Linux).
    ///
    /// # Errors
    ///
    /// `TooManyOpenFiles` at the host's limit.
    pub(crate) fn raw_open(
        &mut self,
        host: HostId,
        v6: bool,
        protocol: u8,
    ) -> Result<SocketId, ErrorKind> {
        self.open_fd(host)?;
        let any = match v6 {
            true => IpAddr::from([0u16; 8]),
            false => IpAddr::from([0u8; 4]),
        };
        let mut s = UdpSocket::new(host, SocketAddr::new(any, 0));
        s.raw = Some(protocol);
        let id = self.new_socket_id();
        self.sockets.insert(id, Socket::Udp(s));
        self.record(host, format!("raw open protocol {protocol} -> {id:?}"));
        Ok(id)
    }

    /// Binds a raw socket to `ip`: it then takes only packets to that address, and
    /// sends from it.
    ///
    /// # Errors
    ///
    /// `AddressNotAvailable` for an address not of the host or of another family;
    /// `Closed` for a closed socket.
    pub(crate) fn raw_bind(&mut self, socket: SocketId, ip: IpAddr) -> Result<(), ErrorKind> {
        let s = self.udp(socket).ok_or(ErrorKind::Closed)?;
        let host = s.host;
        if s.local.is_ipv6() != ip.is_ipv6() || !self.is_local(host, ip) {
            return Err(ErrorKind::AddressNotAvailable);
        }
        self.udp_mut(socket)
            .expect("checked above")
            .local
            .set_ip(ip);
        Ok(())
    }

    /// Sends `msg` (the protocol's message) to `to` from a raw socket.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an address of the other family; `MessageTooLong` past the IP
    /// packet limit; `NetworkUnreachable` with no route; `Closed` for a closed socket.
    pub(crate) fn raw_send_to(
        &mut self,
        socket: SocketId,
        msg: &[u8],
        to: IpAddr,
    ) -> Result<usize, ErrorKind> {
        let s = self.udp(socket).ok_or(ErrorKind::Closed)?;
        let (host, local, protocol) = (s.host, s.local.ip(), s.raw.unwrap_or(0));
        if local.is_ipv6() != to.is_ipv6() {
            return Err(ErrorKind::InvalidInput);
        }
        if msg.len() > max_message(to) {
            return Err(ErrorKind::MessageTooLong);
        }
        let src = match local.is_unspecified() {
            true => self.source_ip(host, to),
            false => local,
        };
        let to_host = match self.route(host, to) {
            Route::Host(h) => h,
            Route::Unreachable(Unreachable::Network) => return Err(ErrorKind::NetworkUnreachable),
            Route::Unreachable(_) => {
                self.record(host, format!("raw lost {src} -> {to}: nobody owns it"));
                return Ok(msg.len());
            }
        };
        let mut msg = msg.to_vec();
        if to.is_ipv6() && protocol == ICMPV6 && msg.len() >= 4 {
            set_icmpv6_checksum(src, to, &mut msg);
        }
        let packet = RawPacket {
            src,
            dst: to,
            protocol,
            msg,
            dont_fragment: true,
            via: (host, to_host),
        };
        let len = packet.msg.len();
        self.record(host, format!("raw send {len} bytes {src} -> {to}"));
        self.raw_transmit(packet);
        Ok(len)
    }

    /// A raw packet arrives at its host: a copy to each raw socket of its protocol
    /// there, then the kernel's answer to an echo request.
    pub(crate) fn raw_arrive(&mut self, p: RawPacket) {
        let host = p.via.1;
        if !self.is_up(host) {
            return;
        }
        let len = p.msg.len();
        self.record(host, format!("raw recv {len} bytes {} -> {}", p.src, p.dst));
        for id in self.raw_sockets_for(host, &p) {
            self.raw_deliver(id, &p);
        }
        self.settle();
        if let Some(reply) = echo_reply(&p) {
            self.record(host, format!("icmp echo reply {} -> {}", p.dst, p.src));
            self.raw_transmit(reply);
        }
    }

    /// Puts a raw packet on the wire with the link's loss, partitions and clogs.
    fn raw_transmit(&mut self, p: RawPacket) {
        let (from, to) = p.via;
        let link = self.net.link(from, to);
        if self.net.is_blocked(from, to) || self.rng.chance(link.loss) {
            return self.record(from, format!("raw lost {} -> {}", p.src, p.dst));
        }
        let at = self.arrival(from, to);
        self.schedule(at, Event::Raw(p));
    }

    /// The raw sockets of `host` that take a copy of `p`, in id order.
    fn raw_sockets_for(&self, host: HostId, p: &RawPacket) -> Vec<SocketId> {
        let takes = |s: &UdpSocket| {
            let ip = s.local.ip();
            s.host == host
                && s.raw == Some(p.protocol)
                && ip.is_ipv6() == p.dst.is_ipv6()
                && (ip.is_unspecified() || ip == p.dst)
        };
        let of = |(id, s): (&SocketId, &Socket)| match s {
            Socket::Udp(u) if takes(u) => Some(*id),
            _ => None,
        };
        self.sockets.iter().filter_map(of).collect()
    }

    /// Queues a copy of `p` at raw socket `id`, as its family receives it (dropped
    /// when the queue is full).
    fn raw_deliver(&mut self, id: SocketId, p: &RawPacket) {
        let bytes = match p.dst {
            IpAddr::V4(_) => with_ipv4_header(p),
            IpAddr::V6(_) => p.msg.clone(),
        };
        self.touch(id);
        let s = self.udp_mut(id).expect("listed among the raw sockets");
        let host = s.host;
        if !s.enqueue(SocketAddr::new(p.src, 0), bytes) {
            self.record(host, format!("raw drop {} -> {}: queue full", p.src, p.dst));
        }
    }
}

/// The kernel's echo reply to `p`, if it is an echo request it answers: ICMP type 8
/// code 0 with a valid checksum, or ICMPv6 type 128 code 0.
fn echo_reply(p: &RawPacket) -> Option<RawPacket> {
    let (request, reply) = match p.dst {
        IpAddr::V4(_) => (8, 0),
        IpAddr::V6(_) => (128, 129),
    };
    let protocol = if p.dst.is_ipv6() { ICMPV6 } else { ICMP };
    let is_request = p.protocol == protocol && p.msg.len() >= 8 && p.msg[..2] == [request, 0];
    if !is_request || (p.dst.is_ipv4() && checksum(&p.msg) != 0) {
        return None;
    }
    let mut msg = p.msg.clone();
    msg[0] = reply;
    match p.dst {
        IpAddr::V4(_) => set_icmp_checksum(&mut msg),
        IpAddr::V6(_) => set_icmpv6_checksum(p.dst, p.src, &mut msg),
    }
    Some(RawPacket {
        src: p.dst,
        dst: p.src,
        protocol,
        msg,
        dont_fragment: false,
        via: (p.via.1, p.via.0),
    })
}

/// The largest message a raw socket sends toward `to`: an IPv4 packet's 65,535 bytes
/// less its header; an IPv6 payload's 65,535.
fn max_message(to: IpAddr) -> usize {
    match to {
        IpAddr::V4(_) => 65_535 - IPV4_HEADER,
        IpAddr::V6(_) => 65_535,
    }
}

/// `p` as an IPv4 raw socket receives it: the IP header, then the message.
fn with_ipv4_header(p: &RawPacket) -> Vec<u8> {
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (p.src, p.dst) else {
        unreachable!("an IPv4 packet has IPv4 addresses")
    };
    let total = (IPV4_HEADER + p.msg.len()) as u16;
    let flags: u16 = if p.dont_fragment { 0x4000 } else { 0 };
    let mut out = Vec::with_capacity(usize::from(total));
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0]); // identification
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[TTL, p.protocol, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let sum = checksum(&out);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&p.msg);
    out
}

/// Fills in an ICMP message's checksum (bytes 2..4).
fn set_icmp_checksum(msg: &mut [u8]) {
    msg[2..4].fill(0);
    let sum = checksum(msg);
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// Fills in an ICMPv6 message's checksum (bytes 2..4), over the pseudo-header of
/// `src → dst`.
fn set_icmpv6_checksum(src: IpAddr, dst: IpAddr, msg: &mut [u8]) {
    let (IpAddr::V6(src), IpAddr::V6(dst)) = (src, dst) else {
        return;
    };
    msg[2..4].fill(0);
    let mut data = Vec::with_capacity(40 + msg.len());
    data.extend_from_slice(&src.octets());
    data.extend_from_slice(&dst.octets());
    data.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    data.extend_from_slice(&[0, 0, 0, ICMPV6]);
    data.extend_from_slice(msg);
    let sum = checksum(&data);
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// The Internet checksum (RFC 1071) of `data`: 0 over data with a valid one.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

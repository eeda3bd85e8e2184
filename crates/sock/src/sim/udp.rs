//! The UDP model: bound sockets with a receive queue of limited bytes, datagrams
//! subject to the link's loss, duplication and reordering, truncation and `EMSGSIZE`.
//!
//! A datagram to an address no host owns, into a partition, to a port nobody bound or
//! into a full queue is dropped silently (no ICMP: a real `send_to` does not fail
//! either, and `ECONNREFUSED` on a connected UDP socket is not modelled yet). The size
//! limit is IPv4's 65,507 bytes for both families; no fragmentation or MTU.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::world::{Event, Socket, World};
use super::{HostId, Readiness, SocketId};
use crate::ErrorKind;

/// The largest UDP payload over IPv4: 65,535 − 8 (UDP) − 20 (IP).
pub const MAX_DATAGRAM: usize = 65_507;

/// The default receive buffer of a UDP socket, in payload bytes.
const DEFAULT_RECV_BUFFER: usize = 212_992;

/// One bound UDP socket.
#[derive(Debug)]
pub(crate) struct UdpSocket {
    /// The host it lives on.
    pub(crate) host: HostId,
    /// Its bound address.
    local: SocketAddr,
    /// Arrived datagrams with their senders, oldest first.
    queue: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Payload bytes in `queue`.
    queued: usize,
    /// At most this many payload bytes queue; a datagram that does not fit is dropped.
    capacity: usize,
}

/// A datagram on the wire.
#[derive(Debug)]
pub(crate) struct Datagram {
    /// The sender's address.
    from: SocketAddr,
    /// The destination address.
    to: SocketAddr,
    /// The payload.
    bytes: Vec<u8>,
}

impl World {
    /// A UDP socket on `host` bound to `addr` (port 0: an ephemeral one).
    ///
    /// # Errors
    ///
    /// `AddressNotAvailable` for an address not of this host or when no ephemeral port is
    /// free; `AddressInUse` for a taken port; `TooManyOpenFiles` at the host's limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let _ = (a, b, SocketAddr::from(([0, 0, 0, 0], 0)));
    /// let ua = world.udp_bind(a, SocketAddr::from(([10, 0, 0, 1], 0)))?;
    /// let to = SocketAddr::from(([10, 0, 0, 2], 53));
    /// let ub = world.udp_bind(b, to)?;
    /// world.udp_send_to(ua, b"query", to)?;
    /// world.run_until_idle();
    /// let mut buf = [0u8; 16];
    /// let (n, from) = world.udp_recv_from(ub, &mut buf)?;
    /// assert_eq!((&buf[..n], Some(from)), (&b"query"[..], world.udp_local_addr(ua)));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn udp_bind(&mut self, host: HostId, addr: SocketAddr) -> Result<SocketId, ErrorKind> {
        self.check_local(host, addr)?;
        let h = &mut self.hosts[host.0];
        let port = match addr.port() {
            0 => h.ephemeral_port(false)?,
            p if h.udp_ports.contains_key(&p) => return Err(ErrorKind::AddressInUse),
            p => p,
        };
        self.open_fd(host)?;
        let local = SocketAddr::new(addr.ip(), port);
        let id = self.new_socket_id();
        self.hosts[host.0].udp_ports.insert(port, id);
        let s = UdpSocket::new(host, local);
        self.sockets.insert(id, Socket::Udp(s));
        self.record(host, format!("udp bind {local} -> {id:?}"));
        Ok(id)
    }

    /// Sends one datagram; it arrives after the link's delay unless a fault drops it.
    ///
    /// # Errors
    ///
    /// `MessageTooLong` over [`MAX_DATAGRAM`] bytes; `Closed` for a closed socket.
    pub fn udp_send_to(
        &mut self,
        socket: SocketId,
        buf: &[u8],
        to: SocketAddr,
    ) -> Result<usize, ErrorKind> {
        let s = self.udp(socket).ok_or(ErrorKind::Closed)?;
        if buf.len() > MAX_DATAGRAM {
            return Err(ErrorKind::MessageTooLong);
        }
        let host = s.host;
        let from = match s.local.ip().is_unspecified() {
            true => SocketAddr::new(self.source_ip(host, to.ip()), s.local.port()),
            false => s.local,
        };
        self.record(host, format!("udp send {} bytes {from} -> {to}", buf.len()));
        let datagram = Datagram {
            from,
            to,
            bytes: buf.to_vec(),
        };
        self.transmit(host, datagram);
        Ok(buf.len())
    }

    /// Takes the oldest datagram into `buf`, with its sender.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none waits; `MessageTooLong` when `buf` is shorter than the
    /// datagram: `buf` holds its start and the rest is lost (as `MSG_TRUNC` reports);
    /// `Closed` for a closed socket.
    pub fn udp_recv_from(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
    ) -> Result<(usize, SocketAddr), ErrorKind> {
        self.touch(socket);
        let s = self.udp_mut(socket).ok_or(ErrorKind::Closed)?;
        let (from, bytes) = s.queue.pop_front().ok_or(ErrorKind::WouldBlock)?;
        s.queued -= bytes.len();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.settle();
        match n < bytes.len() {
            true => Err(ErrorKind::MessageTooLong),
            false => Ok((n, from)),
        }
    }

    /// Sets how many payload bytes a UDP socket's queue holds.
    pub fn udp_set_recv_buffer(&mut self, socket: SocketId, bytes: usize) {
        if let Some(s) = self.udp_mut(socket) {
            s.capacity = bytes;
        }
    }

    /// Copies the start of the next datagram into `buf` and leaves it queued
    /// (`MSG_PEEK`): the bytes copied, the datagram's whole length and its source.
    /// `WouldBlock` when none waits, `Closed` for a closed socket.
    pub(crate) fn udp_peek_from(
        &self,
        socket: SocketId,
        buf: &mut [u8],
    ) -> Result<(usize, usize, SocketAddr), ErrorKind> {
        let s = self.udp(socket).ok_or(ErrorKind::Closed)?;
        let (from, bytes) = s.queue.front().ok_or(ErrorKind::WouldBlock)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok((n, bytes.len(), *from))
    }

    /// How many payload bytes a UDP socket's queue holds (the default before a bind).
    pub(crate) fn udp_recv_buffer(&self, socket: Option<SocketId>) -> usize {
        socket
            .and_then(|id| self.udp(id))
            .map_or(DEFAULT_RECV_BUFFER, |s| s.capacity)
    }

    /// The bound address of a UDP socket.
    pub fn udp_local_addr(&self, socket: SocketId) -> Option<SocketAddr> {
        self.udp(socket).map(|s| s.local)
    }

    /// Closes a UDP socket: its port is free again and its queue is dropped.
    pub(crate) fn udp_close(&mut self, socket: SocketId) {
        let Some(s) = self.udp(socket) else { return };
        let (host, port) = (s.host, s.local.port());
        self.touch(socket);
        self.hosts[host.0].udp_ports.remove(&port);
        self.sockets.remove(&socket);
        self.record(host, format!("udp close {socket:?}"));
        self.settle();
    }

    /// A datagram arrives at its host: queued at the bound socket, or dropped.
    pub(crate) fn udp_arrive(&mut self, d: Datagram) {
        let Some(host) = self.host_of(d.to.ip()) else {
            return;
        };
        let Some(&id) = self.hosts[host.0].udp_ports.get(&d.to.port()) else {
            return self.record(host, format!("udp drop {} -> {}: no socket", d.from, d.to));
        };
        self.touch(id);
        let s = self.udp_mut(id).expect("a bound port has a socket");
        if s.queued + d.bytes.len() > s.capacity {
            return self.record(host, format!("udp drop {} -> {}: queue full", d.from, d.to));
        }
        s.queued += d.bytes.len();
        let len = d.bytes.len();
        s.queue.push_back((d.from, d.bytes));
        self.record(host, format!("udp recv {len} bytes {} -> {}", d.from, d.to));
    }

    /// Puts a datagram on the wire with the link's faults: loss, duplication, reordering.
    fn transmit(&mut self, from: HostId, d: Datagram) {
        let Some(to) = self.host_of(d.to.ip()) else {
            return;
        };
        let link = self.net.link(from, to);
        if self.net.is_blocked(from, to) || self.rng.chance(link.loss) {
            return self.record(from, format!("udp lost {} -> {}", d.from, d.to));
        }
        let copies = if self.rng.chance(link.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut at = self.arrival(from, to);
            if self.rng.chance(link.reorder) {
                at += super::net::jitter(&mut self.rng, link.latency.max(link.jitter));
            }
            let copy = Datagram {
                from: d.from,
                to: d.to,
                bytes: d.bytes.clone(),
            };
            self.schedule(at, Event::Udp(copy));
        }
    }

    /// The UDP socket `id`, if it is one.
    fn udp(&self, id: SocketId) -> Option<&UdpSocket> {
        match self.sockets.get(&id) {
            Some(Socket::Udp(s)) => Some(s),
            _ => None,
        }
    }

    /// The UDP socket `id`, mutably.
    fn udp_mut(&mut self, id: SocketId) -> Option<&mut UdpSocket> {
        match self.sockets.get_mut(&id) {
            Some(Socket::Udp(s)) => Some(s),
            _ => None,
        }
    }
}

impl UdpSocket {
    /// A socket with an empty queue of the default capacity.
    fn new(host: HostId, local: SocketAddr) -> UdpSocket {
        UdpSocket {
            host,
            local,
            queue: VecDeque::new(),
            queued: 0,
            capacity: DEFAULT_RECV_BUFFER,
        }
    }

    /// Readable when a datagram waits; always writable (sends never wait here).
    pub(crate) fn readiness(&self) -> Readiness {
        Readiness::new(!self.queue.is_empty(), true)
    }
}

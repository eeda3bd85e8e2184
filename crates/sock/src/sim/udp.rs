//! The UDP model: bound sockets with a receive queue of limited bytes, datagrams
//! subject to the link's loss, duplication and reordering, truncation and `EMSGSIZE`.
//!
//! A datagram to an address no host owns, into a partition or into a full queue is
//! dropped silently (a real `send_to` does not fail either). One to a port nobody
//! bound on a live host draws an ICMP port unreachable (`route.rs`): the sending
//! socket, if it is connected to that address, fails its next send or receive with
//! `ConnectionRefused` once, as Linux reports it; an unconnected socket hears nothing.
//! Toward an address with no route a send fails at once with `NetworkUnreachable`.
//! The size limit is the family's: 65,507 bytes over IPv4 ([`MAX_DATAGRAM`]), 65,527
//! over IPv6 ([`MAX_DATAGRAM_V6`]); no fragmentation or MTU.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::route::{Icmp, Route, Unreachable};
use super::world::{Event, Socket, World};
use super::{HostId, Readiness, SocketId};
use crate::ErrorKind;

/// The largest UDP payload over IPv4: 65,535 − 8 (UDP) − 20 (IP).
pub const MAX_DATAGRAM: usize = 65_507;

/// The largest UDP payload over IPv6: 65,535 − 8 (UDP); the 40-byte IPv6 header is not
/// counted in the payload length.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use sock::sim::{MAX_DATAGRAM, MAX_DATAGRAM_V6, World};
///
/// let mut world = World::new(1);
/// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
/// let v6: SocketAddr = "[::1]:9".parse().unwrap();
/// let u = world.udp_bind(a, "[::1]:0".parse().unwrap())?;
/// assert_eq!(world.udp_send_to(u, &[0; MAX_DATAGRAM_V6], v6), Ok(MAX_DATAGRAM_V6));
/// let over = world.udp_send_to(u, &[0; MAX_DATAGRAM_V6 + 1], v6);
/// assert_eq!(over, Err(sock::ErrorKind::MessageTooLong));
/// assert!(MAX_DATAGRAM < MAX_DATAGRAM_V6);
/// # Ok::<(), sock::ErrorKind>(())
/// ```
pub const MAX_DATAGRAM_V6: usize = 65_527;

/// The default receive buffer of a UDP socket, in payload bytes.
const DEFAULT_RECV_BUFFER: usize = 212_992;

/// One bound UDP socket.
#[derive(Debug)]
pub(crate) struct UdpSocket {
    /// The host it lives on.
    pub(crate) host: HostId,
    /// Its bound address (port 0 for a raw socket).
    pub(super) local: SocketAddr,
    /// Arrived datagrams with their senders, oldest first.
    queue: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Payload bytes in `queue`.
    queued: usize,
    /// At most this many payload bytes queue; a datagram that does not fit is dropped.
    capacity: usize,
    /// The IP protocol number of a raw socket (`raw.rs`); `None` for UDP.
    pub(super) raw: Option<u8>,
    /// The address `connect` chose: only a connected socket hears ICMP errors.
    peer: Option<SocketAddr>,
    /// An ICMP error not yet reported: the next send or receive fails with it.
    error: Option<ErrorKind>,
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
    /// The sending host and the host `to` routes to (a loopback address names
    /// neither).
    via: (HostId, HostId),
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
    /// `MessageTooLong` over [`MAX_DATAGRAM`] bytes toward IPv4 ([`MAX_DATAGRAM_V6`]
    /// toward IPv6); `NetworkUnreachable` with no route toward `to`;
    /// `ConnectionRefused` once after a port unreachable answered a datagram of this
    /// connected socket; `Closed` for a closed socket.
    pub fn udp_send_to(
        &mut self,
        socket: SocketId,
        buf: &[u8],
        to: SocketAddr,
    ) -> Result<usize, ErrorKind> {
        self.take_udp_error(socket)?;
        let s = self.udp(socket).ok_or(ErrorKind::Closed)?;
        if buf.len() > max_datagram(to) {
            return Err(ErrorKind::MessageTooLong);
        }
        let host = s.host;
        let from = match s.local.ip().is_unspecified() {
            true => SocketAddr::new(self.source_ip(host, to.ip()), s.local.port()),
            false => s.local,
        };
        let Some(to_host) = self.udp_route(host, from, to)? else {
            return Ok(buf.len()); // nobody owns `to`: lost, as the OS send succeeds
        };
        self.record(host, format!("udp send {} bytes {from} -> {to}", buf.len()));
        let datagram = Datagram {
            from,
            to,
            bytes: buf.to_vec(),
            via: (host, to_host),
        };
        self.transmit(datagram);
        Ok(buf.len())
    }

    /// Takes the oldest datagram into `buf`, with its sender.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none waits; `MessageTooLong` when `buf` is shorter than the
    /// datagram: `buf` holds its start and the rest is lost (as `MSG_TRUNC` reports);
    /// `ConnectionRefused` once after a port unreachable answered a datagram of this
    /// connected socket (before any queued datagram, as Linux reports it); `Closed` for
    /// a closed socket.
    pub fn udp_recv_from(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
    ) -> Result<(usize, SocketAddr), ErrorKind> {
        self.take_udp_error(socket)?;
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
    /// `WouldBlock` when none waits, `Closed` for a closed socket; an unreported ICMP
    /// error is taken and returned first, as [`World::udp_recv_from`] does (Linux's
    /// `MSG_PEEK` takes it too).
    pub(crate) fn udp_peek_from(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
    ) -> Result<(usize, usize, SocketAddr), ErrorKind> {
        self.take_udp_error(socket)?;
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
        let (host, port, raw) = (s.host, s.local.port(), s.raw.is_some());
        self.touch(socket);
        if !raw {
            self.hosts[host.0].udp_ports.remove(&port);
        }
        self.sockets.remove(&socket);
        self.record(host, format!("udp close {socket:?}"));
        self.settle();
    }

    /// A datagram arrives at its host: queued at the bound socket, dropped (a crashed
    /// host, a full queue), or answered with a port unreachable (no socket).
    pub(crate) fn udp_arrive(&mut self, d: Datagram) {
        let host = d.via.1;
        if !self.is_up(host) {
            return;
        }
        let Some(id) = self.udp_socket_for(host, d.to) else {
            self.record(host, format!("udp drop {} -> {}: no socket", d.from, d.to));
            return self.port_unreachable(&d);
        };
        self.touch(id);
        let s = self.udp_mut(id).expect("a bound port has a socket");
        let len = d.bytes.len();
        if !s.enqueue(d.from, d.bytes) {
            return self.record(host, format!("udp drop {} -> {}: queue full", d.from, d.to));
        }
        self.record(host, format!("udp recv {len} bytes {} -> {}", d.from, d.to));
    }

    /// Puts a datagram on the wire with the link's faults: loss, duplication, reordering.
    fn transmit(&mut self, d: Datagram) {
        let (from, to) = d.via;
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
                via: d.via,
            };
            self.schedule(at, Event::Udp(copy));
        }
    }

    /// The UDP (or raw) socket `id`, if it is one.
    pub(super) fn udp(&self, id: SocketId) -> Option<&UdpSocket> {
        match self.sockets.get(&id) {
            Some(Socket::Udp(s)) => Some(s),
            _ => None,
        }
    }

    /// The UDP (or raw) socket `id`, mutably.
    pub(super) fn udp_mut(&mut self, id: SocketId) -> Option<&mut UdpSocket> {
        match self.sockets.get_mut(&id) {
            Some(Socket::Udp(s)) => Some(s),
            _ => None,
        }
    }

    /// Sets (`Some`) or dissolves (`None`) a UDP socket's peer: only a connected
    /// socket hears ICMP errors.
    ///
    /// # Errors
    ///
    /// `NetworkUnreachable` with no route toward `peer` (as `connect(2)` says at once);
    /// `Closed` for a closed socket.
    pub(crate) fn udp_connect(
        &mut self,
        socket: SocketId,
        peer: Option<SocketAddr>,
    ) -> Result<(), ErrorKind> {
        let host = self.udp(socket).ok_or(ErrorKind::Closed)?.host;
        if let Some(peer) = peer {
            self.check_route(host, peer.ip())?;
        }
        self.udp_mut(socket).expect("checked above").peer = peer;
        Ok(())
    }

    /// A port unreachable for the datagram `from → to` reaches `host`: the socket that
    /// sent it, when connected to `to`, reports `ConnectionRefused` at its next call.
    pub(crate) fn udp_refused(&mut self, host: HostId, from: SocketAddr, to: SocketAddr) {
        let Some(&id) = self.hosts[host.0].udp_ports.get(&from.port()) else {
            return;
        };
        self.touch(id);
        let s = self.udp_mut(id).expect("a bound port has a socket");
        if s.peer != Some(to) {
            return self.record(host, format!("udp {id:?} ignores port unreachable {to}"));
        }
        s.error = Some(ErrorKind::ConnectionRefused);
        self.record(host, format!("udp {id:?} port unreachable {to}"));
    }

    /// The host a datagram `from → to` of `host` goes to; `None` when nobody owns `to`
    /// (the datagram is lost: a host unreachable is not reported to UDP).
    ///
    /// # Errors
    ///
    /// `NetworkUnreachable` with no route toward `to`.
    fn udp_route(
        &mut self,
        host: HostId,
        from: SocketAddr,
        to: SocketAddr,
    ) -> Result<Option<HostId>, ErrorKind> {
        match self.route(host, to.ip()) {
            Route::Host(to_host) => Ok(Some(to_host)),
            Route::Unreachable(Unreachable::Network) => Err(ErrorKind::NetworkUnreachable),
            Route::Unreachable(_) => {
                self.record(host, format!("udp lost {from} -> {to}: nobody owns it"));
                Ok(None)
            }
        }
    }

    /// The socket of `host` a datagram to `to` reaches: the one holding the port,
    /// bound to `to`'s address or the unspecified one.
    fn udp_socket_for(&self, host: HostId, to: SocketAddr) -> Option<SocketId> {
        let id = *self.hosts[host.0].udp_ports.get(&to.port())?;
        let ip = self.udp(id)?.local.ip();
        (ip.is_unspecified() || ip == to.ip()).then_some(id)
    }

    /// Answers a datagram nobody receives with an ICMP port unreachable to its sender,
    /// after the way back's delay.
    fn port_unreachable(&mut self, d: &Datagram) {
        let (sender, host) = d.via;
        let delay = self.arrival(host, sender) - self.now;
        let icmp = Icmp::Port {
            host: sender,
            from: d.from,
            to: d.to,
        };
        self.send_icmp(host, sender, delay, icmp);
    }

    /// Takes a UDP socket's unreported ICMP error, as the next call's error.
    fn take_udp_error(&mut self, socket: SocketId) -> Result<(), ErrorKind> {
        self.touch(socket);
        let error = self.udp_mut(socket).and_then(|s| s.error.take());
        self.settle();
        error.map_or(Ok(()), Err)
    }
}

/// The largest payload of one datagram toward `to`: its family's limit.
fn max_datagram(to: SocketAddr) -> usize {
    match to {
        SocketAddr::V4(_) => MAX_DATAGRAM,
        SocketAddr::V6(_) => MAX_DATAGRAM_V6,
    }
}

impl UdpSocket {
    /// A socket with an empty queue of the default capacity.
    pub(super) fn new(host: HostId, local: SocketAddr) -> UdpSocket {
        UdpSocket {
            host,
            local,
            queue: VecDeque::new(),
            queued: 0,
            capacity: DEFAULT_RECV_BUFFER,
            peer: None,
            error: None,
            raw: None,
        }
    }

    /// Queues `bytes` from `from` if they fit the queue; whether they did.
    pub(super) fn enqueue(&mut self, from: SocketAddr, bytes: Vec<u8>) -> bool {
        if self.queued + bytes.len() > self.capacity {
            return false;
        }
        self.queued += bytes.len();
        self.queue.push_back((from, bytes));
        true
    }

    /// Readable when a datagram or an error waits; always writable (sends never wait
    /// here).
    pub(crate) fn readiness(&self) -> Readiness {
        Readiness::new(!self.queue.is_empty() || self.error.is_some(), true)
    }
}

//! The TCP model: listeners with a backlog, the handshake, send and receive buffers
//! with flow control, FIN and RST, half-close, and per-connection faults.
//!
//! A connection is reliable and in order: every segment of one direction is delivered
//! no earlier than the one before it, and a segment sent into a partition is held and
//! sent on at the repair. Faults are injected per connection instead of per packet: a
//! reset at a virtual time ([`World::tcp_reset_at`]) and a stall window during which
//! nothing is delivered ([`World::tcp_stall`]). SYNs are not reliable: a SYN sent into a
//! partition, to an unknown address or to a listener whose backlog is full is dropped,
//! and the client retransmits it after 1, 2, 4, … 64 s as Linux does
//! (`tcp_syn_retries = 6`), failing with `Timeout` after 127 s.
//!
//! Simplifications, each to revisit in the differential suite: the server's socket joins
//! the accept queue when the SYN arrives (one one-way latency; Linux waits for the final
//! ACK, half a round trip later) and the backlog admits exactly `backlog` connections;
//! a reader's window update reaches the writer at once (the data still pays the
//! latency); every client socket takes an ephemeral port of its own (no 4-tuple
//! sharing); no `SO_LINGER`, no TIME_WAIT, no urgent data. `shutdown(Read)` is
//! Linux's: nothing is sent, reads of an empty buffer return 0 instead of waiting (the
//! socket stays readable), and bytes that arrive afterwards are still queued and read.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use super::route::{Icmp, Route, Unreachable};
use super::world::{Event, EventKey, Socket, World};
use super::{HostId, Readiness, SocketId};
use crate::ErrorKind;

/// SYN retransmissions before a connect fails with `Timeout` (Linux's default).
const SYN_RETRIES: u32 = 6;

/// One TCP socket: a listener, a connecting socket or one end of a connection.
#[derive(Debug)]
pub(crate) struct TcpSocket {
    /// The host it lives on.
    pub(crate) host: HostId,
    /// Its local address (the listener's address for an accepted socket).
    local: SocketAddr,
    /// Where it is in its life.
    state: State,
    /// The other end, once the handshake reached this side.
    peer: Option<(SocketId, SocketAddr)>,
    /// The address a client connects to.
    target: Option<SocketAddr>,
    /// Bytes accepted by `send` and not yet put on the wire.
    send_buf: VecDeque<u8>,
    /// Capacity of `send_buf`.
    send_cap: usize,
    /// Bytes arrived and not yet read.
    recv_buf: VecDeque<u8>,
    /// Capacity of `recv_buf`: the window the peer may fill.
    recv_cap: usize,
    /// Bytes on the wire toward the peer, counted against its window.
    in_flight: usize,
    /// The peer's FIN arrived: reads past the data return 0.
    eof: bool,
    /// `shutdown(Write)` or `close` was called: a FIN follows the buffered data.
    write_shut: bool,
    /// The FIN went on the wire.
    fin_sent: bool,
    /// Whether this socket holds its port in the host's table.
    owns_port: bool,
    /// The latest delivery time of this side's segments (keeps them in order).
    last_delivery: Duration,
    /// A window `[start, end)` during which nothing of this side is delivered.
    stall: Option<(Duration, Duration)>,
    /// The pending SYN retransmission timer, cancelled when the handshake ends.
    retry: Option<EventKey>,
    /// `shutdown(Read)` was called: an empty receive buffer reads as EOF.
    read_shut: bool,
}

/// The life of a TCP socket.
#[derive(Debug)]
enum State {
    /// The SYN is out; `attempt` retransmissions so far.
    Connecting { attempt: u32 },
    /// Listening: established connections waiting for `accept`.
    Listening {
        /// At most this many waiting.
        backlog: usize,
        /// The accept queue.
        queue: VecDeque<SocketId>,
    },
    /// Connected (perhaps half-closed).
    Established,
    /// Closed by its owner, still sending its buffered data and FIN.
    Orphan,
    /// Failed: every operation reports the error.
    Failed(ErrorKind),
}

/// A TCP packet or a TCP timer, delivered as an [`Event::Tcp`].
#[derive(Debug)]
pub(crate) enum Segment {
    /// A client's SYN toward an address.
    Syn {
        /// The connecting socket.
        client: SocketId,
        /// Its address.
        from: SocketAddr,
        /// The address connected to.
        to: SocketAddr,
        /// The client's host and the host `to` routes to (loopback addresses are
        /// each host's own, so neither address names its host).
        via: (HostId, HostId),
    },
    /// The client's retransmission timer after `attempt` sends.
    SynRetry { client: SocketId, attempt: u32 },
    /// The server's answer: `server` is the new socket in the accept queue.
    SynAck { client: SocketId, server: SocketId },
    /// The RST answering a SYN nobody listens for.
    Refused { client: SocketId },
    /// Stream bytes from one end to the other.
    Data {
        from: SocketId,
        to: SocketId,
        bytes: Vec<u8>,
    },
    /// The end of `from`'s stream.
    Fin { to: SocketId },
    /// A reset of the connection at `to`.
    Rst { to: SocketId },
    /// A scheduled fault: both ends of `socket`'s connection are reset now.
    Fault { socket: SocketId },
}

impl World {
    /// A TCP listener on `host` at `addr` (port 0: an ephemeral one) admitting at most
    /// `backlog` connections not yet accepted.
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
    /// let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// let listener = world.tcp_listen(b, server, 8)?;
    /// let client = world.tcp_connect(a, server)?;
    /// world.run_until_idle();
    /// let (conn, peer) = world.tcp_accept(listener)?;
    /// assert_eq!(Some(peer), world.tcp_local_addr(client));
    /// # let _ = conn;
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_listen(
        &mut self,
        host: HostId,
        addr: SocketAddr,
        backlog: usize,
    ) -> Result<SocketId, ErrorKind> {
        let local = self.bind_tcp(host, addr)?;
        self.open_fd(host)?;
        let queue = VecDeque::new();
        let id = self.add_tcp(host, local, State::Listening { backlog, queue });
        self.record(
            host,
            format!("tcp listen {local} backlog {backlog} -> {id:?}"),
        );
        Ok(id)
    }

    /// Starts connecting from `host` to `remote`; the socket becomes writable (or fails,
    /// see [`World::tcp_connect_result`]) when the handshake ends.
    ///
    /// # Errors
    ///
    /// `AddressNotAvailable` when the ephemeral ports of `host` are exhausted;
    /// `TooManyOpenFiles` at the host's limit.
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
    /// let c = world.tcp_connect(a, SocketAddr::from(([10, 0, 0, 2], 81)))?;
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_connect_result(c), Some(Err(sock::ErrorKind::ConnectionRefused)));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_connect(&mut self, host: HostId, remote: SocketAddr) -> Result<SocketId, ErrorKind> {
        let unspecified = SocketAddr::new(self.source_ip(host, remote.ip()), 0);
        self.tcp_connect_from(host, unspecified, remote)
    }

    /// Starts connecting from `host`'s `local` address (a `bind` before `connect`; port
    /// 0: an ephemeral one; the unspecified address: the source address toward
    /// `remote`) to `remote`, as [`World::tcp_connect`].
    ///
    /// # Errors
    ///
    /// `AddressInUse` when `local`'s port is taken; `AddressNotAvailable` for an
    /// address not of this host or when no ephemeral port is free; `TooManyOpenFiles`
    /// at the host's limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// let listener = world.tcp_listen(b, server, 8)?;
    /// let from = SocketAddr::from(([10, 0, 0, 1], 4000));
    /// let c = world.tcp_connect_from(a, from, server)?;
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_accept(listener)?.1, from);
    /// assert_eq!(world.tcp_connect_from(a, from, server), Err(sock::ErrorKind::AddressInUse));
    /// # let _ = c;
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_connect_from(
        &mut self,
        host: HostId,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<SocketId, ErrorKind> {
        self.check_route(host, remote.ip())?;
        let local = match local.ip().is_unspecified() {
            true => SocketAddr::new(self.source_ip(host, remote.ip()), local.port()),
            false => local,
        };
        let local = self.bind_tcp(host, local)?;
        self.open_fd(host)?;
        let id = self.add_tcp(host, local, State::Connecting { attempt: 0 });
        self.tcp_mut(id).expect("just added").target = Some(remote);
        self.record(host, format!("tcp connect {local} -> {remote} {id:?}"));
        self.send_syn(id, 0);
        Ok(id)
    }

    /// The outcome of a connect: `None` while the handshake runs, then `Ok(())` or the
    /// error (`ConnectionRefused`, `Timeout`, `ConnectionReset`).
    pub fn tcp_connect_result(&self, socket: SocketId) -> Option<Result<(), ErrorKind>> {
        match &self.tcp(socket)?.state {
            State::Connecting { .. } => None,
            State::Failed(kind) => Some(Err(*kind)),
            _ => Some(Ok(())),
        }
    }

    /// Takes the oldest established connection of a listener, with its peer's address.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none waits; `InvalidInput` when `listener` is not listening;
    /// `TooManyOpenFiles` at the host's limit (the connection stays queued, as on Linux).
    pub fn tcp_accept(&mut self, listener: SocketId) -> Result<(SocketId, SocketAddr), ErrorKind> {
        self.touch(listener);
        let host = self.tcp(listener).ok_or(ErrorKind::InvalidInput)?.host;
        let queue = self.accept_queue(listener).ok_or(ErrorKind::InvalidInput)?;
        if queue.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        self.open_fd(host)?;
        let queue = self.accept_queue(listener).expect("checked above");
        let id = queue.pop_front().expect("checked non-empty above");
        let peer = self
            .tcp(id)
            .and_then(|c| c.peer)
            .expect("queued sockets have a peer")
            .1;
        self.record(
            host,
            format!("tcp accept {listener:?} -> {id:?} from {peer}"),
        );
        self.settle();
        Ok((id, peer))
    }

    /// Copies as much of `buf` as the send buffer has room for; the bytes go on the wire
    /// as the peer's window allows.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the buffer is full (or the handshake runs); `ConnectionReset`
    /// after a reset; `Closed` after `shutdown(Write)`; `NotConnected` on a listener.
    pub fn tcp_send(&mut self, socket: SocketId, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.touch(socket);
        let s = self.tcp_mut(socket).ok_or(ErrorKind::Closed)?;
        s.check_open()?;
        if s.write_shut {
            return Err(ErrorKind::Closed);
        }
        let n = buf.len().min(s.send_cap - s.send_buf.len());
        if n == 0 && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        s.send_buf.extend(&buf[..n]);
        self.flush(socket);
        self.settle();
        Ok(n)
    }

    /// Reads arrived bytes into `buf`; `Ok(0)` at the peer's FIN, or with nothing
    /// queued after [`World::tcp_shutdown_read`].
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing has arrived; `ConnectionReset` after a reset;
    /// `NotConnected` on a listener.
    pub fn tcp_recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.touch(socket);
        let s = self.tcp_mut(socket).ok_or(ErrorKind::Closed)?;
        s.check_open()?;
        let n = buf.len().min(s.recv_buf.len());
        if n == 0 && !s.eof && !s.read_shut && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        for (dst, src) in buf.iter_mut().zip(s.recv_buf.drain(..n)) {
            *dst = src;
        }
        if let Some((peer, _)) = s.peer {
            self.touch(peer);
            self.flush(peer);
        }
        self.settle();
        Ok(n)
    }

    /// `shutdown(Write)`: a FIN follows the buffered bytes; the peer reads EOF and can
    /// still send.
    ///
    /// # Errors
    ///
    /// As [`World::tcp_send`], but a second shutdown is `Ok`.
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
    /// # let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// # let listener = world.tcp_listen(b, server, 8)?;
    /// # let client = world.tcp_connect(a, server)?;
    /// # world.run_until_idle();
    /// # let (conn, _) = world.tcp_accept(listener)?;
    /// world.tcp_send(client, b"bye")?;
    /// world.tcp_shutdown_write(client)?;
    /// world.run_until_idle();
    /// let mut buf = [0u8; 8];
    /// assert_eq!(world.tcp_recv(conn, &mut buf)?, 3);
    /// assert_eq!(world.tcp_recv(conn, &mut buf)?, 0); // EOF
    /// assert_eq!(world.tcp_send(conn, b"ok")?, 2); // the other way still works
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_shutdown_write(&mut self, socket: SocketId) -> Result<(), ErrorKind> {
        self.touch(socket);
        let s = self.tcp_mut(socket).ok_or(ErrorKind::Closed)?;
        s.check_open()?;
        s.write_shut = true;
        self.log_socket(socket, "tcp shutdown write");
        self.flush(socket);
        self.settle();
        Ok(())
    }

    /// `shutdown(Read)`, as Linux does it: nothing is sent to the peer; a read with
    /// nothing queued returns 0 instead of `WouldBlock` (the socket stays readable);
    /// bytes already queued, and bytes that arrive afterwards, are still read.
    ///
    /// # Errors
    ///
    /// `Closed` for a socket that is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// # let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// # let listener = world.tcp_listen(b, server, 8)?;
    /// # let client = world.tcp_connect(a, server)?;
    /// # world.run_until_idle();
    /// # let (conn, _) = world.tcp_accept(listener)?;
    /// world.tcp_shutdown_read(client)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(world.tcp_recv(client, &mut buf)?, 0); // nothing queued: EOF
    /// world.tcp_send(conn, b"late")?;
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_recv(client, &mut buf)?, 4); // still delivered
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_shutdown_read(&mut self, socket: SocketId) -> Result<(), ErrorKind> {
        self.touch(socket);
        let s = self.tcp_mut(socket).ok_or(ErrorKind::Closed)?;
        s.read_shut = true;
        self.log_socket(socket, "tcp shutdown read");
        self.settle();
        Ok(())
    }

    /// Sets a socket's send and receive buffer capacities (at least one byte each).
    pub fn tcp_set_buffers(&mut self, socket: SocketId, send: usize, recv: usize) {
        if let Some(s) = self.tcp_mut(socket) {
            s.send_cap = send.max(1);
            s.recv_cap = recv.max(1);
        }
    }

    /// Sets the send and receive buffer capacities of `host`'s new TCP sockets.
    pub fn set_tcp_buffers(&mut self, host: HostId, send: usize, recv: usize) {
        self.hosts[host.0].tcp_buffers = (send.max(1), recv.max(1));
    }

    /// A TCP socket's send and receive buffer capacities (`None`: no such socket).
    pub(crate) fn tcp_buffers(&self, socket: SocketId) -> Option<(usize, usize)> {
        self.tcp(socket).map(|s| (s.send_cap, s.recv_cap))
    }

    /// Copies arrived bytes into `buf` and leaves them queued (`MSG_PEEK`); errors as
    /// [`World::tcp_recv`].
    pub(crate) fn tcp_peek(&self, socket: SocketId, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let s = self.tcp(socket).ok_or(ErrorKind::Closed)?;
        s.check_open()?;
        let n = buf.len().min(s.recv_buf.len());
        if n == 0 && !s.eof && !s.read_shut && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        for (dst, src) in buf.iter_mut().zip(s.recv_buf.iter()) {
            *dst = *src;
        }
        Ok(n)
    }

    /// Whether a TCP socket listens.
    pub(crate) fn tcp_is_listening(&self, socket: SocketId) -> bool {
        self.tcp(socket)
            .is_some_and(|s| matches!(s.state, State::Listening { .. }))
    }

    /// The send and receive buffer capacities `host`'s new TCP sockets get.
    pub(crate) fn tcp_default_buffers(&self, host: HostId) -> (usize, usize) {
        self.hosts[host.0].tcp_buffers
    }

    /// Resets both ends of `socket`'s connection at virtual time `at` (a fault).
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
    /// use std::time::Duration;
    ///
    /// # let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// # let listener = world.tcp_listen(b, server, 8)?;
    /// # let client = world.tcp_connect(a, server)?;
    /// # world.run_until_idle();
    /// world.tcp_reset_at(client, Duration::from_secs(1));
    /// world.run_until_idle();
    /// assert_eq!(world.tcp_send(client, b"x"), Err(sock::ErrorKind::ConnectionReset));
    /// # let _ = listener;
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_reset_at(&mut self, socket: SocketId, at: Duration) {
        self.schedule(at.max(self.now), Event::Tcp(Segment::Fault { socket }));
    }

    /// Delivers nothing of `socket`'s connection, either way, during `[from, until)`:
    /// segments due then arrive at `until` instead (a fault).
    pub fn tcp_stall(&mut self, socket: SocketId, from: Duration, until: Duration) {
        let peer = self.tcp(socket).and_then(|s| s.peer).map(|p| p.0);
        for id in [Some(socket), peer].into_iter().flatten() {
            if let Some(s) = self.tcp_mut(id) {
                s.stall = Some((from, until));
            }
        }
    }

    /// The local address of a TCP socket.
    pub fn tcp_local_addr(&self, socket: SocketId) -> Option<SocketAddr> {
        self.tcp(socket).map(|s| s.local)
    }

    /// The peer address of a TCP socket: the address connected to, or the client of
    /// an accepted connection (`None` for a listener or a closed socket).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::net::SocketAddr;
    /// # use sock::sim::World;
    /// # let mut world = World::new(1);
    /// # let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// # let b = world.add_host("b", &["10.0.0.2".parse().unwrap()]);
    /// let server = SocketAddr::from(([10, 0, 0, 2], 80));
    /// let listener = world.tcp_listen(b, server, 8)?;
    /// let client = world.tcp_connect(a, server)?;
    /// world.run_until_idle();
    /// let (conn, _) = world.tcp_accept(listener)?;
    /// assert_eq!(world.tcp_peer_addr(client), Some(server));
    /// assert_eq!(world.tcp_peer_addr(conn), world.tcp_local_addr(client));
    /// assert_eq!(world.tcp_peer_addr(listener), None);
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn tcp_peer_addr(&self, socket: SocketId) -> Option<SocketAddr> {
        let s = self.tcp(socket)?;
        match s.state {
            State::Listening { .. } => None,
            _ => s.peer.map(|p| p.1).or(s.target),
        }
    }

    /// Closes a TCP socket: with unread bytes an RST goes to the peer (as Linux does);
    /// otherwise the buffered bytes and a FIN still go out.
    pub(crate) fn tcp_close(&mut self, socket: SocketId) {
        self.touch(socket);
        let Some(s) = self.tcp_mut(socket) else {
            return;
        };
        let unread = !s.recv_buf.is_empty();
        self.log_socket(socket, &format!("tcp close unread={unread}"));
        let s = self.tcp_mut(socket).expect("checked above");
        match &mut s.state {
            State::Listening { queue, .. } => {
                let queue: Vec<SocketId> = queue.drain(..).collect();
                queue.into_iter().for_each(|c| self.abort(c));
                self.remove_tcp(socket);
            }
            State::Established if unread => self.abort(socket),
            State::Established => {
                s.state = State::Orphan;
                s.write_shut = true;
                self.release_port(socket);
                self.flush(socket);
                self.reap(socket);
            }
            _ => self.remove_tcp(socket),
        }
        self.settle();
    }

    /// Handles a TCP event.
    pub(crate) fn tcp_arrive(&mut self, segment: Segment) {
        match segment {
            Segment::Syn {
                client,
                from,
                to,
                via,
            } => self.on_syn(client, from, to, via),
            Segment::SynRetry { client, attempt } => self.on_syn_retry(client, attempt),
            Segment::SynAck { client, server } => self.on_syn_ack(client, server),
            Segment::Refused { client } => self.fail(client, ErrorKind::ConnectionRefused),
            Segment::Data { from, to, bytes } => self.on_data(from, to, bytes),
            Segment::Fin { to } => self.on_fin(to),
            Segment::Rst { to } => self.on_rst(to),
            Segment::Fault { socket } => self.on_fault(socket),
        }
    }

    /// Sends the segments held by a partition whose direction is open again, each
    /// stream's in the order they were held — also a stream whose sender closed and was
    /// dropped meanwhile (its data must not be overtaken by its FIN).
    pub(crate) fn release_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        let mut last: BTreeMap<SocketId, Duration> = BTreeMap::new();
        for (from, to, segment, order) in held {
            match order.filter(|id| self.tcp(*id).is_none()) {
                Some(gone) => {
                    let at = self.arrival(from, to);
                    let at = at.max(last.get(&gone).copied().unwrap_or_default());
                    last.insert(gone, at);
                    self.schedule(at, Event::Tcp(segment));
                }
                None => self.send_segment(from, to, segment, order),
            }
        }
    }

    /// A SYN arrives: refuse, drop (backlog full) or queue a new server socket.
    fn on_syn(
        &mut self,
        client: SocketId,
        from: SocketAddr,
        to: SocketAddr,
        via: (HostId, HostId),
    ) {
        let (client_host, host) = via;
        let listener = self.listener_for(host, to);
        let Some((backlog, queued)) = listener.and_then(|l| self.listen_state(l, client)) else {
            self.record(host, format!("tcp syn {from} -> {to} refused"));
            return self.send_segment(host, client_host, Segment::Refused { client }, None);
        };
        let listener = listener.expect("a listen state has a listener");
        if queued || queued_len(self, listener) >= backlog {
            return self.record(host, format!("tcp syn {from} -> {to} dropped"));
        }
        let server = self.add_tcp(host, to, State::Established);
        self.tcp_mut(server).expect("just added").peer = Some((client, from));
        self.touch(listener);
        if let Some(State::Listening { queue, .. }) = self.tcp_mut(listener).map(|l| &mut l.state) {
            queue.push_back(server);
        }
        self.record(host, format!("tcp syn {from} -> {to} queued {server:?}"));
        self.send_segment(host, client_host, Segment::SynAck { client, server }, None);
    }

    /// The backlog of a listener and whether `client` already has a queued socket;
    /// `None` when `listener` is not listening.
    fn listen_state(&self, listener: SocketId, client: SocketId) -> Option<(usize, bool)> {
        let State::Listening { backlog, queue } = &self.tcp(listener)?.state else {
            return None;
        };
        let dup = queue
            .iter()
            .any(|&s| self.tcp(s).and_then(|s| s.peer).map(|p| p.0) == Some(client));
        Some((*backlog, dup))
    }

    /// The retransmission timer: send the SYN again, or give up with `Timeout`.
    fn on_syn_retry(&mut self, client: SocketId, attempt: u32) {
        let Some(s) = self.tcp(client) else { return };
        if !matches!(s.state, State::Connecting { attempt: a } if a == attempt) {
            return;
        }
        if attempt == SYN_RETRIES {
            return self.fail(client, ErrorKind::Timeout);
        }
        self.tcp_mut(client).expect("checked above").state = State::Connecting {
            attempt: attempt + 1,
        };
        self.send_syn(client, attempt + 1);
    }

    /// The handshake completes at the client; a late SYN-ACK to a socket no longer
    /// connecting is answered with an RST.
    fn on_syn_ack(&mut self, client: SocketId, server: SocketId) {
        let connecting = matches!(
            self.tcp(client).map(|s| &s.state),
            Some(State::Connecting { .. })
        );
        if !connecting {
            return self.on_rst(server);
        }
        let server_addr = self
            .tcp(server)
            .map(|s| s.local)
            .expect("a SYN-ACK's server exists");
        self.touch(client);
        self.cancel_retry(client);
        let s = self.tcp_mut(client).expect("checked above");
        s.state = State::Established;
        s.peer = Some((server, server_addr));
        self.log_socket(client, &format!("tcp established -> {server_addr}"));
        self.draw_faults(client);
    }

    /// Stream bytes arrive: into the receive buffer, or answered with an RST when the
    /// receiver has closed.
    fn on_data(&mut self, from: SocketId, to: SocketId, bytes: Vec<u8>) {
        if let Some(s) = self.tcp_mut(from) {
            s.in_flight -= bytes.len();
        }
        self.touch(to);
        let Some(s) = self.tcp_mut(to) else { return };
        match s.state {
            State::Established => s.recv_buf.extend(&bytes),
            State::Orphan => return self.abort(to),
            _ => return,
        }
        self.log_socket(to, &format!("tcp data {} bytes", bytes.len()));
    }

    /// The peer's FIN arrives.
    fn on_fin(&mut self, to: SocketId) {
        self.touch(to);
        let Some(s) = self.tcp_mut(to) else { return };
        s.eof = true;
        self.log_socket(to, "tcp fin");
        self.reap(to);
    }

    /// An RST arrives: the connection fails with `ConnectionReset`.
    fn on_rst(&mut self, to: SocketId) {
        if matches!(self.tcp(to).map(|s| &s.state), Some(State::Orphan)) {
            return self.remove_tcp(to);
        }
        self.fail(to, ErrorKind::ConnectionReset);
    }

    /// A scheduled reset fault: both ends fail at once.
    fn on_fault(&mut self, socket: SocketId) {
        let peer = self.tcp(socket).and_then(|s| s.peer).map(|p| p.0);
        self.log_socket(socket, "tcp fault reset");
        for id in [Some(socket), peer].into_iter().flatten() {
            self.on_rst(id);
        }
    }

    /// Sends an RST to the peer and drops the socket.
    fn abort(&mut self, socket: SocketId) {
        if let Some((peer, _)) = self.tcp(socket).and_then(|s| s.peer) {
            self.send_ordered(socket, Segment::Rst { to: peer });
        }
        self.remove_tcp(socket);
    }

    /// Marks `socket` failed with `kind`, its buffers dropped and its port released.
    fn fail(&mut self, socket: SocketId, kind: ErrorKind) {
        self.touch(socket);
        self.cancel_retry(socket);
        let Some(s) = self.tcp_mut(socket) else {
            return;
        };
        s.state = State::Failed(kind);
        s.send_buf.clear();
        s.recv_buf.clear();
        self.release_port(socket);
        self.log_socket(socket, &format!("tcp failed {}", kind.name()));
    }

    /// Puts as much of the send buffer on the wire as the peer's window allows, then
    /// the FIN once the buffer is empty after a shutdown.
    fn flush(&mut self, socket: SocketId) {
        let Some(s) = self.tcp_mut(socket) else {
            return;
        };
        let Some((peer, _)) = s.peer else { return };
        if !matches!(s.state, State::Established | State::Orphan) {
            return;
        }
        let in_flight = s.in_flight;
        let window = match self.tcp(peer) {
            Some(p) => p.recv_cap.saturating_sub(p.recv_buf.len() + in_flight),
            None if self.is_dead(peer) => usize::MAX, // sent on, to draw the RST
            None => 0,
        };
        let s = self.tcp_mut(socket).expect("checked above");
        let n = window.min(s.send_buf.len());
        if n > 0 {
            let bytes: Vec<u8> = s.send_buf.drain(..n).collect();
            s.in_flight += n;
            self.send_ordered(
                socket,
                Segment::Data {
                    from: socket,
                    to: peer,
                    bytes,
                },
            );
        }
        self.send_fin(socket, peer);
    }

    /// Sends the FIN when shut down for writing and everything before it is out.
    fn send_fin(&mut self, socket: SocketId, peer: SocketId) {
        let s = self.tcp_mut(socket).expect("flushing an existing socket");
        if s.write_shut && !s.fin_sent && s.send_buf.is_empty() {
            s.fin_sent = true;
            self.send_ordered(socket, Segment::Fin { to: peer });
            self.reap(socket);
        }
    }

    /// Drops an orphan whose stream has ended both ways.
    fn reap(&mut self, socket: SocketId) {
        let Some(s) = self.tcp(socket) else { return };
        if matches!(s.state, State::Orphan) && s.fin_sent && s.eof {
            self.remove_tcp(socket);
        }
    }

    /// Sends the (first or retransmitted) SYN and arms the retransmission timer.
    fn send_syn(&mut self, client: SocketId, attempt: u32) {
        let from = self.tcp(client).expect("connecting socket exists").local;
        let to = self.connect_target(client);
        self.route_syn(client, from, to);
        let rto = Duration::from_secs(1 << attempt);
        let retry = Segment::SynRetry { client, attempt };
        let key = self.schedule(self.now + rto, Event::Tcp(retry));
        self.tcp_mut(client)
            .expect("connecting socket exists")
            .retry = Some(key);
    }

    /// Sends a segment of `socket`'s stream, in order after its earlier ones.
    fn send_ordered(&mut self, socket: SocketId, segment: Segment) {
        let s = self.tcp(socket).expect("sending from an existing socket");
        let (from, peer) = (s.host, s.peer.expect("a stream has a peer").0);
        let to = self.tcp(peer).map_or(from, |p| p.host);
        self.send_segment(from, to, segment, Some(socket));
    }

    /// Puts a segment on the wire `from → to`: dropped (SYN, SYN-ACK, RST) or held
    /// (data, FIN) when the direction is cut; else queued after the link's delay (and
    /// after `order`'s previous segment and stall window).
    fn send_segment(
        &mut self,
        from: HostId,
        to: HostId,
        segment: Segment,
        order: Option<SocketId>,
    ) {
        if self.net.is_blocked(from, to) {
            if matches!(segment, Segment::Data { .. } | Segment::Fin { .. }) {
                self.held.push((from, to, segment, order));
            }
            return;
        }
        let mut at = self.arrival(from, to);
        if let Some(s) = order.and_then(|id| self.tcp_mut(id)) {
            at = s.delivery_time(at);
        }
        self.schedule(at, Event::Tcp(segment));
    }

    /// Draws the seeded per-connection faults for a new connection.
    fn draw_faults(&mut self, client: SocketId) {
        let faults = self.net.tcp_faults;
        if self.rng.chance(faults.reset) {
            let at = self.now + super::net::jitter(&mut self.rng, faults.within);
            self.tcp_reset_at(client, at);
        }
        if self.rng.chance(faults.stall) {
            let from = self.now + super::net::jitter(&mut self.rng, faults.within);
            self.tcp_stall(client, from, from + faults.stall_for);
        }
    }

    /// Binds a TCP port on `host`: `addr`'s, or an ephemeral one for port 0.
    fn bind_tcp(&mut self, host: HostId, addr: SocketAddr) -> Result<SocketAddr, ErrorKind> {
        self.check_local(host, addr)?;
        let h = &mut self.hosts[host.0];
        let port = match addr.port() {
            0 => h.ephemeral_port(true)?,
            p if h.tcp_ports.contains_key(&p) => return Err(ErrorKind::AddressInUse),
            p => p,
        };
        Ok(SocketAddr::new(addr.ip(), port))
    }

    /// Holds a TCP port of `host` for a socket bound but not yet listening or
    /// connecting (as Linux's `bind` does): `addr`'s, or an ephemeral one for port 0.
    /// The bound address and the key that [`World::tcp_release`] takes; a SYN to it is
    /// refused.
    pub(crate) fn tcp_reserve(
        &mut self,
        host: HostId,
        addr: SocketAddr,
    ) -> Result<(SocketAddr, SocketId), ErrorKind> {
        let bound = self.bind_tcp(host, addr)?;
        let key = self.new_socket_id();
        self.hosts[host.0].tcp_ports.insert(bound.port(), key);
        self.record(host, format!("tcp bind {bound} -> {key:?}"));
        Ok((bound, key))
    }

    /// Gives back a port held by [`World::tcp_reserve`] (a no-op once it is not).
    pub(crate) fn tcp_release(&mut self, host: HostId, port: u16, key: SocketId) {
        let ports = &mut self.hosts[host.0].tcp_ports;
        if ports.get(&port) == Some(&key) {
            ports.remove(&port);
        }
    }

    /// Adds a socket in `state` holding `local`'s port when it is not an accepted one.
    fn add_tcp(&mut self, host: HostId, local: SocketAddr, state: State) -> SocketId {
        let id = self.new_socket_id();
        let owns_port = !matches!(state, State::Established);
        if owns_port {
            self.hosts[host.0].tcp_ports.insert(local.port(), id);
        }
        let (send_cap, recv_cap) = self.hosts[host.0].tcp_buffers;
        let s = TcpSocket::new(host, local, state, owns_port, send_cap, recv_cap);
        self.sockets.insert(id, Socket::Tcp(Box::new(s)));
        id
    }

    /// Removes a socket and releases its port.
    fn remove_tcp(&mut self, socket: SocketId) {
        self.touch(socket);
        self.cancel_retry(socket);
        self.release_port(socket);
        self.sockets.remove(&socket);
    }

    /// Cancels a connecting socket's SYN retransmission timer.
    fn cancel_retry(&mut self, socket: SocketId) {
        if let Some(key) = self.tcp_mut(socket).and_then(|s| s.retry.take()) {
            self.cancel(key);
        }
    }

    /// Gives the socket's port back to its host.
    fn release_port(&mut self, socket: SocketId) {
        let Some(s) = self.tcp_mut(socket) else {
            return;
        };
        if !std::mem::take(&mut s.owns_port) {
            return;
        }
        let (host, port) = (s.host, s.local.port());
        self.hosts[host.0].tcp_ports.remove(&port);
    }

    /// Where a connecting socket is connecting to (kept in `peer` with no socket yet).
    fn connect_target(&self, client: SocketId) -> SocketAddr {
        self.tcp(client)
            .and_then(|s| s.target)
            .expect("a connecting socket has a target")
    }

    /// Logs `what` on `socket`'s host, naming the socket.
    fn log_socket(&mut self, socket: SocketId, what: &str) {
        if let Some(host) = self.tcp(socket).map(|s| s.host) {
            self.record(host, format!("{socket:?} {what}"));
        }
    }

    /// The accept queue of `listener`, if it is listening.
    fn accept_queue(&mut self, listener: SocketId) -> Option<&mut VecDeque<SocketId>> {
        match &mut self.tcp_mut(listener)?.state {
            State::Listening { queue, .. } => Some(queue),
            _ => None,
        }
    }

    /// The TCP socket `id`, if it is one.
    fn tcp(&self, id: SocketId) -> Option<&TcpSocket> {
        match self.sockets.get(&id) {
            Some(Socket::Tcp(s)) => Some(s),
            _ => None,
        }
    }

    /// The TCP socket `id`, mutably.
    fn tcp_mut(&mut self, id: SocketId) -> Option<&mut TcpSocket> {
        match self.sockets.get_mut(&id) {
            Some(Socket::Tcp(s)) => Some(s),
            _ => None,
        }
    }

    /// Puts a SYN on its way: to the host its target routes to, or answered by the
    /// network (an ICMP host unreachable after the rule's delay, or nothing).
    fn route_syn(&mut self, client: SocketId, from: SocketAddr, to: SocketAddr) {
        let host = self.tcp(client).expect("connecting socket exists").host;
        match self.route(host, to.ip()) {
            Route::Host(to_host) => {
                let via = (host, to_host);
                let syn = Segment::Syn {
                    client,
                    from,
                    to,
                    via,
                };
                self.send_segment(host, to_host, syn, None);
            }
            Route::Unreachable(Unreachable::Host(after)) => {
                self.send_icmp(host, host, after, Icmp::Host { client });
            }
            Route::Unreachable(_) => self.record(host, format!("tcp syn {from} -> {to} lost")),
        }
    }

    /// The socket holding TCP port `to` on `host`, if it is bound to `to`'s address or
    /// the unspecified one (a socket bound to a loopback address takes no outside SYN).
    fn listener_for(&self, host: HostId, to: SocketAddr) -> Option<SocketId> {
        let id = *self.hosts[host.0].tcp_ports.get(&to.port())?;
        let ip = self.tcp(id)?.local.ip();
        (ip.is_unspecified() || ip == to.ip()).then_some(id)
    }

    /// An ICMP error for a connecting socket: its connect fails with `kind` (Linux
    /// takes any ICMP unreachable as fatal in `SYN_SENT`); ignored in any other state.
    pub(crate) fn tcp_unreachable(&mut self, client: SocketId, kind: ErrorKind) {
        if matches!(
            self.tcp(client).map(|s| &s.state),
            Some(State::Connecting { .. })
        ) {
            self.fail(client, kind);
        }
    }
}

/// How many connections wait in a listener's accept queue.
fn queued_len(world: &World, listener: SocketId) -> usize {
    match world.tcp(listener).map(|s| &s.state) {
        Some(State::Listening { queue, .. }) => queue.len(),
        _ => 0,
    }
}

impl TcpSocket {
    /// A socket with empty buffers of the given capacities.
    fn new(
        host: HostId,
        local: SocketAddr,
        state: State,
        owns_port: bool,
        send_cap: usize,
        recv_cap: usize,
    ) -> TcpSocket {
        TcpSocket {
            host,
            local,
            state,
            peer: None,
            target: None,
            send_buf: VecDeque::new(),
            send_cap,
            recv_buf: VecDeque::new(),
            recv_cap,
            in_flight: 0,
            eof: false,
            write_shut: false,
            fin_sent: false,
            owns_port,
            last_delivery: Duration::ZERO,
            stall: None,
            retry: None,
            read_shut: false,
        }
    }

    /// Readable: a connection waits, bytes wait, EOF or an error; writable: established
    /// with room in the send buffer, or an error to report.
    pub(crate) fn readiness(&self) -> Readiness {
        match &self.state {
            State::Listening { queue, .. } => Readiness::new(!queue.is_empty(), false),
            State::Established => Readiness::new(
                !self.recv_buf.is_empty() || self.eof || self.read_shut,
                !self.write_shut && self.send_buf.len() < self.send_cap,
            ),
            State::Failed(_) => Readiness::new(true, true),
            State::Connecting { .. } | State::Orphan => Readiness::default(),
        }
    }

    /// The socket at the other end, once connected.
    pub(crate) fn peer_id(&self) -> Option<SocketId> {
        self.peer.map(|p| p.0)
    }

    /// Closed by its owner and still draining: its descriptor is given back already.
    pub(crate) fn is_orphan(&self) -> bool {
        matches!(self.state, State::Orphan)
    }

    /// The error an operation on this socket reports, if any.
    fn check_open(&self) -> Result<(), ErrorKind> {
        match &self.state {
            State::Established => Ok(()),
            State::Connecting { .. } => Err(ErrorKind::WouldBlock),
            State::Failed(kind) => Err(*kind),
            State::Listening { .. } => Err(ErrorKind::NotConnected),
            State::Orphan => Err(ErrorKind::Closed),
        }
    }

    /// When a segment of this side first due at `at` arrives: not before the previous
    /// one, and not inside the stall window; remembered for the next.
    fn delivery_time(&mut self, at: Duration) -> Duration {
        let mut at = at.max(self.last_delivery);
        if let Some((start, end)) = self.stall {
            if (start..end).contains(&at) {
                at = end;
            }
        }
        self.last_delivery = at;
        at
    }
}

//! The unix-domain model: a filesystem namespace of socket paths per host, streams
//! (listen, connect, accept, send/receive buffers with flow control, shutdown, EOF and
//! resets) and datagrams (bind, send to a path, connected peers, truncation).
//!
//! Unix sockets are local: nothing goes on the fabric, so no latency, loss, partition
//! or clogging applies, and every call takes effect at once (a send lands in the
//! peer's receive queue in the same call, as in the kernel). The semantics follow
//! Linux's `af_unix.c`:
//!
//! - A bound path stays in its host's namespace after the socket closes, as the socket
//!   file does: binding it again is `AddressInUse`, connecting to it
//!   `ConnectionRefused`, until [`World::unix_unlink`] (the simulated `unlink(2)`).
//!   A path nobody bound is `NotFound` (the kernel's `ENOENT`; `sim/unix_socket.rs`
//!   gives it the io error `NotFound` as its source).
//! - A listener admits `backlog + 1` connections not yet accepted; one more connect
//!   waits (the OS path backs off on `EAGAIN`) until an `accept` makes room. The
//!   server's end exists from the connect on: the client may send before the accept.
//! - Closing a stream end with unread bytes (or a listener with queued connections)
//!   gives the peer `ConnectionReset` once, then EOF. A send to a closed peer, or
//!   after either side's shutdown of that direction, is `ConnectionReset` (`EPIPE`).
//! - `shutdown(Read)` makes an empty receive queue read as EOF (bytes already queued
//!   are still read) and fails the peer's sends; `shutdown(Write)` gives the peer EOF.
//! - A receiver's datagram queue holds at most [`UNIX_DGRAM_QUEUE`] datagrams
//!   (`max_dgram_qlen` + 1); a sender to a full one waits until the receiver takes
//!   one. A datagram to a socket connected to another is `AccessDenied` (`EPERM`).
//!
//! Simplifications: buffers count payload bytes ([`UNIX_STREAM_BUFFER`] per direction,
//! [`MAX_UNIX_DATAGRAM`]), not the kernel's per-packet overhead; no abstract names
//! (sock has none), no `socketpair`, no credentials or descriptor passing; a stream
//! connect to a datagram path (Linux: `EPROTOTYPE`) is `ConnectionRefused`; a crash
//! keeps the host's paths (as a disk would).

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use super::world::{Socket, World};
use super::{HostId, Readiness, SocketId};
use crate::ErrorKind;

/// Payload bytes a unix stream holds per direction before a writer waits (Linux's
/// default `wmem_default`, counted without the kernel's per-packet overhead).
///
/// # Examples
///
/// ```
/// assert_eq!(sock::sim::UNIX_STREAM_BUFFER, 212_992);
/// ```
pub const UNIX_STREAM_BUFFER: usize = 212_992;

/// The largest unix datagram: the default send buffer less 32 bytes, as Linux allows.
///
/// # Examples
///
/// ```
/// # use sock::sim::{World, MAX_UNIX_DATAGRAM};
/// let mut world = World::new(1);
/// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
/// let r = world.unix_socket(a, false)?;
/// world.unix_bind(r, "/r".as_ref())?;
/// let s = world.unix_socket(a, false)?;
/// let big = vec![0u8; MAX_UNIX_DATAGRAM + 1];
/// assert_eq!(world.unix_send_to(s, &big, Some("/r".as_ref())), Err(sock::ErrorKind::MessageTooLong));
/// # Ok::<(), sock::ErrorKind>(())
/// ```
pub const MAX_UNIX_DATAGRAM: usize = 212_960;

/// Datagrams a unix datagram socket queues before senders wait (Linux's default
/// `net.unix.max_dgram_qlen` of 10, plus the one its `>` check lets in).
///
/// # Examples
///
/// ```
/// # use sock::sim::{World, UNIX_DGRAM_QUEUE};
/// let mut world = World::new(1);
/// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
/// let r = world.unix_socket(a, false)?;
/// world.unix_bind(r, "/r".as_ref())?;
/// let s = world.unix_socket(a, false)?;
/// for _ in 0..UNIX_DGRAM_QUEUE {
///     world.unix_send_to(s, b"x", Some("/r".as_ref()))?;
/// }
/// assert_eq!(world.unix_send_to(s, b"x", Some("/r".as_ref())), Err(sock::ErrorKind::WouldBlock));
/// world.unix_recv_from(r, &mut [0u8; 1], false)?; // room again
/// world.unix_send_to(s, b"x", Some("/r".as_ref()))?;
/// # Ok::<(), sock::ErrorKind>(())
/// ```
pub const UNIX_DGRAM_QUEUE: usize = 11;

/// One unix-domain socket.
#[derive(Debug)]
pub(crate) struct UnixSocket {
    /// The host it lives on.
    pub(crate) host: HostId,
    /// A stream (or a datagram) socket.
    stream: bool,
    /// The path it is bound to (an accepted stream: its listener's).
    path: Option<PathBuf>,
    /// Where it is in its life.
    state: State,
    /// A stream's other end, or a datagram socket's connected peer.
    peer: Option<SocketId>,
    /// The peer's address: the path connected to, or the client's bound path.
    peer_path: Option<PathBuf>,
    /// A stream's arrived bytes.
    bytes: VecDeque<u8>,
    /// A datagram socket's arrived datagrams with their senders' paths.
    dgrams: VecDeque<(Option<PathBuf>, Vec<u8>)>,
    /// `shutdown(Read)` here, or `shutdown(Write)` at the stream's other end.
    read_shut: bool,
    /// `shutdown(Write)` here, or `shutdown(Read)` at the stream's other end.
    write_shut: bool,
    /// The other end of the stream closed.
    hung_up: bool,
    /// An error the next receive or send reports once (`ConnectionReset`).
    error: Option<ErrorKind>,
    /// Sockets waiting for room: connectors of a listener, senders of a datagram socket.
    waiting: BTreeSet<SocketId>,
}

/// The life of a unix socket.
#[derive(Debug)]
enum State {
    /// Made, perhaps bound: neither listening nor a stream connection.
    Idle,
    /// A stream listener with its accept queue.
    Listening {
        /// At most `backlog + 1` connections wait.
        backlog: usize,
        /// The server ends of connections not yet accepted.
        queue: VecDeque<SocketId>,
    },
    /// A stream connect waits for room in `listener`'s queue.
    Connecting,
    /// One end of a stream connection.
    Connected,
    /// The connect failed.
    Failed(ErrorKind),
}

/// What a datagram receive found: bytes copied, the datagram's length, its sender.
pub(crate) type UnixDatagram = (usize, usize, Option<PathBuf>);

impl World {
    /// A unix socket on `host` (a stream or a datagram one), taking a descriptor.
    ///
    /// # Errors
    ///
    /// `TooManyOpenFiles` at the host's limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sim::World;
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let listener = world.unix_socket(a, true)?;
    /// world.unix_bind(listener, "/run/app.sock".as_ref())?;
    /// world.unix_listen(listener, 8)?;
    /// let client = world.unix_socket(a, true)?;
    /// world.unix_connect(client, "/run/app.sock".as_ref())?;
    /// let conn = world.unix_accept(listener)?;
    /// assert_eq!(world.unix_send(client, b"hi")?, 2);
    /// let mut buf = [0u8; 4];
    /// assert_eq!(world.unix_recv(conn, &mut buf, false)?, 2);
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn unix_socket(&mut self, host: HostId, stream: bool) -> Result<SocketId, ErrorKind> {
        self.open_fd(host)?;
        let id = self.new_socket_id();
        let s = UnixSocket::new(host, stream);
        self.sockets.insert(id, Socket::Unix(Box::new(s)));
        self.record(host, format!("unix socket stream={stream} -> {id:?}"));
        Ok(id)
    }

    /// Binds `socket` to `path` in its host's namespace.
    ///
    /// # Errors
    ///
    /// `AddressInUse` when the path exists (bound before, also by a socket since
    /// closed); `InvalidInput` when the socket is bound already.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_bind(&mut self, socket: SocketId, path: &Path) -> Result<(), ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if s.path.is_some() {
            return Err(ErrorKind::InvalidInput);
        }
        let host = s.host;
        if self.hosts[host.0].unix_paths.contains_key(path) {
            return Err(ErrorKind::AddressInUse);
        }
        self.hosts[host.0]
            .unix_paths
            .insert(path.to_path_buf(), socket);
        self.unix_mut(socket).expect("checked above").path = Some(path.to_path_buf());
        self.record(host, format!("{socket:?} unix bind {}", path.display()));
        Ok(())
    }

    /// Removes `path` from `host`'s namespace (the simulated `unlink(2)`): a socket
    /// still bound to it keeps working but can no longer be reached; `false` when there
    /// was no such path.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sim::World;
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let s = world.unix_socket(a, false)?;
    /// world.unix_bind(s, "/tmp/s".as_ref())?;
    /// world.close(s);
    /// let again = world.unix_socket(a, false)?;
    /// assert_eq!(world.unix_bind(again, "/tmp/s".as_ref()), Err(sock::ErrorKind::AddressInUse));
    /// assert!(world.unix_unlink(a, "/tmp/s".as_ref()));
    /// world.unix_bind(again, "/tmp/s".as_ref())?;
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    #[doc(alias = "unlink")]
    pub fn unix_unlink(&mut self, host: HostId, path: &Path) -> bool {
        let found = self.hosts[host.0].unix_paths.remove(path).is_some();
        self.record(
            host,
            format!("unix unlink {} found={found}", path.display()),
        );
        found
    }

    /// Makes a bound stream socket listen, admitting `backlog + 1` connections not yet
    /// accepted (as Linux's unix sockets do).
    ///
    /// # Errors
    ///
    /// `Unsupported` for a datagram socket; `InvalidInput` when unbound or connected.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_listen(&mut self, socket: SocketId, backlog: usize) -> Result<(), ErrorKind> {
        let s = self.unix_mut(socket).ok_or(ErrorKind::Closed)?;
        if !s.stream {
            return Err(ErrorKind::Unsupported);
        }
        match s.state {
            State::Idle if s.path.is_some() => {}
            State::Listening { .. } => return Ok(()),
            _ => return Err(ErrorKind::InvalidInput),
        }
        let queue = VecDeque::new();
        s.state = State::Listening { backlog, queue };
        self.log_unix(socket, &format!("unix listen backlog {backlog}"));
        Ok(())
    }

    /// Connects a stream socket to the listener at `path`: at once when its queue has
    /// room, else once an accept makes some ([`World::unix_connect_result`]).
    ///
    /// # Errors
    ///
    /// `NotFound` for a path nobody bound (`ENOENT`); `ConnectionRefused` when nothing
    /// listens there; `InvalidInput` for a datagram socket or one connected already.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_connect(&mut self, socket: SocketId, path: &Path) -> Result<(), ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if !s.stream || !matches!(s.state, State::Idle) {
            return Err(ErrorKind::InvalidInput);
        }
        let listener = self.unix_listener_at(s.host, path)?;
        self.touch(socket);
        let s = self.unix_mut(socket).expect("checked above");
        s.peer_path = Some(path.to_path_buf());
        s.state = State::Connecting;
        self.log_unix(socket, &format!("unix connect {}", path.display()));
        self.admit(listener, socket);
        self.settle();
        Ok(())
    }

    /// The outcome of a stream connect: `None` while it waits for room, then `Ok(())`
    /// or the error.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_connect_result(&self, socket: SocketId) -> Option<Result<(), ErrorKind>> {
        match self.unix(socket)?.state {
            State::Connecting => None,
            State::Failed(kind) => Some(Err(kind)),
            _ => Some(Ok(())),
        }
    }

    /// Takes the oldest connection of a listener, taking a descriptor for it.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none waits; `InvalidInput` when not listening;
    /// `TooManyOpenFiles` at the host's limit (the connection stays queued).
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_accept(&mut self, listener: SocketId) -> Result<SocketId, ErrorKind> {
        let s = self.unix(listener).ok_or(ErrorKind::Closed)?;
        let State::Listening { queue, .. } = &s.state else {
            return Err(ErrorKind::InvalidInput);
        };
        if queue.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        self.open_fd(s.host)?;
        self.touch(listener);
        let id = self
            .unix_queue(listener)
            .pop_front()
            .expect("checked above");
        self.log_unix(listener, &format!("unix accept -> {id:?}"));
        self.admit_waiting(listener);
        self.settle();
        Ok(id)
    }

    /// Sends stream bytes into the peer's receive queue, as many as it has room for.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the peer's queue is full; `ConnectionReset` once the peer
    /// closed or either side shut this direction (`EPIPE`); `NotConnected` when not a
    /// connected stream.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_send(&mut self, socket: SocketId, buf: &[u8]) -> Result<usize, ErrorKind> {
        let peer = self.unix_stream_peer(socket)?;
        let room = UNIX_STREAM_BUFFER - self.unix(peer).expect("a live peer").bytes.len();
        let n = buf.len().min(room);
        if n == 0 && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock);
        }
        self.touch(socket);
        self.touch(peer);
        self.unix_mut(peer)
            .expect("a live peer")
            .bytes
            .extend(&buf[..n]);
        self.settle();
        Ok(n)
    }

    /// Reads stream bytes (copies them and leaves them queued with `peek`); `Ok(0)` at
    /// EOF (the peer shut down writing or closed, or `shutdown(Read)` here) once the
    /// queue is empty.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing waits; `ConnectionReset` once when the peer closed
    /// with bytes unread; `NotConnected` when not a connected stream.
    ///
    /// # Examples
    ///
    /// See [`World::unix_socket`].
    pub fn unix_recv(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<usize, ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if !s.stream || !matches!(s.state, State::Connected) {
            return Err(ErrorKind::NotConnected);
        }
        if s.bytes.is_empty() && !buf.is_empty() {
            return self.unix_empty_read(socket).map(|()| 0);
        }
        let n = buf.len().min(s.bytes.len());
        buf.iter_mut().zip(&s.bytes).for_each(|(d, b)| *d = *b);
        if !peek {
            self.touch(socket);
            self.touch_peer(socket);
            self.unix_mut(socket)
                .expect("checked above")
                .bytes
                .drain(..n);
            self.settle();
        }
        Ok(n)
    }

    /// Shuts down reading and/or writing; on a stream the other end sees it too (its
    /// reads end, or its sends fail).
    ///
    /// # Errors
    ///
    /// `Closed` for a socket already closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sim::World;
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let l = world.unix_socket(a, true)?;
    /// world.unix_bind(l, "/s".as_ref())?;
    /// world.unix_listen(l, 1)?;
    /// let c = world.unix_socket(a, true)?;
    /// world.unix_connect(c, "/s".as_ref())?;
    /// let s = world.unix_accept(l)?;
    /// world.unix_shutdown(s, true, false)?; // shutdown(Read)
    /// assert_eq!(world.unix_recv(s, &mut [0u8; 4], false), Ok(0));
    /// assert_eq!(world.unix_send(c, b"x"), Err(sock::ErrorKind::ConnectionReset));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn unix_shutdown(
        &mut self,
        socket: SocketId,
        read: bool,
        write: bool,
    ) -> Result<(), ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        let peer = s.peer.filter(|_| s.stream);
        for (id, r, w) in [(Some(socket), read, write), (peer, write, read)] {
            let Some(id) = id else { continue };
            self.touch(id);
            let s = self.unix_mut(id).expect("live sockets");
            s.read_shut |= r;
            s.write_shut |= w;
        }
        self.log_unix(socket, &format!("unix shutdown read={read} write={write}"));
        self.settle();
        Ok(())
    }

    /// Connects a datagram socket to `path`: sends go there by default.
    ///
    /// # Errors
    ///
    /// `Other` for a path nobody bound; `ConnectionRefused` when its socket is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::sim::World;
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let (r, s) = (world.unix_socket(a, false)?, world.unix_socket(a, false)?);
    /// world.unix_bind(r, "/r".as_ref())?;
    /// world.unix_connect_dgram(s, "/r".as_ref())?;
    /// assert_eq!(world.unix_peer_path(s), Some("/r".into()));
    /// world.unix_send_to(s, b"hi", None)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(world.unix_recv_from(r, &mut buf, false)?, (2, 2, None)); // s is unbound
    /// world.unix_disconnect(s);
    /// assert_eq!(world.unix_send_to(s, b"hi", None), Err(sock::ErrorKind::NotConnected));
    /// assert_eq!(world.unix_local_path(r), Some("/r".into()));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    pub fn unix_connect_dgram(&mut self, socket: SocketId, path: &Path) -> Result<(), ErrorKind> {
        let host = self.unix(socket).ok_or(ErrorKind::Closed)?.host;
        let peer = self.unix_bound_at(host, path)?;
        let s = self.unix_mut(socket).expect("checked above");
        s.peer = Some(peer);
        s.peer_path = Some(path.to_path_buf());
        self.log_unix(socket, &format!("unix connect dgram {}", path.display()));
        Ok(())
    }

    /// Forgets a datagram socket's peer (`connect` to `AF_UNSPEC`).
    ///
    /// # Examples
    ///
    /// See [`World::unix_connect_dgram`].
    pub fn unix_disconnect(&mut self, socket: SocketId) {
        if let Some(s) = self.unix_mut(socket).filter(|s| !s.stream) {
            (s.peer, s.peer_path) = (None, None);
        }
    }

    /// Sends one datagram to `path`, or to the connected peer with `None`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the receiver's queue is full; `MessageTooLong` over
    /// [`MAX_UNIX_DATAGRAM`]; `Other` for a path nobody bound; `ConnectionRefused` when
    /// the receiver is gone (or is a stream socket); `AccessDenied` when it is
    /// connected to another socket; `ConnectionReset` when it shut down reading;
    /// `NotConnected` without a path and a peer.
    ///
    /// # Examples
    ///
    /// See [`MAX_UNIX_DATAGRAM`].
    pub fn unix_send_to(
        &mut self,
        socket: SocketId,
        buf: &[u8],
        path: Option<&Path>,
    ) -> Result<usize, ErrorKind> {
        let to = self.unix_dgram_target(socket, path)?;
        if buf.len() > MAX_UNIX_DATAGRAM {
            return Err(ErrorKind::MessageTooLong);
        }
        let from = self.unix(socket).expect("checked above").path.clone();
        let r = self.unix_mut(to).expect("a live receiver");
        if r.dgrams.len() >= UNIX_DGRAM_QUEUE {
            r.waiting.insert(socket);
            return Err(ErrorKind::WouldBlock);
        }
        self.touch(to);
        let r = self.unix_mut(to).expect("a live receiver");
        r.dgrams.push_back((from, buf.to_vec()));
        self.log_unix(to, &format!("unix dgram {} bytes", buf.len()));
        self.settle();
        Ok(buf.len())
    }

    /// Receives the next datagram into `buf` (left queued with `peek`): the bytes
    /// copied, its whole length and the sender's path (`None`: unbound). After
    /// `shutdown(Read)` an empty queue gives `(0, 0, None)`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none waits; `InvalidInput` for a stream socket.
    ///
    /// # Examples
    ///
    /// See [`UNIX_DGRAM_QUEUE`].
    pub fn unix_recv_from(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<UnixDatagram, ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if s.stream {
            return Err(ErrorKind::InvalidInput);
        }
        let Some((from, bytes)) = s.dgrams.front() else {
            return match s.read_shut {
                true => Ok((0, 0, None)),
                false => Err(ErrorKind::WouldBlock),
            };
        };
        let n = buf.len().min(bytes.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        let got = (n, bytes.len(), from.clone());
        if !peek {
            self.unix_take_dgram(socket);
        }
        Ok(got)
    }

    /// The path a unix socket is bound to (an accepted stream: its listener's).
    ///
    /// # Examples
    ///
    /// See [`World::unix_connect_dgram`].
    pub fn unix_local_path(&self, socket: SocketId) -> Option<PathBuf> {
        self.unix(socket)?.path.clone()
    }

    /// The path of a unix socket's peer: the path connected to, or a client's bound
    /// path (`None` when unbound or not connected).
    ///
    /// # Examples
    ///
    /// See [`World::unix_connect_dgram`].
    pub fn unix_peer_path(&self, socket: SocketId) -> Option<PathBuf> {
        self.unix(socket)?.peer_path.clone()
    }

    /// A stream send on a TCP or a unix stream socket.
    pub(crate) fn stream_send(&mut self, socket: SocketId, buf: &[u8]) -> Result<usize, ErrorKind> {
        match self.is_unix(socket) {
            true => self.unix_send(socket, buf),
            false => self.tcp_send(socket, buf),
        }
    }

    /// A stream receive (a peek, with `peek`) on a TCP or a unix stream socket.
    pub(crate) fn stream_recv(
        &mut self,
        socket: SocketId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<usize, ErrorKind> {
        match (self.is_unix(socket), peek) {
            (true, _) => self.unix_recv(socket, buf, peek),
            (false, true) => self.tcp_peek(socket, buf),
            (false, false) => self.tcp_recv(socket, buf),
        }
    }

    /// An accept on a TCP or a unix listener: the new connection.
    pub(crate) fn stream_accept(&mut self, listener: SocketId) -> Result<SocketId, ErrorKind> {
        match self.is_unix(listener) {
            true => self.unix_accept(listener),
            false => self.tcp_accept(listener).map(|(id, _)| id),
        }
    }

    /// The outcome of a TCP or a unix stream connect (`None` while it runs).
    pub(crate) fn stream_connect_result(&self, socket: SocketId) -> Option<Result<(), ErrorKind>> {
        match self.is_unix(socket) {
            true => self.unix_connect_result(socket),
            false => self.tcp_connect_result(socket),
        }
    }

    /// Whether `socket` is a unix socket.
    pub(crate) fn is_unix(&self, socket: SocketId) -> bool {
        self.unix(socket).is_some()
    }

    /// Whether `socket` is connected (a stream end, or a datagram socket with a peer).
    pub(crate) fn unix_is_connected(&self, socket: SocketId) -> bool {
        self.unix(socket).is_some_and(|s| s.peer_path.is_some())
    }

    /// Readable: bytes, a datagram, a connection, EOF or an error waits; writable: a
    /// send would not block (or would fail).
    pub(crate) fn unix_readiness(&self, socket: SocketId) -> Readiness {
        let Some(s) = self.unix(socket) else {
            return Readiness::default();
        };
        match &s.state {
            State::Listening { queue, .. } => Readiness::new(!queue.is_empty(), false),
            State::Connecting => Readiness::default(),
            State::Failed(_) => Readiness::new(true, true),
            State::Idle if s.stream => Readiness::default(),
            State::Idle => Readiness::new(!s.dgrams.is_empty() || s.read_shut, true),
            State::Connected => {
                let ended = s.hung_up || s.read_shut || s.error.is_some();
                let full = s
                    .peer
                    .and_then(|p| self.unix(p))
                    .is_some_and(|p| p.bytes.len() >= UNIX_STREAM_BUFFER);
                let writable = s.hung_up || s.write_shut || s.error.is_some() || !full;
                Readiness::new(!s.bytes.is_empty() || ended, writable)
            }
        }
    }

    /// Closes a unix socket: a stream's peer sees EOF (`ConnectionReset` first when
    /// bytes were left unread here), a listener's queued connections are reset and its
    /// waiting connectors refused, a receiver's waiting senders retry. Its path stays.
    pub(crate) fn unix_close(&mut self, socket: SocketId) {
        self.touch(socket);
        let Some(Socket::Unix(s)) = self.sockets.remove(&socket) else {
            return;
        };
        self.record(s.host, format!("{socket:?} unix close"));
        if let State::Listening { queue, .. } = &s.state {
            queue.iter().for_each(|c| self.unix_drop_embryo(*c));
        }
        for w in &s.waiting {
            self.unix_refuse(*w);
        }
        if let Some(peer) = s.peer.filter(|_| s.stream) {
            self.unix_hang_up(peer, !s.bytes.is_empty());
        }
        self.settle();
    }

    /// Admits `client` into `listener`'s queue when it has room (the server's end is
    /// made now), else keeps it waiting.
    fn admit(&mut self, listener: SocketId, client: SocketId) {
        let Some(State::Listening { backlog, queue }) = self.unix(listener).map(|l| &l.state)
        else {
            return self.unix_refuse(client);
        };
        if queue.len() > *backlog {
            let l = self.unix_mut(listener).expect("checked above");
            l.waiting.insert(client);
            return;
        }
        let server = self.unix_server_end(listener, client);
        self.touch(listener);
        self.unix_queue(listener).push_back(server);
        self.touch(client);
        let c = self.unix_mut(client).expect("a connecting client");
        c.state = State::Connected;
        c.peer = Some(server);
        self.log_unix(client, &format!("unix connected -> {server:?}"));
    }

    /// Admits the first connector still waiting for room in `listener`'s queue.
    fn admit_waiting(&mut self, listener: SocketId) {
        loop {
            let l = self.unix_mut(listener).expect("a live listener");
            let Some(client) = l.waiting.pop_first() else {
                return;
            };
            if matches!(self.unix(client).map(|c| &c.state), Some(State::Connecting)) {
                return self.admit(listener, client);
            }
        }
    }

    /// Makes the server's end of `client`'s connection to `listener`.
    fn unix_server_end(&mut self, listener: SocketId, client: SocketId) -> SocketId {
        let l = self.unix(listener).expect("a live listener");
        let (host, path) = (l.host, l.path.clone());
        let peer_path = self.unix(client).and_then(|c| c.path.clone());
        let id = self.new_socket_id();
        let mut s = UnixSocket::new(host, true);
        (s.path, s.peer_path, s.peer, s.state) = (path, peer_path, Some(client), State::Connected);
        self.sockets.insert(id, Socket::Unix(Box::new(s)));
        id
    }

    /// Fails a waiting connector with `ConnectionRefused`, or wakes a waiting sender.
    fn unix_refuse(&mut self, socket: SocketId) {
        self.touch(socket);
        self.mark_changed(socket);
        if let Some(s) = self.unix_mut(socket) {
            if matches!(s.state, State::Connecting) {
                s.state = State::Failed(ErrorKind::ConnectionRefused);
            }
        }
    }

    /// Drops a queued, never accepted server end: its client is reset.
    fn unix_drop_embryo(&mut self, server: SocketId) {
        if let Some(Socket::Unix(s)) = self.sockets.remove(&server) {
            if let Some(client) = s.peer {
                self.unix_hang_up(client, true);
            }
        }
    }

    /// The other end of `socket`'s stream closed (`reset`: with bytes unread).
    fn unix_hang_up(&mut self, socket: SocketId, reset: bool) {
        self.touch(socket);
        if let Some(s) = self.unix_mut(socket) {
            s.hung_up = true;
            if reset {
                s.error = Some(ErrorKind::ConnectionReset);
            }
        }
    }

    /// A read of an empty stream queue: the pending error (once), EOF, or `WouldBlock`.
    fn unix_empty_read(&mut self, socket: SocketId) -> Result<(), ErrorKind> {
        self.touch(socket);
        let s = self.unix_mut(socket).expect("a live socket");
        let r = match s.error.take() {
            Some(kind) => Err(kind),
            None if s.hung_up || s.read_shut => Ok(()),
            None => Err(ErrorKind::WouldBlock),
        };
        self.settle();
        r
    }

    /// The live other end of a connected stream that may be sent to.
    fn unix_stream_peer(&self, socket: SocketId) -> Result<SocketId, ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if !s.stream || !matches!(s.state, State::Connected) {
            return Err(ErrorKind::NotConnected);
        }
        match s.peer.filter(|_| !s.hung_up && !s.write_shut) {
            Some(peer) => Ok(peer),
            None => Err(ErrorKind::ConnectionReset),
        }
    }

    /// The receiver of a datagram from `socket` to `path` (or its peer).
    fn unix_dgram_target(
        &self,
        socket: SocketId,
        path: Option<&Path>,
    ) -> Result<SocketId, ErrorKind> {
        let s = self.unix(socket).ok_or(ErrorKind::Closed)?;
        if s.stream {
            return Err(ErrorKind::InvalidInput);
        }
        let to = match path {
            Some(path) => self.unix_bound_at(s.host, path)?,
            None if s.peer_path.is_none() => return Err(ErrorKind::NotConnected),
            None => s.peer.ok_or(ErrorKind::ConnectionRefused)?,
        };
        let r = self.unix(to).ok_or(ErrorKind::ConnectionRefused)?;
        match r {
            r if r.stream => Err(ErrorKind::ConnectionRefused),
            r if r.peer.is_some_and(|p| p != socket) => Err(ErrorKind::AccessDenied),
            r if r.read_shut => Err(ErrorKind::ConnectionReset),
            _ => Ok(to),
        }
    }

    /// Takes the first datagram of `socket`'s queue and wakes the senders waiting.
    fn unix_take_dgram(&mut self, socket: SocketId) {
        self.touch(socket);
        let s = self.unix_mut(socket).expect("a live socket");
        s.dgrams.pop_front();
        let waiting = std::mem::take(&mut s.waiting);
        waiting.into_iter().for_each(|w| self.mark_changed(w));
        self.settle();
    }

    /// The listening stream socket at `path` on `host`.
    fn unix_listener_at(&self, host: HostId, path: &Path) -> Result<SocketId, ErrorKind> {
        let id = self.unix_bound_at(host, path)?;
        match self.unix(id).map(|s| &s.state) {
            Some(State::Listening { .. }) => Ok(id),
            _ => Err(ErrorKind::ConnectionRefused),
        }
    }

    /// The socket bound to `path` on `host`: `NotFound` (`ENOENT`) for no such path,
    /// `ConnectionRefused` when the socket that bound it is gone.
    fn unix_bound_at(&self, host: HostId, path: &Path) -> Result<SocketId, ErrorKind> {
        let id = self.hosts[host.0].unix_paths.get(path);
        let id = id.copied().ok_or(ErrorKind::NotFound)?;
        self.unix(id)
            .map(|_| id)
            .ok_or(ErrorKind::ConnectionRefused)
    }

    /// Touches the other end of `socket`'s stream, if any.
    fn touch_peer(&mut self, socket: SocketId) {
        if let Some(peer) = self.unix(socket).and_then(|s| s.peer) {
            self.touch(peer);
        }
    }

    /// The accept queue of a listener.
    fn unix_queue(&mut self, listener: SocketId) -> &mut VecDeque<SocketId> {
        match &mut self.unix_mut(listener).expect("a live listener").state {
            State::Listening { queue, .. } => queue,
            _ => unreachable!("only listeners have an accept queue"),
        }
    }

    /// Logs `what` on `socket`'s host, naming the socket.
    fn log_unix(&mut self, socket: SocketId, what: &str) {
        if let Some(host) = self.unix(socket).map(|s| s.host) {
            self.record(host, format!("{socket:?} {what}"));
        }
    }

    /// The unix socket `id`, if it is one.
    fn unix(&self, id: SocketId) -> Option<&UnixSocket> {
        match self.sockets.get(&id) {
            Some(Socket::Unix(s)) => Some(s),
            _ => None,
        }
    }

    /// The unix socket `id`, mutably.
    fn unix_mut(&mut self, id: SocketId) -> Option<&mut UnixSocket> {
        match self.sockets.get_mut(&id) {
            Some(Socket::Unix(s)) => Some(s),
            _ => None,
        }
    }
}

impl UnixSocket {
    /// An unbound, unconnected socket of `host`.
    fn new(host: HostId, stream: bool) -> UnixSocket {
        UnixSocket {
            host,
            stream,
            path: None,
            state: State::Idle,
            peer: None,
            peer_path: None,
            bytes: VecDeque::new(),
            dgrams: VecDeque::new(),
            read_shut: false,
            write_shut: false,
            hung_up: false,
            error: None,
            waiting: BTreeSet::new(),
        }
    }
}

//! Simulated sockets: what a [`Tcp`](crate::Tcp) or [`Udp`](crate::Udp) made on a
//! simulated loop holds instead of an OS socket, and the operations it routes to the
//! world's model.
//!
//! The socket core keeps a [`SimSocket`] (only with the `sim` feature) and its
//! operations call in here first when one is there: the operation futures and their
//! [`Op`](crate::Op) types stay the same, so deadlines, `transferred` and scopes work
//! unchanged. Each call asks the world once; a `WouldBlock` parks the task on the
//! socket's direction and the drive loop (`backend.rs`) wakes it when the world reports
//! the socket's readiness changed. The deadline protocol is the OS path's: past an
//! operation's deadline it asks once more; in an expired scope a `WouldBlock` fails
//! with `Timeout`.
//!
//! The guard lives here too: while a simulated loop runs, sock paths that would reach
//! the OS (a socket of the shared-poller mode, an adopted OS socket, a name given to
//! `sock::addr::lookup` or `sock::addr::resolve` with unix-family hints) panic instead.
//!
//! A TCP `bind` holds its port in the world at once (an ephemeral one for port 0, as
//! Linux chooses it at the bind) and hands it to the `listen` or `connect` that
//! follows. Differences from the OS path, beside those of the model (`tcp.rs`,
//! `udp.rs`, `unix.rs`). The poll-level and `try_` calls are
//! in `level.rs`, socket options in `opts.rs`, receives with flags in `flags.rs`, the
//! datagram batches in `batch.rs`.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use sock_addr::{Family, Hints, Port, Protocol, SockAddr, SocketType};
use sock_poll::Direction;
use sock_sched::{Executor, coop};

use super::backend::{HostCtx, Shared};
use super::{HostId, SocketId, World};
use crate::error::{Error, ErrorKind, Result};
use crate::op::Op;
use crate::runtime::Loop;
use crate::scope::{self, Mode};
use crate::socket::Core;

#[path = "batch.rs"]
mod batch;
#[path = "flags.rs"]
mod flags;
#[path = "level.rs"]
mod level;
#[path = "opts.rs"]
mod opts;
#[path = "unix_socket.rs"]
mod unix_socket;

/// A socket of a simulated host.
pub(crate) struct SimSocket {
    /// The simulation (operations fail with `Closed` once it is gone).
    shared: Weak<Shared>,
    /// The host the socket lives on.
    host: HostId,
    /// TCP (stream) or UDP (datagram).
    tcp: bool,
    /// The protocol number of a raw socket (`raw.rs`): a datagram socket whose world
    /// socket exists from the start.
    raw: Option<u8>,
    /// The family it was made with (an unbound UDP socket binds an address of it).
    family: Family,
    /// The socket's state in the world.
    state: RefCell<State>,
    /// The options set on it, by their OS-table names (`opts.rs`).
    opts: RefCell<Vec<(&'static str, crate::opt::OptValue)>>,
    /// The world's key of the TCP port a `bind` holds until `listen` or `connect`.
    reserved: Cell<Option<SocketId>>,
    /// Another handle on a world socket that a first one owns (a `SharedListener`'s
    /// listener attached to a loop, `sim/loops.rs`): closing it closes the handle only.
    view: bool,
}

/// Where a simulated socket is.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Not in the world yet; the address `bind` gave it (a TCP one holds its port
    /// through `SimSocket::reserved`).
    Fresh(Option<SocketAddr>),
    /// A TCP listener, connecting socket or connection.
    Tcp(SocketId),
    /// A bound UDP socket, with the peer `connect` chose.
    Udp(SocketId, Option<SocketAddr>),
}

/// A single-call operation on a simulated socket (a datagram send or receive): tries
/// `f`, parks on `dir` when it would block.
pub(crate) struct SimOp<'a, F> {
    /// The socket.
    sock: &'a SimSocket,
    /// The direction a would-block waits on.
    dir: Direction,
    /// The operation's name, for its errors.
    name: &'static str,
    /// One try.
    f: F,
}

/// The simulation of the loop running on this thread, if it is a simulated one.
pub(crate) fn current_host() -> Option<HostCtx> {
    let exec = Executor::entered()?;
    Loop::parts_of(&exec)?.sim.clone()
}

/// Panics when a simulated loop runs on this thread: `what` would reach the OS.
pub(crate) fn guard(what: &str) {
    if current_host().is_some() {
        panic!(
            "sock::sim: {what} is not simulated yet, and a simulated loop never touches the \
             OS: use sock::tcp / sock::udp on a simulated host (addresses, or names of \
             the world's DNS records)"
        );
    }
}

/// Panics when a simulated loop runs on this thread and `host` is a name: the address
/// lookup `what` would ask the OS resolver (an IP literal or `"*"` passes: no resolver
/// answers those). Reached for what `resolver.rs` does not answer: unix-family hints.
pub(crate) fn guard_lookup(what: &str, host: &str) {
    if literal(host, Family::UNSPEC).is_none() && current_host().is_some() {
        panic!(
            "sock::sim: {what}({host:?}) would ask the OS resolver, and a simulated loop \
             never does: names resolve through the world's records (World::add_dns) for \
             the IPv4 and IPv6 families only"
        );
    }
}

/// A socket core for a new socket on the simulated host `ctx`.
///
/// # Errors
///
/// `InvalidInput` for a socket type other than stream, datagram or raw, or a raw
/// socket of a family other than IPv4 and IPv6; `TooManyOpenFiles` for a raw socket
/// past the host's limit.
pub(crate) fn open(
    ctx: HostCtx,
    family: Family,
    socktype: SocketType,
    protocol: Protocol,
) -> Result<Rc<Core>> {
    let tcp = match socktype {
        SocketType::STREAM => true,
        SocketType::DGRAM | SocketType::RAW => false,
        _ => return Err(Error::new(ErrorKind::InvalidInput, "no such socket type")),
    };
    let mut sock = SimSocket::new(ctx.shared, ctx.host, tcp, State::Fresh(None));
    sock.family = family;
    if socktype == SocketType::RAW {
        sock.open_raw(protocol)?;
    }
    Ok(Core::simulated(sock, family, socktype, protocol))
}

/// The addresses of a lookup on a simulated loop, answered at once (for calls that do
/// not wait: the resolver's latency is skipped); `None` on any other loop. Numeric
/// hosts, `"*"` (the unspecified address), and names through the world's records
/// (`dns.rs`); numeric ports only. Unix paths are the OS path's (no lookup).
pub(crate) fn lookup_now(host: &str, port: &Port, hints: &Hints) -> Option<Result<Vec<SockAddr>>> {
    let ctx = current_host().filter(|_| hints.family != Family::UNIX)?;
    let port = match checked_port(port, hints) {
        Ok(port) => port,
        Err(e) => return Some(Err(e)),
    };
    if let Some(ip) = literal(host, hints.family) {
        return Some(of_family(host, &[ip], port, hints.family));
    }
    let shared = ctx.shared.upgrade()?;
    let answer = shared.with_world(|w| w.dns_lookup(ctx.host, host));
    Some(answered(host, answer.result, port, hints.family))
}

/// The addresses of a lookup on a simulated loop, after the resolver's virtual time
/// (latency, or the timeout of a name that never answers); `None` on any other loop.
/// The future is `Send` (it holds the query, not the simulation) like the OS lookup's.
/// Unix paths are the OS path's (no lookup).
pub(crate) fn lookup(
    host: &str,
    port: &Port,
    hints: &Hints,
) -> Option<impl Future<Output = Result<Vec<SockAddr>>> + Send + use<>> {
    let ctx = current_host().filter(|_| hints.family != Family::UNIX)?;
    let (family, host) = (hints.family, host.to_string());
    let start = checked_port(port, hints).and_then(|port| match literal(&host, family) {
        Some(ip) => Ok(Err(of_family(&host, &[ip], port, family))),
        None => start_query(&ctx, &host).map(|query| Ok((query, port))),
    });
    Some(async move {
        let (query, port) = match start {
            Err(e) => return Err(e),
            Ok(Err(numeric)) => return numeric,
            Ok(Ok(started)) => started,
        };
        let result = poll_fn(|cx| poll_query(query, cx)).await;
        answered(&host, result, port, family)
    })
}

/// The port of a simulated lookup: a number (service names are not simulated).
fn checked_port(port: &Port, _hints: &Hints) -> Result<u16> {
    port.number().ok_or_else(|| {
        let what = "sock::sim: service names are not simulated; give a port number";
        Error::new(ErrorKind::InvalidInput, what)
    })
}

/// Starts a DNS query of `host` in the world.
fn start_query(ctx: &HostCtx, host: &str) -> Result<SocketId> {
    let shared = ctx.shared.upgrade().ok_or_else(gone)?;
    Ok(shared.with_world(|w| w.dns_start(ctx.host, host)))
}

/// Polls a DNS query: its answer, or parked until it arrives.
fn poll_query(
    query: SocketId,
    cx: &mut Context<'_>,
) -> Poll<std::result::Result<Vec<IpAddr>, ErrorKind>> {
    let Some(shared) = current_host().and_then(|ctx| ctx.shared.upgrade()) else {
        return Poll::Ready(Err(ErrorKind::Closed));
    };
    match shared.with_world(|w| w.dns_take(query)) {
        Some(result) => Poll::Ready(result),
        None => {
            shared.park(query, 0, cx.waker());
            Poll::Pending
        }
    }
}

/// The error of a simulation that is gone.
fn gone() -> Error {
    Error::new(ErrorKind::Closed, "sock::sim: the simulation is gone")
}

/// A DNS answer as addresses of `family` with `port`.
fn answered(
    host: &str,
    result: std::result::Result<Vec<IpAddr>, ErrorKind>,
    port: u16,
    family: Family,
) -> Result<Vec<SockAddr>> {
    match result {
        Ok(ips) => of_family(host, &ips, port, family),
        Err(kind) => Err(Error::new(kind, format!("sock::sim: lookup of {host:?}"))),
    }
}

/// A numeric host or `"*"`, as an address of `family`'s kind.
fn literal(host: &str, family: Family) -> Option<IpAddr> {
    match host {
        "*" | "" if family == Family::INET6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        "*" | "" => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        _ => host.parse().ok(),
    }
}

/// The addresses among `ips` that fit `family` (either for `UNSPEC`), with `port`.
fn of_family(host: &str, ips: &[IpAddr], port: u16, family: Family) -> Result<Vec<SockAddr>> {
    let fits = |ip: &&IpAddr| family == Family::UNSPEC || (family == Family::INET6) == ip.is_ipv6();
    let addrs: Vec<SockAddr> = ips
        .iter()
        .filter(fits)
        .map(|ip| SockAddr::from(SocketAddr::new(*ip, port)))
        .collect();
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::NoAddress,
            format!("{host:?} has no address of the socket's family"),
        ));
    }
    Ok(addrs)
}

impl SimSocket {
    /// A socket of `host` in `state`.
    fn new(shared: Weak<Shared>, host: HostId, tcp: bool, state: State) -> SimSocket {
        SimSocket {
            shared,
            host,
            tcp,
            raw: None,
            family: Family::INET,
            state: RefCell::new(state),
            opts: RefCell::new(Vec::new()),
            reserved: Cell::new(None),
            view: false,
        }
    }

    /// Another handle on this socket's world socket, which this one keeps owning:
    /// the view's operations act on the same socket; its `close` only forgets it.
    pub(crate) fn view(&self) -> SimSocket {
        let mut view = SimSocket::new(
            self.shared.clone(),
            self.host,
            self.tcp,
            *self.state.borrow(),
        );
        view.family = self.family;
        view.raw = self.raw;
        view.view = true;
        view
    }

    /// Makes the world's raw socket of `protocol`, of the socket's family.
    fn open_raw(&mut self, protocol: Protocol) -> Result<()> {
        let v6 = match self.family {
            Family::INET => false,
            Family::INET6 => true,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "raw sockets are IPv4 or IPv6",
                ));
            }
        };
        let number = u8::try_from(protocol.as_raw())
            .map_err(|_| Error::new(ErrorKind::InvalidInput, "no such IP protocol"))?;
        let id = self.world(|w, host| Ok(w.raw_open(host, v6, number)?))?;
        self.raw = Some(number);
        *self.state.borrow_mut() = State::Udp(id, None);
        Ok(())
    }

    /// Runs `f` on the world with this socket's host, or fails with `Closed` once the
    /// simulation is gone.
    fn world<T>(&self, f: impl FnOnce(&mut World, HostId) -> Result<T>) -> Result<T> {
        let shared = self.shared.upgrade().ok_or_else(Error::closed)?;
        shared.with_world(|w| f(w, self.host))
    }

    /// The socket's id in the world, once it has one.
    fn id(&self) -> Option<SocketId> {
        match *self.state.borrow() {
            State::Fresh(_) => None,
            State::Tcp(id) | State::Udp(id, _) => Some(id),
        }
    }

    /// The TCP socket's id, or `NotConnected`.
    fn tcp_id(&self) -> Result<SocketId> {
        match *self.state.borrow() {
            State::Tcp(id) => Ok(id),
            _ => Err(ErrorKind::NotConnected.into()),
        }
    }

    /// One try of an operation: `f`'s result, or parks the task on `dir` of this
    /// socket on `WouldBlock` (failing with `Timeout` instead in an expired scope).
    pub(crate) fn poll_op<T>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        f: impl FnOnce(&SimSocket) -> Result<T>,
    ) -> Poll<Result<T>> {
        let mode = scope::mode();
        if mode == Mode::Normal && !coop::spend(cx) {
            return Poll::Pending;
        }
        match f(self) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            r => return Poll::Ready(r),
        }
        if mode == Mode::Expired {
            return Poll::Ready(Err(scope::expired()));
        }
        let (Some(shared), Some(id)) = (self.shared.upgrade(), self.id()) else {
            return Poll::Ready(Err(Error::closed()));
        };
        shared.park(id, dir_index(dir), cx.waker());
        Poll::Pending
    }

    /// A datagram operation as a future with the loop mode's timer.
    pub(crate) fn op<F, T>(&self, dir: Direction, name: &'static str, f: F) -> SimOp<'_, F>
    where
        F: FnMut(&SimSocket) -> Result<T> + Unpin,
    {
        SimOp {
            sock: self,
            dir,
            name,
            f,
        }
    }

    /// Takes over the world socket of `winner` (a Happy Eyeballs attempt that
    /// connected); the one held so far is closed, and `winner` is left with none.
    pub(crate) fn take_over(&self, winner: &SimSocket) {
        self.close();
        let won = winner.state.replace(State::Fresh(None));
        *self.state.borrow_mut() = won;
    }

    /// Closes the socket in the world and wakes the tasks parked on it.
    pub(crate) fn close(&self) {
        self.release_port();
        let Some(id) = self.id() else { return };
        *self.state.borrow_mut() = State::Fresh(None); // a second close is a no-op
        if self.view {
            return; // the owner closes the world socket
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        shared.with_world(|w| w.close(id));
        shared.wake_socket(id);
    }

    /// `bind`: a UDP socket enters the world now; a TCP one holds its port (an
    /// ephemeral one for port 0) until `listen` or `connect` takes it.
    pub(crate) fn bind(&self, addr: &SockAddr) -> Result<()> {
        if self.is_unix() {
            return self.unix_bind(addr);
        }
        let addr = inet(addr)?;
        if let (Some(_), Some(id)) = (self.raw, self.id()) {
            return self.world(|w, _| Ok(w.raw_bind(id, addr.ip())?));
        }
        if !matches!(*self.state.borrow(), State::Fresh(None)) {
            return Err(Error::new(ErrorKind::InvalidInput, "already bound"));
        }
        if self.tcp {
            let (bound, key) = self.world(|w, host| Ok(w.tcp_reserve(host, addr)?))?;
            *self.state.borrow_mut() = State::Fresh(Some(bound));
            self.reserved.set(Some(key));
            return Ok(());
        }
        let id = self.world(|w, host| Ok(w.udp_bind(host, addr)?))?;
        *self.state.borrow_mut() = State::Udp(id, None);
        self.apply_buffers()
    }

    /// The local address (the unspecified one, port 0, before a bind).
    pub(crate) fn local_addr(&self, family: Family) -> Result<SockAddr> {
        if self.is_unix() {
            return self.unix_local_addr();
        }
        let state = *self.state.borrow();
        let addr = match state {
            State::Fresh(bound) => bound.unwrap_or_else(|| unspecified(family)),
            State::Tcp(id) => self
                .world(|w, _| Ok(w.tcp_local_addr(id)))?
                .ok_or_else(Error::closed)?,
            State::Udp(id, _) => self
                .world(|w, _| Ok(w.udp_local_addr(id)))?
                .ok_or_else(Error::closed)?,
        };
        Ok(SockAddr::from(addr))
    }

    /// The connected peer's address.
    pub(crate) fn peer_addr(&self) -> Result<SockAddr> {
        if self.is_unix() {
            return self.unix_peer_addr();
        }
        let state = *self.state.borrow();
        let peer = match state {
            State::Tcp(id) => self.world(|w, _| Ok(w.tcp_peer_addr(id)))?,
            State::Udp(_, peer) => peer,
            State::Fresh(_) => None,
        };
        peer.map(SockAddr::from)
            .ok_or_else(|| ErrorKind::NotConnected.into())
    }

    /// `listen`: binds first with `bind` unless bound, then listens with `backlog`
    /// (clamped to 1..=4096, as Linux clamps to `somaxconn`).
    pub(crate) fn listen(&self, backlog: i32, bind: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.is_unix() {
            return self.unix_listen(backlog, bind);
        }
        if matches!(*self.state.borrow(), State::Fresh(None)) {
            if crate::sys::LISTEN_REUSEADDR {
                // As the OS path does before its bind (read back by `getopt`).
                self.set_option("so_reuseaddr", crate::opt::OptValue::Bool(true))?;
            }
            bind()?;
        }
        let State::Fresh(Some(addr)) = *self.state.borrow() else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "already listening or connected",
            ));
        };
        let backlog = backlog.clamp(1, 4096) as usize;
        self.release_port();
        let listen = self.world(|w, host| Ok(w.tcp_listen(host, addr, backlog)?));
        let id = listen.inspect_err(|_| self.hold_port(addr))?;
        *self.state.borrow_mut() = State::Tcp(id);
        self.apply_buffers()
    }

    /// One try of `accept`: the new connection as a socket core of `family`.
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        family: Family,
    ) -> Poll<Result<Rc<Core>>> {
        let id = std::task::ready!(self.poll_op(cx, Direction::Read, |s| {
            let listener = s.tcp_id()?;
            s.world(|w, _| Ok(w.stream_accept(listener)?))
        }))?;
        let mut sock = SimSocket::new(self.shared.clone(), self.host, true, State::Tcp(id));
        sock.family = self.family;
        sock.inherit_options(self)?;
        let core = Core::simulated(sock, family, SocketType::STREAM, Protocol::TCP);
        core.set_connected();
        Poll::Ready(Ok(core))
    }

    /// `connect` of a TCP socket: starts the handshake and waits for its outcome.
    pub(crate) fn connect(&self, addr: &SockAddr) -> impl Future<Output = Result<()>> + '_ {
        let start = self.start_connect(addr);
        async move {
            start?;
            poll_fn(|cx| {
                self.poll_op(cx, Direction::Write, |s| {
                    let id = s.tcp_id()?;
                    match s.world(|w, _| Ok(w.stream_connect_result(id)))? {
                        None => Err(ErrorKind::WouldBlock.into()),
                        Some(r) => Ok(r?),
                    }
                })
            })
            .await
        }
    }

    /// Starts a TCP connect to `addr`: from the bound address, else from an
    /// ephemeral port.
    fn start_connect(&self, addr: &SockAddr) -> Result<()> {
        if self.is_unix() {
            return self.unix_start_connect(addr);
        }
        let remote = inet(addr)?;
        let bound = match *self.state.borrow() {
            State::Fresh(bound) => bound,
            State::Tcp(_) => return Err(ErrorKind::InProgress.into()),
            State::Udp(..) => return Err(ErrorKind::InvalidInput.into()),
        };
        let id = match bound {
            None => self.world(|w, host| Ok(w.tcp_connect(host, remote)?))?,
            Some(local) => self.connect_from(local, remote)?,
        };
        *self.state.borrow_mut() = State::Tcp(id);
        self.apply_buffers()
    }

    /// Starts a TCP connect from the bound `local` address, handing its held port to
    /// the connection (held again if the connect cannot start).
    fn connect_from(&self, local: SocketAddr, remote: SocketAddr) -> Result<SocketId> {
        self.release_port();
        let connect = self.world(|w, host| Ok(w.tcp_connect_from(host, local, remote)?));
        connect.inspect_err(|_| self.hold_port(local))
    }

    /// Gives back the TCP port a `bind` holds, if any.
    fn release_port(&self) {
        let (Some(key), State::Fresh(Some(addr))) = (self.reserved.take(), *self.state.borrow())
        else {
            return;
        };
        let _ = self.world(|w, host| {
            w.tcp_release(host, addr.port(), key);
            Ok(())
        });
    }

    /// Holds `addr`'s TCP port again after a `listen` or `connect` that did not take
    /// it (best effort: another socket may have taken it meanwhile).
    fn hold_port(&self, addr: SocketAddr) {
        if let Ok((_, key)) = self.world(|w, host| Ok(w.tcp_reserve(host, addr)?)) {
            self.reserved.set(Some(key));
        }
    }

    /// One try of a stream send.
    pub(crate) fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        self.poll_op(cx, Direction::Write, |s| {
            let id = s.tcp_id()?;
            s.world(|w, _| Ok(w.stream_send(id, buf)?))
        })
    }

    /// One try of a stream receive; 0 at the peer's FIN, or with nothing queued after
    /// `shutdown(Read)`.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        self.poll_op(cx, Direction::Read, |s| {
            let id = s.tcp_id()?;
            s.world(|w, _| Ok(w.stream_recv(id, buf, false)?))
        })
    }

    /// Waits until a read would not block (`readable`): data, EOF or an error waits.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_op(cx, Direction::Read, |s| {
            let id = s.tcp_id()?;
            match s.world(|w, _| Ok(w.readiness(id).readable))? {
                true => Ok(()),
                false => Err(ErrorKind::WouldBlock.into()),
            }
        })
    }

    /// One try of a stream receive appended to `out` (for `recvall`).
    pub(crate) fn poll_recv_into(
        &self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
    ) -> Poll<Result<usize>> {
        let mut chunk = vec![0u8; 16 * 1024];
        let n = std::task::ready!(self.poll_recv(cx, &mut chunk))?;
        out.extend_from_slice(&chunk[..n]);
        Poll::Ready(Ok(n))
    }

    /// `shutdown`: `Write` sends a FIN after the buffered bytes; `Read` makes reads of
    /// an empty buffer return 0 (in the model, as Linux: later bytes are still read).
    pub(crate) fn shutdown(&self, how: std::net::Shutdown) -> Result<()> {
        if self.is_unix() {
            return self.unix_shutdown(how);
        }
        let id = self.tcp_id()?;
        if how != std::net::Shutdown::Write {
            self.world(|w, _| Ok(w.tcp_shutdown_read(id)?))?;
        }
        if how != std::net::Shutdown::Read {
            self.world(|w, _| Ok(w.tcp_shutdown_write(id)?))?;
        }
        Ok(())
    }

    /// `connect` of a UDP socket: binds to an ephemeral port if unbound, and keeps
    /// `addr` as the peer (sends go there, receives take only its datagrams).
    pub(crate) fn udp_connect(&self, addr: &SockAddr) -> Result<()> {
        if self.is_unix() {
            return self.unix_connect_dgram(addr);
        }
        let peer = inet(addr)?;
        let id = self.udp_id(peer.ip())?;
        self.world(|w, _| Ok(w.udp_connect(id, Some(peer))?))?;
        *self.state.borrow_mut() = State::Udp(id, Some(peer));
        Ok(())
    }

    /// Dissolves a UDP socket's association (`connect("*", 0)`).
    pub(crate) fn udp_dissolve(&self) -> Result<()> {
        if self.is_unix() {
            return self.unix_dissolve();
        }
        let state = *self.state.borrow();
        if let State::Udp(id, _) = state {
            self.world(|w, _| Ok(w.udp_connect(id, None)?))?;
            *self.state.borrow_mut() = State::Udp(id, None);
        }
        Ok(())
    }

    /// The UDP socket's id, binding an ephemeral port of `toward`'s family first if it
    /// has none (as the OS does at the first send).
    fn udp_id(&self, toward: IpAddr) -> Result<SocketId> {
        if let State::Udp(id, _) = *self.state.borrow() {
            return Ok(id);
        }
        let any = unspecified_of(toward);
        self.bind(&SockAddr::from(any))?;
        self.id().ok_or_else(Error::closed)
    }

    /// One datagram to the connected peer.
    pub(crate) fn udp_send(&self, buf: &[u8]) -> Result<usize> {
        if self.is_unix() {
            return self.unix_send_to(buf, None);
        }
        let (id, peer) = match *self.state.borrow() {
            State::Udp(id, Some(peer)) => (id, peer),
            _ => return Err(ErrorKind::NotConnected.into()),
        };
        self.send_to_world(id, buf, peer)
    }

    /// One datagram to `to`.
    pub(crate) fn udp_send_to(&self, buf: &[u8], to: &SockAddr) -> Result<usize> {
        if self.is_unix() {
            return self.unix_send_to(buf, Some(to));
        }
        let to = inet(to)?;
        let id = self.udp_id(to.ip())?;
        self.send_to_world(id, buf, to)
    }

    /// One datagram (or raw packet) of world socket `id` to `to`.
    fn send_to_world(&self, id: SocketId, buf: &[u8], to: SocketAddr) -> Result<usize> {
        match self.raw {
            Some(_) => self.world(|w, _| Ok(w.raw_send_to(id, buf, to.ip())?)),
            None => self.world(|w, _| Ok(w.udp_send_to(id, buf, to)?)),
        }
    }

    /// The next datagram (from the peer, when connected: others are dropped), with its
    /// source; a datagram longer than `buf` is `MessageTooLong` with `buf.len()` bytes
    /// transferred.
    pub(crate) fn udp_recv_from(&self, buf: &mut [u8]) -> Result<(usize, SockAddr)> {
        if self.is_unix() {
            return self.unix_recv_from(buf, false, false);
        }
        let state = *self.state.borrow();
        let (id, peer) = match state {
            State::Udp(id, peer) => (id, peer),
            // The OS would wait forever on an unbound socket; this one gets an
            // ephemeral port to wait on.
            _ => (self.udp_id(unspecified(self.family).ip())?, None),
        };
        loop {
            match self.world(|w, _| Ok(w.udp_recv_from(id, buf)))? {
                Ok((_, from)) if peer.is_some_and(|p| p != from) => {}
                Ok((n, from)) => return Ok((n, SockAddr::from(from))),
                Err(ErrorKind::MessageTooLong) => {
                    let e = Error::from(ErrorKind::MessageTooLong);
                    return Err(e.with_transferred(buf.len()));
                }
                Err(kind) => return Err(kind.into()),
            }
        }
    }
}

impl<F, T> Future for SimOp<'_, F>
where
    F: FnMut(&SimSocket) -> Result<T> + Unpin,
{
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        let (sock, f) = (this.sock, &mut this.f);
        sock.poll_op(cx, this.dir, |s| f(s))
    }
}

impl<F, T> Op for SimOp<'_, F>
where
    F: FnMut(&SimSocket) -> Result<T> + Unpin,
{
    type Timer = sock_sched::Sleep;

    fn name(&self) -> &'static str {
        self.name
    }
}

/// `addr` as an IP socket address, or `InvalidInput` (a unix path).
fn inet(addr: &SockAddr) -> Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "not an IP address"))
}

/// The unspecified address of `family`, port 0.
fn unspecified(family: Family) -> SocketAddr {
    match family {
        Family::INET6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
    }
}

/// The unspecified address of `ip`'s family, port 0.
fn unspecified_of(ip: IpAddr) -> SocketAddr {
    match ip {
        IpAddr::V4(_) => unspecified(Family::INET),
        IpAddr::V6(_) => unspecified(Family::INET6),
    }
}

/// The index of `dir` in the waiter table.
fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

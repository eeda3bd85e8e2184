//! The socket core shared by [`Tcp`](crate::Tcp) and [`Udp`](crate::Udp) (UDP, unix
//! datagrams, raw): the OS socket, its registration, and the one function every
//! operation goes through.
//!
//! Every socket, whatever its type, is registered through mio's `UdpSocket` wrapper,
//! used only as an opaque registered handle: on Unix it is a plain fd; on Windows its
//! `try_io` re-arms the AFD poll after `WouldBlock`, which is why all I/O runs inside it.
//! The operations themselves are socket2 calls on a borrowed `SockRef`.
//!
//! An operation tries its syscall first when the direction may be ready and parks only
//! on `WouldBlock` (edge-triggered, registered once: no `epoll_ctl` per operation).
//! `close` wakes every parked task with [`ErrorKind::Closed`](crate::ErrorKind::Closed)
//! and frees the fd at once, even while other handles to the socket exist — unless
//! `as_fd` lent it out (`raw.rs`): then it is shut down and freed with the last handle.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::Interest;
use sock_addr::{Family, Protocol, SockAddr, SocketType};
use sock_poll::{Direction, Registration, Wait};
use sock_sched::coop;
use socket2::SockRef;

use crate::error::{Error, ErrorKind, Result};
use crate::opt::{self, OptValue};
use crate::runtime;
use crate::scope::{self, Mode};
use crate::sys;

/// An open OS socket and its registration.
struct Io {
    sock: mio::net::UdpSocket,
    reg: Registration,
    /// The id of the loop whose reactor `reg` is in (`sock_sched::Executor::id`).
    loop_id: usize,
}

impl Io {
    /// Opens a non-blocking socket and registers it with the current loop (opened
    /// non-blocking where [`sys::OPENS_NONBLOCKING`] says so: no `fcntl` per socket).
    fn open(family: Family, socktype: SocketType, protocol: Protocol) -> Result<Io> {
        let raw_proto =
            (protocol.as_raw() != 0).then(|| socket2::Protocol::from(protocol.as_raw()));
        let socket = socket2::Socket::new(
            socket2::Domain::from(family.as_raw()),
            sys::open_type(socket2::Type::from(socktype.as_raw())),
            raw_proto,
        )?;
        match sys::OPENS_NONBLOCKING {
            true => Io::register_nonblocking(socket, socktype),
            false => Io::register(socket, socktype),
        }
    }

    /// Makes `socket` non-blocking and registers it with the current loop.
    fn register(socket: socket2::Socket, socktype: SocketType) -> Result<Io> {
        socket.set_nonblocking(true)?;
        Io::register_nonblocking(socket, socktype)
    }

    /// [`register`](Io::register) for a socket that is already non-blocking.
    fn register_nonblocking(socket: socket2::Socket, socktype: SocketType) -> Result<Io> {
        #[cfg(feature = "sim")]
        crate::sim::socket::guard("an OS socket");
        sys::prepare(&socket)?;
        if socktype == SocketType::DGRAM {
            sys::prepare_udp(&socket)?;
        }
        let mut sock = sys::into_mio(socket);
        let (reactor, loop_id) = runtime::reactor();
        let reg = reactor.register(&mut sock, sys::INTEREST)?;
        Ok(Io { sock, reg, loop_id })
    }

    /// Registers a listening socket shared with other loops, for reading only, with
    /// `EPOLLEXCLUSIVE` (see `sock_poll::Reactor::register_exclusive`).
    fn register_exclusive(socket: socket2::Socket) -> Result<Io> {
        #[cfg(feature = "sim")]
        crate::sim::socket::guard("a listener shared by several loops");
        socket.set_nonblocking(true)?;
        let mut sock = sys::into_mio(socket);
        let (reactor, loop_id) = runtime::reactor();
        let reg = reactor.register_exclusive(&mut sock, Interest::READABLE)?;
        Ok(Io { sock, reg, loop_id })
    }
}

/// The error of using a flexible socket before `bind`/`connect` chose its family.
fn unopened() -> Error {
    Error::new(
        ErrorKind::NotConnected,
        "a Family::UNSPEC socket gets its family from its first bind or connect",
    )
}

/// What every socket type shares: the OS socket (until closed) and what it was made as.
pub(crate) struct Core {
    io: RefCell<Option<Io>>,
    family: Cell<Family>,
    /// Made with [`Family::UNSPEC`]: the OS socket is opened by the first `bind` or
    /// `connect`, in the family of the address (and reopened per address tried).
    flexible: bool,
    closed: Cell<bool>,
    socktype: SocketType,
    protocol: Protocol,
    /// Connected (by `connect` or `accept`) at some point: a failed send on a socket
    /// that never was is `NotConnected`, not a reset.
    connected: Cell<bool>,
    /// The claims of the poll-level calls (`poll_recv`, `poll_send`, …) on the read and
    /// write waiters: they have no future to keep one in.
    poll_waits: [Cell<Wait>; 2],
    /// Lent out as a borrowed handle (`as_fd`/`as_socket`, see `raw.rs`) at some point:
    /// from then on no OS socket of this core is freed before the core drops.
    lent: Cell<bool>,
    /// The OS sockets closed or replaced after `lent` was set: shut down and
    /// deregistered, kept open so that no borrowed handle outlives its socket.
    retired: RefCell<Vec<mio::net::UdpSocket>>,
    /// The simulated socket that stands for the OS one on a simulated loop
    /// (`sim/socket.rs`): operations call it first when it is there.
    #[cfg(feature = "sim")]
    sim: Option<crate::sim::socket::SimSocket>,
}

impl Core {
    /// A core around `io` (none yet for a flexible socket).
    fn build(
        io: Option<Io>,
        family: Family,
        flexible: bool,
        socktype: SocketType,
        protocol: Protocol,
    ) -> Rc<Core> {
        Rc::new(Core {
            io: RefCell::new(io),
            family: Cell::new(family),
            flexible,
            closed: Cell::new(false),
            socktype,
            protocol,
            connected: Cell::new(false),
            poll_waits: Default::default(),
            lent: Cell::new(false),
            retired: RefCell::new(Vec::new()),
            #[cfg(feature = "sim")]
            sim: None,
        })
    }

    /// A core around a simulated socket (no OS socket, ever).
    #[cfg(feature = "sim")]
    pub(crate) fn simulated(
        sim: crate::sim::socket::SimSocket,
        family: Family,
        socktype: SocketType,
        protocol: Protocol,
    ) -> Rc<Core> {
        let mut core = Core::build(None, family, family == Family::UNSPEC, socktype, protocol);
        Rc::get_mut(&mut core).expect("just made").sim = Some(sim);
        core
    }

    /// The simulated socket while it is open (a closed one takes the OS path's
    /// `Closed` errors).
    #[cfg(feature = "sim")]
    #[inline] // two instructions on every operation's path when built with `sim`
    pub(crate) fn sim_open(&self) -> Option<&crate::sim::socket::SimSocket> {
        self.sim.as_ref().filter(|_| !self.closed.get())
    }

    /// Opens a non-blocking socket and registers it with the current loop. With
    /// [`Family::UNSPEC`] nothing is opened yet: `bind`/`connect` pick the family.
    pub(crate) fn open(
        family: Family,
        socktype: SocketType,
        protocol: Protocol,
    ) -> Result<Rc<Core>> {
        #[cfg(feature = "sim")]
        if let Some(host) = crate::sim::socket::current_host() {
            return crate::sim::socket::open(host, family, socktype, protocol);
        }
        let flexible = family == Family::UNSPEC;
        let io = if flexible {
            None
        } else {
            Some(Io::open(family, socktype, protocol)?)
        };
        Ok(Core::build(io, family, flexible, socktype, protocol))
    }

    /// Registers a duplicate of a listener shared by several loops: each connection
    /// wakes one of them (`EPOLLEXCLUSIVE` on Linux).
    pub(crate) fn adopt_exclusive(listener: socket2::Socket, family: Family) -> Result<Rc<Core>> {
        let io = Io::register_exclusive(listener)?;
        let (socktype, protocol) = (SocketType::STREAM, Protocol::TCP);
        Ok(Core::build(Some(io), family, false, socktype, protocol))
    }

    /// Registers a socket from `accept` (already non-blocking where
    /// [`sys::ACCEPTED_NONBLOCKING`] says so: no `fcntl` per connection).
    pub(crate) fn adopt(
        socket: socket2::Socket,
        family: Family,
        socktype: SocketType,
        protocol: Protocol,
    ) -> Result<Rc<Core>> {
        let io = match sys::ACCEPTED_NONBLOCKING {
            true => Io::register_nonblocking(socket, socktype)?,
            false => Io::register(socket, socktype)?,
        };
        let core = Core::build(Some(io), family, false, socktype, protocol);
        core.set_connected(); // accepted
        Ok(core)
    }

    /// Registers a socket made outside sock (a std socket, a raw handle), made
    /// non-blocking; one with a peer counts as connected.
    pub(crate) fn adopt_foreign(
        socket: socket2::Socket,
        family: Family,
        socktype: SocketType,
        protocol: Protocol,
    ) -> Result<Rc<Core>> {
        let connected = socket.peer_addr().is_ok();
        let io = Io::register(socket, socktype)?;
        let core = Core::build(Some(io), family, false, socktype, protocol);
        if connected {
            core.set_connected();
        }
        Ok(core)
    }

    /// Makes sure an OS socket of `family` is there before binding or connecting to an
    /// address of it: opens one for a flexible socket (or one of another family), and
    /// a fresh one when `fresh` (a failed connect leaves its socket unusable). Options
    /// set on a replaced socket are not carried over.
    pub(crate) fn prepare_for(&self, family: Family, fresh: bool) -> Result<()> {
        if self.closed.get() {
            return Err(Error::closed());
        }
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            if self.flexible {
                self.family.set(family);
            }
            return Ok(());
        }
        let unopened = self.io.borrow().is_none() && self.family.get() == Family::UNSPEC;
        let other_family = self.flexible && self.family.get() != family;
        if !(unopened || other_family || fresh) {
            return Ok(());
        }
        let io = Io::open(family, self.socktype, self.protocol)?;
        let old = self.io.borrow_mut().replace(io);
        self.family.set(family);
        if let Some(Io { mut sock, reg, .. }) = old {
            let _ = reg.deregister(&mut sock);
            self.free(sock);
        }
        Ok(())
    }

    /// A fresh socket of `family` for an extra connect attempt (Happy Eyeballs), like
    /// this one: same type and protocol, this socket's options and bound IP (see
    /// `eyeballs::inherit`).
    ///
    /// # Errors
    ///
    /// `Closed` once this socket is closed; the OS error of opening or binding.
    pub(crate) fn fresh_like(&self, family: Family) -> Result<Rc<Core>> {
        if self.closed.get() {
            return Err(Error::closed());
        }
        let fresh = Core::open(family, self.socktype, self.protocol)?;
        if let Some(io) = self.io.borrow().as_ref() {
            let to = fresh.io.borrow();
            let to = to.as_ref().expect("a socket of a family is opened at once");
            crate::eyeballs::inherit(&SockRef::from(&io.sock), &SockRef::from(&to.sock), family)?;
        }
        Ok(fresh)
    }

    /// Takes over the OS socket of `winner` (a fresh connect attempt that connected),
    /// with its registration and family; the socket held so far is closed.
    ///
    /// # Errors
    ///
    /// `Closed` when this socket was closed meanwhile (the winner is closed with it).
    pub(crate) fn take_over(&self, winner: &Core) -> Result<()> {
        #[cfg(feature = "sim")]
        debug_assert_eq!(
            self.sim.is_some(),
            winner.sim.is_some(),
            "a simulated socket never holds an OS socket"
        );
        #[cfg(feature = "sim")]
        if let (Some(mine), Some(theirs)) = (&self.sim, &winner.sim) {
            if self.closed.get() {
                return Err(Error::closed()); // the winner closes when dropped
            }
            mine.take_over(theirs);
            self.family.set(winner.family());
            self.set_connected();
            return Ok(());
        }
        let io = winner.io.borrow_mut().take();
        if self.closed.get() {
            drop(io.map(|io| winner.close_io(io)));
            return Err(Error::closed());
        }
        let old = std::mem::replace(&mut *self.io.borrow_mut(), io);
        self.family.set(winner.family());
        self.set_connected();
        drop(old.map(|io| self.close_io(io)));
        Ok(())
    }

    pub(crate) fn family(&self) -> Family {
        self.family.get()
    }

    /// The family this socket may connect to: its own, or any (`UNSPEC`) when it was
    /// made with [`Family::UNSPEC`].
    pub(crate) fn connect_family(&self) -> Family {
        match self.flexible {
            true => Family::UNSPEC,
            false => self.family.get(),
        }
    }

    /// Records that the socket is (or was) connected.
    pub(crate) fn set_connected(&self) {
        self.connected.set(true);
    }

    /// Whether the socket is (or was) connected.
    pub(crate) fn was_connected(&self) -> bool {
        self.connected.get()
    }

    /// `e`, as `NotConnected` when it is a reset (`EPIPE`) of a stream that was never
    /// connected: sending on a fresh socket is a usage error, not a peer's reset.
    pub(crate) fn never_connected(&self, e: Error) -> Error {
        match e.kind() == ErrorKind::ConnectionReset && !self.connected.get() {
            true => e.with_kind(ErrorKind::NotConnected),
            false => e,
        }
    }

    pub(crate) fn socktype(&self) -> SocketType {
        self.socktype
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Runs a non-blocking call on the socket (no waiting), or fails with `Closed`.
    pub(crate) fn with<T>(&self, f: impl FnOnce(SockRef<'_>) -> io::Result<T>) -> Result<T> {
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| self.missing())?;
        Ok(f(SockRef::from(&io.sock))?)
    }

    /// [`with`](Core::with) that leaves `f`'s OS error as it is (outer `Err`: closed or
    /// not opened): for a call whose usual error is expected and costs nothing to look
    /// at (a connect's `EINPROGRESS`), not a `sock::Error` with the OS error boxed.
    pub(crate) fn with_os<T>(
        &self,
        f: impl FnOnce(SockRef<'_>) -> io::Result<T>,
    ) -> Result<io::Result<T>> {
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| self.missing())?;
        Ok(f(SockRef::from(&io.sock)))
    }

    /// Runs `f` once now, whatever the readiness (retrying `EINTR`): for operations
    /// that wait on something other than readiness.
    pub(crate) fn try_now<T>(
        &self,
        mut f: impl FnMut(SockRef<'_>) -> io::Result<T>,
    ) -> io::Result<T> {
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| io::Error::from(self.missing()))?;
        loop {
            match io.sock.try_io(|| f(SockRef::from(&io.sock))) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// The heart of every I/O operation: try `f` when `dir` may be ready; on
    /// `WouldBlock` clear the readiness and park until the reactor sees an event.
    /// `wait` is the operation's claim on the direction's waiter (set here when it
    /// parks; the operation hands it to [`forget`](Core::forget) when dropped).
    #[inline]
    pub(crate) fn poll_io<T>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        mut f: impl FnMut(SockRef<'_>) -> io::Result<T>,
    ) -> Poll<Result<T>> {
        self.poll_io_with(dir, cx, wait, |s| f(SockRef::from(s)), |_| false)
    }

    /// [`poll_io`](Core::poll_io) for stream reads and writes of `len` bytes: a short
    /// transfer (`0 < n < len`) is taken to mean the socket buffer was drained (or
    /// filled), so the readiness is cleared at once and the next operation parks without
    /// a syscall that would only say `WouldBlock` — where that is proven: see
    /// `sys::SHORT_READ_DRAINS` (never for unix-domain streams, whose reads stop where
    /// the sender's credentials change) and `sock_poll::Registration::complete` (not
    /// after a hang-up, an error or urgent data).
    pub(crate) fn poll_stream(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        len: usize,
        mut f: impl FnMut(SockRef<'_>) -> io::Result<usize>,
    ) -> Poll<Result<usize>> {
        self.poll_stream_on(dir, cx, wait, len, |s| f(SockRef::from(s)))
    }

    /// [`poll_stream`](Core::poll_stream) of a plain receive into `buf` (`recv(2)` with
    /// no flags): the call the hot paths make, through `sys::recv` (no `SockRef`).
    #[inline]
    pub(crate) fn poll_recv_plain(
        &self,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        buf: &mut [u8],
    ) -> Poll<Result<usize>> {
        self.poll_plain(Direction::Read, cx, wait, PlainRecv(buf))
    }

    /// [`poll_stream`](Core::poll_stream) of a plain send of `buf` (with
    /// `sys::SEND_FLAGS`' effect: no `SIGPIPE`), through `sys::send` (no `SockRef`).
    #[inline]
    pub(crate) fn poll_send_plain(
        &self,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        buf: &[u8],
    ) -> Poll<Result<usize>> {
        self.poll_plain(Direction::Write, cx, wait, PlainSend(buf))
    }

    /// [`try_plain`](Core::try_plain) of a plain receive into `buf`.
    #[inline]
    pub(crate) fn try_recv_plain(&self, buf: &mut [u8]) -> Result<usize> {
        self.try_plain(Direction::Read, PlainRecv(buf))
    }

    /// [`try_plain`](Core::try_plain) of a plain send of `buf` (no `SIGPIPE`).
    #[inline]
    pub(crate) fn try_send_plain(&self, buf: &[u8]) -> Result<usize> {
        self.try_plain(Direction::Write, PlainSend(buf))
    }

    /// [`poll_stream_on`](Core::poll_stream_on) for a plain `recv` or `send` (`op` makes
    /// that one syscall and runs no other code), shaped for the usual poll: in a normal
    /// scope, with the budget spent and the direction ready (fresh, or woken by its
    /// event), the syscall runs on the socket read without a `RefCell` guard and a
    /// success returns from here, with no call and few saved registers. The other cases
    /// go out of line, each to what the common body would do: parking (`park_plain`),
    /// a failed try (`poll_plain_failed`), a scope's last try or a missing socket
    /// (`poll_plain_slow`, the common body itself).
    #[inline(always)]
    fn poll_plain(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        mut op: impl Plain,
    ) -> Poll<Result<usize>> {
        if scope::mode() != Mode::Normal {
            return self.poll_plain_slow(dir, cx, wait, op, Budget::Spend);
        }
        // SAFETY: the reference is dropped before this function calls anything but the
        // syscall and `Cell` reads and writes of the registration and the budget
        // (`ready_now` and `try_spend` run no waker code): no callback runs, so nothing
        // can `borrow_mut` the core while it lives. `Err` (a `borrow_mut` in progress)
        // takes the guarded body, and so does a simulated socket (it has no OS socket).
        let io = unsafe { self.io.try_borrow_unguarded() };
        let Ok(Some(io)) = io else {
            return self.poll_plain_slow(dir, cx, wait, op, Budget::Spend);
        };
        // An empty budget: the common body spends it (which wakes the task through its
        // waker, any code) and yields.
        if !coop::try_spend() {
            return self.poll_plain_slow(dir, cx, wait, op, Budget::Spend);
        }
        // Fresh, or polled again after its event, and ready: try now (else park).
        if !io.reg.ready_now(dir, wait) {
            return self.park_plain(dir, cx, wait, op);
        }
        match io.sock.try_io(|| op.call(&io.sock)) {
            Ok(n) => {
                let short = self.is_short(dir, n, op.len());
                if short || (dir == Direction::Read && self.socktype == SocketType::STREAM) {
                    io.reg.complete(dir, short);
                }
                Poll::Ready(Ok(n))
            }
            // Said `WouldBlock`, failed, or was interrupted: as in the common body.
            Err(e) => self.poll_plain_failed(dir, cx, wait, e, op),
        }
    }

    /// [`poll_plain`](Core::poll_plain) when `ready_now` said no (not ready, closed, or
    /// the operation's waiter still stored), the budget spent: park, or fail with
    /// `Closed`, or try the syscall, as the common body would.
    #[inline(never)]
    fn park_plain(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        op: impl Plain,
    ) -> Poll<Result<usize>> {
        match self.park_hint(dir, cx, wait) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // Ready after all (the waiter was still stored): the common body tries.
            Poll::Ready(Ok(())) => self.poll_plain_slow(dir, cx, wait, op, Budget::Spent),
        }
    }

    /// [`poll_hint`] on the socket, borrowed for it: parks (or says ready, or
    /// `Closed`); a missing socket's error when there is none. Always inline: each
    /// caller is itself out of line, and the readable park is on the echo path.
    #[inline(always)]
    fn park_hint(&self, dir: Direction, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        match self.io.borrow().as_ref() {
            Some(io) => poll_hint(io, dir, cx, wait),
            None => Poll::Ready(Err(self.missing())),
        }
    }

    /// [`poll_plain`](Core::poll_plain)'s other cases, out of line: a simulated
    /// socket's operation, or the common body.
    #[inline(never)]
    fn poll_plain_slow(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        mut op: impl Plain,
        budget: Budget,
    ) -> Poll<Result<usize>> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return op.poll_sim(sim, cx);
        }
        let len = op.len();
        let trusted = self.short_is_drain(dir);
        let short = |&n: &usize| trusted && n > 0 && n < len;
        let f = |s: &mio::net::UdpSocket| op.call(s);
        self.poll_io_inner(dir, cx, wait, f, short, budget)
    }

    /// [`poll_plain`](Core::poll_plain) after its try failed with `e` (the budget
    /// spent): `WouldBlock` parks, `EINTR` tries again, any other error is the result —
    /// as in the common body.
    #[inline(never)]
    fn poll_plain_failed(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        e: io::Error,
        op: impl Plain,
    ) -> Poll<Result<usize>> {
        let guard = self.io.borrow();
        let Some(io) = guard.as_ref() else {
            return Poll::Ready(Err(self.missing()));
        };
        match sys::unless_would_block(e) {
            None => park_cleared(io, dir, cx, wait),
            Some(e) if e.kind() == io::ErrorKind::Interrupted => {
                drop(guard);
                self.poll_plain_slow(dir, cx, wait, op, Budget::Spent)
            }
            Some(e) => {
                io.reg.complete(dir, false);
                Poll::Ready(Err(e.into()))
            }
        }
    }

    /// One plain stream `recv` or `send` now, without waiting ([`Tcp::try_recv`],
    /// [`Tcp::try_send`]): `WouldBlock` with no syscall when `dir` is known not ready;
    /// a `WouldBlock` from the OS clears the readiness, a short transfer that proves
    /// the queue drained (or full) does too, as an operation's would, and any other
    /// success ends a confirmation.
    ///
    /// Inline: after `readable()` the usual call is the syscall and a few `Cell`s.
    ///
    /// [`Tcp::try_recv`]: crate::Tcp::try_recv
    /// [`Tcp::try_send`]: crate::Tcp::try_send
    #[inline]
    fn try_plain(&self, dir: Direction, mut op: impl Plain) -> Result<usize> {
        // SAFETY: the reference is dropped before this function calls anything but the
        // syscall and `Cell` reads and writes of the registration: no callback runs,
        // so nothing can `borrow_mut` the core while it lives. `Err` (a `borrow_mut` in
        // progress) takes the guarded path.
        let io = unsafe { self.io.try_borrow_unguarded() };
        let Ok(Some(io)) = io else {
            return self.try_plain_slow(dir, op);
        };
        if !io.reg.is_ready(dir) {
            return Err(Error::would_block());
        }
        match io.sock.try_io(|| op.call(&io.sock)) {
            Ok(n) => {
                io.reg.complete(dir, self.is_short(dir, n, op.len()));
                Ok(n)
            }
            Err(e) => self.try_plain_failed(dir, e, op),
        }
    }

    /// Whether a stream transfer of `n` bytes of `len` asked proves the queue drained
    /// (or the buffer full), where the OS makes a short transfer mean that.
    #[inline]
    fn is_short(&self, dir: Direction, n: usize, len: usize) -> bool {
        n > 0 && n < len && self.short_is_drain(dir)
    }

    /// [`try_plain`](Core::try_plain) through the common body
    /// ([`try_io_on`](Core::try_io_on)): a simulated socket (which has no OS socket), a
    /// missing socket's error, a borrow in progress, or a try again after `EINTR`.
    #[inline(never)]
    fn try_plain_slow(&self, dir: Direction, mut op: impl Plain) -> Result<usize> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return op.call_sim(sim);
        }
        let len = op.len();
        self.try_io_on(dir, |s| op.call(s), |&n| self.is_short(dir, n, len))
    }

    /// [`try_plain`](Core::try_plain) after its syscall failed with `e`: `WouldBlock`
    /// clears the readiness, `EINTR` tries again, any other error is the result (as in
    /// [`try_io_on`](Core::try_io_on)).
    #[inline(never)]
    fn try_plain_failed(&self, dir: Direction, e: io::Error, op: impl Plain) -> Result<usize> {
        match sys::unless_would_block(e) {
            None => {
                if let Some(io) = self.io.borrow().as_ref() {
                    io.reg.clear_ready(dir);
                }
                Err(Error::would_block())
            }
            Some(e) if e.kind() == io::ErrorKind::Interrupted => self.try_plain_slow(dir, op),
            Some(e) => Err(e.into()),
        }
    }

    /// [`poll_io`](Core::poll_io) of a plain datagram send of `buf` (one datagram),
    /// through `sys::send` (no `SockRef`).
    pub(crate) fn poll_send_datagram(
        &self,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        buf: &[u8],
    ) -> Poll<Result<usize>> {
        let send = |s: &mio::net::UdpSocket| sys::send(s, buf);
        self.poll_io_with(Direction::Write, cx, wait, send, |_| false)
    }

    /// [`poll_stream`](Core::poll_stream) with `f` given the registered socket itself.
    fn poll_stream_on(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        len: usize,
        f: impl FnMut(&mio::net::UdpSocket) -> io::Result<usize>,
    ) -> Poll<Result<usize>> {
        let trusted = self.short_is_drain(dir);
        self.poll_io_with(dir, cx, wait, f, |&n| trusted && n > 0 && n < len)
    }

    /// The common body: `short` says, from a result, that the transfer was short.
    ///
    /// The one rule: a `WouldBlock` result always parks. Readiness only says whether
    /// the syscall is worth trying; the syscall's result is the verdict. An
    /// operation's last try before its deadline fails, or its poll after a scope's
    /// deadline passed (see `scope::Mode`), skips both the readiness hint and the
    /// fairness budget: it asks the OS once — and in an expired scope a `WouldBlock`
    /// fails with `Timeout` instead of parking.
    #[inline]
    fn poll_io_with<T>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        f: impl FnMut(&mio::net::UdpSocket) -> io::Result<T>,
        short: impl Fn(&T) -> bool,
    ) -> Poll<Result<T>> {
        self.poll_io_inner(dir, cx, wait, f, short, Budget::Spend)
    }

    /// [`poll_io_with`](Core::poll_io_with), told whether this poll's unit of the
    /// fairness budget is still to be spent.
    #[inline]
    fn poll_io_inner<T>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        wait: &mut Wait,
        mut f: impl FnMut(&mio::net::UdpSocket) -> io::Result<T>,
        short: impl Fn(&T) -> bool,
        budget: Budget,
    ) -> Poll<Result<T>> {
        let io = self.io.borrow();
        let Some(io) = io.as_ref() else {
            return Poll::Ready(Err(self.missing()));
        };
        let mode = scope::mode();
        let trust_hint = mode == Mode::Normal;
        if trust_hint && budget == Budget::Spend && !coop::spend(cx) {
            return Poll::Pending;
        }
        // A fresh operation on a direction that may be ready needs only the flag (the
        // registration is never closed while the core holds it).
        if trust_hint && (wait.is_parked() || !io.reg.is_ready(dir)) {
            std::task::ready!(poll_hint(io, dir, cx, wait))?;
        }
        loop {
            let e = match io.sock.try_io(|| f(&io.sock)) {
                Ok(v) => {
                    // Only a stream's reads have a `readable()` that reads the event's
                    // confirmation: other completions need no bookkeeping unless short.
                    let short = short(&v);
                    if short || (dir == Direction::Read && self.socktype == SocketType::STREAM) {
                        io.reg.complete(dir, short);
                    }
                    return Poll::Ready(Ok(v));
                }
                Err(e) => sys::unless_would_block(e),
            };
            match e {
                None if mode == Mode::Expired => {
                    io.reg.clear_ready(dir);
                    return Poll::Ready(Err(scope::expired()));
                }
                // The hint is false now, and this parks (or fails with `Closed`): both in
                // one step, so no flag can let the syscall run again first.
                None => return park_cleared(io, dir, cx, wait),
                Some(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Some(e) => {
                    io.reg.complete(dir, false);
                    return Poll::Ready(Err(e.into()));
                }
            }
        }
    }

    /// [`poll_io_with`](Core::poll_io_with) for the poll-level calls: the claim on the
    /// waiter is the core's own for `dir`, so the latest poller's waker replaces an
    /// earlier one (as `AsyncRead` users expect), while an operation future of another
    /// task still panics as two waiters would.
    pub(crate) fn poll_level<T>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        f: impl FnMut(SockRef<'_>) -> io::Result<T>,
        short: impl Fn(&T) -> bool,
    ) -> Poll<Result<T>> {
        let cell = &self.poll_waits[dir_index(dir)];
        let mut wait = cell.get();
        let mut f = f;
        let r = self.poll_io_with(dir, cx, &mut wait, |s| f(SockRef::from(s)), short);
        cell.set(wait);
        r
    }

    /// Whether a short stream transfer of `dir` proves the buffer drained (or full).
    pub(crate) fn short_is_drain(&self, dir: Direction) -> bool {
        match dir {
            Direction::Read => sys::SHORT_READ_DRAINS && self.family.get() != Family::UNIX,
            Direction::Write => sys::SHORT_WRITE_FILLS,
        }
    }

    /// One try now, without waiting: `WouldBlock` (no syscall) when `dir` is known not
    /// ready; a `WouldBlock` from the OS clears the readiness as an operation would.
    pub(crate) fn try_io<T>(
        &self,
        dir: Direction,
        mut f: impl FnMut(SockRef<'_>) -> io::Result<T>,
    ) -> Result<T> {
        self.try_io_on(dir, |s| f(SockRef::from(s)), |_| false)
    }

    /// The body of every try call: [`try_io`](Core::try_io) with `f` given the
    /// registered socket itself, and `short` saying from a result that the transfer
    /// proved the queue drained (or the buffer full), which clears the readiness as an
    /// operation's would. An error other than `WouldBlock` leaves the flags as they are.
    fn try_io_on<T>(
        &self,
        dir: Direction,
        mut f: impl FnMut(&mio::net::UdpSocket) -> io::Result<T>,
        short: impl Fn(&T) -> bool,
    ) -> Result<T> {
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| self.missing())?;
        if !io.reg.is_ready(dir) {
            return Err(Error::would_block());
        }
        loop {
            match io.sock.try_io(|| f(&io.sock)) {
                Ok(v) => {
                    io.reg.complete(dir, short(&v));
                    return Ok(v);
                }
                Err(e) => match sys::unless_would_block(e) {
                    None => {
                        io.reg.clear_ready(dir);
                        return Err(Error::would_block());
                    }
                    Some(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Some(e) => return Err(e.into()),
                },
            }
        }
    }

    /// Waits until `dir` may be ready (a hint: for `writable`), as the poll-level claim.
    /// Past a scope's deadline (`Mode::Expired`) a wait that would park forgets its
    /// waiter and fails with `Timeout` instead, as every operation does there.
    pub(crate) fn poll_hint_level(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Result<()>> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.poll_ready(cx, dir);
        }
        let io = self.io.borrow();
        let Some(io) = io.as_ref() else {
            return Poll::Ready(Err(self.missing()));
        };
        let cell = &self.poll_waits[dir_index(dir)];
        let mut wait = cell.get();
        let mut r = poll_hint(io, dir, cx, &mut wait);
        if r.is_pending() && scope::mode() == Mode::Expired {
            io.reg.forget(dir, &mut wait);
            r = Poll::Ready(Err(scope::expired()));
        }
        cell.set(wait);
        r
    }

    /// Waits until a read would not block: at once when an event confirmed it and
    /// nothing has read since; otherwise a one-byte `MSG_PEEK` decides (`WouldBlock`
    /// parks). A pending socket error is returned, not left for the next read.
    ///
    /// Inline: the usual poll after an event (confirmed) is a few loads and compares in
    /// the caller; everything else is [`poll_readable_slow`](Core::poll_readable_slow).
    #[inline]
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        // SAFETY: the reference is used for the two reads below and dropped before any
        // other code runs (no waker, no callback, no syscall), so no `borrow_mut` can
        // happen while it lives; `Err` (a `borrow_mut` in progress) takes the slow path.
        // A simulated socket never has an OS socket (`Core::simulated`): it takes the
        // slow path too, which asks it first.
        let io = unsafe { self.io.try_borrow_unguarded() };
        if let Ok(Some(io)) = io
            && scope::mode() == Mode::Normal
        {
            if io.reg.is_confirmed(Direction::Read) {
                // The event that confirmed the direction took the stored waiter, and
                // none was stored since (parking needs a cleared flag, which also
                // clears the confirmation): this operation's claim is spent, so its
                // drop has nothing to forget.
                *wait = Wait::default();
                return Poll::Ready(Ok(()));
            }
            if !io.reg.is_ready(Direction::Read) {
                return self.park_readable(cx, wait);
            }
        }
        self.poll_readable_slow(cx, wait)
    }

    /// [`poll_readable`](Core::poll_readable) known not ready: park (or fail with
    /// `Closed`) without the peek, and without spending the budget, since parking
    /// yields anyway. Out of line: storing the waker runs its clone, any code.
    #[inline(never)]
    fn park_readable(&self, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        self.park_hint(Direction::Read, cx, wait)
    }

    /// [`poll_readable`](Core::poll_readable) when no event confirmed the direction:
    /// park when known not ready, else a peek decides.
    #[inline(never)]
    fn poll_readable_slow(&self, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.poll_readable(cx);
        }
        if let Some(io) = self.io.borrow().as_ref()
            && scope::mode() == Mode::Normal
        {
            if io.reg.is_confirmed(Direction::Read) {
                *wait = Wait::default(); // as in `poll_readable`
                return Poll::Ready(Ok(()));
            }
            if !io.reg.is_ready(Direction::Read) {
                // Known not ready: park (or fail with `Closed`) without the peek, and
                // without spending the budget, since parking yields anyway.
                return poll_hint(io, Direction::Read, cx, wait);
            }
        }
        self.poll_peek(cx, wait)
    }

    /// The slow half of [`poll_readable`](Core::poll_readable): a one-byte `MSG_PEEK`
    /// decides. Out of line, so the usual calls (confirmed, or known not ready) save no
    /// registers for it.
    #[inline(never)]
    fn poll_peek(&self, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        self.poll_io(Direction::Read, cx, wait, |s| s.peek(&mut byte))
            .map_ok(drop)
    }

    /// Waits for a connect started on this socket to finish. Its outcome comes from
    /// `SO_ERROR` and the peer address, never from readiness alone: a writable (or
    /// hung-up) socket without a peer is still connecting, and parks again.
    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
        let io = self.io.borrow();
        let Some(io) = io.as_ref() else {
            return Poll::Ready(Err(self.missing()));
        };
        let mode = scope::mode();
        let mut trust_hint = mode == Mode::Normal;
        let mut not_yet = 0;
        loop {
            if trust_hint {
                std::task::ready!(poll_hint(io, Direction::Write, cx, wait))?;
            }
            let sock = SockRef::from(&io.sock);
            let outcome = match sock.take_error() {
                Ok(Some(e)) | Err(e) => Err(e),
                Ok(None) => sock.peer_addr().map(drop),
            };
            match outcome {
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    io.reg.clear_ready(Direction::Write);
                    if mode == Mode::Expired {
                        return Poll::Ready(Err(scope::expired()));
                    }
                    not_yet += 1;
                    debug_assert!(not_yet < 2, "{}", spun(Direction::Write));
                    trust_hint = true;
                }
                other => {
                    return Poll::Ready(other.map_err(Error::from));
                }
            }
        }
    }

    /// Starts over the readiness of `dir`, as for a fresh registration: a socket that
    /// starts connecting, whose earlier events (a hang-up of the unconnected socket)
    /// say nothing of the connection.
    pub(crate) fn reset_ready(&self, dir: Direction) {
        if let Some(io) = self.io.borrow().as_ref() {
            io.reg.reset(dir);
        }
    }

    /// Marks `dir` not ready: the next `poll_ready` parks until an event.
    pub(crate) fn clear_ready(&self, dir: Direction) {
        if let Some(io) = self.io.borrow().as_ref() {
            io.reg.clear_ready(dir);
        }
    }

    /// Forgets a cancelled operation's waiter, if it is still its own.
    #[inline]
    pub(crate) fn forget(&self, dir: Direction, wait: &mut Wait) {
        if !wait.is_parked() {
            return; // the usual end: the operation completed
        }
        if let Some(io) = self.io.borrow().as_ref() {
            io.reg.forget(dir, wait);
        }
    }

    /// Closes the socket now: wakes every waiter with `Closed`, deregisters, frees the fd.
    /// Closing twice is a no-op.
    pub(crate) fn close(&self) -> Result<()> {
        self.closed.set(true);
        #[cfg(feature = "sim")]
        if let Some(sim) = &self.sim {
            sim.close();
        }
        let io = self.io.borrow_mut().take();
        io.map_or(Ok(()), |io| self.close_io(io))
    }

    /// Closes an OS socket: wakes its waiters with `Closed`, deregisters, frees the fd
    /// (see [`free`](Core::free)).
    fn close_io(&self, io: Io) -> Result<()> {
        let Io { mut sock, reg, .. } = io;
        reg.close();
        let result = reg.deregister(&mut sock);
        self.free(sock);
        result.map_err(Error::from)
    }

    /// Frees a deregistered OS socket — unless the core has lent one out: a borrowed
    /// handle may still name it, so it is shut down (the peer sees the close) and kept
    /// open until the core drops, when no handle, and so no borrow, is left.
    fn free(&self, sock: mio::net::UdpSocket) {
        if self.lent.get() {
            let _ = SockRef::from(&sock).shutdown(std::net::Shutdown::Both);
            self.retired.borrow_mut().push(sock);
        }
    }

    /// Runs `f` on the OS socket for a borrowed handle that lives as long as a handle
    /// to this core (`as_fd`, `as_socket`): marks the core as lent, so it frees no OS
    /// socket before it drops. After a close, the socket closed last if it was lent;
    /// `None` when there is none (closed before it was ever lent, or not opened yet).
    pub(crate) fn lend<R>(&self, f: impl FnOnce(SockRef<'_>) -> R) -> Option<R> {
        if let Some(io) = self.io.borrow().as_ref() {
            self.lent.set(true);
            return Some(f(SockRef::from(&io.sock)));
        }
        self.retired
            .borrow()
            .last()
            .map(|sock| f(SockRef::from(sock)))
    }

    /// Takes the OS socket out of the last handle to it, deregistered and still
    /// non-blocking; the core is dropped (as closed, with nothing left to close).
    ///
    /// # Errors
    ///
    /// `InvalidInput` while other handles to the socket exist (clones, owned halves, a
    /// spawned task's); `Closed` or not opened yet as every operation; the OS error of
    /// deregistering (the socket is closed then).
    pub(crate) fn into_socket(core: Rc<Core>) -> Result<socket2::Socket> {
        let core = Rc::try_unwrap(core).map_err(|_| {
            let what = "other handles to the socket are alive (clones, owned halves)";
            Error::new(ErrorKind::InvalidInput, what)
        })?;
        let io = core.io.borrow_mut().take().ok_or_else(|| core.missing())?;
        let Io { mut sock, reg, .. } = io;
        reg.deregister(&mut sock)?;
        Ok(sys::from_mio(sock))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Why there is no OS socket: closed, or a flexible socket not yet bound/connected.
    fn missing(&self) -> Error {
        if self.closed.get() {
            return Error::closed();
        }
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            crate::sim::socket::guard("an OS handle of a socket (as_raw_fd, into_socket)");
        }
        unopened()
    }

    pub(crate) fn bind(&self, addr: &SockAddr) -> Result<()> {
        self.prepare_for(addr.family(), false)?;
        #[cfg(feature = "sim")]
        if let Some(sim) = &self.sim {
            return sim.bind(addr);
        }
        let addr = to_socket2(addr)?;
        self.with(|s| s.bind(&addr))
    }

    pub(crate) fn local_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim.as_ref().filter(|_| !self.closed.get()) {
            return sim.local_addr(self.family.get());
        }
        self.with(|s| s.local_addr()).and_then(|a| from_socket2(&a))
    }

    pub(crate) fn peer_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim.as_ref().filter(|_| !self.closed.get()) {
            return sim.peer_addr();
        }
        self.with(|s| s.peer_addr()).and_then(|a| from_socket2(&a))
    }

    pub(crate) fn setopt(&self, name: &str, value: OptValue) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.set_option(name, value);
        }
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| self.missing())?;
        opt::set(&SockRef::from(&io.sock), name, value)
    }

    pub(crate) fn getopt(&self, name: &str) -> Result<OptValue> {
        #[cfg(feature = "sim")]
        if let Some(sim) = self.sim_open() {
            return sim.option(name);
        }
        let io = self.io.borrow();
        let io = io.as_ref().ok_or_else(|| self.missing())?;
        opt::get(&SockRef::from(&io.sock), name)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // No handle is left, so no borrow of a lent socket either: free it at once.
        self.lent.set(false);
        let _ = self.close();
    }
}

/// An operation's claim on one direction of a socket: the socket, the direction, and
/// the operation's waiter ticket. Every parking operation holds one; dropping it (the
/// operation finished, or was dropped while parked — a deadline, a cancelled thread)
/// forgets the waiter if it is still the operation's own, so nothing stays registered.
pub(crate) struct Waiter<'a> {
    /// The socket.
    pub(crate) core: &'a Core,
    /// The direction waited on.
    pub(crate) dir: Direction,
    /// The ticket of the registration's waiter slot.
    pub(crate) wait: Wait,
}

impl<'a> Waiter<'a> {
    /// A claim on `dir` of `core`, not parked yet.
    pub(crate) fn new(core: &'a Core, dir: Direction) -> Waiter<'a> {
        Waiter {
            core,
            dir,
            wait: Wait::default(),
        }
    }
}

impl Drop for Waiter<'_> {
    #[inline]
    fn drop(&mut self) {
        self.core.forget(self.dir, &mut self.wait);
    }
}

/// The loop mode's step of a whole transfer: one `poll_stream` (a short transfer
/// clears readiness); a send's broken pipe on a never-connected socket is
/// `NotConnected`.
impl crate::transfer::Step for Waiter<'_> {
    type Timer = sock_sched::Sleep;

    // A simulated socket's operations too: `poll_plain`'s slow path asks it.
    #[inline(always)]
    fn poll_send(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        let r = self.core.poll_send_plain(cx, &mut self.wait, buf);
        r.map_err(|e| self.core.never_connected(e))
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize>> {
        self.core.poll_recv_plain(cx, &mut self.wait, buf)
    }
}

/// The index of `dir` in per-direction arrays.
fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

/// The syscall of a plain stream transfer ([`Core::poll_plain`]): one `recv` or `send`
/// on the registered socket, and nothing else.
trait Plain {
    /// The bytes asked for.
    fn len(&self) -> usize;
    /// The syscall.
    fn call(&mut self, sock: &mio::net::UdpSocket) -> io::Result<usize>;
    /// The same try on a simulated socket.
    #[cfg(feature = "sim")]
    fn call_sim(&mut self, sim: &crate::sim::socket::SimSocket) -> Result<usize>;
    /// The operation's poll on a simulated socket.
    #[cfg(feature = "sim")]
    fn poll_sim(
        &mut self,
        sim: &crate::sim::socket::SimSocket,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize>>;
}

/// A plain `recv` into the buffer.
struct PlainRecv<'a>(&'a mut [u8]);

impl Plain for PlainRecv<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline(always)]
    fn call(&mut self, sock: &mio::net::UdpSocket) -> io::Result<usize> {
        sys::recv(sock, self.0)
    }

    #[cfg(feature = "sim")]
    fn call_sim(&mut self, sim: &crate::sim::socket::SimSocket) -> Result<usize> {
        sim.try_recv(self.0)
    }

    #[cfg(feature = "sim")]
    fn poll_sim(
        &mut self,
        sim: &crate::sim::socket::SimSocket,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize>> {
        sim.poll_recv(cx, self.0)
    }
}

/// A plain `send` of the buffer.
struct PlainSend<'a>(&'a [u8]);

impl Plain for PlainSend<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline(always)]
    fn call(&mut self, sock: &mio::net::UdpSocket) -> io::Result<usize> {
        sys::send(sock, self.0)
    }

    #[cfg(feature = "sim")]
    fn call_sim(&mut self, sim: &crate::sim::socket::SimSocket) -> Result<usize> {
        sim.try_send(self.0)
    }

    #[cfg(feature = "sim")]
    fn poll_sim(
        &mut self,
        sim: &crate::sim::socket::SimSocket,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize>> {
        sim.poll_send(cx, self.0)
    }
}

/// Whether an operation's poll still has to spend its unit of the fairness budget.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Budget {
    /// Not yet: the body spends it.
    Spend,
    /// Already spent by the caller.
    Spent,
}

/// The readiness hint of `dir`: `Ready(Ok)` when the syscall is worth trying, else the
/// task parks (`wait` records that it is the waiter, so a re-poll from another task
/// moves the waiter there); `Err(Closed)` once the socket was closed.
fn poll_hint(io: &Io, dir: Direction, cx: &mut Context<'_>, wait: &mut Wait) -> Poll<Result<()>> {
    let r = io.reg.poll_wait(dir, cx, wait).map_err(Error::from);
    if r.is_pending() {
        runtime::check_own_loop(io.loop_id);
    }
    r
}

/// Clears the readiness of `dir` after a `WouldBlock` and parks the task (see
/// `Registration::park_cleared`); `Err(Closed)` once the socket was closed.
fn park_cleared<T>(
    io: &Io,
    dir: Direction,
    cx: &mut Context<'_>,
    wait: &mut Wait,
) -> Poll<Result<T>> {
    if let Err(closed) = io.reg.park_cleared(dir, cx, wait) {
        return Poll::Ready(Err(Error::from(closed)));
    }
    runtime::check_own_loop(io.loop_id);
    Poll::Pending
}

/// The message of the debug assertion that catches a frozen loop: an operation saw
/// would-block twice in one poll, so a readiness flag let it retry without parking.
fn spun(dir: Direction) -> String {
    format!(
        "sock: a {dir:?} operation retried a would-block syscall without parking \
         (a readiness flag stayed set after WouldBlock: the loop would spin at 100% CPU)"
    )
}

/// Converts sock-addr's address into socket2's.
pub(crate) fn to_socket2(addr: &SockAddr) -> Result<socket2::SockAddr> {
    if let Some(sa) = addr.as_socket() {
        return Ok(socket2::SockAddr::from(sa));
    }
    sys::unix_socket2_addr(addr)
}

/// Converts socket2's address into sock-addr's.
pub(crate) fn from_socket2(addr: &socket2::SockAddr) -> Result<SockAddr> {
    if let Some(sa) = addr.as_socket() {
        return Ok(SockAddr::from(sa));
    }
    sys::unix_sock_addr(addr)
}

/// Converts the source address of a received datagram into sock-addr's: as
/// [`from_socket2`], but an unbound unix sender (the kernel gives no address bytes) is
/// the unnamed address, not an error — the datagram is already taken off the queue.
pub(crate) fn source_from_socket2(addr: &socket2::SockAddr) -> Result<SockAddr> {
    if let Some(sa) = addr.as_socket() {
        return Ok(SockAddr::from(sa));
    }
    sys::unix_source_addr(addr)
}

//! [`SharedListener`]: one listening socket shared by the loops of several OS threads,
//! each connection accepted (and kept) by one loop.
//!
//! Each participating loop [`attach`](SharedListener::attach)es: it gets a duplicate of
//! the listening socket registered in its private poller with `EPOLLEXCLUSIVE`
//! (`sock_poll::Reactor::register_exclusive`), so a connection wakes one loop, not
//! all. The woken loop accepts until `WouldBlock`; the accepted socket is an ordinary
//! [`Tcp`] of that loop. A loop that wakes and finds nothing (another was faster) just
//! waits again; [`wakeups`](SharedListener::wakeups) counts every wake-up so the herd is
//! measurable.
//!
//! On Windows there is no `EPOLLEXCLUSIVE`: every attached loop polls the listener and
//! wakes for each connection; the first to accept keeps it and the others find nothing.
//! (mio polls sockets through AFD, so an accepted socket is not tied to any completion
//! port and the accepting loop can keep it.) Expect about one wake-up per attached loop
//! per burst of connections there.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use sock_addr::{Family, Port, SockAddr, SocketType};

use crate::error::{Error, ErrorKind, Result};
use crate::op::Op;
use crate::socket::{Core, from_socket2, to_socket2};
use crate::sys;
use crate::target::{self, ToAddrs};
use crate::tcp::Tcp;

/// A listening TCP socket shared by loops on several OS threads. `Send + Sync`; cheap
/// to clone.
///
/// The alternative is one listener per loop with `so_reuseport` set before `listen`
/// (Linux, the BSDs): the kernel then spreads connections by a hash of the addresses,
/// with no wake-up of a loop that gets nothing, but a loop that stops accepting leaves
/// its share of connections waiting.
///
/// # Examples
///
/// ```
/// use sock::{Family, loops::SharedListener};
///
/// let listener = SharedListener::bind("127.0.0.1", 0)?;
/// let port = listener.local_addr()?.port();
/// let loops = sock::loops::spawn_loops(2)?;
/// for h in loops.handles() {
///     let l = listener.clone();
///     drop(h.spawn_with(move || async move {
///         let mine = l.attach()?;
///         loop {
///             let conn = mine.accept().await?;
///             sock::spawn(async move {
///                 let mut buf = [0u8; 4];
///                 conn.recvn(&mut buf).await?;
///                 conn.send(&buf).await
///             });
///         }
///         #[allow(unreachable_code)]
///         Ok::<(), sock::Error>(())
///     }));
/// }
/// sock::run(async move {
///     let c = sock::tcp(Family::INET)?;
///     c.connect("127.0.0.1", port).await?;
///     c.send(b"ping").await?;
///     let mut buf = [0u8; 4];
///     c.recvn(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<(), sock::Error>(())
/// })?;
/// loops.join().unwrap();
/// # Ok::<(), sock::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedListener {
    /// The listening socket and the counters, shared by the clones.
    inner: Arc<Inner>,
}

/// The shared state of a [`SharedListener`].
struct Inner {
    /// The listening socket (the loops hold duplicates of it).
    #[cfg(not(feature = "sim"))]
    socket: socket2::Socket,
    /// The listening socket (the loops hold duplicates of it); `None` on a simulated
    /// host.
    #[cfg(feature = "sim")]
    socket: Option<socket2::Socket>,
    /// The simulated listening socket on a simulated host (`sim/loops.rs`): each loop
    /// attaches another handle on it.
    #[cfg(feature = "sim")]
    sim: Option<crate::sim::shared::Bound<crate::tcp::Tcp>>,
    /// Its address family.
    family: Family,
    /// Times a loop's accept woke up.
    wakeups: AtomicU64,
    /// Connections accepted through the loops.
    accepted: AtomicU64,
}

impl SharedListener {
    /// Listens on `host:port` (the OS's maximum backlog, `so_reuseaddr` on).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::AddressInUse`], a lookup error, …
    ///
    /// # Examples
    ///
    /// See [`SharedListener`].
    pub fn bind(host: &str, port: impl Into<Port>) -> Result<SharedListener> {
        let addrs = target::local(host, port.into(), Family::UNSPEC, SocketType::STREAM)?;
        SharedListener::bind_to(&addrs)
    }

    /// Listens on the first address of `target`: an already resolved address, or a
    /// `(host, port, flags)` lookup (the seed's `listen(host, port, af)`; see
    /// [`ToAddrs`]), made now with `PASSIVE` added.
    ///
    /// # Errors
    ///
    /// As [`bind`](SharedListener::bind); [`ErrorKind::InvalidInput`] for an empty
    /// target; with [`Flags::NUMERICHOST`](crate::Flags) [`ErrorKind::HostNotFound`] at
    /// once for a host that is not a numeric address.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    ///
    /// let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    /// let l = sock::loops::SharedListener::bind_to(&addr)?;
    /// assert_ne!(l.local_addr()?.port(), 0);
    /// let l = sock::loops::SharedListener::bind_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?;
    /// assert_ne!(l.local_addr()?.port(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn bind_to(target: &impl ToAddrs) -> Result<SharedListener> {
        let target = target::target_of(target);
        let addrs = target::local_addrs(target, Family::UNSPEC, SocketType::STREAM)?;
        let addr = addrs
            .first()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no address"))?;
        let family = addr.family();
        #[cfg(feature = "sim")]
        if let Some(ctx) = crate::sim::socket::current_host() {
            let tcp = crate::sim::loops::listen(ctx, addr)?;
            return Ok(SharedListener::with(None, Some(tcp), family));
        }
        let socket = socket2::Socket::new(
            socket2::Domain::from(family.as_raw()),
            socket2::Type::STREAM,
            None,
        )?;
        if sys::LISTEN_REUSEADDR && family != Family::UNIX {
            socket.set_reuse_address(true)?;
        }
        socket.bind(&to_socket2(addr)?)?;
        socket.listen(i32::MAX)?;
        socket.set_nonblocking(true)?;
        #[cfg(feature = "sim")]
        return Ok(SharedListener::with(Some(socket), None, family));
        #[cfg(not(feature = "sim"))]
        Ok(SharedListener::with(socket, family))
    }

    /// A listener around `socket`, of `family`.
    #[cfg(not(feature = "sim"))]
    fn with(socket: socket2::Socket, family: Family) -> SharedListener {
        let inner = Inner {
            socket,
            family,
            wakeups: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
        };
        SharedListener {
            inner: Arc::new(inner),
        }
    }

    /// A listener around `socket`, or around `sim`, a simulated host's listening
    /// socket, of `family`.
    #[cfg(feature = "sim")]
    fn with(
        socket: Option<socket2::Socket>,
        sim: Option<crate::tcp::Tcp>,
        family: Family,
    ) -> SharedListener {
        let inner = Inner {
            socket,
            sim: sim.map(crate::sim::shared::Bound::new),
            family,
            wakeups: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
        };
        SharedListener {
            inner: Arc::new(inner),
        }
    }

    /// The OS socket.
    fn socket(&self) -> &socket2::Socket {
        #[cfg(feature = "sim")]
        let socket = self.inner.socket.as_ref().unwrap_or_else(|| {
            unreachable!("a simulated listener takes its simulated socket first")
        });
        #[cfg(not(feature = "sim"))]
        let socket = &self.inner.socket;
        socket
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// See [`SharedListener`].
    pub fn local_addr(&self) -> Result<SockAddr> {
        #[cfg(feature = "sim")]
        if let Some(sim) = &self.inner.sim {
            return sim.get().local_addr();
        }
        from_socket2(&self.socket().local_addr()?)
    }

    /// Joins the listener from this thread's loop: a duplicate of the socket registered
    /// in the loop's poller with `EPOLLEXCLUSIVE`. Accept through the result.
    ///
    /// # Errors
    ///
    /// The OS error of duplicating or registering the socket.
    ///
    /// # Examples
    ///
    /// See [`SharedListener`].
    pub fn attach(&self) -> Result<LoopListener> {
        #[cfg(feature = "sim")]
        if let Some(sim) = &self.inner.sim {
            return Ok(LoopListener {
                tcp: crate::sim::loops::attach(sim.get())?,
                shared: self.inner.clone(),
            });
        }
        let dup = self.socket().try_clone()?;
        let tcp = Tcp::from_core(Core::adopt_exclusive(dup, self.inner.family)?);
        Ok(LoopListener {
            tcp,
            shared: self.inner.clone(),
        })
    }

    /// How many times an attached loop's `accept` woke up (with `EPOLLEXCLUSIVE`, about
    /// once per burst of connections; without it, once per loop).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = sock::loops::SharedListener::bind("127.0.0.1", 0)?;
    /// assert_eq!(l.wakeups(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn wakeups(&self) -> u64 {
        self.inner.wakeups.load(Ordering::Relaxed)
    }

    /// How many connections the attached loops accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = sock::loops::SharedListener::bind("127.0.0.1", 0)?;
    /// assert_eq!(l.accepted(), 0);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn accepted(&self) -> u64 {
        self.inner.accepted.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for SharedListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedListener")
            .field("local_addr", &self.local_addr().ok())
            .field("accepted", &self.accepted())
            .finish_non_exhaustive()
    }
}

/// One loop's end of a [`SharedListener`] (`!Send`, like every socket of a loop).
///
/// # Examples
///
/// See [`SharedListener`].
pub struct LoopListener {
    /// The duplicate listening socket, registered exclusively in this loop.
    tcp: Tcp,
    /// The counters.
    shared: Arc<Inner>,
}

impl LoopListener {
    /// Accepts a connection; it belongs to this loop. Takes a deadline like every
    /// operation (`.expires(t)`).
    ///
    /// # Errors
    ///
    /// As [`Tcp::accept`].
    ///
    /// # Examples
    ///
    /// See [`SharedListener`].
    pub fn accept(&self) -> impl Op<Output = Result<Tcp>> + '_ {
        Counted {
            inner: Box::pin(self.tcp.accept()),
            shared: &self.shared,
            parked: false,
        }
    }

    /// This loop's duplicate of the listening socket, as an ordinary [`Tcp`].
    ///
    /// # Examples
    ///
    /// ```
    /// let l = sock::loops::SharedListener::bind("127.0.0.1", 0)?;
    /// let mine = l.attach()?;
    /// assert_eq!(mine.as_tcp().local_addr()?, l.local_addr()?);
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn as_tcp(&self) -> &Tcp {
        &self.tcp
    }
}

impl fmt::Debug for LoopListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopListener")
            .field("tcp", &self.tcp)
            .finish()
    }
}

/// An accept that counts its wake-ups and accepted connections.
struct Counted<'a, F> {
    /// The loop's own accept.
    inner: Pin<Box<F>>,
    /// The counters.
    shared: &'a Inner,
    /// Returned `Pending` last time: this poll is a wake-up.
    parked: bool,
}

impl<F: Future<Output = Result<Tcp>>> Future for Counted<'_, F> {
    type Output = Result<Tcp>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Tcp>> {
        if self.parked {
            self.shared.wakeups.fetch_add(1, Ordering::Relaxed);
        }
        let r = self.inner.as_mut().poll(cx);
        self.parked = r.is_pending();
        if let Poll::Ready(Ok(_)) = r {
            self.shared.accepted.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

impl<F: Future<Output = Result<Tcp>>> Op for Counted<'_, F> {
    type Timer = sock_sched::Sleep;
}

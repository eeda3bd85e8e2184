//! Batched datagram I/O: many datagrams per syscall (`recvmmsg`/`sendmmsg` on Linux).
//!
//! [`Datagram`] is a reusable buffer with its length and peer address. A batch receive
//! waits until at least one datagram is there and then takes as many as are queued (up
//! to the batch's size) in one call; a batch send hands as many as the socket accepts to
//! the kernel in one call. Where the OS has no batch call, one datagram moves per call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use sock_addr::SockAddr;
use sock_poll::Direction;

use crate::dgram::Udp;
use crate::error::Result;
use crate::op::Op;
use crate::socket::Waiter;
use crate::sys;

/// Most datagrams moved by one batch call.
pub(crate) const MAX_BATCH: usize = 32;

/// A datagram buffer for [`Udp::recv_batch`] and [`Udp::send_batch`].
///
/// # Examples
///
/// ```
/// let mut d = sock::io::Datagram::with_capacity(1500);
/// d.set(b"ping", "127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap().into());
/// assert_eq!(d.data(), b"ping");
/// ```
#[derive(Clone, Debug)]
pub struct Datagram {
    pub(crate) buf: Box<[u8]>,
    pub(crate) len: usize,
    pub(crate) addr: Option<SockAddr>,
    pub(crate) truncated: bool,
}

impl Datagram {
    /// An empty datagram that can hold `capacity` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = sock::io::Datagram::with_capacity(1500);
    /// assert!(d.data().is_empty() && d.addr().is_none());
    /// ```
    pub fn with_capacity(capacity: usize) -> Datagram {
        Datagram {
            buf: vec![0; capacity].into_boxed_slice(),
            len: 0,
            addr: None,
            truncated: false,
        }
    }

    /// The bytes received (or set to send).
    ///
    /// # Examples
    ///
    /// See [`Udp::recv_batch`].
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The peer: the source of a received datagram, the destination of one to send.
    ///
    /// # Examples
    ///
    /// ```
    /// let to: sock::SockAddr = "127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap().into();
    /// let mut d = sock::io::Datagram::with_capacity(16);
    /// d.set(b"hi", to.clone());
    /// assert_eq!(d.addr(), Some(&to));
    /// ```
    pub fn addr(&self) -> Option<&SockAddr> {
        self.addr.as_ref()
    }

    /// Whether the received datagram was longer than the buffer (and cut).
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.send_to(b"longer than four", &a.local_addr()?).await?;
    ///     let mut batch = vec![sock::io::Datagram::with_capacity(4)];
    ///     a.recv_batch(&mut batch).await?;
    ///     assert!(batch[0].is_truncated());
    ///     assert_eq!(batch[0].data(), b"long");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Sets the bytes (cut to the capacity) and the destination of a datagram to send.
    ///
    /// # Examples
    ///
    /// ```
    /// let to: sock::SockAddr = "127.0.0.1:9".parse::<std::net::SocketAddr>().unwrap().into();
    /// let mut d = sock::io::Datagram::with_capacity(4);
    /// d.set(b"too long", to);
    /// assert_eq!(d.data(), b"too ");
    /// ```
    pub fn set(&mut self, bytes: &[u8], to: SockAddr) {
        self.len = bytes.len().min(self.buf.len());
        self.buf[..self.len].copy_from_slice(&bytes[..self.len]);
        self.addr = Some(to);
        self.truncated = false;
    }

    /// Sets the destination, keeping the bytes (e.g. to echo a datagram back).
    ///
    /// # Examples
    ///
    /// ```
    /// let addr = |s: &str| sock::SockAddr::from(s.parse::<std::net::SocketAddr>().unwrap());
    /// let mut d = sock::io::Datagram::with_capacity(16);
    /// d.set(b"echo me", addr("127.0.0.1:9"));
    /// d.set_addr(addr("127.0.0.1:7"));
    /// assert_eq!((d.data(), d.addr()), (&b"echo me"[..], Some(&addr("127.0.0.1:7"))));
    /// ```
    pub fn set_addr(&mut self, to: SockAddr) {
        self.addr = Some(to);
    }
}

impl Udp {
    /// Receives up to `batch.len()` datagrams (at most 32) in one call, waiting until at
    /// least one is there; returns how many were filled, each with its source address.
    ///
    /// # Errors
    ///
    /// As [`recv`](Udp::recv); a truncated datagram is flagged
    /// ([`Datagram::is_truncated`]), not an error.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     for word in [&b"one"[..], b"two"] {
    ///         b.send_to(word, &a.local_addr()?).await?;
    ///     }
    ///     let mut batch = vec![sock::io::Datagram::with_capacity(64); 8];
    ///     let mut got = 0;
    ///     while got < 2 {
    ///         got += a.recv_batch(&mut batch[got..]).await?;
    ///     }
    ///     assert_eq!(batch[1].data(), b"two");
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn recv_batch<'a>(
        &'a self,
        batch: &'a mut [Datagram],
    ) -> impl Op<Output = Result<usize>> + 'a {
        Batch {
            waiter: Waiter::new(self.core(), Direction::Read),
            recv: Some(batch),
            send: None,
        }
    }

    /// Sends the datagrams of `batch` (at most 32), each to its [`Datagram::addr`], in one
    /// call; waits only if none can go. Returns how many were sent, from the front.
    ///
    /// # Errors
    ///
    /// As [`sendto`](Udp::send_to); [`ErrorKind::InvalidInput`](crate::ErrorKind) for a
    /// datagram without an address.
    ///
    /// # Examples
    ///
    /// ```
    /// sock::run(async {
    ///     let a = sock::udp(sock::Family::INET)?;
    ///     a.bind("127.0.0.1", 0)?;
    ///     let b = sock::udp(sock::Family::INET)?;
    ///     b.bind("127.0.0.1", 0)?;
    ///     let mut out = vec![sock::io::Datagram::with_capacity(16); 3];
    ///     for d in &mut out {
    ///         d.set(b"hi", a.local_addr()?);
    ///     }
    ///     let mut sent = 0;
    ///     while sent < 3 {
    ///         sent += b.send_batch(&out[sent..]).await?;
    ///     }
    ///     Ok::<(), sock::Error>(())
    /// })?;
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn send_batch<'a>(&'a self, batch: &'a [Datagram]) -> impl Op<Output = Result<usize>> + 'a {
        Batch {
            waiter: Waiter::new(self.core(), Direction::Write),
            recv: None,
            send: Some(batch),
        }
    }
}

/// A batch operation in flight.
struct Batch<'a> {
    waiter: Waiter<'a>,
    recv: Option<&'a mut [Datagram]>,
    send: Option<&'a [Datagram]>,
}

impl Future for Batch<'_> {
    type Output = Result<usize>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = &mut *self;
        let Waiter { core, dir, wait } = &mut this.waiter;
        let (core, dir) = (*core, *dir);
        #[cfg(feature = "sim")]
        if let Some(sim) = core.sim_open() {
            return match (&mut this.recv, this.send) {
                (Some(batch), _) => {
                    let n = batch.len().min(MAX_BATCH);
                    sim.poll_op(cx, dir, |s| s.try_recv_batch(&mut batch[..n]))
                }
                (None, Some(batch)) => {
                    let batch = &batch[..batch.len().min(MAX_BATCH)];
                    sim.poll_op(cx, dir, |s| s.try_send_batch(batch))
                }
                (None, None) => Poll::Ready(Ok(0)),
            };
        }
        match (&mut this.recv, this.send) {
            (Some(batch), _) => {
                let n = batch.len().min(MAX_BATCH);
                core.poll_io(dir, cx, wait, |s| sys::recv_batch(&s, &mut batch[..n]))
            }
            (None, Some(batch)) => {
                let batch = &batch[..batch.len().min(MAX_BATCH)];
                core.poll_io(dir, cx, wait, |s| sys::send_batch(&s, batch))
            }
            (None, None) => Poll::Ready(Ok(0)),
        }
    }
}

impl Op for Batch<'_> {
    type Timer = sock_sched::Sleep;
}

/// One datagram per call, for OSes without a batch call: receives into `batch[0]`.
#[allow(dead_code)] // the fallback of the sys modules without recvmmsg/sendmmsg
pub(crate) fn recv_one(s: &socket2::SockRef<'_>, batch: &mut [Datagram]) -> std::io::Result<usize> {
    let Some(d) = batch.first_mut() else {
        return Ok(0);
    };
    match crate::dgram::recv_from(s, &mut d.buf) {
        Ok((n, from)) => {
            d.len = n;
            d.truncated = false;
            d.addr = crate::socket::source_from_socket2(&from).ok();
            Ok(1)
        }
        Err(e) => match e
            .get_ref()
            .and_then(|i| i.downcast_ref::<crate::dgram::Truncated>())
        {
            Some(t) => {
                d.len = t.kept;
                d.truncated = true;
                d.addr = None;
                Ok(1)
            }
            None => Err(e),
        },
    }
}

/// One datagram per call, for OSes without a batch call: sends `batch[0]`.
#[allow(dead_code)] // the fallback of the sys modules without recvmmsg/sendmmsg
pub(crate) fn send_one(s: &socket2::SockRef<'_>, batch: &[Datagram]) -> std::io::Result<usize> {
    let Some(d) = batch.first() else { return Ok(0) };
    let to = destination(d)?;
    s.send_to_with_flags(d.data(), &to, sys::SEND_FLAGS)
        .map(|_| 1)
}

/// The socket2 form of a datagram's destination, or `InvalidInput`, for the sends that
/// take one address per call (Linux's `send_batch` points `sendmmsg` at each datagram's
/// own address instead). Inlined, so the 128-byte address is built in place.
#[inline]
pub(crate) fn destination(d: &Datagram) -> std::io::Result<socket2::SockAddr> {
    let addr = d.addr.as_ref().ok_or_else(no_address)?;
    crate::socket::to_socket2(addr).map_err(std::io::Error::from)
}

/// The error of sending a datagram that has no address.
pub(crate) fn no_address() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "a datagram to send has no address",
    )
}

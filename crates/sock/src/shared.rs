//! The shared-poller mode (the seed's `sock.epoll_fd([fd])` / `sock.iocp([h])`): several
//! OS threads wait on one kernel poller and run `Send` tasks; see [`SharedLoop`].
//!
//! Its sockets' operations are [`Op`](crate::Op)s like the loop mode's, so
//! [`Expires`](crate::Expires) puts a deadline on each (`s.recv(&mut buf).timeout(d)`);
//! the timer is the running worker's. [`deadline`] and [`timeout`] are the scope
//! deadlines of this mode: [`sock::deadline`](crate::deadline) with the worker's timer,
//! so the scope stays `Send`.
//!
//! As in the loop mode, the sockets have poll-level calls (`poll_recv`, `poll_send`,
//! `try_recv`, `readable`, …), a [`SharedTcp`] splits into halves
//! ([`SharedTcp::split`], [`SharedTcp::into_split`]: `Send`, for a reader task and a
//! writer task), and the `futures-io`, `tokio-io` and `hyper` features implement their
//! I/O traits for `SharedTcp` and its halves.

use std::future::Future;
use std::time::{Duration, Instant};

use sock_sched::mt;

use crate::error::Result;
use crate::op::far_future;
use crate::scope::{Scoped, scoped};

/// An event of a host's own fd on a shared poller; see [`SharedLoop::on_host_event`].
#[doc(no_inline)]
pub use crate::multi::HostEvent;
pub use crate::multi::{SharedLoop, SharedTcp, SharedUdp};
pub use crate::multi::{
    SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedReadHalf, SharedWriteHalf,
};

/// Puts the absolute deadline `t` on every socket operation `fut` awaits, in a task of a
/// [`SharedLoop`]: the shared-poller mode's [`sock::deadline`](crate::deadline) (same
/// rules: each operation fails with [`Timeout`](crate::ErrorKind::Timeout) once `t` has
/// passed, carrying the bytes it moved; the scope too if `fut` waits on something else).
///
/// # Examples
///
/// ```
/// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedTcp: epoll or IOCP
/// use std::time::{Duration, Instant};
/// use sock::shared::{SharedLoop, SharedTcp};
///
/// let lp = SharedLoop::new()?;
/// let kind = lp.run(async {
///     let server = SharedTcp::new(sock::Family::INET)?;
///     server.listen("127.0.0.1", 0)?;
///     let client = SharedTcp::new(sock::Family::INET)?;
///     let t = Instant::now() + Duration::from_millis(20);
///     let err = sock::shared::deadline(t, async {
///         client.connect_to(&server.local_addr()?).await?;
///         let mut buf = [0u8; 4];
///         client.recvn(&mut buf).await // the server never sends
///     })
///     .await
///     .unwrap_err();
///     Ok::<_, sock::Error>(err.kind())
/// })?;
/// assert_eq!(kind, sock::ErrorKind::Timeout);
/// # Ok::<(), sock::Error>(())
/// ```
pub fn deadline<F, T>(t: Instant, fut: F) -> Scoped<F, mt::Sleep>
where
    F: Future<Output = Result<T>>,
{
    scoped(t, fut)
}

/// [`deadline`] at `d` from now (the worker's clock).
///
/// # Examples
///
/// ```
/// # if !cfg!(any(target_os = "linux", windows)) { return Ok(()); } // SharedUdp: epoll or IOCP
/// use std::time::Duration;
///
/// let lp = sock::shared::SharedLoop::new()?;
/// let kind = lp.run(async {
///     let udp = sock::shared::SharedUdp::new(sock::Family::INET)?;
///     udp.bind("127.0.0.1", 0)?;
///     let mut buf = [0u8; 8];
///     let r = sock::shared::timeout(Duration::from_millis(10), udp.recv(&mut buf)).await;
///     Ok::<_, sock::Error>(r.unwrap_err().kind())
/// })?;
/// assert_eq!(kind, sock::ErrorKind::Timeout);
/// # Ok::<(), sock::Error>(())
/// ```
pub fn timeout<F, T>(d: Duration, fut: F) -> Scoped<F, mt::Sleep>
where
    F: Future<Output = Result<T>>,
{
    let now = mt::now();
    deadline(now.checked_add(d).unwrap_or_else(|| far_future(now)), fut)
}

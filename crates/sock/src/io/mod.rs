//! `sock::io`: copying between sock streams — [`copy`] one way, [`copy_bidirectional`]
//! both ways (a proxy's whole job) — with an idle deadline, the EOF forwarded as a
//! half-close, and the bytes moved each way.
//!
//! Each direction owns one buffer, allocated once per copy on its first poll; a read
//! fills it, writes empty it, and only then does the next read happen, so a slow writer
//! holds its reader back (the buffer is the only queue). The copy is one operation of
//! the task awaiting it: it claims the read waiter of each source and the write waiter
//! of each destination, forgets them when dropped, and spends the task's fairness
//! budget like any operation, so a copy at full speed still lets the loop's other
//! threads run. Errors are the sockets' own, normalized (a reset is
//! [`ConnectionReset`](crate::ErrorKind::ConnectionReset) on either side, a socket
//! closed under the copy [`Closed`](crate::ErrorKind::Closed)), with a context saying
//! which direction and step failed (`copy b->a: send`).
//!
//! **No `splice(2)`.** Moving the bytes socket → pipe → socket with `splice` on Linux
//! was built and measured (1 GiB over loopback through a copier, median of 5:
//! `cargo run --release -p sock-benches --example copy_splice`; the numbers are in the
//! README's Benchmarks section). It cut the copier's CPU time by 29–46 % but
//! not its wall time clearly (median 4 %, inside the run-to-run noise), and it
//! costs two more fds per direction, a pipe set up per copy and — since a `splice`
//! into a reset connection raises `SIGPIPE` (it passes no `MSG_NOSIGNAL`) — masking
//! the signal around every write. So sock copies in user space, on every platform.

mod copy;
mod idle;
mod pump;

pub use copy::{Copy, CopyBidirectional};

pub use crate::batch::Datagram;
pub use crate::half::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use crate::opt::{OptValue, option_names};
pub use crate::recv_flags::RecvFlags;

use crate::tcp::Tcp;

/// The bytes a [`copy_bidirectional`] moved each way.
///
/// # Examples
///
/// See [`copy_bidirectional`].
#[derive(Clone, std::marker::Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Copied {
    /// Bytes read from `a` and written to `b`.
    pub a_to_b: u64,
    /// Bytes read from `b` and written to `a`.
    pub b_to_a: u64,
}

/// Something [`copy`] reads from: a stream ([`Tcp`], TCP or unix) or its read half.
///
/// # Examples
///
/// See [`copy`].
pub trait Reader: sealed::Stream {}

/// Something [`copy`] writes to: a stream ([`Tcp`], TCP or unix) or its write half.
///
/// # Examples
///
/// See [`copy`].
pub trait Writer: sealed::Stream {}

impl Reader for Tcp {}
impl Reader for ReadHalf<'_> {}
impl Reader for OwnedReadHalf {}
impl Writer for Tcp {}
impl Writer for WriteHalf<'_> {}
impl Writer for OwnedWriteHalf {}

/// Copies every byte `reader` receives to `writer` until `reader`'s EOF, then shuts
/// `writer`'s writing direction down (the EOF forwarded; [`keep_open`](Copy::keep_open)
/// leaves it open); returns the bytes copied.
///
/// # Errors
///
/// Either side's error, normalized, with [`Error::transferred`](crate::Error::transferred)
/// the bytes written: e.g. [`ConnectionReset`](crate::ErrorKind::ConnectionReset),
/// [`NotConnected`](crate::ErrorKind::NotConnected) for a socket that is not connected,
/// [`Closed`](crate::ErrorKind::Closed), [`Timeout`](crate::ErrorKind::Timeout) from a
/// deadline or the [idle timeout](Copy::idle_timeout).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{Expires, Family};
///
/// sock::run(async {
///     let (client, upstream) = (pair().await?, pair().await?);
///     client.0.send(b"hello").await?;
///     client.0.shutdown(sock::Shutdown::Write)?;
///     let (r, _) = client.1.split(); // a read half works as well as the socket
///     let mut copy = sock::io::copy(&r, &upstream.0).buffer_size(4096);
///     let n = (&mut copy).timeout(Duration::from_secs(5)).await?;
///     assert_eq!((n, copy.copied()), (5, 5));
///     assert_eq!(upstream.1.recvall().await?, b"hello"); // then the forwarded EOF
///     Ok::<(), sock::Error>(())
/// })?;
/// # async fn pair() -> sock::Result<(sock::Tcp, sock::Tcp)> {
/// #     let l = sock::tcp(Family::INET)?;
/// #     l.listen("127.0.0.1", 0)?;
/// #     let c = sock::tcp(Family::INET)?;
/// #     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
/// #     Ok((c, l.accept().await?))
/// # }
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "tokio::io::copy")]
pub fn copy<'a, R, W>(reader: &'a R, writer: &'a W) -> Copy<'a>
where
    R: Reader + ?Sized,
    W: Writer + ?Sized,
{
    Copy::new(reader.tcp().core(), writer.tcp().core())
}

/// Copies both ways between `a` and `b` until each has sent its EOF: what `a` receives
/// goes to `b` and back. An EOF from one side becomes `shutdown(Write)` on the other,
/// and the other direction keeps flowing until its own EOF; returns the bytes moved
/// each way.
///
/// # Errors
///
/// The first error of either side, normalized, with a context naming the direction and
/// the step (`copy a->b: recv`) and [`Error::transferred`](crate::Error::transferred)
/// the bytes moved both ways; await the copy through `&mut` to read
/// [`copied`](CopyBidirectional::copied) each way. Kinds as for [`copy`].
///
/// # Panics
///
/// If `a` and `b` are the same socket: a copy needs two.
///
/// # Examples
///
/// A proxy's session: the client's bytes to the server and back, ending when nothing
/// moves for 30 s.
///
/// ```
/// use std::time::Duration;
/// use sock::{Family, Shutdown};
///
/// sock::run(async {
///     let (client, proxy_side) = pair().await?;
///     let (upstream, server) = pair().await?;
///     sock::thread(async move {
///         let request = server.recvall().await?; // until the forwarded EOF
///         server.send(&request).await?;
///         server.shutdown(Shutdown::Write)
///     });
///     client.send(b"ping").await?;
///     client.shutdown(Shutdown::Write)?;
///     let copied = sock::io::copy_bidirectional(&proxy_side, &upstream)
///         .idle_timeout(Duration::from_secs(30))
///         .await?;
///     assert_eq!((copied.a_to_b, copied.b_to_a), (4, 4));
///     assert_eq!(client.recvall().await?, b"ping");
///     Ok::<(), sock::Error>(())
/// })?;
/// # async fn pair() -> sock::Result<(sock::Tcp, sock::Tcp)> {
/// #     let l = sock::tcp(Family::INET)?;
/// #     l.listen("127.0.0.1", 0)?;
/// #     let c = sock::tcp(Family::INET)?;
/// #     c.connect("127.0.0.1", l.local_addr()?.port()).await?;
/// #     Ok((c, l.accept().await?))
/// # }
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "tokio::io::copy_bidirectional")]
pub fn copy_bidirectional<'a>(a: &'a Tcp, b: &'a Tcp) -> CopyBidirectional<'a> {
    assert!(
        !std::ptr::eq(a.core(), b.core()),
        "sock::io::copy_bidirectional(a, b) needs two different sockets; \
         to echo one socket, use sock::io::copy(&r, &w) on its split() halves"
    );
    CopyBidirectional::new(a.core(), b.core())
}

/// The trait behind [`Reader`] and [`Writer`], out of other crates' reach.
mod sealed {
    use crate::half::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
    use crate::tcp::Tcp;

    /// A stream socket or a view of one.
    #[allow(unreachable_pub)] // public only as the bound of the public traits
    pub trait Stream {
        /// The socket.
        fn tcp(&self) -> &Tcp;
    }

    impl Stream for Tcp {
        fn tcp(&self) -> &Tcp {
            self
        }
    }

    /// `Stream` for the halves, which are views of their socket.
    macro_rules! half {
        ($($ty:ty),*) => {$(
            impl Stream for $ty {
                fn tcp(&self) -> &Tcp {
                    self.as_tcp()
                }
            }
        )*};
    }

    half!(ReadHalf<'_>, WriteHalf<'_>, OwnedReadHalf, OwnedWriteHalf);
}

//! The echo service behind `echo_server` and `echo_client`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::{Expires, Tcp};

/// Accepts connections forever, one thread each, echoing what arrives. Errors of one
/// connection do not stop it (see [`crate::serve::accept_loop`]). The connections
/// share one pool of read buffers ([`BufPool`]).
///
/// # Errors
///
/// The first fatal accept error (e.g. the listener was closed).
pub async fn serve(listener: Tcp) -> sock::Result<()> {
    let pool = Rc::new(BufPool::default());
    crate::serve::accept_loop(listener, move |conn| serve_conn_with(conn, pool.clone())).await
}

/// Echoes one connection until the peer closes, with `TCP_NODELAY` on, with a pool of
/// its own (see [`serve_conn_with`]).
pub async fn serve_conn(conn: Tcp) {
    serve_conn_with(conn, Rc::new(BufPool::default())).await;
}

/// Echoes one connection until the peer closes, with `TCP_NODELAY` on. An idle
/// connection holds no buffer: it waits with [`Tcp::readable`] and borrows one from
/// `pool` only while it reads ([`Tcp::try_recv`]: the wait is done, so no operation
/// future is needed) and writes back ([`Tcp::send`], which also spends the loop's
/// fairness budget). A read that filled the buffer reads again at once (more is likely
/// queued: asking `readable` first would cost a peek).
pub async fn serve_conn_with(conn: Tcp, pool: Rc<BufPool>) {
    let _ = conn.set_nodelay(true);
    let mut full = false;
    while full || conn.readable().await.is_ok() {
        let mut buf = pool.take();
        let (done, n) = match conn.try_recv(&mut buf[..]) {
            Ok(0) => (true, 0),
            Ok(n) => (conn.send(&buf[..n]).await.is_err(), n),
            // `readable` was a hint (or the last read filled the buffer): wait again.
            Err(e) if e.kind() == sock::ErrorKind::WouldBlock => (false, 0),
            Err(_) => (true, 0),
        };
        full = n == buf.len();
        pool.give(buf);
        if done {
            break;
        }
    }
}

/// Read buffers shared by the connections of one loop: a connection borrows one only
/// while it reads and writes back, so idle connections hold none.
///
/// # Examples
///
/// ```
/// let pool = sock_examples::echo::BufPool::default();
/// let buf = pool.take();
/// assert_eq!(buf.len(), 64 * 1024);
/// pool.give(buf); // the next take reuses it
/// ```
#[derive(Default)]
pub struct BufPool {
    /// The buffer given back last: a loop serves one connection at a time, so a take
    /// usually finds it here, with no `RefCell` and no `Vec` to touch.
    spare: Cell<Option<Buf>>,
    /// The others, when several connections hold one at once (each parks in `send`).
    free: RefCell<Vec<Buf>>,
}

/// The size of each buffer of a [`BufPool`].
pub const BUF_SIZE: usize = 64 * 1024;

/// A buffer of a [`BufPool`]: one pointer to move in and out of the pool.
pub type Buf = Box<[u8; BUF_SIZE]>;

impl std::fmt::Debug for BufPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spare = self.spare.take();
        let kept = usize::from(spare.is_some()) + self.free.borrow().len();
        self.spare.set(spare);
        f.debug_struct("BufPool").field("kept", &kept).finish()
    }
}

impl BufPool {
    /// The most buffers kept (the spare one and the list).
    const KEEP: usize = 64;

    /// A buffer from the pool, or a new one.
    #[inline]
    pub fn take(&self) -> Buf {
        match self.spare.take() {
            Some(buf) => buf,
            None => self.take_listed(),
        }
    }

    /// Gives a buffer back (the pool keeps at most 64).
    #[inline]
    pub fn give(&self, buf: Buf) {
        if let Some(other) = self.spare.replace(Some(buf)) {
            self.give_listed(other);
        }
    }

    /// A buffer from the list, or a new one.
    #[cold]
    fn take_listed(&self) -> Buf {
        let buf = self.free.borrow_mut().pop();
        buf.unwrap_or_else(|| Box::new([0; BUF_SIZE]))
    }

    /// Keeps `buf` in the list unless it is full.
    #[cold]
    fn give_listed(&self, buf: Buf) {
        let mut free = self.free.borrow_mut();
        if free.len() < Self::KEEP - 1 {
            free.push(buf);
        }
    }
}

/// Echoes every datagram back to its sender, until the socket is closed. Its buffer
/// holds any UDP datagram ([`crate::udp::MAX_DATAGRAM`]); an error that concerns one
/// datagram is skipped ([`crate::udp::skip_or_stop`]).
///
/// # Errors
///
/// The receive or send error that ended the loop.
pub async fn serve_udp(socket: sock::Udp) -> sock::Result<()> {
    let mut buf = vec![0u8; crate::udp::MAX_DATAGRAM];
    loop {
        let echoed = match socket.recv_from(&mut buf).await {
            Ok((n, from)) => socket.send_to(&buf[..n], &from).await.map(drop),
            Err(e) => Err(e),
        };
        if let Err(e) = echoed {
            crate::udp::skip_or_stop(e)?;
        }
    }
}

/// [`serve_udp`] with batched I/O: up to 32 datagrams per `recvmmsg`, echoed with
/// `sendmmsg` (one datagram per call where the OS has no batch calls). Each of the 32
/// buffers holds any UDP datagram (2 MiB in all), so every datagram is echoed whole; a
/// datagram flagged truncated all the same is reported and not echoed, never echoed
/// cut.
///
/// # Errors
///
/// The receive or send error that ended the loop.
pub async fn serve_udp_batched(socket: sock::Udp) -> sock::Result<()> {
    let mut batch = vec![sock::io::Datagram::with_capacity(crate::udp::MAX_DATAGRAM); 32];
    loop {
        match socket.recv_batch(&mut batch).await {
            Ok(n) => echo_batch(&socket, &batch[..n]).await?,
            Err(e) => crate::udp::skip_or_stop(e)?,
        }
    }
}

/// Echoes the datagrams of `batch` to their senders, as many per call as the socket
/// takes; skips a truncated one and one whose send fails for that datagram alone.
async fn echo_batch(socket: &sock::Udp, batch: &[sock::io::Datagram]) -> sock::Result<()> {
    let mut next = 0;
    while let Some(rest) = batch.get(next..).filter(|rest| !rest.is_empty()) {
        let whole = rest.iter().take_while(|d| !d.is_truncated()).count();
        if whole == 0 {
            eprintln!(
                "datagram skipped: truncated to {} bytes",
                rest[0].data().len()
            );
            next += 1;
            continue;
        }
        match socket.send_batch(&rest[..whole]).await {
            Ok(sent) => next += sent,
            Err(e) => {
                crate::udp::skip_or_stop(e)?;
                next += 1;
            }
        }
    }
    Ok(())
}

/// Sends `count` messages of `size` bytes one at a time, checking each echo; returns
/// the mean round trip.
///
/// # Errors
///
/// Connect, send or receive errors, or [`sock::ErrorKind::Timeout`] after 5 s of silence.
///
/// # Panics
///
/// If an echo differs from what was sent.
pub async fn client(host: &str, port: u16, count: u32, size: usize) -> sock::Result<Duration> {
    let family = if host.contains(':') {
        sock::Family::INET6
    } else {
        sock::Family::INET
    };
    let conn = sock::tcp(family)?;
    conn.connect(host, port)
        .timeout(Duration::from_secs(5))
        .await?;
    conn.set_nodelay(true)?;
    let mut msg = vec![0u8; size];
    let mut back = vec![0u8; size];
    let start = Instant::now();
    for i in 0..count {
        msg.iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (i as usize + j) as u8);
        conn.send(&msg).await?;
        conn.recvn(&mut back)
            .timeout(Duration::from_secs(5))
            .await?;
        assert_eq!(msg, back, "echo differs at message {i}");
    }
    Ok(start.elapsed() / count.max(1))
}

//! The same workloads on tokio: each in one `current_thread` runtime with I/O and time
//! enabled, its setup before the loop of iterations and its teardown after.

use std::hint::black_box;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::timeout;

use crate::{FAR, MSG, poll_once};

/// Runs `fut` on a fresh current-thread runtime; a workload that fails is a broken
/// benchmark.
fn run(fut: impl Future<Output = io::Result<()>>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(fut).expect("tokio workload");
}

/// An error for a deadline that passed (none should: they are an hour away).
fn timed_out(_: tokio::time::error::Elapsed) -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

/// A listener on an ephemeral loopback port, and its address.
async fn listener() -> io::Result<(TcpListener, SocketAddr)> {
    let server = TcpListener::bind("127.0.0.1:0").await?;
    let addr = server.local_addr()?;
    Ok((server, addr))
}

/// A connected client and the server's side of it, both with `TCP_NODELAY`.
async fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let (server, addr) = listener().await?;
    let client = TcpStream::connect(addr).await?;
    let (conn, _) = server.accept().await?;
    client.set_nodelay(true)?;
    conn.set_nodelay(true)?;
    Ok((client, conn))
}

/// Echoes what `conn` receives until the peer closes, each call with a deadline when
/// `deadline` is set.
async fn serve(mut conn: TcpStream, deadline: bool) -> io::Result<()> {
    let mut buf = [0u8; 64];
    loop {
        let n = match deadline {
            true => timeout(FAR, conn.read(&mut buf))
                .await
                .map_err(timed_out)??,
            false => conn.read(&mut buf).await?,
        };
        if n == 0 {
            return Ok(());
        }
        match deadline {
            true => timeout(FAR, conn.write_all(&buf[..n]))
                .await
                .map_err(timed_out)??,
            false => conn.write_all(&buf[..n]).await?,
        }
    }
}

/// 64-byte TCP echo round trips, client and server tasks on one runtime.
pub(crate) fn echo(iters: u64) {
    run(echo_loop(iters, false));
}

/// The echo with a deadline on every call (`tokio::time::timeout`).
pub(crate) fn echo_timeout(iters: u64) {
    run(echo_loop(iters, true));
}

/// `iters` echo round trips, with deadlines when `deadline` is set.
async fn echo_loop(iters: u64, deadline: bool) -> io::Result<()> {
    let (mut client, conn) = pair().await?;
    let server = tokio::spawn(serve(conn, deadline));
    let mut buf = [0u8; 64];
    for _ in 0..iters {
        if deadline {
            timeout(FAR, client.write_all(&MSG))
                .await
                .map_err(timed_out)??;
            timeout(FAR, client.read_exact(&mut buf))
                .await
                .map_err(timed_out)??;
        } else {
            client.write_all(&MSG).await?;
            client.read_exact(&mut buf).await?;
        }
    }
    drop(client);
    server.await.expect("the server task ends")
}

/// A connect to a listener and the accept of it; both sockets closed.
pub(crate) fn accept_connect(iters: u64) {
    run(async {
        let (server, addr) = listener().await?;
        for _ in 0..iters {
            let client = TcpStream::connect(addr).await?;
            drop(black_box(server.accept().await?));
            drop(client);
        }
        Ok(())
    });
}

/// Two bound UDP sockets, the second connected to the first.
async fn udp_pair() -> io::Result<(UdpSocket, UdpSocket)> {
    let a = UdpSocket::bind("127.0.0.1:0").await?;
    let b = UdpSocket::bind("127.0.0.1:0").await?;
    b.connect(a.local_addr()?).await?;
    Ok((a, b))
}

/// A 64-byte datagram sent and received.
pub(crate) fn udp(iters: u64) {
    run(async {
        let (a, b) = udp_pair().await?;
        let mut buf = [0u8; 64];
        for _ in 0..iters {
            b.send(&MSG).await?;
            black_box(a.recv(&mut buf).await?);
        }
        Ok(())
    });
}

/// A datagram sent, then received within `tokio::time::timeout`: the data is there,
/// so the receive completes at its first poll.
pub(crate) fn udp_timeout_ready(iters: u64) {
    run(async {
        let (a, b) = udp_pair().await?;
        let mut buf = [0u8; 64];
        for _ in 0..iters {
            b.send(&MSG).await?;
            let got = timeout(FAR, a.recv(&mut buf)).await.map_err(timed_out)?;
            black_box(got?);
        }
        Ok(())
    });
}

/// A trivial task spawned and joined.
pub(crate) fn spawn_join(iters: u64) {
    run(async {
        for i in 0..iters {
            let t = tokio::spawn(async move { black_box(i) });
            black_box(t.await.expect("the task ends"));
        }
        Ok(())
    });
}

/// tokio's nearest to resume/transfer: a value sent to a task over an `mpsc` channel,
/// one sent back over a `oneshot`.
pub(crate) fn round_trip(iters: u64) {
    run(async {
        let (requests, mut inbox) =
            tokio::sync::mpsc::unbounded_channel::<(u64, tokio::sync::oneshot::Sender<u64>)>();
        let worker = tokio::spawn(async move {
            while let Some((x, reply)) = inbox.recv().await {
                let _ = reply.send(x + 1);
            }
        });
        let mut x = 0u64;
        for _ in 0..iters {
            let (reply, answer) = tokio::sync::oneshot::channel();
            requests.send((x, reply)).expect("the worker runs");
            x = answer.await.expect("the worker replies");
        }
        black_box(x);
        drop(requests);
        worker.await.expect("the worker ends");
        Ok(())
    });
}

/// A `tokio::time::sleep` created, polled once (which registers it) and dropped.
/// `unconstrained`: past tokio's budget of 128 polls per task poll, a poll would
/// return at once without registering the timer.
pub(crate) fn sleep_poll_drop(iters: u64) {
    run(tokio::task::unconstrained(async move {
        for _ in 0..iters {
            let _ = black_box(poll_once(tokio::time::sleep(FAR)));
        }
        Ok(())
    }));
}

/// `tokio::net::lookup_host` of a numeric address.
pub(crate) fn lookup_numeric(iters: u64) {
    run(async {
        for _ in 0..iters {
            let mut addrs = tokio::net::lookup_host(black_box("127.0.0.1:80")).await?;
            black_box(addrs.next());
        }
        Ok(())
    });
}

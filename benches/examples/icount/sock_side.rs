//! The workloads on sock: each is one `sock::run` (or, for `resume`, one loop driven
//! from outside), with its setup before the loop of iterations and its teardown after.

use std::hint::black_box;

use sock::{Expires, Family, SockAddr, Tcp, Udp, io::Datagram};

use crate::{FAR, MSG, poll_once};

/// Runs `fut` on this thread's loop; a workload that fails is a broken benchmark.
fn run(fut: impl Future<Output = sock::Result<()>>) {
    sock::run(fut).expect("sock workload");
}

/// A listener on an ephemeral loopback port, and its address.
fn listener() -> sock::Result<(Tcp, SockAddr)> {
    let server = sock::tcp(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let addr = server.local_addr()?;
    Ok((server, addr))
}

/// A connected client and the server's side of it, both with `TCP_NODELAY`.
async fn pair() -> sock::Result<(Tcp, Tcp)> {
    let (server, addr) = listener()?;
    let client = sock::tcp(Family::INET)?;
    client.connect_to(&addr).await?;
    let conn = server.accept().await?;
    client.set_nodelay(true)?;
    conn.set_nodelay(true)?;
    Ok((client, conn))
}

/// Echoes what `conn` receives until the peer closes, each call with a deadline when
/// `deadline` is set.
async fn serve(conn: Tcp, deadline: bool) -> sock::Result<()> {
    let mut buf = [0u8; 64];
    loop {
        let n = match deadline {
            true => conn.recv(&mut buf).timeout(FAR).await?,
            false => conn.recv(&mut buf).await?,
        };
        if n == 0 {
            return Ok(());
        }
        match deadline {
            true => conn.send(&buf[..n]).timeout(FAR).await?,
            false => conn.send(&buf[..n]).await?,
        }
    }
}

/// 64-byte TCP echo round trips, client and server tasks on one loop.
pub(crate) fn echo(iters: u64) {
    run(echo_loop(iters, false));
}

/// The echo with a deadline on every call: the receives park, so each creates and
/// cancels a timer.
pub(crate) fn echo_timeout(iters: u64) {
    run(echo_loop(iters, true));
}

/// `iters` echo round trips, with deadlines when `deadline` is set.
async fn echo_loop(iters: u64, deadline: bool) -> sock::Result<()> {
    let (client, conn) = pair().await?;
    let server = sock::thread(serve(conn, deadline));
    let mut buf = [0u8; 64];
    for _ in 0..iters {
        if deadline {
            client.send(&MSG).timeout(FAR).await?;
            client.recvn(&mut buf).timeout(FAR).await?;
        } else {
            client.send(&MSG).await?;
            client.recvn(&mut buf).await?;
        }
    }
    client.close()?;
    server.join().await.expect("the server task ends")
}

/// A connect to a listener and the accept of it; both sockets closed.
pub(crate) fn accept_connect(iters: u64) {
    run(async {
        let (server, addr) = listener()?;
        for _ in 0..iters {
            let client = sock::tcp(Family::INET)?;
            client.connect_to(&addr).await?;
            drop(black_box(server.accept().await?));
        }
        Ok(())
    });
}

/// Two bound UDP sockets, the second connected to the first.
fn udp_pair() -> sock::Result<(Udp, Udp)> {
    let a = sock::udp(Family::INET)?;
    a.bind("127.0.0.1", 0)?;
    let b = sock::udp(Family::INET)?;
    b.bind("127.0.0.1", 0)?;
    b.connect_to(&a.local_addr()?)?;
    Ok((a, b))
}

/// A 64-byte datagram sent and received.
pub(crate) fn udp(iters: u64) {
    run(async {
        let (a, b) = udp_pair()?;
        let mut buf = [0u8; 64];
        for _ in 0..iters {
            b.send(&MSG).await?;
            black_box(a.recv(&mut buf).await?);
        }
        Ok(())
    });
}

/// A datagram sent, then received with a deadline: the data is there, so the receive
/// completes without parking and no timer is made.
pub(crate) fn udp_timeout_ready(iters: u64) {
    run(async {
        let (a, b) = udp_pair()?;
        let mut buf = [0u8; 64];
        for _ in 0..iters {
            b.send(&MSG).await?;
            black_box(a.recv(&mut buf).timeout(FAR).await?);
        }
        Ok(())
    });
}

/// 32 datagrams sent with `send_batch` and received with `recv_batch`.
pub(crate) fn udp_batch(iters: u64) {
    run(async {
        let (a, b) = udp_pair()?;
        let to = a.local_addr()?;
        let mut out = vec![Datagram::with_capacity(64); 32];
        out.iter_mut().for_each(|d| d.set(&MSG, to.clone()));
        let mut inbox = vec![Datagram::with_capacity(64); 32];
        for _ in 0..iters {
            let mut sent = 0;
            while sent < out.len() {
                sent += b.send_batch(&out[sent..]).await?;
            }
            let mut got = 0;
            while got < inbox.len() {
                got += a.recv_batch(&mut inbox[got..]).await?;
            }
        }
        Ok(())
    });
}

/// A trivial task spawned and joined.
pub(crate) fn spawn_join(iters: u64) {
    run(async {
        for i in 0..iters {
            let t = sock::spawn(async move { black_box(i) });
            black_box(t.join().await.expect("the task ends"));
        }
        Ok(())
    });
}

/// A value resumed into a coroutine and one yielded back, from outside any task.
pub(crate) fn resume(iters: u64) {
    let t = sock::task::newthread(async {
        let mut x = sock::task::suspend().await.take::<u64>();
        loop {
            x = sock::task::yield_(x + 1).await.take::<u64>();
        }
    });
    t.resume(());
    let mut x = 0u64;
    for _ in 0..iters {
        x = t.resume(x).take::<u64>();
    }
    black_box(x);
}

/// A value transferred to a coroutine and one transferred back, inside the loop.
pub(crate) fn transfer(iters: u64) {
    run(async move {
        let me = sock::current();
        let echo = sock::task::newthread(async move {
            let mut x = sock::task::suspend().await.take::<u64>();
            loop {
                x = sock::task::transfer(&me, x + 1).await.take::<u64>();
            }
        });
        echo.resume(());
        let mut x = 0u64;
        for _ in 0..iters {
            x = sock::task::transfer(&echo, x).await.take::<u64>();
        }
        black_box(x);
        Ok(())
    });
}

/// A callback timer armed and cancelled.
pub(crate) fn run_after_cancel(iters: u64) {
    run(async {
        for _ in 0..iters {
            black_box(sock::time::run_after(FAR, || {})).cancel();
        }
        Ok(())
    });
}

/// A `Sleep` created, polled once (which arms it) and dropped.
pub(crate) fn sleep_poll_drop(iters: u64) {
    run(async {
        for _ in 0..iters {
            let _ = black_box(poll_once(sock::sleep(FAR)));
        }
        Ok(())
    });
}

/// `sock::addr::lookup` of a numeric host.
pub(crate) fn lookup_numeric(iters: u64) {
    let hints = sock::addr::Hints::tcp();
    for _ in 0..iters {
        let list = sock::addr::lookup(black_box("127.0.0.1"), 80, &hints);
        black_box(list.expect("numeric lookup").len());
    }
}

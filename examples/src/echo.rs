//! The echo service behind `echo_server` and `echo_client`.

use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Tcp};

/// Accepts connections forever, one thread each, echoing what arrives. Under
/// `EMFILE` (out of fds) sock has already refused the pending connection; the loop
/// backs off 10 ms instead of spinning.
///
/// # Errors
///
/// An accept error other than running out of fds (e.g. the listener was closed).
pub async fn serve(listener: Tcp) -> sock::Result<()> {
    loop {
        match listener.accept().await {
            Ok(conn) => {
                sock::thread(serve_conn(conn));
            }
            Err(e) if e.kind() == ErrorKind::TooManyOpenFiles => {
                sock::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Echoes one connection until the peer closes, with `TCP_NODELAY` on.
pub async fn serve_conn(conn: Tcp) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match conn.recv(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.send(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Sends `count` messages of `size` bytes one at a time, checking each echo; returns
/// the mean round trip.
///
/// # Errors
///
/// Connect, send or receive errors, or [`ErrorKind::Timeout`] after 5 s of silence.
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

//! UDP request/response with deadlines: a server that answers each datagram, and a
//! client that retries a lost request.

use std::time::Duration;

use sock::{Expires, Family, Udp};

/// Answers every datagram with its bytes reversed, until the socket is closed.
///
/// # Errors
///
/// The receive error that ended the loop (e.g. [`sock::ErrorKind::Closed`]).
pub async fn serve(socket: Udp) -> sock::Result<()> {
    let mut buf = [0u8; 2048];
    loop {
        let (n, from) = socket.recvnext(&mut buf).await?;
        buf[..n].reverse();
        socket.sendto_addr(&from, &buf[..n]).await?;
    }
}

/// Sends `request` to `host:port` and waits `wait` for the answer, up to `tries` times.
///
/// # Errors
///
/// [`sock::ErrorKind::Timeout`] when every try went unanswered.
pub async fn request(
    host: &str,
    port: u16,
    request: &[u8],
    wait: Duration,
    tries: u32,
) -> sock::Result<Vec<u8>> {
    let socket = sock::udp(Family::INET)?;
    socket.connect(host, port).await?;
    let mut buf = [0u8; 2048];
    let mut last = sock::Error::from(sock::ErrorKind::Timeout);
    for _ in 0..tries {
        socket.send(request).await?;
        match socket.recv(&mut buf).timeout(wait).await {
            Ok(n) => return Ok(buf[..n].to_vec()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

//! UDP request/response with deadlines: a server that answers each datagram, and a
//! client that retries a lost request.
//!
//! A UDP server must outlive any one datagram: [`serve`] receives into a buffer that
//! holds the largest UDP datagram there is ([`MAX_DATAGRAM`]), and both it and the
//! echo servers of [`crate::echo`] skip, with a line on stderr, what concerns one
//! datagram only ([`skip_or_stop`]: one longer than a smaller buffer, a sender that
//! cannot be answered) instead of ending on it.

use std::time::Duration;

use sock::{ErrorKind, Expires, Family, Udp};

/// A buffer size that never truncates a UDP datagram: the 16-bit UDP length leaves at
/// most 65,507 bytes of payload over IPv4 and 65,527 over IPv6.
pub const MAX_DATAGRAM: usize = 65_536;

/// Answers every datagram with its bytes reversed, until the socket is closed.
///
/// # Errors
///
/// The error that ended the loop (e.g. [`sock::ErrorKind::Closed`]); never one that
/// concerns a single datagram (see [`skip_or_stop`]).
pub async fn serve(socket: Udp) -> sock::Result<()> {
    serve_with_buffer(socket, MAX_DATAGRAM).await
}

/// [`serve`] receiving into `size` bytes: a longer datagram is cut by the OS (sock
/// reports [`ErrorKind::MessageTooLong`]), so it is skipped, unanswered.
///
/// # Errors
///
/// As [`serve`].
pub async fn serve_with_buffer(socket: Udp, size: usize) -> sock::Result<()> {
    let mut buf = vec![0u8; size];
    loop {
        if let Err(e) = answer_one(&socket, &mut buf).await {
            skip_or_stop(e)?;
        }
    }
}

/// Receives one datagram and sends it back to its sender reversed.
async fn answer_one(socket: &Udp, buf: &mut [u8]) -> sock::Result<()> {
    let (n, from) = socket.recv_from(buf).await?;
    buf[..n].reverse();
    socket.send_to(&buf[..n], &from).await?;
    Ok(())
}

/// What a datagram server does after `e`: goes on (`Ok`, with a line on stderr) when
/// `e` concerns one datagram — [`ErrorKind::MessageTooLong`] (longer than the buffer;
/// its sender is not known), an answer that cannot reach its sender (refused, reset,
/// unreachable, not allowed, a bad address) or a send the kernel had no buffer for;
/// stops (`Err(e)`) on anything else.
///
/// # Errors
///
/// `e` itself, when the socket is done (closed, or a failure of the socket itself).
///
/// # Examples
///
/// ```
/// use sock::ErrorKind;
/// use sock_examples::udp::skip_or_stop;
///
/// assert!(skip_or_stop(ErrorKind::MessageTooLong.into()).is_ok());
/// assert_eq!(skip_or_stop(ErrorKind::Closed.into()).unwrap_err().kind(), ErrorKind::Closed);
/// ```
pub fn skip_or_stop(e: sock::Error) -> sock::Result<()> {
    use ErrorKind::*;
    match e.kind() {
        MessageTooLong | ConnectionRefused | ConnectionReset | NetworkUnreachable
        | HostUnreachable | AccessDenied | AddressNotAvailable | InvalidInput | OutOfMemory => {
            eprintln!("datagram skipped: {e}");
            Ok(())
        }
        _ => Err(e),
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
    let mut buf = vec![0u8; MAX_DATAGRAM];
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

//! A line protocol on tokio-util's codecs: `Framed<Tcp, LinesCodec>` over sock's
//! `tokio-io` adapter. Each line is a command, answered with one line, in order:
//! `PING` → `PONG`, `ECHO text` → `text`, anything else → `ERR unknown command`.
//!
//! Lines end with `\n` (a `\r` before it is dropped) and must be valid UTF-8; a line
//! the client cut off by closing its sending side still counts (LinesCodec's
//! `decode_eof`). A line longer than the session's maximum is answered with
//! `ERR line too long` and ends the session: the server shuts its sending side down,
//! then reads and drops what the client still sends for up to [`LINGER`] before closing,
//! so the client reads the error rather than a reset (a socket closed with unread input
//! sends RST, and the peer may lose the bytes it had not read yet). A session waits at
//! most [`IDLE`] for a line. Errors of one session are printed to stderr and never stop
//! the server.
//!
//! `Framed` is a `futures_core::Stream` of lines and a `futures_sink::Sink` of replies;
//! [`next_line`] and [`send_line`] drive those traits with [`std::future::poll_fn`]
//! (futures-util's `StreamExt`/`SinkExt` would do the same).

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use sock::{ErrorKind, Shutdown, Tcp};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

/// How long a session waits for the client's next line.
pub const IDLE: Duration = Duration::from_secs(60);

/// How long a session ended by an over-long line drains the client's input.
pub const LINGER: Duration = Duration::from_secs(5);

/// A connection framed into lines.
pub type Lines = Framed<Tcp, LinesCodec>;

/// Accepts connections forever, serving each in a thread of its own (see
/// [`crate::serve::accept_loop`]); lines longer than `max_line` bytes end a session.
///
/// # Errors
///
/// The first fatal accept error (e.g. the listener was closed).
pub async fn serve(listener: Tcp, max_line: usize) -> sock::Result<()> {
    crate::serve::accept_loop(listener, move |conn| async move {
        let peer = conn.remote_addr().map(|a| a.to_string());
        if let Err(e) = session(conn, max_line).await {
            eprintln!("codec: {}: {e}", peer.as_deref().unwrap_or("?"));
        }
    })
    .await
}

/// Answers each line of `conn` until the client closes; returns the lines answered.
///
/// # Errors
///
/// [`ErrorKind::MessageTooLong`] after a line longer than `max_line` (answered
/// `ERR line too long`), [`ErrorKind::Timeout`] after [`IDLE`] without a line, or the
/// connection's (a reset; [`ErrorKind::Other`] for input that is not UTF-8).
pub async fn session(conn: Tcp, max_line: usize) -> sock::Result<u64> {
    let mut lines = Framed::new(conn, LinesCodec::new_with_max_length(max_line));
    let mut answered = 0;
    loop {
        let next = sock::timeout(IDLE, async { Ok(next_line(&mut lines).await) }).await?;
        match next {
            None => return Ok(answered),
            Some(Ok(line)) => send_line(&mut lines, &reply(&line)).await?,
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => return too_long(lines).await,
            Some(Err(e)) => return Err(codec_error(e)),
        }
        answered += 1;
    }
}

/// The answer to one command line.
///
/// # Examples
///
/// ```
/// use sock_examples::codec::reply;
///
/// assert_eq!(reply("PING"), "PONG");
/// assert_eq!(reply("ECHO hello world"), "hello world");
/// assert_eq!(reply("ping"), "ERR unknown command");
/// ```
pub fn reply(line: &str) -> String {
    match line.split_once(' ') {
        _ if line == "PING" => "PONG".to_owned(),
        _ if line == "ECHO" => String::new(),
        Some(("ECHO", text)) => text.to_owned(),
        _ => "ERR unknown command".to_owned(),
    }
}

/// The next line of `lines`: `None` at the end of the input.
pub async fn next_line(lines: &mut Lines) -> Option<Result<String, LinesCodecError>> {
    poll_fn(|cx| Pin::new(&mut *lines).poll_next(cx)).await
}

/// Sends `line` (and its `\n`) on `lines` and flushes it.
///
/// # Errors
///
/// The connection's.
pub async fn send_line(lines: &mut Lines, line: &str) -> sock::Result<()> {
    poll_fn(|cx| Sink::<&str>::poll_ready(Pin::new(&mut *lines), cx))
        .await
        .map_err(codec_error)?;
    Pin::new(&mut *lines)
        .start_send(line)
        .map_err(codec_error)?;
    poll_fn(|cx| Sink::<&str>::poll_flush(Pin::new(&mut *lines), cx))
        .await
        .map_err(codec_error)
}

/// Ends a session whose client sent an over-long line: the error reply, the end of
/// sending, and the client's remaining input drained for up to [`LINGER`].
async fn too_long(mut lines: Lines) -> sock::Result<u64> {
    send_line(&mut lines, "ERR line too long").await?;
    let conn = lines.into_inner();
    conn.shutdown(Shutdown::Write)?;
    let _ = sock::timeout(LINGER, drain(&conn)).await; // the verdict is the error below
    Err(sock::Error::new(ErrorKind::MessageTooLong, "line too long"))
}

/// Reads and drops `conn`'s input until its end.
async fn drain(conn: &Tcp) -> sock::Result<()> {
    let mut buf = [0u8; 4096];
    while conn.recv(&mut buf).await? > 0 {}
    Ok(())
}

/// A codec error as a sock error (the I/O error's kind kept).
fn codec_error(e: LinesCodecError) -> sock::Error {
    match e {
        LinesCodecError::Io(e) => e.into(),
        LinesCodecError::MaxLineLengthExceeded => {
            sock::Error::new(ErrorKind::MessageTooLong, "line too long")
        }
    }
}

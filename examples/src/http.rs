//! A minimal HTTP/1.1 server that says hello: keep-alive, pipelining, `Connection:
//! close`, and the graceful close the seed describes (shut down writing, drain, close).

use std::time::Duration;

use sock::{Expires, Shutdown, Tcp};

/// The page every request gets.
pub const BODY: &str = "Hello from sock!\n";

/// Longest request head accepted; longer heads get `431`.
const MAX_HEAD: usize = 16 * 1024;

/// Serves HTTP on `listener` forever, one thread per connection. Errors of one
/// connection do not stop it (see [`crate::serve::accept_loop`]).
///
/// # Errors
///
/// The first fatal accept error (e.g. the listener was closed).
pub async fn serve(listener: Tcp) -> sock::Result<()> {
    crate::serve::accept_loop(listener, serve_conn).await
}

/// Answers the requests of one connection until the client closes or asks to.
pub async fn serve_conn(conn: Tcp) {
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let Some(end) = head_end(&buf) else {
            if buf.len() > MAX_HEAD {
                let _ = conn.send(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n").await;
                break;
            }
            if read_more(&conn, &mut buf).await.is_err() {
                return;
            }
            continue;
        };
        let close = wants_close(&buf[..end]);
        let response = response(close);
        buf.drain(..end);
        if conn.send(response.as_bytes()).await.is_err() || close {
            break;
        }
    }
    graceful_close(&conn).await;
}

/// Reads what is there (up to 4 KiB) onto `buf`; `Err` at EOF or on an error.
async fn read_more(conn: &Tcp, buf: &mut Vec<u8>) -> Result<(), ()> {
    let mut chunk = [0u8; 4096];
    match conn.recv(&mut chunk).timeout(Duration::from_secs(30)).await {
        Ok(0) | Err(_) => Err(()),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}

/// Where the request head ends (after `\r\n\r\n`).
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Whether the request says `Connection: close` (or is HTTP/1.0 without keep-alive).
fn wants_close(head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.contains("\r\nconnection: close")
        || (head.contains(" http/1.0\r\n") && !head.contains("keep-alive"))
}

fn response(close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: {connection}\r\n\r\n{BODY}",
        BODY.len()
    )
}

/// Sends FIN, drains until the client's FIN (at most 1 s), then closes: pipelined
/// requests still in flight never turn the close into a reset.
async fn graceful_close(conn: &Tcp) {
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = [0u8; 1024];
    while let Ok(1..) = conn.recv(&mut sink).timeout(Duration::from_secs(1)).await {}
    let _ = conn.close();
}

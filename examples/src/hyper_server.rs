//! An HTTP server on hyper over sock: HTTP/1.1, and HTTP/2 over cleartext (h2c, prior
//! knowledge) on the same port. `/` says hello, a POST echoes its body, HEAD gets the
//! headers only (hyper drops the body). hyper's header-read timeout runs on
//! [`sock::hyper::Timer`], so a client that trickles its headers is cut off.
//!
//! Each connection is a sock thread. The first bytes decide the protocol: the HTTP/2
//! preface (`PRI * HTTP/2.0…`) goes to hyper's HTTP/2 server, anything that departs
//! from it to HTTP/1.1; the bytes read to decide are replayed to hyper by [`Sniffed`].

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use sock::Tcp;
use sock::hyper::{Executor, Timer};

/// The HTTP/2 connection preface a prior-knowledge client opens with.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves HTTP on `listener` until it fails; `header_timeout` bounds how long a client
/// may take to send a request's headers (HTTP/1.1).
///
/// # Errors
///
/// The first fatal accept error.
pub async fn serve(listener: Tcp, header_timeout: Duration) -> sock::Result<()> {
    crate::serve::accept_loop(listener, move |conn| async move {
        if let Err(e) = connection(conn, header_timeout).await {
            eprintln!("hyper_server: connection: {e}");
        }
    })
    .await
}

/// Serves one connection with the protocol its first bytes ask for.
async fn connection(conn: Tcp, header_timeout: Duration) -> Result<(), hyper::Error> {
    let Ok(io) = sock::timeout(header_timeout, sniff(conn)).await else {
        return Ok(()); // closed, failed or too slow before a protocol was clear
    };
    let service = service_fn(respond);
    if io.is_h2() {
        let mut h2 = http2::Builder::new(Executor);
        h2.timer(Timer);
        h2.serve_connection(io, service).await
    } else {
        let mut h1 = http1::Builder::new();
        h1.timer(Timer).header_read_timeout(header_timeout);
        h1.serve_connection(io, service).await
    }
}

/// Answers one request: hello for GET/HEAD of `/`, the body back for POST, else 404.
async fn respond(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => (StatusCode::OK, Bytes::from("hello world\n")),
        (&Method::POST, _) => match req.into_body().collect().await {
            Ok(body) => (StatusCode::OK, body.to_bytes()),
            Err(_) => (StatusCode::BAD_REQUEST, Bytes::new()),
        },
        _ => (StatusCode::NOT_FOUND, Bytes::from("not found\n")),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    Ok(response)
}

/// A connection with the bytes read to pick its protocol, replayed before the rest.
#[derive(Debug)]
pub struct Sniffed {
    /// The bytes read so far (at most the preface's length).
    head: [u8; 24],
    /// How many of `head` were read.
    len: usize,
    /// How many of those hyper has taken back.
    pos: usize,
    /// The connection.
    conn: Tcp,
}

/// Reads until the bytes depart from the HTTP/2 preface or match all of it.
async fn sniff(conn: Tcp) -> sock::Result<Sniffed> {
    let mut head = [0u8; 24];
    let mut len = 0;
    while len < PREFACE.len() && head[..len] == PREFACE[..len] {
        let n = conn.recv(&mut head[len..]).await?;
        if n == 0 {
            return Err(sock::ErrorKind::Closed.into());
        }
        len += n;
    }
    Ok(Sniffed {
        head,
        len,
        pos: 0,
        conn,
    })
}

impl Sniffed {
    /// Whether the client opened with the HTTP/2 preface.
    fn is_h2(&self) -> bool {
        self.head[..self.len] == PREFACE[..]
    }
}

impl Read for Sniffed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos == this.len {
            return Pin::new(&mut this.conn).poll_read(cx, buf);
        }
        let n = (this.len - this.pos).min(buf.remaining());
        buf.put_slice(&this.head[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl Write for Sniffed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().conn).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_shutdown(cx)
    }
}

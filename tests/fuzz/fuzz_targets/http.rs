//! The HTTP example's request parsing, end to end: `sock_examples::http::serve_conn`
//! serves one loopback connection (a listener created once per process) on which the
//! input is sent as is, followed by a FIN; the client reads until the server closes.
//!
//! The server must answer every complete request head (ended by an empty line) up to
//! and including the first that asks to close — `Connection: close`, or HTTP/1.0
//! without keep-alive — with one `200`, the last of them marked `connection: close`
//! when it was asked for, then close cleanly: no panic, no reset, no hang, no answer to
//! a head cut short by the FIN. Inputs are cut to 16 KiB, the longest head the server
//! accepts, so its `431` never comes into play.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sock::{Expires, Family, Shutdown, SockAddr, Tcp};
use sock_fuzz::PATIENCE;

/// The server's head limit: inputs are cut to it.
const MAX_HEAD: usize = 16 * 1024;

/// The status line of every answer.
const OK: &[u8] = b"HTTP/1.1 200 OK\r\n";

thread_local! {
    static LISTENER: (Tcp, SockAddr) = listener();
}

fuzz_target!(|data: &[u8]| {
    let request = &data[..data.len().min(MAX_HEAD)];
    let (answers, closes) = expected(request);
    let reply = LISTENER.with(|(listener, addr)| sock::run(exchange(listener, addr, request)));
    assert_eq!(
        count(&reply, OK),
        answers,
        "answers to {request:?}: {reply:?}"
    );
    let closing = count(&reply, b"connection: close\r\n");
    assert_eq!(closing, usize::from(closes), "close marks in {reply:?}");
    let body = sock_examples::http::BODY.as_bytes();
    assert!(answers == 0 || reply.ends_with(body), "{reply:?}");
});

/// A listener on an IPv4 loopback port.
fn listener() -> (Tcp, SockAddr) {
    let listener = sock::tcp(Family::INET).expect("a TCP socket");
    listener.listen("127.0.0.1", 0).expect("listen on loopback");
    let addr = listener.local_addr().expect("the listener's address");
    (listener, addr)
}

/// Connects, has `serve_conn` answer on the accepted side, sends `request` and a FIN,
/// and returns everything the server sent until it closed.
async fn exchange(listener: &Tcp, addr: &SockAddr, request: &[u8]) -> Vec<u8> {
    let client = sock::tcp(Family::INET).expect("a TCP socket");
    let connect = client.connect_to(addr);
    connect.timeout(PATIENCE).await.expect("connect");
    let conn = listener.accept().timeout(PATIENCE).await.expect("accept");
    let server = sock::thread(sock_examples::http::serve_conn(conn));
    client
        .send(request)
        .timeout(PATIENCE)
        .await
        .expect("send the request");
    client.shutdown(Shutdown::Write).expect("send a FIN");
    let reply = client
        .recvall()
        .timeout(PATIENCE)
        .await
        .expect("the whole reply");
    server.join().await.expect("serve_conn finished");
    reply
}

/// How many answers `request` must get, and whether the last is marked as closing: one
/// per head, up to the first head that asks to close.
fn expected(request: &[u8]) -> (usize, bool) {
    let mut rest = request;
    let mut answers = 0;
    while let Some(end) = find(rest, b"\r\n\r\n") {
        let head = rest[..end + 4].to_ascii_lowercase();
        answers += 1;
        if asks_to_close(&head) {
            return (answers, true);
        }
        rest = &rest[end + 4..];
    }
    (answers, false)
}

/// Whether a (lower-cased) head asks to close: a `connection: close` header line, or
/// HTTP/1.0 without keep-alive.
fn asks_to_close(head: &[u8]) -> bool {
    let http10 = find(head, b" http/1.0\r\n").is_some();
    find(head, b"\r\nconnection: close").is_some()
        || (http10 && find(head, b"keep-alive").is_none())
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How often `needle` occurs in `haystack` (overlaps counted; the needles here cannot
/// overlap themselves).
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

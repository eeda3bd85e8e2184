//! The codec example's line protocol over real loopback sockets: eight clients at once,
//! each with many pipelined commands answered correctly and in order; an over-long line
//! answered with an error that the client reads (no reset) before the close; a client
//! gone mid-line; and the server serving the next client after each.

use std::thread;
use std::time::Duration;

use sock::{ErrorKind, Expires, Family, Shutdown, Tcp};
use sock_examples::codec;

/// A generous bound that only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// The longest line the servers of these tests accept.
const MAX_LINE: usize = 1024;

/// A listener on an ephemeral loopback port.
fn listener() -> (Tcp, u16) {
    let l = sock_examples::serve::listener("127.0.0.1", 0).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Starts the codec server on an OS thread and loop of its own; returns its port.
fn server_in_a_thread() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        sock::run(async move {
            let (l, port) = listener();
            tx.send(port).unwrap();
            let _ = codec::serve(l, MAX_LINE).await;
        })
    });
    rx.recv().unwrap()
}

/// Accepts one connection on `l` and serves it in a thread of its own; the thread's
/// output is the session's result.
fn serve_one(l: Tcp) -> sock::Thread<sock::Result<u64>> {
    sock::spawn(async move {
        let conn = l.accept().await?;
        codec::session(conn, MAX_LINE).await
    })
}

/// Connects to the loopback `port`.
async fn connect(port: u16) -> Tcp {
    let c = sock::tcp(Family::INET).unwrap();
    c.connect("127.0.0.1", port)
        .timeout(PATIENCE)
        .await
        .unwrap();
    c
}

/// Sends `input`, shuts the sending side down and reads every reply to the end.
async fn exchange(c: &Tcp, input: &[u8]) -> String {
    c.send(input).timeout(PATIENCE).await.unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let all = c.recvall().timeout(PATIENCE).await.unwrap();
    String::from_utf8(all).unwrap()
}

/// Client `id`'s commands, and the replies they must get, in order.
fn script(id: usize, lines: usize) -> (String, String) {
    let (mut input, mut expected) = (String::new(), String::new());
    for i in 0..lines {
        let (line, reply) = match i % 4 {
            0 => ("PING".to_owned(), "PONG".to_owned()),
            1 => (format!("ECHO {id}:{i}"), format!("{id}:{i}")),
            2 => (format!("ECHO  spaced {i}\r"), format!(" spaced {i}")),
            _ => (format!("NOPE {i}"), "ERR unknown command".to_owned()),
        };
        input.push_str(&format!("{line}\n"));
        expected.push_str(&format!("{reply}\n"));
    }
    (input, expected)
}

#[test]
fn eight_clients_at_once_get_every_reply_in_order() {
    let port = server_in_a_thread();
    sock::run(async move {
        let mut set = sock::task::ThreadSet::new();
        for id in 0..8 {
            set.spawn(async move {
                let (input, expected) = script(id, 2_000);
                let c = connect(port).await;
                (id, expected, exchange(&c, input.as_bytes()).await)
            });
        }
        let mut done = 0;
        while let Some(joined) = set.join_next().await {
            let (id, expected, got) = joined.unwrap();
            assert_eq!(got.lines().count(), 2_000, "client {id}");
            assert!(got == expected, "client {id}'s replies differ");
            done += 1;
        }
        assert_eq!(done, 8);
    });
}

/// A line over the maximum: the replies before it arrive, then `ERR line too long`,
/// then the server's end of sending. The server has not read the line's rest, so it
/// reads on until the client's end rather than close at once (a close with unread
/// input is a reset, which may destroy the error reply in flight); the session then
/// reports the long line.
#[test]
fn an_over_long_line_is_answered_with_an_error_and_ends_that_session() {
    sock::run(async {
        let (l, port) = listener();
        let session = serve_one(l);
        let c = connect(port).await;
        let long = format!("ECHO {}\nPING\n", "x".repeat(200_000));
        let input = format!("PING\n{long}");
        c.send(input.as_bytes()).timeout(PATIENCE).await.unwrap();
        let got = c.recvall().timeout(PATIENCE).await.unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), "PONG\nERR line too long\n");
        assert!(!session.is_finished(), "closed before the client's end");
        c.send(b"more, read and dropped\n").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let e = session.join().await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MessageTooLong, "{e}");
    });
}

#[test]
fn after_an_over_long_line_the_next_client_is_served() {
    let port = server_in_a_thread();
    sock::run(async move {
        let c = connect(port).await;
        let long = format!("ECHO {}\n", "y".repeat(MAX_LINE + 1));
        assert_eq!(exchange(&c, long.as_bytes()).await, "ERR line too long\n");
        let next = connect(port).await;
        assert_eq!(exchange(&next, b"ECHO still here\n").await, "still here\n");
    });
}

/// A line cut off by the end of the client's input is still a line (LinesCodec's
/// `decode_eof`): a client that half-closes mid-line gets its answer.
#[test]
fn a_line_cut_off_by_a_half_close_is_answered() {
    let port = server_in_a_thread();
    sock::run(async move {
        let c = connect(port).await;
        assert_eq!(exchange(&c, b"PING\nECHO cut sho").await, "PONG\ncut sho\n");
    });
}

/// A client that goes away mid-line, without reading: its session ends (with or
/// without an error, depending on whether the last reply was sent before the reset)
/// and the next client is served.
#[test]
fn a_client_gone_mid_line_ends_its_session_and_the_next_is_served() {
    sock::run(async {
        let (l, port) = listener();
        let session = serve_one(l);
        let c = connect(port).await;
        c.send(b"PING\nECHO half a li").await.unwrap();
        c.close().unwrap();
        let ended = sock::timeout(PATIENCE, async { Ok(session.join().await) });
        match ended.await.unwrap().unwrap() {
            Ok(answered) => assert!(answered <= 2, "{answered} lines answered"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
    });
    let port = server_in_a_thread();
    sock::run(async move {
        let gone = connect(port).await;
        gone.send(b"ECHO half a li").await.unwrap();
        gone.close().unwrap();
        let next = connect(port).await;
        assert_eq!(exchange(&next, b"PING\n").await, "PONG\n");
    });
}

//! The `proxy` example's forwarder over real loopback sockets: a 5 MB body byte-exact
//! (with sock's client and with curl), 20 downloads at once, an upload and its echo
//! both ways at once, and the connect deadline, idle timeout and refused target.

use std::thread;
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, Shutdown, Tcp};
use sock_examples::proxy::Forwarder;

/// A generous bound that only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// The body of `GET /N`: `N` bytes of a pattern that does not repeat at any small
/// power of two.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 4099) as u8).collect()
}

/// A listener on an ephemeral loopback port.
fn listener() -> (Tcp, u16) {
    let l = sock_examples::serve::listener("127.0.0.1", 0).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// An HTTP-ish download server: `GET /N` is answered with `N` bytes of [`body`], then
/// the connection closes.
async fn download_server(listener: Tcp) -> sock::Result<()> {
    sock_examples::serve::accept_loop(listener, |conn| async move {
        let _ = answer(conn).await;
    })
    .await
}

/// Reads one request head and sends the body it asks for.
async fn answer(conn: Tcp) -> sock::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.recv(&mut buf).timeout(PATIENCE).await? {
            0 => return Ok(()),
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let len: usize = head
        .split_whitespace()
        .nth(1)
        .and_then(|path| path.trim_start_matches('/').parse().ok())
        .unwrap_or(0);
    let status = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    );
    conn.send(status.as_bytes()).await?;
    conn.send(&body(len)).timeout(PATIENCE).await?;
    conn.shutdown(Shutdown::Write)
}

/// A forwarder to `port` with the given deadlines.
fn forwarder(port: u16, connect_ms: u64, idle_ms: u64) -> Forwarder {
    let mut f = Forwarder::new("127.0.0.1", port);
    f.connect_timeout = Duration::from_millis(connect_ms);
    f.idle_timeout = Duration::from_millis(idle_ms);
    f
}

/// Starts a download server and a proxy in front of it on an OS thread of their own;
/// returns the proxy's port.
fn proxied_download_server_in_a_thread() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        sock::run(async move {
            let (upstream, up_port) = listener();
            sock::thread(download_server(upstream));
            let (front, port) = listener();
            tx.send(port).unwrap();
            let _ = forwarder(up_port, 2000, 10_000).serve(front).await;
        })
    });
    rx.recv().unwrap()
}

/// Fetches `GET /len` from `port`; returns the body after checking the head.
async fn download(port: u16, len: usize) -> sock::Result<Vec<u8>> {
    let c = sock::tcp(Family::INET)?;
    c.connect("127.0.0.1", port).timeout(PATIENCE).await?;
    c.send(format!("GET /{len} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await?;
    let all = c.recvall().timeout(PATIENCE).await?;
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&all[..split]);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {len}\r\n")),
        "{head}"
    );
    Ok(all[split..].to_vec())
}

#[test]
fn five_mb_body_arrives_byte_exact() {
    let port = proxied_download_server_in_a_thread();
    sock::run(async move {
        let got = download(port, 5_000_000).await.unwrap();
        assert_eq!(got.len(), 5_000_000);
        assert!(got == body(5_000_000), "the body differs");
    });
}

#[test]
fn twenty_downloads_at_once_arrive_byte_exact() {
    let port = proxied_download_server_in_a_thread();
    sock::run(async move {
        let mut set = sock::task::ThreadSet::new();
        for i in 0..20 {
            let len = 700_000 + i * 10_007;
            set.spawn(async move { (len, download(port, len).await) });
        }
        let mut done = 0;
        while let Some(joined) = set.join_next().await {
            let (len, got) = joined.unwrap();
            let got = got.unwrap();
            assert!(got == body(len), "download of {len} bytes differs");
            done += 1;
        }
        assert_eq!(done, 20);
    });
}

/// An upload echoed back while it is still being sent: both directions of the proxy
/// at once, each byte-exact, and the client's half-close passed through.
#[test]
fn upload_and_echo_flow_both_ways_at_once() {
    sock::run(async {
        let (upstream, up_port) = listener();
        sock::thread(sock_examples::echo::serve(upstream));
        let (front, port) = listener();
        sock::thread(forwarder(up_port, 2000, 10_000).serve(front));
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let (r, w) = c.into_split();
        let data = body(5_000_000);
        let sender = {
            let data = data.clone();
            sock::spawn(async move {
                w.send(&data).timeout(PATIENCE).await.unwrap();
                w.shutdown_write().unwrap();
            })
        };
        let echoed = r.as_tcp().recvall().timeout(PATIENCE).await.unwrap();
        sender.join().await.unwrap();
        assert!(echoed == data, "the echo differs");
    });
}

/// A target whose accept queue is full never answers the SYN: the connect deadline
/// ends the session, and `forward` says `Timeout`.
#[cfg(target_os = "linux")]
#[test]
fn connect_deadline_ends_a_session_to_a_silent_target() {
    sock::run(async {
        let target = sock::tcp(Family::INET).unwrap();
        target.listen_with_backlog(0, "127.0.0.1", 0).unwrap();
        let port = target.local_addr().unwrap().port();
        let mut queued = Vec::new(); // fill the accept queue (never accepted)
        for _ in 0..3 {
            let c = sock::tcp(Family::INET).unwrap();
            if c.connect("127.0.0.1", port)
                .timeout(Duration::from_millis(100))
                .await
                .is_ok()
            {
                queued.push(c);
            }
        }
        assert!(!queued.is_empty(), "nothing queued");
        let (front, front_port) = listener();
        let client = sock::tcp(Family::INET).unwrap();
        client.connect("127.0.0.1", front_port).await.unwrap();
        let conn = front.accept().await.unwrap();
        let start = Instant::now();
        let e = forwarder(port, 200, 10_000)
            .forward(conn)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(start.elapsed() >= Duration::from_millis(200), "fired early");
        assert!(start.elapsed() < PATIENCE);
        // The proxy closed the client's connection with the session.
        let mut buf = [0u8; 1];
        assert_eq!(client.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 0);
    });
}

/// A session where nothing moves is closed at the idle timeout; the client reads EOF.
#[test]
fn idle_timeout_closes_a_silent_session() {
    sock::run(async {
        let (upstream, up_port) = listener();
        let held = sock::spawn(async move {
            let conn = upstream.accept().timeout(PATIENCE).await?;
            let mut buf = [0u8; 1];
            conn.recv(&mut buf).timeout(PATIENCE).await // the proxy's close: EOF
        });
        let (front, port) = listener();
        sock::thread(forwarder(up_port, 2000, 200).serve(front));
        let c = sock::tcp(Family::INET).unwrap();
        c.connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 1];
        assert_eq!(c.recv(&mut buf).timeout(PATIENCE).await.unwrap(), 0);
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "closed early"
        );
        assert!(start.elapsed() < PATIENCE);
        assert_eq!(held.join().await.unwrap().unwrap(), 0);
    });
}

/// A refused target closes each client's connection at once; the proxy goes on.
#[test]
fn refused_target_closes_the_client_and_the_proxy_goes_on() {
    sock::run(async {
        let (gone, gone_port) = listener();
        gone.close().unwrap();
        let (front, port) = listener();
        sock::thread(forwarder(gone_port, 2000, 10_000).serve(front));
        for _ in 0..3 {
            let c = sock::tcp(Family::INET).unwrap();
            c.connect("127.0.0.1", port)
                .timeout(PATIENCE)
                .await
                .unwrap();
            let mut buf = [0u8; 1];
            match c.recv(&mut buf).timeout(PATIENCE).await {
                Ok(n) => assert_eq!(n, 0),
                Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
            }
        }
    });
}

/// curl through the proxy: the 5 MB body, byte-exact. Unix only: the Windows run
/// happens under Wine, where there is no curl.
#[cfg(unix)]
#[test]
fn curl_downloads_five_mb_through_the_proxy() {
    let port = proxied_download_server_in_a_thread();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--fail",
            "--max-time",
            "20",
            &format!("http://127.0.0.1:{port}/5000000"),
        ])
        .output()
        .expect("curl must be installed (cargo xtask ci installs it)");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 5_000_000);
    assert!(out.stdout == body(5_000_000), "curl got another body");
}

//! The hyper_server and hyper_client examples over loopback: GET, a 1 MiB POST echoed
//! byte-exact, HEAD without a body, keep-alive, a malformed request answered 400 while
//! the server serves on, a slowloris client cut off by the header-read timeout (on
//! `sock::hyper::Timer`), h2c with curl, curl's GET/POST (1 MiB, chunked)/HEAD over one
//! kept-alive connection, `wrk` for 5 s with no errors, and the client's whole-request
//! deadline.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A generous upper bound for anything that should happen soon.
const PATIENCE: Duration = Duration::from_secs(10);

/// Starts hyper_server on its own OS thread and loop; returns its port.
fn server(header_timeout: Duration) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        sock::run(async move {
            let l = sock_examples::serve::listener("127.0.0.1", 0).unwrap();
            tx.send(l.local_addr().unwrap().port()).unwrap();
            let _ = sock_examples::hyper_server::serve(l, header_timeout).await;
        })
    });
    rx.recv().unwrap()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Reads one response: the head (through the blank line) and `content-length` bytes of
/// body, unless `head_only`.
fn response(s: &mut TcpStream, head_only: bool) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed mid-head: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; if head_only { 0 } else { len }];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

#[test]
fn get_answers_hello() {
    let port = server(PATIENCE);
    let mut s = connect(port);
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let (head, body) = response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"hello world\n");
}

#[test]
fn post_of_one_mib_is_echoed_byte_exact() {
    let port = server(PATIENCE);
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31 % 251) as u8).collect();
    let mut s = connect(port);
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        data.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&data).unwrap();
    let (head, body) = response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(body == data, "echo differs ({} bytes back)", body.len());
}

#[test]
fn head_has_no_body_and_keep_alive_serves_the_next_request() {
    let port = server(PATIENCE);
    let mut s = connect(port);
    s.write_all(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let (head, _) = response(&mut s, true);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-length: 12"),
        "{head}"
    );
    // Had HEAD sent a body, these bytes would be "hello world\n", not a status line.
    let (head, body) = response(&mut s, false);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, b"hello world\n");
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let port = server(PATIENCE);
    let mut s = connect(port);
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let (head, body) = response(&mut s, false);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, b"hello world\n");
    }
}

#[test]
fn malformed_request_gets_400_and_the_server_serves_on() {
    let port = server(PATIENCE);
    let mut s = connect(port);
    s.write_all(b"GARBAGE\r\n\r\n").unwrap();
    let (head, _) = response(&mut s, true);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let mut next = connect(port);
    next.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(
        response(&mut next, false)
            .0
            .starts_with("HTTP/1.1 200 OK\r\n")
    );
}

#[test]
fn slowloris_is_closed_by_the_header_read_timeout() {
    let port = server(Duration::from_millis(500));
    let mut s = connect(port);
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let request = b"GET / HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaa\r\n\r\n";
    let start = Instant::now();
    let mut sent = 0;
    let mut buf = [0u8; 256];
    // One header byte a second; a read that times out is the second's wait.
    let closed = loop {
        if sent == request.len() || s.write_all(&request[sent..sent + 1]).is_err() {
            break sent < request.len();
        }
        sent += 1;
        match s.read(&mut buf) {
            Ok(0) | Err(_) if start.elapsed() >= PATIENCE => break false,
            Ok(0) => break true,
            Ok(_) => {} // a 408 or similar before the close: read on
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => {}
        }
    };
    assert!(
        closed,
        "still open after {sent} bytes in {:?}",
        start.elapsed()
    );
    assert!(sent < 5, "closed only after {sent} header bytes");
}

/// Unix only (curl is not run under Wine).
#[cfg(unix)]
#[test]
fn curl_speaks_h2c_with_prior_knowledge() {
    let port = server(PATIENCE);
    let out = std::process::Command::new("curl")
        .args(["-s", "--http2-prior-knowledge", "-w", "\n%{http_version}"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("curl must be installed (cargo xtask ci installs it)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello world\n\n2");
}

#[test]
fn hyper_client_gets_from_hyper_server() {
    let port = server(PATIENCE);
    sock::run(async move {
        let got = sock_examples::hyper_client::get("127.0.0.1", port, "/", PATIENCE).await;
        let (status, body) = got.unwrap();
        assert_eq!(status, 200);
        assert_eq!(&body[..], b"hello world\n");
    });
}

#[test]
fn hyper_client_gives_up_at_its_deadline() {
    // A listener that accepts (in the kernel's queue) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    sock::run(async move {
        let start = Instant::now();
        let limit = Duration::from_millis(200);
        let err = sock_examples::hyper_client::get("127.0.0.1", port, "/", limit)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), sock::ErrorKind::Timeout);
        assert!(start.elapsed() >= limit && start.elapsed() < PATIENCE);
    });
    drop(silent);
}

/// Runs curl with `args` against the server; its stdout, failing the test on an error
/// exit. Unix only (curl is not run under Wine).
#[cfg(unix)]
fn curl(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl must be installed (cargo xtask ci installs it)");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// curl as a client would use it: GET, a 1 MiB POST echoed byte-exact (with a length,
/// then chunked), HEAD with no body, and two requests on one kept-alive connection.
#[cfg(unix)]
#[test]
fn curl_gets_posts_heads_and_chunks_over_keep_alive() {
    let port = server(PATIENCE);
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(curl(&[&url]).stdout, b"hello world\n");
    let body: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let file = std::env::temp_dir().join(format!("sock-hyper-post-{}", std::process::id()));
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", file.display());
    let echoed = curl(&["--data-binary", &data, &url]).stdout;
    assert!(
        echoed == body,
        "the 1 MiB POST came back {} bytes",
        echoed.len()
    );
    let chunked = [
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &data,
        &url,
    ];
    let echoed = curl(&chunked).stdout;
    assert!(
        echoed == body,
        "the chunked POST came back {} bytes",
        echoed.len()
    );
    std::fs::remove_file(&file).unwrap();
    let head = curl(&["-I", &url]);
    let text = String::from_utf8_lossy(&head.stdout);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(!text.contains("hello world"), "HEAD has no body: {text}");
    let twice = curl(&["-v", &url, &url]);
    assert_eq!(twice.stdout, b"hello world\nhello world\n");
    let log = String::from_utf8_lossy(&twice.stderr);
    assert!(
        log.contains("Re-using existing connection") || log.contains("Reusing existing"),
        "the second request reuses the connection:\n{log}"
    );
}

/// `wrk` for 5 s against hyper_server: no socket errors, no non-2xx answers. Unix
/// only (no wrk under Wine); `cargo xtask ci` installs wrk.
#[cfg(unix)]
#[test]
fn wrk_finds_no_errors_on_hyper_server() {
    let port = server(PATIENCE);
    let out = std::process::Command::new("wrk")
        .args(["-t1", "-c64", "-d5s", "--timeout", "5s"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("wrk must be installed (cargo xtask ci installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Socket errors"),
        "wrk saw socket errors:\n{text}"
    );
    assert!(!text.contains("Non-2xx"), "wrk saw bad answers:\n{text}");
    let requests: u64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no request count in:\n{text}"));
    assert!(requests > 0, "{text}");
    eprintln!("{text}");
}

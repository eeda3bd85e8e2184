//! The tls_echo example over real loopback sockets: TLS 1.3 chosen and the self-signed
//! certificate verified (and refused by a client that trusts another), 16 MiB echoed
//! byte-exact while it is still being sent, `close_notify` ending a session cleanly
//! where a bare TCP close is an error, a half-closed client still reading the whole
//! echo, garbage instead of a handshake failing that connection only, and openssl's
//! `s_client` as the client.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::ProtocolVersion;
use sock::{ErrorKind, Family, Tcp};
use sock_examples::tls_echo::{self, Identity, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A generous bound that only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(20);

/// `len` bytes of a pattern that does not repeat at any small power of two.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 4099) as u8).collect()
}

/// A listener on an ephemeral loopback port.
fn listener() -> (Tcp, u16) {
    let l = sock_examples::serve::listener("127.0.0.1", 0).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A server with a new certificate, and the client configuration that trusts it.
fn server_and_client_config() -> (Server, Arc<rustls::ClientConfig>) {
    let id = Identity::self_signed().unwrap();
    let server = Server::new(id.server_config().unwrap());
    (server, tls_echo::client_config(&id.cert_pem).unwrap())
}

/// Starts a tls_echo server on an OS thread and loop of its own; returns its port and
/// the client configuration that trusts its certificate.
fn server_in_a_thread() -> (u16, Arc<rustls::ClientConfig>) {
    let id = Identity::self_signed().unwrap();
    let config = id.server_config().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        sock::run(async move {
            let (l, port) = listener();
            tx.send(port).unwrap();
            let _ = Server::new(config).serve(l).await;
        })
    });
    (
        rx.recv().unwrap(),
        tls_echo::client_config(&id.cert_pem).unwrap(),
    )
}

/// Accepts one connection on `l` and echoes it with `server` in a thread of its own;
/// the thread's output is the session's result.
fn echo_one(l: Tcp, server: Server) -> sock::Thread<sock::Result<u64>> {
    sock::spawn(async move {
        let conn = l.accept().await?;
        server.echo(conn).await
    })
}

/// Connects to the loopback `port` with `config` within [`PATIENCE`].
async fn connect(
    port: u16,
    config: Arc<rustls::ClientConfig>,
) -> sock::Result<tokio_rustls::client::TlsStream<Tcp>> {
    tls_echo::connect("127.0.0.1", port, config, PATIENCE).await
}

#[test]
fn tls13_is_negotiated_with_the_verified_certificate() {
    let (port, config) = server_in_a_thread();
    sock::run(async move {
        for host in ["127.0.0.1", "localhost"] {
            let tls = tls_echo::connect(host, port, config.clone(), PATIENCE);
            let tls = tls.await.unwrap();
            assert_eq!(
                tls_echo::protocol_version(&tls),
                Some(ProtocolVersion::TLSv1_3)
            );
            let echoed = sock::timeout(PATIENCE, tls_echo::round_trip(tls, b"hi".to_vec()));
            assert_eq!(echoed.await.unwrap(), b"hi");
        }
    });
}

#[test]
fn a_client_trusting_another_certificate_refuses_the_server() {
    let (port, good) = server_in_a_thread();
    let other = Identity::self_signed().unwrap();
    let wrong = tls_echo::client_config(&other.cert_pem).unwrap();
    sock::run(async move {
        let e = connect(port, wrong).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other, "{e}");
        assert!(e.to_string().contains("certificate"), "{e}");
        let tls = connect(port, good).await.unwrap(); // the server goes on
        let echoed = tls_echo::round_trip(tls, b"ok".to_vec()).await.unwrap();
        assert_eq!(echoed, b"ok");
    });
}

/// The client writes 16 MiB from one thread while another reads the echo: far more
/// than the socket buffers hold, so a client or server that only did one at a time
/// would stall here.
#[test]
fn sixteen_mib_are_echoed_byte_exact_while_being_sent() {
    let (port, config) = server_in_a_thread();
    sock::run(async move {
        let tls = connect(port, config).await.unwrap();
        let data = pattern(16 << 20);
        let trip = tls_echo::round_trip(tls, data.clone());
        let echoed = sock::timeout(PATIENCE * 3, trip).await.unwrap();
        assert_eq!(echoed.len(), data.len());
        assert!(echoed == data, "the echo differs");
    });
}

/// The client's shutdown sends `close_notify`: the server's read ends with 0 bytes,
/// not an error, and it answers with its own `close_notify` (the client's read to the
/// end would fail with `UnexpectedEof` otherwise).
#[test]
fn close_notify_ends_the_session_cleanly() {
    let (server, config) = server_and_client_config();
    sock::run(async move {
        let (l, port) = listener();
        let session = echo_one(l, server);
        let mut tls = connect(port, config).await.unwrap();
        tls.write_all(b"bye").await.unwrap();
        tls.shutdown().await.unwrap();
        let mut echoed = Vec::new();
        let read = sock::timeout(PATIENCE, async { Ok(tls.read_to_end(&mut echoed).await?) });
        assert_eq!(read.await.unwrap(), 3);
        assert_eq!(echoed, b"bye");
        assert_eq!(session.join().await.unwrap().unwrap(), 3);
    });
}

/// A TCP close with no `close_notify` before it could be an attacker cutting the
/// stream: the server's session ends with `Eof`, not as a clean end.
#[test]
fn a_tcp_close_without_close_notify_is_an_error() {
    let (server, config) = server_and_client_config();
    sock::run(async move {
        let (l, port) = listener();
        let session = echo_one(l, server);
        let mut tls = connect(port, config).await.unwrap();
        tls.write_all(b"cut").await.unwrap();
        let mut buf = [0u8; 3];
        tls.read_exact(&mut buf).await.unwrap();
        let (tcp, _) = tls.into_inner();
        tcp.shutdown(sock::Shutdown::Write).unwrap(); // a FIN, no alert
        let e = session.join().await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Eof, "{e}");
    });
}

/// The client sends everything, shuts its writing side down, and only then reads: the
/// whole echo still arrives after the half-close.
#[test]
fn a_half_closed_client_still_reads_the_full_echo() {
    let (port, config) = server_in_a_thread();
    sock::run(async move {
        let mut tls = connect(port, config).await.unwrap();
        let data = pattern(64 * 1024); // fits in the socket buffers both ways
        tls.write_all(&data).await.unwrap();
        tls.shutdown().await.unwrap();
        let mut echoed = Vec::new();
        let read = sock::timeout(PATIENCE, async { Ok(tls.read_to_end(&mut echoed).await?) });
        assert_eq!(read.await.unwrap(), data.len());
        assert!(echoed == data, "the echo differs");
    });
}

/// Bytes that are not a TLS handshake fail that session (the server says so), and the
/// client sees at most an alert before the close.
#[test]
fn garbage_instead_of_a_handshake_fails_the_session() {
    let (server, _) = server_and_client_config();
    sock::run(async move {
        let (l, port) = listener();
        let session = echo_one(l, server);
        let alert = send_garbage(port).await;
        let e = session.join().await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Other, "{e}");
        assert!(
            alert.is_empty() || alert[0] == 0x15,
            "not an alert: {alert:?}"
        );
    });
}

#[test]
fn after_a_garbage_handshake_the_next_client_is_served() {
    let (port, config) = server_in_a_thread();
    sock::run(async move {
        let alert = send_garbage(port).await;
        assert!(
            alert.is_empty() || alert[0] == 0x15,
            "not an alert: {alert:?}"
        );
        let tls = connect(port, config).await.unwrap();
        let echoed = sock::timeout(PATIENCE, tls_echo::round_trip(tls, pattern(100_000)));
        assert!(echoed.await.unwrap() == pattern(100_000));
    });
}

/// Sends an HTTP request where a TLS ClientHello should be; returns what came back
/// before the server closed (a reset counts as a close).
async fn send_garbage(port: u16) -> Vec<u8> {
    let c = sock::tcp(Family::INET).unwrap();
    c.connect("127.0.0.1", port).await.unwrap();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..100 {
        match sock::timeout(PATIENCE, c.recv(&mut buf)).await {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("after {got:?}: {e}"),
        }
    }
    panic!("still open after {} bytes", got.len());
}

/// openssl as the client, TLS 1.3 only, trusting the PEM the server wrote: the line it
/// sends comes back, and its close at the end of its input is a clean one. Unix only:
/// the Windows run happens under Wine, where there is no openssl.
#[cfg(unix)]
#[test]
fn openssl_s_client_gets_the_echo() {
    let id = Identity::self_signed().unwrap();
    let server = Server::new(id.server_config().unwrap());
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let pem = std::env::temp_dir().join(format!("sock-tls-test-{}.pem", std::process::id()));
    std::fs::write(&pem, &id.cert_pem).unwrap();
    thread::spawn(move || {
        sock::run(async move {
            let (l, port) = listener();
            port_tx.send(port).unwrap();
            let result = echo_one(l, server).join().await.unwrap();
            done_tx.send(result.map_err(|e| e.to_string())).unwrap();
        })
    });
    let port = port_rx.recv().unwrap();
    let out = openssl::s_client(port, &pem, "hello over tls 1.3");
    let _ = std::fs::remove_file(&pem);
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
    let session = done_rx
        .recv_timeout(PATIENCE)
        .expect("the session did not end");
    assert_eq!(session, Ok("hello over tls 1.3\n".len() as u64));
}

/// Driving `openssl s_client` with a time limit.
#[cfg(unix)]
mod openssl {
    use std::io::{BufRead, BufReader, Write};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::Instant;

    use super::PATIENCE;

    /// Runs `openssl s_client` against the loopback `port`, trusting `ca`, sends `line`
    /// and waits for its echo, then ends s_client's input so it closes; returns its
    /// output. Fails the test if the echo or the exit does not come within
    /// [`PATIENCE`] (the process is killed then).
    pub(super) fn s_client(port: u16, ca: &Path, line: &str) -> String {
        let mut child = spawn(port, ca);
        let lines = read_lines(&mut child);
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        let mut out = String::new();
        let deadline = Instant::now() + PATIENCE;
        while !out.lines().any(|l| l == line) {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(l) => out.push_str(&(l + "\n")),
                Err(_) => fail(&mut child, &format!("no echo; output so far:\n{out}")),
            }
        }
        drop(child.stdin.take()); // end of input: s_client sends close_notify and quits
        wait(&mut child, deadline, &out);
        out
    }

    /// `openssl s_client`, TLS 1.3 only, verifying the certificate against `ca` (for
    /// the address it connects to) and giving up if it does not verify.
    fn spawn(port: u16, ca: &Path) -> Child {
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-tls1_3", "-verify_return_error", "-verify_ip", "127.0.0.1"])
            .arg("-CAfile")
            .arg(ca)
            .arg("-nocommands") // a line is data, even one starting with Q or R
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl must be installed (cargo xtask ci installs it)")
    }

    /// The lines of `child`'s output, read by an OS thread of their own.
    fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Waits for `child` to exit successfully by `deadline`.
    fn wait(child: &mut Child, deadline: Instant, out: &str) {
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "s_client: {status}\n{out}");
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        fail(child, &format!("s_client did not exit; output:\n{out}"));
    }

    /// Kills `child` and fails the test with `why`.
    fn fail(child: &mut Child, why: &str) -> ! {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{why}");
    }
}

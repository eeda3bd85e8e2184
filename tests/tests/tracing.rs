//! The `tracing` feature: a capturing subscriber (written here, a few lines of
//! `tracing::Subscriber`) sees the events sock documents — a connection shed under
//! `EMFILE`, running out of fds, a deadline's expiry, a reset — each inside the span of
//! the thread that met it, named by `Builder::name`.
//!
//! The shedding case runs in a child process (the fd limit is the whole process's);
//! the child prints what its subscriber captured, one event a line. So does the
//! resolver-timeout case (Linux): its child enters network and mount namespaces whose
//! only name server, 127.0.0.1:53, never answers, so a connect by name is still
//! looking the name up at its deadline. Where namespaces are unavailable that test
//! says so, and fails when `CI` is set.

#![cfg(unix)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sock::{ErrorKind, Expires, Family};
use sock_tests::{PATIENCE, listener, pair};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Captures each event as `span: fields`, the span being the innermost entered one
/// (its name and fields), or `-` outside every span.
#[derive(Clone, Default)]
struct Capture {
    /// The captured lines.
    lines: Arc<Mutex<Vec<String>>>,
    /// Spans by id: their name and fields.
    spans: Arc<Mutex<Vec<(u64, String)>>>,
    /// The entered spans, innermost last.
    stack: Arc<Mutex<Vec<u64>>>,
    /// The next span id.
    next: Arc<AtomicU64>,
}

/// Formats fields as `name=value` pairs.
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Fields(span.metadata().name().to_string());
        span.record(&mut fields);
        self.spans.lock().unwrap().push((id, fields.0));
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let span = self.stack.lock().unwrap().last().copied();
        let spans = self.spans.lock().unwrap();
        let name = span
            .and_then(|id| spans.iter().find(|(i, _)| *i == id))
            .map_or("-", |(_, s)| s.as_str());
        let line = format!("{name}:{}", fields.0);
        self.lines.lock().unwrap().push(line);
    }

    fn enter(&self, span: &Id) {
        self.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut stack = self.stack.lock().unwrap();
        if let Some(i) = stack.iter().rposition(|id| *id == span.into_u64()) {
            stack.remove(i);
        }
    }
}

impl Capture {
    /// Runs `f` with this subscriber as the thread's default; returns what it captured.
    fn run(f: impl FnOnce()) -> Vec<String> {
        let capture = Capture::default();
        tracing::subscriber::with_default(capture.clone(), f);
        capture.lines.lock().unwrap().clone()
    }
}

/// The lines of `lines` that contain `what`.
fn matching<'a>(lines: &'a [String], what: &str) -> Vec<&'a String> {
    lines.iter().filter(|l| l.contains(what)).collect()
}

#[test]
fn deadline_expiry_in_the_threads_span() {
    let lines = Capture::run(|| {
        sock::run(async {
            let t = sock::task::Builder::new().name("poller").spawn(async {
                let udp = sock::udp(Family::INET)?;
                udp.bind("127.0.0.1", 0)?;
                let mut buf = [0u8; 8];
                let err = udp
                    .recv(&mut buf)
                    .timeout(Duration::from_millis(5))
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Timeout);
                Ok::<(), sock::Error>(())
            });
            t.join().await.unwrap().unwrap();
        });
    });
    let expired = matching(&lines, "deadline expired");
    assert_eq!(expired.len(), 1, "{lines:#?}");
    let line = expired[0];
    assert!(line.starts_with("thread "), "in a thread's span: {line}");
    assert!(
        line.contains("name=\"poller\""),
        "named by Builder::name: {line}"
    );
    assert!(line.contains("op=\"recv\""), "{line}");
}

#[test]
fn reset_is_reported() {
    let lines = Capture::run(|| {
        sock::run(async {
            let (client, conn) = pair(Family::INET).await?;
            conn.setopt("so_linger", 0)?;
            drop(conn); // closed with SO_LINGER 0: the peer sees a reset
            sock::sleep(Duration::from_millis(5)).await;
            let mut buf = [0u8; 8];
            let got = client.recv(&mut buf).timeout(PATIENCE).await;
            sock_tests::assert_reset(got);
            Ok::<(), sock::Error>(())
        })
        .unwrap();
    });
    assert_eq!(
        matching(&lines, "connection reset by peer").len(),
        1,
        "{lines:#?}"
    );
}

#[test]
fn shedding_and_out_of_fds_are_reported() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["shed_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(SHED_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = stdout
        .lines()
        // libtest's `test shed_child ... ` may start the first line.
        .filter_map(|l| {
            l.split_once("captured ")
                .map(|(_, event)| event.to_string())
        })
        .collect();
    let shed = matching(&lines, "a pending connection was reset and dropped");
    assert_eq!(shed.len(), 2, "{lines:#?}");
    assert!(shed[0].contains("name=\"acceptor\""), "{lines:#?}");
    assert_eq!(
        matching(&lines, "message=out of file descriptors").len(),
        2,
        "{lines:#?}"
    );
    assert_eq!(matching(&lines, "deadline expired").len(), 1, "{lines:#?}");
}

const SHED_CHILD: &str = "SOCK_TRACING_SHED_CHILD";

/// The child of [`shedding_and_out_of_fds_are_reported`]: two clients wait, the
/// process runs out of fds, two accepts shed them, a third waits until its deadline.
#[test]
fn shed_child() {
    if std::env::var(SHED_CHILD).is_err() {
        return;
    }
    let lines = Capture::run(|| {
        sock::run(async {
            let (server, port) = listener(Family::INET);
            let clients: Vec<_> = (0..2)
                .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
                .collect();
            let acceptor = sock::task::Builder::new()
                .name("acceptor")
                .spawn(async move {
                    let fill = sock_tests::harness::procfs::fill_fds();
                    for _ in 0..2 {
                        let err = server.accept().timeout(PATIENCE).await.unwrap_err();
                        assert_eq!(err.kind(), ErrorKind::TooManyOpenFiles);
                    }
                    let late = server.accept().timeout(Duration::from_millis(20)).await;
                    assert_eq!(late.unwrap_err().kind(), ErrorKind::Timeout);
                    drop(fill);
                });
            acceptor.join().await.unwrap();
            drop(clients);
        });
    });
    for line in lines {
        println!("captured {line}");
    }
}

/// The resolver-timeout case's test, and the variable that makes its child run it.
#[cfg(target_os = "linux")]
const RESOLVER_TEST: &str = "resolver_timeout_is_reported";
#[cfg(target_os = "linux")]
const RESOLVER_CHILD: &str = "SOCK_TRACING_RESOLVER_CHILD";

/// A `connect` by name whose lookup is still pending at the operation's deadline (the
/// name server is silent) ends with `Timeout` and reports the lookup, naming the host.
#[cfg(target_os = "linux")]
#[test]
fn resolver_timeout_is_reported() {
    use sock_tests::harness::netns;

    if !netns::is_child(RESOLVER_TEST, RESOLVER_CHILD) {
        println!(
            "{}",
            netns::run_self_as_child(RESOLVER_TEST, RESOLVER_CHILD)
        );
        return;
    }
    if !netns::entered(silent_name_server(), "cannot create a network namespace") {
        return;
    }
    // Bound but never read: queries to it go unanswered until the resolver gives up.
    let _silent = std::net::UdpSocket::bind("127.0.0.1:53").expect("bind the silent name server");
    let lines = Capture::run(|| {
        sock::run(async {
            let tcp = sock::tcp(Family::INET).unwrap();
            let err = tcp
                .connect("name.invalid", 80)
                .timeout(Duration::from_millis(200))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        });
    });
    let pending = matching(&lines, "name lookup still pending at the deadline");
    assert!(!pending.is_empty(), "{lines:#?}");
    assert!(
        pending.iter().all(|l| l.contains("host=\"name.invalid\"")),
        "{pending:#?}"
    );
}

/// New network and mount namespaces, `lo` up, and a private `/etc/resolv.conf` whose
/// only name server is 127.0.0.1.
#[cfg(target_os = "linux")]
fn silent_name_server() -> std::io::Result<()> {
    use sock_tests::harness::netns;

    netns::unshare_net_and_mounts()?;
    netns::loopback_up()?;
    netns::private_resolv_conf("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
}

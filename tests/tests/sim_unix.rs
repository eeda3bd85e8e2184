//! Unix-domain sockets in simulation against the OS: each scenario runs on a real loop
//! (real unix sockets in a fresh temp dir) and on a simulated host (its own namespace
//! of socket paths), and the two must agree (bytes, error kinds, addresses).
//! Per-host namespaces are checked in simulation only (the OS has one filesystem).
//!
//! Every world's seed comes from `SOCK_SEED` when set.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use sock::sim::{HostId, Sim, World};
use sock::{ErrorKind, Expires, Family, Shutdown, Tcp, Udp};
use sock_tests::sim::ip;

/// A generous bound on any wait (it only catches hangs).
const PATIENCE: Duration = Duration::from_secs(10);

/// Where a scenario runs.
struct Env<'a> {
    /// The directory its socket paths go in.
    dir: PathBuf,
    /// The simulation and the host running the scenario; `None` on a real loop.
    sim: Option<(&'a Sim, HostId)>,
}

impl Env<'_> {
    /// The socket path `name` in the scenario's directory.
    fn path(&self, name: &str) -> String {
        self.dir
            .join(name)
            .to_str()
            .expect("a UTF-8 path")
            .to_owned()
    }

    /// Removes the socket file at `path` (`unlink(2)`, or the world's).
    fn unlink(&self, path: &str) {
        match self.sim {
            Some((sim, host)) => assert!(sim.world().unix_unlink(host, Path::new(path))),
            None => std::fs::remove_file(path).expect("the socket file exists"),
        }
    }
}

/// Runs `scenario` on a real loop in a fresh temp dir, then on a simulated host of a
/// world of `seed`; both outcomes.
fn on_both<T>(seed: u64, name: &str, scenario: impl AsyncFn(&Env<'_>) -> T) -> (T, T) {
    let dir = std::env::temp_dir().join(format!("sock-sim-unix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("a temp dir");
    let real = sock::run(scenario(&Env {
        dir: dir.clone(),
        sim: None,
    }));
    std::fs::remove_dir_all(&dir).expect("the temp dir is removed");
    let sim = Sim::new(World::from_env_or(seed));
    let host = sim.add_host("local", &[ip("127.0.0.1")]);
    let env = Env {
        dir: PathBuf::from("/run/sim"),
        sim: Some((&sim, host.id())),
    };
    let simulated = host.run(scenario(&env));
    (real, simulated)
}

/// Runs `scenario` on both backends and asserts the outcomes are equal; returns it.
fn same<T: PartialEq + std::fmt::Debug>(
    seed: u64,
    name: &str,
    scenario: impl AsyncFn(&Env<'_>) -> T,
) -> T {
    let (real, simulated) = on_both(seed, name, scenario);
    assert_eq!(real, simulated, "real unix sockets vs simulation");
    real
}

/// A unix stream listener at `path`.
fn listener(path: &str) -> Tcp {
    let l = sock::tcp(Family::UNIX).expect("a socket");
    l.listen(path, 0).expect("listen");
    l
}

/// A connected unix stream pair through a listener at `path`: (client, server side).
async fn pair(path: &str) -> (Tcp, Tcp) {
    let l = listener(path);
    let c = sock::tcp(Family::UNIX).expect("a socket");
    c.connect(path, 0).timeout(PATIENCE).await.expect("connect");
    let s = l.accept().timeout(PATIENCE).await.expect("accept");
    (c, s)
}

/// A unix datagram socket bound to `path`.
fn bound(path: &str) -> Udp {
    let u = sock::udp(Family::UNIX).expect("a socket");
    u.bind(path, 0).expect("bind");
    u
}

/// The path of a unix address, as text.
fn path_of(addr: &sock::SockAddr) -> Option<String> {
    addr.as_unix_path()
        .and_then(|p| p.to_str())
        .map(str::to_owned)
}

/// An error's kind and, when an io error is its source, that error's kind.
fn kinds(e: &sock::Error) -> (ErrorKind, Option<std::io::ErrorKind>) {
    let source = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    (e.kind(), source.map(std::io::Error::kind))
}

/// Echo through a server task: 256 KiB (more than a buffer holds, so the writer waits
/// for the reader), and the addresses each side sees.
async fn echo(env: &Env<'_>) -> (usize, bool, bool, bool) {
    let path = env.path("echo.sock");
    let l = listener(&path);
    let server = sock::spawn(async move {
        let conn = l.accept().timeout(PATIENCE).await.expect("accept");
        let local = conn.local_addr().ok().and_then(|a| path_of(&a));
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = conn.recv(&mut buf).timeout(PATIENCE).await.expect("recv");
            if n == 0 {
                break;
            }
            conn.send(&buf[..n]).timeout(PATIENCE).await.expect("send");
        }
        conn.shutdown(Shutdown::Write).expect("shutdown");
        local
    });
    let c = sock::tcp(Family::UNIX).expect("a socket");
    c.connect(&path, 0)
        .timeout(PATIENCE)
        .await
        .expect("connect");
    let peer_is_listener = c.remote_addr().ok().and_then(|a| path_of(&a)) == Some(path.clone());
    let data: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let writer = {
        let c = c.clone();
        let data = data.clone();
        sock::spawn(async move {
            c.send(&data).timeout(PATIENCE).await.expect("send all");
            c.shutdown(Shutdown::Write).expect("shutdown");
        })
    };
    let back = c.recvall().timeout(PATIENCE).await.expect("recvall");
    writer.join().await.expect("the writer");
    let local = server.join().await.expect("the server");
    let server_local_is_listener = local == Some(path.clone());
    (
        back.len(),
        back == data,
        peer_is_listener,
        server_local_is_listener,
    )
}

#[test]
fn a_unix_stream_echoes_more_than_a_buffer() {
    let outcome = same(1, "echo", echo);
    assert_eq!(outcome, (256 * 1024, true, true, true));
}

/// `shutdown(Write)`: the peer reads the bytes then EOF, and can still reply; after
/// the peer closes, reads are EOF.
async fn half_close(env: &Env<'_>) -> (Vec<u8>, Vec<u8>, usize) {
    let (c, s) = pair(&env.path("half.sock")).await;
    c.send(b"bye").await.expect("send");
    c.shutdown(Shutdown::Write).expect("shutdown");
    let got = s.recvall().timeout(PATIENCE).await.expect("recvall to EOF");
    s.send(b"ok").await.expect("the other way still works");
    s.close().expect("close");
    let reply = c
        .recvall()
        .timeout(PATIENCE)
        .await
        .expect("the reply, then EOF");
    let mut buf = [0u8; 4];
    let after = c.recv(&mut buf).timeout(PATIENCE).await.expect("EOF again");
    (got, reply, after)
}

#[test]
fn shutdown_write_gives_the_peer_eof_and_it_can_still_reply() {
    let outcome = same(2, "half", half_close);
    assert_eq!(outcome, (b"bye".to_vec(), b"ok".to_vec(), 0));
}

/// A peer closes with bytes unread: the other side's read is reset once, then EOF;
/// a send to the closed peer is a reset (`EPIPE`).
async fn close_with_unread(env: &Env<'_>) -> (ErrorKind, usize, ErrorKind) {
    let (c, s) = pair(&env.path("unread.sock")).await;
    c.send(b"never read").await.expect("send");
    s.close().expect("close");
    let mut buf = [0u8; 16];
    let first = c.recv(&mut buf).timeout(PATIENCE).await.unwrap_err();
    let then = c.recv(&mut buf).timeout(PATIENCE).await.expect("EOF");
    let send = c.send(b"x").timeout(PATIENCE).await.unwrap_err();
    (first.kind(), then, send.kind())
}

#[test]
fn closing_with_unread_bytes_resets_the_peer() {
    let outcome = same(3, "unread", close_with_unread);
    assert_eq!(
        outcome,
        (ErrorKind::ConnectionReset, 0, ErrorKind::ConnectionReset)
    );
}

/// `shutdown(Read)` on a unix stream: queued bytes are still read, then EOF; the
/// peer's sends fail (`EPIPE`).
async fn shutdown_read(env: &Env<'_>) -> (Vec<u8>, usize, ErrorKind) {
    let (c, s) = pair(&env.path("shutrd.sock")).await;
    c.send(b"queued").await.expect("send");
    s.readable()
        .timeout(PATIENCE)
        .await
        .expect("the bytes arrive");
    s.shutdown(Shutdown::Read).expect("shutdown");
    let mut buf = [0u8; 16];
    let n = s
        .recv(&mut buf)
        .timeout(PATIENCE)
        .await
        .expect("queued bytes");
    let eof = s.recv(&mut buf).timeout(PATIENCE).await.expect("then EOF");
    let send = c.send(b"late").timeout(PATIENCE).await.unwrap_err();
    (buf[..n].to_vec(), eof, send.kind())
}

#[test]
fn shutdown_read_on_a_unix_stream_ends_reads_and_fails_the_peers_sends() {
    let outcome = same(4, "shutrd", shutdown_read);
    assert_eq!(outcome, (b"queued".to_vec(), 0, ErrorKind::ConnectionReset));
}

/// A connect or a datagram to a path nobody bound: `ENOENT`.
async fn missing_path(env: &Env<'_>) -> Vec<(ErrorKind, Option<std::io::ErrorKind>)> {
    let path = env.path("missing.sock");
    let c = sock::tcp(Family::UNIX).expect("a socket");
    let stream = c.connect(&path, 0).timeout(PATIENCE).await.unwrap_err();
    let u = sock::udp(Family::UNIX).expect("a socket");
    let dgram = u
        .send_to(b"x", &(&*path, 0))
        .timeout(PATIENCE)
        .await
        .unwrap_err();
    vec![kinds(&stream), kinds(&dgram)]
}

#[test]
fn a_missing_path_is_not_found() {
    let outcome = same(5, "missing", missing_path);
    let not_found = (ErrorKind::NotFound, Some(std::io::ErrorKind::NotFound));
    assert_eq!(outcome, [not_found; 2]);
}

/// A bound path is in use, also after its socket closed (the file stays: connects are
/// refused) until it is unlinked.
async fn path_in_use(env: &Env<'_>) -> (ErrorKind, ErrorKind, ErrorKind, bool) {
    let path = env.path("inuse.sock");
    let l = listener(&path);
    let second = sock::tcp(Family::UNIX).expect("a socket");
    let taken = second.bind(&path, 0).unwrap_err().kind();
    l.close().expect("close");
    let c = sock::tcp(Family::UNIX).expect("a socket");
    let refused = c.connect(&path, 0).timeout(PATIENCE).await.unwrap_err();
    let stale = second.bind(&path, 0).unwrap_err().kind();
    env.unlink(&path);
    let again = second.bind(&path, 0).is_ok();
    (taken, refused.kind(), stale, again)
}

#[test]
fn a_bound_path_is_in_use_until_unlinked() {
    let outcome = same(6, "inuse", path_in_use);
    let in_use = ErrorKind::AddressInUse;
    assert_eq!(
        outcome,
        (in_use, ErrorKind::ConnectionRefused, in_use, true)
    );
}

/// Datagrams: sources, a truncated receive (the rest of that datagram is gone), and a
/// connected pair's `send`/`recv`.
async fn datagrams(env: &Env<'_>) -> (ErrorKind, usize, Vec<u8>, Vec<u8>, bool, Vec<u8>) {
    let (a_path, b_path) = (env.path("dg-a.sock"), env.path("dg-b.sock"));
    let (a, b) = (bound(&a_path), bound(&b_path));
    b.send_to(b"a long datagram", &(&*a_path, 0))
        .await
        .expect("send");
    b.send_to(b"next", &(&*a_path, 0)).await.expect("send");
    let mut four = [0u8; 4];
    let err = a.recv(&mut four).timeout(PATIENCE).await.unwrap_err();
    let cut = four.to_vec();
    let mut buf = [0u8; 32];
    let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await.expect("recv");
    let next = buf[..n].to_vec();
    let from_b = path_of(&from) == Some(b_path.clone());
    a.connect_to(&b.local_addr().expect("bound"))
        .expect("connect");
    a.send(b"connected").await.expect("send");
    let n = b.recv(&mut buf).timeout(PATIENCE).await.expect("recv");
    (
        err.kind(),
        err.transferred(),
        cut,
        next,
        from_b,
        buf[..n].to_vec(),
    )
}

#[test]
fn unix_datagrams_truncate_and_connect() {
    let outcome = same(7, "dgram", datagrams);
    let expected = (
        ErrorKind::MessageTooLong,
        4,
        b"a lo".to_vec(),
        b"next".to_vec(),
        true,
        b"connected".to_vec(),
    );
    assert_eq!(outcome, expected);
}

/// A datagram from an unbound sender comes from the unnamed address; shutting down
/// an unconnected unix stream is allowed.
async fn unbound_sender(env: &Env<'_>) -> (String, Vec<u8>, bool) {
    let path = env.path("unnamed.sock");
    let a = bound(&path);
    let b = sock::udp(Family::UNIX).expect("a socket");
    b.send_to(b"anon", &(&*path, 0)).await.expect("send");
    let mut buf = [0u8; 8];
    let (n, from) = a.recv_from(&mut buf).timeout(PATIENCE).await.expect("recv");
    let stream = sock::tcp(Family::UNIX).expect("a socket");
    let shut = stream.shutdown(Shutdown::Write).is_ok();
    (from.to_string(), buf[..n].to_vec(), shut)
}

#[test]
fn a_datagram_from_an_unbound_sender_comes_from_the_unnamed_address() {
    let outcome = same(10, "unnamed", unbound_sender);
    assert_eq!(outcome, ("(unnamed)".into(), b"anon".to_vec(), true));
}

/// A sender to a receiver whose queue is full waits (it is not finished while nobody
/// reads); every datagram then arrives, in order.
async fn full_receiver(env: &Env<'_>) -> (bool, Vec<u8>) {
    let path = env.path("full.sock");
    let r = bound(&path);
    let to = r.local_addr().expect("bound");
    let sender = sock::spawn(async move {
        let s = sock::udp(Family::UNIX).expect("a socket");
        for i in 0..40u8 {
            s.send_to(&[i], &to).timeout(PATIENCE).await.expect("send");
        }
    });
    sock::sleep(Duration::from_millis(100)).await;
    let waited = !sender.is_finished();
    let mut got = Vec::new();
    let mut buf = [0u8; 4];
    for _ in 0..40 {
        let n = r.recv(&mut buf).timeout(PATIENCE).await.expect("recv");
        got.extend_from_slice(&buf[..n]);
    }
    sender.join().await.expect("the sender");
    (waited, got)
}

#[test]
fn a_sender_to_a_full_unix_datagram_queue_waits_for_the_reader() {
    let outcome = same(11, "fullq", full_receiver);
    assert_eq!(outcome, (true, (0..40).collect::<Vec<u8>>()));
}

#[test]
fn each_simulated_host_has_its_own_socket_paths() {
    let sim = Sim::new(World::from_env_or(8));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2")]);
    let _server = a.run(async { listener("/run/app.sock") });
    let (missing, own) = b.run(async {
        let c = sock::tcp(Family::UNIX).expect("a socket");
        let missing = c.connect("/run/app.sock", 0).timeout(PATIENCE).await;
        let own = sock::tcp(Family::UNIX).expect("a socket");
        (missing.unwrap_err(), own.listen("/run/app.sock", 0))
    });
    assert_eq!(
        kinds(&missing),
        (ErrorKind::NotFound, Some(std::io::ErrorKind::NotFound)),
        "host a's path is not on host b"
    );
    own.expect("host b binds the same path in its own namespace");
}

#[test]
fn a_connect_to_a_full_simulated_unix_listener_waits_for_an_accept() {
    let sim = Sim::new(World::from_env_or(9));
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    a.run(async {
        let l = sock::tcp(Family::UNIX).expect("a socket");
        l.listen_with_backlog(0, "/run/full.sock", 0)
            .expect("listen");
        let first = sock::tcp(Family::UNIX).expect("a socket");
        first
            .connect("/run/full.sock", 0)
            .timeout(PATIENCE)
            .await
            .expect("backlog + 1");
        let late = sock::spawn(async {
            let c = sock::tcp(Family::UNIX).expect("a socket");
            c.connect("/run/full.sock", 0)
                .timeout(PATIENCE)
                .await
                .map(|()| c)
        });
        sock::sleep(Duration::from_secs(1)).await;
        assert!(
            !late.is_finished(),
            "the second connect waits while the queue is full"
        );
        l.accept().timeout(PATIENCE).await.expect("accept");
        let c = late
            .join()
            .await
            .expect("the task")
            .expect("connected after the accept");
        assert!(c.remote_addr().is_ok());
    });
}

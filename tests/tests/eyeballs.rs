//! Happy Eyeballs (RFC 8305) in `connect`, in both threading modes (loop mode:
//! `sock::tcp`; shared-poller mode: `SharedTcp`).
//!
//! The blackhole scenarios run in a network namespace of their own, made by a child
//! process (this test binary re-executed for that one test): a veth link whose
//! neighbour (a made-up MAC, entered by hand) never answers swallows the SYNs sent to
//! `fd99::2` and `10.99.0.2`, and a private `/etc/hosts` (bind-mounted over the real
//! one) names `dual.test` (`fd99::2` and `127.0.0.1`) and `dead.test` (`fd99::2` and
//! `10.99.0.2`), so `connect(name, port)` goes through the resolver as a user's would.
//! The namespace's own TCP counters (`/proc/thread-self/net/snmp`: `ActiveOpens`, one
//! per SYN a connect sent) and socket table (`/proc/thread-self/net/tcp*`) show which
//! attempts were made and that the losers were closed. Where namespaces or iproute2's
//! `ip` are missing the test says so, and fails when `CI` is set (as `readiness` does).
//!
//! The refused and family scenarios need no namespace: loopback ports nobody listens on.

#![cfg(target_os = "linux")]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Family, SockAddr, io::OptValue, shared::SharedTcp};
use sock_tests::harness::netns;
use sock_tests::{PATIENCE, on_shared_loop};

/// The deadline of every connect here.
const DEADLINE: Duration = Duration::from_secs(5);
/// A connect that fell back from the blackholed address ends well before this: about
/// the attempt delay (250 ms) after it started, where trying the addresses in turn
/// would wait for the whole [`DEADLINE`].
const FALLBACK_BOUND: Duration = Duration::from_millis(2500);
/// The deadline of a connect where every address is blackholed.
const SHORT_DEADLINE: Duration = Duration::from_millis(600);
/// When the closing scenarios close the socket: after both attempts started.
const CLOSE_AFTER: Duration = Duration::from_millis(400);
/// The environment variable that makes the re-executed binary run the scenario.
const CHILD_ENV: &str = "SOCK_EYEBALLS_CHILD";

#[test]
fn loop_blackholed_ipv6_falls_back_to_ipv4_in_about_the_attempt_delay() {
    isolated(
        "loop_blackholed_ipv6_falls_back_to_ipv4_in_about_the_attempt_delay",
        || {
            let (port, server) = echo_server();
            let opens = active_opens();
            let started = Instant::now();
            let remote = sock::run(async move {
                let c = sock::tcp(Family::UNSPEC)?;
                c.connect("dual.test", port).timeout(DEADLINE).await?;
                let remote = c.remote_addr()?;
                assert_eq!(c.family(), Family::INET, "IPv4 won");
                ping(&c).await?;
                Ok::<_, sock::Error>(remote)
            })
            .expect("the connect through IPv4");
            check_fallback(started.elapsed(), remote, port, opens);
            server.join().expect("the echo server");
        },
    );
}

#[test]
fn shared_blackholed_ipv6_falls_back_to_ipv4_in_about_the_attempt_delay() {
    isolated(
        "shared_blackholed_ipv6_falls_back_to_ipv4_in_about_the_attempt_delay",
        || {
            let (port, server) = echo_server();
            let opens = active_opens();
            let started = Instant::now();
            let remote = on_shared_loop(async move {
                let c = SharedTcp::new(Family::UNSPEC)?;
                c.connect("dual.test", port).timeout(DEADLINE).await?;
                let remote = c.remote_addr()?;
                shared_ping(&c).await?;
                Ok(remote)
            });
            check_fallback(started.elapsed(), remote, port, opens);
            server.join().expect("the echo server");
        },
    );
}

#[test]
fn loop_all_blackholed_ends_at_the_deadline_with_the_losers_closed() {
    isolated(
        "loop_all_blackholed_ends_at_the_deadline_with_the_losers_closed",
        || {
            let opens = active_opens();
            sock::run(async move {
                let c = sock::tcp(Family::UNSPEC)?;
                let r = c.connect("dead.test", 9).timeout(SHORT_DEADLINE).await;
                check_all_blackholed(r, opens);
                c.close()?;
                assert_eq!(
                    syn_sent("tcp6"),
                    0,
                    "closing the socket ends its own attempt"
                );
                Ok::<_, sock::Error>(())
            })
            .expect("the scenario's I/O");
        },
    );
}

#[test]
fn shared_all_blackholed_ends_at_the_deadline_with_the_losers_closed() {
    isolated(
        "shared_all_blackholed_ends_at_the_deadline_with_the_losers_closed",
        || {
            let opens = active_opens();
            on_shared_loop(async move {
                let c = SharedTcp::new(Family::UNSPEC)?;
                let r = c.connect("dead.test", 9).timeout(SHORT_DEADLINE).await;
                check_all_blackholed(r, opens);
                c.close();
                assert_eq!(
                    syn_sent("tcp6"),
                    0,
                    "closing the socket ends its own attempt"
                );
                Ok(())
            });
        },
    );
}

#[test]
fn loop_closing_the_socket_ends_the_race_with_closed() {
    isolated("loop_closing_the_socket_ends_the_race_with_closed", || {
        sock::run(async move {
            let c = sock::tcp(Family::UNSPEC)?;
            let closer = c.clone();
            sock::spawn(async move {
                sock::sleep(CLOSE_AFTER).await;
                closer.close()
            });
            let started = Instant::now();
            let r = c.connect("dead.test", 9).timeout(DEADLINE).await;
            check_closed(r, started.elapsed());
            Ok::<_, sock::Error>(())
        })
        .expect("the scenario's I/O");
    });
}

#[test]
fn shared_closing_the_socket_ends_the_race_with_closed() {
    isolated(
        "shared_closing_the_socket_ends_the_race_with_closed",
        || {
            on_shared_loop(async move {
                let c = SharedTcp::new(Family::UNSPEC)?;
                let closer = c.clone();
                sock::shared::SharedLoop::current()
                    .spawn(async move {
                        sock::sched::mt::sleep(CLOSE_AFTER).await;
                        closer.close();
                    })
                    .detach();
                let started = Instant::now();
                let r = c.connect("dead.test", 9).timeout(DEADLINE).await;
                check_closed(r, started.elapsed());
                Ok(())
            });
        },
    );
}

#[test]
fn loop_all_refused_gives_the_last_attempts_error_naming_its_address() {
    let (v6, v4) = (closed_port("[::1]:0"), closed_port("127.0.0.1:0"));
    let addrs = vec![v4.clone(), v6];
    let e = sock::run(async move {
        let c = sock::tcp(Family::UNSPEC)?;
        let r = c.connect_to(&addrs).timeout(PATIENCE).await;
        Ok::<_, sock::Error>(r.expect_err("nothing listens"))
    })
    .unwrap();
    check_refused(&e, &v4);
}

#[test]
fn shared_all_refused_gives_the_last_attempts_error_naming_its_address() {
    let (v6, v4) = (closed_port("[::1]:0"), closed_port("127.0.0.1:0"));
    let expected = v4.clone();
    let e = on_shared_loop(async move {
        let c = SharedTcp::new(Family::UNSPEC)?;
        let r = c.connect_to(&vec![v4, v6]).timeout(PATIENCE).await;
        Ok(r.expect_err("nothing listens"))
    });
    check_refused(&e, &expected);
}

#[test]
fn loop_a_fresh_attempt_that_wins_has_the_callers_options() {
    let (port, server) = echo_server();
    let addrs = vec![closed_port("127.0.0.1:0"), loopback(port)];
    sock::run(async move {
        let c = sock::tcp(Family::INET)?;
        c.setopt("so_keepalive", true)?;
        c.setopt("so_rcvbuf", 65536)?;
        let rcvbuf = c.getopt("so_rcvbuf")?;
        c.connect_to(&addrs).timeout(PATIENCE).await?;
        assert_eq!(c.remote_addr()?, addrs[1], "the second address won");
        assert_eq!(c.getopt("so_keepalive")?, OptValue::Bool(true));
        assert_eq!(c.getopt("so_rcvbuf")?, rcvbuf);
        ping(&c).await
    })
    .unwrap();
    server.join().expect("the echo server");
}

#[test]
fn shared_a_fresh_attempt_that_wins_has_the_callers_options() {
    let (port, server) = echo_server();
    let addrs = vec![closed_port("127.0.0.1:0"), loopback(port)];
    on_shared_loop(async move {
        let c = SharedTcp::new(Family::INET)?;
        c.setopt("so_keepalive", true)?;
        c.setopt("so_rcvbuf", 65536)?;
        let rcvbuf = c.getopt("so_rcvbuf")?;
        c.connect_to(&addrs).timeout(PATIENCE).await?;
        assert_eq!(c.remote_addr()?, addrs[1], "the second address won");
        assert_eq!(c.getopt("so_keepalive")?, OptValue::Bool(true));
        assert_eq!(c.getopt("so_rcvbuf")?, rcvbuf);
        shared_ping(&c).await?;
        Ok(())
    });
    server.join().expect("the echo server");
}

#[test]
fn loop_a_socket_of_one_family_skips_the_other_familys_addresses() {
    let (port, server) = echo_server();
    let v6 = closed_port("[::1]:0");
    let addrs = vec![v6.clone(), loopback(port)];
    sock::run(async move {
        let c = sock::tcp(Family::INET)?;
        let e = c.connect_to(&v6).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoAddress, "{e}");
        assert!(e.to_string().contains("INET"), "says the family: {e}");
        let c = sock::tcp(Family::INET)?;
        c.connect_to(&addrs).timeout(PATIENCE).await?;
        ping(&c).await
    })
    .unwrap();
    server.join().expect("the echo server");
}

#[test]
fn shared_a_socket_of_one_family_skips_the_other_familys_addresses() {
    let (port, server) = echo_server();
    let v6 = closed_port("[::1]:0");
    let addrs = vec![v6.clone(), loopback(port)];
    on_shared_loop(async move {
        let c = SharedTcp::new(Family::INET)?;
        let e = c.connect_to(&v6).timeout(PATIENCE).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoAddress, "{e}");
        let c = SharedTcp::new(Family::INET)?;
        c.connect_to(&addrs).timeout(PATIENCE).await?;
        assert_eq!(c.remote_addr()?, addrs[1]);
        shared_ping(&c).await?;
        Ok(())
    });
    server.join().expect("the echo server");
}

#[test]
fn shared_an_unspec_socket_binds_and_listens_in_the_addresss_family() {
    let (got, local) = on_shared_loop(async {
        let server = SharedTcp::new(Family::UNSPEC)?;
        server.listen("127.0.0.1", 0)?;
        let addr = server.local_addr()?;
        let client = SharedTcp::new(Family::UNSPEC)?;
        client.connect_to(&addr).timeout(PATIENCE).await?;
        let conn = server.accept().timeout(PATIENCE).await?;
        client.send(b"v4").await?;
        let mut buf = [0u8; 2];
        conn.recvn(&mut buf).timeout(PATIENCE).await?;
        Ok((buf, addr))
    });
    assert_eq!(&got, b"v4");
    assert_eq!(local.family(), Family::INET);
}

/// Sends "ping" and receives its echo: the connected socket works.
async fn ping(c: &sock::Tcp) -> sock::Result<()> {
    c.send(b"ping").timeout(PATIENCE).await?;
    let mut buf = [0u8; 4];
    c.recvn(&mut buf).timeout(PATIENCE).await?;
    assert_eq!(&buf, b"ping", "the winner carries the connection");
    Ok(())
}

/// [`ping`] in the shared mode.
async fn shared_ping(c: &SharedTcp) -> sock::Result<()> {
    c.send(b"ping").timeout(PATIENCE).await?;
    let mut buf = [0u8; 4];
    c.recvn(&mut buf).timeout(PATIENCE).await?;
    assert_eq!(&buf, b"ping", "the winner carries the connection");
    Ok(())
}

/// The fallback connected to the IPv4 listener long before the deadline, after trying
/// the IPv6 address first: two SYNs sent (a connect to IPv4 first would have won at
/// once on loopback, sending one), and no attempt left behind.
fn check_fallback(waited: Duration, remote: SockAddr, port: u16, opens_before: u64) {
    println!("connected to {remote} after {waited:?}");
    assert_eq!(remote, loopback(port));
    assert!(
        waited < FALLBACK_BOUND,
        "the connect took {waited:?}: it waited for the blackholed IPv6 address"
    );
    assert_eq!(
        active_opens() - opens_before,
        2,
        "one attempt per address, IPv6 first"
    );
    assert_eq!(syn_sent("tcp6"), 0, "the IPv6 attempt was closed");
}

/// Every address blackholed: `Timeout` at the deadline, both attempts made (the second
/// one delay after the first), the fresh socket's attempt closed (the caller's own one
/// lasts until the caller closes its socket).
fn check_all_blackholed<T: std::fmt::Debug>(r: sock::Result<T>, opens_before: u64) {
    match r {
        Err(e) if e.kind() == ErrorKind::Timeout => println!("{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(active_opens() - opens_before, 2, "both addresses tried");
    assert_eq!(syn_sent("tcp"), 0, "the IPv4 attempt's socket was closed");
}

/// Closed mid-race (after both attempts started): `Closed` at once, no winner
/// revived into the closed socket, no attempt left sending SYNs.
fn check_closed<T: std::fmt::Debug>(r: sock::Result<T>, waited: Duration) {
    match r {
        Err(e) if e.kind() == ErrorKind::Closed => println!("{e} after {waited:?}"),
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(
        waited < FALLBACK_BOUND,
        "the race outlived the close: {waited:?}"
    );
    assert_eq!(
        syn_sent("tcp") + syn_sent("tcp6"),
        0,
        "every attempt closed"
    );
}

/// All refused: the error is the last attempt's (IPv4: IPv6 goes first), named.
fn check_refused(e: &sock::Error, last: &SockAddr) {
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert_eq!(e.to_string(), format!("connect {last}: connection_refused"));
}

/// A std listener on 127.0.0.1 that echoes four bytes of one connection, on a thread.
fn echo_server() -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the echo server");
    let port = listener.local_addr().expect("its address").port();
    let server = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).expect("read the ping");
        conn.write_all(&buf).expect("echo it");
    });
    (port, server)
}

/// `127.0.0.1:port`.
fn loopback(port: u16) -> SockAddr {
    SockAddr::from(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// An address of `bind` (port 0) where nothing listens: bound, then closed.
fn closed_port(bind: &str) -> SockAddr {
    let l = TcpListener::bind(bind).expect("bind a port to close");
    SockAddr::from(l.local_addr().expect("its address"))
}

/// This network namespace's count of SYNs sent by connects (`Tcp: ActiveOpens`).
fn active_opens() -> u64 {
    let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").expect("read snmp");
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let (names, values) = (tcp.next().expect("names"), tcp.next().expect("values"));
    let at = names.split_whitespace().position(|n| n == "ActiveOpens");
    let at = at.expect("an ActiveOpens column");
    values
        .split_whitespace()
        .nth(at)
        .expect("its value")
        .parse()
        .expect("a number")
}

/// How many sockets of `/proc/thread-self/net/<table>` are still sending SYNs.
fn syn_sent(table: &str) -> usize {
    let path = format!("/proc/thread-self/net/{table}");
    let text = std::fs::read_to_string(path).expect("read the socket table");
    let state = |l: &str| l.split_whitespace().nth(3).map(str::to_owned);
    text.lines()
        .skip(1)
        .filter(|l| state(l).as_deref() == Some("02"))
        .count()
}

/// Runs `scenario` in a child process (this binary, running only test `name`) inside a
/// fresh namespace, or, in that child, runs it here.
fn isolated(name: &str, scenario: impl FnOnce()) {
    if !netns::is_child(name, CHILD_ENV) {
        println!("{}", netns::run_self_as_child(name, CHILD_ENV));
        return;
    }
    if netns::entered(enter_namespace(), "cannot make the network") {
        scenario();
    }
}

/// `ip` commands that make the blackhole: a veth whose neighbour is nobody.
const NETWORK: &[&str] = &[
    "link set lo up",
    "link add sock-e0 type veth peer name sock-e1",
    "addr add 10.99.0.1/24 dev sock-e0",
    "-6 addr add fd99::1/64 dev sock-e0 nodad",
    "link set sock-e0 up",
    "link set sock-e1 up",
    "neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev sock-e0 nud permanent",
    "-6 neigh add fd99::2 lladdr 02:00:00:00:00:02 dev sock-e0 nud permanent",
];

/// The namespace's `/etc/hosts`.
const HOSTS: &str = "\
127.0.0.1 localhost
fd99::2 dual.test
127.0.0.1 dual.test
fd99::2 dead.test
10.99.0.2 dead.test
";

/// Moves this thread (and what it starts) into new network and mount namespaces,
/// builds the blackhole and mounts the private `/etc/hosts`.
fn enter_namespace() -> io::Result<()> {
    netns::unshare_net_and_mounts()?;
    netns::ip_each(NETWORK)?;
    netns::private_hosts(HOSTS)
}

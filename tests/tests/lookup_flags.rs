//! Lookup flags (the seed's `af`) on every address-taking call of both modes: `bind`,
//! `listen`, `connect` and `sendto` take a `(host, port, Flags)` or `(host, port,
//! Hints)` target. With `NUMERICHOST` a numeric host works as ever, and a name fails
//! on the spot — before any wait, on the first poll of an operation — with the seed's
//! `host_not_found`, while the resolver pool is never asked (its lookup count stays 0:
//! nothing in this file looks a name up).
//!
//! On Linux a network namespace with a link-local address (`fe80::1` on `lo`) checks
//! the case of the seed's docs: scoped `fe80::1%lo` targets with `NUMERICHOST`, both
//! modes.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sock::addr::resolver_stats;
use sock::{Error, ErrorKind, Expires, Family, Flags, addr::Hints};
use sock_tests::PATIENCE;

/// Names that would resolve (or fail) through a name server without the flag.
const NAMES: [&str; 2] = ["localhost", "sock-test.invalid"];

/// `op`'s result if its first poll gives one: the lookup failure never waits.
fn first_poll<F: Future>(op: F) -> Option<F::Output> {
    let mut op = pin!(op);
    match op.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    }
}

/// The error of a NUMERICHOST lookup of a name: the seed's `host_not_found`.
fn assert_not_numeric<T: std::fmt::Debug>(what: &str, r: Option<Result<T, Error>>) {
    let Some(r) = r else {
        panic!("{what}: waited instead of failing at once");
    };
    let e = r.expect_err(what);
    assert_eq!(e.kind(), ErrorKind::HostNotFound, "{what}: {e}");
    assert_eq!(e.kind().name(), "host_not_found");
}

/// No lookup went to the resolver pool (where a name server would be asked).
fn assert_no_pool_lookup() {
    assert_eq!(resolver_stats().lookups, 0, "{:?}", resolver_stats());
}

#[test]
fn loop_mode_numeric_hosts_work_and_names_fail_at_once() {
    sock::run(async {
        let flags = Flags::NUMERICHOST;
        let server = sock::tcp(Family::INET).unwrap();
        server.listen_to(&("127.0.0.1", 0, flags)).unwrap();
        let port = server.local_addr().unwrap().port();
        let accept = sock::spawn(async move { server.accept().timeout(PATIENCE).await });
        let client = sock::tcp(Family::INET).unwrap();
        client.bind_to(&("127.0.0.1", 0, flags)).unwrap();
        client
            .connect_to(&("127.0.0.1", port, flags))
            .timeout(PATIENCE)
            .await
            .unwrap();
        let conn = accept.join().await.unwrap().unwrap();
        assert_eq!(conn.remote_addr().unwrap(), client.local_addr().unwrap());

        let a = sock::udp(Family::INET).unwrap();
        a.bind_to(&("127.0.0.1", 0, flags)).unwrap();
        let a_port = a.local_addr().unwrap().port();
        let b = sock::udp(Family::INET6).unwrap();
        b.bind_to(&("::1", 0, Hints::udp().flags(flags))).unwrap();
        let v4 = sock::udp(Family::INET).unwrap();
        v4.send_to(b"four", &("127.0.0.1", a_port, flags))
            .timeout(PATIENCE)
            .await
            .unwrap();
        let mut buf = [0u8; 8];
        let (n, _) = a.recv_from(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"four");
        let b_port = b.local_addr().unwrap().port();
        let six = sock::udp(Family::INET6).unwrap();
        six.connect_to(&("::1", b_port, flags)).unwrap();
        six.send(b"six").timeout(PATIENCE).await.unwrap();
        let n = b.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"six");

        for name in NAMES {
            let target = (name, port, flags);
            let t = sock::tcp(Family::INET).unwrap();
            let u = sock::udp(Family::INET).unwrap();
            assert_not_numeric("tcp bind_to", Some(t.bind_to(&target)));
            assert_not_numeric("udp bind_to", Some(u.bind_to(&target)));
            assert_not_numeric("listen_to", Some(t.listen_to(&target)));
            assert_not_numeric("tcp connect_to", first_poll(t.connect_to(&target)));
            assert_not_numeric("udp connect_to", Some(u.connect_to(&target)));
            assert_not_numeric("sendto_addr", first_poll(u.send_to(b"x", &target)));
        }
    });
    assert_no_pool_lookup();
}

#[cfg(any(target_os = "linux", windows))]
#[test]
fn shared_mode_numeric_hosts_work_and_names_fail_at_once() {
    sock_tests::on_shared_loop(async {
        let flags = Flags::NUMERICHOST;
        let lp = sock::shared::SharedLoop::current();
        let server = lp.tcp(Family::INET)?;
        server.listen_to(&("127.0.0.1", 0, flags))?;
        let port = server.local_addr()?.port();
        let client = lp.tcp(Family::INET)?;
        client.bind_to(&("127.0.0.1", 0, flags))?;
        client
            .connect_to(&("127.0.0.1", port, flags))
            .timeout(PATIENCE)
            .await?;
        let conn = server.accept().timeout(PATIENCE).await?;
        assert_eq!(conn.remote_addr()?, client.local_addr()?);

        let a = lp.udp(Family::INET)?;
        a.bind_to(&("127.0.0.1", 0, Hints::udp().flags(flags)))?;
        let a_port = a.local_addr()?.port();
        let b = lp.udp(Family::INET)?;
        b.send_to(b"four", &("127.0.0.1", a_port, flags))
            .timeout(PATIENCE)
            .await?;
        let mut buf = [0u8; 8];
        let (n, _) = a.recv_from(&mut buf).timeout(PATIENCE).await?;
        assert_eq!(&buf[..n], b"four");
        b.connect_to(&("127.0.0.1", a_port, flags))?;
        b.send(b"again").timeout(PATIENCE).await?;
        let n = a.recv(&mut buf).timeout(PATIENCE).await?;
        assert_eq!(&buf[..n], b"again");
        let listener = sock::loops::SharedListener::bind_to(&("127.0.0.1", 0, flags))?;
        assert_ne!(listener.local_addr()?.port(), 0);

        for name in NAMES {
            let target = (name, port, flags);
            let t = lp.tcp(Family::INET)?;
            let u = lp.udp(Family::INET)?;
            assert_not_numeric("shared tcp bind_to", Some(t.bind_to(&target)));
            assert_not_numeric("shared udp bind_to", Some(u.bind_to(&target)));
            assert_not_numeric("shared listen_to", Some(t.listen_to(&target)));
            let listener = sock::loops::SharedListener::bind_to(&target).map(drop);
            assert_not_numeric("SharedListener::bind_to", Some(listener));
            assert_not_numeric("shared connect_to", first_poll(t.connect_to(&target)));
            assert_not_numeric("shared udp connect_to", Some(u.connect_to(&target)));
            assert_not_numeric("shared send_to", first_poll(u.send_to(b"x", &target)));
        }
        Ok(())
    });
    assert_no_pool_lookup();
}

/// `fe80::1%lo`, a link-local address of `lo` in a network namespace of the test's own,
/// bound and connected to with `NUMERICHOST` in both modes.
#[cfg(target_os = "linux")]
mod link_local {
    use std::io;

    use sock_tests::harness::netns;

    use super::*;

    const ADDR: &str = "fe80::1%lo";

    #[test]
    fn scoped_link_local_targets_with_numerichost() {
        netns::on_own_thread(
            enter_namespace_with_link_local,
            "no link-local address",
            || {
                sock::run(loop_mode());
                sock_tests::on_shared_loop(shared_mode());
            },
        );
        assert_no_pool_lookup();
    }

    async fn loop_mode() {
        let flags = Flags::NUMERICHOST;
        let server = sock::tcp(Family::INET6).unwrap();
        server.listen_to(&(ADDR, 0, flags)).unwrap();
        let port = server.local_addr().unwrap().port();
        let client = sock::tcp(Family::INET6).unwrap();
        client
            .connect_to(&(ADDR, port, flags))
            .timeout(PATIENCE)
            .await
            .unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        assert_eq!(conn.remote_addr().unwrap(), client.local_addr().unwrap());
        let u = sock::udp(Family::INET6).unwrap();
        u.bind_to(&(ADDR, 0, flags)).unwrap();
        let to = (ADDR, u.local_addr().unwrap().port(), flags);
        sock::udp(Family::INET6)
            .unwrap()
            .send_to(b"scoped", &to)
            .timeout(PATIENCE)
            .await
            .unwrap();
        let mut buf = [0u8; 8];
        let n = u.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"scoped");
    }

    async fn shared_mode() -> sock::Result<()> {
        let flags = Flags::NUMERICHOST;
        let lp = sock::shared::SharedLoop::current();
        let server = lp.tcp(Family::INET6)?;
        server.listen_to(&(ADDR, 0, flags))?;
        let port = server.local_addr()?.port();
        let client = lp.tcp(Family::INET6)?;
        client
            .connect_to(&(ADDR, port, flags))
            .timeout(PATIENCE)
            .await?;
        server.accept().timeout(PATIENCE).await?;
        let u = lp.udp(Family::INET6)?;
        u.bind_to(&(ADDR, 0, flags))?;
        let to = (ADDR, u.local_addr()?.port(), flags);
        lp.udp(Family::INET6)?
            .send_to(b"scoped", &to)
            .timeout(PATIENCE)
            .await?;
        let mut buf = [0u8; 8];
        let n = u.recv(&mut buf).timeout(PATIENCE).await?;
        assert_eq!(&buf[..n], b"scoped");
        Ok(())
    }

    /// Moves this thread into a new network namespace with `fe80::1` on `lo` (no
    /// duplicate address detection: usable at once).
    fn enter_namespace_with_link_local() -> io::Result<()> {
        netns::unshare_net()?;
        netns::loopback_up()?;
        netns::add_address("fe80::1/64", "lo")?;
        usable_soon()
    }

    /// Waits (at most `PATIENCE`) until std sockets can listen on and connect to
    /// `fe80::1%lo`: the kernel installs the address's local route a moment after `ip`
    /// returns.
    fn usable_soon() -> io::Result<()> {
        let lo = std::net::SocketAddrV6::new("fe80::1".parse().unwrap(), 0, 0, 1);
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let tried = std::net::TcpListener::bind(lo)
                .and_then(|l| std::net::TcpStream::connect(l.local_addr()?));
            match tried {
                Ok(_) => return Ok(()),
                Err(e) if std::time::Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    }
}

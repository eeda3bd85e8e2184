//! The Linux options `ip_freebind`, `tcp_fastopen_connect` and `udp_cork` by name, on
//! real sockets: each is set and read back (both modes), `ip_freebind` lets a socket
//! bind an address no interface has, `udp_cork` collects two sends into one datagram,
//! and a client with `tcp_fastopen_connect` sends its first bytes in the SYN (in a
//! network namespace whose `net.ipv4.tcp_fastopen` lets the server hand out cookies).
//! Elsewhere the three names are unknown options, as the table says.

#[cfg(not(any(target_os = "linux", target_os = "android")))]
use sock::{ErrorKind, Family};

/// The options this file is about.
const NEW: [&str; 3] = ["ip_freebind", "tcp_fastopen_connect", "udp_cork"];

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[test]
fn the_linux_options_are_unknown_elsewhere() {
    let t = sock::tcp(Family::INET).unwrap();
    let u = sock::udp(Family::INET).unwrap();
    for name in NEW {
        assert!(
            !sock::io::option_names().any(|n| n == name),
            "{name} listed"
        );
        for e in [t.setopt(name, true), u.setopt(name, true)] {
            let e = e.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{name}: {e}");
            assert!(e.to_string().contains("unknown socket option"), "{e}");
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux {
    use std::io;

    use sock::{ErrorKind, Expires, Family, io::OptValue, shared::SharedLoop};
    use sock_tests::PATIENCE;
    use sock_tests::harness::netns;

    use super::NEW;

    /// A documentation address (TEST-NET-1) no interface of the test machine has.
    const NON_LOCAL: &str = "192.0.2.1";

    /// Whether the kernel lets every socket bind non-local addresses anyway.
    fn nonlocal_bind_allowed() -> bool {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind")
            .is_ok_and(|v| v.trim() != "0")
    }

    /// Whether `net.ipv4.tcp_fastopen` of this namespace enables the client side.
    fn fastopen_client_enabled() -> bool {
        std::fs::read_to_string("/proc/sys/net/ipv4/tcp_fastopen")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .is_some_and(|v| v & 1 != 0)
    }

    #[test]
    fn the_new_options_are_listed() {
        for name in NEW {
            assert!(
                sock::io::option_names().any(|n| n == name),
                "{name} missing"
            );
        }
    }

    #[test]
    fn each_new_option_is_set_and_read_back() {
        sock::run(async {
            let udp = sock::udp(Family::INET).unwrap();
            let tcp = sock::tcp(Family::INET).unwrap();
            for (s, name) in [
                (&udp as &dyn Opts, "udp_cork"),
                (&udp, "ip_freebind"),
                (&tcp, "ip_freebind"),
            ] {
                set_and_read_back(s, name);
            }
            match tcp.setopt("tcp_fastopen_connect", true) {
                Err(e) if !fastopen_client_enabled() => {
                    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}")
                }
                r => {
                    r.unwrap();
                    assert_eq!(
                        tcp.getopt("tcp_fastopen_connect").unwrap(),
                        OptValue::Bool(true)
                    );
                }
            }
        });
    }

    #[test]
    fn the_new_options_work_on_shared_sockets_too() {
        let lp = SharedLoop::new().unwrap();
        let udp = lp.udp(Family::INET).unwrap();
        let tcp = lp.tcp(Family::INET).unwrap();
        for (name, on) in [("udp_cork", true), ("ip_freebind", true)] {
            udp.setopt(name, on).unwrap();
            assert_eq!(udp.getopt(name).unwrap(), OptValue::Bool(on), "{name}");
        }
        tcp.setopt("ip_freebind", true).unwrap();
        assert_eq!(tcp.getopt("ip_freebind").unwrap(), OptValue::Bool(true));
        if fastopen_client_enabled() {
            tcp.setopt("tcp_fastopen_connect", true).unwrap();
            assert_eq!(
                tcp.getopt("tcp_fastopen_connect").unwrap(),
                OptValue::Bool(true)
            );
        }
    }

    /// The option calls of both socket kinds, for one loop over them.
    trait Opts {
        fn set(&self, name: &str, on: bool) -> sock::Result<()>;
        fn get(&self, name: &str) -> sock::Result<OptValue>;
    }

    impl Opts for sock::Tcp {
        fn set(&self, name: &str, on: bool) -> sock::Result<()> {
            self.setopt(name, on)
        }
        fn get(&self, name: &str) -> sock::Result<OptValue> {
            self.getopt(name)
        }
    }

    impl Opts for sock::Udp {
        fn set(&self, name: &str, on: bool) -> sock::Result<()> {
            self.setopt(name, on)
        }
        fn get(&self, name: &str) -> sock::Result<OptValue> {
            self.getopt(name)
        }
    }

    /// Off by default, on once set, off again once cleared.
    fn set_and_read_back(s: &dyn Opts, name: &str) {
        assert_eq!(
            s.get(name).unwrap(),
            OptValue::Bool(false),
            "{name} default"
        );
        s.set(name, true).unwrap();
        assert_eq!(s.get(name).unwrap(), OptValue::Bool(true), "{name} set");
        s.set(name, false).unwrap();
        assert_eq!(
            s.get(name).unwrap(),
            OptValue::Bool(false),
            "{name} cleared"
        );
    }

    #[test]
    fn ip_freebind_binds_an_address_no_interface_has() {
        sock::run(async {
            let plain = sock::udp(Family::INET).unwrap();
            if !nonlocal_bind_allowed() {
                let e = plain.bind(NON_LOCAL, 0).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::AddressNotAvailable, "{e}");
            }
            let udp = sock::udp(Family::INET).unwrap();
            udp.setopt("ip_freebind", true).unwrap();
            udp.bind(NON_LOCAL, 0).unwrap();
            let local = udp.local_addr().unwrap();
            assert_eq!(local.ip().unwrap().to_string(), NON_LOCAL);
            assert_ne!(local.port(), 0);
            let tcp = sock::tcp(Family::INET).unwrap();
            tcp.setopt("ip_freebind", true).unwrap();
            tcp.listen(NON_LOCAL, 0).unwrap(); // listening is binding, then no traffic
            assert_eq!(tcp.local_addr().unwrap().ip(), local.ip());
        });
    }

    #[test]
    fn udp_cork_collects_two_sends_into_one_datagram() {
        sock::run(async {
            let receiver = sock::udp(Family::INET).unwrap();
            receiver.bind("127.0.0.1", 0).unwrap();
            let sender = sock::udp(Family::INET).unwrap();
            sender.connect_to(&receiver.local_addr().unwrap()).unwrap();
            sender.setopt("udp_cork", true).unwrap();
            assert_eq!(sender.send(b"corked ").await.unwrap(), 7);
            assert_eq!(sender.send(b"datagram").await.unwrap(), 8);
            // Nothing left while corked: a receive that may not wait finds no datagram.
            let mut buf = [0u8; 64];
            let e = receiver
                .recv(&mut buf)
                .expires(sock::clock())
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            sender.setopt("udp_cork", false).unwrap(); // uncorked: one datagram leaves
            let n = receiver.recv(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(&buf[..n], b"corked datagram");
            let e = receiver
                .recv(&mut buf)
                .expires(sock::clock())
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "only one datagram: {e}");
        });
    }

    /// In a network namespace with `tcp_fastopen = 3` (client and server): a first
    /// connection gets a cookie; the second, with `tcp_fastopen_connect`, returns from
    /// `connect` at once and sends its first bytes in the SYN (the namespace's
    /// `TCPFastOpenActive` counter says so), and the exchange works as any other.
    #[test]
    fn tcp_fastopen_connect_sends_the_first_bytes_with_the_syn() {
        netns::on_own_thread(
            enter_namespace_with_fastopen,
            "no namespace with fast open",
            || sock::run(check_fastopen()),
        );
    }

    async fn check_fastopen() {
        let server = sock::tcp(Family::INET).unwrap();
        server.setopt("tcp_fastopen", 16).unwrap(); // the queue of SYNs with data
        server.listen("127.0.0.1", 0).unwrap();
        let port = server.local_addr().unwrap().port();
        let echo = sock::spawn(async move {
            for _ in 0..2 {
                let conn = server.accept().timeout(PATIENCE).await?;
                let mut buf = [0u8; 5];
                conn.recvn(&mut buf).timeout(PATIENCE).await?;
                conn.send(&buf).await?;
            }
            Ok::<(), sock::Error>(())
        });
        let before = fastopen_active().unwrap();
        for round in 0..2 {
            let client = sock::tcp(Family::INET).unwrap();
            client.setopt("tcp_fastopen_connect", true).unwrap();
            client
                .connect("127.0.0.1", port)
                .timeout(PATIENCE)
                .await
                .unwrap();
            client.send(b"hello").timeout(PATIENCE).await.unwrap();
            let mut buf = [0u8; 5];
            client.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(&buf, b"hello", "round {round}");
        }
        echo.join().await.unwrap().unwrap();
        let sent_with_syn = fastopen_active().unwrap() - before;
        assert_eq!(
            sent_with_syn, 1,
            "the second connection's data rode the SYN"
        );
    }

    /// `TcpExt: TCPFastOpenActive` of this thread's network namespace (`/proc/net` is
    /// the main thread's): SYNs sent with data.
    fn fastopen_active() -> io::Result<u64> {
        let text = std::fs::read_to_string("/proc/thread-self/net/netstat")?;
        let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let (names, values) = (lines.next(), lines.next());
        let (Some(names), Some(values)) = (names, values) else {
            return Err(io::Error::other("no TcpExt lines"));
        };
        let at = names
            .split_whitespace()
            .position(|n| n == "TCPFastOpenActive");
        let value = at.and_then(|i| values.split_whitespace().nth(i));
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other("no TCPFastOpenActive counter"))
    }

    /// Moves this thread into a new network namespace, `lo` up, fast open on both sides.
    fn enter_namespace_with_fastopen() -> io::Result<()> {
        netns::unshare_net()?;
        netns::loopback_up()?;
        netns::sysctl("net/ipv4/tcp_fastopen", "3")
    }
}

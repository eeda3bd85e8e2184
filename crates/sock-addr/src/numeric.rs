//! The numeric fast path of a lookup: an IP literal and a port number, with hints that
//! leave the OS nothing to decide, answered in Rust.
//!
//! `getaddrinfo` given `127.0.0.1`, port 80 and a socket type answers with one entry:
//! that address and port, the socket type, and the type's protocol (TCP for a stream,
//! UDP for datagrams) — on every OS sock runs on. Asking it costs more than the rest of
//! the lookup (glibc parses every octet and the port with a locale-aware `strtoul` and
//! allocates the list), so such a lookup is answered here with the same entry, and
//! nothing is allocated.
//!
//! What it deliberately does not take: anything where the OS's answer has more to it —
//! no socket type (one entry per type, in the OS's order), a protocol other than the
//! type's own, a family other than the literal's (`V4MAPPED` mapping, or an error), a
//! flag other than `PASSIVE`, `NUMERICHOST` and `NUMERICSERV` (`CANONNAME`,
//! `ADDRCONFIG`, `ALL`, `V4MAPPED`), a scoped IPv6 address (`fe80::1%eth0` names an
//! interface), `"*"`, and every IPv4 form beyond four decimal octets (`127.1`,
//! `0x7f.0.0.1`, `010.0.0.1`, which `inet_aton` reads its own way): std's parser
//! refuses those, and they go to the OS. The unit test below holds the answers to the
//! OS's.

use std::net::{IpAddr, SocketAddr};

use crate::{Family, Flags, Hints, Port, Protocol, SockAddr, SocketType};

/// The flags that change nothing in the answer for an IP literal and a port number.
const NEUTRAL_FLAGS: Flags = Flags::PASSIVE
    .union(Flags::NUMERICHOST)
    .union(Flags::NUMERICSERV);

/// The one entry of a lookup answered without the OS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Numeric {
    /// The literal and the port.
    addr: SocketAddr,
    /// The socket type the hints asked for.
    socktype: SocketType,
    /// The socket type's protocol.
    protocol: Protocol,
}

impl Numeric {
    /// The entry for `host` and `port` under `hints`, when the lookup is one the fast
    /// path answers (see the module docs); `None` sends it to the OS.
    pub(crate) fn answer(host: &str, port: &Port, hints: &Hints) -> Option<Numeric> {
        let number = port.number()?;
        let protocol = match hints.socktype {
            SocketType::STREAM => Protocol::TCP,
            SocketType::DGRAM => Protocol::UDP,
            _ => return None,
        };
        let plain = (hints.flags - NEUTRAL_FLAGS).is_empty();
        if !plain || (hints.protocol != Protocol::IP && hints.protocol != protocol) {
            return None;
        }
        let ip: IpAddr = host.parse().ok()?;
        let family = match ip {
            IpAddr::V4(_) => Family::INET,
            IpAddr::V6(_) => Family::INET6,
        };
        if hints.family != Family::UNSPEC && hints.family != family {
            return None;
        }
        Some(Numeric {
            addr: SocketAddr::new(ip, number),
            socktype: hints.socktype,
            protocol,
        })
    }

    /// An entry of `addr` for `socktype` and `protocol` (a list built from given
    /// entries, `AddrList::from_entries`).
    #[cfg(feature = "entries")]
    pub(crate) fn new(addr: SocketAddr, socktype: SocketType, protocol: Protocol) -> Numeric {
        Numeric {
            addr,
            socktype,
            protocol,
        }
    }

    pub(crate) fn family(&self) -> Family {
        match self.addr {
            SocketAddr::V4(_) => Family::INET,
            SocketAddr::V6(_) => Family::INET6,
        }
    }

    pub(crate) fn socktype(&self) -> SocketType {
        self.socktype
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub(crate) fn addr(&self) -> SockAddr {
        SockAddr::from(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::AddrList;
    use crate::sys;

    /// What the OS answers, as (family, socktype, protocol, address) per entry.
    fn os_answer(
        host: &str,
        port: u16,
        hints: &Hints,
    ) -> Vec<(Family, SocketType, Protocol, SockAddr)> {
        let service = port.to_string();
        let node = Some(host);
        let service = (port != 0).then_some(service.as_str());
        let list = AddrList::new(sys::getaddrinfo(node, service, hints).expect("the OS answers"));
        list.iter()
            .map(|e| (e.family(), e.socktype(), e.protocol(), e.addr()))
            .collect()
    }

    #[test]
    fn the_fast_path_answers_as_the_os_does() {
        let hosts = [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:1.2.3.4",
            "2001:db8::1",
        ];
        let kinds = [
            Hints::tcp(),
            Hints::udp(),
            Hints::tcp().protocol(Protocol::TCP),
        ];
        let flags = [
            Flags::empty(),
            Flags::PASSIVE,
            Flags::NUMERICHOST | Flags::NUMERICSERV,
        ];
        for host in hosts {
            for port in [0, 80, 65535] {
                for kind in kinds {
                    for flag in flags {
                        let hints = kind.flags(flag);
                        let fast = Numeric::answer(host, &Port::from(port), &hints)
                            .expect("a plain numeric lookup takes the fast path");
                        let fast = (fast.family(), fast.socktype(), fast.protocol(), fast.addr());
                        assert_eq!(
                            vec![fast],
                            os_answer(host, port, &hints),
                            "{host} {port} {hints:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lookups_with_more_to_them_go_to_the_os() {
        let tcp = Hints::tcp();
        let cases = [
            ("localhost", Port::from(80), tcp),
            ("127.1", Port::from(80), tcp),
            ("010.0.0.1", Port::from(80), tcp),
            ("fe80::1%1", Port::from(80), tcp),
            ("*", Port::from(80), tcp.flags(Flags::PASSIVE)),
            ("127.0.0.1", Port::from("http"), tcp),
            ("127.0.0.1", Port::from(80), Hints::new()),
            ("127.0.0.1", Port::from(80), Hints::raw()),
            ("127.0.0.1", Port::from(80), tcp.protocol(Protocol::UDP)),
            ("127.0.0.1", Port::from(80), tcp.family(Family::INET6)),
            ("::1", Port::from(80), tcp.family(Family::INET)),
            ("127.0.0.1", Port::from(80), tcp.flags(Flags::CANONNAME)),
            ("127.0.0.1", Port::from(80), tcp.flags(Flags::ADDRCONFIG)),
            (
                "127.0.0.1",
                Port::from(80),
                tcp.flags(Flags::V4MAPPED | Flags::ALL),
            ),
        ];
        for (host, port, hints) in cases {
            assert_eq!(
                Numeric::answer(host, &port, &hints),
                None,
                "{host} {hints:?}"
            );
        }
    }
}

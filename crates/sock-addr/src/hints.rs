//! [`Hints`]: what kind of addresses a lookup should return.

use crate::{Family, Flags, Protocol, SocketType};

/// What a lookup should return: the socket type, family, protocol and flags passed to
/// `getaddrinfo` (the seed's `socket_type, family, protocol, af`). The default asks for
/// everything with no flags.
///
/// # Examples
///
/// ```
/// use sock::{Family, Flags, addr::{Hints, SocketType}};
///
/// let hints = Hints::tcp().family(Family::INET6).flags(Flags::PASSIVE);
/// assert_eq!(hints.socktype, SocketType::STREAM);
/// assert_eq!(hints.family, Family::INET6);
///
/// let same = Hints { socktype: SocketType::STREAM, family: Family::INET6, flags: Flags::PASSIVE, ..Hints::default() };
/// assert_eq!(hints, same);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hints {
    /// The socket type wanted ([`SocketType::ANY`]: one entry per type).
    pub socktype: SocketType,
    /// The address family wanted ([`Family::UNSPEC`]: IPv4 and IPv6).
    pub family: Family,
    /// The protocol wanted ([`Protocol::IP`]: the socket type's default).
    pub protocol: Protocol,
    /// The `AI_*` flags.
    pub flags: Flags,
}

impl Hints {
    /// Any socket type, any family, default protocol, no flags.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Hints::new(), sock::addr::Hints::default());
    /// ```
    pub const fn new() -> Hints {
        Hints {
            socktype: SocketType::ANY,
            family: Family::UNSPEC,
            protocol: Protocol::IP,
            flags: Flags::empty(),
        }
    }

    /// Stream sockets (`"tcp"`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Hints::tcp().socktype, sock::addr::SocketType::STREAM);
    /// ```
    pub const fn tcp() -> Hints {
        Hints::new().socktype(SocketType::STREAM)
    }

    /// Datagram sockets (`"udp"`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Hints::udp().socktype, sock::addr::SocketType::DGRAM);
    /// ```
    pub const fn udp() -> Hints {
        Hints::new().socktype(SocketType::DGRAM)
    }

    /// Raw sockets (`"raw"`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Hints::raw().socktype, sock::addr::SocketType::RAW);
    /// ```
    pub const fn raw() -> Hints {
        Hints::new().socktype(SocketType::RAW)
    }

    /// With this socket type.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::addr::{Hints, SocketType};
    /// assert_eq!(Hints::new().socktype(SocketType::DGRAM), Hints::udp());
    /// ```
    pub const fn socktype(mut self, socktype: SocketType) -> Hints {
        self.socktype = socktype;
        self
    }

    /// With this family.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Family, addr::Hints};
    /// assert_eq!(Hints::new().family(Family::INET).family, Family::INET);
    /// ```
    pub const fn family(mut self, family: Family) -> Hints {
        self.family = family;
        self
    }

    /// With this protocol.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::addr::{Hints, Protocol};
    /// assert_eq!(Hints::raw().protocol(Protocol::ICMP).protocol, Protocol::ICMP);
    /// ```
    pub const fn protocol(mut self, protocol: Protocol) -> Hints {
        self.protocol = protocol;
        self
    }

    /// With these flags (replacing any set before).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Flags, addr::Hints};
    /// assert_eq!(Hints::new().flags(Flags::ALL).flags, Flags::ALL);
    /// ```
    pub const fn flags(mut self, flags: Flags) -> Hints {
        self.flags = flags;
        self
    }
}
